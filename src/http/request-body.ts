/**
 * Whether a request has content to send on, and where to read it. HTTP/1.1 says so in
 * `Content-Length` or `Transfer-Encoding` (RFC 9112 §6.3). An HTTP/2 body needs neither: the
 * stream stays open after its HEADERS frame unless that frame ended it (RFC 9113 §8.1), and
 * it is read from the stream itself (server/http2-exchange.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';

/** An HTTP/2 request carries its stream. */
type OverHttp2 = IncomingMessage & { readonly stream: ServerHttp2Stream };

export function carriesBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  if (req.httpVersionMajor === 2) return !(req as OverHttp2).stream.endAfterHeaders;
  return req.headers['transfer-encoding'] !== undefined;
}

/** The request's body as a Readable: the message over HTTP/1.x, the stream over HTTP/2. */
export function bodyOf(req: IncomingMessage): Readable {
  return req.httpVersionMajor === 2 ? (req as OverHttp2).stream : req;
}
