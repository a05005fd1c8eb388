/**
 * Whether a request has content to send on. HTTP/1.1 says so in `Content-Length` or
 * `Transfer-Encoding` (RFC 9112 §6.3). An HTTP/2 body needs neither: the stream stays open
 * after its HEADERS frame unless that frame ended it (RFC 9113 §8.1).
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

export function carriesBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  if (req.httpVersionMajor === 2)
    return !(req as unknown as Http2ServerRequest).stream.endAfterHeaders;
  return req.headers['transfer-encoding'] !== undefined;
}
