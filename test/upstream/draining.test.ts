import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { ADMIN_TOKEN, startEdge, type TestEdge, deployUpstream } from '../support/edge.js';
import { tarball } from '../support/tarball.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('changing replicas while serving: the old set drains', () => {
  let oldApp: TestUpstream;
  let newApp: TestUpstream;
  let ws: WebSocketServer;
  let edge: TestEdge;
  before(async () => {
    oldApp = await startUpstream((req, res) => {
      const delay = req.url === '/slow' ? 600 : 0;
      setTimeout(() => res.end('old'), delay);
    });
    // The old set's WebSocket endpoint lives on its own port: replicas are one URL each.
    ws = new WebSocketServer({ server: oldApp.server });
    ws.on('connection', (s) =>
      s.on('message', (m: RawData) => s.send(`old echo ${(m as Buffer).toString()}`)),
    );
    newApp = await startUpstream((_req, res) => res.end('new'));
    edge = await startEdge({ demo: false, upstream: { drainMs: 1500 } });
    await deployUpstream(edge, 'app', [oldApp.url]);
  });
  after(async () => {
    await edge.close();
    ws.close();
    await oldApp.close();
    await newApp.close();
  });

  it('sends new requests to the new replicas at once, finishes in-flight ones, keeps WebSockets until the deadline', async () => {
    await eventually(async () =>
      assert.equal((await fetchText(`${edge.origin}/app/`)).body, 'old'),
    );
    const socket = new WebSocket(`ws://127.0.0.1:${edge.port}/app/`);
    await once(socket, 'open');
    const slow = fetchText(`${edge.origin}/app/slow`);
    // In flight on the old set before its replicas change.
    await eventually(() => assert.ok(oldApp.requests.some((r) => r.url === '/slow')));

    const changed = await edge.api('PUT', '/v1/projects/app/deployments/d1/origin', {
      upstream: { replicas: [newApp.url] },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const switchedAt = Date.now();
    await eventually(async () =>
      assert.equal((await fetchText(`${edge.origin}/app/`)).body, 'new'),
    );
    assert.ok(Date.now() - switchedAt < 500, 'new requests go to the new set at once');

    assert.deepEqual(
      await slow.then((r) => [r.status, r.body]),
      [200, 'old'],
      'the in-flight request finished',
    );
    socket.send('still there?');
    const [reply] = (await once(socket, 'message')) as [RawData];
    assert.equal(
      (reply as Buffer).toString(),
      'old echo still there?',
      'the WebSocket outlives the change',
    );

    await once(socket, 'close'); // cut at the drain deadline
    const lived = Date.now() - switchedAt;
    assert.ok(lived >= 1300 && lived < 4000, `closed after ${lived} ms (drainMs 1500)`);
  });

  it('refuses to change the origin of uploaded files, and of unknown deployments', async () => {
    const uploaded = await fetch(`${edge.admin}/v1/projects/app/deployments?id=files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/gzip' },
      body: tarball([{ name: 'index.html', body: 'hi' }]),
    });
    assert.equal(uploaded.status, 201);
    const refused = await edge.api('PUT', '/v1/projects/app/deployments/files/origin', {
      upstream: { replicas: [newApp.url] },
    });
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail, /serves uploaded files/);
    const missing = await edge.api('PUT', '/v1/projects/app/deployments/nope/origin', {
      upstream: { replicas: [newApp.url] },
    });
    assert.equal(missing.status, 404);
  });
});
