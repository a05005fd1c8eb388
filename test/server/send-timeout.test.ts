/**
 * A client that stops taking a response (its receive window closed, over TCP or one HTTP/2
 * stream's flow control) is cut off after `limits.sendTimeoutMs` without progress, and the
 * app's response behind it is abandoned, so neither the connection nor the app's socket is
 * held for as long as the client likes (nginx `send_timeout`). A slow reader that keeps
 * taking bytes is not cut. Against the built executable, on raw sockets and node:http2; then
 * the check itself on real sockets, with the clock given.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  connect as http2Connect,
  constants,
  createServer as createHttp2Server,
  type ClientHttp2Stream,
  type ServerHttp2Stream,
} from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import {
  configWithProject,
  loggedPort,
  spawnSwitchyard,
  type RunningSwitchyard,
} from '../support/cli.js';
import { fetchText } from '../support/http.js';
import { SendTimeouts } from '../../src/net/send-timeout.js';
import { LocalCa } from '../../src/tls/local-ca.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const SEND_TIMEOUT_MS = 1000;
/** Past this, the client would have been held for good: fail rather than wait. */
const GIVE_UP_MS = SEND_TIMEOUT_MS + 5000;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** An app answer that never ends: 64 KiB at a time, as fast as the proxy takes them. */
function endless(res: ServerResponse, abandoned: (ms: number) => void): void {
  const started = Date.now();
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const pump = (): void => {
    while (!res.destroyed && res.write(CHUNK));
  };
  res.on('drain', pump);
  res.on('close', () => abandoned(Date.now() - started));
  pump();
}

/** Milliseconds from the first stalled byte to the close, within the limit and the check. */
function assertCutInTime(ms: number): void {
  // The kernel buffers on both sides fill first (milliseconds on loopback); then the limit,
  // checked every quarter of it.
  assert.ok(ms >= SEND_TIMEOUT_MS - 50 && ms < SEND_TIMEOUT_MS + 2500, `cut after ${ms} ms`);
}

describe('send timeout: a client that stops reading (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  let https: number;
  let admin: number;
  /** How long each app response lived, by request path. */
  const lived = new Map<string, number>();
  before(async () => {
    app = await startUpstream((req, res) => {
      endless(res, (ms) => lived.set(req.url ?? '', ms));
    });
    const file = configWithProject(
      [
        'listen: { host: 127.0.0.1 }',
        'admin: { host: 127.0.0.1, token: test-admin-token-0123456789 }',
        'https: { enabled: true, host: 127.0.0.1 }',
        `limits: { sendTimeoutMs: ${SEND_TIMEOUT_MS} }`,
      ],
      app.url,
    );
    // A WebSocket app that never stops talking (raw frames are not needed to fill a pipe).
    app.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const started = Date.now();
      socket.on('error', () => {});
      socket.on('close', () => lived.set(req.url ?? '', Date.now() - started));
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      );
      const pump = (): void => {
        while (!socket.destroyed && socket.write(CHUNK));
      };
      socket.on('drain', pump);
      pump();
    });
    sy = await spawnSwitchyard(['--config', file]);
    https = await loggedPort(sy, 'HTTPS listening');
    admin = await loggedPort(sy, 'admin API listening');
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  /**
   * Send `head` for `path`, read the answer's first bytes, then stop reading; resolves once the app's response is
   * abandoned, with how long that took, and after the client has seen its connection end.
   */
  async function stopReading(
    socket: Socket,
    path: string,
    fields = '',
  ): Promise<{ head: string; ms: number }> {
    socket.on('error', () => {});
    socket.write(`GET ${path} HTTP/1.1\r\nHost: api.localhost\r\n${fields}\r\n`);
    const [first] = (await once(socket, 'data')) as [Buffer];
    socket.pause(); // nothing more is read: the receive window closes
    const stalledAt = Date.now();
    await waitFor(() => lived.has(path), GIVE_UP_MS);
    const ms = Date.now() - stalledAt;
    // A paused socket cannot see its end: read what was in flight, then the close.
    socket.resume();
    await once(socket, 'close', { signal: AbortSignal.timeout(GIVE_UP_MS) });
    return { head: first.toString('latin1').split('\r\n')[0]!, ms };
  }

  it('cuts an HTTP/1.1 client that stops reading, and abandons the app response', async () => {
    const socket = connect(sy.port, '127.0.0.1');
    await once(socket, 'connect');
    const { head, ms } = await stopReading(socket, '/h1');
    assert.equal(head, 'HTTP/1.1 200 OK');
    assertCutInTime(ms);
  });

  it('closes a WebSocket tunnel whose client stops reading, and the app side with it', async () => {
    const socket = connect(sy.port, '127.0.0.1');
    await once(socket, 'connect');
    const { head, ms } = await stopReading(
      socket,
      '/ws',
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
    );
    assert.equal(head, 'HTTP/1.1 101 Switching Protocols');
    assertCutInTime(ms);
  });

  it('cuts an HTTPS/1.1 client that stops reading', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: https,
      servername: 'api.localhost',
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    await once(socket, 'secureConnect');
    const { head, ms } = await stopReading(socket, '/tls');
    assert.equal(head, 'HTTP/1.1 200 OK');
    assertCutInTime(ms);
  });

  it('resets an HTTP/2 stream whose window stays closed, while its session goes on', async () => {
    const session = http2Connect(`https://127.0.0.1:${https}`, {
      servername: 'api.localhost',
      rejectUnauthorized: false,
    });
    session.on('error', () => {});
    await once(session, 'remoteSettings');
    // A connection window far larger than any stream's: only the stalled stream's own
    // window (65,535 bytes, never updated while it is paused) holds its data back.
    session.setLocalWindowSize(64 * 1024 * 1024);
    const ask = (path: string): ClientHttp2Stream =>
      session.request({ ':path': path, ':authority': 'api.localhost' });
    const stalled = ask('/h2-stalled');
    await once(stalled, 'response');
    stalled.pause();
    const stalledAt = Date.now();
    // Meanwhile another stream on the same connection takes everything it is sent.
    const flowing = ask('/h2-flowing');
    let flowed = 0;
    flowing.on('data', (chunk: Buffer) => (flowed += chunk.length));
    await once(stalled, 'close', { signal: AbortSignal.timeout(GIVE_UP_MS) });
    const ms = Date.now() - stalledAt;
    assertCutInTime(ms);
    assert.equal(stalled.rstCode, 8); // CANCEL (RFC 9113 §7)
    await waitFor(() => lived.has('/h2-stalled'));
    const before = flowed;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(flowed > before && !flowing.closed, 'the session still serves its other stream');
    assert.ok(!lived.has('/h2-flowing'));
    flowing.close();
    session.destroy();
  });

  it('keeps a slow reader that keeps taking bytes', async () => {
    const socket = connect(sy.port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('GET /slow HTTP/1.1\r\nHost: api.localhost\r\n\r\n');
    let taken = 0;
    socket.on('data', (chunk: Buffer) => (taken += chunk.length));
    socket.pause();
    // Three limits long: read for 20 ms in every 300 (the window opens and closes again).
    const until = Date.now() + 3 * SEND_TIMEOUT_MS;
    while (Date.now() < until) {
      socket.resume();
      await new Promise((r) => setTimeout(r, 20));
      socket.pause();
      await new Promise((r) => setTimeout(r, 280));
    }
    assert.ok(!socket.destroyed && taken > 0, `still open, ${taken} bytes taken`);
    assert.ok(!lived.has('/slow'));
    socket.destroy();
  });

  it('counts each cut', async () => {
    const metrics = await fetchText(`http://127.0.0.1:${admin}/metrics`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    assert.match(metrics.body, /switchyard_limit_refusals_total\{limit="send_timeout"\} 4/);
  });
});

async function waitFor(done: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) assert.fail(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SendTimeouts (real sockets, the clock given to each check)', () => {
  /**
   * A connection over loopback (TCP, or TLS with a leaf from a local CA): the server's side,
   * which sends, and the client's, paused (it reads nothing until a test resumes it).
   */
  async function connectedPair(
    secure: boolean,
  ): Promise<{ sending: Socket; client: Socket; close: () => void }> {
    const dir = mkdtempSync(join(tmpdir(), 'sy-send-'));
    const leaf = secure ? await (await LocalCa.open(dir)).issue(['localhost']) : undefined;
    const server =
      leaf === undefined
        ? createNetServer()
        : createTlsServer({ cert: leaf.certPem, key: leaf.keyPem });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const client = secure
      ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : connect(port, '127.0.0.1');
    client.on('error', () => {});
    const [sending] = (await once(server, secure ? 'secureConnection' : 'connection')) as [Socket];
    client.pause();
    return {
      sending,
      client,
      close: () => {
        client.destroy();
        sending.destroy();
        server.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  /**
   * Write until bytes stay waiting in Node: the kernel buffers full, and Node's too. A paused
   * client still reads up to its stream's high-water mark, which can drain one round of
   * writes, so this writes again until something is still waiting 50 ms later.
   */
  async function fillUntilWaiting(socket: Socket): Promise<void> {
    for (let round = 0; round < 100; round++) {
      while (socket.write(CHUNK));
      await new Promise((r) => setTimeout(r, 50));
      if (socket.writableLength > 0) return;
    }
  }

  /** A server-side socket with bytes waiting: its client reads nothing. */
  async function waitingPair(): ReturnType<typeof connectedPair> {
    const pair = await connectedPair(false);
    await fillUntilWaiting(pair.sending);
    return pair;
  }

  it('cuts after the limit without progress, and progress starts the limit again', async () => {
    const sends = new SendTimeouts(60_000); // checks itself every second: not in this test
    const { sending, client, close } = await waitingPair();
    try {
      sends.watchSocket(sending);
      const t0 = Date.now();
      sends.check(t0);
      sends.check(t0 + 59_999);
      assert.equal(sending.destroyed, false);
      // The client takes some: the next check sees progress and starts counting again.
      // (It has read once it emits data; the wait after lets the sender's writes complete,
      // however busy the machine.)
      const read = once(client, 'data');
      client.resume();
      await read;
      await new Promise((r) => setTimeout(r, 30));
      client.pause();
      await fillUntilWaiting(sending); // and is sent more than it takes
      assert.ok(sending.writableLength > 0, 'still waiting');
      sends.check(t0 + 60_000);
      assert.equal(sending.destroyed, false, 'progress: kept');
      sends.check(t0 + 119_999);
      assert.equal(sending.destroyed, false);
      sends.check(t0 + 120_000);
      assert.equal(sending.destroyed, true, 'a limit without progress: cut');
    } finally {
      sends.close();
      close();
    }
  });

  /**
   * One 32 MiB write (a stored body sent whole), over TCP or TLS, to a client that reads
   * nothing yet: the write completes only at its end, so only libuv's queue shows progress.
   */
  async function oneLargeWrite(secure: boolean): ReturnType<typeof connectedPair> {
    const pair = await connectedPair(secure);
    pair.sending.write(Buffer.alloc(32 * 1024 * 1024, 'x'));
    await new Promise((r) => setTimeout(r, 100));
    return pair;
  }

  for (const secure of [false, true]) {
    it(`keeps a slow reader of one large write (${secure ? 'TLS' : 'TCP'}): part taken is progress`, async () => {
      const sends = new SendTimeouts(60_000);
      const { sending, client, close } = await oneLargeWrite(secure);
      try {
        sends.watchSocket(sending);
        const t0 = Date.now();
        sends.check(t0);
        // The client takes a little, 1 MiB (far from the whole write, which stays incomplete),
        // however long that takes on a busy machine: a fixed 20 ms was sometimes too short for
        // the TLS client to read anything past what it had buffered already.
        let taken = 0;
        const count = (chunk: Buffer) => (taken += chunk.length);
        client.on('data', count);
        client.resume();
        for (let i = 0; i < 1000 && taken < 1024 * 1024; i++) {
          await new Promise((r) => setTimeout(r, 5));
        }
        client.pause();
        client.off('data', count);
        await new Promise((r) => setTimeout(r, 100));
        assert.ok(sending.writableLength > 0, 'the write is not complete');
        sends.check(t0 + 60_000);
        assert.equal(sending.destroyed, false, 'part of the write was taken: kept');
        sends.check(t0 + 120_000);
        assert.equal(sending.destroyed, true, 'then nothing for the limit: cut');
      } finally {
        sends.close();
        close();
      }
    });
  }

  it('cuts only the HTTP/2 responses still watched, however many came and went', async () => {
    // Five real streams, each with bytes its client's closed window holds back (rstCode 0:
    // not reset).
    const server = createHttp2Server();
    const streams: ServerHttp2Stream[] = [];
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.write(Buffer.alloc(1024, 'x'));
      streams.push(stream);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const session = http2Connect(`http://127.0.0.1:${port}`, {
      settings: { initialWindowSize: 0 },
    });
    session.on('error', () => {});
    const sends = new SendTimeouts(60_000);
    try {
      for (let i = 0; i < 5; i++) session.request({ ':path': '/' }).on('error', () => {});
      while (streams.length < 5) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(
        streams.every((s) => s.writableLength > 0),
        'bytes held back',
      );
      const sender = (stream: ServerHttp2Stream) => ({ bodyBytes: 1024, stream });
      const watches = streams.map((s) => sends.watchStream(sender(s))!);
      // Forgotten: the newest, one in the middle, the oldest; one of them twice.
      for (const i of [4, 2, 0, 2]) sends.forgetStream(watches[i]!);
      const t0 = Date.now();
      sends.check(t0);
      sends.check(t0 + 60_000);
      assert.deepEqual(
        streams.map((s) => s.rstCode),
        [0, constants.NGHTTP2_CANCEL, 0, constants.NGHTTP2_CANCEL, 0],
      );
      // Many more come and go: the list keeps only those open.
      for (let i = 0; i < 1000; i++) sends.forgetStream(sends.watchStream(sender(streams[0]!))!);
      sends.watchStream(sender(streams[4]!));
      sends.check(t0 + 60_000);
      sends.check(t0 + 120_000);
      assert.equal(streams[4]!.rstCode, constants.NGHTTP2_CANCEL);
      assert.equal(streams[0]!.rstCode, 0, 'forgotten: never cut');
      assert.equal(streams[2]!.rstCode, 0, 'forgotten: never cut');
    } finally {
      sends.close();
      session.destroy();
      server.close();
    }
  });

  it('watches nothing when the limit is 0', async () => {
    const sends = new SendTimeouts(0);
    const { sending, close } = await waitingPair();
    try {
      sends.watchSocket(sending);
      sends.check(Date.now());
      sends.check(Date.now() + 3_600_000);
      assert.equal(sending.destroyed, false);
    } finally {
      sends.close();
      close();
    }
  });
});
