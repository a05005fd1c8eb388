/**
 * Cache rules beyond the basics, on real sockets: the targeted `CDN-Cache-Control` field
 * (RFC 9213), invalidation by any unsafe method and of the URIs in `Location` /
 * `Content-Location` (RFC 9111 §4.4), fresh error statuses, strict `Age`, and `103 Early
 * Hints` passed on (RFC 8297) over HTTP/1.1 and HTTP/2 without being stored.
 */
import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText, rawRequest } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('cache rules', () => {
  const counts = new Map<string, number>();
  let version = 1;
  let app: TestUpstream;
  let edge: TestEdge;
  before(async () => {
    app = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '/';
      counts.set(path, (counts.get(path) ?? 0) + 1);
      const send = (status: number, headers: Record<string, string>) => {
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(`${path} v${version}`);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        req.resume();
        if (path === '/create')
          return send(201, { location: '/site/made', 'content-location': 'made-too' });
        if (path === '/elsewhere') return send(201, { location: 'http://other.example/site/made' });
        return send(200, {});
      }
      if (path === '/fat') {
        // An app that reads a GET's content (as search APIs do): the answer depends on it.
        let content = '';
        req.setEncoding('utf8').on('data', (d: string) => (content += d));
        req.on('end', () => {
          res.writeHead(200, { 'cache-control': 'max-age=60' });
          res.end(`content=[${content}]`);
        });
        return;
      }
      if (path === '/cdn-only')
        return send(200, { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' });
      if (path === '/cdn-range')
        return send(200, { 'cache-control': 'max-age=60', 'cdn-cache-control': 'max-age=60' });
      if (path === '/cdn-no')
        return send(200, { 'cache-control': 'max-age=60', 'cdn-cache-control': 'no-store' });
      if (path === '/error') return send(500, { 'cache-control': 'max-age=60' });
      if (path === '/bad-age') return send(200, { 'cache-control': 'max-age=3600', age: '10, 10' });
      if (path === '/hints') {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        setTimeout(() => send(200, { 'cache-control': 'max-age=60' }), 50);
        return;
      }
      send(200, { 'cache-control': 'max-age=60' });
    });
    edge = await startEdge({ demo: false, https: { enabled: true } });
    await deployUpstream(edge, 'site', [app.url]);
  });
  after(async () => {
    await edge.close();
    await app.close();
  });
  const get = (path: string) => fetchText(`${edge.origin}/site${path}`);

  it('obeys CDN-Cache-Control over Cache-Control, and keeps it from clients', async () => {
    const first = await get('/cdn-only');
    const second = await get('/cdn-only');
    assert.equal(counts.get('/cdn-only'), 1, 'stored by the targeted field despite no-store');
    assert.match(String(second.headers['cache-status']), /hit/);
    assert.equal(second.headers['cache-control'], 'no-store', 'browsers keep their directive');
    assert.equal(first.headers['cdn-cache-control'], undefined);
    assert.equal(second.headers['cdn-cache-control'], undefined);
    await get('/cdn-no');
    await get('/cdn-no');
    assert.equal(counts.get('/cdn-no'), 2, 'CDN-Cache-Control: no-store wins over max-age');
    // Responses the cache lets pass keep it from clients too, and say why they passed.
    const range = await fetchText(`${edge.origin}/site/cdn-range`, {
      headers: { range: 'bytes=0-3' },
    });
    assert.equal(range.headers['cdn-cache-control'], undefined);
    assert.equal(range.headers['cache-status'], 'Switchyard; fwd=uri-miss; detail=range');
    const own = await fetchText(`${edge.origin}/site/cdn-only`, { headers: { cookie: 'u=1' } });
    assert.equal(counts.get('/cdn-only'), 2, 'a stored page not said to be shared');
    assert.equal(own.headers['cdn-cache-control'], undefined);
    assert.equal(own.headers['cache-status'], 'Switchyard; fwd=request; detail=credentials');
  });

  it('stores a fresh error status the app marks cacheable, and treats an invalid Age as stale', async () => {
    assert.equal((await get('/error')).status, 500);
    assert.equal((await get('/error')).status, 500);
    assert.equal(counts.get('/error'), 1);
    await get('/bad-age');
    await get('/bad-age');
    assert.equal(counts.get('/bad-age'), 2, 'Age: "10, 10" is not one integer: stale');
  });

  it('invalidates after any unsafe method, and the same-host URIs in Location and Content-Location', async () => {
    for (const p of ['/made', '/made-too', '/thing']) await get(p);
    version = 2;
    // An unknown method counts as unsafe (RFC 9111 §4.4).
    const search = await fetchText(`${edge.origin}/site/thing`, { method: 'M-SEARCH' });
    assert.equal(search.status, 200);
    await eventually(async () => assert.equal((await get('/thing')).body, '/thing v2'));
    const created = await fetchText(`${edge.origin}/site/create`, { method: 'POST', body: 'x' });
    assert.equal(created.status, 201);
    await eventually(async () => assert.equal((await get('/made')).body, '/made v2'));
    assert.equal((await get('/made-too')).body, '/made-too v2');
    // Another host's URI is never touched (§4.4).
    version = 3;
    await fetchText(`${edge.origin}/site/elsewhere`, { method: 'POST', body: 'x' });
    assert.equal((await get('/made')).body, '/made v2');
  });

  it('never stores or serves from the cache a GET that carries content (cache poisoning)', async () => {
    const fat = (framing: string, body: string) =>
      rawRequest(
        edge.port,
        `GET /site/fat HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${framing}\r\n${body}`,
      );
    const poisoned = await fat('Content-Length: 4\r\n', 'evil');
    assert.match(poisoned, /content=\[evil\]/, 'the app gets the content');
    assert.match(poisoned, /cache-status: Switchyard; fwd=bypass; detail=request-content/);
    const chunked = await fat('Transfer-Encoding: chunked\r\n', '4\r\nevil\r\n0\r\n\r\n');
    assert.match(chunked, /content=\[evil\]/);
    // Over HTTP/2 a GET's content needs no length: DATA frames after an open HEADERS frame.
    const h2 = await new Promise<string>((resolve, reject) => {
      const session = http2Connect(`https://127.0.0.1:${edge.instance.sy.httpsPort!}`, {
        ca: edge.instance.control.tls!.localCa.caPem,
        servername: 'site.localhost',
      });
      session.on('error', reject);
      const stream = session.request(
        { ':path': '/fat', ':authority': 'site.localhost' },
        { endStream: false }, // Node ends a GET's stream with its HEADERS unless told
      );
      let body = '';
      stream.setEncoding('utf8').on('data', (d: string) => (body += d));
      stream.on('end', () => {
        session.close();
        resolve(body);
      });
      stream.on('error', reject);
      stream.end('evil');
    });
    assert.equal(h2, 'content=[evil]');
    const plain = await get('/fat');
    assert.equal(plain.body, 'content=[]', 'a plain GET never gets a fat GET’s answer');
    assert.match(String(plain.headers['cache-status']), /fwd=uri-miss$/, 'storable');
    assert.match(await fat('Content-Length: 5\r\n', 'other'), /content=\[other\]/);
    const again = await get('/fat');
    assert.equal(again.body, 'content=[]');
    assert.match(String(again.headers['cache-status']), /hit/);
  });

  it('passes 103 Early Hints on over HTTP/1.1 and HTTP/2, and never stores them', async () => {
    const raw = await rawRequest(
      edge.port,
      'GET /site/hints HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    assert.match(raw, /^HTTP\/1\.1 103 Early Hints\r\n/);
    assert.match(raw, /\r\nlink: <\/style\.css>; rel=preload; as=style\r\n/i);
    assert.match(raw, /HTTP\/1\.1 200 OK/);
    const port = edge.instance.sy.httpsPort!;
    const session = http2Connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    try {
      const statuses: number[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':path': '/hints', ':authority': 'site.localhost' });
        stream.on('headers', (h) => statuses.push(Number(h[':status'])));
        stream.on('response', (h) => statuses.push(Number(h[':status'])));
        stream.resume();
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      assert.deepEqual(statuses, [103, 200]);
    } finally {
      session.close();
    }
    // The stored answer has no hints of its own: a hit is a plain 200.
    const hit = await rawRequest(
      edge.port,
      'GET /site/hints HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    assert.match(hit, /^HTTP\/1\.1 200 OK/);
    assert.match(hit, /cache-status: Switchyard; hit/i);
  });
});
