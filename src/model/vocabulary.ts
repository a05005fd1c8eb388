/**
 * The platform's words, defined once: what a name may look like, the statuses a deployment
 * goes through and which moves between them are legal, and the load-balancing policies. The
 * configuration schema, the admin API schemas and the control plane's rules are built from
 * these.
 */

/**
 * Project slugs, deployment ids and alias names: 1–63 lower-case letters, digits and single
 * hyphens (a DNS label). Never `--`: preview hosts are `<deployment>--<project>.<domain>`.
 */
export const NAME_PATTERN = '^[a-z0-9](?:-?[a-z0-9])*$';
export const NAME_MAX_LENGTH = 63;
const NAME = new RegExp(NAME_PATTERN);

export function isName(value: string): boolean {
  return value.length <= NAME_MAX_LENGTH && NAME.test(value);
}

/** queued → building → ready | error | canceled. Only `ready` serves traffic. */
export const DEPLOYMENT_STATUSES = ['queued', 'building', 'ready', 'error', 'canceled'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** Legal status transitions (the build server reports them in this order). */
export const TRANSITIONS: Readonly<Record<DeploymentStatus, readonly DeploymentStatus[]>> = {
  queued: ['building', 'ready', 'error', 'canceled'],
  building: ['ready', 'error', 'canceled'],
  ready: [],
  error: [],
  canceled: [],
};

/** How a deployment's replicas share its traffic (docs/load-balancing.md). */
export const POLICY_NAMES = [
  'round-robin',
  'least-outstanding',
  'power-of-two',
  'consistent-hash',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * What an API token may do, each including the ones before it: `read` (look), `deploy`
 * (deploy, report status, promote, roll back, purge), `admin` (projects, domains, tokens).
 */
export const TOKEN_SCOPES = ['read', 'deploy', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Whether `held` allows what `needed` guards. */
export function scopeAllows(held: TokenScope, needed: TokenScope): boolean {
  return TOKEN_SCOPES.indexOf(held) >= TOKEN_SCOPES.indexOf(needed);
}
