/**
 * A real redis-server for tests, on a unix socket in a temporary directory (no TCP port at
 * all). `stop()` and `start()` again keep the socket path, for "the store goes away and
 * comes back" tests; the append-only file (fsync on every write) keeps the data across a
 * stop, as a production Redis would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  /** Path of the unix socket. */
  readonly socket: string;
  /** `unix:<socket>`: the `store` setting that points Switchyard at it. */
  readonly storeUrl: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

async function waitForSocket(path: string, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(path, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-redis-'));
  const socket = join(dir, 'redis.sock');
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--unixsocket',
        socket,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    await waitForSocket(socket, proc);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (p === undefined || p.exitCode !== null) return;
    p.kill('SIGKILL');
    await once(p, 'exit');
  };
  await start();
  return {
    socket,
    storeUrl: `unix:${socket}`,
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
