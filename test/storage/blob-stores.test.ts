import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobStoreUnavailable } from '../../src/storage/blob-store.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { BlobFiles } from '../../src/storage/blob-files.js';
import { sha256 } from '../../src/storage/manifest.js';
import { S3_BUCKET, S3_KEY, startS3, type TestS3 } from '../support/s3.js';
import { blobStoreContract } from './blob-store-contract.js';

describe('blob store contract: local (the data directory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-blobs-'));
  blobStoreContract(() => new LocalBlobStore(dir));
});

describe('blob store contract: S3 (s3rver)', () => {
  let s3: TestS3;
  let store: S3BlobStore;
  before(async () => {
    s3 = await startS3();
    store = new S3BlobStore({
      endpoint: s3.endpoint,
      bucket: S3_BUCKET,
      region: 'us-east-1',
      prefix: 'edge/',
      forcePathStyle: true,
      accessKeyId: S3_KEY,
      secretAccessKey: S3_KEY,
      timeoutMs: 2000,
    });
  });
  after(async () => {
    store.close();
    await s3.close();
  });
  blobStoreContract(() => store);

  it('says the storage is unavailable, not missing, while it is down', async () => {
    await s3.stop();
    try {
      await assert.rejects(store.read('0'.repeat(64)), BlobStoreUnavailable);
      await assert.rejects(store.missing(['0'.repeat(64)]), BlobStoreUnavailable);
    } finally {
      await s3.start();
    }
  });

  it('as files: one fetch however many ask at once, bounded in bytes, never a wrong file', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-blob-files-'));
    let reads = 0;
    const read = store.read.bind(store);
    store.read = (hash) => {
      reads++;
      return read(hash);
    };
    try {
      const files = new BlobFiles(store, dataDir, 2 * 1024 * 1024);
      const bodies = [1, 2, 3].map((n) => Buffer.alloc(1024 * 1024, n));
      for (const body of bodies) await store.put(sha256(body), body);
      const [first] = await Promise.all(
        Array.from({ length: 20 }, () => files.file(sha256(bodies[0]!))),
      );
      assert.equal(reads, 1, 'twenty requests, one fetch');
      assert.deepEqual(readFileSync(first!), bodies[0]);
      await files.file(sha256(bodies[1]!));
      await files.file(sha256(bodies[2]!));
      assert.ok(files.cachedBytes <= 2 * 1024 * 1024, `${files.cachedBytes} bytes cached`);
      assert.ok(!existsSync(first!), 'the least recently used blob left the disk');
      // Bytes that do not hash to their name are never served.
      const liar = sha256(Buffer.from('what the name promises'));
      await store.put(liar, Buffer.from('something else'));
      await assert.rejects(files.file(liar), /other bytes/);
    } finally {
      store.read = read;
    }
  });

  it('refuses wrong credentials instead of calling it an outage', async () => {
    const stranger = new S3BlobStore({
      endpoint: s3.endpoint,
      bucket: S3_BUCKET,
      region: 'us-east-1',
      prefix: '',
      forcePathStyle: true,
      accessKeyId: 'NOT-A-KEY',
      secretAccessKey: 'x',
      timeoutMs: 2000,
    });
    const err = await store.read('1'.repeat(64)).catch((e: unknown) => e);
    assert.equal((err as Error).name, 'BlobMissing');
    const refused = await stranger.read('1'.repeat(64)).catch((e: unknown) => e);
    assert.ok(!(refused instanceof BlobStoreUnavailable), String(refused));
    assert.match(String(refused), /refused/);
    stranger.close();
  });
});
