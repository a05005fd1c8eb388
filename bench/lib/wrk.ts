/** Run wrk and read its report. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  /** CPU time wrk itself used (user + system), in microseconds. */
  readonly clientCpuMicros: number;
}

function ms(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

export async function wrk(
  url: string,
  options: { connections: number; seconds: number; cpus?: string; headers?: string[] },
): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency'];
  for (const h of options.headers ?? []) args.push('-H', h);
  args.push(url);
  // `times` (a shell builtin) prints the CPU time of the shell's children: wrk's own cost.
  const shell = ['sh', '-c', 'wrk "$@"; times', 'sh', ...args];
  const [file, argv] =
    options.cpus === undefined
      ? [shell[0]!, shell.slice(1)]
      : ['taskset', ['-c', options.cpus, ...shell]];
  const { stdout } = await run(file, argv, { timeout: (options.seconds + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    stdout,
  );
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  const times = [...stdout.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  const clientCpuMicros = times
    ? (Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4])) * 1e6
    : NaN;
  return {
    clientCpuMicros,
    rps,
    requests,
    errors,
    p50Ms: p50 ? ms(p50[1]!, p50[2]!) : NaN,
    p99Ms: p99 ? ms(p99[1]!, p99[2]!) : NaN,
  };
}
