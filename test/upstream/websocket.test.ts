import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { startSwitchyard, upstreamProject, type TestSwitchyard } from '../support/switchyard.js';
import { closedPort } from '../support/upstream.js';
import { rawRequest, statusOf } from '../support/http.js';

describe('WebSocket pass-through', () => {
  let server: Server;
  let wss: WebSocketServer;
  let sy: TestSwitchyard;
  const upgradeHeaders: Record<string, string | string[] | undefined>[] = [];
  before(async () => {
    server = createServer();
    wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      upgradeHeaders.push({ ...req.headers, url: req.url });
      ws.on('message', (data: RawData, isBinary) => {
        const text = isBinary ? null : (data as Buffer).toString();
        if (text === 'close-me') ws.close(4001, 'asked to close');
        else ws.send(data, { binary: isBinary });
      });
      ws.on('ping', (data) => ws.send(`got ping ${data.toString()}`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sy = await startSwitchyard({ projects: [upstreamProject('chat', [url])] });
  });
  after(async () => {
    await sy.close();
    wss.close();
    server.closeAllConnections();
    server.close();
  });

  async function open(path = '/chat/socket'): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${sy.port}${path}`);
    await once(ws, 'open');
    return ws;
  }
  const next = async (ws: WebSocket) => {
    const [data, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
    return { data, isBinary };
  };

  it('passes text and binary messages both ways, with forwarding headers', async () => {
    const ws = await open('/chat/socket?room=1');
    ws.send('hello');
    const text = await next(ws);
    assert.equal(text.data.toString(), 'hello');
    assert.equal(text.isBinary, false);
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    ws.send(bytes);
    const bin = await next(ws);
    assert.equal(bin.isBinary, true);
    assert.deepEqual(bin.data, bytes);
    const h = upgradeHeaders.at(-1)!;
    assert.equal(h.url, '/socket?room=1');
    assert.equal(h['x-forwarded-prefix'], '/chat');
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.match(String(h.via), /1\.1 switchyard/);
    ws.close();
  });

  it('passes fragmented and large messages', async () => {
    const ws = await open();
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    ws.send(big);
    assert.deepEqual((await next(ws)).data, big);
    // A message sent in fragments arrives whole.
    ws.send('part one, ', { fin: false });
    ws.send('part two', { fin: true });
    assert.equal((await next(ws)).data.toString(), 'part one, part two');
    ws.close();
  });

  it('passes ping and pong', async () => {
    const ws = await open();
    const pong = once(ws, 'pong');
    const message = next(ws);
    ws.ping('p1');
    assert.equal(((await pong) as [Buffer])[0].toString(), 'p1');
    assert.equal((await message).data.toString(), 'got ping p1');
    ws.close();
  });

  it('passes close codes and reasons from either side', async () => {
    const ws = await open();
    ws.send('close-me');
    const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
    assert.equal(code, 4001);
    assert.equal(reason.toString(), 'asked to close');
    const ws2 = await open();
    const serverSide = new Promise<number>((resolve) => {
      wss.clients.forEach((c) => c.once('close', (c2: number) => resolve(c2)));
    });
    ws2.close(4002, 'client done');
    assert.equal(await serverSide, 4002);
  });

  it('answers a handshake to a dead upstream with 502', async () => {
    const port = await closedPort();
    const local = await startSwitchyard({
      projects: [upstreamProject('chat', [`http://127.0.0.1:${port}`])],
    });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${local.port}/chat/`);
      ws.on('error', () => {});
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 502);
      ws.terminate();
    } finally {
      await local.close();
    }
  });

  it('answers a handshake for an unknown project with 404', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${sy.port}/nobody/`);
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    assert.equal(res.statusCode, 404);
    ws.terminate();
  });
});

describe('WebSocket upgrade to an app that never answers', () => {
  it('gives up after upstream.headersTimeoutMs with an error, never an open tunnel', async () => {
    const silent = createServer();
    silent.on('upgrade', () => {}); // takes the connection, never answers
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as AddressInfo).port;
    const sy = await startSwitchyard({
      upstream: { headersTimeoutMs: 300 },
      projects: [upstreamProject('ws', [`http://127.0.0.1:${port}`])],
    });
    try {
      const started = Date.now();
      const raw = await rawRequest(
        sy.port,
        'GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        2000,
      );
      assert.equal(statusOf(raw), 502, raw);
      assert.match(raw, /SY_UPSTREAM_BROKEN/);
      assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
    } finally {
      await sy.close();
      silent.close();
    }
  });
});

describe('WebSocket upgrade refused by an app that then keeps the connection open', () => {
  it('relays its answer and closes once the app has been idle for upstream.headersTimeoutMs', async () => {
    const app = createNetServer((socket) => {
      socket.once('data', () =>
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nno upgrade here'),
      );
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const port = (app.address() as AddressInfo).port;
    const sy = await startSwitchyard({
      upstream: { headersTimeoutMs: 300 },
      projects: [upstreamProject('ws', [`http://127.0.0.1:${port}`])],
    });
    try {
      const started = Date.now();
      const raw = await rawRequest(
        sy.port,
        'GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        3000,
      );
      assert.equal(statusOf(raw), 200, raw);
      assert.match(raw, /no upgrade here$/);
      assert.ok(Date.now() - started < 2500, `closed after ${Date.now() - started} ms`);
    } finally {
      await sy.close();
      app.close();
    }
  });
});
