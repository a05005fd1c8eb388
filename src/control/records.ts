/**
 * The typed records the control plane keeps in the state store, and how they become the
 * site model the route table is compiled from. The store itself only sees JSON.
 */
import type { DeploymentRecord, DomainRecord, ProjectRecord } from '../model/records.js';
import type { ProjectSpec } from '../model/site.js';

export type {
  DeploymentRecord,
  DomainRecord,
  ProjectRecord,
  TokenRecord,
  TokenScope,
} from '../model/records.js';
import type { StoreMirror } from '../store/store-mirror.js';

/** Deployments are keyed `<project>/<id>`: listing by prefix gives a project's deployments. */
export const deploymentKey = (project: string, id: string) => `${project}/${id}`;

/** Production history kept for rollback. */
export const HISTORY_KEPT = 20;

/** The site model of every project in the store (the route table's input). */
export function projectsFromMirror(replica: StoreMirror): ProjectSpec[] {
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
      publicBuildLogs: p.publicBuildLogs ?? false,
      ...(p.maxBodyBytes === undefined ? {} : { maxBodyBytes: p.maxBodyBytes }),
      ...(p.rateLimit === undefined ? {} : { rateLimit: p.rateLimit }),
      ...(p.protection === undefined ? {} : { protection: p.protection }),
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
