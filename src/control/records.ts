/**
 * The typed records the control plane keeps in the state store, and how they become the
 * site model the route table is compiled from. The store itself only sees JSON.
 */
import type { DeploymentStatus, OriginSpec, ProjectSpec } from '../model/site.js';
import type { Replica } from '../store/replica.js';

export interface ProjectRecord {
  readonly slug: string;
  readonly rootPaths: readonly string[];
  /** Redirect plain HTTP to HTTPS (absent in records written before it existed: false). */
  readonly httpsRedirect?: boolean;
  /** Deployment id the production alias points at; null before the first promote. */
  readonly production: string | null;
  /** Earlier production deployments, most recent first (rollback walks this). */
  readonly history: readonly string[];
  /** Branch aliases: name → deployment id. */
  readonly aliases: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DeploymentRecord {
  readonly project: string;
  readonly id: string;
  readonly status: DeploymentStatus;
  /** What the build server said with the last status (an error's cause, say). */
  readonly message: string | null;
  readonly origin: OriginSpec | null;
  /** Free-form labels from the build server (branch, commit …). */
  readonly meta: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DomainRecord {
  readonly domain: string;
  readonly project: string;
  readonly verified: boolean;
  /** What the owner publishes in the TXT record `_switchyard.<domain>`. */
  readonly verificationToken: string;
  readonly createdAt: string;
}

export type TokenScope = 'admin' | 'deploy';

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly scope: TokenScope;
  /** SHA-256 of the secret, hex; the secret itself is shown once, at creation. */
  readonly sha256: string;
  readonly createdAt: string;
}

/** Deployments are keyed `<project>/<id>`: listing by prefix gives a project's deployments. */
export const deploymentKey = (project: string, id: string) => `${project}/${id}`;

/** Production history kept for rollback. */
export const HISTORY_KEPT = 20;

/** Legal status transitions (the build server reports them in this order). */
export const TRANSITIONS: Readonly<Record<DeploymentStatus, readonly DeploymentStatus[]>> = {
  queued: ['building', 'ready', 'error', 'canceled'],
  building: ['ready', 'error', 'canceled'],
  ready: [],
  error: [],
  canceled: [],
};

/** The site model of every project in the store (the route table's input). */
export function projectsFromReplica(replica: Replica): ProjectSpec[] {
  const byProject = new Map<string, DeploymentRecord[]>();
  for (const r of replica.values('deployment')) {
    const d = r.value as unknown as DeploymentRecord;
    if (d.origin === null && d.status === 'ready') continue;
    let list = byProject.get(d.project);
    if (list === undefined) byProject.set(d.project, (list = []));
    list.push(d);
  }
  const domains = new Map<string, string[]>();
  for (const r of replica.values('domain')) {
    const d = r.value as unknown as DomainRecord;
    if (!d.verified) continue;
    let list = domains.get(d.project);
    if (list === undefined) domains.set(d.project, (list = []));
    list.push(d.domain);
  }
  const out: ProjectSpec[] = [];
  for (const r of replica.values('project')) {
    const p = r.value as unknown as ProjectRecord;
    const deployments = byProject.get(p.slug) ?? [];
    out.push({
      slug: p.slug,
      // Before the first promote, the newest deployment answers: its building page, then
      // (the first ready deployment is promoted) the app.
      production: p.production ?? newest(deployments)?.id,
      aliases: p.aliases,
      domains: domains.get(p.slug) ?? [],
      rootPaths: p.rootPaths,
      httpsRedirect: p.httpsRedirect ?? false,
      deployments: deployments.map((d) => ({
        id: d.id,
        status: d.status,
        ...(d.message === null ? {} : { message: d.message }),
        // A deployment without an origin yet (queued, building) only ever shows its status page.
        origin: d.origin ?? { kind: 'upstream', replicas: [] },
      })),
    });
  }
  return out;
}

function newest(deployments: readonly DeploymentRecord[]): DeploymentRecord | undefined {
  let best: DeploymentRecord | undefined;
  for (const d of deployments) if (best === undefined || d.createdAt > best.createdAt) best = d;
  return best;
}
