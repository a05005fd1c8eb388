/**
 * A started instance on its defaults (embedded store, local CA) does not load the packages
 * only other settings need: ioredis (the Redis store), acme-client with axios and node-forge
 * (the ACME issuer) and tar (the first `.tar.gz` upload). Each would be heap that every full
 * collection marks (docs/performance.md, "100 KiB through the proxy"). Checked on the real
 * executable with a module hook that records every package the process loads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnSwitchyard } from '../support/cli.js';

const HOOK = fileURLToPath(new URL('../fixtures/loaded-packages.mjs', import.meta.url));

describe('packages loaded only when used', () => {
  it('starts on its defaults without ioredis, acme-client or tar', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-loaded-'));
    const list = join(dir, 'packages');
    try {
      const sy = await spawnSwitchyard([], {
        NODE_OPTIONS: `--import ${HOOK}`,
        SY_LOADED_PACKAGES: list,
      });
      const res = await fetch(`http://127.0.0.1:${sy.port}/_switchyard/health`);
      assert.equal(res.status, 200);
      sy.proc.kill('SIGTERM');
      assert.equal(await sy.exited, 0);
      const loaded = readFileSync(list, 'utf8').split('\n');
      // The hook sees what the instance does load.
      for (const name of ['undici', 'fastify', '@peculiar/x509'])
        assert.ok(loaded.includes(name), name);
      for (const name of [
        'ioredis',
        'acme-client',
        'axios',
        'node-forge',
        'tar',
        '@aws-sdk/client-s3',
      ]) {
        assert.ok(!loaded.includes(name), `${name} was loaded`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
