/**
 * What the dashboard shows, read from memory (the store's mirror, the route table, the fleet
 * view, this process's counters) — never awaiting the store, and shared by viewers, so a
 * second-by-second stream costs little beside the traffic it watches. Traffic is the
 * fleet's: every instance's heartbeat carries its busiest projects' counters (a few seconds
 * old), and this instance's own are read live.
 */
import type { FleetView } from '../control/instances.js';
import type { DeploymentRecord, DomainRecord, ProjectRecord } from '../model/records.js';
import { sumTraffic, type TrafficCounters } from '../observability/project-traffic.js';
import type { EdgeServer } from '../server/edge-server.js';
import type { StoreMirror } from '../store/store-mirror.js';

/** Most projects in one snapshot (the busiest first, then by name). */
export const DASHBOARD_PROJECTS = 200;
/** Newest deployments shown per project. */
const DEPLOYMENTS_SHOWN = 8;

export interface DashboardScope {
  /** The projects the caller's token reaches; undefined: all. */
  readonly projects: ReadonlySet<string> | undefined;
  /** The platform itself: also sees the fleet and certificates. */
  readonly trusted: boolean;
}

export interface DashboardSources {
  readonly sy: EdgeServer;
  readonly mirror: StoreMirror;
  readonly fleet: FleetView;
  /** This instance's id in the fleet (its live counters replace its heartbeat's). */
  readonly selfId: string;
  readonly storeKind: string;
  readonly declared: () => ReadonlySet<string>;
  readonly replicas: (project: string, deployment: string) => unknown[] | undefined;
  readonly certificates: () => unknown[];
}

interface ProjectIndex {
  /**
   * The route table's specs it was built with: every compile (a store change to projects,
   * deployments or domains, or a reload of the file) makes a new map.
   */
  readonly specs: ReadonlyMap<string, unknown>;
  readonly deployments: Map<string, DeploymentRecord[]>;
  readonly domains: Map<string, DomainRecord[]>;
  readonly stored: Map<string, ProjectRecord>;
  /** Every slug (store and file), sorted. */
  readonly slugs: readonly string[];
}

/** How long one snapshot is shared by every viewer with the same reach. */
const SHARED_MS = 900;

/**
 * Snapshots for the dashboard. What depends only on the routing records (projects,
 * deployments, domains) is indexed once per route-table compile, not per second: a platform with
 * 100,000 projects costs a sort and a map walk per deploy, and a snapshot costs its 200.
 */
export class DashboardView {
  readonly #sources: DashboardSources;
  #index: ProjectIndex | undefined;
  readonly #shared = new Map<string, { at: number; snapshot: unknown }>();

  constructor(sources: DashboardSources) {
    this.#sources = sources;
  }

  snapshot(scope: DashboardScope): unknown {
    const key = `${scope.trusted}|${scope.projects === undefined ? '*' : [...scope.projects].sort().join(',')}`;
    const now = Date.now();
    const shared = this.#shared.get(key);
    if (shared !== undefined && now - shared.at < SHARED_MS) return shared.snapshot;
    if (this.#shared.size > 1000) this.#shared.clear(); // many bound tokens: start over
    const snapshot = this.#build(scope);
    this.#shared.set(key, { at: now, snapshot });
    return snapshot;
  }

  #projectIndex(): ProjectIndex {
    const specs = this.#sources.sy.projectSpecs();
    if (this.#index?.specs === specs) return this.#index;
    const { mirror } = this.#sources;
    const deployments = new Map<string, DeploymentRecord[]>();
    for (const r of mirror.values('deployment')) {
      const d = r.value as unknown as DeploymentRecord;
      let list = deployments.get(d.project);
      if (list === undefined) deployments.set(d.project, (list = []));
      list.push(d);
    }
    for (const list of deployments.values())
      list.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const domains = new Map<string, DomainRecord[]>();
    for (const r of mirror.values('domain')) {
      const d = r.value as unknown as DomainRecord;
      domains.set(d.project, [...(domains.get(d.project) ?? []), d]);
    }
    const stored = new Map<string, ProjectRecord>();
    for (const r of mirror.values('project')) {
      const p = r.value as unknown as ProjectRecord;
      stored.set(p.slug, p);
    }
    const slugs = [...new Set([...stored.keys(), ...specs.keys()])].sort();
    this.#index = { specs, deployments, domains, stored, slugs };
    return this.#index;
  }

  #build(scope: DashboardScope) {
    const { sy, mirror, fleet } = this.#sources;
    const sources = this.#sources;
    const reaches = (slug: string) => scope.projects === undefined || scope.projects.has(slug);
    const index = this.#projectIndex();
    const instances = fleet.all();
    const traffic = sumTraffic(
      instances
        .filter((r) => r.id !== sources.selfId)
        .map((r) => (r.traffic ?? {}) as unknown as Record<string, TrafficCounters>)
        .concat([sy.traffic.snapshot()]),
    );
    const specs = sy.projectSpecs();
    const exists = (slug: string) => index.stored.has(slug) || specs.has(slug);
    // The busiest first, then by name, up to the limit.
    const ordered = Object.keys(traffic)
      .filter((slug) => reaches(slug) && exists(slug))
      .sort((a, b) => traffic[b]!.requests - traffic[a]!.requests);
    const chosen = new Set(ordered.slice(0, DASHBOARD_PROJECTS));
    const candidates =
      scope.projects === undefined ? index.slugs : [...scope.projects].filter(exists).sort();
    for (const slug of candidates) {
      if (chosen.size >= DASHBOARD_PROJECTS) break;
      chosen.add(slug);
    }
    const declared = sources.declared();
    const projects = [...chosen].map((slug) => {
      const spec = specs.get(slug);
      const record = index.stored.get(slug);
      const production = spec?.production ?? record?.production ?? null;
      const fromStore = (index.deployments.get(slug) ?? [])
        .slice(0, DEPLOYMENTS_SHOWN)
        .map((d) => ({ id: d.id, status: d.status, message: d.message, createdAt: d.createdAt }));
      const list =
        fromStore.length > 0 || spec === undefined
          ? fromStore
          : spec.deployments.map((d) => ({
              id: d.id,
              status: d.status,
              message: d.message ?? null,
              createdAt: null,
            }));
      return {
        slug,
        declared: declared.has(slug),
        production,
        aliases: spec?.aliases ?? record?.aliases ?? {},
        deployments: list,
        domains: (index.domains.get(slug) ?? []).map((d) => ({
          domain: d.domain,
          verified: d.verified,
        })),
        replicas: production === null ? [] : (sources.replicas(slug, production) ?? []),
      };
    });
    const reachable = scope.projects === undefined ? index.slugs.length : candidates.length;
    return {
      at: new Date().toISOString(),
      instance: {
        id: sources.selfId,
        ...sy.health(),
        store: { kind: sources.storeKind, connected: !mirror.degraded, revision: mirror.revision },
      },
      projectsTotal: reachable,
      traffic: Object.fromEntries(Object.entries(traffic).filter(([slug]) => reaches(slug))),
      projects,
      ...(scope.trusted
        ? {
            fleet: instances.map((r) => ({
              id: r.id,
              hostname: r.hostname,
              addresses: r.addresses,
              healthy: r.healthy,
              draining: r.draining,
              startedAt: r.startedAt,
              seenAt: r.seenAt,
            })),
            certificates: sources.certificates(),
          }
        : {}),
    };
  }
}
