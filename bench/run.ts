/**
 * Side-by-side benchmark: Switchyard against the tools a platform team would pick instead,
 * on this machine, in one run, as ratios. `npm run bench` (full, under 15 minutes) or
 * `npm run bench -- --quick` (under 2 minutes). Results: printed and written to
 * bench/results/latest.md by a full run, bench/results/partial.md by `--quick` or `--only`
 * (so a spot check never replaces the figures the docs are copied from). Access logs are
 * off for every contender.
 *
 * Layouts: pinned (wrk on CPU 0; proxy and upstream on CPU 1) and unpinned (all CPUs).
 * Each round runs every contender once, interleaved; medians over rounds are reported and
 * ratios are taken within each round.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeCpuMicros } from './lib/cpu.js';
import { freePort, start, stop, stopAll, waitForPort, type Started } from './lib/processes.js';
import { BENCH_LIMITS, untilReady } from './lib/switchyard.js';
import { STATIC_FIELDS } from './lib/floor-fields.js';
import { propagation } from './propagation.js';
import { cacheBench } from './cache.js';
import { LocalCa } from '../src/tls/local-ca.js';
import { EmbeddedStore } from '../src/store/embedded-store.js';
import type { Write } from '../src/store/state-store.js';
import { h2load, newHandshakes } from './lib/tls-load.js';
import { template as fillTemplate } from './lib/template.js';
import { deployBench } from './deploy.js';
import {
  cpusFor,
  median,
  runScenario,
  wrkCpus,
  type Contender,
  type Layout,
} from './lib/scenario.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const quick = process.argv.includes('--quick');
/** `--only=tls`, `--only=cache` or `--only=proxy` (the proxy, routing and static sections). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const ROUNDS = quick ? 1 : 3;
const SECONDS = quick ? 3 : 5;
/** Handshake samples are the noisiest (±15–30 % each): more rounds of them. */
const TLS_ROUNDS = quick ? 1 : 5;
/**
 * Load before the measured rounds. JIT runtimes reach their steady state only after some
 * seconds of load (Switchyard's cache hits: 21.5, 19.5, then 17.8 µs of CPU per request in
 * successive 4 s windows from a fresh start; nginx and the Node floors are steady at once),
 * and an edge runs for days: the figures are for the steady state.
 */
const WARMUP_SECONDS = quick ? 1 : 8;
const CONNECTIONS = 64;
const LAYOUTS: readonly Layout[] = quick ? ['pinned'] : ['pinned', 'unpinned'];

const work = mkdtempSync(join(tmpdir(), 'sy-bench-'));
const files = join(work, 'files');
mkdirSync(files);
writeFileSync(join(files, '1k.bin'), Buffer.alloc(1024, 'a'));
writeFileSync(join(files, '100k.bin'), Buffer.alloc(100 * 1024, 'b'));

/**
 * The CPU the figures were taken on: ratios against nginx differ between machines far more
 * than between runs on one (static 1 KiB: 0.51× nginx in the full run of 2026-12-01 05:29,
 * 0.76× and 0.74× in two that night on an AMD EPYC, with one small change between; see
 * docs/performance.md), so results say which.
 */
const machine = () => `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`;

const template = (name: string, values: Record<string, string | number>) =>
  fillTemplate(work, name, values);

async function startedOn(
  port: number,
  name: string,
  proc: Started,
  base = `http://127.0.0.1:${port}`,
) {
  await waitForPort(port, name, proc);
  return { proc, base };
}

function nodePeer(name: string, script: string, ...options: string[]): Contender {
  return {
    name,
    async start(layout, upstream) {
      const port = await freePort();
      const proc = start(
        process.execPath,
        [join(HERE, 'peers', script), String(port), `http://127.0.0.1:${upstream}`, ...options],
        {
          cpus: cpusFor(layout),
        },
      );
      return startedOn(port, name, proc);
    },
  };
}

function switchyard(
  name: string,
  options: {
    accessLog: boolean;
    projects?: number;
    static?: boolean;
    workers?: number;
    /** Replica URLs per deployment (all the same upstream: one pool each). */
    replicas?: number;
    /** The projects are records in the embedded store (as the admin API writes them), not YAML. */
    fromStore?: boolean;
  },
): Contender {
  return {
    name,
    async start(layout, upstream) {
      const port = await freePort();
      const count = options.projects ?? 1;
      const target = Math.floor(count / 2);
      const dataDir = join(work, `data-${port}`);
      const lines = [
        `listen: { host: 127.0.0.1, port: ${port} }`,
        `log: { access: ${options.accessLog}, level: warn }`,
        `workers: ${options.workers ?? 1}`,
        `admin: { port: 0 }`,
        `https: { enabled: false }`,
        // Its own: one instance per data directory (the second would be refused).
        `dataDir: ${dataDir}`,
        ...BENCH_LIMITS,
        'projects:',
      ];
      if (options.fromStore === true) {
        lines.pop(); // no `projects:` in the file
        await seedStore(dataDir, count, `http://127.0.0.1:${upstream}`);
      }
      for (let i = 0; options.fromStore !== true && i < count; i++) {
        const origin =
          options.static === true
            ? `static: { dir: "${files}" }`
            : `upstream: { replicas: [${Array.from({ length: options.replicas ?? 1 }, () => `"http://127.0.0.1:${upstream}"`).join(', ')}] }`;
        lines.push(`  - { slug: p${i}, deployments: [{ id: d1, ${origin} }] }`);
      }
      const config = join(work, `switchyard-${port}.yaml`);
      writeFileSync(config, `${lines.join('\n')}\n`);
      const proc = start(
        process.execPath,
        [join(ROOT, 'bin', 'switchyard.js'), 'start', '--config', config],
        {
          cpus: cpusFor(layout),
          env: { PORT: '' },
        },
      );
      const started = await startedOn(port, name, proc, `http://127.0.0.1:${port}/p${target}`);
      // Listening comes before the store's projects are loaded and compiled: wait for
      // readiness, so that no loading runs beside another contender's measurement.
      await untilReady(`http://127.0.0.1:${port}`);
      return started;
    },
  };
}

/**
 * Write `count` projects, each with one ready deployment proxying to `upstream`, into the
 * embedded store of `dataDir`, as the admin API would have (in batches, one transaction each).
 */
async function seedStore(dataDir: string, count: number, upstream: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const store = new EmbeddedStore(join(dataDir, 'state.db'));
  const at = new Date().toISOString();
  for (let from = 0; from < count; from += 5000) {
    const writes: Write[] = [];
    for (let i = from; i < Math.min(count, from + 5000); i++) {
      const slug = `p${i}`;
      writes.push(
        {
          kind: 'project',
          key: slug,
          value: { slug, rootPaths: [], production: 'd1', history: [], aliases: {} },
        },
        {
          kind: 'deployment',
          key: `${slug}/d1`,
          value: {
            project: slug,
            id: 'd1',
            status: 'ready',
            message: null,
            origin: { kind: 'upstream', replicas: [upstream] },
            meta: {},
            createdAt: at,
            updatedAt: at,
          },
        },
      );
    }
    const result = await store.commit(writes);
    if (!result.ok) throw new Error('seeding the store failed');
  }
  await store.close();
}

/**
 * The static floor: node:http answering prebuilt Buffers from a Map (peers/bare-static.mjs),
 * as is, or with the header fields Switchyard's answer carries.
 */
const bareStatic = (name: string, fields?: string): Contender => ({
  name,
  async start(layout) {
    const port = await freePort();
    const args = [join(HERE, 'peers', 'bare-static.mjs'), String(port), files];
    const proc = start(process.execPath, fields === undefined ? args : [...args, fields], {
      cpus: cpusFor(layout),
    });
    return startedOn(port, this.name, proc);
  },
});

const nginxProxy: Contender = {
  name: 'nginx',
  async start(layout, upstream) {
    const port = await freePort();
    const conf = template('nginx-proxy.conf', {
      dir: work,
      port,
      upstream,
      workers: layout === 'pinned' ? 1 : 'auto',
    });
    return startedOn(
      port,
      'nginx',
      start('nginx', ['-c', conf, '-p', work], { cpus: cpusFor(layout) }),
    );
  },
};

const haproxy: Contender = {
  name: 'haproxy',
  async start(layout, upstream) {
    const port = await freePort();
    const conf = template('haproxy.cfg', { port, upstream, threads: layout === 'pinned' ? 1 : 2 });
    return startedOn(
      port,
      'haproxy',
      start('haproxy', ['-f', conf, '-db'], { cpus: cpusFor(layout) }),
    );
  },
};

const caddy: Contender = {
  name: 'caddy',
  async start(layout, upstream) {
    const port = await freePort();
    const conf = template('Caddyfile', { port, upstream });
    const env = layout === 'pinned' ? { GOMAXPROCS: '1' } : {};
    return startedOn(
      port,
      'caddy',
      start('caddy', ['run', '--config', conf, '--adapter', 'caddyfile'], {
        cpus: cpusFor(layout),
        env,
      }),
    );
  },
};

// TLS: one local CA for every contender; nginx gets a leaf from it, Switchyard issues its own
// from the same CA (ECDSA P-256 both).
const tlsDir = join(work, 'tls');
const tlsCa = await LocalCa.open(tlsDir);
const tlsLeaf = await tlsCa.issue(['localhost']);
writeFileSync(join(tlsDir, 'leaf.pem'), tlsLeaf.certPem);
writeFileSync(join(tlsDir, 'leaf-key.pem'), tlsLeaf.keyPem);

const nginxTls: Contender = {
  name: 'nginx (TLS)',
  async start(layout, upstream) {
    const port = await freePort();
    const conf = template('nginx-tls.conf', {
      dir: work,
      port,
      upstream,
      cert: join(tlsDir, 'leaf.pem'),
      key: join(tlsDir, 'leaf-key.pem'),
      workers: layout === 'pinned' ? 1 : 'auto',
    });
    return startedOn(
      port,
      'nginx tls',
      start('nginx', ['-c', conf, '-p', work], { cpus: cpusFor(layout) }),
      `https://localhost:${port}`,
    );
  },
};

/** The HTTPS and HTTP/2 floor: node:https and node:http2 streams with undici (peers/bare-tls-proxy.mjs). */
const bareTls: Contender = {
  name: 'bare node (TLS)',
  async start(layout, upstream) {
    const port = await freePort();
    const proc = start(
      process.execPath,
      [
        join(HERE, 'peers', 'bare-tls-proxy.mjs'),
        String(port),
        `http://127.0.0.1:${upstream}`,
        join(tlsDir, 'leaf.pem'),
        join(tlsDir, 'leaf-key.pem'),
      ],
      { cpus: cpusFor(layout) },
    );
    return startedOn(port, 'bare node tls', proc, `https://localhost:${port}`);
  },
};

function switchyardTls(name: string): Contender {
  return {
    name,
    async start(layout, upstream) {
      const port = await freePort();
      const httpsPort = await freePort();
      const dataDir = join(work, `sy-tls-${port}`);
      mkdirSync(dataDir);
      for (const f of ['ca.pem', 'ca-key.pem']) copyFileSync(join(tlsDir, f), join(dataDir, f));
      const config = join(work, `switchyard-tls-${port}.yaml`);
      writeFileSync(
        config,
        [
          `listen: { host: 127.0.0.1, port: ${port} }`,
          `https: { host: 127.0.0.1, port: ${httpsPort} }`,
          `admin: { port: 0 }`,
          `dataDir: ${dataDir}`,
          `log: { access: false, level: warn }`,
          ...BENCH_LIMITS,
          'projects:',
          `  - { slug: p0, deployments: [{ id: d1, upstream: { replicas: ["http://127.0.0.1:${upstream}"] } }] }`,
        ].join('\n'),
      );
      const proc = start(
        process.execPath,
        [join(ROOT, 'bin', 'switchyard.js'), 'start', '--config', config],
        {
          cpus: cpusFor(layout),
          env: { PORT: '' },
        },
      );
      await waitForPort(httpsPort, name, proc);
      return { proc, base: `https://localhost:${httpsPort}/p0` };
    },
  };
}

const nginxStatic: Contender = {
  name: 'nginx (static)',
  async start(layout) {
    const port = await freePort();
    const conf = template('nginx-static.conf', {
      dir: work,
      port,
      files,
      workers: layout === 'pinned' ? 1 : 'auto',
    });
    return startedOn(
      port,
      'nginx static',
      start('nginx', ['-c', conf, '-p', work], { cpus: cpusFor(layout) }),
    );
  },
};

const scenario = (
  title: string,
  contenders: Contender[],
  path: string,
  layout: Layout,
  reference: string,
  memory = false,
) =>
  runScenario({
    memory,
    title,
    contenders,
    path,
    layout,
    reference,
    work,
    files,
    rounds: ROUNDS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS,
  });

/**
 * New full handshakes per second (`openssl s_time -new`) and HTTP/2 req/s (`h2load`). The
 * contenders run side by side and each round loads every one of them in turn, as the other
 * scenarios do: one 5 s sample of handshakes moves by ±15–30 % on this machine, and run one
 * contender after another the drift between them once moved Switchyard's ratio from 1.29× to
 * 1.72× of nginx's CPU per handshake. Ratios are taken within each round, then the median.
 */
async function tlsSection(contenders: Contender[]): Promise<string> {
  const upPort = await freePort();
  const upstream = start(
    'nginx',
    ['-c', template('nginx-upstream.conf', { dir: work, port: upPort, files }), '-p', work],
    { cpus: cpusFor('pinned') },
  );
  await waitForPort(upPort, 'upstream nginx', upstream);
  const running: { name: string; proc: Started; base: string }[] = [];
  interface Round {
    hs: number;
    hsCpu: number;
    h2: number;
    h2Cpu: number;
  }
  const rounds = new Map<string, Round[]>();
  try {
    for (const c of contenders)
      running.push({ name: c.name, ...(await c.start('pinned', upPort)) });
    // Warm-up: as many requests as are measured (Switchyard's HTTP/2 path measured 78 µs of
    // CPU per request on its first 60,000 after a 2,000-request warm-up, 68 µs after).
    for (const { base } of running)
      await h2load(`${base}/1k.bin`, { requests: quick ? 2000 : 60_000, cpus: wrkCpus('pinned') });
    for (let round = 0; round < TLS_ROUNDS; round++) {
      for (const { name, proc, base } of running) {
        const url = new URL(base);
        let before = treeCpuMicros(proc.pid);
        const hs = await newHandshakes(`${url.hostname}:${url.port}`, {
          seconds: SECONDS,
          cpus: wrkCpus('pinned'),
        });
        const hsCpu = (treeCpuMicros(proc.pid) - before) / Math.max(hs.connections, 1);
        before = treeCpuMicros(proc.pid);
        const h2 = await h2load(`${base}/1k.bin`, {
          requests: quick ? 20_000 : 60_000,
          cpus: wrkCpus('pinned'),
        });
        const h2Cpu = (treeCpuMicros(proc.pid) - before) / Math.max(h2.requests, 1);
        rounds.set(name, [
          ...(rounds.get(name) ?? []),
          { hs: hs.perSecond, hsCpu, h2: h2.perSecond, h2Cpu },
        ]);
      }
    }
  } finally {
    for (const { proc } of running) await stop(proc);
    await stop(upstream);
  }
  const ref = running[0]!.name;
  const refRounds = rounds.get(ref)!;
  const rows = running.map(({ name }) => {
    const own = rounds.get(name)!;
    const of = (pick: (r: Round) => number) => median(own.map(pick));
    const vs = (pick: (r: Round) => number) =>
      median(own.map((r, i) => pick(r) / pick(refRounds[i]!))).toFixed(2);
    return `| ${name} | ${of((r) => r.hs).toFixed(0)} | ${vs((r) => r.hs)}× | ${of((r) => r.hsCpu).toFixed(0)} | ${vs((r) => r.hsCpu)}× | ${of((r) => r.h2).toFixed(0)} | ${vs((r) => r.h2)}× | ${of((r) => r.h2Cpu).toFixed(1)} |`;
  });
  return `### TLS handshakes and HTTP/2 — pinned\n\nNew full handshakes: \`openssl s_time -new\` (no resumption), one connection at a time, ${SECONDS} s a sample. HTTP/2: \`h2load -c16 -m10\`, 1 KiB. ${TLS_ROUNDS} interleaved round(s); medians, and ratios to ${ref} within each round, then their median.\n\n| contender | handshakes/s | vs ${ref} | µs CPU/handshake | CPU/handshake vs ${ref} | HTTP/2 req/s | vs ${ref} | µs CPU/req |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`;
}

const proxyContenders = [
  nginxProxy,
  haproxy,
  caddy,
  nodePeer('bare node proxy', 'bare-proxy.mjs'),
  // The same floor sending Switchyard's fields: the difference is what Node and undici spend
  // on them, the rest of Switchyard's gap is its own work.
  nodePeer('bare node proxy, with Switchyard’s header fields', 'bare-proxy.mjs', '--fields'),
  nodePeer('http-proxy', 'http-proxy.mjs'),
  nodePeer('@fastify/http-proxy', 'fastify-proxy.mjs'),
  switchyard('switchyard', { accessLog: false }),
  switchyard('switchyard (access log on)', { accessLog: true }),
];

const sections: string[] = [];
const started = Date.now();
try {
  for (const layout of only === 'tls' || only === 'cache' ? [] : LAYOUTS) {
    // All cores: Switchyard in its multi-core mode too (nginx and haproxy use every core).
    const contenders =
      layout === 'unpinned'
        ? [
            ...proxyContenders,
            switchyard('switchyard (2 workers)', { accessLog: false, workers: 2 }),
          ]
        : proxyContenders;
    sections.push(await scenario('Proxy, 1 KiB', contenders, '/1k.bin', layout, 'nginx'));
    console.log(sections.at(-1));
    if (!quick) {
      sections.push(await scenario('Proxy, 100 KiB', contenders, '/100k.bin', layout, 'nginx'));
      console.log(sections.at(-1));
    }
    sections.push(
      await scenario(
        'Path routing, 10 vs 100,000 projects (1 KiB)',
        [
          switchyard('switchyard, 10 projects', { accessLog: false, projects: 10 }),
          switchyard('switchyard, 100,000 projects', { accessLog: false, projects: 100_000 }),
          switchyard('switchyard, 100,000 projects from the store', {
            accessLog: false,
            projects: 100_000,
            fromStore: true,
          }),
        ],
        '/1k.bin',
        layout,
        'switchyard, 10 projects',
        true,
      ),
    );
    console.log(sections.at(-1));
    sections.push(
      await scenario(
        'Load balancing, 1 vs 4 replicas (1 KiB, round robin)',
        [
          switchyard('switchyard, 1 replica', { accessLog: false }),
          switchyard('switchyard, 4 replicas', { accessLog: false, replicas: 4 }),
        ],
        '/1k.bin',
        layout,
        'switchyard, 1 replica',
      ),
    );
    console.log(sections.at(-1));
    for (const size of quick ? ['1k'] : ['1k', '100k']) {
      sections.push(
        await scenario(
          `Static files, ${size === '1k' ? '1 KiB' : '100 KiB'}`,
          [
            nginxStatic,
            bareStatic('bare node (Buffers from a Map)'),
            bareStatic('bare node, with Switchyard’s header fields', STATIC_FIELDS),
            switchyard('switchyard (static)', { accessLog: false, static: true }),
          ],
          `/${size}.bin`,
          layout,
          'nginx (static)',
        ),
      );
      console.log(sections.at(-1));
    }
  }
  if (only === undefined || only === 'tls') {
    sections.push(
      await scenario(
        'HTTPS keep-alive, 1 KiB (HTTP/1.1)',
        [nginxTls, bareTls, switchyardTls('switchyard (TLS)')],
        '/1k.bin',
        'pinned',
        'nginx (TLS)',
      ),
    );
    console.log(sections.at(-1));
    sections.push(await tlsSection([nginxTls, bareTls, switchyardTls('switchyard (TLS)')]));
    console.log(sections.at(-1));
  }
  if (only === undefined || only === 'cache') {
    sections.push(
      await cacheBench({ seconds: SECONDS, rounds: ROUNDS, warmupSeconds: WARMUP_SECONDS }),
    );
    console.log(sections.at(-1));
  }
  if (only === undefined) {
    sections.push(await propagation(quick ? 50 : 200));
    console.log(sections.at(-1));
    sections.push(await deployBench());
    console.log(sections.at(-1));
  }
} finally {
  stopAll();
}
const header = `# Benchmark results\n\n${new Date().toISOString()} · Node ${process.version} · ${machine()} · ${quick ? 'quick' : only === undefined ? 'full' : `--only=${only}`} run · wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} round(s), medians · access logs off unless named · ${((Date.now() - started) / 1000).toFixed(0)} s\n\n`;
mkdirSync(join(HERE, 'results'), { recursive: true });
const resultsFile = quick || only !== undefined ? 'partial.md' : 'latest.md';
writeFileSync(join(HERE, 'results', resultsFile), header + sections.join('\n'));
console.log(`written to bench/results/${resultsFile}`);
