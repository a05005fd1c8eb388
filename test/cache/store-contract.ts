/** What every cache store must do; stores.test.ts runs it for memory, disk and tiered. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { CacheStore, Entry } from '../../src/cache/cache-store.js';

export function entry(body: Buffer | string, extra: Partial<Entry['meta']> = {}): Entry {
  return {
    meta: {
      status: 200,
      headers: {
        'content-type': 'text/plain',
        'cache-control': 'max-age=60',
        vary: 'accept-encoding',
      },
      requestTime: 1_000,
      responseTime: 1_005,
      project: 'p',
      deployment: 'd1',
      url: '/a',
      tags: [],
      ...extra,
    },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  };
}

export function storeContract(name: string, open: (maxBytes: number) => Promise<CacheStore>): void {
  describe(`cache store contract: ${name}`, () => {
    it('keeps entries exactly (binary bodies, metadata) and replaces them', async () => {
      const store = await open(1024 * 1024);
      const bytes = randomBytes(5000);
      assert.equal(await store.set('k1', entry(bytes, { tags: ['t1'], status: 203 })), true);
      const got = await store.get('k1');
      assert.ok(got);
      assert.deepEqual(got.body, bytes);
      assert.equal(got.meta.status, 203);
      assert.deepEqual(got.meta.tags, ['t1']);
      assert.equal(got.meta.headers['cache-control'], 'max-age=60');
      await store.set('k1', entry('second'));
      assert.equal((await store.get('k1'))?.body.toString(), 'second');
      assert.equal(await store.get('nothing'), undefined);
      await store.delete('k1');
      assert.equal(await store.get('k1'), undefined);
      assert.equal(store.size, 0);
      await store.close();
    });

    it('applies writes of one key in the order they were made, even while one is in progress', async () => {
      const store = await open(64 * 1024 * 1024);
      // The first write is large (slow to reach a disk), the second small: the second wins.
      const first = store.set('k', entry(randomBytes(8 * 1024 * 1024)));
      const second = store.set('k', entry('second'));
      assert.deepEqual(await Promise.all([first, second]), [true, true]);
      assert.equal((await store.get('k'))?.body.toString(), 'second');
      // A removal made after a write is not undone by it.
      const third = store.set('k', entry(randomBytes(8 * 1024 * 1024)));
      const removed = store.delete('k');
      await Promise.all([third, removed]);
      assert.equal(await store.get('k'), undefined);
      await store.close();
    });

    it('stays within its byte budget, evicting the least recently used first', async () => {
      const store = await open(10_000);
      await store.set('a', entry(Buffer.alloc(3000)));
      await store.set('b', entry(Buffer.alloc(3000)));
      await store.get('a'); // a is now more recent than b
      await store.set('c', entry(Buffer.alloc(3000)));
      await store.set('d', entry(Buffer.alloc(3000)));
      assert.ok(store.size <= 10_000, `${store.size} bytes`);
      assert.equal(await store.get('b'), undefined, 'b was least recently used');
      assert.ok(await store.get('d'));
      assert.equal(
        await store.set('huge', entry(Buffer.alloc(20_000))),
        false,
        'larger than the budget',
      );
      assert.equal(await store.get('huge'), undefined);
      await store.close();
    });

    it('purges by project, deployment, URL and tag', async () => {
      const store = await open(1024 * 1024);
      await store.set(
        '1',
        entry('x', { project: 'p', deployment: 'd1', url: '/a', tags: ['red'] }),
      );
      await store.set(
        '2',
        entry('x', { project: 'p', deployment: 'd2', url: '/a', tags: ['blue'] }),
      );
      await store.set(
        '3',
        entry('x', { project: 'q', deployment: 'd1', url: '/b', tags: ['red', 'blue'] }),
      );
      assert.equal(await store.purge({ tag: 'red' }), 2);
      assert.ok(await store.get('2'));
      assert.equal(await store.purge({ project: 'p', deployment: 'd2' }), 1);
      await store.set('4', entry('x', { url: '/z' }));
      assert.equal(await store.purge({ url: '/z' }), 1);
      assert.equal(store.size, 0);
      await store.close();
    });
  });
}
