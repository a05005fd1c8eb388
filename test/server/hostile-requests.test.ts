/**
 * Hostile requests on raw sockets against the built executable: a Host that would poison
 * links (and the cache), a Forwarded injection, absolute-form with a foreign Host, an
 * Upgrade the app refuses (no tunnel without 101), junk after a response (one answer per
 * request). Each asserts what the app received, not only what the client got.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { rawRequest, statusOf } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('hostile requests (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  const seen = () => app.requests.map((r: IncomingMessage) => ({ url: r.url, headers: r.headers }));

  before(async () => {
    app = await startUpstream((req, res) => {
      if (req.url === '/cached') {
        res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/html' });
        res.end(`<a href="http://${String(req.headers.host)}/login">log in</a>`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`host=${String(req.headers.host)} forwarded=${String(req.headers.forwarded)}`);
    });
    const dir = mkdtempSync(join(tmpdir(), 'sy-hostile-'));
    const site = join(dir, 'site');
    mkdirSync(join(site, 'evil.example'), { recursive: true });
    writeFileSync(join(site, 'evil.example', 'index.html'), 'a folder named like a host');
    const file = join(dir, 'switchyard.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1 }\nproxy: { upgradeProtocols: [websocket, X-Test] }\nprojects:\n  - slug: api\n    maxBodyBytes: 1000\n    deployments:\n      - id: v1\n        upstream: { replicas: ["${app.url}"] }\n  - slug: site\n    deployments:\n      - id: v1\n        static: { dir: "${site}" }\n`,
    );
    sy = await spawnSwitchyard(['--config', file]);
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  const send = (text: string) => rawRequest(sy.port, text);

  it('refuses a Host that is not a host and port (400 SY_BAD_HOST); the app sees nothing', async () => {
    const before = app.requests.length;
    for (const host of [
      'api.localhost:80@evil.example',
      'api.localhost:80", for=6.6.6.6;host="api.localhost',
      'api.localhost/evil',
      'api.localhost:99999',
      'api.localhost:8o',
      'api.localhost evil',
    ]) {
      const raw = await send(`GET /cached HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(raw), 400, host);
      assert.match(raw, /SY_BAD_HOST/, host);
    }
    assert.equal(app.requests.length, before, 'nothing reached the app');
  });

  it('gives the app the routed host, normalised, never the raw header', async () => {
    const raw = await send(
      'GET /x HTTP/1.1\r\nHost: API.Localhost.:8080\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(raw), 200);
    assert.match(raw, /host=api\.localhost:8080 /);
    assert.match(raw, /forwarded=for=127\.0\.0\.1;host="api\.localhost:8080";proto=http/);
  });

  it('takes the authority of an absolute-form target over a foreign Host (RFC 9112 §3.2.2)', async () => {
    const raw = await send(
      'GET http://api.localhost/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(raw), 200);
    assert.match(raw, /host=api\.localhost /);
    assert.ok(!seen().some((r) => String(r.headers.host).includes('evil')));
  });

  it('keys stored pages by the host the app saw: no page built for one host is served to another', async () => {
    const a = await send(
      'GET /cached HTTP/1.1\r\nHost: api.localhost:80\r\nConnection: close\r\n\r\n',
    );
    const b = await send(
      'GET /cached HTTP/1.1\r\nHost: api.localhost:8080\r\nConnection: close\r\n\r\n',
    );
    assert.match(a, /http:\/\/api\.localhost:80\/login/);
    assert.match(b, /http:\/\/api\.localhost:8080\/login/);
  });

  it('never tunnels without a 101: the next request on the connection is parsed and logged', async () => {
    const before = app.requests.length;
    const raw = await send(
      'GET /x HTTP/1.1\r\nHost: api.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n' +
        'GET /smuggled HTTP/1.1\r\nHost: api.localhost\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n',
    );
    assert.equal(statusOf(raw), 200, raw);
    assert.equal(
      (raw.match(/HTTP\/1\.1 /g) ?? []).length,
      1,
      'one answer, then the connection closed',
    );
    assert.match(raw, /connection: close/i);
    const arrived = app.requests.slice(before).map((r) => r.url);
    assert.deepEqual(arrived, ['/x'], 'the bytes after the refused upgrade never reached the app');
  });

  it('removes client identity headers and underscore names from untrusted peers', async () => {
    const before = app.requests.length;
    await send(
      'GET /who HTTP/1.1\r\nHost: api.localhost\r\nX-Real-IP: 6.6.6.6\r\nTrue-Client-IP: 6.6.6.6\r\n' +
        'X-Forwarded-Port: 1\r\nX-Original-URL: /admin\r\nCF-Connecting-IP: 6.6.6.6\r\n' +
        'Transfer_Encoding: chunked\r\nX_Forwarded_For: 6.6.6.6\r\nX-Kept: yes\r\nConnection: close\r\n\r\n',
    );
    const got = app.requests[before]!.headers;
    for (const name of [
      'x-real-ip',
      'true-client-ip',
      'x-forwarded-port',
      'x-original-url',
      'cf-connecting-ip',
      'transfer_encoding',
      'x_forwarded_for',
    ]) {
      assert.equal(got[name], undefined, name);
    }
    assert.equal(got['x-kept'], 'yes');
    assert.equal(got['x-forwarded-for'], '127.0.0.1');
  });

  it('resolves dot segments before routing and forwarding, and never redirects off-site', async () => {
    const before = app.requests.length;
    for (const path of ['/api/a/../b', '/api/./b', '/api/a/%2e%2e/b']) {
      const raw = await send(
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(statusOf(raw), 200, path);
    }
    assert.deepEqual(
      app.requests.slice(before).map((r) => r.url),
      ['/b', '/b', '/b'],
    );
    const raw = await send(
      'GET //evil.example HTTP/1.1\r\nHost: site.localhost\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(raw), 308);
    assert.match(raw, /\r\nlocation: \/evil\.example\/\r\n/i);
  });

  it('refuses a body over the project’s limit with 413, declared or chunked', async () => {
    const before = app.requests.length;
    const declared = await send(
      `POST /x HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: 5000\r\n\r\n${'a'.repeat(5000)}`,
    );
    assert.equal(statusOf(declared), 413);
    assert.match(declared, /SY_BODY_TOO_LARGE/);
    assert.equal(app.requests.length, before, 'nothing was sent on');
    const small = await send(
      `POST /x HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n${'a'.repeat(10)}`,
    );
    assert.equal(statusOf(small), 200);
    const chunk = `${(600).toString(16)}\r\n${'b'.repeat(600)}\r\n`;
    const chunked = await send(
      `POST /x HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\n`,
    );
    // Cut once it passes 1000 bytes: the app had not answered yet, so a 413.
    assert.equal(statusOf(chunked), 413, chunked);
  });

  it('refuses upgrades to protocols not in proxy.upgradeProtocols (WebSocket)', async () => {
    const raw = await send(
      'GET /x HTTP/1.1\r\nHost: api.localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
    );
    assert.equal(statusOf(raw), 400);
    assert.match(raw, /upgrades to \\"h2c\\" are not accepted/);
    // A protocol the operator allows is passed on; this app answers an ordinary response,
    // which goes back as one, and the connection closes.
    const allowed = await send(
      'GET /x HTTP/1.1\r\nHost: api.localhost\r\nConnection: Upgrade\r\nUpgrade: x-test\r\n\r\n',
    );
    assert.equal(statusOf(allowed), 200, allowed);
    assert.match(allowed, /Connection: close/i);
  });

  it('answers each request once: junk pipelined after a request gets no second answer', async () => {
    for (const first of [
      'GET /nope-such-project/ HTTP/1.1\r\nHost: localhost\r\n\r\n',
      'GET /x HTTP/1.1\r\nHost: api.localhost\r\nConnection: close\r\n\r\n',
    ]) {
      const raw = await send(`${first}\x00\x01JUNK\r\n\r\n`);
      assert.equal((raw.match(/HTTP\/1\.1 /g) ?? []).length, 1, raw);
    }
  });
});
