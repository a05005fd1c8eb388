import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { ADMIN_TOKEN, startEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { closedPort, startUpstream } from '../support/upstream.js';

/** An app on a fixed port that can be killed (connections cut) and started again. */
async function killableApp(name: string, port?: number) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let served = 0;
  const start = async (p: number) => {
    server = createServer((_req, res) => {
      served++;
      setTimeout(() => res.end(name), 2); // a little work, so requests are in flight when killed
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    server.listen(p, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const bound = await start(port ?? 0);
  return {
    url: `http://127.0.0.1:${bound}`,
    served: () => served,
    kill() {
      for (const s of sockets) s.destroy();
      server?.close();
    },
    restart: () => start(bound),
    close() {
      for (const s of sockets) s.destroy();
      server?.close();
    },
  };
}

const upstreamOf = (replicas: string[], extra: Record<string, unknown> = {}) => ({
  demo: false,
  projects: [{ slug: 'app', deployments: [{ id: 'd1', upstream: { replicas, ...extra } }] }],
});

describe('upstream health, ejection, retries and limits', () => {
  it('survives a replica killed under steady GET load, ejects it, and readmits it with a ramp', async () => {
    const apps = [await killableApp('a'), await killableApp('b'), await killableApp('c')];
    const edge = await startEdge({
      ...upstreamOf(apps.map((a) => a.url)),
      upstream: { health: { ejectAfter: 2, ejectBaseMs: 800, slowStartMs: 1500 } },
    });
    const agent = new Agent({ connections: 16 });
    const failures: string[] = [];
    let ok = 0;
    let running = true;
    const load = async () => {
      while (running) {
        try {
          const res = await request(`${edge.origin}/app/`, { dispatcher: agent });
          const body = await res.body.text();
          if (res.statusCode === 200) ok++;
          else failures.push(`${res.statusCode} ${body.slice(0, 120)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const workers = Array.from({ length: 12 }, load);
    try {
      await sleep(300);
      apps[1]!.kill();
      const replicas = async () =>
        (await edge.api('GET', '/v1/projects/app/deployments/d1/replicas')).body.items as {
          url: string;
          state: string;
          effectiveWeight: number;
          weight: number;
        }[];
      await eventually(async () => assert.equal((await replicas())[1]!.state, 'ejected'));
      const metrics = await fetchText(`${edge.admin}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.match(
        metrics.body,
        new RegExp(
          `^switchyard_upstream_replica_up\\{project="app",deployment="d1",replica="${apps[1]!.url}"\\} 0$`,
          'm',
        ),
      );
      assert.match(
        metrics.body,
        /^switchyard_upstream_replica_events_total\{event="ejected"\} [1-9]/m,
      );
      await sleep(300);
      await apps[1]!.restart();
      const servedBefore = apps[1]!.served();
      await eventually(async () => {
        const b = (await replicas())[1]!;
        assert.equal(b.state, 'healthy');
        assert.ok(b.effectiveWeight < b.weight, `ramping: ${b.effectiveWeight}`);
      }, 3000);
      await eventually(
        () =>
          assert.ok(apps[1]!.served() > servedBefore, 'the readmitted replica takes traffic again'),
        3000,
      );
    } finally {
      running = false;
      await Promise.all(workers);
      await agent.close();
      await edge.close();
      for (const a of apps) a.close();
    }
    assert.deepEqual(failures, [], 'no client-visible error');
    assert.ok(ok > 200, `${ok} requests served`);
  });

  it('times out a replica that hangs, ejects it, and then serves from the others', async () => {
    const hung = createServer(() => {}); // accepts, never answers
    hung.listen(0, '127.0.0.1');
    await once(hung, 'listening');
    const good = await startUpstream((_req, res) => res.end('good'));
    const edge = await startEdge({
      ...upstreamOf([`http://127.0.0.1:${(hung.address() as AddressInfo).port}`, good.url]),
      upstream: {
        headersTimeoutMs: 200,
        health: { ejectAfter: 2, ejectBaseMs: 60_000, panicPercent: 0 },
      },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await fetchText(`${edge.origin}/app/`)).status);
      assert.ok(statuses.filter((s) => s === 504).length <= 2, statuses.join());
      for (let i = 0; i < 10; i++)
        assert.equal((await fetchText(`${edge.origin}/app/`)).body, 'good');
    } finally {
      await edge.close();
      hung.closeAllConnections();
      hung.close();
      await good.close();
    }
  });

  it('ejects a replica that answers 503 (outlier detection)', async () => {
    const sick = await startUpstream((_req, res) => {
      res.statusCode = 503;
      res.end('sick');
    });
    const good = await startUpstream((_req, res) => res.end('good'));
    const edge = await startEdge({
      ...upstreamOf([sick.url, good.url]),
      upstream: { health: { ejectAfter: 3, ejectBaseMs: 60_000, panicPercent: 0 } },
    });
    try {
      const bodies: string[] = [];
      for (let i = 0; i < 20; i++) bodies.push((await fetchText(`${edge.origin}/app/`)).body);
      assert.equal(bodies.filter((b) => b === 'sick').length, 3, bodies.join());
      assert.deepEqual(bodies.slice(-10), new Array<string>(10).fill('good'));
    } finally {
      await edge.close();
      await sick.close();
      await good.close();
    }
  });

  it('answers at once with a clear 502 when every replica is down', async () => {
    const edge = await startEdge(
      upstreamOf([
        `http://127.0.0.1:${await closedPort()}`,
        `http://127.0.0.1:${await closedPort()}`,
      ]),
    );
    try {
      const started = Date.now();
      const res = await fetchText(`${edge.origin}/app/`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(res.status, 502);
      assert.equal(JSON.parse(res.body).code, 'SY_UPSTREAM_UNREACHABLE');
      assert.ok(Date.now() - started < 1000);
    } finally {
      await edge.close();
    }
  });

  it('takes a replica out after failing active checks and back after passing ones', async () => {
    let healthy = true;
    const flaky = await startUpstream((req, res) => {
      if (req.url === '/healthz') res.statusCode = healthy ? 200 : 500;
      res.end(req.url === '/healthz' ? 'check' : 'flaky');
    });
    const steady = await startUpstream((req, res) =>
      res.end(req.url === '/healthz' ? 'check' : 'steady'),
    );
    const edge = await startEdge({
      ...upstreamOf([flaky.url, steady.url], { healthCheckPath: '/healthz' }),
      upstream: {
        health: {
          checkIntervalMs: 30,
          unhealthyAfter: 2,
          healthyAfter: 2,
          slowStartMs: 0,
          panicPercent: 0,
        },
      },
    });
    const state = async () =>
      (await edge.api('GET', '/v1/projects/app/deployments/d1/replicas')).body.items[0]
        .state as string;
    try {
      healthy = false;
      await eventually(async () => assert.equal(await state(), 'unhealthy'));
      for (let i = 0; i < 6; i++)
        assert.equal((await fetchText(`${edge.origin}/app/`)).body, 'steady');
      healthy = true;
      await eventually(async () => assert.equal(await state(), 'healthy'));
      const bodies = new Set<string>();
      for (let i = 0; i < 6; i++) bodies.add((await fetchText(`${edge.origin}/app/`)).body);
      assert.ok(bodies.has('flaky'));
    } finally {
      await edge.close();
      await flaky.close();
      await steady.close();
    }
  });

  it('limits requests per replica with a bounded queue, answering 503 and Retry-After beyond it', async () => {
    const slow = await startUpstream((_req, res) => setTimeout(() => res.end('done'), 300));
    const edge = await startEdge({
      ...upstreamOf([slow.url]),
      upstream: { maxConcurrentPerReplica: 1, queueSize: 1 },
    });
    try {
      const started = Date.now();
      const results = await Promise.all(
        // Distinct URLs: the cache would otherwise coalesce these misses into one.
        Array.from({ length: 4 }, (_, i) => fetchText(`${edge.origin}/app/?i=${i}`)),
      );
      const busy = results.filter((r) => r.status === 503);
      assert.equal(busy.length, 2, results.map((r) => r.status).join());
      for (const r of busy) assert.equal(r.headers['retry-after'], '1');
      assert.equal(results.filter((r) => r.body === 'done').length, 2, 'one in flight, one queued');
      assert.ok(Date.now() - started < 1500);
    } finally {
      await edge.close();
      await slow.close();
    }
  });
});
