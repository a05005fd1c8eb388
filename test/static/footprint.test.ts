/**
 * What a routed deployment costs before its first request. Every deployment of
 * every project gets its origin when the route table is built, so a platform with thousands
 * of static deployments (production, previews, old builds kept for rollback) pays this for
 * each: it must be a few KiB, not a preallocated cache. The lookup caches once took 125 KiB
 * per origin (lru-cache preallocates `max` slots), 1.2 GB for 10,000 deployments.
 * Caches outside the data plane are held to the same rule (`Blobs` kept 200,000 slots).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Blobs } from '../../src/control/blobs.js';
import type { Deployments } from '../../src/control/deployments.js';
import { StaticOrigin } from '../../src/static/static-origin.js';
import type { BlobStore } from '../../src/storage/blob-store.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and typed-array memory (bytes) that `make()` keeps, per object made. */
function bytesEach(n: number, make: (i: number) => unknown): number {
  const kept: unknown[] = [];
  gc();
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < n; i++) kept.push(make(i));
  gc();
  gc();
  const after = process.memoryUsage();
  assert.equal(kept.length, n);
  return (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / n;
}

describe('memory per routed deployment', () => {
  it('a static origin costs a few KiB until it holds lookups', () => {
    const each = bytesEach(2000, (i) => {
      const spec = { kind: 'static', dir: `/srv/builds/d${i}`, spa: false, cleanUrls: true };
      return new StaticOrigin({ ...spec, immutable: i % 2 === 0 } as never);
    });
    assert.ok(each < 4096, `${Math.round(each)} bytes per static origin`);
  });

  it('the blob registry keeps no preallocated table', () => {
    const store = {} as BlobStore;
    const each = bytesEach(20, () => new Blobs(store, {} as Deployments, {} as never));
    assert.ok(each < 64 * 1024, `${Math.round(each)} bytes per blob registry`);
  });
});
