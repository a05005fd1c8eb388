import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DiskStore } from '../../src/cache/disk-store.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { TieredStore } from '../../src/cache/tiered-store.js';
import { entry, storeContract } from './store-contract.js';

storeContract('memory', (maxBytes) => Promise.resolve(new MemoryStore(maxBytes)));
storeContract('disk', (maxBytes) =>
  DiskStore.open(mkdtempSync(join(tmpdir(), 'sy-cache-')), maxBytes),
);
storeContract('tiered (memory in front of disk)', async (maxBytes) => {
  const tiered = new TieredStore(
    new MemoryStore(maxBytes),
    DiskStore.open(mkdtempSync(join(tmpdir(), 'sy-cache-')), maxBytes),
    (err) => {
      throw err;
    },
  );
  await tiered.ready();
  return tiered;
});

describe('disk store', () => {
  it('behind memory, finishes the writes in progress on close, the last one kept', async () => {
    // The tiered store answers a write once memory has it; the disk write goes on behind.
    const dir = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    const tiered = new TieredStore(
      new MemoryStore(64 * 1024 * 1024),
      DiskStore.open(dir, 64 * 1024 * 1024),
      (err) => {
        throw err;
      },
    );
    await tiered.ready();
    await tiered.set('page', entry(Buffer.alloc(8 * 1024 * 1024, 'a')));
    await tiered.set('page', entry('listed again', { tags: ['encodings'] }));
    await tiered.close();
    const reopened = await DiskStore.open(dir, 64 * 1024 * 1024);
    const page = await reopened.get('page');
    assert.equal(page?.body.toString(), 'listed again');
    assert.deepEqual(page.meta.tags, ['encodings']);
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives a restart, and drops torn entries and interrupted writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    const first = await DiskStore.open(dir, 1024 * 1024);
    await first.set('kept', entry('still here'));
    await first.set('torn', entry('will be cut'));
    await first.close();
    // A crash mid-write leaves a temporary file; a damaged disk, a file cut short.
    writeFileSync(join(dir, 'abc.entry.1234.tmp'), 'partial');
    for (const f of readdirSync(dir).filter((name) => name.endsWith('.entry'))) {
      const data = readFileSync(join(dir, f));
      if (data.includes('will be cut'))
        writeFileSync(join(dir, f), data.subarray(0, data.length - 3));
    }
    const reopened = await DiskStore.open(dir, 1024 * 1024);
    assert.equal((await reopened.get('kept'))?.body.toString(), 'still here');
    assert.equal(await reopened.get('torn'), undefined, 'a torn entry is never served');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
      'interrupted writes removed',
    );
    assert.equal(
      readdirSync(dir).filter((f) => f.endsWith('.entry')).length,
      1,
      'the torn file removed',
    );
  });

  it('fails a write when the disk is gone, without throwing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cache-'));
    const store = await DiskStore.open(dir, 1024 * 1024);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(await store.set('k', entry('x')), false);
    assert.equal(await store.get('k'), undefined);
  });
});
