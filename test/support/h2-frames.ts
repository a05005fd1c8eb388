/**
 * HTTP/2 frames written by hand (RFC 9113 §4.1, §6) with literal HPACK fields (RFC 7541
 * §6.2.2), so a test can send what a well-behaved client library would refuse to send.
 */
import { connect as tlsConnect } from 'node:tls';

export function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** A literal field without indexing, name and value under 128 bytes. */
export function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

/** The client's connection preface and an empty SETTINGS frame. */
export const PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  frame(0x4, 0, 0, Buffer.alloc(0)),
]);

/** One frame the server sent: its type, flags, stream and payload. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
}

/** The frames in what the server sent (a frame cut off at the end is left out). */
export function framesOf(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  for (let at = 0; at + 9 <= bytes.length;) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    frames.push({
      type: bytes[at + 3]!,
      flags: bytes[at + 4]!,
      stream: bytes.readUInt32BE(at + 5) & 0x7fffffff,
      payload: bytes.subarray(at + 9, at + 9 + length),
    });
    at += 9 + length;
  }
  return frames;
}

/**
 * Write `bytes` on a new h2 connection over TLS and collect what the server sends until it
 * closes the connection, or for `quietMs` after the last byte, or `limitMs` in all.
 * `readAfterMs`: read nothing until then (a client that does not read).
 */
export function h2Exchange(
  port: number,
  bytes: Buffer,
  options: { quietMs?: number; limitMs?: number; readAfterMs?: number } = {},
): Promise<{ bytes: Buffer; closed: boolean; ms: number }> {
  const { quietMs = 300, limitMs = 3000, readAfterMs = 0 } = options;
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    let ended = false;
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port,
        servername: 'api.localhost',
        rejectUnauthorized: false,
        ALPNProtocols: ['h2'],
      },
      () => {
        if (readAfterMs > 0) {
          socket.pause();
          setTimeout(() => socket.resume(), readAfterMs);
        }
        socket.write(bytes);
      },
    );
    const done = (closed: boolean) => {
      if (ended) return;
      ended = true;
      clearTimeout(quiet);
      clearTimeout(limit);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed, ms: Date.now() - started });
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      clearTimeout(quiet);
      quiet = setTimeout(() => done(false), quietMs);
    });
    socket.on('error', () => {});
    socket.on('close', () => done(true));
    const limit = setTimeout(() => done(false), limitMs);
  });
}
