/**
 * An upstream deployment behind the HTTP cache: GET and HEAD go through the cache, unsafe
 * methods go to the app and, when they succeed, invalidate what is stored for their URI
 * (RFC 9111 §4.4); everything else (OPTIONS, WebSocket) passes straight through.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Origin } from '../origin/origin.js';
import type { RequestContext } from '../request/request-context.js';
import type { UpstreamOrigin } from '../upstream/upstream-origin.js';
import type { ResponseTee } from '../upstream/proxy-exchange.js';
import { HttpCache, type Scope } from './http-cache.js';

/** Marks responses to methods the cache does not store (`fwd=method`). */
const METHOD_TEE: ResponseTee = {
  start: () => 'Switchyard; fwd=method',
  data: () => {},
  end: () => {},
  abort: () => {},
};

export class CachingOrigin implements Origin {
  readonly kind = 'upstream';
  readonly inner: UpstreamOrigin;
  readonly #cache: HttpCache;
  readonly #scope: Scope;

  constructor(inner: UpstreamOrigin, cache: HttpCache, scope: Scope) {
    this.inner = inner;
    this.#cache = cache;
    this.#scope = scope;
  }

  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') {
      this.#cache.serve(req, res, ctx, this.#scope, this.inner);
      return;
    } else if (HttpCache.isUnsafe(method)) {
      res.once('finish', () => {
        if (res.statusCode < 400) void this.#cache.invalidate(this.#scope, ctx);
      });
    }
    // RFC 9211 §2.2: forwarded because of the method.
    this.inner.handle(req, res, ctx, METHOD_TEE);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void {
    this.inner.upgrade(req, socket, head, ctx);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
