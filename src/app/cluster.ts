/**
 * Multi-core mode (`workers` > 1): the primary process forks that many workers with
 * node:cluster; each worker is a whole Switchyard (it loads the configuration, watches it and
 * serves) and they share the listening sockets. The primary only supervises: it prints the
 * banner once, forwards SIGHUP, restarts a worker that dies (with a growing back-off while
 * they keep dying young) and, on SIGTERM/SIGINT, lets every worker drain and waits for them.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { serveClusterMetrics } from '../observability/metrics.js';

/** `workers: 0` means one per CPU core. */
export function workerCount(configured: number): number {
  return configured === 0 ? availableParallelism() : configured;
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** A worker that has stopped serving lets go of the primary's channel, so it can exit. */
export function leaveCluster(): void {
  cluster.worker?.disconnect();
}

const MIN_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that lived this long before dying resets the back-off. */
const HEALTHY_LIFETIME_MS = 10_000;

/** Runs the primary; resolves with the exit code once every worker has stopped. */
export async function runPrimary(
  count: number,
  logger: Logger,
  onListening: (port: number) => void,
): Promise<number> {
  // Let the kernel spread connections over workers' accept() calls instead of passing every
  // connection through the primary (round robin costs the primary a core's share).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  serveClusterMetrics();
  let stopping = false;
  let announced = false;
  let restartDelay = MIN_RESTART_DELAY_MS;
  const bornAt = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork();
    bornAt.set(worker, Date.now());
  };
  cluster.on('listening', (_worker, address) => {
    if (announced) return;
    announced = true;
    onListening(address.port);
  });
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (bornAt.get(worker) ?? 0);
    bornAt.delete(worker);
    if (stopping) return;
    restartDelay =
      lived > HEALTHY_LIFETIME_MS
        ? MIN_RESTART_DELAY_MS
        : Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
    logger.error(
      { worker: worker.process.pid, code, signal, restartInMs: restartDelay },
      'worker died; starting another',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelay).unref();
  });
  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count }, 'primary started');

  const forwardHangup = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  };
  process.on('SIGHUP', forwardHangup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  stopping = true;
  process.off('SIGHUP', forwardHangup);
  logger.info({ signal }, 'shutting down workers');
  const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  await Promise.all(
    alive.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once('exit', () => resolve());
          w.process.kill('SIGTERM');
        }),
    ),
  );
  logger.info('stopped');
  return 0;
}
