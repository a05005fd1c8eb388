/**
 * One proxied request: an undici dispatch handler that streams the response to the client
 * with back-pressure (a full client socket pauses the upstream read), cancels the upstream
 * request when the client goes away, reports each attempt's outcome to the replica set
 * (passive health), and tries another replica only when that is provably safe — see
 * `onResponseError` — and the retry budget allows it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { downstreamResponseHeaders } from '../proxy/forwarded-headers.js';
import { sendError } from '../server/error-page.js';
import type { RequestContext } from '../server/request-context.js';
import { decorateResponseHeaders } from '../server/response-headers.js';
import { SwitchyardError } from '../server/errors.js';
import { isConnectFailure, isCutBeforeAnswer, toClientError } from './upstream-errors.js';
import type { Replica, ReplicaSet } from './replica-set.js';

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
}

class ClientGone extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGone';
  }
}

export class ProxyExchange implements Dispatcher.DispatchHandler {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #ctx: RequestContext;
  readonly #replicas: ReplicaSet;
  readonly #headers: Record<string, string | string[]>;
  readonly #hasBody: boolean;
  readonly #via: string;
  #controller: Dispatcher.DispatchController | undefined;
  #replica: Replica | undefined;
  #attempts = 0;
  /** Replicas tried so far, a bit per index (a retry goes elsewhere). */
  #tried = 0;
  #sentAt = 0;
  /** Response headers arrived for the current attempt. */
  #responded = false;
  readonly #key: string | undefined;
  readonly #tee: ResponseTee | undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    replicas: ReplicaSet,
    headers: Record<string, string | string[]>,
    via: string,
    key: string | undefined,
    tee?: ResponseTee,
  ) {
    this.#key = key;
    this.#tee = tee;
    this.#req = req;
    this.#res = res;
    this.#ctx = ctx;
    this.#replicas = replicas;
    this.#headers = headers;
    this.#via = via;
    const cl = req.headers['content-length'];
    this.#hasBody =
      (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
    res.on('close', this.#onClientClose);
  }

  start(): void {
    const replica = this.#replicas.pick(this.#key, this.#tried);
    if (replica !== undefined) {
      this.#dispatch(replica);
      return;
    }
    // Every replica is at its concurrency limit: wait in the bounded queue, or 503 at once.
    void this.#replicas.wait(this.#key).then((r) => {
      if (this.#res.destroyed) {
        if (r !== undefined) this.#replicas.release();
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
    this.#tried |= 1 << (replica.index % 31);
    replica.inFlight++;
    this.#replica = replica;
    this.#sentAt = performance.now();
    this.#responded = false;
    this.#ctx.upstream = replica.url;
    this.#attempts++;
    replica.pool.dispatch(
      {
        path: this.#ctx.path,
        method: this.#req.method ?? 'GET',
        headers: this.#headers,
        body: this.#hasBody ? this.#req : null,
      },
      this,
    );
  }

  #onClientClose = (): void => {
    if (!this.#res.writableFinished) this.#controller?.abort(new ClientGone());
  };

  #resume = (): void => {
    this.#controller?.resume();
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#res.destroyed) controller.abort(new ClientGone());
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx: informational, not forwarded
    this.#responded = true;
    if (this.#replica !== undefined) {
      // Passive health: a 5xx counts against the replica (outlier detection).
      this.#replicas.report(this.#replica, statusCode < 500, performance.now() - this.#sentAt);
    }
    const out = decorateResponseHeaders(downstreamResponseHeaders(headers, this.#via), this.#ctx);
    if (this.#tee !== undefined) out['cache-status'] = this.#tee.start(statusCode, headers);
    // HTTP/2 has no reason phrase (RFC 9113 §8.3.2).
    if (statusMessage && this.#req.httpVersionMajor < 2)
      this.#res.writeHead(statusCode, statusMessage, out);
    else this.#res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#tee?.data(chunk);
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', this.#resume);
    }
  }

  /** The attempt is over (response ended, failed or was cut): it no longer counts as load. */
  #done(): void {
    const replica = this.#replica;
    if (replica !== undefined) {
      replica.inFlight--;
      this.#replica = undefined;
      this.#replicas.release();
    }
  }

  onResponseEnd(
    _controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    this.#done();
    // RFC 9110 §6.5: trailer fields go on when the response can carry them (chunked HTTP/1.1, HTTP/2).
    if (hasFields(trailers)) this.#res.addTrailers(trailers);
    this.#res.end();
    this.#tee?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const replica = this.#replica;
    const failed = replica?.url ?? '';
    if (replica !== undefined && !(err instanceof ClientGone) && !this.#responded) {
      this.#replicas.report(replica, false, performance.now() - this.#sentAt);
    }
    this.#done();
    const res = this.#res;
    if (err instanceof ClientGone || res.destroyed) {
      this.#tee?.abort();
      return;
    }
    if (res.headersSent) {
      this.#tee?.abort();
      res.destroy(); // the response cannot be completed: the client must see it cut short
      return;
    }
    // Another replica, only where provably safe: nothing was sent (a connection never made),
    // or an idempotent request without a body that got no answer (the replica died under it).
    const safe =
      !this.#hasBody &&
      IDEMPOTENT.has(this.#req.method ?? '') &&
      (isConnectFailure(err) || (!this.#responded && isCutBeforeAnswer(err)));
    if (safe && this.#attempts < this.#replicas.size && this.#replicas.mayRetry()) {
      this.#controller = undefined;
      this.start();
      return;
    }
    this.#tee?.abort();
    sendError(this.#req, res, this.#ctx, toClientError(err, failed));
  }
}

/** Whether a field map has any entry, without allocating (runs once per response). */
function hasFields(fields: Record<string, unknown>): boolean {
  for (const name in fields) if (name !== '') return true;
  return false;
}
