/**
 * One benchmark scenario: contenders started side by side in front of one nginx upstream,
 * warmed up, then loaded with wrk in interleaved rounds; medians per contender and ratios to
 * a reference taken within each round (these machines are shared and noisy). Used by
 * `npm run bench` and `npm run bench:runtimes`.
 */
import { readFileSync } from 'node:fs';
import { treeCpuMicros } from './cpu.js';
import { freePort, start, stop, waitForPort, type Started } from './processes.js';
import { template } from './template.js';
import { wrk } from './wrk.js';

/** pinned: wrk on CPU 0, server and upstream on CPU 1; unpinned: all CPUs for all. */
export type Layout = 'pinned' | 'unpinned';

export interface Contender {
  readonly name: string;
  /** Start it; resolve with its process and the base URL to load (path prefix included). */
  start(layout: Layout, upstreamPort: number): Promise<{ proc: Started; base: string }>;
}

export const cpusFor = (layout: Layout) => (layout === 'pinned' ? '1' : undefined);
export const wrkCpus = (layout: Layout) => (layout === 'pinned' ? '0' : undefined);

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  cpuPerReq: number;
  clientCpuPerReq: number;
  errors: number;
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface ScenarioOptions {
  title: string;
  contenders: Contender[];
  /** Appended to each contender's base URL. */
  path: string;
  layout: Layout;
  /** The contender the ratios are taken against. */
  reference: string;
  /** A scratch folder, and the folder of files the upstream nginx serves. */
  work: string;
  files: string;
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** Add each contender's resident memory after the rounds (MiB, VmRSS). */
  memory?: boolean;
}

/** Resident memory of a process, MiB (Linux). */
function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** Runs one scenario; resolves with its Markdown table. */
export async function runScenario(o: ScenarioOptions): Promise<string> {
  const { title, contenders, path, layout, reference, work, files } = o;
  const upPort = await freePort();
  const upstream = start(
    'nginx',
    ['-c', template(work, 'nginx-upstream.conf', { dir: work, port: upPort, files }), '-p', work],
    {
      cpus: cpusFor(layout),
    },
  );
  await waitForPort(upPort, 'upstream nginx', upstream);
  const running: { c: Contender; proc: Started; url: string }[] = [];
  try {
    for (const c of contenders) {
      const { proc, base } = await c.start(layout, upPort);
      running.push({ c, proc, url: `${base}${path}` });
    }
    for (const r of running)
      await wrk(r.url, {
        connections: o.connections,
        seconds: o.warmupSeconds,
        cpus: wrkCpus(layout),
      });
    const samples = new Map<string, Sample[]>();
    const ratios = new Map<string, number[]>();
    for (let round = 0; round < o.rounds; round++) {
      const roundRps = new Map<string, number>();
      for (const r of running) {
        const cpuBefore = treeCpuMicros(r.proc.pid);
        const res = await wrk(r.url, {
          connections: o.connections,
          seconds: o.seconds,
          cpus: wrkCpus(layout),
        });
        const cpu = treeCpuMicros(r.proc.pid) - cpuBefore;
        const list = samples.get(r.c.name) ?? [];
        list.push({
          rps: res.rps,
          p50: res.p50Ms,
          p99: res.p99Ms,
          cpuPerReq: res.requests > 0 ? cpu / res.requests : NaN,
          clientCpuPerReq: res.requests > 0 ? res.clientCpuMicros / res.requests : NaN,
          errors: res.errors,
        });
        samples.set(r.c.name, list);
        roundRps.set(r.c.name, res.rps);
      }
      const ref = roundRps.get(reference) ?? NaN;
      for (const [name, rps] of roundRps)
        ratios.set(name, [...(ratios.get(name) ?? []), rps / ref]);
    }
    const rows = running.map(({ c, proc }) => {
      const s = samples.get(c.name)!;
      const errors = s.reduce((a, b) => a + b.errors, 0);
      const memory = o.memory === true ? ` ${rssMiB(proc.pid).toFixed(0)} |` : '';
      return `| ${c.name} | ${median(s.map((x) => x.rps)).toFixed(0)} | ${median(s.map((x) => x.p50)).toFixed(2)} | ${median(s.map((x) => x.p99)).toFixed(2)} | ${median(s.map((x) => x.cpuPerReq)).toFixed(1)} | ${median(s.map((x) => x.clientCpuPerReq)).toFixed(1)} | ${median(ratios.get(c.name)!).toFixed(2)}× | ${errors} |${memory}`;
    });
    const memoryHead = o.memory === true ? [' RSS MiB |', ' --- |'] : ['', ''];
    return `### ${title} — ${layout}\n\n| contender | req/s | p50 ms | p99 ms | µs CPU/req | wrk µs CPU/req | vs ${reference} | errors |${memoryHead[0]}\n| --- | --- | --- | --- | --- | --- | --- | --- |${memoryHead[1]}\n${rows.join('\n')}\n`;
  } finally {
    for (const r of running) await stop(r.proc);
    await stop(upstream);
  }
}
