/** The upstream origin: a deployment's containers, reached over pooled HTTP/1.1. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamOriginSpec } from '../model/site.js';
import type { Origin } from '../origin/origin.js';
import { upstreamRequestHeaders, type ForwardingOptions } from '../proxy/forwarded-headers.js';
import type { RequestContext } from '../request/request-context.js';
import { ProxyExchange, type ResponseTee } from './proxy-exchange.js';
import { ReplicaSet, type UpstreamSettings } from './replica-set.js';
import { tunnelUpgrade } from './websocket-tunnel.js';
import type { Readable } from 'node:stream';
import { SwitchyardError } from '../model/errors.js';
import { toClientError } from './upstream-errors.js';
import { UpstreamAttempt } from './upstream-attempt.js';
import { countUpstreamEvent } from '../observability/metrics.js';
import type { ReplicaView } from './replica-set.js';
import type { Logger } from '../observability/logger.js';

export class UpstreamOrigin implements Origin {
  readonly kind = 'upstream';
  readonly #replicas: ReplicaSet;
  readonly #via: string;
  readonly #connectTimeoutMs: number;
  readonly #headersTimeoutMs: number;
  readonly #drainMs: number;
  readonly #bodyIdleMs: number;
  readonly #tunnelIdleMs: number;
  readonly #accessLog: Logger | undefined;
  /** Client sockets of WebSockets tunnelled to this deployment (drained on close). */
  readonly #tunnels = new Set<Duplex>();
  /** Set once closing starts: closing again waits for the same drain. */
  #closed: Promise<void> | undefined;
  /** How to read a request's affinity key; undefined unless the policy hashes. */
  readonly #affinity:
    ((req: IncomingMessage, ctx: RequestContext) => string | undefined) | undefined;

  /** Built once: the request path allocates no options object. */
  readonly #forwarding: ForwardingOptions;
  readonly #forwardingUpgrade: ForwardingOptions;

  constructor(
    spec: UpstreamOriginSpec,
    settings: UpstreamSettings,
    forwarding: ForwardingOptions | string,
  ) {
    const fwd = typeof forwarding === 'string' ? { via: forwarding } : forwarding;
    const via = fwd.via;
    this.#forwarding = fwd;
    this.#forwardingUpgrade = { ...fwd, upgrade: true };
    const balancing = spec.balancing ??
      settings.balancing ?? { policy: 'round-robin', hashOn: 'client-ip' };
    // Only a tenant's replicas are checked on connect; the operator's are trusted.
    const checked = spec.checked === true ? settings : { ...settings, addressPolicy: undefined };
    this.#replicas = new ReplicaSet(spec.replicas, checked, {
      policy: balancing.policy,
      ...(spec.weights === undefined ? {} : { weights: spec.weights }),
      ...(spec.healthCheckPath === undefined ? {} : { checkPath: spec.healthCheckPath }),
    });
    this.#replicas.onEvent(countUpstreamEvent);
    this.#affinity =
      balancing.policy === 'consistent-hash' ? affinityKey(balancing.hashOn) : undefined;
    this.#via = via;
    this.#connectTimeoutMs = settings.connectTimeoutMs;
    this.#headersTimeoutMs = settings.headersTimeoutMs;
    this.#drainMs = settings.drainMs ?? 30_000;
    this.#bodyIdleMs = settings.bodyIdleTimeoutMs ?? 0;
    this.#tunnelIdleMs = settings.tunnelIdleTimeoutMs ?? 0;
    this.#accessLog = settings.accessLog;
  }

  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, tee?: ResponseTee): void {
    const headers = upstreamRequestHeaders(req, ctx, this.#forwarding);
    const key = this.#affinity?.(req, ctx);
    new ProxyExchange(
      req,
      res,
      ctx,
      this.#replicas,
      headers,
      this.#via,
      key,
      tee,
      this.#bodyIdleMs,
    ).start();
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void {
    this.#tunnels.add(socket);
    socket.once('close', () => this.#tunnels.delete(socket));
    tunnelUpgrade(
      req,
      socket,
      head,
      ctx,
      new UpstreamAttempt(this.#replicas, this.#affinity?.(req, ctx)),
      {
        forwarding: this.#forwardingUpgrade,
        connectTimeoutMs: this.#connectTimeoutMs,
        headersTimeoutMs: this.#headersTimeoutMs,
        idleTimeoutMs: this.#tunnelIdleMs,
        accessLog: this.#accessLog,
      },
    );
  }

  /**
   * One request to a replica whose response the caller reads itself (the HTTP cache: it
   * stores what it streams). Picks and reports like a proxied request; a replica that cannot
   * be connected to is skipped.
   */
  async fetch(
    req: IncomingMessage,
    ctx: RequestContext,
    extraHeaders: Record<string, string> = {},
  ): Promise<{
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
    body: Readable;
  }> {
    const headers = { ...upstreamRequestHeaders(req, ctx, this.#forwarding), ...extraHeaders };
    const attempt = new UpstreamAttempt(this.#replicas, this.#affinity?.(req, ctx));
    for (;;) {
      const replica = attempt.next();
      if (replica === undefined) {
        throw new SwitchyardError(
          'SY_UPSTREAM_BUSY',
          'every replica of this deployment is at its limit',
          {
            headers: { 'retry-after': '1' },
          },
        );
      }
      ctx.upstream = replica.url;
      try {
        const res = await replica.pool.request({ method: 'GET', path: ctx.path, headers });
        attempt.report(res.statusCode < 500);
        const settle = () => attempt.done();
        res.body.once('close', settle);
        res.body.once('end', settle);
        res.body.once('error', settle);
        return { statusCode: res.statusCode, headers: res.headers, body: res.body };
      } catch (err) {
        attempt.report(false);
        attempt.done();
        // A cache fill is a bodiless GET that got no answer: replayable.
        if (!attempt.mayRetry(err, true)) throw toClientError(err, replica.url);
      }
    }
  }

  /** Each replica's state and recent figures (admin API). */
  replicas(): ReplicaView[] {
    return this.#replicas.view();
  }

  /**
   * Retire this replica set: new requests already go to its successor; in-flight requests
   * and WebSockets run up to `drainMs`, then what is left is cut.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.#drainMs);
      timer.unref();
    });
    const drained = (async () => {
      await this.#replicas.close();
      while (this.#tunnels.size > 0) await new Promise((r) => setTimeout(r, 50).unref());
      return 'drained' as const;
    })();
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      for (const socket of this.#tunnels) socket.destroy();
      await this.#replicas.destroy();
    }
  }
}

/** The affinity key reader for `hashOn`: `client-ip`, `header:<name>` or `cookie:<name>`. */
export function affinityKey(
  hashOn: string,
): (req: IncomingMessage, ctx: RequestContext) => string | undefined {
  if (hashOn.startsWith('header:')) {
    const name = hashOn.slice('header:'.length).toLowerCase();
    return (req) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
  }
  if (hashOn.startsWith('cookie:')) {
    const name = hashOn.slice('cookie:'.length);
    return (req) => cookieValue(req.headers.cookie, name);
  }
  return (_req, ctx) => ctx.clientIp;
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4 pairs), without parsing the rest. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let at = 0;
  while (at < header.length) {
    while (header.charCodeAt(at) === 32 || header.charCodeAt(at) === 59) at++;
    const end = header.indexOf(';', at);
    const pair = header.slice(at, end === -1 ? header.length : end);
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    if (end === -1) break;
    at = end + 1;
  }
  return undefined;
}
