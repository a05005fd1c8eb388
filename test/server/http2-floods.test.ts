/**
 * HTTP/2 protocol floods against the built executable, frame by frame on raw TLS sockets:
 * each attacking connection is ended (GOAWAY, or a reset or close) within a bound, the app
 * behind the edge sees next to nothing of it, and another client is served at once. The
 * limits are node:http2's and nghttp2's, set explicitly in src/server/secure-server.ts.
 */
import assert from 'node:assert/strict';
import { connect as http2Connect, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import {
  configWithProject,
  loggedPort,
  spawnSwitchyard,
  type RunningSwitchyard,
} from '../support/cli.js';
import { frame, framesOf, h2Exchange, literal, PREFACE, type Frame } from '../support/h2-frames.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const GET = Buffer.concat([
  literal(':method', 'GET'),
  literal(':scheme', 'https'),
  literal(':authority', 'api.localhost'),
  literal(':path', '/flood'),
]);
const END_STREAM_AND_HEADERS = 0x5;
/**
 * For a flood the server must end: wait for the close however slowly a loaded machine reads
 * the flood, and fail (the close never came) only after this long.
 */
const UNTIL_CLOSED = { quietMs: 15_000, limitMs: 15_000 };
// RFC 9113 §7
const INTERNAL_ERROR = 2;
const ENHANCE_YOUR_CALM = 11;

/**
 * The GOAWAY the server sent, if any: the last stream it processed and its error code. (It
 * can be lost: a server that closes with the flood still unread makes its kernel reset the
 * connection, and the client's kernel may drop what it had not yet handed on.)
 */
function goawayOf(frames: Frame[]): { lastStream: number; code: number } | undefined {
  const goaway = frames.find((f) => f.type === 0x7);
  if (goaway === undefined) return undefined;
  return {
    lastStream: goaway.payload.readUInt32BE(0) & 0x7fffffff,
    code: goaway.payload.readUInt32BE(4),
  };
}

/** The same frame `count` times after the preface. */
function repeated(count: number, make: (i: number) => Buffer, start: Buffer[] = []): Buffer {
  const parts = [PREFACE, ...start];
  for (let i = 0; i < count; i++) parts.push(make(i));
  return Buffer.concat(parts);
}

describe('HTTP/2 floods (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  let https: number;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('ok'));
    const file = configWithProject(
      ['listen: { host: 127.0.0.1 }', 'https: { enabled: true, host: 127.0.0.1 }'],
      app.url,
    );
    sy = await spawnSwitchyard(['--config', file]);
    https = await loggedPort(sy, 'HTTPS listening');
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  /** An ordinary HTTP/2 client on a connection of its own gets its answer. */
  async function stillServes(): Promise<void> {
    const session = http2Connect(`https://127.0.0.1:${https}`, {
      servername: 'api.localhost',
      rejectUnauthorized: false,
    });
    try {
      const stream = session.request({ ':path': '/ordinary', ':authority': 'api.localhost' });
      let body = '';
      stream.setEncoding('utf8').on('data', (d: string) => (body += d));
      const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
        stream.on('response', resolve);
        stream.on('error', reject);
      });
      await new Promise((resolve) => stream.on('end', resolve));
      assert.equal(headers[':status'], 200);
      assert.equal(body, 'ok');
    } finally {
      session.destroy();
    }
  }

  it('rapid reset (CVE-2023-44487): GOAWAY after a burst of resets, the app spared', async () => {
    const streams = 5000;
    const before = app.requests.length;
    const got = await h2Exchange(
      https,
      repeated(streams, (i) =>
        Buffer.concat([
          frame(0x1, END_STREAM_AND_HEADERS, 1 + 2 * i, GET),
          frame(0x3, 0, 1 + 2 * i, Buffer.from([0, 0, 0, 8])), // RST_STREAM CANCEL
        ]),
      ),
      UNTIL_CLOSED,
    );
    const goaway = goawayOf(framesOf(got.bytes));
    assert.ok(goaway !== undefined || got.closed, 'ended');
    if (goaway !== undefined) {
      assert.equal(goaway.code, INTERNAL_ERROR); // nghttp2's answer to a reset flood
      // streamResetBurst (1,000) resets, then the connection is over: not all 5,000.
      assert.ok(goaway.lastStream <= 2 * 1100, `processed up to stream ${goaway.lastStream}`);
    }
    assert.ok(
      app.requests.length - before <= 1000,
      `${app.requests.length - before} reached the app`,
    );
    await stillServes();
  });

  it('CONTINUATION flood (CVE-2024-27316): the connection ends before the head does', async () => {
    const junk = literal('x-junk', 'y'.repeat(100));
    const got = await h2Exchange(
      https,
      // HEADERS without END_HEADERS, then CONTINUATION frames that never end the head.
      repeated(20_000, () => frame(0x9, 0, 1, junk), [frame(0x1, 0x1, 1, GET)]),
      UNTIL_CLOSED,
    );
    const goaway = goawayOf(framesOf(got.bytes));
    assert.ok(goaway !== undefined || got.closed, 'ended');
    assert.equal(app.requests.length > 0 && app.requests.at(-1)!.url === '/flood', false);
    await stillServes();
  });

  it('PING and SETTINGS floods from a client that reads nothing: cut, not buffered', async () => {
    for (const [name, make] of [
      ['PING', () => frame(0x6, 0, 0, Buffer.alloc(8))],
      ['SETTINGS', () => frame(0x4, 0, 0, Buffer.alloc(0))],
    ] as const) {
      // 100,000 frames each wanting an ACK, and the client reads none for a second: the
      // server stops queueing ACKs (at most 1,000 waiting) and ends the connection.
      const got = await h2Exchange(https, repeated(100_000, make), {
        ...UNTIL_CLOSED,
        readAfterMs: 1000,
      });
      const frames = framesOf(got.bytes);
      assert.ok(got.closed, `${name}: the connection was closed`);
      const acks = frames.filter((f) => f.type === (name === 'PING' ? 0x6 : 0x4)).length;
      // What reached the client is what the kernel buffers held (17 bytes an ACK; about
      // 150 KB on loopback before the client reads) plus the server's last 1,000: far from
      // one for every frame. 961 and 2,889 were seen.
      assert.ok(acks < 20_000, `${name}: ${acks} ACKs of 100,000`);
    }
    await stillServes();
  });

  it('empty DATA frames and PRIORITY frames in floods: the connection is ended', async () => {
    const post = Buffer.concat([
      literal(':method', 'POST'),
      literal(':scheme', 'https'),
      literal(':authority', 'api.localhost'),
      literal(':path', '/flood-upload'),
    ]);
    // Empty DATA frames carry nothing and cost a callback each (CVE-2019-9518).
    const empty = await h2Exchange(
      https,
      repeated(100_000, () => frame(0x0, 0, 1, Buffer.alloc(0)), [frame(0x1, 0x4, 1, post)]),
      UNTIL_CLOSED,
    );
    assert.ok(empty.closed, 'empty DATA: closed');
    // PRIORITY frames for streams that do not exist (CVE-2019-9513's cousin).
    const priority = await h2Exchange(
      https,
      repeated(100_000, (i) => frame(0x2, 0, 1 + 2 * (i % 1000), Buffer.from([0, 0, 0, 0, 16]))),
      UNTIL_CLOSED,
    );
    const goaway = goawayOf(framesOf(priority.bytes));
    assert.ok(goaway?.code === ENHANCE_YOUR_CALM || priority.closed, 'PRIORITY: ended');
    await stillServes();
  });

  it('HPACK bomb: a field referenced past the header list limit is refused', async () => {
    const value = 'z'.repeat(4000);
    // A literal field added to the dynamic table (RFC 7541 §6.2.1): index 62 afterwards.
    const big = Buffer.concat([
      Buffer.from([0x40, 5]),
      Buffer.from('x-big'),
      Buffer.from([0x7f, ((value.length - 127) & 0x7f) | 0x80, (value.length - 127) >> 7]),
      Buffer.from(value),
    ]);
    // …then named 2,000 more times at one byte each: 8 MB of fields from 6 KB.
    const references = Buffer.alloc(2000, 0x80 | 62);
    const before = app.requests.length;
    const got = await h2Exchange(
      https,
      Buffer.concat([
        PREFACE,
        frame(0x1, END_STREAM_AND_HEADERS, 1, Buffer.concat([GET, big, references])),
      ]),
      { quietMs: 2000 }, // the stream's reset, however late it comes
    );
    const frames = framesOf(got.bytes);
    const reset = frames.some((f) => f.type === 0x3 && f.stream === 1);
    assert.ok(reset || goawayOf(frames) !== undefined, 'refused');
    assert.ok(!frames.some((f) => f.type === 0x1 && f.stream === 1), 'never answered');
    assert.equal(app.requests.length, before);
    await stillServes();
  });
});
