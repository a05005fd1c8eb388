/**
 * The site model the route table is compiled from: projects, their deployments and aliases.
 * Every source of routes (the configuration file today, the state store later) produces these
 * plain, immutable values; nothing here does I/O.
 */
import type { ProjectRateLimits } from './rate-limit.js';
import type { Protection } from './records.js';
import type { DeploymentStatus, PolicyName } from './vocabulary.js';

export type { DeploymentStatus };

export interface StaticOriginSpec {
  readonly kind: 'static';
  /** Absolute path of the build output directory. */
  readonly dir: string;
  readonly spa: boolean;
  readonly cleanUrls: boolean;
  /**
   * True when nothing changes the directory while it is served (an uploaded deployment):
   * file lookups are then cached for its life instead of for a second.
   */
  readonly immutable: boolean;
  /**
   * The build output is blobs (`storage`), named by this manifest's SHA-256, instead of the
   * files in `dir` (then unused).
   */
  readonly manifest?: string;
}

export interface UpstreamOriginSpec {
  readonly kind: 'upstream';
  /** `http://host:port` of each replica. */
  readonly replicas: readonly string[];
  /** Relative share of each replica (same order); absent: 1 each. */
  readonly weights?: readonly number[];
  /** Active health check path; absent: `upstream.health.checkPath`. */
  readonly healthCheckPath?: string;
  /** This deployment's balancing; absent: `upstream.balancing`. */
  readonly balancing?: { readonly policy: PolicyName; readonly hashOn: string };
  /**
   * Registered by a tenant: every connection's resolved address is checked against the
   * address policy (net/address-policy.ts). Absent: the operator's own (file, admin token).
   */
  readonly checked?: boolean;
}

export type OriginSpec = StaticOriginSpec | UpstreamOriginSpec;

export interface DeploymentSpec {
  readonly id: string;
  readonly status: DeploymentStatus;
  /** What the build server said with the status, if anything. */
  readonly message?: string;
  readonly origin: OriginSpec;
}

export interface ProjectSpec {
  readonly slug: string;
  /** Deployment id of the production alias; undefined while the project has none. */
  readonly production: string | undefined;
  /** Branch aliases: name → deployment id. */
  readonly aliases: Readonly<Record<string, string>>;
  /** Custom domains, normalised (lower case, no trailing dot, no port). */
  readonly domains: readonly string[];
  /** Path prefixes routed to this project from its own pages; see docs/routing.md. */
  readonly rootPaths: readonly string[];
  /** Plain HTTP requests are redirected to HTTPS (308), and HTTPS answers carry HSTS. */
  readonly httpsRedirect: boolean;
  /** Request body limit of this project (bytes), instead of `limits.maxBodyBytes`. */
  readonly maxBodyBytes?: number;
  /** This project's own rate limits (absent: `rateLimit.*`). */
  readonly rateLimit?: ProjectRateLimits;
  /** The public building page shows log lines too (else status only). */
  readonly publicBuildLogs?: boolean;
  /** Password protection of previews (or of every host). */
  readonly protection?: Protection;
  readonly deployments: readonly DeploymentSpec[];
}

/** A stable key for an origin spec: equal keys may share one origin instance. */
export function originKey(projectSlug: string, deployment: DeploymentSpec): string {
  return `${projectSlug}/${deployment.id}/${JSON.stringify(deployment.origin)}`;
}
