import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { request } from 'undici';

const execute = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The npm a user has: the one running `npm test` (npm_execpath), else the first on PATH that
 * is not inside a node_modules (a dependency brings an old npm 6 into node_modules/.bin).
 */
const NPM_CLI = process.env.npm_execpath;
const NPM =
  NPM_CLI === undefined
    ? (process.env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => !dir.includes('node_modules'))
        .map((dir) => join(dir, 'npm'))
        .find((file) => existsSync(file))
    : undefined;

function run(file: string, args: string[], options: { cwd?: string; timeout?: number } = {}) {
  if (file !== 'npm') return execute(file, args, options);
  return NPM_CLI === undefined
    ? execute(NPM ?? 'npm', args, options)
    : execute(process.execPath, [NPM_CLI, ...args], options);
}

/**
 * What a user gets from the registry: the package as `npm pack` makes it, installed globally
 * into a temporary prefix (`npm install -g`), run as the `switchyard` command. Dependencies
 * come from npm's cache, which `npm ci` filled (no other download).
 */
describe('The packed package installs as a `switchyard` command', () => {
  let dir: string;
  let bin: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-pack-'));
    await run('npm', ['pack', '--pack-destination', dir], { cwd: ROOT, timeout: 60_000 });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        join(dir, 'global'),
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        join(dir, tarball),
      ],
      { cwd: dir, timeout: 180_000 },
    );
    bin = join(dir, 'global', 'bin', 'switchyard');
  });

  it('ships only what it runs: the compiled code, the dashboard and the demo', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT });
    const files = (JSON.parse(stdout) as [{ files: { path: string }[] }])[0].files.map(
      (f) => f.path,
    );
    assert.ok(files.includes('bin/switchyard.js'));
    assert.ok(files.includes('dist/src/cli/main.js'));
    assert.ok(files.includes('dashboard/index.html'));
    assert.ok(files.includes('demo/hello/index.html'));
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('src/')), 'no sources');
    assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('bench/')));
  });

  it('runs on the Node.js it ships, whatever Node started it', async () => {
    const { stdout } = await run(bin, ['--version']);
    assert.match(stdout, /^switchyard \d+\.\d+\.\d+ \(Node\.js 24\./);
    const help = await run(bin, ['deploy', '--help']);
    assert.match(help.stdout, /--project/);
  });

  it('serves the demo project from the installed command', async () => {
    const data = mkdtempSync(join(tmpdir(), 'sy-pack-data-'));
    const proc = spawn(bin, ['start'], {
      cwd: data,
      env: {
        ...process.env,
        PORT: '0',
        SWITCHYARD_ADMIN_PORT: '0',
        SWITCHYARD_HTTPS_PORT: '0',
        SWITCHYARD_DATA_DIR: data,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      proc.stderr.setEncoding('utf8');
      const port = await new Promise<number>((resolve, reject) => {
        proc.stderr.on('data', (d: string) => {
          err += d;
          const m = /listening on http:\/\/[^:]+:(\d+)/.exec(err);
          if (m) resolve(Number(m[1]));
        });
        proc.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      const res = await request(`http://127.0.0.1:${port}/hello/`);
      assert.equal(res.statusCode, 200);
      assert.match(await res.body.text(), /<html/i);
    } finally {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    }
  });
});
