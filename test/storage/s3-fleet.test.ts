import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { createHash } from 'node:crypto';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { needsBinary } from '../support/binaries.js';
import { runSwitchyard } from '../support/cli.js';
import { ADMIN_TOKEN, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { sharedKeyFile } from '../support/secret-key.js';
import { tarball } from '../support/tarball.js';

/** GET a path of `site` on an instance (path routing on the platform host). */
async function get(edge: TestEdge, path: string) {
  const res = await request(`${edge.origin}/site${path}`);
  return {
    status: res.statusCode,
    body: Buffer.from(await res.body.arrayBuffer()),
    retryAfter: res.headers['retry-after'],
  };
}

describe(
  'Static deployments in object storage, served by a fleet (three instances, one Redis, one bucket)',
  needsBinary('redis-server'),
  () => {
    let redis: TestRedis;
    let s3: TestS3;
    let a: TestEdge;
    let b: TestEdge;
    let c: TestEdge;
    const build = mkdtempSync(join(tmpdir(), 'sy-build-'));
    // A site of 40 files, one of them large enough to stream from disk.
    const files: Record<string, Buffer> = { 'index.html': Buffer.from('<h1>fleet</h1>') };
    for (let i = 0; i < 38; i++)
      files[`assets/part-${i}.js`] = Buffer.from(`export const n = ${i};`);
    files['big.bin'] = Buffer.alloc(300_000, 7);
    before(async () => {
      for (const [path, body] of Object.entries(files)) {
        mkdirSync(join(build, path, '..'), { recursive: true });
        writeFileSync(join(build, path), body);
      }
      redis = await startRedis();
      s3 = await startS3();
      const shared = {
        demo: false,
        store: redis.storeUrl,
        secrets: { keyFile: sharedKeyFile() },
        https: { enabled: false },
        storage: s3.storage,
      };
      a = await startEdge(shared);
      b = await startEdge(shared);
      c = await startEdge(shared);
    });
    after(async () => {
      await Promise.all([a.close(), b.close(), c.close()]);
      await s3.close();
      await redis.close();
    });

    const deploy = (id: string) =>
      runSwitchyard(['deploy', build, '--project', 'site', '--id', id, '--prod'], {
        SWITCHYARD_ADMIN_URL: a.admin,
        SWITCHYARD_TOKEN: ADMIN_TOKEN,
      });

    it('deploys through A and is served byte for byte by B and C; nothing lands on their disks first', async () => {
      const out = await deploy('v1');
      assert.equal(out.code, 0, out.stderr + out.stdout);
      assert.match(out.stdout, /uploaded 40 of 40 files/);
      for (const edge of [b, c]) {
        await eventually(async () => assert.equal((await get(edge, '/')).status, 200), 5000);
        for (const [path, body] of Object.entries(files)) {
          const res = await get(edge, `/${path}`);
          assert.equal(res.status, 200, path);
          assert.ok(res.body.equals(body), `${path} byte for byte`);
        }
      }
      // A's data directory holds no copy of the build: it went to the bucket.
      assert.ok(!readdirSync(a.dataDir).includes('blobs'));
    });

    it('redeploys one changed file by uploading one file', async () => {
      files['index.html'] = Buffer.from('<h1>fleet, second edition</h1>');
      writeFileSync(join(build, 'index.html'), files['index.html']);
      const out = await deploy('v2');
      assert.equal(out.code, 0, out.stderr + out.stdout);
      assert.match(out.stdout, /uploaded 1 of 40 files/);
      await eventually(async () => {
        assert.equal((await get(c, '/')).body.toString(), '<h1>fleet, second edition</h1>');
      }, 5000);
    });

    it('takes a .tar.gz upload too, unpacked into blobs', async () => {
      const archive = tarball([
        { name: 'index.html', body: 'from a tarball' },
        { name: 'x/', type: '5' },
        { name: 'x/y.txt', body: 'deep' },
      ]);
      const res = await request(`${a.admin}/v1/projects/site/deployments?id=t1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/gzip' },
        body: archive,
      });
      const created = (await res.body.json()) as { origin: { manifest?: string } };
      assert.equal(res.statusCode, 201, JSON.stringify(created));
      assert.match(created.origin.manifest ?? '', /^[0-9a-f]{64}$/);
      const preview = await request(`${b.origin}/x/y.txt`, {
        headers: { host: 't1--site.localhost' },
      });
      assert.equal(preview.statusCode, 200);
      assert.equal(await preview.body.text(), 'deep');
    });

    it('keeps serving cached files while object storage is down, answers 503 for the rest, and recovers', async () => {
      // B and C have served every file of v1 and v2; nobody has asked C for t1's index.
      const t1Index = async () => {
        const res = await request(`${c.origin}/`, { headers: { host: 't1--site.localhost' } });
        return {
          status: res.statusCode,
          body: await res.body.text(),
          retryAfter: res.headers['retry-after'],
        };
      };
      await s3.stop();
      try {
        const hot = await get(b, '/big.bin');
        assert.equal(hot.status, 200);
        assert.ok(hot.body.equals(files['big.bin']!));
        assert.equal((await get(c, '/assets/part-7.js')).status, 200);
        const cold = await t1Index();
        assert.equal(cold.status, 503);
        assert.equal(cold.retryAfter, '5');
        assert.match(cold.body, /storage/);
      } finally {
        await s3.start();
      }
      await eventually(async () => {
        assert.deepEqual(await t1Index(), {
          status: 200,
          body: 'from a tarball',
          retryAfter: undefined,
        });
      }, 5000);
    });

    it('collects the blobs of a deleted project, keeping those another project shares', async () => {
      const shared = files['assets/part-0.js']!;
      const own = Buffer.from('only the other project has this');
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const upload = async (body: Buffer) => {
        const res = await request(`${a.admin}/v1/blobs/${sha(body)}`, {
          method: 'PUT',
          headers: {
            authorization: `Bearer ${ADMIN_TOKEN}`,
            'content-type': 'application/octet-stream',
          },
          body,
        });
        await res.body.text();
        assert.equal(res.statusCode, 201);
      };
      await upload(own);
      assert.equal((await a.api('POST', '/v1/projects', { slug: 'other' })).status, 201);
      const other = await a.api('POST', '/v1/projects/other/deployments', {
        id: 'o1',
        files: {
          'shared.js': { hash: sha(shared), size: shared.length },
          'own.txt': { hash: sha(own), size: own.length },
        },
      });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      assert.equal((await a.api('DELETE', '/v1/projects/site')).status, 204);
      const store = new S3BlobStore({
        endpoint: s3.endpoint,
        bucket: 'switchyard',
        region: 'us-east-1',
        prefix: '',
        forcePathStyle: true,
        accessKeyId: 'S3RVER',
        secretAccessKey: 'S3RVER',
        timeoutMs: 2000,
      });
      try {
        const patient = await b.api('POST', '/v1/storage/gc', {});
        assert.equal(patient.status, 200, JSON.stringify(patient.body));
        assert.equal(patient.body.deleted, 0, 'everything is younger than a day');
        assert.ok(patient.body.young > 0);
        const now = await b.api('POST', '/v1/storage/gc', { graceSeconds: 0 });
        assert.equal(now.status, 200, JSON.stringify(now.body));
        assert.ok(now.body.deleted >= 40, JSON.stringify(now.body));
        assert.deepEqual(await store.missing([sha(shared), sha(own), sha(files['big.bin']!)]), [
          sha(files['big.bin']!),
        ]);
        const served = await request(`${c.origin}/other/shared.js`);
        assert.equal(served.statusCode, 200);
        assert.ok(Buffer.from(await served.body.arrayBuffer()).equals(shared));
      } finally {
        store.close();
      }
    });
  },
);
