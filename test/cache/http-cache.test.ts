import assert from 'node:assert/strict';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEdge, deployUpstream } from '../support/edge.js';
import { fetchText } from '../support/http.js';
import { startSwitchyard, upstreamProject, type TestSwitchyard } from '../support/switchyard.js';
import { closedPort, startUpstream, type TestUpstream } from '../support/upstream.js';

/** An app whose routes set caching headers; counts requests per path. */
function app(counts: Map<string, number>, state: { down: boolean; version: string }) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const send = (headers: Record<string, string>, body: string, delay = 0) =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain', ...headers });
        res.end(body);
      }, delay);
    if (state.down && path.startsWith('/sie')) {
      res.statusCode = 503;
      res.end('down');
      return;
    }
    if (path === '/fresh')
      return send({ 'cache-control': 'max-age=60', etag: '"f1"' }, `fresh ${state.version}`);
    if (path === '/slow') return send({ 'cache-control': 'max-age=60' }, 'slow', 200);
    if (path === '/vary' || path === '/vary-many') {
      return send(
        { 'cache-control': 'max-age=60', vary: 'Accept-Language' },
        `lang ${String(req.headers['accept-language'])}`,
      );
    }
    if (path === '/no-store') return send({ 'cache-control': 'no-store' }, 'no-store');
    if (path === '/private') return send({ 'cache-control': 'private, max-age=60' }, 'private');
    if (path === '/cookie')
      return send({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' }, 'cookie');
    if (path === '/heuristic')
      return send(
        { 'last-modified': new Date(Date.now() - 86_400_000).toUTCString() },
        'heuristic',
      );
    if (path === '/big')
      return send({ 'cache-control': 'max-age=60', 'content-length': '20000' }, 'x'.repeat(20_000));
    // Same size, no length announced: found out while streaming, passed through unstored.
    if (path === '/big-chunked') return send({ 'cache-control': 'max-age=60' }, 'x'.repeat(20_000));
    if (path === '/revalidate') {
      if (req.headers['if-none-match'] === '"r1"') {
        res.writeHead(304, {
          etag: '"r1"',
          'cache-control': 'max-age=0, must-revalidate',
          'x-refreshed': 'yes',
        });
        res.end();
        return;
      }
      return send(
        { 'cache-control': 'max-age=0, must-revalidate', etag: '"r1"' },
        'revalidated body',
      );
    }
    if (path === '/swr')
      return send(
        { 'cache-control': 'max-age=1, stale-while-revalidate=30' },
        `swr ${state.version}`,
      );
    if (path === '/sie')
      return send({ 'cache-control': 'max-age=1, stale-if-error=60' }, 'sie body');
    if (path === '/text') {
      return send(
        { 'cache-control': 'max-age=60', 'content-type': 'text/html; charset=utf-8', etag: '"t1"' },
        '<p>hello</p>'.repeat(200),
      );
    }
    if (path === '/png')
      return send({ 'cache-control': 'max-age=60', 'content-type': 'image/png' }, 'P'.repeat(5000));
    if (path === '/bad-cc') return send({ 'cache-control': 'max-age=abc, , =, "junk' }, 'bad cc');
    if (path === '/vary-star')
      return send({ 'cache-control': 'max-age=60', vary: '*' }, 'vary star');
    if (path === '/vary-huge') {
      const names = Array.from({ length: 40 }, (_, i) => `x-h${i}`).join(', ');
      return send({ 'cache-control': 'max-age=60', vary: names }, 'vary huge');
    }
    if (path === '/reflect') {
      return send(
        { 'cache-control': 'max-age=60' },
        `links to ${String(req.headers['x-forwarded-host'])}`,
      );
    }
    if (path === '/thing' && req.method === 'POST') return send({}, 'posted');
    if (path === '/thing') return send({ 'cache-control': 'max-age=60' }, `thing ${state.version}`);
    res.end('other');
  };
}

describe('HTTP cache (RFC 9111) in front of an upstream deployment', () => {
  const counts = new Map<string, number>();
  const state = { down: false, version: 'v1' };
  let upstream: TestUpstream;
  let sy: TestSwitchyard;
  before(async () => {
    upstream = await startUpstream(app(counts, state));
    sy = await startSwitchyard({
      cache: { maxObjectBytes: 10_000, lockTimeoutMs: 2000 },
      projects: [upstreamProject('app', [upstream.url])],
    });
  });
  after(async () => {
    await sy.close();
    await upstream.close();
  });
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetchText(`${sy.origin}/app${path}`, { headers });
  /** The raw bytes (no decoding), for compressed answers. */
  const fetchRaw = async (path: string, headers: Record<string, string>) => {
    const res = await request(`${sy.origin}/app${path}`, { headers });
    return { headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  };

  it('serves a fresh response from the cache, with Age and Cache-Status, HEAD included', async () => {
    const first = await get('/fresh');
    assert.equal(first.body, 'fresh v1');
    assert.match(String(first.headers['cache-status']), /^Switchyard; fwd=uri-miss(; stored)?$/);
    await sleep(1100);
    const second = await get('/fresh');
    assert.equal(second.body, 'fresh v1');
    assert.match(String(second.headers['cache-status']), /^Switchyard; hit; ttl=5\d$/);
    assert.ok(Number(second.headers.age) >= 1, `Age ${String(second.headers.age)}`);
    const head = await fetchText(`${sy.origin}/app/fresh`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(counts.get('/fresh'), 1, 'one request reached the app');
  });

  it('answers a client’s conditional request from the cache (304)', async () => {
    const res = await get('/fresh', { 'if-none-match': 'W/"f1"' });
    assert.equal(res.status, 304);
    assert.equal(counts.get('/fresh'), 1);
  });

  it('answers ranges from a stored full response', async () => {
    await get('/fresh'); // stored by the first test
    const part = await get('/fresh', { range: 'bytes=2-4' });
    assert.equal(part.status, 206);
    assert.equal(part.body, 'esh');
    assert.equal(part.headers['content-range'], 'bytes 2-4/8');
    const tail = await get('/fresh', { range: 'bytes=-2' });
    assert.equal(tail.body, 'v1');
    const bad = await get('/fresh', { range: 'bytes=50-60' });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */8');
    const otherVersion = await get('/fresh', { range: 'bytes=0-1', 'if-range': '"other"' });
    assert.equal(otherVersion.status, 200, 'If-Range that does not match: the whole response');
    assert.equal(counts.get('/fresh'), 1);
  });

  it('compresses stored text once and serves br or gzip by Accept-Encoding', async () => {
    const text = '<p>hello</p>'.repeat(200);
    assert.equal((await get('/text')).body, text);
    let br: Awaited<ReturnType<typeof fetchRaw>> | undefined;
    await eventually(async () => {
      br = await fetchRaw('/text', { 'accept-encoding': 'gzip, br' });
      assert.equal(br.headers['content-encoding'], 'br');
    });
    assert.equal(brotliDecompressSync(br!.body).toString(), text);
    assert.ok(br!.body.length < text.length / 5, `br ${br!.body.length} bytes`);
    assert.match(String(br!.headers.vary), /Accept-Encoding/);
    assert.equal(br!.headers.etag, '"t1-br"');
    const gz = await fetchRaw('/text', { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), text);
    const plain = await fetchRaw('/text', {});
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), text);
    assert.match(String(plain.headers.vary), /Accept-Encoding/);
    assert.equal(counts.get('/text'), 1);
    await get('/png');
    await sleep(100);
    const png = await fetchRaw('/png', { 'accept-encoding': 'br' });
    assert.equal(png.headers['content-encoding'], undefined, 'images are not compressed');
  });

  it('survives hostile or odd responses without storing them wrongly', async () => {
    for (const path of ['/bad-cc', '/vary-star', '/vary-huge']) {
      assert.equal((await get(path)).status, 200);
      assert.equal((await get(path)).status, 200);
      assert.equal(counts.get(path), 2, `${path} is not served from the cache`);
    }
  });

  it('cannot be poisoned through headers outside the key', async () => {
    // An attacker's X-Forwarded-Host is replaced (untrusted peer), so the app never sees it
    // and the stored page is the one every client should get.
    const attacker = await get('/reflect', { 'x-forwarded-host': 'evil.example' });
    assert.equal(attacker.body, `links to 127.0.0.1:${sy.port}`);
    const victim = await get('/reflect');
    assert.equal(victim.body, `links to 127.0.0.1:${sy.port}`);
    assert.match(String(victim.headers['cache-status']), /hit/);
  });

  it('keeps at most cache.maxVariantsPerUrl variants of one URL (32), dropping the oldest', async () => {
    for (let i = 0; i < 34; i++) await get('/vary-many', { 'accept-language': `l${i}` });
    assert.equal(counts.get('/vary-many'), 34);
    assert.equal((await get('/vary-many', { 'accept-language': 'l33' })).body, 'lang l33');
    assert.equal((await get('/vary-many', { 'accept-language': 'l2' })).body, 'lang l2');
    assert.equal(counts.get('/vary-many'), 34, 'the newest 32 are stored');
    await get('/vary-many', { 'accept-language': 'l0' });
    assert.equal(counts.get('/vary-many'), 35, 'the oldest was dropped');
  });

  it('keeps a separate variant per Vary header value', async () => {
    assert.equal((await get('/vary', { 'accept-language': 'fr' })).body, 'lang fr');
    assert.equal((await get('/vary', { 'accept-language': 'de' })).body, 'lang de');
    assert.equal((await get('/vary', { 'accept-language': 'fr' })).body, 'lang fr');
    assert.equal((await get('/vary', { 'accept-language': 'de' })).body, 'lang de');
    assert.equal(counts.get('/vary'), 2);
  });

  it('does not store what it must not, and says why', async () => {
    for (const [path, reason] of [
      ['/no-store', 'no-store'],
      ['/private', 'private'],
      ['/cookie', 'set-cookie'],
      ['/heuristic', 'no-explicit-freshness'],
      ['/big', 'too-large'],
    ] as const) {
      const first = await get(path);
      assert.match(String(first.headers['cache-status']), new RegExp(`detail=${reason}$`), path);
      await get(path);
      assert.equal(counts.get(path), 2, `${path} is asked every time`);
    }
    assert.equal((await get('/big')).body.length, 20_000, 'too large passes through whole');
    await get('/big-chunked');
    assert.equal((await get('/big-chunked')).body.length, 20_000);
    assert.equal(counts.get('/big-chunked'), 2, 'a body outgrowing the limit is not stored');
  });

  it('revalidates a stale response with its validator and merges the 304', async () => {
    assert.equal((await get('/revalidate')).body, 'revalidated body');
    const again = await get('/revalidate');
    assert.equal(again.body, 'revalidated body');
    assert.equal(again.headers['cache-status'], 'Switchyard; fwd=stale; fwd-status=304');
    assert.equal(again.headers['x-refreshed'], 'yes', '§4.3.4: headers updated from the 304');
    assert.equal(counts.get('/revalidate'), 2);
  });

  it('makes one upstream request for concurrent misses of one key', async () => {
    const bodies = await Promise.all(Array.from({ length: 10 }, () => get('/slow')));
    assert.ok(bodies.every((b) => b.body === 'slow'));
    assert.equal(counts.get('/slow'), 1);
  });

  it('serves stale while revalidating once in the background', async () => {
    assert.equal((await get('/swr')).body, 'swr v1');
    await sleep(1100);
    state.version = 'v2';
    const stale = await get('/swr');
    assert.equal(stale.body, 'swr v1');
    assert.match(String(stale.headers['cache-status']), /fwd=stale; detail=revalidating/);
    await sleep(100);
    assert.equal((await get('/swr')).body, 'swr v2');
    state.version = 'v1';
  });

  it('serves stale if the app fails, within stale-if-error', async () => {
    assert.equal((await get('/sie')).body, 'sie body');
    await sleep(1100);
    state.down = true;
    const res = await get('/sie');
    state.down = false;
    assert.equal(res.status, 200);
    assert.equal(res.body, 'sie body');
    assert.match(String(res.headers['cache-status']), /stale-if-error/);
  });

  it('invalidates on a successful unsafe request (§4.4)', async () => {
    assert.equal((await get('/thing')).body, 'thing v1');
    state.version = 'v2';
    assert.equal((await get('/thing')).body, 'thing v1', 'still cached');
    const posted = await fetchText(`${sy.origin}/app/thing`, { method: 'POST', body: 'x' });
    assert.equal(posted.headers['cache-status'], 'Switchyard; fwd=method');
    assert.equal((await get('/thing')).body, 'thing v2');
    state.version = 'v1';
  });
});

describe('HTTP cache and deployments', () => {
  it('never serves the previous deployment’s objects after a promote or rollback', async () => {
    const v1 = await startUpstream((_req, res) => {
      res.setHeader('cache-control', 'max-age=600');
      res.end('one');
    });
    const v2 = await startUpstream((_req, res) => {
      res.setHeader('cache-control', 'max-age=600');
      res.end('two');
    });
    const edge = await startEdge({ demo: false });
    try {
      await edge.api('POST', '/v1/projects', { slug: 'site' });
      for (const [id, u] of [
        ['d1', v1],
        ['d2', v2],
      ] as const) {
        await edge.api('POST', '/v1/projects/site/deployments', {
          id,
          status: 'ready',
          origin: { upstream: { replicas: [u.url] } },
        });
      }
      const page = () => fetchText(`${edge.origin}/site/asset.js`);
      assert.equal((await page()).body, 'one');
      assert.equal((await page()).body, 'one');
      await edge.api('POST', '/v1/projects/site/promote', { deployment: 'd2' });
      await sleep(50);
      assert.equal((await page()).body, 'two');
      await edge.api('POST', '/v1/projects/site/rollback');
      await sleep(50);
      const back = await page();
      assert.equal(back.body, 'one');
      assert.match(
        String(back.headers['cache-status']),
        /hit/,
        'the old deployment’s own objects are still valid',
      );
    } finally {
      await edge.close();
      await v1.close();
      await v2.close();
    }
  });

  it('purges by tag and by URL through the admin API', async () => {
    let n = 0;
    const tagged = await startUpstream((req, res) => {
      n++;
      res.setHeader('cache-control', 'max-age=600');
      res.setHeader('cache-tag', req.url === '/a' ? 'product-1 listing' : 'product-2');
      res.end(`${req.url} #${n}`);
    });
    const edge = await startEdge({ demo: false });
    try {
      await deployUpstream(edge, 'shop', [tagged.url]);
      const get = async (path: string) => (await fetchText(`${edge.origin}/shop${path}`)).body;
      assert.equal(await get('/a'), '/a #1');
      assert.equal(await get('/b'), '/b #2');
      assert.equal(await get('/a'), '/a #1', 'cached');
      const purged = await edge.api('POST', '/v1/cache/purge', { tag: 'listing' });
      assert.equal(purged.status, 202);
      await sleep(50);
      assert.equal(await get('/a'), '/a #3', 'purged by tag');
      assert.equal(await get('/b'), '/b #2', 'other tags stay');
      await edge.api('POST', '/v1/cache/purge', { project: 'shop', url: '/b' });
      await sleep(50);
      assert.equal(await get('/b'), '/b #4', 'purged by URL');
      assert.equal((await edge.api('POST', '/v1/cache/purge', {})).status, 400);
    } finally {
      await edge.close();
      await tagged.close();
    }
  });

  it('keeps stored responses on disk across a restart (disk tier)', async () => {
    let n = 0;
    const u = await startUpstream((_req, res) => {
      n++;
      res.setHeader('cache-control', 'max-age=600');
      res.end(`body #${n}`);
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-cache-disk-'));
    const raw = {
      dataDir,
      cache: { diskBytes: 10 * 1024 * 1024 },
      projects: [upstreamProject('app', [u.url])],
    };
    const first = await startSwitchyard(raw);
    try {
      // The same Host both times: the cache keys on the host the app sees, port included,
      // and the restarted instance listens on another free port.
      const sameHost = { headers: { host: '127.0.0.1' } };
      assert.equal((await fetchText(`${first.origin}/app/x`, sameHost)).body, 'body #1');
      await eventually(() =>
        assert.equal(
          readdirSync(join(dataDir, 'cache')).filter((f) => f.endsWith('.entry')).length,
          1,
        ),
      );
    } finally {
      await first.close();
    }
    const second = await startSwitchyard(raw);
    try {
      const again = await eventually(async () => {
        const res = await fetchText(`${second.origin}/app/x`, { headers: { host: '127.0.0.1' } });
        assert.match(String(res.headers['cache-status']), /hit/);
        return res;
      });
      assert.equal(again.body, 'body #1');
      assert.equal(n, 1, 'the app was asked once, before the restart');
    } finally {
      await second.close();
      await u.close();
    }
  });

  it('serves entries stored with Vary, and compressed copies, after a restart (disk tier)', async () => {
    let n = 0;
    const u = await startUpstream((req, res) => {
      n++;
      if (req.url === '/lang') {
        res.writeHead(200, {
          'cache-control': 'max-age=600',
          vary: 'Accept-Language',
          'content-type': 'text/plain',
        });
        res.end(`lang ${String(req.headers['accept-language'])}`);
        return;
      }
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/html' });
      res.end('<p>compress me</p>'.repeat(100));
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-cache-disk-'));
    const raw = {
      dataDir,
      cache: { diskBytes: 10 * 1024 * 1024 },
      projects: [upstreamProject('app', [u.url])],
    };
    const get = (origin: string, path: string, headers: Record<string, string>) =>
      request(`${origin}/app${path}`, { headers: { host: '127.0.0.1', ...headers } });
    const first = await startSwitchyard(raw);
    try {
      for (const lang of ['en', 'fr']) {
        const res = await get(first.origin, '/lang', { 'accept-language': lang });
        assert.equal(await res.body.text(), `lang ${lang}`);
      }
      await (await get(first.origin, '/text', {})).body.text();
      // Stored: two variants, their Vary marker, the page and its two encoded copies.
      await eventually(() =>
        assert.equal(
          readdirSync(join(dataDir, 'cache')).filter((f) => f.endsWith('.entry')).length,
          6,
        ),
      );
      // Closing waits for the background compression to list the copies in the page's entry.
    } finally {
      await first.close();
    }
    const asked = n;
    const second = await startSwitchyard(raw);
    try {
      for (const lang of ['en', 'fr']) {
        const res = await get(second.origin, '/lang', { 'accept-language': lang });
        assert.equal(await res.body.text(), `lang ${lang}`);
        assert.match(String(res.headers['cache-status']), /hit/, lang);
      }
      const br = await get(second.origin, '/text', { 'accept-encoding': 'br' });
      assert.equal(br.headers['content-encoding'], 'br');
      assert.equal(
        brotliDecompressSync(Buffer.from(await br.body.arrayBuffer())).toString(),
        '<p>compress me</p>'.repeat(100),
      );
      assert.equal(n, asked, 'nothing was asked of the app after the restart');
    } finally {
      await second.close();
      await u.close();
    }
  });

  it('keeps its bookkeeping bounded however many URLs pass (Vary, pass, pending)', async () => {
    const u = await startUpstream((req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', vary: 'Accept-Language' });
      res.end(req.url);
    });
    const sy = await startSwitchyard({
      cache: { memoryBytes: 1024 * 1024 },
      // 12,000 requests from one client in a few seconds: past the default per-client rate.
      rateLimit: { perClientIp: { requestsPerSecond: 0, burst: 1 } },
      projects: [upstreamProject('app', [u.url])],
    });
    try {
      const cache = sy.sy.cache!;
      for (let i = 0; i < 12_000; i += 200) {
        await Promise.all(
          Array.from({ length: 200 }, async (_, j) => {
            const res = await request(`${sy.origin}/app/u${i + j}`, {
              headers: { host: '127.0.0.1', 'accept-language': 'en' },
            });
            await res.body.text();
          }),
        );
      }
      assert.ok(cache.store.size <= 1024 * 1024, `store holds ${cache.store.size} bytes`);
      // Vary names of 10,000 URLs, variant lists of 2,000, and the pass/pending sets.
      assert.ok(cache.tracked <= 12_000, `${cache.tracked} keys tracked in memory`);
    } finally {
      await sy.close();
      await u.close();
    }
  });

  it('never serves a stored page to a request with Cookie or Authorization unless the response said it may be shared', async () => {
    let n = 0;
    const u = await startUpstream((req, res) => {
      n++;
      const shared = req.url === '/shared';
      res.writeHead(200, { 'cache-control': shared ? 'public, max-age=600' : 'max-age=600' });
      res.end(`#${n} for ${String(req.headers.cookie ?? req.headers.authorization ?? 'anyone')}`);
    });
    const sy = await startSwitchyard({ projects: [upstreamProject('app', [u.url])] });
    try {
      const get = async (path: string, headers: Record<string, string> = {}) =>
        (await fetchText(`${sy.origin}/app${path}`, { headers })).body;
      assert.equal(await get('/page'), '#1 for anyone');
      assert.equal(
        await get('/page', { cookie: 'sid=alice' }),
        '#2 for sid=alice',
        'not the stored page',
      );
      assert.equal(await get('/page', { authorization: 'Bearer x' }), '#3 for Bearer x');
      assert.equal(await get('/page'), '#1 for anyone', 'and nothing of theirs was stored');
      // Without a stored copy, a cookie request's page is not kept for others either.
      assert.equal(await get('/mine', { cookie: 'sid=bob' }), '#4 for sid=bob');
      assert.equal(await get('/mine'), '#5 for anyone');
      // A response that says it may be shared is shared.
      assert.equal(await get('/shared'), '#6 for anyone');
      assert.equal(await get('/shared', { cookie: 'sid=alice' }), '#6 for anyone');
    } finally {
      await sy.close();
      await u.close();
    }
  });

  it('passes a dead upstream’s error through without storing it', async () => {
    const sy = await startSwitchyard({
      projects: [upstreamProject('gone', [`http://127.0.0.1:${await closedPort()}`])],
    });
    try {
      const res = await fetchText(`${sy.origin}/gone/`);
      assert.equal(res.status, 502);
      // The failed miss must not leave its key locked: the next request does not wait.
      const started = Date.now();
      assert.equal((await fetchText(`${sy.origin}/gone/`)).status, 502);
      assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
    } finally {
      await sy.close();
    }
  });
});
