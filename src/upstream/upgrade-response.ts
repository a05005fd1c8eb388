/**
 * The upstream's answer to an `Upgrade` request, read before anything is tunnelled
 * (SECURITY.md invariant 2): only a `101 Switching Protocols` turns the connection into a
 * tunnel. Any other answer goes back to the client as an ordinary response — its body
 * relayed by its framing (RFC 9112 §6.3) — and the connection is then closed, so no byte the
 * client sends after it reaches the app unparsed.
 */
import type { Duplex } from 'node:stream';

/** The most a response head may take before it is refused. */
const MAX_HEAD_BYTES = 16 * 1024;

export interface UpgradeHead {
  readonly status: number;
  /** The head as received, `\r\n\r\n` included. */
  readonly head: Buffer;
  /** Bytes after the head that arrived with it. */
  readonly rest: Buffer;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * Reads the response head from `upstream`; rejects on a malformed or oversized head, or one
 * that has not arrived within `timeoutMs` (`upstream.headersTimeoutMs`).
 */
export function readUpgradeHead(upstream: Duplex, timeoutMs: number): Promise<UpgradeHead> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(
      () => fail(new Error('the app did not answer the upgrade in time')),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buffered.length > MAX_HEAD_BYTES)
          fail(new Error('the upgrade response head is too large'));
        return;
      }
      clearTimeout(timer);
      upstream.off('data', onData);
      upstream.off('close', onClose);
      upstream.pause();
      const head = buffered.subarray(0, end + 4);
      const lines = head.toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      if (m === null) {
        reject(new Error('the upgrade response has no status line'));
        return;
      }
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0)
          headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({ status: Number(m[1]), head, rest: buffered.subarray(end + 4), headers });
    };
    const onClose = () => fail(new Error('the app closed the connection before answering'));
    const fail = (err: Error) => {
      clearTimeout(timer);
      upstream.off('data', onData);
      upstream.off('close', onClose);
      reject(err);
    };
    upstream.on('data', onData);
    upstream.once('close', onClose);
  });
}

/**
 * Relays a non-101 answer as an ordinary response with `Connection: close`, then closes the
 * client: by Content-Length, to the last chunk, or (neither) until the app closes — or until
 * nothing has come from the app for `idleMs`.
 */
export function relayOrdinaryResponse(
  answer: UpgradeHead,
  upstream: Duplex & { setTimeout(ms: number, cb: () => void): unknown },
  client: Duplex,
  idleMs: number,
): void {
  const lines = answer.head.toString('latin1').split('\r\n').slice(0, -2);
  const kept = lines.filter((l, i) => i === 0 || !/^(connection|keep-alive)\s*:/i.test(l));
  client.write(`${kept.join('\r\n')}\r\nConnection: close\r\n\r\n`, 'latin1');
  const length = answer.headers.get('content-length');
  const chunked = /chunked/i.test(answer.headers.get('transfer-encoding') ?? '');
  const bodiless = answer.status === 204 || answer.status === 304 || answer.status < 200;
  let left = bodiless ? 0 : length !== undefined && !chunked ? Number(length) : Number.NaN;
  let tail = '';
  const finish = () => {
    upstream.destroy();
    client.end();
  };
  upstream.setTimeout(idleMs, finish);
  const pass = (chunk: Buffer) => {
    if (!Number.isNaN(left)) {
      const part = chunk.subarray(0, left);
      left -= part.length;
      if (part.length > 0) client.write(part);
      if (left <= 0) finish();
      return;
    }
    client.write(chunk);
    if (chunked) {
      tail = (tail + chunk.toString('latin1')).slice(-7);
      if (tail.endsWith('0\r\n\r\n')) finish(); // the last chunk, no trailers
    }
  };
  if (left === 0) {
    finish();
    return;
  }
  if (answer.rest.length > 0) pass(answer.rest);
  if (client.writableEnded) return;
  upstream.on('data', pass);
  upstream.once('end', () => client.end());
  upstream.resume();
}
