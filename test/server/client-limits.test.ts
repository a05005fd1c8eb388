/**
 * Per-client limits on long-lived things, on real sockets: public event streams per client
 * address, and WebSocket tunnels that go quiet (closed after `limits.tunnelIdleTimeoutMs`,
 * with an access-log line when they end).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { startEdge, deployUpstream, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';

/** Open the public event stream of a building deployment; resolves with the response. */
function openStream(
  port: number,
  path: string,
): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream' } },
      (res) => resolve({ req, res }),
    );
    req.on('error', reject);
    req.end();
  });
}

describe('limits on long-lived client connections', () => {
  let edge: TestEdge;
  let wsServer: ReturnType<typeof createServer>;
  let wss: WebSocketServer;
  before(async () => {
    wsServer = createServer();
    wss = new WebSocketServer({ server: wsServer });
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
    wsServer.listen(0, '127.0.0.1');
    await once(wsServer, 'listening');
    edge = await startEdge({
      demo: false,
      limits: { maxEventStreamsPerIp: 2, tunnelIdleTimeoutMs: 1000 },
      log: { access: true },
    });
    await edge.api('POST', '/v1/projects', { slug: 'site' });
    await edge.api('POST', '/v1/projects/site/deployments', { id: 'd1' }); // queued: building page
    const url = `http://127.0.0.1:${(wsServer.address() as AddressInfo).port}`;
    await deployUpstream(edge, 'chat', [url]);
  });
  after(async () => {
    await edge.close();
    wss.close();
    wsServer.closeAllConnections();
    wsServer.close();
  });

  it('caps public event streams per client address', async () => {
    const first = await openStream(edge.port, '/site/');
    const second = await openStream(edge.port, '/site/');
    assert.equal(first.res.statusCode, 200);
    assert.equal(second.res.statusCode, 200);
    const third = await openStream(edge.port, '/site/');
    assert.equal(third.res.statusCode, 429);
    assert.equal(third.res.headers['retry-after'], '5');
    third.res.resume();
    first.req.destroy();
    // A closed stream frees its place.
    const again = await eventually(async () => {
      const s = await openStream(edge.port, '/site/');
      if (s.res.statusCode !== 200) {
        s.req.destroy();
        throw new Error(`status ${s.res.statusCode}`);
      }
      return s;
    });
    again.req.destroy();
    second.req.destroy();
  });

  it('closes a quiet WebSocket tunnel after tunnelIdleTimeoutMs, and logs it', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/chat/socket`);
    await once(ws, 'open');
    const opened = Date.now();
    // Traffic keeps it open past the limit…
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      ws.send(`ping ${i}`);
      await once(ws, 'message');
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    // …silence closes it.
    await once(ws, 'close');
    const lived = Date.now() - opened;
    assert.ok(lived >= 2400 && lived < 4500, `closed after ${lived} ms`);
    const line = await eventually(() => {
      const l = edge.logs.find((e) => e.kind === 'access' && e.status === 101);
      assert.ok(l, 'a tunnel access-log line');
      return l;
    });
    assert.equal(line.closedBy, 'idle');
    assert.equal(line.project, 'chat');
    assert.ok(Number(line.bytesIn) > 0 && Number(line.bytes) > 0, JSON.stringify(line));
    assert.ok(Number(line.durationMs) >= 2400, JSON.stringify(line));
  });
});
