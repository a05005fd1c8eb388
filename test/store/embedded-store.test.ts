import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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
  history(store, kind, key) {
    const db = new DatabaseSync(files.get(store)!, { readOnly: true });
    try {
      return Promise.resolve(
        db
          .prepare('SELECT value FROM changes WHERE kind = ? AND key = ? ORDER BY revision')
          .all(kind, key)
          .map((r) => JSON.parse(String(r.value)) as unknown),
      );
    } finally {
      db.close();
    }
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

describe('embedded store: a crash mid-write', () => {
  it('leaves the last committed state: no torn batch, an intact database', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sy-crash-')), 'state.db');
    const writer = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('../fixtures/crash-writer.ts', import.meta.url)),
        file,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 300)); // mid-stream of commits
    writer.kill('SIGKILL');
    await once(writer, 'exit');
    const store = new EmbeddedStore(file);
    try {
      const left = (await store.get('project', 'left'))?.value as { n: number } | undefined;
      const right = (await store.get('project', 'right'))?.value as { n: number } | undefined;
      assert.ok(left !== undefined && left.n > 1, 'some batches were committed');
      assert.equal(left.n, right?.n, 'both records of every batch, or neither');
      const check = new DatabaseSync(file, { readOnly: true });
      assert.equal(check.prepare('PRAGMA integrity_check').get()?.integrity_check, 'ok');
      check.close();
    } finally {
      await store.close();
    }
  });
});
