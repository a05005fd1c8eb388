/**
 * A whole Switchyard instance in-process — data plane, state store, admin API — on free
 * loopback ports, with a temporary data directory (or the one given) and a known admin token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { loadConfig } from '../../src/config/load-config.js';
import { startInstance, type Instance } from '../../src/app/instance.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

export interface TestEdge {
  readonly instance: Instance;
  /** `http://127.0.0.1:<port>` of the data plane. */
  readonly origin: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` of the admin API. */
  readonly admin: string;
  readonly dataDir: string;
  readonly logs: Record<string, unknown>[];
  /** Call the admin API with the admin token (or `token`); JSON in and out. */
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startEdge(
  raw: Record<string, unknown> = {},
  dataDir?: string,
): Promise<TestEdge> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'sy-edge-'));
  const loaded = loadConfig({
    raw: {
      dataDir: dir,
      ...raw,
      listen: { host: '127.0.0.1', port: 0, ...(raw.listen as object | undefined) },
      admin: { port: 0, token: ADMIN_TOKEN, ...(raw.admin as object | undefined) },
      https: { port: 0, ...(raw.https as object | undefined) },
      shutdown: { graceMs: 0, ...(raw.shutdown as object | undefined) },
      log: { access: false, ...(raw.log as object | undefined) },
    },
  });
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const instance = await startInstance(loaded, logger);
  const admin = `http://127.0.0.1:${instance.control.adminPort}`;
  return {
    instance,
    origin: `http://127.0.0.1:${instance.sy.port}`,
    port: instance.sy.port,
    admin,
    dataDir: dir,
    logs,
    async api(method, path, body, token = ADMIN_TOKEN) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await request(`${admin}${path}`, {
        method: method as 'GET',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.statusCode, headers: res.headers, body: parsed };
    },
    close: () => instance.close(0),
  };
}

/**
 * A ready upstream deployment `id` of `slug` with the given replicas, through the admin API;
 * the project is created first unless `create` is false. Fails loudly on a non-2xx answer.
 */
export async function deployUpstream(
  edge: Pick<TestEdge, 'api'>,
  slug: string,
  replicas: string[],
  options: { id?: string; create?: boolean } = {},
): Promise<void> {
  if (options.create !== false) {
    const project = await edge.api('POST', '/v1/projects', { slug });
    if (project.status >= 300) throw new Error(`project ${slug}: ${JSON.stringify(project.body)}`);
  }
  const res = await edge.api('POST', `/v1/projects/${slug}/deployments`, {
    id: options.id ?? 'd1',
    status: 'ready',
    origin: { upstream: { replicas } },
  });
  if (res.status >= 300) throw new Error(`deployment of ${slug}: ${JSON.stringify(res.body)}`);
}
