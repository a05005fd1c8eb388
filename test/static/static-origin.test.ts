import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { fetchText } from '../support/http.js';
import { startSwitchyard, staticProject, type TestSwitchyard } from '../support/switchyard.js';

function buildSite(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-static-'));
  const put = (name: string, body: string | Buffer) => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  };
  put('index.html', '<h1>home</h1>');
  put('about.html', '<h1>about</h1>');
  put('docs/index.html', '<h1>docs</h1>');
  put('404.html', '<h1>custom 404</h1>');
  const js = 'console.log("app");'.repeat(50);
  put('assets/app-4f9a1c2b.js', js);
  put('assets/app-4f9a1c2b.js.br', brotliCompressSync(js));
  put('assets/app-4f9a1c2b.js.gz', gzipSync(js));
  put('data.json', '{"a":1}');
  put('digits.txt', '0123456789');
  put('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  put('empty.txt', '');
  put('large.bin', Buffer.alloc(300 * 1024, 'L'));
  return dir;
}

describe('static origin', () => {
  let sy: TestSwitchyard;
  let spa: TestSwitchyard;
  let base: string;
  let dir: string;
  before(async () => {
    dir = buildSite();
    const outside = mkdtempSync(join(tmpdir(), 'sy-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'leak.txt'));
    sy = await startSwitchyard({ projects: [staticProject('site', dir)] });
    spa = await startSwitchyard({ projects: [staticProject('app', dir, { spa: true })] });
    base = `${sy.origin}/site`;
  });
  after(async () => {
    await sy.close();
    await spa.close();
  });

  it('serves index.html for the root and for directories', async () => {
    const root = await fetchText(`${base}/`);
    assert.equal(root.status, 200);
    assert.equal(root.body, '<h1>home</h1>');
    assert.equal(root.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal((await fetchText(`${base}/docs/`)).body, '<h1>docs</h1>');
  });

  it('redirects a directory without its slash, keeping the prefix and query (308)', async () => {
    const res = await fetchText(`${base}/docs?x=1`);
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, '/site/docs/?x=1');
  });

  it('serves clean URLs from .html files', async () => {
    const res = await fetchText(`${base}/about`);
    assert.equal(res.status, 200);
    assert.equal(res.body, '<h1>about</h1>');
  });

  it("answers a missing file with the deployment's own 404.html", async () => {
    const res = await fetchText(`${base}/nope/here`);
    assert.equal(res.status, 404);
    assert.equal(res.body, '<h1>custom 404</h1>');
  });

  it('falls back to index.html for SPA routes when enabled, only for HTML requests', async () => {
    const page = await fetchText(`${spa.origin}/app/settings/profile`, {
      headers: { accept: 'text/html' },
    });
    assert.equal(page.status, 200);
    assert.equal(page.body, '<h1>home</h1>');
    const json = await fetchText(`${spa.origin}/app/api/missing`, {
      headers: { accept: 'application/json' },
    });
    assert.equal(json.status, 404);
  });

  it('sets content types with charset for text', async () => {
    assert.equal(
      (await fetchText(`${base}/data.json`)).headers['content-type'],
      'application/json; charset=utf-8',
    );
    assert.equal((await fetchText(`${base}/image.png`)).headers['content-type'], 'image/png');
    assert.equal(
      (await fetchText(`${base}/digits.txt`)).headers['content-type'],
      'text/plain; charset=utf-8',
    );
  });

  it('marks content-hashed assets immutable and keeps HTML revalidated', async () => {
    const asset = await fetchText(`${base}/assets/app-4f9a1c2b.js`);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    const html = await fetchText(`${base}/`);
    assert.equal(html.headers['cache-control'], 'public, max-age=0, must-revalidate');
  });

  it('answers If-None-Match and If-Modified-Since with 304', async () => {
    const first = await fetchText(`${base}/digits.txt`);
    const etag = first.headers.etag as string;
    assert.match(etag, /^"[^"]+"$/, 'a strong ETag');
    const inm = await fetchText(`${base}/digits.txt`, {
      headers: { 'if-none-match': `"other", ${etag}` },
    });
    assert.equal(inm.status, 304);
    assert.equal(inm.body, '');
    assert.equal(inm.headers.etag, etag);
    const ims = await fetchText(`${base}/digits.txt`, {
      headers: { 'if-modified-since': first.headers['last-modified'] as string },
    });
    assert.equal(ims.status, 304);
    const stale = await fetchText(`${base}/digits.txt`, {
      headers: { 'if-modified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' },
    });
    assert.equal(stale.status, 200);
    const changed = await fetchText(`${base}/digits.txt`, {
      headers: { 'if-none-match': '"nope"' },
    });
    assert.equal(changed.status, 200);
  });

  it('serves single byte ranges (206) and refuses unsatisfiable ones (416)', async () => {
    const mid = await fetchText(`${base}/digits.txt`, { headers: { range: 'bytes=2-4' } });
    assert.equal(mid.status, 206);
    assert.equal(mid.body, '234');
    assert.equal(mid.headers['content-range'], 'bytes 2-4/10');
    assert.equal(
      (await fetchText(`${base}/digits.txt`, { headers: { range: 'bytes=-3' } })).body,
      '789',
    );
    assert.equal(
      (await fetchText(`${base}/digits.txt`, { headers: { range: 'bytes=7-' } })).body,
      '789',
    );
    const bad = await fetchText(`${base}/digits.txt`, { headers: { range: 'bytes=20-30' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers['content-range'], 'bytes */10');
    const multi = await fetchText(`${base}/digits.txt`, { headers: { range: 'bytes=0-1,4-5' } });
    assert.equal(multi.status, 200, 'multiple ranges are answered with the whole file');
    const etag = (await fetchText(`${base}/digits.txt`)).headers.etag as string;
    const ifRangeOld = await fetchText(`${base}/digits.txt`, {
      headers: { range: 'bytes=0-1', 'if-range': '"old"' },
    });
    assert.equal(ifRangeOld.status, 200);
    const ifRangeOk = await fetchText(`${base}/digits.txt`, {
      headers: { range: 'bytes=0-1', 'if-range': etag },
    });
    assert.equal(ifRangeOk.status, 206);
  });

  it('answers HEAD with headers only', async () => {
    const res = await fetchText(`${base}/digits.txt`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '10');
    assert.equal(res.body, '');
  });

  it('serves an empty file', async () => {
    const res = await fetchText(`${base}/empty.txt`);
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
  });

  it('refuses other methods with 405 and Allow', async () => {
    const res = await fetchText(`${base}/digits.txt`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
  });

  it('picks precompressed siblings by Accept-Encoding, with Vary', async () => {
    const url = `${base}/assets/app-4f9a1c2b.js`;
    const br = await fetchText(url, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');
    const gz = await fetchText(url, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const preferGzip = await fetchText(url, { headers: { 'accept-encoding': 'br;q=0.5, gzip' } });
    assert.equal(preferGzip.headers['content-encoding'], 'gzip');
    const noBr = await fetchText(url, { headers: { 'accept-encoding': 'br;q=0' } });
    assert.equal(noBr.headers['content-encoding'], undefined);
    const plain = await fetchText(url);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.equal(plain.body, 'console.log("app");'.repeat(50));
    assert.notEqual(br.headers.etag, plain.headers.etag, 'each encoding has its own ETag');
  });

  it('answers a repeated GET from memory exactly as the first time (prepared answers)', async () => {
    const strip = (h: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date' && k !== 'x-request-id'));
    const cases: [string, string | undefined][] = [
      ['/assets/app-4f9a1c2b.js', 'br'],
      ['/assets/app-4f9a1c2b.js', undefined],
      ['/assets/app-4f9a1c2b.js', 'gzip'],
      ['/assets/app-4f9a1c2b.js', 'br;q=0, gzip;q=0'],
      ['/', undefined],
      ['/data.json', undefined],
      ['/image.png', 'br'],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [path, acceptEncoding] of cases) {
        const headers: Record<string, string> =
          acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
        const first = await fetchText(`${base}${path}`, { headers });
        const again = await fetchText(`${base}${path}`, { headers });
        assert.equal(again.status, 200);
        assert.deepEqual(strip(again.headers), strip(first.headers), `${path} ${acceptEncoding}`);
        assert.equal(again.body, first.body);
        assert.notEqual(again.headers['x-request-id'], first.headers['x-request-id']);
      }
    }
    // Validators, ranges and HEAD still take the full path once an answer is prepared.
    const plain = await fetchText(`${base}/digits.txt`);
    await fetchText(`${base}/digits.txt`);
    const etag = String(plain.headers.etag);
    assert.equal(
      (await fetchText(`${base}/digits.txt`, { headers: { 'if-none-match': etag } })).status,
      304,
    );
    const range = await fetchText(`${base}/digits.txt`, { headers: { range: 'bytes=2-3' } });
    assert.equal(range.status, 206);
    assert.equal(range.body, '23');
    const head = await fetchText(`${base}/digits.txt`, { method: 'HEAD' });
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], '10');
  });

  it('never follows a symbolic link out of the deployment', async () => {
    const res = await fetchText(`${base}/leak.txt`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.body, /secret/);
  });

  it('streams files too large to keep in memory, ranges included', async () => {
    const whole = await fetchText(`${base}/large.bin`);
    assert.equal(whole.status, 200);
    assert.equal(whole.body.length, 300 * 1024);
    const tail = await fetchText(`${base}/large.bin`, { headers: { range: 'bytes=-5' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.body, 'LLLLL');
  });

  it('picks up a directory edited in place within a second (files and lookups are cached)', async () => {
    writeFileSync(join(dir, 'edited.txt'), 'first');
    assert.equal((await fetchText(`${base}/edited.txt`)).body, 'first');
    assert.equal((await fetchText(`${base}/edited.txt`)).body, 'first', 'served from memory');
    assert.equal((await fetchText(`${base}/added.txt`)).status, 404);
    writeFileSync(join(dir, 'edited.txt'), 'second version');
    writeFileSync(join(dir, 'added.txt'), 'new');
    await new Promise((r) => setTimeout(r, 1100));
    const edited = await fetchText(`${base}/edited.txt`);
    assert.equal(edited.body, 'second version');
    assert.equal(edited.headers['content-length'], '14');
    assert.equal((await fetchText(`${base}/added.txt`)).body, 'new');
  });
});
