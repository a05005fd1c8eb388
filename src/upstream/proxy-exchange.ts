/**
 * One proxied request: an undici dispatch handler that streams the response to the client
 * with back-pressure (a full client socket pauses the upstream read), cancels the upstream
 * request when the client goes away, and goes through the replicas with one
 * `UpstreamAttempt` (picking, load accounting, passive health and the retry rule).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { bodyOf, carriesBody } from '../http/request-body.js';
import { blockWritable, startWithBlock } from '../http/response-head.js';
import { downstreamResponseBlock, downstreamResponseHeaders } from '../proxy/forwarded-headers.js';
import { sendError } from '../request/error-renderer.js';
import type { RequestContext } from '../request/request-context.js';
import { decorateResponseHeaders, decorationLines } from '../request/response-headers.js';
import { SwitchyardError } from '../model/errors.js';
import { toClientError } from './upstream-errors.js';
import type { Replica, ReplicaSet } from './replica-set.js';
import { UpstreamAttempt } from './upstream-attempt.js';
import { countRefusal } from '../observability/metrics.js';

/** RFC 9110 §9.2.2 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Lets the HTTP cache see a proxied response as it passes (to store it). */
export interface ResponseTee {
  /** The response head arrived; returns the `Cache-Status` value to send. */
  start(status: number, headers: Record<string, string | string[] | undefined>): string;
  data(chunk: Buffer): void;
  end(): void;
  /** The response did not complete (error, client gone). */
  abort(): void;
  /** A response field meant for the cache alone (RFC 9213 `CDN-Cache-Control`), not passed on. */
  readonly hides?: string;
}

/** Why a chunked request body was cut: it passed the limit. */
const BODY_TOO_LARGE = Object.assign(new Error('the request body is over the limit'), {
  code: 'SY_BODY_TOO_LARGE',
});

/** Why a request body was cut: the client stopped sending it. */
const BODY_STALLED = Object.assign(new Error('the request body stalled'), {
  code: 'SY_BODY_TIMEOUT',
});

/**
 * Passes a body through, failing once it has carried more than `limit` bytes (0: no limit;
 * only bodies without a `Content-Length`: a declared one was checked before) or once no byte
 * came for `idleMs` (0: never). One timer per body, refreshed per chunk.
 */
function guardBody(limit: number, idleMs: number): Transform {
  let seen = 0;
  let timer: NodeJS.Timeout | undefined;
  const body: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      timer?.refresh();
      seen += chunk.length;
      if (limit > 0 && seen > limit) done(BODY_TOO_LARGE);
      else done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(err, done) {
      clearTimeout(timer);
      done(err);
    },
  });
  if (idleMs > 0) timer = setTimeout(() => body.destroy(BODY_STALLED), idleMs);
  // undici listens while it sends the body; after that, an error here concerns no one.
  body.on('error', () => {});
  return body;
}

/** Why an upstream request is aborted when the client went away (not an error to report). */
const CLIENT_GONE = new Error('the client closed the connection');

export class ProxyExchange implements Dispatcher.DispatchHandler {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #ctx: RequestContext;
  readonly #attempt: UpstreamAttempt;
  readonly #headers: Record<string, string | string[]>;
  readonly #hasBody: boolean;
  readonly #via: string;
  #controller: Dispatcher.DispatchController | undefined;
  /** Response headers arrived for the current attempt. */
  #responded = false;
  #guarded: Transform | undefined;
  readonly #bodyIdleMs: number;
  readonly #tee: ResponseTee | undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    replicas: ReplicaSet,
    headers: Record<string, string | string[]>,
    via: string,
    key: string | undefined,
    tee: ResponseTee | undefined,
    bodyIdleMs: number,
  ) {
    this.#tee = tee;
    this.#bodyIdleMs = bodyIdleMs;
    this.#req = req;
    this.#res = res;
    this.#ctx = ctx;
    this.#attempt = new UpstreamAttempt(replicas, key);
    this.#headers = headers;
    this.#via = via;
    this.#hasBody = carriesBody(req);
    res.on('close', this.#onClientClose);
  }

  start(): void {
    const replica = this.#attempt.next();
    if (replica !== undefined) {
      this.#dispatch(replica);
      return;
    }
    // Every replica is at its concurrency limit: wait in the bounded queue, or 503 at once.
    void this.#attempt.wait().then((r) => {
      if (this.#res.destroyed) {
        this.#attempt.done();
        return;
      }
      if (r !== undefined) this.#dispatch(r);
      else {
        this.#tee?.abort();
        sendError(
          this.#req,
          this.#res,
          this.#ctx,
          new SwitchyardError(
            'SY_UPSTREAM_BUSY',
            'every replica of this deployment is at its limit; retry shortly',
            {
              headers: { 'retry-after': '1' },
            },
          ),
        );
      }
    });
  }

  #dispatch(replica: Replica): void {
    this.#responded = false;
    this.#ctx.upstream = replica.url;
    replica.pool.dispatch(
      {
        path: this.#ctx.path,
        method: this.#req.method ?? 'GET',
        headers: this.#headers,
        body: this.#hasBody ? this.#body() : null,
      },
      this,
    );
  }

  /** The request body, through the guard that holds it to the size and idle limits. */
  #body(): Readable {
    const declared = this.#req.headers['content-length'] !== undefined;
    const limit = declared ? 0 : this.#ctx.bodyLimit;
    const idleMs = this.#bodyIdleMs;
    if (limit === 0 && idleMs === 0) return bodyOf(this.#req);
    this.#guarded ??= bodyOf(this.#req).pipe(guardBody(limit, idleMs));
    return this.#guarded;
  }

  #onClientClose = (): void => {
    if (!this.#res.writableFinished) this.#controller?.abort(CLIENT_GONE);
  };

  #resume = (): void => {
    this.#controller?.resume();
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#res.destroyed) controller.abort(CLIENT_GONE);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) {
      // RFC 8297: 103 Early Hints go on to the client (never to HTTP/1.0, RFC 9110 §15.2),
      // with their Link fields only; never stored. Other 1xx are this hop's business.
      const link = headers.link;
      const req = this.#req;
      if (statusCode === 103 && link !== undefined && !this.#res.headersSent) {
        if (req.httpVersionMajor > 1 || req.httpVersionMinor >= 1) {
          this.#res.writeEarlyHints({ link });
        }
      }
      return;
    }
    this.#responded = true;
    this.#attempt.report(statusCode < 500); // passive health: a 5xx counts against the replica
    const tee = this.#tee;
    const cacheStatus = tee?.start(statusCode, headers);
    if (cacheStatus !== undefined) this.#ctx.cacheStatus = cacheStatus;
    if (this.#writeBlock(statusCode, headers, statusMessage, cacheStatus)) return;
    const out = decorateResponseHeaders(downstreamResponseHeaders(headers, this.#via), this.#ctx);
    if (cacheStatus !== undefined) {
      out['cache-status'] = cacheStatus;
      if (tee!.hides !== undefined && out[tee!.hides] !== undefined) delete out[tee!.hides];
    }
    // HTTP/2 has no reason phrase (RFC 9113 §8.3.2).
    if (statusMessage && this.#req.httpVersionMajor < 2)
      this.#res.writeHead(statusCode, statusMessage, out);
    else this.#res.writeHead(statusCode, out);
  }

  /**
   * The response head as one block (http/response-head.ts): the origin's fields joined in
   * one pass, then the edge's own. False: nothing was sent, `writeHead` takes it.
   */
  #writeBlock(
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage: string | undefined,
    cacheStatus: string | undefined,
  ): boolean {
    const req = this.#req;
    const res = this.#res;
    const ctx = this.#ctx;
    // An origin's own reason phrase goes on as it was sent: writeHead checks and keeps it.
    if (statusMessage && statusMessage !== STATUS_CODES[statusCode]) return false;
    if (!blockWritable(req, res, statusCode)) return false;
    const lines = decorationLines(ctx);
    if (lines === undefined) return false;
    const down = downstreamResponseBlock(
      headers,
      this.#via,
      this.#tee?.hides,
      ctx.hsts !== undefined,
      cacheStatus !== undefined,
    );
    if (down === undefined) return false;
    const own = cacheStatus === undefined ? lines : `${lines}cache-status: ${cacheStatus}\r\n`;
    startWithBlock(res, statusCode, down.block, own, down.length);
    return true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#tee?.data(chunk);
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', this.#resume);
    }
  }

  onResponseEnd(
    _controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    this.#attempt.done();
    this.#guarded?.destroy(); // the exchange is over: no body timer outlives it
    // RFC 9110 §6.5: trailer fields go on when the response can carry them (chunked HTTP/1.1, HTTP/2).
    if (hasFields(trailers)) this.#res.addTrailers(trailers);
    this.#res.end();
    this.#tee?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const failed = this.#attempt.replica?.url ?? '';
    if (err !== CLIENT_GONE && !this.#responded) this.#attempt.report(false);
    this.#attempt.done();
    const res = this.#res;
    if (err === BODY_STALLED) countRefusal('body_timeout');
    if ((err === BODY_TOO_LARGE || err === BODY_STALLED) && !res.headersSent) {
      // The rest of the body is not read: the answer closes the connection.
      this.#tee?.abort();
      res.shouldKeepAlive = false;
      sendError(
        this.#req,
        res,
        this.#ctx,
        err === BODY_TOO_LARGE
          ? new SwitchyardError(
              'SY_BODY_TOO_LARGE',
              `the request body is larger than this project accepts (${this.#ctx.bodyLimit} bytes)`,
            )
          : new SwitchyardError(
              'SY_BODY_TIMEOUT',
              `the request body stalled for more than ${this.#bodyIdleMs} ms`,
            ),
      );
      return;
    }
    if (err === CLIENT_GONE || res.destroyed) {
      this.#tee?.abort();
      this.#guarded?.destroy();
      return;
    }
    if (res.headersSent) {
      this.#tee?.abort();
      this.#guarded?.destroy();
      res.destroy(); // the response cannot be completed: the client must see it cut short
      return;
    }
    // Another replica, only where provably safe (UpstreamAttempt says when).
    const replayable = !this.#hasBody && !this.#responded && IDEMPOTENT.has(this.#req.method ?? '');
    if (this.#attempt.mayRetry(err, replayable)) {
      this.#controller = undefined;
      this.start();
      return;
    }
    this.#guarded?.destroy(); // over: no body timer outlives the exchange
    this.#tee?.abort();
    sendError(this.#req, res, this.#ctx, toClientError(err, failed));
  }
}

/** Whether a field map has any entry, without allocating (runs once per response). */
function hasFields(fields: Record<string, unknown>): boolean {
  for (const name in fields) if (name !== '') return true;
  return false;
}
