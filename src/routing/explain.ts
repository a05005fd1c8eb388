/**
 * "Why does this URL go where it goes": the route a host and path take through the current
 * table, for the admin API (`GET /v1/explain?url=…`). Reads the same table the data plane
 * serves from, so the answer is what a request would get now.
 */
import type { OriginSpec, ProjectSpec } from '../model/site.js';
import { normalizeHost } from '../http/host.js';
import type { RouteTable, RoutedDeployment } from './route-table.js';

export interface Explanation {
  readonly host: string;
  readonly path: string;
  readonly served: boolean;
  /** How the project was found. */
  readonly via?: 'path' | 'subdomain' | 'preview' | 'custom-domain' | 'platform';
  readonly project?: string;
  /** `production`, a branch alias, or the deployment id of a preview host. */
  readonly alias?: string;
  readonly deployment?: { readonly id: string; readonly status: string };
  readonly origin?: OriginSpec;
  /** Why it is not served, when it is not. */
  readonly reason?: string;
}

export function explainUrl(
  table: RouteTable,
  specs: ReadonlyMap<string, ProjectSpec>,
  rawHost: string,
  rawPath: string,
): Explanation {
  const host = normalizeHost(rawHost) ?? rawHost;
  const path = rawPath === '' ? '/' : rawPath;
  const base = { host, path };
  const route = table.resolveHost(host);
  if (route === undefined)
    return { ...base, served: false, reason: 'no project is served at this host' };
  if (route.kind === 'unknown-preview') {
    return {
      ...base,
      served: false,
      via: 'preview',
      project: route.project.slug,
      reason: `project "${route.project.slug}" has no deployment or alias "${route.label}"`,
    };
  }
  if (route.kind === 'project') {
    const label = host.split('.')[0] ?? '';
    const alias = route.via === 'preview' ? label.slice(0, label.lastIndexOf('--')) : 'production';
    return describe(base, route.via, route.project.slug, alias, route.deployment, specs);
  }
  const slug = path.slice(1).split(/[/?]/)[0] ?? '';
  if (path.startsWith('/_switchyard/'))
    return { ...base, served: true, via: 'platform', reason: 'a platform endpoint' };
  const project = table.project(slug);
  if (project === undefined) {
    return {
      ...base,
      served: false,
      via: 'path',
      reason:
        slug === '' ? 'the platform host root names no project' : `no project is named "${slug}"`,
    };
  }
  return describe(base, 'path', slug, 'production', project.production, specs);
}

function describe(
  base: { host: string; path: string },
  via: NonNullable<Explanation['via']>,
  slug: string,
  alias: string,
  deployment: RoutedDeployment | undefined,
  specs: ReadonlyMap<string, ProjectSpec>,
): Explanation {
  if (deployment === undefined) {
    return {
      ...base,
      served: false,
      via,
      project: slug,
      alias,
      reason: `project "${slug}" has no production deployment yet`,
    };
  }
  const origin = specs.get(slug)?.deployments.find((d) => d.id === deployment.id)?.origin;
  return {
    ...base,
    served: deployment.status === 'ready',
    via,
    project: slug,
    alias,
    deployment: { id: deployment.id, status: deployment.status },
    ...(origin === undefined ? {} : { origin }),
    ...(deployment.status === 'ready'
      ? {}
      : { reason: `the deployment is ${deployment.status}: its status page is shown` }),
  };
}
