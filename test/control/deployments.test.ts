/**
 * Control-plane rules for deployments against a real embedded store: a status report and
 * the promotion it causes land together, whatever fails after them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { ControlPlane } from '../../src/control/control-plane.js';
import { AddressPolicy } from '../../src/net/address-policy.js';
import { Sealer } from '../../src/secrets/sealer.js';
import { randomBytes } from 'node:crypto';
import { EmbeddedStore } from '../../src/store/embedded-store.js';
import { StoreMirror } from '../../src/store/store-mirror.js';
import { StoreUnavailableError, type StateStore } from '../../src/store/state-store.js';

/** The real store, with its next `appendEvents` failing as if the store went away. */
function flaky(store: StateStore): { store: StateStore; failNextEvent: () => void } {
  let fail = false;
  const appendEvents: StateStore['appendEvents'] = (...args) => {
    if (fail) {
      fail = false;
      return Promise.reject(new StoreUnavailableError('the store went away'));
    }
    return store.appendEvents(...args);
  };
  const wrapped = new Proxy(store, {
    get(target, name) {
      if (name === 'appendEvents') return appendEvents;
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, failNextEvent: () => (fail = true) };
}

describe('deployment status', () => {
  it('promotes the first ready deployment even when the status event fails and the report is retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-control-'));
    const real = new EmbeddedStore(join(dir, 'state.db'));
    const faults = flaky(real);
    const store = faults.store;
    const mirror = await StoreMirror.open(real, pino({ level: 'silent' }), {});
    const control = new ControlPlane({
      store,
      mirror,
      adminSecret: undefined,
      blobs: new LocalBlobStore(dir),
      dataDir: dir,
      uploads: { maxBytes: 1, maxUnpackedBytes: 1, maxEntries: 1 },
      addressPolicy: new AddressPolicy({ allowedNetworks: [], deniedNetworks: [], self: () => [] }),
      sealer: new Sealer(randomBytes(32)),
    });
    try {
      await control.projects.create({ slug: 'app' });
      await control.deployments.create('app', { id: 'b1', status: 'building' });
      const origin = { kind: 'upstream' as const, replicas: ['http://10.1.2.3:8080'] };
      faults.failNextEvent();
      await assert.rejects(
        control.deployments.setStatus('app', 'b1', { status: 'ready', origin }),
        (err: { code?: string }) => err.code === 'SY_STORE_UNAVAILABLE',
      );
      // The build server retries its report.
      const again = await control.deployments.setStatus('app', 'b1', { status: 'ready', origin });
      assert.equal(again.status, 'ready');
      assert.equal((await control.projects.get('app')).production, 'b1');
      const events = await control.deployments.events('app', 'b1');
      assert.deepEqual(
        events.filter((e) => e.type === 'status').map((e) => (e.data as { status: string }).status),
        ['building', 'ready'],
        'the missed event is told on the retry, once',
      );
    } finally {
      mirror.close();
      await real.close();
    }
  });
});
