/** What the admin API is given by the composition root (app/): the control plane and views. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SwitchyardError } from '../model/errors.js';
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
  /** `storage.gcGraceMs`: how young an unreferenced blob is kept. */
  readonly blobGcGraceMs: number;
  /** What the dashboard shows to a caller reaching these projects (from memory). */
  dashboard(scope: { projects: ReadonlySet<string> | undefined; trusted: boolean }): unknown;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Least scope that may call the route; omitted: public (health, OpenAPI). */
    scope?: TokenScope;
    /** Platform-wide (tokens, certificates, metrics): refused to tokens bound to projects. */
    global?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** One resource group's routes (admin/routes/*.ts). */
export type RouteGroup = (app: FastifyInstance, deps: AdminDependencies) => void;

export const ADMIN = { scope: 'admin' as const };
export const DEPLOY = { scope: 'deploy' as const };
export const READ = { scope: 'read' as const };
/** Platform-wide administration: only an admin token bound to no project. */
export const PLATFORM = { scope: 'admin' as const, global: true };

/** The platform itself (an admin token bound to no project) is trusted; anyone else is a tenant. */
export function callerOf(request: FastifyRequest): { trusted: boolean } {
  const p = request.principal;
  return { trusted: p !== undefined && p.scope === 'admin' && p.projects === undefined };
}

/** The projects the caller reaches; undefined: every project. */
export function boundTo(request: FastifyRequest): ReadonlySet<string> | undefined {
  return request.principal?.projects;
}

/** Refuses (404, as for a missing project) a project the caller's token is not bound to. */
export function checkProject(request: FastifyRequest, project: string | undefined): void {
  const bound = boundTo(request);
  if (bound !== undefined && (project === undefined || !bound.has(project))) {
    throw new SwitchyardError(
      'SY_RESOURCE_NOT_FOUND',
      project === undefined
        ? 'this token is bound to projects: name one of them'
        : `no project is named "${project}"`,
      { field: '/project' },
    );
  }
}
/** Problem responses every write route can give (OpenAPI). */
export const PROBLEMS = {
  400: { $ref: 'Problem#' },
  404: { $ref: 'Problem#' },
  409: { $ref: 'Problem#' },
};
