/** Start a real data plane (EdgeServer) on a free loopback port, with its log lines collected in memory. */
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load-config.js';
import { EdgeServer } from '../../src/server/edge-server.js';

export interface TestSwitchyard {
  readonly sy: EdgeServer;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  /** Every log line written so far, parsed. */
  readonly logs: Record<string, unknown>[];
  close(graceMs?: number): Promise<void>;
}

/** `raw` is a configuration object as the YAML file would hold it. */
export async function startSwitchyard(raw: Record<string, unknown> = {}): Promise<TestSwitchyard> {
  const loaded = loadConfig({
    raw: {
      ...raw,
      listen: { host: '127.0.0.1', port: 0, ...(raw.listen as object | undefined) },
      shutdown: { graceMs: 2000, ...(raw.shutdown as object | undefined) },
    },
  });
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const sy = await EdgeServer.start(loaded, { logger });
  return {
    sy,
    origin: `http://127.0.0.1:${sy.port}`,
    port: sy.port,
    logs,
    close: (graceMs) => sy.close(graceMs ?? 0),
  };
}

/** A project with one static deployment. */
export function staticProject(slug: string, dir: string, extra: Record<string, unknown> = {}) {
  const { spa, cleanUrls, ...rest } = extra;
  return {
    slug,
    deployments: [
      {
        id: 'd1',
        static: {
          dir,
          ...(spa === undefined ? {} : { spa }),
          ...(cleanUrls === undefined ? {} : { cleanUrls }),
        },
      },
    ],
    ...rest,
  };
}

/** A project with one upstream deployment. */
export function upstreamProject(
  slug: string,
  replicas: string[],
  extra: Record<string, unknown> = {},
) {
  return { slug, deployments: [{ id: 'd1', upstream: { replicas } }], ...extra };
}
