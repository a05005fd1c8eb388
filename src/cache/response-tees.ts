/**
 * What the cache sees of a proxied miss as it passes to the client (`ResponseTee`): the
 * miss tee buffers a storable response and hands it over when it is complete; the pass tee
 * of a key last seen uncacheable is one small object that buffers nothing; a forward tee
 * marks a response the cache let pass for a reason known up front.
 */
import type { IncomingMessage } from 'node:http';
import type { ResponseTee } from '../upstream/proxy-exchange.js';

export const CACHE_NAME = 'Switchyard';

/** Cache-Status values of common pass reasons, built once. */
const PASS_STATUS: Record<string, string> = {
  'no explicit freshness': `${CACHE_NAME}; fwd=uri-miss; detail=no-explicit-freshness`,
  'set-cookie': `${CACHE_NAME}; fwd=uri-miss; detail=set-cookie`,
  'no-store': `${CACHE_NAME}; fwd=uri-miss; detail=no-store`,
  private: `${CACHE_NAME}; fwd=uri-miss; detail=private`,
};

type Headers = Record<string, string | string[] | undefined>;

export interface MissTeeOptions {
  /** Why the response may not be stored, or undefined. */
  whyNotStore(status: number, headers: Headers): string | undefined;
  readonly maxObjectBytes: number;
  /** `vary-miss` when the URL is known to vary, else `uri-miss`. */
  readonly fwd: string;
  /** The response could be stored (true) or not: hit-for-pass bookkeeping. */
  storable(yes: boolean): void;
  /** The whole storable response arrived. */
  keep(status: number, headers: Headers, body: Buffer): Promise<void>;
  /** The miss is over, stored or not (waiters on the same key may go on). */
  settle(): void;
  /** The targeted cache-control field, not passed on to clients. */
  readonly hides?: string;
}

export class MissTee implements ResponseTee {
  readonly #o: MissTeeOptions;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #keep = false;
  #status = 0;
  #headers: Headers = {};
  /** The response head reached the tee (else nothing else will settle the miss). */
  started = false;

  readonly hides: string | undefined;

  constructor(options: MissTeeOptions) {
    this.#o = options;
    this.hides = options.hides;
  }

  start(status: number, headers: Headers): string {
    this.started = true;
    this.#status = status;
    this.#headers = headers;
    const reason = this.#o.whyNotStore(status, headers);
    this.#keep = reason === undefined;
    this.#o.storable(this.#keep);
    // `stored` only when the size is known to fit: a body of unknown length may outgrow it.
    const known = headers['content-length'] !== undefined;
    return this.#keep
      ? `${CACHE_NAME}; fwd=${this.#o.fwd}${known ? '; stored' : ''}`
      : `${CACHE_NAME}; fwd=${this.#o.fwd}; detail=${reason!.replace(/ /g, '-')}`;
  }

  data(chunk: Buffer): void {
    if (!this.#keep) return;
    this.#size += chunk.length;
    if (this.#size > this.#o.maxObjectBytes) {
      this.#keep = false; // larger than announced: pass through, do not store
      this.#chunks.length = 0;
    } else this.#chunks.push(chunk);
  }

  end(): void {
    if (!this.#keep) {
      this.#o.settle();
      return;
    }
    const body = Buffer.concat(this.#chunks, this.#size);
    void this.#o
      .keep(this.#status, this.#headers, body)
      .catch(() => {})
      .finally(() => this.#o.settle());
  }

  abort(): void {
    this.#o.settle();
  }
}

/** What a pass tee asks of the cache. */
export interface PassDecider {
  whyNotStore(
    method: string,
    req: IncomingMessage,
    status: number,
    headers: Headers,
  ): string | undefined;
  unpass(primary: string): void;
  /** The targeted cache-control field, not passed on to clients. */
  readonly hides: string | undefined;
}

/**
 * The tee of a key last seen uncacheable: one small object with no closures (it is made per
 * request on the hot path); if the response has become cacheable, the key leaves pass.
 */
export class PassTee implements ResponseTee {
  constructor(
    readonly cache: PassDecider,
    readonly req: IncomingMessage,
    readonly primary: string,
  ) {
    this.hides = cache.hides;
  }

  readonly hides: string | undefined;

  start(status: number, headers: Headers): string {
    const reason = this.cache.whyNotStore(this.req.method ?? 'GET', this.req, status, headers);
    if (reason === undefined) {
      this.cache.unpass(this.primary);
      return `${CACHE_NAME}; fwd=uri-miss`;
    }
    return (
      PASS_STATUS[reason] ?? `${CACHE_NAME}; fwd=uri-miss; detail=${reason.replace(/ /g, '-')}`
    );
  }

  data(): void {}
  end(): void {}
  abort(): void {}
}

const ignore = () => {};

/**
 * The tee of a response the cache lets pass without looking at it: it says why in
 * `Cache-Status` (RFC 9211) and, like every cache path, keeps the targeted field from clients.
 */
export function forwardTee(status: string, hides: string | undefined): ResponseTee {
  return { start: () => status, data: ignore, end: ignore, abort: ignore, hides };
}

/** The responses the cache passes without a look, with their Cache-Status. */
export function forwardTees(hides: string | undefined) {
  return {
    /** A range of something not stored: the app answers it, nothing is kept. */
    range: forwardTee(`${CACHE_NAME}; fwd=uri-miss; detail=range`, hides),
    /** Stored, but not for this request's Cookie or Authorization (RFC 9211 `fwd=request`). */
    credentials: forwardTee(`${CACHE_NAME}; fwd=request; detail=credentials`, hides),
  };
}
