/**
 * Route lookup micro-benchmark: the cost of resolving a host (subdomain, preview host, custom
 * domain) and a path-routing slug with 10, 1,000 and 100,000 projects in the table, and the
 * memory each project's routes take. Run: `npm run bench:route-lookup` (about 20 s).
 */
import type { ProjectSpec } from '../src/model/site.js';
import type { Origin } from '../src/origin/origin.js';
import { RouteTable } from '../src/routing/route-table.js';
import { StaticOrigin } from '../src/static/static-origin.js';

const SIZES = [10, 1_000, 100_000];
const LOOKUPS = 2_000_000;
const gc = (globalThis as { gc?: () => void }).gc;

function projects(n: number): ProjectSpec[] {
  const out: ProjectSpec[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      slug: `project-${i}`,
      production: `d${i}b`,
      aliases: { staging: `d${i}a` },
      domains: [`www.customer-${i}.com`],
      rootPaths: [],
      httpsRedirect: false,
      deployments: [`d${i}a`, `d${i}b`].map((id) => ({
        id,
        status: 'ready' as const,
        origin: {
          kind: 'static' as const,
          dir: `/srv/builds/${id}`,
          spa: false,
          cleanUrls: true,
          immutable: false,
        },
      })),
    });
  }
  return out;
}

function compile(specs: ProjectSpec[]): RouteTable {
  return RouteTable.compile(
    { hosts: ['platform.example.com'], domains: ['apps.example.com'] },
    specs,
    (p, i): Origin => new StaticOrigin(p.deployments[i]!.origin as never),
  );
}

function heapUsed(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function nsPerOp(fn: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < 100_000; i++) if (fn(i) !== undefined) sink++; // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < LOOKUPS; i++) if (fn(i) !== undefined) sink++;
  const ns = Number(process.hrtime.bigint() - start) / LOOKUPS;
  if (sink === 0) throw new Error('nothing resolved');
  return ns;
}

function measure(table: RouteTable, picks: number[]): number[] {
  const sub = picks.map((i) => `project-${i}.apps.example.com`);
  const preview = picks.map((i) => `d${i}a--project-${i}.apps.example.com`);
  const custom = picks.map((i) => `www.customer-${i}.com`);
  const slugs = picks.map((i) => `project-${i}`);
  return [
    nsPerOp((i) => table.resolveHost(sub[i & 4095]!)),
    nsPerOp((i) => table.resolveHost(preview[i & 4095]!)),
    nsPerOp((i) => table.resolveHost(custom[i & 4095]!)),
    nsPerOp((i) => table.project(slugs[i & 4095]!)),
  ];
}

const fmt = (m: number[]) => m.map((x) => x.toFixed(0)).join(' | ');
const ratio = (a: number[], b: number[]) =>
  a.map((x, i) => `${(x / b[i]!).toFixed(2)}×`).join(', ');
const rows: string[] = [];
const hot = new Map<number, number[]>();
const spread = new Map<number, number[]>();
for (const n of SIZES) {
  const specs = projects(n);
  const before = heapUsed();
  const table = compile(specs);
  const bytesPerProject = (heapUsed() - before) / n;
  // Same traffic for every size: the same 10 busy projects, in a fixed pseudo-random order.
  const hotPicks = Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 10);
  // Traffic spread over the whole table: 4,096 distinct projects (CPU caches miss more).
  const spreadPicks = Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % n);
  hot.set(n, measure(table, hotPicks));
  spread.set(n, measure(table, spreadPicks));
  rows.push(
    `| ${n.toLocaleString('en')} | ${fmt(hot.get(n)!)} | ${fmt(spread.get(n)!)} | ${gc ? (bytesPerProject / 1024).toFixed(2) : 'n/a'} |`,
  );
}
const first = SIZES[0]!;
const last = SIZES.at(-1)!;
console.log(`Route lookup, ns per lookup (${LOOKUPS.toLocaleString('en')} lookups each, Node ${process.version})
Columns: subdomain, preview host, custom domain, path slug — for the same 10 busy projects
(hot) and for traffic spread over up to 4,096 projects (spread).

| projects | hot: sub | preview | domain | slug | spread: sub | preview | domain | slug | KiB per project |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Same traffic, ${last.toLocaleString('en')} vs ${first} projects: ${ratio(hot.get(last)!, hot.get(first)!)}
Spread traffic, ${last.toLocaleString('en')} vs 1,000 projects: ${ratio(spread.get(last)!, spread.get(1_000)!)}
(KiB per project: 2 deployments, 1 branch alias, 1 custom domain, origins included)`);
if (!gc) console.log('(run with --expose-gc for memory per project)');
