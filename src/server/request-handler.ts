/**
 * The request lifecycle (docs/architecture.md draws it): guard → platform endpoints →
 * route → gate → origin. Reads only the current route table: never awaits anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { logAccess } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import { requestId } from '../proxy/request-id.js';
import type { TrustedPeers } from '../proxy/trusted-peers.js';
import { projectCookie, referredProject } from '../routing/root-path-referral.js';
import type { RouteTable, RoutedDeployment } from '../routing/route-table.js';
import { sendError, wantsJson, writeErrorToSocket } from './error-page.js';
import { SwitchyardError } from './errors.js';
import { requestTarget } from './guard.js';
import type { RequestContext } from './request-context.js';

/** Platform endpoints live under this prefix on platform hosts; slugs cannot start with `_`. */
export const PLATFORM_PREFIX = '/_switchyard/';

export interface HandlerOptions {
  readonly trusted: TrustedPeers;
  /** Access log; undefined turns it off. */
  readonly accessLog: Logger | undefined;
  readonly proto: 'http' | 'https';
}

type Routed = { deployment: RoutedDeployment } | { redirect: string } | { platform: string };

export class RequestHandler {
  #table: RouteTable;
  #options: HandlerOptions;
  #closing = false;

  constructor(table: RouteTable, options: HandlerOptions) {
    this.#table = table;
    this.#options = options;
  }

  get table(): RouteTable {
    return this.#table;
  }

  /** Swap in a new route table; requests already routed keep the old one's origins. */
  setTable(table: RouteTable): void {
    this.#table = table;
  }

  /** From now on, ask clients to close their connections. */
  startClosing(): void {
    this.#closing = true;
  }

  #context(req: IncomingMessage): RequestContext {
    const trusted = this.#options.trusted;
    const peer = req.socket.remoteAddress ?? '';
    const trustedPeer = trusted.has(peer);
    const xff = req.headers['x-forwarded-for'];
    const forwardedFor = typeof xff === 'string' ? xff : undefined;
    return {
      id: requestId(req.headers['x-request-id'], trustedPeer),
      start: performance.now(),
      clientIp: trustedPeer ? trusted.clientAddress(peer, forwardedFor) : peer,
      trustedPeer,
      proto: this.#options.proto,
      host: '',
      path: '/',
      prefix: '',
      project: undefined,
      deployment: undefined,
      upstream: undefined,
      cacheStatus: undefined,
      error: undefined,
      routedByReferral: false,
      projectCookie: undefined,
    };
  }

  /** node:http 'request' listener. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = this.#context(req);
    const log = this.#options.accessLog;
    if (log !== undefined) {
      const socket = req.socket;
      const bytesAtStart = socket.bytesWritten;
      res.once('close', () => logAccess(log, req, res, ctx, socket, bytesAtStart));
    }
    if (this.#closing) res.shouldKeepAlive = false;
    try {
      const routed = this.#route(req, ctx);
      if ('deployment' in routed) routed.deployment.origin.handle(req, res, ctx);
      else if ('redirect' in routed) {
        res.writeHead(308, {
          location: routed.redirect,
          'content-length': 0,
          'x-request-id': ctx.id,
        });
        res.end();
      } else this.#platformEndpoint(req, res, ctx, routed.platform);
    } catch (err) {
      sendError(req, res, ctx, asSwitchyardError(err));
    }
  };

  /** node:http 'upgrade' listener (WebSocket). */
  upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const ctx = this.#context(req);
    socket.on('error', () => socket.destroy());
    try {
      const routed = this.#route(req, ctx);
      if (!('deployment' in routed)) {
        throw new SwitchyardError('SY_BAD_REQUEST', 'this address does not accept upgrades');
      }
      routed.deployment.origin.upgrade(req, socket, head, ctx);
    } catch (err) {
      writeErrorToSocket(socket, ctx, asSwitchyardError(err));
    }
  };

  #route(req: IncomingMessage, ctx: RequestContext): Routed {
    const target = requestTarget(req);
    ctx.host = target.host;
    const table = this.#table;
    const route = table.resolveHost(target.host);
    if (route === undefined) {
      throw new SwitchyardError(
        'SY_UNKNOWN_HOST',
        `no project is served at ${target.host || 'this address'}`,
      );
    }
    if (route.kind === 'unknown-preview') {
      throw new SwitchyardError(
        'SY_UNKNOWN_HOST',
        `project "${route.project.slug}" has no deployment or alias "${route.label}"`,
      );
    }
    if (route.kind === 'project') {
      ctx.project = route.project.slug;
      ctx.path = target.path;
      return { deployment: gate(route.deployment, route.project.slug, ctx) };
    }
    // A platform host: `/<slug>/…` path routing.
    const path = target.path;
    if (path.startsWith(PLATFORM_PREFIX)) return { platform: path.slice(PLATFORM_PREFIX.length) };
    let end = path.length;
    for (let i = 1; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c === 47 /* / */ || c === 63 /* ? */) {
        end = i;
        break;
      }
    }
    const slug = path.slice(1, end);
    const project = table.project(slug);
    if (project !== undefined) {
      ctx.project = slug;
      if (path.charCodeAt(end) !== 47) return { redirect: `/${slug}/${path.slice(end)}` };
      ctx.prefix = `/${slug}`;
      ctx.path = path.slice(end);
      if (project.rootPaths.length > 0 && acceptsHtml(req)) ctx.projectCookie = projectCookie(slug);
      return { deployment: gate(project.production, slug, ctx) };
    }
    const referred = referredProject(table, req.headers, target.host, path);
    if (referred !== undefined) {
      ctx.project = referred.slug;
      ctx.path = path;
      ctx.routedByReferral = true;
      return { deployment: gate(referred.production, referred.slug, ctx) };
    }
    if (slug === '')
      throw new SwitchyardError(
        'SY_UNKNOWN_PROJECT',
        'this is the platform host: projects are served at /<project>/',
      );
    throw new SwitchyardError('SY_UNKNOWN_PROJECT', `no project is named "${decodeSafe(slug)}"`);
  }

  #platformEndpoint(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    name: string,
  ): void {
    if (name === 'health' || name.startsWith('health?')) {
      const body = JSON.stringify({
        status: this.#closing ? 'closing' : 'ok',
        projects: this.#table.size,
      });
      res.writeHead(this.#closing ? 503 : 200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        'x-request-id': ctx.id,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    throw new SwitchyardError('SY_NOT_FOUND', `no platform endpoint ${PLATFORM_PREFIX}${name}`);
  }
}

/** The gate phase: only a ready deployment goes on to its origin. */
function gate(
  deployment: RoutedDeployment | undefined,
  slug: string,
  ctx: RequestContext,
): RoutedDeployment {
  if (deployment === undefined) {
    throw new SwitchyardError(
      'SY_NO_PRODUCTION',
      `project "${slug}" has no production deployment yet`,
    );
  }
  ctx.deployment = deployment.id;
  switch (deployment.status) {
    case 'ready':
      return deployment;
    case 'queued':
    case 'building':
      throw new SwitchyardError(
        'SY_DEPLOYMENT_NOT_READY',
        `deployment ${deployment.id} of "${slug}" is ${deployment.status}`,
        {
          headers: { 'retry-after': '5' },
        },
      );
    case 'error':
      throw new SwitchyardError(
        'SY_DEPLOYMENT_FAILED',
        `deployment ${deployment.id} of "${slug}" failed to build`,
      );
    case 'canceled':
      throw new SwitchyardError(
        'SY_DEPLOYMENT_CANCELED',
        `deployment ${deployment.id} of "${slug}" was canceled`,
      );
  }
}

function acceptsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept !== undefined && accept.includes('text/html') && !wantsJson(accept);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s).slice(0, 100);
  } catch {
    return s.slice(0, 100);
  }
}

function asSwitchyardError(err: unknown): SwitchyardError {
  return err instanceof SwitchyardError
    ? err
    : new SwitchyardError('SY_INTERNAL', 'the request could not be handled', { cause: err });
}
