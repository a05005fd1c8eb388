/**
 * Node.js runtimes side by side: Switchyard and the bare node:http + undici proxy, each run
 * by the Node binary and from the checkout you name, interleaved in one run against nginx
 * (proxy 1 KiB and 100 KiB, pinned; medians, ratios within each round).
 *
 *   npm run bench:runtimes -- --run='Node 20,/usr/bin/node,/tmp/old' \
 *     --run='Node 24,node_modules/.bin/node,/tmp/old24' --run='this build,node_modules/.bin/node,.'
 *
 * Each `--run=label,node,checkout[,settings.yaml]` adds two contenders:
 * `<checkout>/bench/peers/bare-proxy.mjs` and `<checkout>/bin/switchyard.js`, started with
 * `node`; a settings file's lines replace the benchmark's own limit settings (BENCH_LIMITS),
 * to measure what a setting costs (`--no-bare` leaves the bare proxies out when two runs
 * share a checkout). A checkout must be built (`dist/`)
 * with its dependencies installed for that runtime (a native addon built against its
 * headers). To compare one build on two runtimes, install it twice (docs/performance notes in
 * the README say how the figures in it were made). `--quick`: one round of 3 s, 1 KiB only.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { BENCH_LIMITS } from './lib/switchyard.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, start, stopAll, waitForPort } from './lib/processes.js';
import { cpusFor, runScenario, type Contender } from './lib/scenario.js';
import { template } from './lib/template.js';

const quick = process.argv.includes('--quick');
const runs = process.argv
  .filter((a) => a.startsWith('--run='))
  .map((a) => {
    const [label, node, checkout, settings] = a.slice('--run='.length).split(',');
    if (!label || !node || !checkout) throw new Error(`--run=label,node,checkout: got ${a}`);
    const extra =
      settings === undefined
        ? undefined
        : readFileSync(resolve(settings), 'utf8').trim().split('\n');
    return { label, node: resolve(node), checkout: resolve(checkout), extra };
  });
if (runs.length === 0) {
  console.error(
    'name at least one --run=label,node,checkout (see the header of bench/runtimes.ts)',
  );
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'sy-bench-runtimes-'));
const files = join(work, 'files');
mkdirSync(files);
writeFileSync(join(files, '1k.bin'), Buffer.alloc(1024, 'a'));
writeFileSync(join(files, '100k.bin'), Buffer.alloc(100 * 1024, 'b'));

const nginx: Contender = {
  name: 'nginx',
  async start(layout, upstream) {
    const port = await freePort();
    const conf = template(work, 'nginx-proxy.conf', { dir: work, port, upstream, workers: 1 });
    const proc = start('nginx', ['-c', conf, '-p', work], { cpus: cpusFor(layout) });
    await waitForPort(port, 'nginx', proc);
    return { proc, base: `http://127.0.0.1:${port}` };
  },
};

function bare(label: string, node: string, checkout: string): Contender {
  return {
    name: `bare node proxy (${label})`,
    async start(layout, upstream) {
      const port = await freePort();
      const script = join(checkout, 'bench', 'peers', 'bare-proxy.mjs');
      const proc = start(node, [script, String(port), `http://127.0.0.1:${upstream}`], {
        cpus: cpusFor(layout),
      });
      await waitForPort(port, this.name, proc);
      return { proc, base: `http://127.0.0.1:${port}` };
    },
  };
}

/** Whether a checkout's configuration has the rate limits (and so takes BENCH_LIMITS). */
function knowsLimits(checkout: string): boolean {
  const schema = join(checkout, 'dist', 'src', 'config', 'schema.js');
  return existsSync(schema) && readFileSync(schema, 'utf8').includes('perClientIp');
}

function switchyard(
  label: string,
  node: string,
  checkout: string,
  extra: string[] | undefined,
): Contender {
  return {
    name: `switchyard (${label})`,
    async start(layout, upstream) {
      const port = await freePort();
      const dataDir = join(work, `data-${port}`);
      const config = join(work, `switchyard-${port}.yaml`);
      writeFileSync(
        config,
        [
          `listen: { host: 127.0.0.1, port: ${port} }`,
          'log: { access: false, level: warn }',
          'admin: { port: 0 }',
          'https: { enabled: false }',
          `dataDir: ${dataDir}`,
          // A checkout from before the limits existed would refuse the keys.
          ...(extra ?? (knowsLimits(checkout) ? BENCH_LIMITS : [])),
          `projects: [{ slug: p0, deployments: [{ id: d1, upstream: { replicas: ["http://127.0.0.1:${upstream}"] } }] }]`,
        ].join('\n'),
      );
      const bin = join(checkout, 'bin', 'switchyard.js');
      const proc = start(node, [bin, 'start', '--config', config], {
        cpus: cpusFor(layout),
        env: { PORT: '' },
      });
      await waitForPort(port, this.name, proc);
      return { proc, base: `http://127.0.0.1:${port}/p0` };
    },
  };
}

const contenders = [
  nginx,
  ...(process.argv.includes('--no-bare') ? [] : runs.map((r) => bare(r.label, r.node, r.checkout))),
  ...runs.map((r) => switchyard(r.label, r.node, r.checkout, r.extra)),
];
const sections: string[] = [];
try {
  for (const [title, path] of quick
    ? [['Proxy, 1 KiB', '/1k.bin']]
    : [
        ['Proxy, 1 KiB', '/1k.bin'],
        ['Proxy, 100 KiB', '/100k.bin'],
      ]) {
    sections.push(
      await runScenario({
        title: title!,
        contenders,
        path: path!,
        layout: 'pinned',
        reference: 'nginx',
        work,
        files,
        rounds: quick ? 1 : 3,
        seconds: quick ? 3 : 5,
        warmupSeconds: quick ? 1 : 8,
        connections: 64,
      }),
    );
    console.log(sections.at(-1));
  }
} finally {
  stopAll();
}
const legend = runs
  .map(
    (r) =>
      `- ${r.label}: \`${r.node}\`, \`${r.checkout}\`${r.extra === undefined ? '' : `, with \`${r.extra.join('; ')}\``}`,
  )
  .join('\n');
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  join(import.meta.dirname, 'results', 'runtimes.md'),
  `# Runtimes side by side\n\n${new Date().toISOString()} · ${quick ? 'quick' : 'full'} run\n\n${legend}\n\n${sections.join('\n')}`,
);
console.log('written to bench/results/runtimes.md');
