import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { brotliCompressSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ADMIN_TOKEN, startEdge, type TestEdge } from '../support/edge.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('Incremental deploys through the admin API: hostile input', () => {
  let edge: TestEdge;
  const put = async (hash: string, body: Buffer | string, token = ADMIN_TOKEN) => {
    const res = await request(`${edge.admin}/v1/blobs/${hash}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  before(async () => {
    edge = await startEdge({
      demo: false,
      https: { enabled: false },
      admin: { uploadMaxBytes: 4096 },
    });
    assert.equal((await edge.api('POST', '/v1/projects', { slug: 'site' })).status, 201);
  });
  after(() => edge.close());

  it('stores a blob only under the hash of its bytes', async () => {
    const body = 'hello blob';
    const wrong = await put(sha('something else'), body);
    assert.equal(wrong.status, 400);
    assert.match(String(wrong.body.detail), /SHA-256 is [0-9a-f]{64}, not/);
    const bad = await put('not-a-hash', body);
    assert.equal(bad.status, 400);
    const upper = await put(sha(body).toUpperCase(), body);
    assert.equal(upper.status, 400);
    assert.equal((await put(sha(body), body)).status, 201);
    const missing = await edge.api('POST', '/v1/blobs/missing', {
      hashes: [sha(body), sha('other')],
    });
    assert.deepEqual(missing.body.missing, [sha('other')]);
  });

  it('refuses a blob larger than admin.uploadMaxBytes, said or sent', async () => {
    const big = Buffer.alloc(5000, 1);
    const res = await put(sha(big), big);
    assert.equal(res.status, 413);
    const many = await edge.api('POST', '/v1/blobs/missing', {
      hashes: Array.from({ length: 10_001 }, () => sha('x')),
    });
    assert.equal(many.status, 400, 'the schema caps a question at 10,000 hashes');
  });

  it('refuses manifests with paths out of the deployment, bad hashes, or blobs not stored', async () => {
    const stored = sha('hello blob');
    const deploy = (files: Record<string, unknown>) =>
      edge.api('POST', '/v1/projects/site/deployments', { files });
    for (const path of ['../etc/passwd', '/abs', 'a//b', 'a/./b', 'a\\b', '']) {
      const res = await deploy({ [path]: { hash: stored, size: 10 } });
      assert.equal(res.status, 400, `path ${JSON.stringify(path)}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await deploy({ 'a.txt': { hash: 'abc', size: 1 } })).status, 400);
    assert.equal((await deploy({})).status, 400, 'an empty manifest');
    const lying = await deploy({ 'a.txt': { hash: stored, size: 3 } });
    assert.equal(lying.status, 400, 'a size the stored blob does not have');
    assert.match(lying.body.detail, /the stored blob has 10 bytes/);
    const absent = await deploy({ 'a.txt': { hash: sha('never uploaded'), size: 3 } });
    assert.equal(absent.status, 409);
    assert.match(absent.body.detail, /upload them first/);
    const ok = await deploy({ 'index.html': { hash: stored, size: 10 } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const served = await request(`${edge.origin}/`, {
      headers: { host: `${ok.body.id}--site.localhost` },
    });
    assert.equal(served.statusCode, 200);
    assert.equal(await served.body.text(), 'hello blob');
    assert.match(String(served.headers.etag), /^"[0-9a-f]{32}"$/, 'the blob hash is the ETag');
  });

  it('needs a deploy token; a read token may not upload', async () => {
    const created = await edge.api('POST', '/v1/tokens', { name: 'reader', scope: 'read' });
    assert.equal((await put(sha('r'), 'r', created.body.token)).status, 403);
    assert.equal((await put(sha('r'), 'r', 'nonsense')).status, 401);
  });

  it('serves a manifest deployment as a directory is served: ranges, precompressed files, 304, 308', async () => {
    const js = Buffer.from('console.log("a blob of javascript, long enough to compress");');
    const br = brotliCompressSync(js);
    const page = Buffer.from('<h1>docs</h1>');
    for (const body of [js, br, page]) assert.equal((await put(sha(body), body)).status, 201);
    const created = await edge.api('POST', '/v1/projects/site/deployments', {
      id: 'm2',
      files: {
        'app.js': { hash: sha(js), size: js.length },
        'app.js.br': { hash: sha(br), size: br.length },
        'docs/index.html': { hash: sha(page), size: page.length },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const host = 'm2--site.localhost';
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await request(`${edge.origin}${path}`, { headers: { host, ...headers } });
      return {
        status: res.statusCode,
        headers: res.headers,
        body: Buffer.from(await res.body.arrayBuffer()),
      };
    };
    const compressed = await get('/app.js', { 'accept-encoding': 'br, gzip' });
    assert.equal(compressed.status, 200);
    assert.equal(compressed.headers['content-encoding'], 'br');
    assert.equal(compressed.headers.vary, 'Accept-Encoding');
    assert.ok(compressed.body.equals(br));
    const plain = await get('/app.js');
    assert.ok(plain.body.equals(js));
    const range = await get('/app.js', { range: 'bytes=0-6' });
    assert.equal(range.status, 206);
    assert.equal(range.headers['content-range'], `bytes 0-6/${js.length}`);
    assert.equal(range.body.toString(), 'console');
    const again = await get('/app.js', { 'if-none-match': String(plain.headers.etag) });
    assert.equal(again.status, 304);
    const dir = await get('/docs');
    assert.equal(dir.status, 308);
    assert.equal(dir.headers.location, '/docs/');
    assert.ok((await get('/docs/')).body.equals(page));
    assert.equal((await get('/nope.txt')).status, 404);
  });
});
