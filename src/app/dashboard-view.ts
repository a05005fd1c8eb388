/**
 * What the dashboard shows, read from memory (the store's mirror, the route table, the fleet
 * view, this process's counters) — never awaiting the store, so a second-by-second stream
 * costs little. Traffic is the fleet's: every instance's heartbeat carries its busiest
 * projects' counters (a few seconds old), and this instance's own are read live.
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

export function dashboardSnapshot(sources: DashboardSources, scope: DashboardScope) {
  const { sy, mirror, fleet } = sources;
  const reaches = (slug: string) => scope.projects === undefined || scope.projects.has(slug);
  const instances = fleet.all();
  const traffic = sumTraffic(
    instances
      .filter((r) => r.id !== sources.selfId)
      .map((r) => (r.traffic ?? {}) as unknown as Record<string, TrafficCounters>)
      .concat([sy.traffic.snapshot()]),
  );

  const deployments = new Map<string, DeploymentRecord[]>();
  for (const r of mirror.values('deployment')) {
    const d = r.value as unknown as DeploymentRecord;
    if (!reaches(d.project)) continue;
    let list = deployments.get(d.project);
    if (list === undefined) deployments.set(d.project, (list = []));
    list.push(d);
  }
  const domains = new Map<string, DomainRecord[]>();
  for (const r of mirror.values('domain')) {
    const d = r.value as unknown as DomainRecord;
    if (!reaches(d.project)) continue;
    domains.set(d.project, [...(domains.get(d.project) ?? []), d]);
  }
  const stored = new Map<string, ProjectRecord>();
  for (const r of mirror.values('project')) {
    const p = r.value as unknown as ProjectRecord;
    if (reaches(p.slug)) stored.set(p.slug, p);
  }
  const declared = sources.declared();
  const specs = sy.projectSpecs();
  const slugs = new Set([...stored.keys(), ...[...specs.keys()].filter(reaches)]);
  const ordered = [...slugs]
    .sort((a, b) => (traffic[b]?.requests ?? 0) - (traffic[a]?.requests ?? 0) || a.localeCompare(b))
    .slice(0, DASHBOARD_PROJECTS);

  const projects = ordered.map((slug) => {
    const spec = specs.get(slug);
    const production = spec?.production ?? stored.get(slug)?.production ?? null;
    const fromStore = (deployments.get(slug) ?? [])
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
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
      aliases: spec?.aliases ?? stored.get(slug)?.aliases ?? {},
      deployments: list,
      domains: (domains.get(slug) ?? []).map((d) => ({ domain: d.domain, verified: d.verified })),
      replicas: production === null ? [] : (sources.replicas(slug, production) ?? []),
    };
  });

  return {
    at: new Date().toISOString(),
    instance: {
      id: sources.selfId,
      ...sy.health(),
      store: { kind: sources.storeKind, connected: !mirror.degraded, revision: mirror.revision },
    },
    projectsTotal: slugs.size,
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
