/** Run the real `switchyard` executable (bin/switchyard.js, built by `npm run build`). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));

export interface RunningSwitchyard {
  readonly proc: ChildProcess;
  readonly port: number;
  /** Its data directory (unless `env` named another). */
  readonly dataDir: string;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Start `switchyard start`; resolves once it prints its listening line. */
export async function spawnSwitchyard(
  args: string[],
  env: Record<string, string> = {},
): Promise<RunningSwitchyard> {
  const dataDir = env.SWITCHYARD_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sy-data-'));
  const proc = spawn(process.execPath, [BIN, 'start', ...args], {
    // Never a fixed port or the working directory: a free admin port, a private data dir.
    env: {
      ...process.env,
      PORT: '0',
      SWITCHYARD_ADMIN_PORT: '0',
      SWITCHYARD_HTTPS_PORT: '0',
      SWITCHYARD_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const port = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    };
    proc.stderr.on('data', check);
    void exited.then((code) =>
      reject(new Error(`switchyard exited (${code}) before listening:\n${err}`)),
    );
    setTimeout(
      () => reject(new Error(`switchyard did not start in time:\n${err}`)),
      15_000,
    ).unref();
  });
  return { proc, port, dataDir, stdout: () => out, stderr: () => err, exited };
}

/** Run the executable to completion (for --help, --version, bad configurations). */
export async function runSwitchyard(args: string[], env: Record<string, string> = {}) {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Peak resident set size of a process so far, in bytes (Linux). */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** The port a JSON log line with this message reports (waits up to 10 s for the line). */
export async function loggedPort(sy: RunningSwitchyard, msg: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    for (const line of sy.stdout().split('\n')) {
      if (line.includes(`"msg":"${msg}"`)) return (JSON.parse(line) as { port: number }).port;
    }
    if (Date.now() > deadline) throw new Error(`no "${msg}" line in:\n${sy.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A configuration file for the executable: `settings` lines, then one project `slug` whose
 * deployment `v1` proxies to `replica`. Returns its path (in a fresh temporary directory).
 */
export function configWithProject(
  settings: readonly string[],
  replica: string,
  slug = 'api',
): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sy-config-')), 'switchyard.yaml');
  writeFileSync(
    file,
    [
      ...settings,
      'projects:',
      `  - slug: ${slug}`,
      '    deployments:',
      `      - { id: v1, upstream: { replicas: ["${replica}"] } }`,
      '',
    ].join('\n'),
  );
  return file;
}
