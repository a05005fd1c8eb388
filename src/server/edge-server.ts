/**
 * The data plane of one instance: the HTTP and HTTPS listeners, the current route table and
 * the origins behind it. `apply()` / `setStoreProjects()` compile a new table and swap it in
 * whole on every listener; `close()` drains and stops. Nothing here reads the store.
 */
import { once, type EventEmitter } from 'node:events';
import type { Server as NetServer } from 'node:net';
import { inheritClientAddress, proxyProtocolFront } from './proxy-protocol-front.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import { createHttpsServer } from './secure-server.js';
import type { SNICallback } from '../tls/sni.js';
import { TicketKeyRing } from '../tls/ticket-key-ring.js';
import { createHttpCache } from '../cache/create-cache.js';
import type { HttpCache } from '../cache/http-cache.js';
import { mergeProjects } from '../routing/project-sources.js';
import { AddressPolicy, type Endpoint } from '../net/address-policy.js';
import { ProjectTraffic } from '../observability/project-traffic.js';
import { BlobFiles } from '../storage/blob-files.js';
import { openBlobStore } from '../storage/open-blob-store.js';
import type { SwitchyardError } from '../model/errors.js';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LoadedConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { originSettings, OriginRegistry } from './origin-registry.js';
import { TrustedPeers } from '../proxy/trusted-peers.js';
import { RouteTable } from '../routing/route-table.js';
import type { ProjectSpec } from '../model/site.js';
import type { ReplicaFigures } from '../observability/metrics.js';
import type { LiveEvents } from '../live/live-events.js';
import { RequestHandler, type HttpsSettings } from './request-handler.js';
import type { SigningKey } from './preview-gate.js';
import { answerClientError, ClientCounts, ConnectionGuard } from './connection-guard.js';
import { TokenBuckets } from '../limits/token-buckets.js';
import { RateLimits } from '../limits/rate-limits.js';
import type { RateExchange } from '../model/rate-limit.js';

export interface StartOptions {
  readonly logger: Logger;
}

export class EdgeServer {
  readonly #server: Server;
  readonly #handler: RequestHandler;
  /** Every listener's handler (HTTP, and HTTPS once it runs), kept in step. */
  readonly #handlers: RequestHandler[] = [];
  /** Where a tenant's replicas may point (checked at submission by control, at connect here). */
  readonly addressPolicy: AddressPolicy;
  /** Static build output in blob storage, as files (the control plane stores into it too). */
  readonly blobs: BlobFiles;
  /** Per-project request counters of this process (the dashboard's traffic). */
  readonly traffic = new ProjectTraffic();
  /** Other listeners of this instance (admin API, store) that replicas may never point at. */
  readonly #otherEndpoints: Endpoint[] = [];
  /** The HTTP cache, when enabled. */
  readonly cache: HttpCache | undefined;
  readonly #cacheReady: Promise<void>;
  #secureServer: Http2SecureServer | undefined;
  /** What accepts connections: the servers themselves, or PROXY protocol fronts before them. */
  #listener: NetServer | Server;
  #secureListener: NetServer | Http2SecureServer | undefined;
  readonly #fronts: NetServer[] = [];
  /** The HTTPS listener's session-ticket keys (src/tls/ticket-key-ring.ts). */
  readonly ticketKeys = new TicketKeyRing();
  #live: LiveEvents | undefined;
  #signingKey: SigningKey | undefined;
  #https: HttpsSettings | undefined;
  readonly #secureSockets = new Set<Duplex>();
  readonly #origins: OriginRegistry;
  readonly #logger: Logger;
  readonly #upgraded = new Set<Duplex>();
  readonly #guard: ConnectionGuard;
  /** Rate-limit buckets, shared by every listener (and with the fleet, once told). */
  readonly #buckets: TokenBuckets;
  readonly #rateLimits: RateLimits;
  /** Public event streams open per client, across listeners. */
  readonly #eventStreams = new ClientCounts();
  #config: Config;
  /** Projects declared in the configuration file; they win over the store's on a clash. */
  #fileProjects: readonly ProjectSpec[];
  /** Projects from the state store (set by the control plane). */
  #storeProjects: readonly ProjectSpec[] = [];
  #specs: ReadonlyMap<string, ProjectSpec> = new Map<string, ProjectSpec>();
  #shadowed: ReadonlySet<string> = new Set<string>();
  #storeHealth: 'ok' | 'degraded' = 'ok';
  #ready = false;
  #draining = false;
  #fileListeners: ((slugs: ReadonlySet<string>) => void)[] = [];

  private constructor(loaded: LoadedConfig, logger: Logger) {
    const { config } = loaded;
    this.#config = config;
    this.#logger = logger;
    this.#fileProjects = loaded.projects;
    const { cache, ready } = createHttpCache(config, loaded.dataDir, logger);
    this.cache = cache;
    this.#cacheReady = ready;
    this.addressPolicy = new AddressPolicy({
      allowedNetworks: config.upstream.allowedNetworks,
      deniedNetworks: config.upstream.deniedNetworks,
      self: () => this.#selfEndpoints(),
    });
    this.blobs = new BlobFiles(
      openBlobStore(config, loaded.dataDir),
      loaded.dataDir,
      config.storage.cacheBytes,
    );
    this.#origins = new OriginRegistry(
      originSettings(config, {
        addressPolicy: this.addressPolicy,
        logger,
        cache,
        blobs: this.blobs,
      }),
    );
    const limits = config.limits;
    this.#guard = new ConnectionGuard(
      { ...limits, http2IdleTimeoutMs: limits.http2.idleTimeoutMs },
      new TrustedPeers(config.proxy.trustedProxies),
    );
    this.#buckets = new TokenBuckets({ maxKeys: config.rateLimit.maxTrackedClients });
    this.#rateLimits = new RateLimits(this.#buckets, config.rateLimit);
    const table = this.#compile();
    void this.#origins.commit();
    this.#handler = this.#newHandler(table, 'http');
    this.#server = createServer(
      {
        maxHeaderSize: limits.maxHeaderBytes,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // Node checks the header and request timeouts on this interval (default 30 s): once
        // a second, so a slow head is cut within a second of `headersTimeoutMs`.
        connectionsCheckingInterval: 1000,
        requireHostHeader: true,
        noDelay: true,
      },
      this.#handler.handle,
    );
    // The last answer on a connection past this count says `Connection: close` (0: no limit).
    this.#server.maxRequestsPerSocket = limits.maxRequestsPerConnection;
    this.#guard.guardHttp(this.#server);
    this.#listener = this.#server;
    this.#server.on('upgrade', this.#upgradeWith(this.#handler));
    this.#server.on('clientError', answerClientError);
  }

  /** A request handler for one listener, with everything the others already have. */
  #newHandler(table: RouteTable, proto: 'http' | 'https'): RequestHandler {
    const logger = this.#logger;
    const handler = new RequestHandler(table, {
      trusted: new TrustedPeers(this.#config.proxy.trustedProxies),
      accessLog: this.#config.log.access ? logger : undefined,
      proto,
      health: () => this.health(),
      readiness: () => this.readiness(),
      onInternalError: (err: SwitchyardError) =>
        logger.error({ err: err.cause ?? err, code: err.code }, err.detail),
      maxBodyBytes: this.#config.limits.maxBodyBytes,
      maxPipelined: this.#config.limits.maxPipelinedRequests,
      refusal: (socket) => this.#guard.refusalFor(socket),
      rateLimits: this.#rateLimits,
      traffic: this.traffic,
      upgradeProtocols: new Set(this.#config.proxy.upgradeProtocols.map((p) => p.toLowerCase())),
      eventStreams: {
        counts: this.#eventStreams,
        perClient: this.#config.limits.maxEventStreamsPerIp,
      },
    });
    if (this.#live !== undefined) handler.setLive(this.#live);
    if (this.#https !== undefined) handler.setHttps(this.#https);
    if (this.#signingKey !== undefined) handler.setSigningKey(this.#signingKey);
    this.#handlers.push(handler);
    return handler;
  }

  #upgradeWith(handler: RequestHandler) {
    return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgraded.add(socket);
      socket.once('close', () => this.#upgraded.delete(socket));
      handler.upgrade(req, socket, head);
    };
  }

  /**
   * Start the HTTPS listener: HTTP/2 and HTTP/1.1 by ALPN, a certificate per handshake from
   * `SNICallback` (`cert`/`key` when it has none), the same route table and origins as the
   * HTTP listener. Resolves with its port.
   */
  async listenHttps(options: {
    host: string;
    port: number;
    cert: string;
    key: string;
    SNICallback: SNICallback;
    /** Read a PROXY protocol header from trusted peers first (`https.proxyProtocol`). */
    proxyProtocol?: boolean;
  }): Promise<number> {
    const handler = this.#newHandler(this.#handler.table, 'https');
    const server = createHttpsServer(this.#config.limits, options, handler.handle, this.#guard);
    server.on('upgrade', this.#upgradeWith(handler));
    // Before Node's own listener: requests read the client's address from this socket.
    if (options.proxyProtocol === true)
      server.prependListener('secureConnection', inheritClientAddress);
    server.on('secureConnection', (socket: Duplex) => {
      this.#secureSockets.add(socket);
      socket.once('close', () => this.#secureSockets.delete(socket));
    });
    this.#secureServer = server;
    if (!this.ticketKeys.install(server)) {
      this.#logger.warn(
        'this Node.js has no TLS ticket key callback: after a key rotation, earlier sessions make a full handshake',
      );
    }
    const listener = options.proxyProtocol === true ? this.#front(server, true) : server;
    this.#secureListener = listener;
    listener.listen(options.port, options.host);
    await once(listener, 'listening');
    return (listener.address() as AddressInfo).port;
  }

  /** Share rate limits with a fleet (the Redis store), reconciling every `rateLimit.syncIntervalMs`. */
  shareRateLimits(exchange: RateExchange): void {
    this.#buckets.share(exchange, this.#config.rateLimit.syncIntervalMs);
  }

  /** A listener in front of `server` that reads PROXY protocol headers (proxy-protocol-front.ts). */
  #front(server: EventEmitter, takesOver = false): NetServer {
    const front = proxyProtocolFront(server, {
      trusted: new TrustedPeers(this.#config.proxy.trustedProxies),
      timeoutMs: this.#config.limits.headersTimeoutMs,
      takesOver,
    });
    this.#fronts.push(front);
    // Node starts a server's head and request timeout checks on its 'listening'.
    front.once('listening', () => server.emit('listening'));
    return front;
  }

  /** Tell the address policy about another listener of this instance (the admin API). */
  addSelfEndpoint(endpoint: Endpoint): void {
    this.#otherEndpoints.push(endpoint);
  }

  #selfEndpoints(): Endpoint[] {
    const out = [...this.#otherEndpoints];
    const http = this.#listener.address();
    if (http !== null && typeof http === 'object')
      out.push({ host: http.address, port: http.port });
    const https = this.#secureListener?.address();
    if (https !== undefined && https !== null && typeof https === 'object') {
      out.push({ host: https.address, port: https.port });
    }
    return out;
  }

  /** Port of the HTTPS listener, if it runs. */
  get httpsPort(): number | undefined {
    const address = this.#secureListener?.address();
    return address === undefined || address === null || typeof address === 'string'
      ? undefined
      : address.port;
  }

  /** Listen with `loaded.config.listen`; resolves when the listener is up. */
  static async start(loaded: LoadedConfig, options: StartOptions): Promise<EdgeServer> {
    const sy = new EdgeServer(loaded, options.logger);
    await sy.#cacheReady; // what earlier runs left on disk is served from the first request
    const { host, port, proxyProtocol } = loaded.config.listen;
    if (proxyProtocol) sy.#listener = sy.#front(sy.#server);
    sy.#listener.listen(port, host);
    await once(sy.#listener, 'listening');
    return sy;
  }

  get port(): number {
    return (this.#listener.address() as AddressInfo).port;
  }

  /** Base URL on the first platform host, e.g. `http://localhost:8080`. */
  get url(): string {
    const host = this.#config.platform.hosts[0] ?? 'localhost';
    return `http://${host}:${this.port}`;
  }

  get routes(): RouteTable {
    return this.#handler.table;
  }

  /**
   * Put a new configuration's projects in service, all at once. Settings that shape the
   * listener (listen, limits) and connection pools (upstream) take effect at restart.
   */
  apply(loaded: LoadedConfig): void {
    this.#config = loaded.config;
    this.#fileProjects = loaded.projects;
    this.#swap();
    const slugs = new Set(loaded.projects.map((p) => p.slug));
    for (const l of this.#fileListeners) l(slugs);
  }

  /** Put the state store's projects in service (the control plane calls this on every change). */
  setStoreProjects(projects: readonly ProjectSpec[]): void {
    this.#storeProjects = projects;
    this.#swap();
  }

  /** Told when the file's projects change (the control plane refuses those slugs). */
  onFileProjects(listener: (slugs: ReadonlySet<string>) => void): void {
    this.#fileListeners.push(listener);
  }

  /** Live deployment events for the building page (the control plane provides them). */
  setLive(live: LiveEvents): void {
    this.#live = live;
    for (const h of this.#handlers) h.setLive(live);
  }

  /** The key that signs protected hosts' cookies and share links (read from the store). */
  setSigningKey(key: SigningKey): void {
    this.#signingKey = key;
    for (const h of this.#handlers) h.setSigningKey(key);
  }

  /** Redirects, HSTS and ACME challenges, once the HTTPS side runs. */
  setHttps(settings: HttpsSettings): void {
    this.#https = settings;
    for (const h of this.#handlers) h.setHttps(settings);
  }

  setStoreHealth(health: 'ok' | 'degraded'): void {
    this.#storeHealth = health;
  }

  /** Every replica of every live upstream deployment, for metrics. */
  *replicaFigures(): Generator<ReplicaFigures> {
    for (const { project, deployment, origin } of this.#origins.upstreams()) {
      for (const r of origin.replicas()) {
        yield {
          project,
          deployment,
          replica: r.url,
          state: r.state,
          inFlight: r.inFlight,
          errorRate: r.errorRate,
          latencyMs: r.latencyMs,
        };
      }
    }
  }

  /** The instance has its route table (store included): `/_switchyard/ready` may say so. */
  markReady(): void {
    this.#ready = true;
  }

  /** What `/_switchyard/ready` reports: ready for traffic, or why not. */
  readiness(): { ready: boolean; reason?: 'starting' | 'draining' } {
    if (this.#draining || this.#handler.closing) return { ready: false, reason: 'draining' };
    return this.#ready ? { ready: true } : { ready: false, reason: 'starting' };
  }

  /** What `/_switchyard/health` and the admin API's `/health` report. */
  health(): { status: 'ok' | 'degraded' | 'closing'; projects: number; store: string } {
    const status = this.#handler.closing
      ? 'closing'
      : this.#storeHealth === 'ok'
        ? 'ok'
        : 'degraded';
    return { status, projects: this.#handler.table.size, store: this.#storeHealth };
  }

  /** Every project served, by slug (file and store), as compiled last. */
  projectSpecs(): ReadonlyMap<string, ProjectSpec> {
    return this.#specs;
  }

  #swap(): void {
    const table = this.#compile();
    for (const h of this.#handlers) h.setTable(table);
    void this.#origins
      .commit()
      .catch((err: unknown) => this.#logger.warn({ err }, 'closing retired origins failed'));
  }

  #compile(): RouteTable {
    const { specs, shadowed } = mergeProjects(this.#fileProjects, this.#storeProjects);
    for (const slug of shadowed) {
      if (!this.#shadowed.has(slug)) {
        this.#logger.warn(
          { project: slug },
          'project in the state store is shadowed by the configuration file',
        );
      }
    }
    this.#shadowed = shadowed;
    this.#specs = specs;
    return RouteTable.compile(this.#config.platform, [...specs.values()], this.#origins.originFor);
  }

  /**
   * Stop accepting, let in-flight requests (and WebSockets) run up to `graceMs`, then close
   * every connection and origin.
   */
  async close(
    graceMs = this.#config.shutdown.graceMs,
    drainMs = this.#config.shutdown.drainMs,
  ): Promise<void> {
    if (drainMs > 0) {
      // Not ready, still serving: the balancer's checks see it and stop sending.
      this.#draining = true;
      await new Promise((r) => setTimeout(r, drainMs));
    }
    for (const h of this.#handlers) h.startClosing();
    const secure = this.#secureServer;
    const secureClosed =
      secure === undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => secure.close(() => resolve()));
    for (const front of this.#fronts) front.close();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve())).then(
      () => secureClosed,
    );
    this.#server.closeIdleConnections();
    const sweep = setInterval(() => this.#server.closeIdleConnections(), 50);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    const idle = (async () => {
      while (this.#upgraded.size > 0) await new Promise((r) => setTimeout(r, 50));
      await closed;
    })();
    await Promise.race([idle, deadline]);
    clearInterval(sweep);
    clearTimeout(timer);
    for (const socket of this.#upgraded) socket.destroy();
    for (const socket of this.#secureSockets) socket.destroy();
    this.#server.closeAllConnections();
    await closed;
    this.#buckets.close();
    this.#guard.close();
    await this.#origins.closeAll();
    await this.cache?.close(); // what the disk tier is still writing lands before exit
  }
}
