/**
 * Processes the benchmark starts: each tracked by pid and stopped on exit, failure or Ctrl-C.
 * Optionally pinned to CPUs with taskset.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const started = new Set<ChildProcess>();

/** Signal a process and everything it started (nginx's workers too): its process group. */
function signalGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-p.pid!, signal);
  } catch {
    p.kill(signal);
  }
}

export function stopAll(): void {
  for (const p of started) if (p.exitCode === null) signalGroup(p, 'SIGKILL');
  started.clear();
}
process.once('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    stopAll();
    process.exit(130);
  });
}

export interface Started {
  readonly proc: ChildProcess;
  readonly pid: number;
  output(): string;
}

/** Start `cmd args` (pinned to `cpus` when given, e.g. "1"). */
export function start(
  cmd: string,
  args: string[],
  options: { cpus?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Started {
  const [file, argv] =
    options.cpus === undefined ? [cmd, args] : ['taskset', ['-c', options.cpus, cmd, ...args]];
  const proc = spawn(file, argv, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so that stopping it stops its children
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  proc.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  started.add(proc);
  proc.once('exit', () => started.delete(proc));
  return { proc, pid: proc.pid!, output: () => out };
}

export async function stop(p: Started): Promise<void> {
  if (p.proc.exitCode !== null) return;
  signalGroup(p.proc, 'SIGTERM');
  for (let i = 0; i < 50 && p.proc.exitCode === null && p.proc.signalCode === null; i++)
    await sleep(20);
  signalGroup(p.proc, 'SIGKILL');
}

/** Resolve when something accepts connections on the port. */
export async function waitForPort(port: number, what: string, p?: Started): Promise<void> {
  // Up to 60 s: Switchyard with 100,000 projects in a YAML file takes ~10 s to start.
  for (let i = 0; i < 1200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (p !== undefined && p.proc.exitCode !== null)
      throw new Error(`${what} exited: ${p.output()}`);
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}: ${p?.output() ?? ''}`);
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
