/**
 * Fleet propagation: three Switchyard processes on one redis-server; a promote through the
 * first one's admin API, timed until both others' data planes serve the new deployment.
 * Reports p50/p99 over many promotes. `npm run bench:propagation`, and part of `npm run bench`.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { freePort, start, stop, waitForPort, type Started } from './lib/processes.js';
import { BENCH_TOKEN, startWithAdmin } from './lib/switchyard.js';

const TOKEN = BENCH_TOKEN;

async function app(body: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

async function api(admin: number, method: string, path: string, body?: unknown): Promise<void> {
  const res = await request(`http://127.0.0.1:${admin}${path}`, {
    method: method as 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
}

const instance = (work: string, name: string, store: string) =>
  startWithAdmin(work, name, [`store: "${store}"`]);

/** `promotes` promotes through `a`; how long each took until every one of `others` served it. */
async function promoteRounds(
  promotes: number,
  a: { admin: number },
  others: readonly { port: number }[],
): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < promotes; i++) {
    const target = i % 2 === 0 ? 'd2' : 'd1';
    const expected = target === 'd2' ? 'two' : 'one';
    const started = performance.now();
    await api(a.admin, 'POST', '/v1/projects/shop/promote', { deployment: target });
    for (const other of others) {
      for (;;) {
        const res = await request(`http://127.0.0.1:${other.port}/shop/`);
        const body = await res.body.text();
        if (body === expected) break;
        if (performance.now() - started > 5000) throw new Error('promote did not propagate in 5 s');
      }
    }
    delays.push(performance.now() - started);
  }
  return delays;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function propagation(promotes: number): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'sy-bench-fleet-'));
  const redisPort = await freePort();
  const procs: Started[] = [];
  const apps = [await app('one'), await app('two')];
  try {
    const redis = start('redis-server', [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    procs.push(redis);
    await waitForPort(redisPort, 'redis-server', redis);
    const store = `redis://127.0.0.1:${redisPort}`;
    const a = await instance(work, 'a', store);
    procs.push(a.proc);
    const b = await instance(work, 'b', store);
    procs.push(b.proc);
    const c = await instance(work, 'c', store);
    procs.push(c.proc);
    await api(a.admin, 'POST', '/v1/projects', { slug: 'shop' });
    for (const [i, s] of apps.entries()) {
      await api(a.admin, 'POST', '/v1/projects/shop/deployments', {
        id: `d${i + 1}`,
        status: 'ready',
        origin: { upstream: { replicas: [url(s)] } },
      });
    }
    const delays = (await promoteRounds(promotes, a, [b, c])).sort((x, y) => x - y);
    return `### Fleet propagation (Redis, three instances)\n\nPromote through instance A's admin API until instances B and C both serve the new deployment, ${promotes} promotes (the time includes the admin API call and the polling requests).\n\n| p50 ms | p99 ms | max ms |\n| --- | --- | --- |\n| ${percentile(delays, 50).toFixed(1)} | ${percentile(delays, 99).toFixed(1)} | ${delays.at(-1)!.toFixed(1)} |\n`;
  } catch (err) {
    // Say which process went away and what it printed last (a full run failed once here
    // with ECONNREFUSED and no trace of why).
    const gone = procs
      .filter((p) => p.proc.exitCode !== null || p.proc.signalCode !== null)
      .map((p) => `pid ${p.pid} exited (${p.proc.exitCode ?? p.proc.signalCode}):\n${p.output()}`);
    throw new Error(`fleet propagation failed: ${String(err)}\n${gone.join('\n')}`, {
      cause: err,
    });
  } finally {
    for (const p of procs.reverse()) await stop(p);
    for (const s of apps) s.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await propagation(Number(process.argv[2] ?? 200)));
}
