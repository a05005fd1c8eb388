/**
 * The control plane of one instance: opens the state store (embedded or Redis), mirrors it
 * in a replica that recompiles the route table on every change, fans deployment events out
 * to event streams, and runs the admin API. The data plane only ever sees the compiled table.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';
import { adminToken, TokenVerifier } from '../admin/tokens.js';
import { Uploads } from '../admin/uploads.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../observability/logger.js';
import { gauge, replicaGauges } from '../observability/metrics.js';
import { explainUrl } from '../routing/explain.js';
import type { Switchyard } from '../server/switchyard.js';
import { EmbeddedStore } from '../store/embedded-store.js';
import { RedisStore, redact } from '../store/redis-store.js';
import { Replica } from '../store/replica.js';
import type { Change, JsonValue, StateStore } from '../store/state-store.js';
import { TlsNode } from '../tls/tls-node.js';
import type { PurgeSelector } from '../cache/cache-store.js';
import { upstreamOf } from '../origin/origin-registry.js';
import { ControlPlane } from './control-plane.js';
import { EventHub } from './event-hub.js';
import { projectsFromReplica } from './records.js';

export interface ControlNodeOptions {
  readonly logger: Logger;
  /** Start the admin API (the default follows `admin.enabled`). */
  readonly admin?: boolean;
}

/** Interrupted uploads older than this are swept at start (younger ones may be in flight in another worker). */
const STALE_UPLOAD_MS = 60 * 60 * 1000;

export async function openStore(loaded: LoadedConfig): Promise<StateStore> {
  const spec = loaded.config.store;
  if (spec === 'embedded') return new EmbeddedStore(join(loaded.dataDir, 'state.db'));
  if (spec.startsWith('unix:')) return RedisStore.connect({ url: spec.slice('unix:'.length) });
  const url = new URL(spec);
  const prefix = url.searchParams.get('prefix') ?? undefined;
  url.search = '';
  return RedisStore.connect({ url: url.toString(), ...(prefix === undefined ? {} : { prefix }) });
}

export class ControlNode {
  readonly store: StateStore;
  readonly replica: Replica;
  readonly hub: EventHub;
  readonly control: ControlPlane;
  readonly #admin: AdminServer | undefined;
  readonly #adminTokenFile: string | undefined;
  readonly tls: TlsNode | undefined;

  private constructor(parts: {
    store: StateStore;
    replica: Replica;
    hub: EventHub;
    control: ControlPlane;
    admin: AdminServer | undefined;
    adminTokenFile: string | undefined;
    tls: TlsNode | undefined;
  }) {
    this.tls = parts.tls;
    this.store = parts.store;
    this.replica = parts.replica;
    this.hub = parts.hub;
    this.control = parts.control;
    this.#admin = parts.admin;
    this.#adminTokenFile = parts.adminTokenFile;
  }

  static async start(
    loaded: LoadedConfig,
    sy: Switchyard,
    options: ControlNodeOptions,
  ): Promise<ControlNode> {
    const { logger } = options;
    const { config } = loaded;
    const store = await openStore(loaded);
    logger.info(
      {
        store: store.name,
        where: store.name === 'embedded' ? loaded.dataDir : redact(config.store),
      },
      'state store open',
    );
    const hub = new EventHub();
    let pending: NodeJS.Immediate | undefined;
    let changed: Change[] | 'reloaded' = [];
    let tls: TlsNode | undefined;
    const recompile = (changes: readonly Change[] | 'reloaded') => {
      changed =
        changes === 'reloaded' || changed === 'reloaded' ? 'reloaded' : [...changed, ...changes];
      // Coalesce a burst of changes into one compile; runs after `replica` is assigned.
      pending ??= setImmediate(() => {
        pending = undefined;
        const batch = changed;
        changed = [];
        sy.setStoreProjects(projectsFromReplica(replica));
        // Purges travel as store records so every instance of a fleet applies them.
        if (batch !== 'reloaded' && sy.cache !== undefined) {
          for (const c of batch) {
            if (c.kind === 'purge' && c.value !== null)
              void sy.cache.purge(c.value as PurgeSelector);
          }
        }
        tls?.refresh(batch);
        tls?.onDomains(batch); // after the compile: a newly verified domain now routes
      });
    };
    const replica: Replica = await Replica.open(store, logger, {
      onRecords: recompile,
      onDeploymentEvent: (e) =>
        hub.publish({
          project: e.project,
          deployment: e.deployment,
          revision: e.revision,
          event: e.event,
        }),
      onConnection: (connected) => sy.setStoreHealth(connected ? 'ok' : 'degraded'),
    });
    sy.setStoreProjects(projectsFromReplica(replica));
    sy.setLive({ hub, store });
    gauge(
      'switchyard_store_connected',
      '1 while the state store is reachable, 0 while degraded.',
      () => (replica.degraded ? 0 : 1),
    );
    gauge(
      'switchyard_store_revision',
      'Store revision the route table reflects.',
      () => replica.revision,
    );
    replicaGauges(() => sy.replicaFigures());
    gauge(
      'switchyard_projects',
      'Projects in the route table (file and store).',
      () => sy.routes.size,
    );

    const control = new ControlPlane(store, new Set(loaded.projects.map((p) => p.slug)));
    sy.onFileProjects((slugs) => control.setDeclared(slugs));

    if (config.https.enabled) {
      tls = await TlsNode.start({ loaded, sy, store, replica, logger });
    }

    const uploads = new Uploads(control, loaded.dataDir, {
      maxBytes: config.admin.uploadMaxBytes,
      maxUnpackedBytes: config.admin.uploadMaxUnpackedBytes,
      maxEntries: config.admin.uploadMaxEntries,
    });
    await sweepStaleUploads(join(loaded.dataDir, 'deployments', '.incoming'));

    let admin: AdminServer | undefined;
    let adminTokenFile: string | undefined;
    if (options.admin ?? config.admin.enabled) {
      const token = adminToken(config.admin.token, loaded.dataDir);
      adminTokenFile = token.file;
      admin = await startAdminServer(
        {
          control,
          replica,
          hub,
          tokens: new TokenVerifier(token.token, replica),
          uploads,
          logger,
          health: () => {
            const h = sy.health();
            return {
              ...h,
              store: { kind: store.name, connected: !replica.degraded, revision: replica.revision },
            };
          },
          pointTo: {
            ...(config.domains.cnameTarget === undefined
              ? {}
              : { cname: config.domains.cnameTarget }),
            ...(config.domains.addresses.length === 0 ? {} : { a: config.domains.addresses }),
          },
          replicas: (project, deployment) => {
            const origin = upstreamOf(sy.routes.project(project)?.previews.get(deployment)?.origin);
            return origin === undefined ? undefined : (origin.replicas() as unknown as JsonValue);
          },
          certificates: () => (tls?.manager.list() ?? []) as unknown as JsonValue,
          verifyDomain: async (domain) =>
            ((await tls?.verifier.check(domain)) ?? null) as unknown as JsonValue,
          urls: (project, deployment) => deploymentUrls(loaded, sy.port, project, deployment),
          explain: (host, path) =>
            explainUrl(sy.routes, sy.projectSpecs(), host, path) as unknown as JsonValue,
        },
        {
          host: config.admin.host,
          port: config.admin.port,
          bodyLimitBytes: config.admin.uploadMaxBytes,
        },
      );
      logger.info({ port: admin.port, host: config.admin.host }, 'admin API listening');
    }
    return new ControlNode({ store, replica, hub, control, admin, adminTokenFile, tls });
  }

  /** Port of the admin API, if it runs. */
  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  /** Where the generated admin token is, when it was generated. */
  get adminTokenFile(): string | undefined {
    return this.#adminTokenFile;
  }

  async close(): Promise<void> {
    await this.tls?.stop();
    await this.#admin?.close();
    this.replica.close();
    await this.store.close();
  }
}

async function sweepStaleUploads(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (s !== undefined && Date.now() - s.mtimeMs > STALE_UPLOAD_MS) {
      await rm(path, { recursive: true, force: true });
    }
  }
}

/** Preview and production URLs on the first platform domain and host. */
function deploymentUrls(loaded: LoadedConfig, port: number, project: string, deployment: string) {
  const { hosts, domains } = loaded.config.platform;
  const suffix = port === 80 ? '' : `:${port}`;
  const domain = domains[0];
  const host = hosts[0];
  const production: string[] = [];
  if (domain !== undefined) production.push(`http://${project}.${domain}${suffix}/`);
  if (host !== undefined) production.push(`http://${host}${suffix}/${project}/`);
  return {
    ...(domain === undefined
      ? {}
      : { preview: `http://${deployment}--${project}.${domain}${suffix}/` }),
    production,
  };
}
