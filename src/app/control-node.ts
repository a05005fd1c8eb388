/**
 * Wiring of one instance's control side: opens the state store (embedded or Redis), mirrors
 * it in memory and recompiles the data plane's route table on every change, fans deployment
 * events out to event streams, starts TLS and the admin API over the control plane. The
 * data plane only ever sees the compiled table and the in-memory event hub.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';
import { ControlPlane } from '../control/control-plane.js';
import { projectsFromMirror } from '../control/records.js';
import { adminToken } from '../control/tokens.js';
import { SIGNING_KEY_RECORD, signingKeyFrom } from '../control/protection.js';
import { EventHub } from '../live/event-hub.js';
import type { DeploymentRecord } from '../model/records.js';
import type { PurgeSelector } from '../model/purge.js';
import { isRateExchange } from '../model/rate-limit.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../observability/logger.js';
import { gauge, replicaGauges } from '../observability/metrics.js';
import { explainUrl } from '../routing/explain.js';
import type { EdgeServer } from '../server/edge-server.js';
import { StoreMirror } from '../store/store-mirror.js';
import {
  redactStoreUrl,
  type Change,
  type JsonValue,
  type RecordKind,
  type StateStore,
} from '../store/state-store.js';
import { Sealer } from '../secrets/sealer.js';
import { secureDataDir } from './data-dir.js';
import { TlsNode } from './tls-node.js';
import { upstreamOf } from '../server/origin-registry.js';
import { DnsNode } from './dns-node.js';
import { DashboardView, type DashboardSources } from './dashboard-view.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { discoverAddresses, FleetView, InstanceHeartbeat } from '../control/instances.js';

/** How many projects' traffic counters an instance's heartbeat carries (the busiest). */
const FLEET_TRAFFIC_PROJECTS = 50;

/** The record kinds the route table is compiled from. */
const ROUTING_KINDS: ReadonlySet<RecordKind> = new Set(['project', 'deployment', 'domain']);

export interface ControlNodeOptions {
  readonly logger: Logger;
  /** Start the admin API (the default follows `admin.enabled`). */
  readonly admin?: boolean;
}

/** Interrupted uploads older than this are swept at start (younger ones may be in flight in another worker). */
const STALE_UPLOAD_MS = 60 * 60 * 1000;

export async function openStore(loaded: LoadedConfig): Promise<StateStore> {
  const spec = loaded.config.store;
  if (spec === 'embedded') {
    // Each store's module is loaded only when used: a fleet instance on Redis never opens
    // SQLite, and one machine on the embedded store never loads ioredis (1.1 MB of heap that
    // every full collection would mark).
    const { EmbeddedStore } = await import('../store/embedded-store.js');
    return new EmbeddedStore(join(loaded.dataDir, 'state.db'));
  }
  const { RedisStore } = await import('../store/redis-store.js');
  if (spec.startsWith('unix:')) return RedisStore.connect({ url: spec.slice('unix:'.length) });
  const url = new URL(spec);
  const prefix = url.searchParams.get('prefix') ?? undefined;
  url.search = '';
  return RedisStore.connect({ url: url.toString(), ...(prefix === undefined ? {} : { prefix }) });
}

export class ControlNode {
  readonly store: StateStore;
  readonly mirror: StoreMirror;
  readonly hub: EventHub;
  readonly control: ControlPlane;
  readonly #admin: AdminServer | undefined;
  readonly #adminTokenFile: string | undefined;
  readonly tls: TlsNode | undefined;
  /** The DNS server (`dns.enabled`). */
  readonly dns: DnsNode | undefined;
  /** Who in the fleet is alive, from the instances' heartbeats. */
  readonly fleet: FleetView;
  readonly #heartbeat: InstanceHeartbeat;

  private constructor(parts: {
    store: StateStore;
    mirror: StoreMirror;
    hub: EventHub;
    control: ControlPlane;
    admin: AdminServer | undefined;
    adminTokenFile: string | undefined;
    tls: TlsNode | undefined;
    dns: DnsNode | undefined;
    fleet: FleetView;
    heartbeat: InstanceHeartbeat;
  }) {
    this.tls = parts.tls;
    this.dns = parts.dns;
    this.fleet = parts.fleet;
    this.#heartbeat = parts.heartbeat;
    this.store = parts.store;
    this.mirror = parts.mirror;
    this.hub = parts.hub;
    this.control = parts.control;
    this.#admin = parts.admin;
    this.#adminTokenFile = parts.adminTokenFile;
  }

  static async start(
    loaded: LoadedConfig,
    sy: EdgeServer,
    options: ControlNodeOptions,
  ): Promise<ControlNode> {
    const { logger } = options;
    const { config } = loaded;
    secureDataDir(loaded.dataDir, logger);
    const store = await openStore(loaded);
    secureDataDir(loaded.dataDir, logger); // files the store just created
    const { sealer, generated } = Sealer.load({
      envKey: process.env.SWITCHYARD_SECRET_KEY,
      keyFile: config.secrets.keyFile || join(loaded.dataDir, 'secret.key'),
    });
    if (generated) logger.info({ keyId: sealer.keyId }, 'sealing key generated');
    logger.info(
      {
        store: store.name,
        where: store.name === 'embedded' ? loaded.dataDir : redactStoreUrl(config.store),
      },
      'state store open',
    );
    const hub = new EventHub();
    let pending: NodeJS.Immediate | undefined;
    let changed: Change[] | 'reloaded' = [];
    let tls: TlsNode | undefined;
    let dns: DnsNode | undefined;
    const recompile = (changes: readonly Change[] | 'reloaded') => {
      changed =
        changes === 'reloaded' || changed === 'reloaded' ? 'reloaded' : [...changed, ...changes];
      // Coalesce a burst of changes into one compile; runs after `mirror` is assigned.
      pending ??= setImmediate(() => {
        pending = undefined;
        const batch = changed;
        changed = [];
        // Heartbeats, challenges, orders and certificates do not change routes: no compile.
        if (batch === 'reloaded' || batch.some((c) => ROUTING_KINDS.has(c.kind))) {
          sy.setStoreProjects(projectsFromMirror(mirror));
        }
        // Purges travel as store records so every instance of a fleet applies them.
        if (batch !== 'reloaded' && sy.cache !== undefined) {
          for (const c of batch) {
            if (c.kind === 'purge' && c.value !== null)
              void sy.cache.purge(c.value as PurgeSelector);
          }
        }
        fleet.onChanges(batch);
        dns?.onRecords(batch);
        tls?.refresh(batch);
        tls?.onDomains(batch); // after the compile: a newly verified domain now routes
      });
    };
    const mirror: StoreMirror = await StoreMirror.open(store, logger, {
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
    const fleet = new FleetView(mirror, config.fleet.heartbeatMs);
    sy.setStoreProjects(projectsFromMirror(mirror));
    sy.setLive(hub);
    // A fleet shares its rate limits through Redis (reconciled on a timer, never awaited).
    if (isRateExchange(store)) sy.shareRateLimits(store);
    seedBuildingEvents(store, mirror, hub);
    gauge(
      'switchyard_store_connected',
      '1 while the state store is reachable, 0 while degraded.',
      () => (mirror.degraded ? 0 : 1),
    );
    gauge(
      'switchyard_store_revision',
      'Store revision the route table reflects.',
      () => mirror.revision,
    );
    replicaGauges(() => sy.replicaFigures());
    gauge(
      'switchyard_projects',
      'Projects in the route table (file and store).',
      () => sy.routes.size,
    );

    const withAdmin = options.admin ?? config.admin.enabled;
    const token = withAdmin ? adminToken(config.admin.token, loaded.dataDir) : undefined;
    const control = new ControlPlane({
      store,
      mirror,
      adminSecret: token?.token,
      addressPolicy: sy.addressPolicy,
      logger,
      sealer,
      blobs: sy.blobs.store,
      dataDir: loaded.dataDir,
      uploads: {
        maxBytes: config.admin.uploadMaxBytes,
        maxUnpackedBytes: config.admin.uploadMaxUnpackedBytes,
        maxEntries: config.admin.uploadMaxEntries,
      },
    });
    control.setDeclared(new Set(loaded.projects.map((p) => p.slug)));
    control.blobGc.schedule(config.storage.gcIntervalMs, config.storage.gcGraceMs);
    sy.onFileProjects((slugs) => control.setDeclared(slugs));
    // Protected hosts verify cookies and share links with the platform's signing key, read
    // from the mirror (sealed in the store) — no await on the request path.
    let signing: { sealed: string; key: Buffer | undefined } | undefined;
    sy.setSigningKey(() => {
      const sealed = (
        mirror.get('account', SIGNING_KEY_RECORD)?.value as { keyPem?: string } | undefined
      )?.keyPem;
      if (sealed === undefined) return undefined;
      if (signing?.sealed !== sealed) {
        let key: Buffer | undefined;
        try {
          key = signingKeyFrom(sealed, sealer);
        } catch (err) {
          logger.error({ err }, 'the preview signing key cannot be opened with this sealing key');
        }
        signing = { sealed, key };
      }
      return signing.key;
    });

    // Every instance says it is alive (and what it serves) to the fleet through the store.
    const own = config.dns.addresses.length > 0 ? config.dns.addresses : discoverAddresses();
    const heartbeat = new InstanceHeartbeat({
      store,
      mirror,
      logger,
      id: `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
      hostname: hostname(),
      addresses: own,
      intervalMs: config.fleet.heartbeatMs,
      // The busiest projects' counters travel with it, for the fleet's dashboard.
      extra: () => ({
        traffic: sy.traffic.snapshot(FLEET_TRAFFIC_PROJECTS) as unknown as JsonValue,
      }),
    });
    await heartbeat.start();
    fleet.onChanges('reloaded');
    // DNS before TLS: a wildcard certificate is proved through it as soon as TLS starts.
    if (config.dns.enabled) dns = await DnsNode.start({ loaded, mirror, fleet, own, logger });
    if (config.https.enabled) {
      tls = await TlsNode.start({ loaded, sy, store, replica: mirror, logger, sealer });
    }
    await sweepStaleUploads(join(loaded.dataDir, 'deployments', '.incoming'));

    const replicasOf = (project: string, deployment: string) =>
      upstreamOf(sy.routes.project(project)?.previews.get(deployment)?.origin)?.replicas();
    const dashboardSources: DashboardSources = {
      sy,
      mirror,
      fleet,
      selfId: heartbeat.id,
      storeKind: store.name,
      declared: () => new Set(control.declaredProjects()),
      replicas: replicasOf,
      certificates: () => tls?.manager.list() ?? [],
    };
    const dashboard = new DashboardView(dashboardSources);
    let admin: AdminServer | undefined;
    if (withAdmin) {
      admin = await startAdminServer(
        {
          control,
          hub,
          logger,
          health: () => ({
            ...sy.health(),
            store: { kind: store.name, connected: !mirror.degraded, revision: mirror.revision },
          }),
          revision: () => mirror.revision,
          pointTo: {
            ...(config.domains.cnameTarget === undefined
              ? {}
              : { cname: config.domains.cnameTarget }),
            ...(config.domains.addresses.length === 0 ? {} : { a: config.domains.addresses }),
          },
          replicas: replicasOf,
          certificates: () => tls?.manager.list() ?? [],
          verifyDomain: async (domain) => (await tls?.verifier.check(domain)) ?? null,
          urls: (project, deployment) => deploymentUrls(loaded, sy.port, project, deployment),
          explain: (host, path) => explainUrl(sy.routes, sy.projectSpecs(), host, path),
          dashboard: (scope) => dashboard.snapshot(scope),
          blobGcGraceMs: config.storage.gcGraceMs,
        },
        {
          host: config.admin.host,
          port: config.admin.port,
          headersTimeoutMs: config.limits.headersTimeoutMs,
          requestTimeoutMs: config.limits.requestTimeoutMs,
          keepAliveTimeoutMs: config.limits.keepAliveTimeoutMs,
          sendTimeoutMs: config.limits.sendTimeoutMs,
        },
      );
      logger.info({ port: admin.port, host: config.admin.host }, 'admin API listening');
      sy.addSelfEndpoint({ host: config.admin.host, port: admin.port });
    }
    return new ControlNode({
      store,
      mirror,
      hub,
      control,
      admin,
      adminTokenFile: token?.file,
      tls,
      dns,
      fleet,
      heartbeat,
    });
  }

  /** Port of the admin API, if it runs. */
  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  /** Where the generated admin token is, when it was generated. */
  get adminTokenFile(): string | undefined {
    return this.#adminTokenFile;
  }

  /** SIGTERM: leave the fleet's DNS answers before connections are drained. */
  async drain(): Promise<void> {
    await this.#heartbeat.drain();
  }

  async close(): Promise<void> {
    this.control.blobGc.stop();
    await this.#heartbeat.stop();
    await this.dns?.close();
    await this.tls?.stop();
    await this.#admin?.close();
    this.mirror.close();
    await this.store.close();
  }
}

/**
 * Building pages read deployment events from memory only: seed the hub with the events of
 * deployments still queued or building, read from the store off the request path.
 */
function seedBuildingEvents(store: StateStore, mirror: StoreMirror, hub: EventHub): void {
  for (const r of mirror.values('deployment')) {
    const d = r.value as unknown as DeploymentRecord;
    if (d.status !== 'queued' && d.status !== 'building') continue;
    store
      .readEvents(d.project, d.id)
      .then((events) => hub.seed(d.project, d.id, events))
      .catch(() => {}); // the store is away: live events still arrive once it is back
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
