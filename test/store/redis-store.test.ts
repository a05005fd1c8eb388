import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis-store.js';
import type { FeedEvent } from '../../src/store/state-store.js';
import { eventually } from '../support/eventually.js';
import { needsBinary } from '../support/binaries.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { storeContract } from './contract.js';

describe('redis store', needsBinary('redis-server'), () => {
  let redis: TestRedis;
  let n = 0;
  const prefixes = new WeakMap<object, string>();
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.close();
  });

  storeContract('redis', {
    async open() {
      const prefix = `t${n++}:`;
      const store = await RedisStore.connect({ url: redis.socket, prefix });
      prefixes.set(store, prefix);
      return store;
    },
    openPeer(store) {
      return RedisStore.connect({ url: redis.socket, prefix: prefixes.get(store)! });
    },
    async history(store, kind, key) {
      const client = new Redis({ path: redis.socket });
      try {
        const entries = await client.xrange(`${prefixes.get(store)!}changes`, '-', '+');
        return (
          entries
            .map(
              ([, fields]) =>
                JSON.parse(fields[1] ?? '{}') as { kind: string; key: string; value: unknown },
            )
            .filter((c) => c.kind === kind && c.key === key)
            // The stream keeps each value as the JSON text the record holds.
            .map((c) => (typeof c.value === 'string' ? (JSON.parse(c.value) as unknown) : c.value))
        );
      } finally {
        client.disconnect();
      }
    },
  });
});

describe('redis store: reconnects', needsBinary('redis-server'), () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.close();
  });

  /** Every feed event of `store`, as it arrives. */
  function feed(store: RedisStore) {
    const events: FeedEvent[] = [];
    store.watch((e) => events.push(e));
    return events;
  }

  it('catches up on changes made while it was away, from the change stream', async () => {
    const store = await RedisStore.connect({ url: redis.socket, prefix: 'gap:' });
    const events = feed(store);
    try {
      await redis.stop();
      await eventually(() => assert.equal(store.connected, false));
      await redis.start();
      const peer = await RedisStore.connect({ url: redis.socket, prefix: 'gap:' });
      await peer.commit([{ kind: 'project', key: 'while-away', value: { n: 1 } }]);
      await peer.close();
      await eventually(() => {
        const change = events.find((e) => e.type === 'change' && e.change.key === 'while-away');
        assert.ok(change, JSON.stringify(events));
      }, 10_000);
      assert.ok(events.some((e) => e.type === 'connection' && !e.connected));
      assert.ok(!events.some((e) => e.type === 'resync'), 'the stream still reached back');
      await eventually(() => assert.equal(store.connected, true));
    } finally {
      await store.close();
    }
  });

  it('catches up without a full resync while changes keep landing', async () => {
    // A catch-up reads the revision and the stream. A change committed between the two reads
    // must not look like a stream that no longer reaches back (which forces a full reload).
    const store = await RedisStore.connect({ url: redis.socket, prefix: 'race:' });
    const events = feed(store);
    const peer = await RedisStore.connect({ url: redis.socket, prefix: 'race:' });
    const killer = new Redis({ path: redis.socket });
    let writing = true;
    let n = 0;
    const writes = (async () => {
      while (writing) {
        await peer.commit([{ kind: 'project', key: `k${n++}`, value: { n } }]).catch(() => {});
        await new Promise((r) => setImmediate(r)); // a failing commit must not starve the timers
      }
    })();
    try {
      for (let i = 0; i < 30; i++) {
        // Every command connection dropped (each reconnects; the store then catches up).
        await killer.call('CLIENT', 'KILL', 'TYPE', 'normal');
        await new Promise((r) => setTimeout(r, 30));
      }
      writing = false;
      await writes;
      await eventually(() => assert.equal(store.connected, true));
      const resyncs = events.filter((e) => e.type === 'resync').length;
      assert.equal(resyncs, 0, `${resyncs} full resyncs over 30 reconnects`);
    } finally {
      writing = false;
      killer.disconnect();
      await peer.close();
      await store.close();
    }
  });

  it('asks for a full resync when the change stream no longer reaches back', async () => {
    const store = await RedisStore.connect({ url: redis.socket, prefix: 'trim:' });
    const events = feed(store);
    try {
      // Changed behind its back (nothing published), then the connection lost: the reconnect
      // is what looks back. (Changed after the restart instead, the store could reconnect and
      // look before the change: a race this test lost about one run in six.)
      const raw = new Redis({ path: redis.socket });
      await raw.incrby('trim:revision', 5); // five changes happened …
      await raw.del('trim:changes'); // … and their stream entries are gone
      raw.disconnect();
      await redis.stop();
      await eventually(() => assert.equal(store.connected, false));
      await redis.start();
      await eventually(
        () =>
          assert.ok(
            events.some((e) => e.type === 'resync'),
            JSON.stringify(events),
          ),
        10_000,
      );
    } finally {
      await store.close();
    }
  });
});
