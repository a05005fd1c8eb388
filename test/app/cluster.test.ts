import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fetchText } from '../support/http.js';
import { spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';

/** Pids of the workers that logged "listening", in order. */
function listeningWorkers(sy: RunningSwitchyard): number[] {
  return sy
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"msg":"listening"'))
    .map((l) => (JSON.parse(l) as { pid: number }).pid);
}

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('multi-core mode (workers)', () => {
  it('serves from several workers, replaces one that dies, and drains them all on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-cluster-'));
    const file = join(dir, 'switchyard.yaml');
    writeFileSync(
      file,
      'listen: { host: 127.0.0.1, port: 0 }\nworkers: 2\nlog: { access: false }\ndemo: true\n',
    );
    const sy = await spawnSwitchyard(['--config', file], {
      SWITCHYARD_ADMIN_TOKEN: 'cluster-test-token-0123',
    });
    try {
      assert.match(sy.stderr(), /\(2 workers\)/);
      const [first, second] = await until('two workers', () => {
        const pids = listeningWorkers(sy);
        return pids.length >= 2 ? pids : undefined;
      });
      assert.notEqual(first, sy.proc.pid, 'workers are separate processes');
      const url = `http://127.0.0.1:${sy.port}/hello/`;
      assert.equal((await fetchText(url)).status, 200);

      process.kill(first!, 'SIGKILL');
      const replacement = await until('a replacement worker', () =>
        listeningWorkers(sy).find((p) => p !== first && p !== second),
      );
      assert.ok(replacement > 0);
      assert.match(sy.stdout(), /worker died; starting another/);
      for (let i = 0; i < 10; i++) assert.equal((await fetchText(url)).status, 200);

      // One scrape of the admin API sees every worker's counters.
      const adminPort = await until('the admin API', () => {
        const line = sy
          .stdout()
          .split('\n')
          .find((l) => l.includes('"msg":"admin API listening"'));
        return line === undefined ? undefined : (JSON.parse(line) as { port: number }).port;
      });
      const metrics = await fetchText(`http://127.0.0.1:${adminPort}/metrics`, {
        headers: { authorization: 'Bearer cluster-test-token-0123' },
      });
      assert.equal(metrics.status, 200);
      const counted = /^switchyard_http_requests_total\{status_class="2xx"\} (\d+)$/m.exec(
        metrics.body,
      );
      assert.ok(counted, metrics.body.slice(0, 500));
      // The ten requests after the kill, wherever they landed (the dead worker's count is gone).
      assert.ok(Number(counted[1]) >= 10, `aggregated count ${counted[1]}`);
    } finally {
      sy.proc.kill('SIGTERM');
    }
    assert.equal(await sy.exited, 0);
    const stopped = sy
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"stopped"'));
    assert.equal(stopped.length, 3, 'both workers and the primary stopped cleanly');
  });
});
