/**
 * The state store contract: every implementation runs this one suite
 * (embedded-store.test.ts, redis-store.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EVENT_BACKLOG,
  type FeedEvent,
  type RecordKind,
  type StateStore,
} from '../../src/store/state-store.js';

export interface StoreHarness {
  /** The values the store's change history holds for a record, oldest first (raw storage). */
  history(store: StateStore, kind: RecordKind, key: string): Promise<unknown[]>;
  /** A fresh, empty store. */
  open(): Promise<StateStore>;
  /** A second handle on the same data (another process or instance would have one). */
  openPeer(store: StateStore): Promise<StateStore>;
  cleanup?(): Promise<void>;
}

/** Resolves with the feed events `store` delivers until `done` says it has seen enough. */
function collect(
  store: StateStore,
  done: (events: FeedEvent[]) => boolean,
  ms = 5000,
): Promise<FeedEvent[]> {
  return new Promise((resolve, reject) => {
    const events: FeedEvent[] = [];
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`feed: timed out with ${JSON.stringify(events)}`));
    }, ms);
    const stop = store.watch((e) => {
      events.push(e);
      if (done(events)) {
        clearTimeout(timer);
        stop();
        resolve(events);
      }
    });
  });
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`state store contract: ${name}`, () => {
    let store: StateStore;
    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      await store.close();
      await harness.cleanup?.();
    });

    it('creates, reads and versions records', async () => {
      const created = await store.commit([
        { kind: 'project', key: 'alpha', value: { n: 1 }, expectedVersion: 0 },
      ]);
      assert.equal(created.ok, true);
      const read = await store.get('project', 'alpha');
      assert.deepEqual(read, { kind: 'project', key: 'alpha', version: 1, value: { n: 1 } });
      const updated = await store.commit([
        { kind: 'project', key: 'alpha', value: { n: 2 }, expectedVersion: 1 },
      ]);
      assert.equal(updated.ok, true);
      assert.equal((await store.get('project', 'alpha'))?.version, 2);
      assert.equal(await store.get('project', 'nobody'), undefined);
      assert.equal(await store.get('deployment', 'alpha'), undefined, 'kinds are separate');
    });

    it('refuses a write whose expected version does not hold, applying nothing of the batch', async () => {
      const before = await store.get('project', 'alpha');
      const result = await store.commit([
        { kind: 'project', key: 'beta', value: { n: 1 }, expectedVersion: 0 },
        { kind: 'project', key: 'alpha', value: { n: 99 }, expectedVersion: 1 },
      ]);
      assert.deepEqual(result, {
        ok: false,
        conflict: { kind: 'project', key: 'alpha', version: before!.version },
      });
      assert.equal(
        await store.get('project', 'beta'),
        undefined,
        'the first write was not applied',
      );
      assert.deepEqual((await store.get('project', 'alpha'))?.value, before!.value);
      const again = await store.commit([
        { kind: 'project', key: 'alpha', value: { n: 3 }, expectedVersion: 0 },
      ]);
      assert.equal(again.ok, false, 'creating what exists is a conflict');
    });

    it('numbers changes with increasing revisions and deletes', async () => {
      const a = await store.commit([{ kind: 'domain', key: 'x.example', value: { p: 1 } }]);
      const b = await store.commit([
        { kind: 'domain', key: 'y.example', value: { p: 2 } },
        { kind: 'domain', key: 'x.example', value: null },
      ]);
      assert.ok(a.ok && b.ok);
      assert.equal(b.changes.length, 2);
      assert.ok(b.changes[0]!.revision > a.revision);
      assert.equal(b.changes[1]!.revision, b.changes[0]!.revision + 1);
      assert.equal(b.revision, b.changes[1]!.revision);
      assert.equal(b.changes[1]!.value, null);
      assert.equal(await store.get('domain', 'x.example'), undefined);
      const deleted = await store.commit([
        { kind: 'domain', key: 'y.example', value: null, expectedVersion: 1 },
      ]);
      assert.equal(deleted.ok, true);
    });

    it('lists a kind in key order, by prefix, with a cursor', async () => {
      await store.commit(
        ['p/d3', 'p/d1', 'q/d1', 'p/d2'].map((key) => ({
          kind: 'deployment' as const,
          key,
          value: { key },
        })),
      );
      const all = await store.list('deployment');
      assert.deepEqual(
        all.map((r) => r.key),
        ['p/d1', 'p/d2', 'p/d3', 'q/d1'],
      );
      const p = await store.list('deployment', { prefix: 'p/' });
      assert.deepEqual(
        p.map((r) => r.key),
        ['p/d1', 'p/d2', 'p/d3'],
      );
      const page1 = await store.list('deployment', { limit: 2 });
      const page2 = await store.list('deployment', { after: page1.at(-1)!.key, limit: 2 });
      assert.deepEqual(
        [...page1, ...page2].map((r) => r.key),
        ['p/d1', 'p/d2', 'p/d3', 'q/d1'],
      );
    });

    it('keeps values exactly as written (nesting, unicode, numbers, empty containers)', async () => {
      const value = {
        a: [1, 2.5, -3],
        b: { c: 'ünïcødé ✓', d: [], e: {} },
        f: true,
        g: null,
        h: '',
      };
      await store.commit([{ kind: 'certificate', key: 'odd', value }]);
      assert.deepEqual((await store.get('certificate', 'odd'))?.value, value);
      const snap = await store.snapshot();
      assert.deepEqual(
        snap.records.find((r) => r.kind === 'certificate' && r.key === 'odd')?.value,
        value,
      );
    });

    it('takes a snapshot of every record with its revision', async () => {
      const result = await store.commit([{ kind: 'token', key: 't1', value: { s: 1 } }]);
      assert.ok(result.ok);
      const snap = await store.snapshot();
      assert.ok(snap.revision >= result.revision);
      const keys = snap.records.map((r) => `${r.kind}:${r.key}`);
      assert.ok(keys.includes('project:alpha'));
      assert.ok(keys.includes('token:t1'));
      assert.ok(keys.includes('deployment:p/d1'));
    });

    it('appends deployment events with sequence numbers and reads them after a point', async () => {
      const first = await store.appendEvents('p', 'd1', [
        { type: 'status', data: { status: 'building' } },
        { type: 'log', data: { line: 'npm run build' } },
      ]);
      assert.deepEqual(
        first.map((e) => e.seq),
        [1, 2],
      );
      assert.ok(first.every((e) => typeof e.at === 'string'));
      await store.appendEvents('p', 'd1', [{ type: 'log', data: { line: 'done' } }]);
      const after1 = await store.readEvents('p', 'd1', 1);
      assert.deepEqual(
        after1.map((e) => [e.seq, e.type]),
        [
          [2, 'log'],
          [3, 'log'],
        ],
      );
      assert.deepEqual(after1[1]!.data, { line: 'done' });
      assert.deepEqual(await store.readEvents('p', 'other'), []);
      await store.deleteEvents('p', 'd1');
      assert.deepEqual(await store.readEvents('p', 'd1'), []);
    });

    it('keeps a bounded backlog of events', async () => {
      const lines = Array.from({ length: EVENT_BACKLOG + 50 }, (_, i) => ({
        type: 'log',
        data: { i },
      }));
      await store.appendEvents('p', 'big', lines);
      const kept = await store.readEvents('p', 'big');
      assert.equal(kept.length, EVENT_BACKLOG);
      assert.equal(kept[0]!.seq, 51);
      assert.equal(kept.at(-1)!.seq, EVENT_BACKLOG + 50);
    });

    it('delivers changes and events in revision order, to this handle and to a peer', async () => {
      const peer = await harness.openPeer(store);
      try {
        const wanted = (events: FeedEvent[]) =>
          events.filter((e) => e.type !== 'connection').length >= 3;
        const mine = collect(store, wanted);
        const theirs = collect(peer, wanted);
        await store.commit([{ kind: 'project', key: 'gamma', value: { n: 1 } }]);
        await store.appendEvents('gamma', 'd1', [{ type: 'status', data: { status: 'queued' } }]);
        await peer.commit([{ kind: 'project', key: 'gamma', value: null }]);
        for (const events of [await mine, await theirs]) {
          const seen = events.filter((e) => e.type !== 'connection');
          assert.equal(seen[0]!.type, 'change');
          assert.equal(seen[1]!.type, 'event');
          assert.equal(seen[2]!.type, 'change');
          const revisions = seen.map((e) =>
            e.type === 'change' ? e.change.revision : e.type === 'event' ? e.revision : 0,
          );
          assert.deepEqual(
            revisions,
            [...revisions].sort((a, b) => a - b),
          );
          assert.equal(revisions[1], revisions[0]! + 1);
          const last = seen[2]!;
          assert.ok(
            last.type === 'change' && last.change.value === null && last.change.key === 'gamma',
          );
          const ev = seen[1]!;
          assert.ok(
            ev.type === 'event' &&
              ev.project === 'gamma' &&
              ev.deployment === 'd1' &&
              ev.event.seq === 1,
          );
        }
      } finally {
        await peer.close();
      }
    });

    it('forgets a record’s earlier values from its history, keeping the latest and the feed', async () => {
      for (const n of [1, 2, 3]) {
        await store.commit([{ kind: 'certificate', key: 'forget.example', value: { n } }]);
      }
      await store.commit([{ kind: 'certificate', key: 'kept.example', value: { n: 1 } }]);
      await store.commit([{ kind: 'certificate', key: 'kept.example', value: { n: 2 } }]);
      assert.equal((await harness.history(store, 'certificate', 'forget.example')).length, 3);
      await store.forgetHistory('certificate', 'forget.example');
      assert.deepEqual(await harness.history(store, 'certificate', 'forget.example'), [{ n: 3 }]);
      assert.equal(
        (await harness.history(store, 'certificate', 'kept.example')).length,
        2,
        'other records keep theirs',
      );
      assert.deepEqual((await store.get('certificate', 'forget.example'))?.value, { n: 3 });
      const next = collect(store, (events) => events.some((e) => e.type === 'change'));
      await store.commit([{ kind: 'certificate', key: 'forget.example', value: { n: 4 } }]);
      assert.ok((await next).length > 0, 'the feed goes on');
    });

    it('lets one holder have a lock until it is released or expires', async () => {
      const peer = await harness.openPeer(store);
      try {
        const lock = await store.lock('cert:example.com', 10_000);
        assert.ok(lock);
        assert.equal(await peer.lock('cert:example.com', 10_000), undefined, 'held elsewhere');
        await lock.release();
        const second = await peer.lock('cert:example.com', 150);
        assert.ok(second, 'free again after release');
        assert.equal(await store.lock('cert:example.com', 10_000), undefined);
        await new Promise((r) => setTimeout(r, 300));
        const third = await store.lock('cert:example.com', 10_000);
        assert.ok(third, 'a dead holder never blocks forever: the lock expired');
        await second.release(); // too late: must not free the new holder's lock
        assert.equal(await peer.lock('cert:example.com', 10_000), undefined);
        await third.release();
      } finally {
        await peer.close();
      }
    });
  });
}
