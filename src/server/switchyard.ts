/**
 * One Switchyard instance: the HTTP listener, the current route table and the origins behind
 * it. `apply()` compiles a new table and swaps it in whole; `close()` drains and stops.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { LoadedConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { OriginRegistry } from '../origin/origin-registry.js';
import { TrustedPeers } from '../proxy/trusted-peers.js';
import { RouteTable } from '../routing/route-table.js';
import type { ProjectSpec } from '../model/site.js';
import { onInternalError } from './error-page.js';
import { RequestHandler } from './request-handler.js';

export interface StartOptions {
  readonly logger: Logger;
}

/** Statuses Node's parser errors map to (the rest are 400). */
const CLIENT_ERROR_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

export class Switchyard {
  readonly #server: Server;
  readonly #handler: RequestHandler;
  readonly #origins: OriginRegistry;
  readonly #logger: Logger;
  readonly #upgraded = new Set<Duplex>();
  #config: Config;

  private constructor(loaded: LoadedConfig, logger: Logger) {
    const { config } = loaded;
    this.#config = config;
    this.#logger = logger;
    this.#origins = new OriginRegistry({ upstream: config.upstream, via: config.proxy.via });
    const table = this.#compile(config, loaded.projects);
    void this.#origins.commit();
    this.#handler = new RequestHandler(table, {
      trusted: new TrustedPeers(config.proxy.trustedProxies),
      accessLog: config.log.access ? logger : undefined,
      proto: 'http',
    });
    onInternalError((err) => logger.error({ err: err.cause ?? err, code: err.code }, err.detail));
    const limits = config.limits;
    this.#server = createServer(
      {
        maxHeaderSize: limits.maxHeaderBytes,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        requireHostHeader: true,
        noDelay: true,
      },
      this.#handler.handle,
    );
    this.#server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      this.#upgraded.add(socket);
      socket.once('close', () => this.#upgraded.delete(socket));
      this.#handler.upgrade(req, socket, head);
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const [status, text] = CLIENT_ERROR_STATUS[err.code ?? ''] ?? [400, 'Bad Request'];
      if (socket.writable && (err as { bytesParsed?: number }).bytesParsed !== undefined) {
        const body = `${status} ${text}: the request could not be parsed (${err.code ?? 'error'})\n`;
        socket.end(
          `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else socket.destroy();
    });
  }

  /** Listen with `loaded.config.listen`; resolves when the listener is up. */
  static async start(loaded: LoadedConfig, options: StartOptions): Promise<Switchyard> {
    const sy = new Switchyard(loaded, options.logger);
    const { host, port } = loaded.config.listen;
    sy.#server.listen(port, host);
    await once(sy.#server, 'listening');
    return sy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
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
    const table = this.#compile(loaded.config, loaded.projects);
    this.#handler.setTable(table);
    this.#config = loaded.config;
    void this.#origins
      .commit()
      .catch((err: unknown) => this.#logger.warn({ err }, 'closing retired origins failed'));
  }

  #compile(config: Config, projects: readonly ProjectSpec[]): RouteTable {
    return RouteTable.compile(config.platform, projects, this.#origins.originFor);
  }

  /**
   * Stop accepting, let in-flight requests (and WebSockets) run up to `graceMs`, then close
   * every connection and origin.
   */
  async close(graceMs = this.#config.shutdown.graceMs): Promise<void> {
    this.#handler.startClosing();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
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
    this.#server.closeAllConnections();
    await closed;
    await this.#origins.closeAll();
  }
}
