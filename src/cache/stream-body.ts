/** An origin's response body on its way to the client, collected for the cache while it fits. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * Streams `body` to `res` (when there is a client) with back-pressure, keeping a copy of up
 * to `maxBytes` when `collect` is set. Resolves with the whole body when it was kept and the
 * client stayed, else undefined. A failure before the head was sent rejects (an error page
 * is still possible); after it, the client's connection is cut.
 */
export async function streamBody(
  body: Readable,
  req: IncomingMessage,
  res: ServerResponse | undefined,
  collect: boolean,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let keep = collect;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (res?.destroyed === true) {
        body.destroy(); // the client left: stop reading the app
        return undefined;
      }
      if (keep) {
        size += chunk.length;
        if (size > maxBytes) {
          keep = false; // larger than announced: pass through, do not store
          chunks.length = 0;
        } else chunks.push(chunk);
      }
      if (res !== undefined && req.method !== 'HEAD' && !res.write(chunk)) await drained(res);
    }
  } catch (err) {
    if (res !== undefined && !res.headersSent) throw err;
    res?.destroy();
    return undefined;
  }
  res?.end();
  if (!keep || res?.destroyed === true) return undefined;
  return Buffer.concat(chunks, size);
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
