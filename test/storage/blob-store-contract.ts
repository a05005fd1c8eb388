/** One contract for every BlobStore: what the static origin and incremental deploys rely on. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { BlobMissing, type BlobStore } from '../../src/storage/blob-store.js';
import { sha256 } from '../../src/storage/manifest.js';

export function blobStoreContract(open: () => BlobStore): void {
  const a = Buffer.from('the first file\n');
  const b = Buffer.from('<h1>the second</h1>');
  const ha = sha256(a);
  const hb = sha256(b);

  it('says which blobs are missing, in the order asked', async () => {
    const store = open();
    assert.deepEqual(await store.missing([hb, ha]), [hb, ha]);
    await store.put(ha, a);
    assert.deepEqual(await store.missing([hb, ha]), [hb]);
    assert.deepEqual([...(await store.sizes([hb, ha]))], [[ha, a.length]]);
  });

  it('gives back the bytes stored, and storing again is harmless', async () => {
    const store = open();
    await store.put(hb, b);
    await store.put(hb, b);
    assert.deepEqual(await store.read(hb), b);
  });

  it('throws BlobMissing for a blob it does not have', async () => {
    await assert.rejects(open().read(sha256(Buffer.from('never stored'))), BlobMissing);
  });

  it('lists and deletes', async () => {
    const store = open();
    const listed = [];
    for await (const { hash, storedAt } of store.list()) {
      listed.push(hash);
      assert.ok(Date.now() - storedAt.getTime() < 60_000, 'stored just now');
    }
    assert.deepEqual(listed.sort(), [ha, hb].sort());
    await store.delete([ha]);
    assert.deepEqual(await store.missing([ha, hb]), [ha]);
  });
}
