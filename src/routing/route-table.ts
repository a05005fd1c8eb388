/**
 * The route table: an immutable snapshot compiled from the site model, swapped whole on
 * change. Every lookup is a few Map reads keyed by host or slug — the same cost with 100,000
 * projects as with 10 — and never awaits anything.
 */
import type { ProjectRateLimits } from '../model/rate-limit.js';
import type { Origin } from '../origin/origin.js';
import type { Protection } from '../model/records.js';
import type { DeploymentStatus, ProjectSpec } from '../model/site.js';
import { normalizeHost } from '../http/host.js';

export interface RoutedDeployment {
  readonly id: string;
  readonly status: DeploymentStatus;
  /** What the build server said with the status (shown on the error page). */
  readonly message: string | undefined;
  readonly origin: Origin;
}

export interface RoutedProject {
  readonly slug: string;
  /** The production alias's deployment; undefined while nothing is deployed. */
  readonly production: RoutedDeployment | undefined;
  /** Deployment ids, and branch aliases, → deployment (for preview hosts). */
  readonly previews: ReadonlyMap<string, RoutedDeployment>;
  readonly rootPaths: readonly string[];
  readonly httpsRedirect: boolean;
  readonly publicBuildLogs: boolean;
  readonly protection: Protection | undefined;
  /** This project's request body limit, if it has its own. */
  readonly maxBodyBytes: number | undefined;
  /** This project's own rate limits, if any. */
  readonly rateLimit: ProjectRateLimits | undefined;
}

/** How a host resolved. */
export type HostRoute =
  | { readonly kind: 'platform' }
  | {
      readonly kind: 'project';
      readonly project: RoutedProject;
      readonly deployment: RoutedDeployment | undefined;
      /** How the host named the project. */
      readonly via: 'custom-domain' | 'subdomain' | 'preview';
    }
  | { readonly kind: 'unknown-preview'; readonly project: RoutedProject; readonly label: string }
  | undefined;

export interface PlatformSettings {
  /** Hosts that path routing answers on. */
  readonly hosts: readonly string[];
  /** Domains under which `<slug>.<domain>` and preview hosts route. */
  readonly domains: readonly string[];
}

/** Builds or reuses the origin of a deployment; see OriginRegistry. */
export type OriginFactory = (project: ProjectSpec, deploymentIndex: number) => Origin;

export class RouteTable {
  readonly #platformHosts: ReadonlySet<string>;
  /** `.example.com` for each platform domain, longest first. */
  readonly #domainSuffixes: readonly string[];
  readonly #projects: ReadonlyMap<string, RoutedProject>;
  readonly #domains: ReadonlyMap<string, RoutedProject>;

  private constructor(
    platformHosts: ReadonlySet<string>,
    domainSuffixes: readonly string[],
    projects: ReadonlyMap<string, RoutedProject>,
    domains: ReadonlyMap<string, RoutedProject>,
  ) {
    this.#platformHosts = platformHosts;
    this.#domainSuffixes = domainSuffixes;
    this.#projects = projects;
    this.#domains = domains;
  }

  /** Compile a table. `projects` must already be validated (unique slugs and domains). */
  static compile(
    platform: PlatformSettings,
    projects: readonly ProjectSpec[],
    originFor: OriginFactory,
  ): RouteTable {
    const bySlug = new Map<string, RoutedProject>();
    const byDomain = new Map<string, RoutedProject>();
    for (const spec of projects) {
      const deployments = new Map<string, RoutedDeployment>();
      spec.deployments.forEach((d, i) => {
        deployments.set(d.id, {
          id: d.id,
          status: d.status,
          message: d.message,
          origin: originFor(spec, i),
        });
      });
      const previews = new Map(deployments);
      for (const [alias, id] of Object.entries(spec.aliases)) {
        const target = deployments.get(id);
        if (target !== undefined && !previews.has(alias)) previews.set(alias, target);
      }
      const project: RoutedProject = {
        slug: spec.slug,
        production: spec.production === undefined ? undefined : deployments.get(spec.production),
        previews,
        rootPaths: spec.rootPaths,
        httpsRedirect: spec.httpsRedirect,
        publicBuildLogs: spec.publicBuildLogs === true,
        protection: spec.protection,
        maxBodyBytes: spec.maxBodyBytes,
        rateLimit: spec.rateLimit,
      };
      bySlug.set(spec.slug, project);
      for (const domain of spec.domains) byDomain.set(domain, project);
    }
    const suffixes = platform.domains
      .map((d) => `.${normalizeHost(d)}`)
      .sort((a, b) => b.length - a.length);
    return new RouteTable(new Set(platform.hosts.map(normalizeHost)), suffixes, bySlug, byDomain);
  }

  get size(): number {
    return this.#projects.size;
  }

  /** The project with this slug (path routing). */
  project(slug: string): RoutedProject | undefined {
    return this.#projects.get(slug);
  }

  /**
   * Resolve a normalised host: a platform host (path routing follows), a project's
   * subdomain, preview host or custom domain, or undefined (unknown host).
   */
  resolveHost(host: string): HostRoute {
    if (this.#platformHosts.has(host)) return PLATFORM;
    const custom = this.#domains.get(host);
    if (custom !== undefined)
      return {
        kind: 'project',
        project: custom,
        deployment: custom.production,
        via: 'custom-domain',
      };
    for (const suffix of this.#domainSuffixes) {
      if (host.length <= suffix.length || !host.endsWith(suffix)) continue;
      const label = host.slice(0, host.length - suffix.length);
      if (label.includes('.')) return undefined;
      // Preview host `<deploymentId or alias>--<slug>`; slugs never contain `--`.
      const sep = label.lastIndexOf('--');
      if (sep === -1) {
        const project = this.#projects.get(label);
        return project === undefined
          ? undefined
          : { kind: 'project', project, deployment: project.production, via: 'subdomain' };
      }
      const project = this.#projects.get(label.slice(sep + 2));
      if (project === undefined) return undefined;
      const name = label.slice(0, sep);
      const deployment = project.previews.get(name);
      return deployment === undefined
        ? { kind: 'unknown-preview', project, label: name }
        : { kind: 'project', project, deployment, via: 'preview' };
    }
    return undefined;
  }
}

const PLATFORM: HostRoute = { kind: 'platform' };
