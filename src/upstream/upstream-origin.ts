/** The upstream origin: a deployment's containers, reached over pooled HTTP/1.1. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamOriginSpec } from '../model/site.js';
import type { Origin } from '../origin/origin.js';
import { upstreamRequestHeaders } from '../proxy/forwarded-headers.js';
import type { RequestContext } from '../server/request-context.js';
import { ProxyExchange } from './proxy-exchange.js';
import { ReplicaSet, type UpstreamSettings } from './replica-set.js';
import { tunnelUpgrade } from './websocket-tunnel.js';

export class UpstreamOrigin implements Origin {
  readonly kind = 'upstream';
  readonly #replicas: ReplicaSet;
  readonly #via: string;
  readonly #connectTimeoutMs: number;

  constructor(spec: UpstreamOriginSpec, settings: UpstreamSettings, via: string) {
    this.#replicas = new ReplicaSet(spec.replicas, settings);
    this.#via = via;
    this.#connectTimeoutMs = settings.connectTimeoutMs;
  }

  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
    const headers = upstreamRequestHeaders(req, ctx, { via: this.#via });
    new ProxyExchange(req, res, ctx, this.#replicas, headers, this.#via).start();
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void {
    tunnelUpgrade(req, socket, head, ctx, this.#replicas, {
      via: this.#via,
      connectTimeoutMs: this.#connectTimeoutMs,
    });
  }

  close(): Promise<void> {
    return this.#replicas.close();
  }
}
