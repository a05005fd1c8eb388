/**
 * The request lifecycle (docs/architecture.md draws it): guard → platform endpoints →
 * route → gate → origin. Reads only the current route table: never awaits anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { ProjectTraffic } from '../observability/project-traffic.js';
import type { Logger } from '../observability/logger.js';
import { countRefusal } from '../observability/metrics.js';
import { waitsItsTurn } from './pipelining.js';
import { requestId } from '../proxy/request-id.js';
import type { TrustedPeers } from '../proxy/trusted-peers.js';
import { projectCookie, referredProject } from '../routing/root-path-referral.js';
import type { RouteTable } from '../routing/route-table.js';
import { sendError, wantsJson, writeErrorToSocket } from '../request/error-renderer.js';
import { SwitchyardError } from '../model/errors.js';
import { requestTarget } from './guard.js';
import { previewAccess, type SigningKey } from './preview-gate.js';
import { gate, tooLarge, type Routed } from './gate.js';
import { answerBuilding, type EventStreamCap } from './building-answer.js';
import type { LiveEvents } from '../live/live-events.js';
import type { RequestContext } from '../request/request-context.js';
import type { RateLimits } from '../limits/rate-limits.js';
import { accountOnClose, closeListener } from './response-accounting.js';

/** Platform endpoints live under this prefix on platform hosts; slugs cannot start with `_`. */
export const PLATFORM_PREFIX = '/_switchyard/';

export interface HandlerOptions {
  readonly trusted: TrustedPeers;
  /** Access log; undefined turns it off. */
  readonly accessLog: Logger | undefined;
  readonly proto: 'http' | 'https';
  /** What /_switchyard/health reports. */
  readonly health?: () => { status: string; projects: number; store: string };
  /** What /_switchyard/ready reports (for load balancers' checks). */
  readonly readiness?: () => { ready: boolean; reason?: string };
  /** Where errors that are Switchyard's own fault are logged, with their cause. */
  readonly onInternalError: (err: SwitchyardError) => void;
  /** `limits.maxBodyBytes` (0: none); a project may have its own. */
  readonly maxBodyBytes?: number;
  /** Public event streams open per client key, and how many each may have (0: no cap). */
  readonly eventStreams?: EventStreamCap;
  /** Protocols an `Upgrade` may switch to, lower case (default: websocket). */
  readonly upgradeProtocols?: ReadonlySet<string>;
  /** Token-bucket rate limits per client and project; absent: none. */
  readonly rateLimits?: RateLimits;
  /** Why a connection's requests are refused (over a connection limit), if they are. */
  readonly refusal?: (socket: object) => SwitchyardError | undefined;
  /** Per-project counters for the dashboard. */
  readonly traffic?: ProjectTraffic;
  /** HTTP/1.1 requests that may wait pipelined on one connection (0: no limit). */
  readonly maxPipelined?: number;
}

const refusePipelined = () => countRefusal('pipelined');

/** What the HTTPS side lends the request path (set once TLS is running). */
export interface HttpsSettings {
  /** Port of the HTTPS listener, for redirects. */
  readonly port: number;
  /** `Strict-Transport-Security` for projects that redirect to HTTPS; undefined: none. */
  readonly hsts: string | undefined;
  /** ACME HTTP-01: the key authorization for a token, if one is pending (HTTP only). */
  readonly acmeChallenge: ((token: string) => string | undefined) | undefined;
}

const WEBSOCKET_ONLY: ReadonlySet<string> = new Set(['websocket']);

/** RFC 8555 §8.3: where an ACME server fetches HTTP-01 challenges. */
const ACME_CHALLENGE_PATH = '/.well-known/acme-challenge/';

export class RequestHandler {
  #table: RouteTable;
  #options: HandlerOptions;
  #closing = false;
  #live: LiveEvents | undefined;
  #https: HttpsSettings | undefined;
  #signingKey: SigningKey = () => undefined;
  /** Every response's 'close' listener (one function for all: no closure per request). */
  readonly #onClose: (this: ServerResponse) => void;

  constructor(table: RouteTable, options: HandlerOptions) {
    this.#table = table;
    this.#options = options;
    this.#onClose = closeListener(options);
  }

  get table(): RouteTable {
    return this.#table;
  }

  /** Swap in a new route table; requests already routed keep the old one's origins. */
  setTable(table: RouteTable): void {
    this.#table = table;
  }

  /** Deployment events for the building page (absent: plain status pages). */
  setLive(live: LiveEvents): void {
    this.#live = live;
  }

  setHttps(settings: HttpsSettings): void {
    this.#https = settings;
  }

  /** Where protected hosts' cookies and share links are verified (from the store). */
  setSigningKey(key: SigningKey): void {
    this.#signingKey = key;
  }

  get closing(): boolean {
    return this.#closing;
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
      peer,
      trustedPeer,
      proto: this.#options.proto,
      host: '',
      authority: '',
      bodyLimit: this.#options.maxBodyBytes ?? 0,
      bytesAtStart: 0,
      rateLimit: undefined,
      path: '/',
      prefix: '',
      project: undefined,
      deployment: undefined,
      upstream: undefined,
      cacheStatus: undefined,
      error: undefined,
      routedByReferral: false,
      projectCookie: undefined,
      httpsRedirect: false,
      hsts: undefined,
      onInternalError: this.#options.onInternalError,
    };
  }

  /** node:http 'request' listener. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    // A response without a socket: an HTTP/1.1 request pipelined behind another.
    if (res.socket === null) {
      const max = this.#options.maxPipelined ?? 0;
      if (waitsItsTurn(req, res, this.handle, max, refusePipelined)) return;
    }
    const ctx = this.#context(req);
    const socket = req.socket;
    // Over HTTP/2 one connection carries many responses at once: each counts its own bytes
    // (http2-exchange.ts).
    if (req.httpVersionMajor < 2) ctx.bytesAtStart = socket.bytesWritten;
    accountOnClose(res, ctx, this.#onClose);
    if (this.#closing) res.shouldKeepAlive = false;
    try {
      // A connection over a limit, or an HTTP/2 request refused as it came (http2-exchange.ts).
      const refused =
        this.#options.refusal?.(socket) ?? (req as { refusal?: SwitchyardError }).refusal;
      if (refused !== undefined) {
        res.shouldKeepAlive = false;
        throw refused;
      }
      const acme = this.#https?.acmeChallenge;
      if (acme !== undefined && req.url?.startsWith(ACME_CHALLENGE_PATH) === true) {
        this.#answerChallenge(req, res, ctx, acme);
        return;
      }
      const routed = this.#route(req, ctx, res);
      if ('answered' in routed) return;
      if (!('platform' in routed)) this.#limit(ctx);
      if (ctx.httpsRedirect && !('platform' in routed) && this.#toHttps(req, res, ctx)) return;
      if ('deployment' in routed) {
        if (tooLarge(req, ctx)) {
          // Refused before anything is sent on; the rest of the body is not worth reading.
          res.shouldKeepAlive = false;
          throw new SwitchyardError(
            'SY_BODY_TOO_LARGE',
            `the request body is larger than this project accepts (${ctx.bodyLimit} bytes)`,
          );
        }
        routed.deployment.origin.handle(req, res, ctx);
      } else if ('building' in routed) {
        answerBuilding(req, res, ctx, routed.building, {
          live: this.#live,
          publicLogs: this.#table.project(ctx.project ?? '')?.publicBuildLogs === true,
          streams: this.#options.eventStreams,
        });
      } else if ('redirect' in routed) {
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
      const routed = this.#route(req, ctx, undefined);
      if (!('platform' in routed)) this.#limit(ctx);
      if ('building' in routed) {
        throw new SwitchyardError(
          'SY_DEPLOYMENT_NOT_READY',
          `deployment ${routed.building.id} of "${ctx.project ?? ''}" is ${routed.building.status}`,
        );
      }
      if (!('deployment' in routed)) {
        throw new SwitchyardError('SY_BAD_REQUEST', 'this address does not accept upgrades');
      }
      // RFC 9110 §7.8: only the protocols the operator allows (WebSocket, RFC 6455 §4.1).
      const wanted = req.headers.upgrade?.trim().toLowerCase() ?? '';
      if (!(this.#options.upgradeProtocols ?? WEBSOCKET_ONLY).has(wanted)) {
        throw new SwitchyardError(
          'SY_BAD_REQUEST',
          `upgrades to "${wanted.slice(0, 40)}" are not accepted (proxy.upgradeProtocols)`,
        );
      }
      routed.deployment.origin.upgrade(req, socket, head, ctx);
    } catch (err) {
      writeErrorToSocket(socket, ctx, asSwitchyardError(err));
    }
  };

  /** Rate limits (throws the 429 when a bucket is empty). */
  #limit(ctx: RequestContext): void {
    const refused = this.#options.rateLimits?.check(
      ctx.clientIp,
      ctx.project,
      ctx.rateLimit,
      ctx.start,
    );
    if (refused !== undefined) throw refused;
  }

  /** `res` absent: an upgrade (a protected host then refuses instead of asking). */
  #route(req: IncomingMessage, ctx: RequestContext, res: ServerResponse | undefined): Routed {
    const target = requestTarget(req);
    ctx.host = target.host;
    ctx.authority = target.authority;
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
      const project = route.project;
      ctx.project = project.slug;
      ctx.httpsRedirect = project.httpsRedirect;
      ctx.path = target.path;
      ctx.deployment = route.deployment?.id;
      if (project.maxBodyBytes !== undefined) ctx.bodyLimit = project.maxBodyBytes;
      ctx.rateLimit = project.rateLimit;
      if (route.via === 'preview') res?.setHeader('x-robots-tag', 'noindex'); // never indexed
      const protection = project.protection;
      if (
        protection !== undefined &&
        (protection.scope === 'all' || route.via === 'preview') &&
        previewAccess(req, res, ctx, project.slug, protection, this.#signingKey) === 'answered'
      ) {
        return { answered: true };
      }
      return gate(route.deployment, project.slug, ctx);
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
      ctx.httpsRedirect = project.httpsRedirect;
      if (path.charCodeAt(end) !== 47) return { redirect: `/${slug}/${path.slice(end)}` };
      ctx.prefix = `/${slug}`;
      ctx.path = path.slice(end);
      if (project.rootPaths.length > 0 && acceptsHtml(req)) ctx.projectCookie = projectCookie(slug);
      if (project.maxBodyBytes !== undefined) ctx.bodyLimit = project.maxBodyBytes;
      ctx.rateLimit = project.rateLimit;
      const protection = project.protection;
      if (
        protection?.scope === 'all' &&
        previewAccess(req, res, ctx, slug, protection, this.#signingKey) === 'answered'
      ) {
        return { answered: true };
      }
      return gate(project.production, slug, ctx);
    }
    const referred = referredProject(table, req.headers, target.host, path);
    if (referred !== undefined) {
      ctx.project = referred.slug;
      ctx.httpsRedirect = referred.httpsRedirect;
      ctx.path = path;
      ctx.routedByReferral = true;
      ctx.rateLimit = referred.rateLimit;
      return gate(referred.production, referred.slug, ctx);
    }
    if (slug === '')
      throw new SwitchyardError(
        'SY_UNKNOWN_PROJECT',
        'this is the platform host: projects are served at /<project>/',
      );
    throw new SwitchyardError('SY_UNKNOWN_PROJECT', `no project is named "${decodeSafe(slug)}"`);
  }

  /**
   * A project that wants HTTPS: over HTTP, a 308 to the same URL on the HTTPS listener (true:
   * answered); over HTTPS, HSTS on the response (RFC 6797 §7.2: only over secure transport).
   */
  #toHttps(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): boolean {
    const https = this.#https;
    if (https === undefined) return false;
    if (this.#options.proto === 'https') {
      ctx.hsts = https.hsts;
      return false;
    }
    const port = https.port;
    const host = ctx.host.includes(':') && !ctx.host.startsWith('[') ? `[${ctx.host}]` : ctx.host;
    const location = `https://${host}${port === 443 ? '' : `:${port}`}${req.url ?? '/'}`;
    res.writeHead(308, { location, 'content-length': 0, 'x-request-id': ctx.id });
    res.end();
    return true;
  }

  /** ACME HTTP-01 (RFC 8555 §8.3): the key authorization for the token, on any host. */
  #answerChallenge(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    lookup: (token: string) => string | undefined,
  ): void {
    const token = (req.url ?? '').slice(ACME_CHALLENGE_PATH.length);
    const answer = /^[A-Za-z0-9_-]+$/.test(token) ? lookup(token) : undefined;
    if (answer === undefined) {
      throw new SwitchyardError('SY_NOT_FOUND', 'no ACME challenge is pending for this token');
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': Buffer.byteLength(answer),
      'cache-control': 'no-store',
      'x-request-id': ctx.id,
    });
    res.end(req.method === 'HEAD' ? undefined : answer);
  }

  #platformEndpoint(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    name: string,
  ): void {
    if (name === 'health' || name.startsWith('health?')) {
      const health = this.#options.health?.() ?? {
        status: this.#closing ? 'closing' : 'ok',
        projects: this.#table.size,
      };
      // A degraded store does not stop this instance serving its last table: load balancers
      // must keep sending traffic, so only closing answers 503.
      answerJson(req, res, ctx, health.status === 'closing' ? 503 : 200, health);
      return;
    }
    if (name === 'ready' || name.startsWith('ready?')) {
      // Readiness, not liveness: 503 while starting (no route table yet) and while draining.
      const ready = this.#options.readiness?.() ?? { ready: !this.#closing };
      answerJson(req, res, ctx, ready.ready ? 200 : 503, ready);
      return;
    }
    throw new SwitchyardError('SY_NOT_FOUND', `no platform endpoint ${PLATFORM_PREFIX}${name}`);
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

/** A platform endpoint's JSON answer, never stored by a cache; HEAD gets the head only. */
function answerJson(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  status: number,
  value: unknown,
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': ctx.id,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
