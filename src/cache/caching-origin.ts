/**
 * An upstream deployment behind the HTTP cache: GET and HEAD go through the cache, unsafe
 * methods go to the app and, when they succeed, invalidate what is stored for their URI
 * (RFC 9111 §4.4); everything else (OPTIONS, WebSocket) passes straight through.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { carriesBody } from '../http/request-body.js';
import { forwardTee } from './response-tees.js';
import { invalidatedPaths, isUnsafe } from './stored-updates.js';
import type { Origin } from '../origin/origin.js';
import type { RequestContext } from '../request/request-context.js';
import type { UpstreamOrigin } from '../upstream/upstream-origin.js';
import type { ResponseTee } from '../upstream/proxy-exchange.js';
import type { HttpCache, Scope } from './http-cache.js';

/**
 * A GET or HEAD with content (a "fat GET", RFC 9110 §9.3.1: content with no defined meaning)
 * bypasses the cache both ways: its answer may depend on a body the cache key does not hold,
 * and stored it would be served for every later GET of the URL (cache poisoning).
 */
const BODY_STATUS = 'Switchyard; fwd=bypass; detail=request-content';

/** Responses to methods the cache does not store (RFC 9211 §2.2 `fwd=method`). */
const METHOD_STATUS = 'Switchyard; fwd=method';

export class CachingOrigin implements Origin {
  readonly kind = 'upstream';
  readonly inner: UpstreamOrigin;
  readonly #cache: HttpCache;
  readonly #scope: Scope;
  readonly #methodTee: ResponseTee;
  readonly #bodyTee: ResponseTee;

  constructor(inner: UpstreamOrigin, cache: HttpCache, scope: Scope) {
    this.inner = inner;
    this.#cache = cache;
    this.#scope = scope;
    this.#methodTee = forwardTee(METHOD_STATUS, cache.hides);
    this.#bodyTee = forwardTee(BODY_STATUS, cache.hides);
  }

  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
    const method = req.method;
    if (method === 'GET' || method === 'HEAD') {
      if (carriesBody(req)) this.inner.handle(req, res, ctx, this.#bodyTee);
      else this.#cache.serve(req, res, ctx, this.#scope, this.inner);
      return;
    } else if (isUnsafe(method)) {
      // §4.4: once the app's answer to an unsafe method went through successfully (a 2xx
      // or 3xx), what is stored for its URI and the URIs it names goes stale.
      let paths: string[] | undefined;
      const tee: ResponseTee = {
        ...this.#methodTee,
        start: (status, headers) => {
          if (status < 400)
            paths = invalidatedPaths(ctx, headers.location, headers['content-location']);
          return METHOD_STATUS;
        },
      };
      res.once('finish', () => {
        if (paths !== undefined) void this.#cache.invalidate(this.#scope, ctx, paths);
      });
      this.inner.handle(req, res, ctx, tee);
      return;
    }
    this.inner.handle(req, res, ctx, this.#methodTee);
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext): void {
    this.inner.upgrade(req, socket, head, ctx);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
