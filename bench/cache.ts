/**
 * The cache side by side: hit throughput for a 1 KiB and a 100 KiB object (wrk, pinned:
 * wrk on CPU 0, cache and origin on CPU 1) and a miss storm (many clients, one cold key:
 * how many requests reach the origin) — Switchyard against nginx `proxy_cache` and Varnish,
 * and for hits the Node floors (bare-static.mjs: the bodies from a Map, as is and with the
 * header fields a Switchyard hit carries). Part of `npm run bench`; alone: `npm run bench:cache`.
 */
import { createServer } from 'node:http';
import { mkdtempSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { treeCpuMicros } from './lib/cpu.js';
import { freePort, start, stop, waitForPort, type Started } from './lib/processes.js';
import { startSwitchyard } from './lib/switchyard.js';
import { wrk } from './lib/wrk.js';
import { template as fillTemplate } from './lib/template.js';
import { HIT_FIELDS } from './lib/floor-fields.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

interface Cache {
  readonly name: string;
  readonly proc: Started;
  readonly base: string;
}

export async function cacheBench(options: {
  seconds: number;
  rounds: number;
  /** Load before the measured rounds (run.ts, WARMUP_SECONDS: steady state, not JIT warm-up). */
  warmupSeconds: number;
}): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'sy-bench-cache-'));
  chmodSync(work, 0o755);
  const template = (name: string, values: Record<string, string | number>) =>
    fillTemplate(work, name, values);

  // The origin: fixed bodies marked cacheable, and a slow route that counts its requests.
  let originHits = 0;
  const bodies: Record<string, Buffer> = {
    '/1k': Buffer.alloc(1024, 'a'),
    '/100k': Buffer.alloc(100 * 1024, 'b'),
  };
  const origin = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (path === '/storm') {
      originHits++;
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' });
        res.end('storm');
      }, 300);
      return;
    }
    const body = bodies[path] ?? Buffer.from('other');
    res.writeHead(200, {
      'cache-control': 'max-age=600',
      'content-type': 'application/octet-stream',
      'content-length': body.length,
    });
    res.end(body);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const upstream = (origin.address() as AddressInfo).port;
  const caches: Cache[] = [];
  const floors: Cache[] = [];
  try {
    const nginxPort = await freePort();
    const nginx = start(
      'nginx',
      [
        '-c',
        template('nginx-cache-bench.conf', { dir: work, port: nginxPort, upstream }),
        '-p',
        work,
      ],
      { cpus: '1' },
    );
    await waitForPort(nginxPort, 'nginx', nginx);
    caches.push({ name: 'nginx proxy_cache', proc: nginx, base: `http://127.0.0.1:${nginxPort}` });

    const varnishPort = await freePort();
    const varnish = start(
      'varnishd',
      [
        '-F',
        '-a',
        `127.0.0.1:${varnishPort}`,
        '-f',
        template('varnish.vcl', { upstream }),
        '-n',
        join(work, 'varnish'),
        '-s',
        'malloc,256m',
        '-t',
        '0',
      ],
      { cpus: '1' },
    );
    await waitForPort(varnishPort, 'varnish', varnish);
    caches.push({ name: 'Varnish', proc: varnish, base: `http://127.0.0.1:${varnishPort}` });

    const sy = await startSwitchyard({ work, slug: 'c', upstream, cpus: '1' });
    caches.push({ name: 'Switchyard', proc: sy.proc, base: sy.base });

    // The floors (hits only, not the storm): the same bodies from a Map in a bare node:http
    // server, as is and with the header fields a Switchyard hit carries.
    const floorDir = join(work, 'floor');
    mkdirSync(floorDir);
    for (const [path, body] of Object.entries(bodies)) writeFileSync(join(floorDir, path), body);
    for (const [name, fields] of [
      ['bare node (Buffers from a Map)', undefined],
      ['bare node, with a hit’s header fields', HIT_FIELDS],
    ] as const) {
      const port = await freePort();
      const args = [join(HERE, 'peers', 'bare-static.mjs'), String(port), floorDir];
      const proc = start(process.execPath, fields === undefined ? args : [...args, fields], {
        cpus: '1',
      });
      await waitForPort(port, name, proc);
      floors.push({ name, proc, base: `http://127.0.0.1:${port}` });
    }

    const sections: string[] = [];
    for (const size of ['1k', '100k'] as const) {
      const samples = new Map<string, { rps: number[]; cpu: number[] }>();
      for (const c of [...caches, ...floors])
        await wrk(`${c.base}/${size}`, {
          connections: 64,
          seconds: options.warmupSeconds,
          cpus: '0',
        }); // fill + warm
      for (let round = 0; round < options.rounds; round++) {
        for (const c of [...caches, ...floors]) {
          const before = treeCpuMicros(c.proc.pid);
          const r = await wrk(`${c.base}/${size}`, {
            connections: 64,
            seconds: options.seconds,
            cpus: '0',
          });
          const cpu = (treeCpuMicros(c.proc.pid) - before) / Math.max(r.requests, 1);
          const s = samples.get(c.name) ?? { rps: [], cpu: [] };
          s.rps.push(r.rps);
          s.cpu.push(cpu);
          samples.set(c.name, s);
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const ref = median(samples.get('nginx proxy_cache')!.rps);
      const rows = [...caches, ...floors].map((c) => {
        const s = samples.get(c.name)!;
        return `| ${c.name} | ${median(s.rps).toFixed(0)} | ${(median(s.rps) / ref).toFixed(2)}× | ${median(s.cpu).toFixed(1)} |`;
      });
      sections.push(
        `### Cache hits, ${size === '1k' ? '1 KiB' : '100 KiB'} — pinned\n\n| cache | req/s | vs nginx | µs CPU/req |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`,
      );
    }
    const storm: string[] = [];
    for (const c of caches) {
      originHits = 0;
      const key = `/storm?k=${Math.random().toString(36).slice(2)}`;
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const res = await request(`${c.base}${key}`);
          return (await res.body.text()) === 'storm';
        }),
      );
      const ms = performance.now() - started;
      storm.push(
        `| ${c.name} | ${originHits} | ${results.filter(Boolean).length}/200 | ${ms.toFixed(0)} |`,
      );
    }
    sections.push(
      `### Miss storm — 200 concurrent requests for one cold key (origin answers in 300 ms)\n\n| cache | requests reaching the origin | answered | ms for all |\n| --- | --- | --- | --- |\n${storm.join('\n')}\n`,
    );
    return sections.join('\n');
  } finally {
    for (const c of [...caches, ...floors].reverse()) await stop(c.proc);
    origin.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(
    await cacheBench({
      seconds: quick ? 2 : 5,
      rounds: quick ? 1 : 3,
      warmupSeconds: quick ? 1 : 8,
    }),
  );
}
