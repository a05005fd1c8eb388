/**
 * Readiness for load balancers: `/_switchyard/ready` is 503 until the instance has its route
 * table and again from SIGTERM through `shutdown.drainMs`, while requests keep being served
 * until the drain ends; `/_switchyard/health` is liveness only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { EdgeServer } from '../../src/server/edge-server.js';
import { configWithProject, spawnSwitchyard } from '../support/cli.js';
import { fetchText } from '../support/http.js';
import { startUpstream } from '../support/upstream.js';

describe('readiness', () => {
  it('is not ready before the route table is complete', async () => {
    const loaded = loadConfig({
      raw: {
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: mkdtempSync(join(tmpdir(), 'sy-ready-')),
      },
    });
    const sy = await EdgeServer.start(loaded, { logger: pino({ level: 'silent' }) });
    try {
      const starting = await fetchText(`http://127.0.0.1:${sy.port}/_switchyard/ready`);
      assert.equal(starting.status, 503);
      assert.deepEqual(JSON.parse(starting.body), { ready: false, reason: 'starting' });
      const alive = await fetchText(`http://127.0.0.1:${sy.port}/_switchyard/health`);
      assert.equal(alive.status, 200, 'alive while starting');
      sy.markReady();
      const ready = await fetchText(`http://127.0.0.1:${sy.port}/_switchyard/ready`);
      assert.equal(ready.status, 200);
      assert.deepEqual(JSON.parse(ready.body), { ready: true });
    } finally {
      await sy.close(0, 0);
    }
  });

  it('drains on SIGTERM: not ready, still serving, then gone (the built executable)', async () => {
    const app = await startUpstream((_req, res) => res.end('ok'));
    const file = configWithProject(
      ['listen: { host: 127.0.0.1 }', 'shutdown: { drainMs: 1500, graceMs: 500 }'],
      app.url,
    );
    const sy = await spawnSwitchyard(['--config', file]);
    try {
      const base = `http://127.0.0.1:${sy.port}`;
      assert.equal((await fetchText(`${base}/_switchyard/ready`)).status, 200);
      const signalled = Date.now();
      sy.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const draining = await fetchText(`${base}/_switchyard/ready`);
      assert.equal(draining.status, 503);
      assert.deepEqual(JSON.parse(draining.body), { ready: false, reason: 'draining' });
      assert.equal((await fetchText(`${base}/api/`)).body, 'ok', 'still serving while draining');
      await sy.exited;
      const lived = Date.now() - signalled;
      assert.ok(lived >= 1400, `exited ${lived} ms after SIGTERM, before the drain ended`);
    } finally {
      sy.proc.kill('SIGKILL');
      await app.close();
    }
  });
});
