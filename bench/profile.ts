/**
 * Where the time goes: a CPU profile of Switchyard and of the bare Node floors under the same
 * load, grouped into what runs (socket writes, Node's own JavaScript, undici, Switchyard's
 * code, V8 and native code, garbage collection), as µs of CPU per request: each group's share
 * of the busy samples times the process's CPU time from /proc.
 * `npm run bench:profile [-- --scenario=proxy|static|cache|tls|h2] [--seconds=9] [--top=N]`;
 * writes bench/results/profile-<scenario>.md. The table in docs/performance.md "Where the time
 * goes" is copied from it.
 *
 * Each contender runs pinned to CPU 1 beside the nginx upstream (wrk on CPU 0; for `h2`,
 * h2load -c16 -m10 as in `npm run bench`, a fixed number of requests), gets the bench's
 * warm-up, and is profiled only while the measured load runs: the profiler is started
 * and stopped over the inspector protocol (`--inspect` on a loopback port of its own), so
 * start-up and warm-up are not in the figures. Profiler overhead is included (figures are
 * larger than `npm run bench`'s); the proportions are what the table is for.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { freePort, start, stop, stopAll, waitForPort, type Started } from './lib/processes.js';
import { treeCpuMicros } from './lib/cpu.js';
import { oneProjectArgs, untilReady } from './lib/switchyard.js';
import { LocalCa } from '../src/tls/local-ca.js';
import { HIT_FIELDS, STATIC_FIELDS } from './lib/floor-fields.js';
import { template } from './lib/template.js';
import { h2load } from './lib/tls-load.js';
import { wrk } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const arg = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SCENARIO = arg('scenario') ?? 'proxy';
const SECONDS = Number(arg('seconds') ?? 9);
const WARMUP_SECONDS = 8;
/** `--top=N`: also print each contender's N costliest functions (self time), to dig in. */
const TOP = Number(arg('top') ?? 0);
const CONNECTIONS = 64;
/** µs between samples: V8's default; several thousand samples in 9 s, a light load to carry. */
const SAMPLING_US = 1000;

if (!['proxy', 'static', 'cache', 'tls', 'h2'].includes(SCENARIO))
  throw new Error(`--scenario must be proxy, static, cache, tls or h2, not ${SCENARIO}`);
/** Over TLS: HTTPS keep-alive with wrk (`tls`), HTTP/2 with h2load (`h2`). */
const OVER_TLS = SCENARIO === 'tls' || SCENARIO === 'h2';
/** h2load's requests: about as many as wrk sends in the warm-up and the profiled seconds. */
const H2_WARMUP = 60_000;
const H2_REQUESTS = 80_000;

const work = mkdtempSync(join(tmpdir(), 'sy-profile-'));
const files = join(work, 'files');
mkdirSync(files);
writeFileSync(join(files, '1k.bin'), Buffer.alloc(1024, 'a'));
// HTTPS (`tls`, `h2`): one local CA; the floor gets a leaf from it, Switchyard issues its
// own from the same CA (ECDSA P-256 both), as in `npm run bench`.
const tlsDir = join(work, 'tls');
if (OVER_TLS) {
  const leaf = await (await LocalCa.open(tlsDir)).issue(['localhost']);
  writeFileSync(join(tlsDir, 'leaf.pem'), leaf.certPem);
  writeFileSync(join(tlsDir, 'leaf-key.pem'), leaf.keyPem);
}

interface Contender {
  readonly name: string;
  /** Node arguments after `--inspect`, and the URL to load once it listens on `port`. */
  args(port: number, upstream: number): { argv: string[]; url: string };
}

function switchyardArgs(port: number, upstream: number): { argv: string[]; url: string } {
  const dataDir = join(work, `data-${port}`);
  // Over TLS the plain listener gets a port of its own, and the load goes to `port`.
  const listen = OVER_TLS
    ? [`listen: { host: 127.0.0.1, port: 0 }`, `https: { host: 127.0.0.1, port: ${port} }`]
    : [`listen: { host: 127.0.0.1, port: ${port} }`, 'https: { enabled: false }'];
  if (OVER_TLS) {
    mkdirSync(dataDir);
    for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(tlsDir, f), join(dataDir, f));
  }
  const argv = oneProjectArgs({
    work,
    port,
    listen,
    dataDir,
    origin: SCENARIO === 'static' ? { dir: files } : { upstream },
    admin: 'admin: { port: 0 }',
  });
  return {
    argv,
    url: `${OVER_TLS ? 'https://localhost' : 'http://127.0.0.1'}:${port}/p0/1k.bin`,
  };
}

const peer =
  (script: string, ...options: string[]) =>
  (port: number, upstream: number) => ({
    argv: [join(HERE, 'peers', script), String(port), `http://127.0.0.1:${upstream}`, ...options],
    url: `http://127.0.0.1:${port}/1k.bin`,
  });

const CONTENDERS: Record<string, Contender[]> = {
  proxy: [
    { name: 'Switchyard', args: switchyardArgs },
    { name: 'bare Node proxy', args: peer('bare-proxy.mjs') },
    { name: 'bare proxy, Switchyard’s fields', args: peer('bare-proxy.mjs', '--fields') },
  ],
  static: [
    { name: 'Switchyard', args: switchyardArgs },
    { name: 'bare node (Map)', args: bareStatic() },
    { name: 'bare node, Switchyard’s fields', args: bareStatic(STATIC_FIELDS) },
  ],
  tls: [
    { name: 'Switchyard', args: switchyardArgs },
    { name: 'bare node:https proxy', args: bareTls },
  ],
  h2: [
    { name: 'Switchyard', args: switchyardArgs },
    { name: 'bare node:http2 `stream` proxy', args: bareTls },
  ],
  cache: [
    { name: 'Switchyard', args: switchyardArgs },
    { name: 'bare node (Map)', args: bareStatic() },
    { name: 'bare node, a hit’s fields', args: bareStatic(HIT_FIELDS) },
  ],
};

/** The HTTPS and HTTP/2 floor (peers/bare-tls-proxy.mjs): node:https, node:http2 streams. */
function bareTls(port: number, upstream: number) {
  return {
    argv: [
      join(HERE, 'peers', 'bare-tls-proxy.mjs'),
      String(port),
      `http://127.0.0.1:${upstream}`,
      join(tlsDir, 'leaf.pem'),
      join(tlsDir, 'leaf-key.pem'),
    ],
    url: `https://localhost:${port}/1k.bin`,
  };
}

function bareStatic(...fields: string[]) {
  return (port: number) => ({
    argv: [join(HERE, 'peers', 'bare-static.mjs'), String(port), files, ...fields],
    url: `http://127.0.0.1:${port}/1k.bin`,
  });
}

/** The inspector's WebSocket address, from the "Debugger listening on ws://…" line. */
async function inspectorUrl(proc: Started): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(proc.output());
    if (m) return m[1]!;
    await sleep(50);
  }
  throw new Error(`no inspector address: ${proc.output()}`);
}

/** One inspector session: send a method, resolve with its result. */
async function inspector(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const waiting = new Map<number, { resolve(r: unknown): void; reject(e: Error): void }>();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: unknown };
    const call = msg.id === undefined ? undefined : waiting.get(msg.id);
    if (call === undefined) return; // an event, not an answer
    waiting.delete(msg.id!);
    if (msg.error !== undefined) call.reject(new Error(JSON.stringify(msg.error)));
    else call.resolve(msg.result);
  };
  return {
    send(method: string, params: object = {}): Promise<unknown> {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
    },
    close: () => ws.close(),
  };
}

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface Profile {
  nodes: { id: number; callFrame: Frame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

const ROWS = [
  'socket writes (`writev`, `write`)',
  'Node’s HTTP server, streams, timers (JavaScript)',
  'undici',
  'the server’s own code',
  'other libraries',
  'V8 and native code outside JavaScript',
  'garbage collection',
] as const;
type Row = (typeof ROWS)[number];

const WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String']);

/** What a sample's innermost frame belongs to. */
function rowOf(frame: Frame): Row | 'idle' {
  const { functionName: name, url } = frame;
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'garbage collection';
  if (url === '') return WRITES.has(name) ? ROWS[0] : ROWS[5];
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.includes('/node_modules/')) return 'other libraries';
  if (url.startsWith('node:')) return ROWS[1];
  return 'the server’s own code'; // dist/ (Switchyard) or bench/peers/ (a floor's script)
}

/** Each busy sample's innermost frame and the time it stands for (idle samples left out). */
function* busySamples(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = byId.get(profile.samples[i]!)!;
    const row = rowOf(frame);
    if (row !== 'idle') yield { frame, row, time: profile.timeDeltas[i]! };
  }
}

/**
 * µs of CPU per request in each row. Samples are taken on wall time, and a process that shares
 * its CPU with the upstream is sometimes waiting for it: the samples give each row's share of
 * the busy time, the process's CPU time from /proc (`cpuPerRequest`) gives the total.
 */
function group(profile: Profile, cpuPerRequest: number): Map<Row, number> {
  const out = new Map<Row, number>(ROWS.map((r) => [r, 0]));
  let busy = 0;
  for (const { row, time } of busySamples(profile)) {
    out.set(row, out.get(row)! + time);
    busy += time;
  }
  for (const [row, time] of out) out.set(row, (time / busy) * cpuPerRequest);
  return out;
}

/** The `TOP` functions with the most self time, in µs of CPU per request. */
function printTop(name: string, profile: Profile, cpuPerRequest: number): void {
  const self = new Map<string, number>();
  let busy = 0;
  for (const { frame: f, time } of busySamples(profile)) {
    const where = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    self.set(where, (self.get(where) ?? 0) + time);
    busy += time;
  }
  console.log(`\n${name}: the ${TOP} functions with the most self time, µs per request`);
  for (const [where, time] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP))
    console.log(`${((time / busy) * cpuPerRequest).toFixed(2).padStart(7)}  ${where}`);
}

async function profileOne(c: Contender, upstream: number) {
  const port = await freePort();
  const { argv, url } = c.args(port, upstream);
  const proc = start(process.execPath, ['--inspect=127.0.0.1:0', ...argv], {
    cpus: '1',
    env: { PORT: '' },
  });
  try {
    await waitForPort(port, c.name, proc);
    if (c.args === switchyardArgs) await untilReady(new URL(url).origin);
    if (SCENARIO === 'cache') await primeCache(url);
    const session = await inspector(await inspectorUrl(proc));
    await load(url, 'warm-up');
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: SAMPLING_US });
    await session.send('Profiler.start');
    const cpuBefore = treeCpuMicros(proc.pid);
    const measured = await load(url, 'measured');
    const cpu = treeCpuMicros(proc.pid) - cpuBefore;
    const { profile } = (await session.send('Profiler.stop')) as { profile: Profile };
    session.close();
    if (measured.errors > 0) throw new Error(`${c.name}: ${measured.errors} errors under load`);
    if (TOP > 0) printTop(c.name, profile, cpu / measured.requests);
    const { requests } = measured;
    return { rows: group(profile, cpu / requests), perSecond: requests / measured.seconds };
  } finally {
    await stop(proc);
  }
}

const LOAD =
  SCENARIO === 'h2'
    ? `h2load -c16 -m10, ${H2_REQUESTS} requests after ${H2_WARMUP} of warm-up,`
    : `wrk -c${CONNECTIONS} for ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up,`;

/** The scenario's load from CPU 0: wrk, or h2load for HTTP/2 (which stops itself). */
async function load(url: string, phase: 'warm-up' | 'measured') {
  if (SCENARIO !== 'h2') {
    const seconds = phase === 'warm-up' ? WARMUP_SECONDS : SECONDS;
    const done = await wrk(url, { connections: CONNECTIONS, seconds, cpus: '0' });
    return { requests: done.requests, errors: done.errors, seconds };
  }
  const requests = phase === 'warm-up' ? H2_WARMUP : H2_REQUESTS;
  const done = await h2load(url, { requests, cpus: '0' });
  return { requests: done.requests, errors: 0, seconds: done.requests / done.perSecond };
}

/** The cache scenario's upstream marks its answer cacheable: a first request stores it. */
async function primeCache(url: string): Promise<void> {
  const res = await request(url);
  await res.body.text();
}

async function main(): Promise<void> {
  const upPort = await freePort();
  const upConfig = template(work, 'nginx-upstream.conf', { dir: work, port: upPort, files });
  const upstream = start('nginx', ['-c', upConfig, '-p', work], { cpus: '1' });
  await waitForPort(upPort, 'nginx upstream', upstream);
  // Cache hits: an origin whose answer may be stored (asked once per contender).
  const origin = createServer((_req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' });
    res.end(Buffer.alloc(1024, 'a'));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const originPort = (origin.address() as AddressInfo).port;
  const target = SCENARIO === 'cache' ? originPort : upPort;
  const results: { name: string; rows: Map<Row, number> }[] = [];
  for (const c of CONTENDERS[SCENARIO]!) {
    const { rows, perSecond } = await profileOne(c, target);
    console.log(`${c.name}: ${Math.round(perSecond)} requests/s while profiled`);
    results.push({ name: c.name, rows });
  }
  const header = `| ${SCENARIO} 1 KiB | ${results.map((r) => r.name).join(' | ')} |`;
  const rule = `| --- | ${results.map(() => '---:').join(' | ')} |`;
  const lines = ROWS.map(
    (row) => `| ${row} | ${results.map((r) => r.rows.get(row)!.toFixed(1)).join(' | ')} |`,
  );
  const busy = results.map((r) => [...r.rows.values()].reduce((a, b) => a + b, 0).toFixed(1));
  const text = [
    `${new Date().toISOString()} · Node ${process.version} · ${cpus()[0]?.model.trim()} · ${SCENARIO}, ${LOAD} ` +
      `each pinned to CPU 1 with the ` +
      `nginx upstream; sampled every ${SAMPLING_US} µs; µs of CPU per request (the process's ` +
      `CPU time from /proc, shared out by the samples)`,
    '',
    header,
    rule,
    ...lines,
    `| **busy per request** | ${busy.map((b) => `**${b}**`).join(' | ')} |`,
    '',
  ].join('\n');
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(HERE, 'results', `profile-${SCENARIO}.md`), text);
  console.log(text);
  origin.close();
}

try {
  await main();
} finally {
  stopAll();
}
