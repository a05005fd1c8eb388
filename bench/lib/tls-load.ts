/** TLS load generators: `openssl s_time` for new handshakes, `h2load` for HTTP/2. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

function pinned(cpus: string | undefined, file: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [file, args] : ['taskset', ['-c', cpus, file, ...args]];
}

/** Full handshakes (no session reuse) for `seconds`, one connection at a time. */
export async function newHandshakes(
  hostPort: string,
  options: { seconds: number; cpus?: string },
): Promise<{ connections: number; perSecond: number }> {
  const [file, args] = pinned(options.cpus, 'openssl', [
    's_time',
    '-connect',
    hostPort,
    '-new',
    '-time',
    String(options.seconds),
  ]);
  const { stdout } = await run(file, args, { timeout: (options.seconds + 30) * 1000 });
  // "1234 connections in 5 real seconds, 100 bytes read per connection"
  const m = /(\d+) connections in (\d+) real seconds/.exec(stdout);
  if (m === null) throw new Error(`openssl s_time: unexpected output\n${stdout}`);
  const connections = Number(m[1]);
  return { connections, perSecond: connections / Number(m[2]) };
}

/** HTTP/2 requests over 16 connections, 10 streams each. */
export async function h2load(
  url: string,
  options: { requests: number; cpus?: string },
): Promise<{ requests: number; perSecond: number }> {
  const [file, args] = pinned(options.cpus, 'h2load', [
    '-c16',
    '-m10',
    '-t1',
    `-n${options.requests}`,
    url,
  ]);
  const { stdout } = await run(file, args, { timeout: 120_000 });
  const rate = /finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(stdout);
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(stdout);
  if (rate === null || done === null) throw new Error(`h2load: unexpected output\n${stdout}`);
  if (done[2] !== done[1])
    throw new Error(`h2load: ${done[1]} done but ${done[2]} succeeded\n${stdout}`);
  return { requests: Number(done[2]), perSecond: Number(rate[1]) };
}
