/** `switchyard start`: load the configuration, serve, reload on change, drain on SIGTERM. */
import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/schema.js';
import { claimDataDir } from './data-dir-lock.js';
import { watchConfigFile } from '../config/config-watcher.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../observability/logger.js';
import { startInstance } from './instance.js';
import type { LoadedConfig } from '../config/load-config.js';
import { isClusterWorker, leaveCluster, runPrimary, workerCount } from './cluster.js';

export interface StartArgs {
  readonly file: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

/** Resolves with the exit code once the server has shut down. Throws ConfigError. */
export async function start({ file, env }: StartArgs): Promise<number> {
  // Everything Switchyard writes (store, keys, uploads, cache) is its own: owner only.
  process.umask(0o077);
  const loaded = loadConfig({ file, env });
  const logger = createLogger(loaded.config.log.level);
  const workers = workerCount(loaded.config.workers);
  if (!isClusterWorker()) claimDataDir(loaded); // workers run under their primary's claim
  if (workers > 1 && !isClusterWorker()) {
    const code = await runPrimary(workers, logger, (port) => printBanner(loaded, port, workers));
    logger.flush();
    return code;
  }
  let instance;
  try {
    instance = await startInstance(loaded, logger);
  } catch (err) {
    throw listenError(err, loaded.config) ?? err;
  }
  const { sy, control } = instance;
  const { config } = loaded;
  if (!isClusterWorker()) {
    const httpsPort = sy.httpsPort;
    const tls = control.tls;
    const extra = [
      httpsPort === undefined || tls === undefined
        ? undefined
        : `https on port ${httpsPort} (certificates: ${tls.issuerName === 'local' ? `local CA, trust ${tls.localCa.caFile}` : 'ACME'})`,
      adminLine(config.admin.host, control.adminPort, control.adminTokenFile),
    ].filter((l): l is string => l !== undefined);
    printBanner(loaded, sy.port, 1, extra);
  }
  logger.info({ port: sy.port, projects: loaded.projects.length, file: loaded.file }, 'listening');

  const stopWatching =
    loaded.file === undefined
      ? () => {}
      : watchConfigFile(loaded.file, () => {
          try {
            const next = loadConfig({ file: loaded.file, env });
            sy.apply(next);
            logger.info(
              { projects: next.projects.length, file: next.file },
              'configuration reloaded',
            );
          } catch (err) {
            const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
            logger.error(
              { problems, file: loaded.file },
              'configuration change refused; the running configuration stays',
            );
          }
        });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal, graceMs: config.shutdown.graceMs }, 'shutting down');
  stopWatching();
  await instance.close();
  logger.info('stopped');
  logger.flush();
  leaveCluster();
  return 0;
}

function printBanner(
  loaded: LoadedConfig,
  port: number,
  workers: number,
  extra: string[] = [],
): void {
  const { config } = loaded;
  const domain = config.platform.domains[0];
  const lines = [
    `switchyard listening on http://${config.listen.host}:${port}${workers > 1 ? ` (${workers} workers)` : ''}`,
  ];
  const SHOWN = 10;
  for (const p of loaded.projects.slice(0, SHOWN)) {
    const host = config.platform.hosts[0];
    if (host !== undefined) lines.push(`  ${p.slug}: http://${host}:${port}/${p.slug}/`);
    if (domain !== undefined) lines.push(`  ${p.slug}: http://${p.slug}.${domain}:${port}/`);
  }
  const more = loaded.projects.length - SHOWN;
  if (more > 0) lines.push(`  … and ${more} more projects`);
  lines.push(...extra);
  // One write: whoever reads the banner (a test, a supervisor) gets all of it at once.
  process.stderr.write(`${lines.join('\n')}\n`);
}

function adminLine(host: string, port: number | undefined, tokenFile: string | undefined) {
  if (port === undefined) return undefined;
  const token = tokenFile === undefined ? 'admin.token from the configuration' : tokenFile;
  return `admin API on http://${host}:${port}/ (token: ${token})`;
}

/**
 * A port already taken (or not allowed) is a configuration problem: say which option and
 * variable move it, not a stack trace.
 */
function listenError(err: unknown, config: Config): ConfigError | undefined {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') return undefined;
  const which =
    e.port === config.listen.port
      ? 'listen.port (or PORT) for HTTP'
      : e.port === config.https.port
        ? 'https.port (or SWITCHYARD_HTTPS_PORT) for HTTPS'
        : e.port === config.admin.port
          ? 'admin.port (or SWITCHYARD_ADMIN_PORT) for the admin API'
          : 'the listener options';
  const what =
    e.code === 'EADDRINUSE'
      ? `port ${e.port} on ${e.address} is already in use (another Switchyard, or another server?)`
      : `port ${e.port} on ${e.address} needs privileges this process does not have (ports below 1024 need CAP_NET_BIND_SERVICE)`;
  return new ConfigError(`${what}; choose another with ${which}`, [what]);
}
