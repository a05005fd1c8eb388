/**
 * The HTTP caching test suite (`http-cache-tests`, the suite behind cache-tests.fyi) against
 * Switchyard, nginx `proxy_cache` and Varnish, all in front of the suite's own test server,
 * in one run. Prints how many results each passes. `npm run bench:cache-conformance`
 * (about two minutes; needs nginx and varnishd).
 *
 * Counting: a result is a pass when the suite recorded `true` for it; assertion failures,
 * setup failures and everything else count as not passed. The same count for every cache.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, start, stop, waitForPort, type Started } from './lib/processes.js';
import { startSwitchyard } from './lib/switchyard.js';
import { template as fillTemplate } from './lib/template.js';

const run = promisify(execFile);
const SUITE = dirname(fileURLToPath(import.meta.resolve('http-cache-tests/cli.mjs')));
const work = mkdtempSync(join(tmpdir(), 'sy-cache-conformance-'));
chmodSync(work, 0o755); // varnishd reads its VCL after dropping privileges

const template = (name: string, values: Record<string, string | number>) =>
  fillTemplate(work, name, values);

async function suite(base: string): Promise<{ passed: number; total: number }> {
  const { stdout } = await run(process.execPath, ['--no-warnings', join(SUITE, 'cli.mjs')], {
    cwd: SUITE,
    env: { ...process.env, npm_config_base: base, npm_package_config_id: '' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
  const results = JSON.parse(stdout) as Record<string, unknown>;
  const values = Object.values(results);
  return { passed: values.filter((v) => v === true).length, total: values.length };
}

export async function cacheConformance(): Promise<string> {
  const procs: Started[] = [];
  const rows: string[] = [];
  try {
    const originPort = await freePort();
    const origin = start(process.execPath, [join(SUITE, 'server', 'server.mjs')], {
      cwd: SUITE,
      env: {
        npm_config_port: String(originPort),
        npm_config_protocol: 'http',
        npm_config_pidfile: join(work, 'origin.pid'),
      },
    });
    procs.push(origin);
    await waitForPort(originPort, 'cache test server', origin);

    const sy = await startSwitchyard({ work, slug: 't', upstream: originPort });
    procs.push(sy.proc);

    const nginxPort = await freePort();
    const nginx = start('nginx', [
      '-c',
      template('nginx-cache.conf', { dir: work, port: nginxPort, upstream: originPort }),
      '-p',
      work,
    ]);
    procs.push(nginx);
    await waitForPort(nginxPort, 'nginx', nginx);

    const varnishPort = await freePort();
    const varnish = start('varnishd', [
      '-F',
      '-a',
      `127.0.0.1:${varnishPort}`,
      '-f',
      template('varnish.vcl', { upstream: originPort }),
      '-n',
      join(work, 'varnish'),
      '-s',
      'malloc,64m',
      '-t',
      '0',
    ]);
    procs.push(varnish);
    await waitForPort(varnishPort, 'varnish', varnish);

    for (const [name, base] of [
      ['Switchyard', sy.base],
      [`nginx ${await version('nginx')}`, `http://127.0.0.1:${nginxPort}`],
      [`Varnish ${await version('varnishd')}`, `http://127.0.0.1:${varnishPort}`],
    ] as const) {
      const { passed, total } = await suite(base);
      rows.push(`| ${name} | ${passed} | ${total} |`);
      console.error(`${name}: ${passed} of ${total}`);
    }
  } finally {
    for (const p of procs.reverse()) await stop(p);
  }
  return `### HTTP cache conformance (http-cache-tests 0.4.5)\n\n| cache | results passed | results |\n| --- | --- | --- |\n${rows.join('\n')}\n`;
}

async function version(binary: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(binary, ['-V']);
    return /\d+\.\d+(\.\d+)?/.exec(stdout + stderr)?.[0] ?? '';
  } catch {
    return '';
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await cacheConformance());
}
