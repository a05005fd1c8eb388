import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EmbeddedStore } from '../../src/store/embedded-store.js';
import { storeContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'sy-embedded-'));
const files = new WeakMap<object, string>();
let n = 0;

storeContract('embedded (SQLite)', {
  open() {
    const file = join(dir, `state-${n++}.db`);
    const store = new EmbeddedStore(file);
    files.set(store, file);
    return Promise.resolve(store);
  },
  openPeer(store) {
    return Promise.resolve(new EmbeddedStore(files.get(store)!));
  },
  cleanup() {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  },
});

describe('embedded store', () => {
  it('survives a restart: records, revision and events are on disk', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sy-embedded-')), 'state.db');
    const first = new EmbeddedStore(file);
    const result = await first.commit([{ kind: 'project', key: 'kept', value: { a: 1 } }]);
    await first.appendEvents('kept', 'd1', [{ type: 'log', data: { line: 'x' } }]);
    await first.close();
    const second = new EmbeddedStore(file);
    try {
      assert.deepEqual((await second.get('project', 'kept'))?.value, { a: 1 });
      assert.ok(result.ok);
      assert.ok((await second.snapshot()).revision > result.revision);
      assert.equal((await second.readEvents('kept', 'd1')).length, 1);
    } finally {
      await second.close();
    }
  });
});
