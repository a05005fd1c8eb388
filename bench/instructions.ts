/**
 * Instructions per request, counted by valgrind's callgrind: the same program doing the same
 * work counts the same instructions whatever else the machine does, where CPU time on these
 * shared 2-core machines moves by ±20 % from run to run. For a change on the hot path that is
 * too small to show in `npm run bench`, count before and after.
 * `npm run bench:instructions [-- --scenario=cache|static|proxy] [--requests=4000]
 * [--connections=64] [--cache-sim] [--top=N]`; writes bench/results/instructions-<scenario>.md.
 *
 * Each contender (Switchyard and the scenario's Node floors) runs under callgrind with its
 * counting off: 60,000 requests of warm-up (`h2load --h1 -c4`, a fixed number, not a time),
 * counting on, 2,000 more, then three rounds of `--requests` counted from zero and dumped.
 * Reported: the median round's instructions per request on the main thread (the event loop,
 * where a request's work is) and on all threads (V8's compiler and GC helpers too: a round
 * that is still compiling shows there). `--cache-sim` also simulates the caches (slower): the
 * first-level instruction and data cache misses per request, which CPU time feels and
 * instruction counts do not. JIT code has no symbols for valgrind; `--top=N` lists the
 * main thread's N costliest functions with JavaScript named from Node's `--perf-basic-prof`
 * map. Not a measure of time: a contender can count fewer instructions and still spend more
 * CPU (the misses say why). Needs `valgrind`, `h2load` (nghttp2-client) and, for `proxy`,
 * `nginx`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, start, stop, stopAll, waitForPort, type Started } from './lib/processes.js';
import { oneProjectArgs } from './lib/switchyard.js';
import { HIT_FIELDS, STATIC_FIELDS } from './lib/floor-fields.js';
import { template } from './lib/template.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const arg = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SCENARIO = arg('scenario') ?? 'cache';
const REQUESTS = Number(arg('requests') ?? 4000);
const CONNECTIONS = Number(arg('connections') ?? 64);
const CACHE_SIM = process.argv.includes('--cache-sim');
const TOP = Number(arg('top') ?? 0);
const WARMUP = 60_000;
const ROUNDS = 3;
if (!['cache', 'static', 'proxy'].includes(SCENARIO))
  throw new Error(`--scenario must be cache, static or proxy, not ${SCENARIO}`);

const work = mkdtempSync(join(tmpdir(), 'sy-instructions-'));
const files = join(work, 'files');
mkdirSync(files);
writeFileSync(join(files, '1k.bin'), Buffer.alloc(1024, 'a'));

interface Contender {
  readonly name: string;
  /** Node's arguments, and the path to ask for, given the port to listen on. */
  args(port: number, upstream: number): { argv: string[]; path: string };
}

function switchyard(port: number, upstream: number) {
  const argv = oneProjectArgs({
    work,
    port,
    listen: [`listen: { host: 127.0.0.1, port: ${port} }`, 'https: { enabled: false }'],
    dataDir: join(work, `data-${port}`),
    origin: SCENARIO === 'static' ? { dir: files } : { upstream },
  });
  return { argv, path: '/p0/1k.bin' };
}

const bareStatic =
  (...fields: string[]) =>
  (port: number) => ({
    argv: [join(HERE, 'peers', 'bare-static.mjs'), String(port), files, ...fields],
    path: '/1k.bin',
  });

const bareProxy =
  (...options: string[]) =>
  (port: number, upstream: number) => ({
    argv: [
      join(HERE, 'peers', 'bare-proxy.mjs'),
      String(port),
      `http://127.0.0.1:${upstream}`,
      ...options,
    ],
    path: '/1k.bin',
  });

const CONTENDERS: Record<string, Contender[]> = {
  cache: [
    { name: 'Switchyard', args: switchyard },
    { name: 'bare node (Map)', args: bareStatic() },
    { name: 'bare node, a hit’s fields', args: bareStatic(HIT_FIELDS) },
  ],
  static: [
    { name: 'Switchyard', args: switchyard },
    { name: 'bare node (Map)', args: bareStatic() },
    { name: 'bare node, Switchyard’s fields', args: bareStatic(STATIC_FIELDS) },
  ],
  proxy: [
    { name: 'Switchyard', args: switchyard },
    { name: 'bare Node proxy', args: bareProxy() },
    { name: 'bare proxy, Switchyard’s fields', args: bareProxy('--fields') },
  ],
};

function h2load(port: number, path: string, requests: number, connections: number): void {
  const out = execFileSync(
    'h2load',
    ['--h1', '-n', String(requests), '-c', String(connections), `http://127.0.0.1:${port}${path}`],
    { encoding: 'utf8', timeout: 600_000 },
  );
  const done = /(\d+) succeeded/.exec(out);
  if (done === null || Number(done[1]) !== requests)
    throw new Error(`h2load: not every request succeeded\n${out}`);
}

const control = (pid: number, ...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });

/** Each dump's counters, by thread: `<out>.<pid>.<dump>-<thread>`, "summary:" per event. */
function dumps(dir: string, pid: number): Map<number, Map<number, number[]>> {
  const out = new Map<number, Map<number, number[]>>();
  for (const file of readdirSync(dir)) {
    const m = new RegExp(`^cg\\.${pid}\\.(\\d+)-(\\d+)$`).exec(file);
    if (m === null) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    const summary = /^summary: (.*)$/m.exec(text)?.[1]?.split(' ').map(Number) ?? [];
    const dump = Number(m[1]);
    if (!out.has(dump)) out.set(dump, new Map());
    out.get(dump)!.set(Number(m[2]), summary);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Counted {
  name: string;
  main: number;
  all: number;
  /** With --cache-sim: I1, D1 read and D1 write misses per request (main thread). */
  misses: [number, number, number] | undefined;
}

async function count(c: Contender, upstream: number): Promise<Counted> {
  const port = await freePort();
  const { argv, path } = c.args(port, upstream);
  const dir = mkdtempSync(join(work, 'cg-'));
  const node = process.execPath;
  const proc: Started = start(
    'valgrind',
    [
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(dir, 'cg.%p')}`,
      ...(CACHE_SIM ? ['--cache-sim=yes'] : []),
      node,
      ...(TOP > 0 ? ['--perf-basic-prof'] : []),
      ...argv,
    ],
    // `--perf-basic-prof` also has V8 write an isolate-*-v8.log into the working directory.
    { env: { PORT: '' }, cwd: dir },
  );
  try {
    await waitForPort(port, c.name, proc);
    // One request asked without blocking this process first: for cache hits its origin runs
    // here, and h2load below holds this event loop (a miss would then never be answered).
    await (await fetch(`http://127.0.0.1:${port}${path}`)).arrayBuffer();
    h2load(port, path, WARMUP, 4);
    control(proc.pid, '-i', 'on');
    h2load(port, path, 2000, CONNECTIONS);
    for (let i = 0; i < ROUNDS; i++) {
      control(proc.pid, '-z');
      h2load(port, path, REQUESTS, CONNECTIONS);
      control(proc.pid, '-d');
    }
    const rounds = [...dumps(dir, proc.pid).entries()].sort((a, b) => a[0] - b[0]);
    const main = rounds.map(([, t]) => (t.get(1)?.[0] ?? 0) / REQUESTS);
    const all = rounds.map(
      ([, t]) => [...t.values()].reduce((a, s) => a + (s[0] ?? 0), 0) / REQUESTS,
    );
    const [dump, threads] = rounds[main.indexOf(median(main))]!;
    if (TOP > 0) printTop(c.name, join(dir, `cg.${proc.pid}.${dump}-01`), proc.pid);
    // events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
    const mid = threads.get(1)!;
    const misses: [number, number, number] | undefined = CACHE_SIM
      ? [mid[3]! / REQUESTS, mid[4]! / REQUESTS, mid[5]! / REQUESTS]
      : undefined;
    return { name: c.name, main: median(main), all: median(all), misses };
  } finally {
    await stop(proc);
  }
}

/** The main thread's costliest functions in one round, JIT code named from the perf map. */
function printTop(name: string, file: string, pid: number): void {
  const map = readFileSync(`/tmp/perf-${pid}.map`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [a, s, ...n] = l.split(' ');
      return { at: parseInt(a!, 16), size: parseInt(s!, 16), name: n.join(' ') };
    });
  const named = (addr: number) =>
    map.findLast((r) => r.at <= addr && addr < r.at + r.size)?.name ?? `0x${addr.toString(16)}`;
  const text = execFileSync('callgrind_annotate', ['--threshold=99', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const self = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (m === null || m[2]!.startsWith('PROGRAM TOTALS')) continue;
    const jit = /\?\?\?:0x([0-9a-f]+) \[\?\?\?\]/.exec(m[2]!);
    const where = jit ? named(parseInt(jit[1]!, 16)) : m[2]!.replace(/ \[.*\]$/, '').slice(0, 120);
    self.set(where, (self.get(where) ?? 0) + Number(m[1]!.replaceAll(',', '')) / REQUESTS);
  }
  console.log(`\n${name}: the ${TOP} functions with the most instructions per request`);
  for (const [where, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`${Math.round(n).toString().padStart(7)}  ${where}`);
}

async function main(): Promise<void> {
  let upstream: number;
  let stopUpstream: () => Promise<void>;
  if (SCENARIO === 'proxy') {
    upstream = await freePort();
    const conf = template(work, 'nginx-upstream.conf', { dir: work, port: upstream, files });
    const nginx = start('nginx', ['-c', conf, '-p', work]);
    await waitForPort(upstream, 'nginx upstream', nginx);
    stopUpstream = () => stop(nginx);
  } else {
    // Cache hits: an origin whose answer may be stored (asked once, then answered from memory).
    const origin = createServer((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' });
      res.end(Buffer.alloc(1024, 'a'));
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    upstream = (origin.address() as AddressInfo).port;
    stopUpstream = () => new Promise((r) => origin.close(() => r()));
  }
  const results: Counted[] = [];
  try {
    for (const c of CONTENDERS[SCENARIO]!) {
      const counted = await count(c, upstream);
      console.log(`${c.name}: ${Math.round(counted.main)} instructions per request`);
      results.push(counted);
    }
  } finally {
    await stopUpstream();
  }
  const base = results[0]!.main;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${Math.round(r.main)} | ${(r.main / base).toFixed(2)}× | ${Math.round(r.all)} |` +
      (CACHE_SIM ? ` ${r.misses!.map((m) => Math.round(m)).join(' | ')} |` : ''),
  );
  const text = [
    `${new Date().toISOString()} · Node ${process.version} · ${cpus()[0]?.model.trim()} · ${SCENARIO} 1 KiB, ` +
      `callgrind, ${WARMUP} requests of warm-up, median of ${ROUNDS} rounds of ${REQUESTS} ` +
      `(h2load --h1 -c${CONNECTIONS})`,
    '',
    `| ${SCENARIO} | instructions per request (main thread) | vs Switchyard | all threads |` +
      (CACHE_SIM ? ' I1 misses | D1 read misses | D1 write misses |' : ''),
    `| --- | ---: | ---: | ---: |${CACHE_SIM ? ' ---: | ---: | ---: |' : ''}`,
    ...rows,
    '',
  ].join('\n');
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(HERE, 'results', `instructions-${SCENARIO}.md`), text);
  console.log(`\n${text}`);
}

try {
  await main();
} finally {
  stopAll();
}
