/** What the admin API is given by the composition root (app/): the control plane and views. */
import type { FastifyInstance } from 'fastify';
import type { ControlPlane } from '../control/control-plane.js';
import type { TokenScope } from '../model/records.js';
import type { Principal } from '../control/tokens.js';
import type { EventHub } from '../live/event-hub.js';
import type { Logger } from '../observability/logger.js';

export interface AdminDependencies {
  readonly control: ControlPlane;
  /** Deployment and project events on this instance (fed by the store's change feed). */
  readonly hub: EventHub;
  readonly logger: Logger;
  /** Health of the whole instance, as /health reports it. */
  health(): { status: 'ok' | 'degraded' | 'closing'; [key: string]: unknown };
  /** The store revision this instance reflects (id of project-stream snapshots). */
  revision(): number;
  /** Which project, alias, deployment and origin serve a URL. */
  explain(host: string, path: string): unknown;
  /** Where custom domains should point (`cname` and/or `a`), from `domains.*`. */
  readonly pointTo: { cname?: string; a?: string[] };
  /** Replica states of a deployment's upstream origin, if it has one and it serves. */
  replicas(project: string, deployment: string): unknown[] | undefined;
  /** Certificates and their order state (never keys). */
  certificates(): unknown[];
  /** Check a custom domain's DNS now; the updated domain record. */
  verifyDomain(domain: string): Promise<unknown>;
  /** Where a deployment can be seen: its preview host and the project's production URLs. */
  urls(project: string, deployment: string): { preview?: string; production: string[] };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Least scope that may call the route; omitted: public (health, OpenAPI). */
    scope?: TokenScope;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** One resource group's routes (admin/routes/*.ts). */
export type RouteGroup = (app: FastifyInstance, deps: AdminDependencies) => void;

export const ADMIN = { scope: 'admin' as const };
export const DEPLOY = { scope: 'deploy' as const };
/** Problem responses every write route can give (OpenAPI). */
export const PROBLEMS = {
  400: { $ref: 'Problem#' },
  404: { $ref: 'Problem#' },
  409: { $ref: 'Problem#' },
};
