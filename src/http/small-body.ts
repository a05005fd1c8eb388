/**
 * Ending a response with a body held in memory (a static file, a stored response). Node's
 * HTTP/1.1 response sends its head and a Buffer body as two chunks of one `writev` (the head
 * queued, the socket corked, both flushed), but joins its head and a `latin1` string body
 * into one string written at once. For a body up to `SMALL_BODY_BYTES` copying it into a
 * string costs less than that path: a bare node:http server answering 1 KiB spent 12.8
 * against 13.8 µs of CPU per response with the copy (docs/performance.md, "One write for a
 * small body"); at 4 KiB the two were level, at 8 KiB and more the copy costs more.
 *
 * `latin1` maps each byte to the code point of the same value and back, so the bytes sent
 * are the Buffer's exactly. HTTP/2 responses take the Buffer as is (their head is a frame
 * of its own).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies up to this size are written with the head as one string over HTTP/1.x. */
export const SMALL_BODY_BYTES = 2048;

/** End `res` with `body` (none for HEAD), in one write when it is small and HTTP/1.x. */
export function endWithBody(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  if (req.method === 'HEAD') res.end();
  else if (body.length <= SMALL_BODY_BYTES && req.httpVersionMajor === 1)
    res.end(body.toString('latin1'), 'latin1');
  else res.end(body);
}
