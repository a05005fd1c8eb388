/** Start the built Switchyard executable with a configuration written for the benchmark. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { freePort, start, waitForPort, type Started } from './processes.js';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));

/**
 * Every benchmark request comes from one loopback client, far above the default per-client
 * rate limit: the limiter still runs on every request (its cost is in the figures) but is
 * set never to refuse. Connections per client likewise.
 */
export const BENCH_LIMITS = [
  'rateLimit: { perClientIp: { requestsPerSecond: 1000000000, burst: 1000000000 } }',
  'limits: { maxConnectionsPerIp: 0 }',
];

/**
 * One project `slug` proxying to `upstream` on loopback, admin API and HTTPS off, access
 * log off, with its own data directory under `work`. Resolves once it listens.
 */
export async function startSwitchyard(options: {
  work: string;
  slug: string;
  upstream: number;
  cpus?: string;
}): Promise<{ proc: Started; base: string }> {
  const port = await freePort();
  const dataDir = join(options.work, `data-${port}`);
  mkdirSync(dataDir);
  const config = join(options.work, `switchyard-${port}.yaml`);
  writeFileSync(
    config,
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      'log: { access: false, level: warn }',
      'admin: { enabled: false }',
      'https: { enabled: false }',
      `dataDir: ${dataDir}`,
      ...BENCH_LIMITS,
      'projects:',
      `  - { slug: ${options.slug}, deployments: [{ id: d1, upstream: { replicas: ["http://127.0.0.1:${options.upstream}"] } }] }`,
    ].join('\n'),
  );
  const proc = start(process.execPath, [BIN, 'start', '--config', config], {
    ...(options.cpus === undefined ? {} : { cpus: options.cpus }),
    env: { PORT: '' },
  });
  await waitForPort(port, 'switchyard', proc);
  return { proc, base: `http://127.0.0.1:${port}/${options.slug}` };
}

/** The admin token of benchmark instances started with `startWithAdmin`. */
export const BENCH_TOKEN = 'bench-admin-token-0123456789';

/**
 * A Switchyard with its admin API (token `BENCH_TOKEN`), no demo, no HTTPS, its data in
 * `<work>/<name>`, and `extra` configuration lines. Resolves once both listeners answer.
 */
export async function startWithAdmin(
  work: string,
  name: string,
  extra: readonly string[],
  adminExtra = '',
): Promise<{ proc: Started; port: number; admin: number }> {
  const port = await freePort();
  const admin = await freePort();
  const config = join(work, `${name}.yaml`);
  writeFileSync(
    config,
    [
      `listen: { host: 127.0.0.1, port: ${port} }`,
      `admin: { port: ${admin}, token: ${BENCH_TOKEN}${adminExtra} }`,
      `log: { access: false, level: warn }`,
      `dataDir: ${join(work, name)}`,
      `demo: false`,
      `https: { enabled: false }`,
      ...extra,
      ...BENCH_LIMITS,
    ].join('\n'),
  );
  const proc = start(process.execPath, [BIN, 'start', '--config', config]);
  await waitForPort(port, name, proc);
  await waitForPort(admin, `${name} admin`, proc);
  return { proc, port, admin };
}

/**
 * Until `<origin>/_switchyard/ready` answers 200 (its route table is complete), two minutes
 * at most. Over HTTPS the instance's certificate comes from the bench's own CA: not checked.
 */
export async function untilReady(origin: string): Promise<void> {
  const dispatcher = origin.startsWith('https:')
    ? new Agent({ connect: { rejectUnauthorized: false } })
    : undefined;
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      const res = await request(`${origin}/_switchyard/ready`, { dispatcher }).catch(
        () => undefined,
      );
      await res?.body.text();
      if (res?.statusCode === 200) return;
      if (Date.now() > deadline) throw new Error(`switchyard at ${origin} did not become ready`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await dispatcher?.close();
  }
}

/**
 * A configuration for one project `p0` (a static directory, or one upstream replica on
 * loopback) after the caller's `listen` lines, access log off, benchmark limits, its data in
 * `dataDir`; written to `<work>/switchyard-<port>.yaml`. Returns the arguments of `node` that
 * start it.
 */
export function oneProjectArgs(options: {
  work: string;
  port: number;
  listen: readonly string[];
  dataDir: string;
  origin: { dir: string } | { upstream: number };
  admin?: string;
}): string[] {
  const origin =
    'dir' in options.origin
      ? `static: { dir: "${options.origin.dir}" }`
      : `upstream: { replicas: ["http://127.0.0.1:${options.origin.upstream}"] }`;
  const config = join(options.work, `switchyard-${options.port}.yaml`);
  writeFileSync(
    config,
    [
      ...options.listen,
      'log: { access: false, level: warn }',
      options.admin ?? 'admin: { enabled: false }',
      `dataDir: ${options.dataDir}`,
      ...BENCH_LIMITS,
      'projects:',
      `  - { slug: p0, deployments: [{ id: d1, ${origin} }] }`,
      '',
    ].join('\n'),
  );
  return [BIN, 'start', '--config', config];
}
