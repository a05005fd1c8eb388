/**
 * The HTTP cache (RFC 9111, shared cache) in front of upstream deployments. GET and HEAD are
 * answered from the store while fresh, validated with the origin when stale, stored when
 * storable; concurrent misses for one key make one upstream request (like nginx's
 * `proxy_cache_lock`). Every answer carries `Cache-Status` (RFC 9211).
 *
 * The key starts with the project and the deployment id, so a promote or a rollback never
 * serves another deployment's objects and needs no purge; then the scheme and path-routing
 * prefix the app sees, and the path with query. `Vary` selects a variant by the request
 * header values it names (§4.1); nothing else of the request enters the key.
 */
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Readable } from 'node:stream';
import { downstreamResponseHeaders } from '../proxy/forwarded-headers.js';
import { sendError } from '../server/error-page.js';
import { SwitchyardError } from '../server/errors.js';
import type { RequestContext } from '../server/request-context.js';
import { decorateResponseHeaders } from '../server/response-headers.js';
import type { ResponseTee } from '../upstream/proxy-exchange.js';
import type { CacheStore, Entry, EntryMeta, PurgeSelector } from './cache-store.js';
import { splitList } from './cache-control.js';
import { currentAge, notStorable, staleIfError, usability } from './freshness.js';
import { ifRangeHolds, isNotModified } from '../http/conditional.js';
import { parseRange } from '../http/range.js';
import { acceptedEncodings } from '../http/accept-encoding.js';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip as gzipCallback } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gzip = promisify(gzipCallback);

/** Text worth compressing once for every client: not already encoded, not tiny. */
const COMPRESSIBLE_TYPE =
  /^(text\/|application\/(javascript|json|xml|wasm|manifest\+json|[a-z.+-]*\+(json|xml))|image\/svg)/i;

function compressible(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  size: number,
): boolean {
  if (status !== 200 || size < 256) return false;
  if (headers['content-encoding'] !== undefined) return false; // never compress twice
  const cc = String(headers['cache-control'] ?? '');
  if (/no-transform/i.test(cc)) return false; // RFC 9111 §5.2.2.6
  const type = headers['content-type'];
  return typeof type === 'string' && COMPRESSIBLE_TYPE.test(type);
}

export interface CacheSettings {
  /** Largest response body stored; larger ones pass through. */
  readonly maxObjectBytes: number;
  /** Store responses without explicit freshness (RFC 9111 §4.2.2 heuristics). */
  readonly heuristicFreshness: boolean;
  /** Longest wait for another request's miss on the same key before going to the origin. */
  readonly lockTimeoutMs: number;
  readonly via: string;
}

/** What the cache needs of an origin: proxy a request (showing it the response), or make one it reads itself. */
export interface Fetcher {
  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, tee?: ResponseTee): void;
  fetch(
    req: IncomingMessage,
    ctx: RequestContext,
    extraHeaders?: Record<string, string>,
  ): Promise<{
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
    body: Readable;
  }>;
}

export interface Scope {
  readonly project: string;
  readonly deployment: string;
}

/** How long an uncacheable key skips request coalescing. */
const PASS_MS = 10_000;
/** More selecting headers than this and a response is not stored (a hostile `Vary`). */
const MAX_VARY = 16;
const NAME = 'Switchyard';
/** RFC 9111 §4.4: methods whose success invalidates the target's stored responses. */
const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export class HttpCache {
  readonly #store: CacheStore;
  readonly #settings: CacheSettings;
  /** Primary key → the header names its responses vary on. */
  readonly #vary = new Map<string, readonly string[]>();
  /** Primary key → secondary keys stored under it (for invalidation). */
  readonly #variants = new Map<string, Set<string>>();
  /** Misses in progress: key → settles when the leader is done. */
  readonly #pending = new Map<string, Promise<void>>();
  readonly #refreshing = new Set<string>();
  /**
   * Keys whose last response could not be stored ("hit-for-pass", as Varnish calls it):
   * for a while their misses go straight to the app instead of waiting for one another.
   */
  readonly #pass = new LRUCache<string, true>({ max: 10_000, ttl: PASS_MS });

  constructor(store: CacheStore, settings: CacheSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  get store(): CacheStore {
    return this.#store;
  }

  static isUnsafe(method: string | undefined): boolean {
    return UNSAFE.has(method ?? '');
  }

  /** RFC 9111 §4.4: a successful unsafe request makes the stored responses for its URI stale. */
  async invalidate(scope: Scope, ctx: RequestContext): Promise<void> {
    const primary = primaryKey(scope, ctx);
    for (const key of this.#variants.get(primary) ?? []) await this.#store.delete(key);
    this.#variants.delete(primary);
    this.#vary.delete(primary);
  }

  async purge(selector: PurgeSelector): Promise<number> {
    const n = await this.#store.purge(selector);
    if (selector.tag === undefined && selector.url === undefined) {
      for (const key of [...this.#variants.keys()]) {
        if (
          (selector.project === undefined || key.startsWith(`${selector.project}\0`)) &&
          (selector.deployment === undefined || key.split('\0')[1] === selector.deployment)
        ) {
          this.#variants.delete(key);
          this.#vary.delete(key);
        }
      }
    }
    return n;
  }

  /**
   * Answer a GET or HEAD through the cache. Never rejects: errors become error pages.
   * A key known to be uncacheable with nothing stored goes to the app without a single await.
   */
  serve(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    scope: Scope,
    origin: Fetcher,
  ): void {
    const store = this.#store;
    if (store.getSync !== undefined) {
      const primary = primaryKey(scope, ctx);
      if (this.#pass.has(primary)) {
        const key = secondaryKey(primary, this.#vary.get(primary), req);
        if (store.getSync(key) === undefined) {
          origin.handle(req, res, ctx, new PassTee(this, req, primary));
          return;
        }
      }
    }
    void this.#serveAsync(req, res, ctx, scope, origin);
  }

  async #serveAsync(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    scope: Scope,
    origin: Fetcher,
  ) {
    try {
      await this.#serve(req, res, ctx, scope, origin);
    } catch (err) {
      const e =
        err instanceof SwitchyardError
          ? err
          : new SwitchyardError('SY_INTERNAL', 'the cache failed', { cause: err });
      sendError(req, res, ctx, e);
    }
  }

  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    scope: Scope,
    origin: Fetcher,
  ) {
    const primary = primaryKey(scope, ctx);
    const key = secondaryKey(primary, this.#vary.get(primary), req);
    let entry = await this.#store.get(key);
    if (entry === undefined && req.headers.range !== undefined) {
      // A range of something not stored: the app answers it; a partial response is not kept.
      origin.handle(req, res, ctx);
      return;
    }
    if (entry === undefined) {
      if (this.#pass.has(primary)) {
        origin.handle(req, res, ctx, this.#tee(req, ctx, scope, primary, noop));
        return;
      }
      const pending = this.#pending.get(key);
      if (pending !== undefined) {
        await Promise.race([pending, sleep(this.#settings.lockTimeoutMs)]);
        entry = await this.#store.get(secondaryKey(primary, this.#vary.get(primary), req));
        if (entry !== undefined) {
          const now = secondaryKey(primary, this.#vary.get(primary), req);
          this.#answer(req, res, ctx, entry, `${NAME}; hit; detail=collapsed`, 0, now);
          return;
        }
      }
      // The first miss proxies as usual, and the cache keeps the response as it passes.
      let done!: () => void;
      const pendingMiss = new Promise<void>((r) => (done = r));
      this.#pending.set(key, pendingMiss);
      const settle = () => {
        if (this.#pending.get(key) === pendingMiss) this.#pending.delete(key);
        done();
      };
      const tee = this.#tee(req, ctx, scope, primary, settle);
      // If the answer never reached the tee (busy, an error page), nothing else will settle.
      res.once('close', () => {
        if (!tee.started) settle();
      });
      origin.handle(req, res, ctx, tee);
      return;
    }
    const now = Date.now();
    const age = currentAge(entry.meta, entry.meta.requestTime, entry.meta.responseTime, now);
    const { use, lifetime } = usability({ method: 'GET', headers: req.headers }, entry.meta, age);
    if (use === 'fresh') {
      this.#answer(
        req,
        res,
        ctx,
        entry,
        `${NAME}; hit; ttl=${Math.floor(lifetime - age)}`,
        age,
        key,
      );
      return;
    }
    if (use === 'stale-while-revalidate') {
      this.#answer(req, res, ctx, entry, `${NAME}; hit; fwd=stale; detail=revalidating`, age, key);
      if (!this.#refreshing.has(key)) {
        this.#refreshing.add(key);
        void this.#revalidate(req, undefined, ctx, scope, origin, primary, entry).finally(() =>
          this.#refreshing.delete(key),
        );
      }
      return;
    }
    await this.#revalidate(req, res, ctx, scope, origin, primary, entry, age);
  }

  /**
   * §4.3: ask the origin whether the stored response is still good. 304 → update and answer
   * from the store; a new response → store and pass it on; an error → stale if allowed.
   * `res` undefined: a background refresh (stale-while-revalidate).
   */
  async #revalidate(
    req: IncomingMessage,
    res: ServerResponse | undefined,
    ctx: RequestContext,
    scope: Scope,
    origin: Fetcher,
    primary: string,
    entry: Entry,
    age = 0,
  ): Promise<void> {
    const conditional: Record<string, string> = {};
    const etag = one(entry.meta.headers.etag);
    const lastModified = one(entry.meta.headers['last-modified']);
    if (etag !== undefined) conditional['if-none-match'] = etag;
    if (lastModified !== undefined) conditional['if-modified-since'] = lastModified;
    let fetched;
    try {
      fetched = await origin.fetch(req, ctx, conditional);
    } catch (err) {
      if (res !== undefined && staleIfError(entry.meta, age)) {
        this.#answer(req, res, ctx, entry, `${NAME}; hit; fwd=stale; detail=stale-if-error`, age);
        return;
      }
      if (res === undefined) return;
      throw err;
    }
    if (fetched.statusCode === 304) {
      fetched.body.resume();
      // §4.3.4: the stored response's header fields are updated from the 304.
      const headers = { ...entry.meta.headers };
      for (const [name, value] of Object.entries(fetched.headers)) {
        if (value !== undefined && name !== 'content-length') headers[name] = value;
      }
      const refreshed: Entry = {
        meta: { ...entry.meta, headers, requestTime: Date.now(), responseTime: Date.now() },
        body: entry.body,
      };
      await this.#store.set(secondaryKey(primary, this.#vary.get(primary), req), refreshed);
      if (res !== undefined)
        this.#answer(req, res, ctx, refreshed, `${NAME}; fwd=stale; fwd-status=304`);
      return;
    }
    if (fetched.statusCode >= 500 && res !== undefined && staleIfError(entry.meta, age)) {
      fetched.body.resume();
      this.#answer(req, res, ctx, entry, `${NAME}; hit; fwd=stale; detail=stale-if-error`, age);
      return;
    }
    await this.#deliver(
      req,
      res,
      ctx,
      scope,
      primary,
      fetched,
      `${NAME}; fwd=stale; fwd-status=${fetched.statusCode}`,
    );
  }

  /** Pass a fresh origin response to the client (if any) and store it when allowed. */
  async #deliver(
    req: IncomingMessage,
    res: ServerResponse | undefined,
    ctx: RequestContext,
    scope: Scope,
    primary: string,
    fetched: {
      statusCode: number;
      headers: Record<string, string | string[] | undefined>;
      body: Readable;
    },
    status: string,
    requestTime = Date.now(),
  ): Promise<void> {
    const reason = this.whyNotStore('GET', req, fetched.statusCode, fetched.headers);
    const store = reason === undefined;
    if (res !== undefined) {
      const headers = decorateResponseHeaders(
        downstreamResponseHeaders(fetched.headers, this.#settings.via),
        ctx,
      );
      headers['cache-status'] = store
        ? `${status}; stored`
        : `${status}; detail=${reason.replace(/ /g, '-')}`;
      res.writeHead(fetched.statusCode, headers);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let keep = store;
    try {
      for await (const chunk of fetched.body as AsyncIterable<Buffer>) {
        if (res?.destroyed === true) {
          fetched.body.destroy(); // the client left: stop reading the app
          return;
        }
        if (keep) {
          size += chunk.length;
          if (size > this.#settings.maxObjectBytes) {
            keep = false; // larger than announced: pass through, do not store
            chunks.length = 0;
          } else chunks.push(chunk);
        }
        if (res !== undefined && req.method !== 'HEAD' && !res.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.once('drain', done);
            res.once('close', done);
          });
        }
      }
    } catch (err) {
      if (res !== undefined && !res.headersSent) throw err;
      res?.destroy();
      return;
    }
    res?.end();
    if (!keep || res?.destroyed === true) return;
    await this.#keep(
      req,
      ctx,
      scope,
      primary,
      fetched.statusCode,
      fetched.headers,
      requestTime,
      Buffer.concat(chunks, size),
    );
  }

  unpass(primary: string): void {
    this.#pass.delete(primary);
  }

  /** Why a response may not be stored (RFC 9111 §3 plus this cache's limits), or undefined. */
  whyNotStore(
    method: string,
    req: IncomingMessage,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): string | undefined {
    // The common uncacheable answer, decided without parsing anything.
    if (
      !this.#settings.heuristicFreshness &&
      headers['cache-control'] === undefined &&
      headers.expires === undefined
    ) {
      return 'no explicit freshness';
    }
    const facts = { status, headers };
    let reason = notStorable({ method, headers: req.headers }, facts);
    if (reason === undefined && !this.#settings.heuristicFreshness) {
      const cc = one(headers['cache-control']) ?? '';
      // Explicit freshness, or an explicit instruction to validate every time.
      if (!/max-age|s-maxage|no-cache|must-revalidate/.test(cc) && headers.expires === undefined) {
        reason = 'no explicit freshness';
      }
    }
    if (reason === undefined && varyOf(headers.vary).length > MAX_VARY) reason = 'vary too long';
    const length = Number(one(headers['content-length']) ?? Number.NaN);
    if (reason === undefined && length > this.#settings.maxObjectBytes) reason = 'too large';
    return reason;
  }

  async #keep(
    req: IncomingMessage,
    ctx: RequestContext,
    scope: Scope,
    primary: string,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    requestTime: number,
    body: Buffer,
  ): Promise<void> {
    const varyNames = varyOf(headers.vary);
    const meta: EntryMeta = {
      status,
      headers: compactHeaders(headers),
      requestTime,
      responseTime: Date.now(),
      project: scope.project,
      deployment: scope.deployment,
      url: ctx.path,
      tags: tagsOf(headers),
    };
    this.#vary.set(primary, varyNames);
    const key = secondaryKey(primary, varyNames, req);
    let variants = this.#variants.get(primary);
    if (variants === undefined) this.#variants.set(primary, (variants = new Set()));
    variants.add(key);
    await this.#store.set(key, { meta, body });
    if (compressible(status, headers, body.length))
      void this.#compress(key, { meta, body }, variants);
  }

  /**
   * Compress a stored text response once, in the background (brotli and gzip on libuv's
   * thread pool), store the encoded copies next to it, and mark it as having them.
   */
  async #compress(key: string, entry: Entry, variants: Set<string>): Promise<void> {
    try {
      const [br, gz] = await Promise.all([
        brotli(entry.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } }),
        gzip(entry.body, { level: 6 }),
      ]);
      const encodings: string[] = [];
      for (const [name, bytes] of [
        ['br', br],
        ['gzip', gz],
      ] as const) {
        if (bytes.length >= entry.body.length) continue; // not worth it
        const encodedKey = `${key}\0enc=${name}`;
        if (await this.#store.set(encodedKey, { meta: entry.meta, body: bytes })) {
          encodings.push(name);
          variants.add(encodedKey);
        }
      }
      if (encodings.length > 0)
        await this.#store.set(key, { meta: { ...entry.meta, encodings }, body: entry.body });
    } catch {
      // compression failed: the identity copy serves
    }
  }

  /** Sees a proxied miss go by and stores it when it may. */
  #tee(
    req: IncomingMessage,
    ctx: RequestContext,
    scope: Scope,
    primary: string,
    settle: () => void,
  ): ResponseTee & { readonly started: boolean } {
    const requestTime = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let keep = false;
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const fwd = this.#vary.has(primary) ? 'vary-miss' : 'uri-miss';
    let started = false;
    return {
      get started() {
        return started;
      },
      start: (s, h) => {
        started = true;
        status = s;
        headers = h;
        const reason = this.whyNotStore(req.method ?? 'GET', req, s, h);
        keep = reason === undefined;
        if (keep) this.#pass.delete(primary);
        else if (req.method === 'GET' && !this.#pass.has(primary)) this.#pass.set(primary, true);
        // `stored` only when the size is known to fit: a body of unknown length may outgrow it.
        const known = h['content-length'] !== undefined;
        return keep
          ? `${NAME}; fwd=${fwd}${known ? '; stored' : ''}`
          : `${NAME}; fwd=${fwd}; detail=${reason!.replace(/ /g, '-')}`;
      },
      data: (chunk) => {
        if (!keep) return;
        size += chunk.length;
        if (size > this.#settings.maxObjectBytes) {
          keep = false;
          chunks.length = 0;
        } else chunks.push(chunk);
      },
      end: () => {
        if (!keep) {
          settle();
          return;
        }
        void this.#keep(
          req,
          ctx,
          scope,
          primary,
          status,
          headers,
          requestTime,
          Buffer.concat(chunks, size),
        ).finally(settle);
      },
      abort: settle,
    };
  }

  /**
   * Answer from a stored entry: the encoded copy the client accepts best, if there is one,
   * then conditional requests (§4.3.2), ranges, HEAD, Age and Cache-Status.
   */
  #answer(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    entry: Entry,
    status: string,
    age = 0,
    key?: string,
  ): void {
    const encodings = entry.meta.encodings;
    if (
      encodings !== undefined &&
      encodings.length > 0 &&
      key !== undefined &&
      req.headers.range === undefined
    ) {
      for (const enc of acceptedEncodings(req.headers['accept-encoding'])) {
        if (!encodings.includes(enc)) continue;
        const encoded = this.#store.getSync?.(`${key}\0enc=${enc}`);
        if (encoded !== undefined) {
          this.#answerEntry(req, res, ctx, encoded, status, age, enc);
          return;
        }
      }
    }
    this.#answerEntry(
      req,
      res,
      ctx,
      entry,
      status,
      age,
      encodings !== undefined && encodings.length > 0 ? 'identity' : undefined,
    );
  }

  #answerEntry(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    entry: Entry,
    status: string,
    age: number,
    encoding: string | undefined,
  ) {
    const headers: OutgoingHttpHeaders = decorateResponseHeaders(
      downstreamResponseHeaders(
        { ...entry.meta.headers } as Record<string, string | string[]>,
        this.#settings.via,
      ),
      ctx,
    );
    headers.age = String(Math.floor(age)); // §5.1
    headers['cache-status'] = status;
    if (encoding !== undefined) {
      // This cache chose among encodings: the response varies by Accept-Encoding (RFC 9110 §12.5.5).
      const vary = headers.vary;
      if (vary === undefined) headers.vary = 'Accept-Encoding';
      else if (!/accept-encoding/i.test(String(vary)))
        headers.vary = `${String(vary)}, Accept-Encoding`;
      if (encoding !== 'identity') {
        headers['content-encoding'] = encoding;
        // Each encoding is its own representation: its own validator (RFC 9110 §8.8.3).
        const etag = headers.etag;
        if (typeof etag === 'string') headers.etag = etag.replace(/"$/, `-${encoding}"`);
      }
    }
    // RFC 9111 §4.3.2: the client's own validators are checked against the stored response.
    if (
      entry.meta.status === 200 &&
      isNotModified(
        req.headers,
        one(entry.meta.headers.etag) ?? '',
        Date.parse(one(entry.meta.headers['last-modified']) ?? ''),
      )
    ) {
      for (const name of [
        'content-length',
        'content-type',
        'content-encoding',
        'transfer-encoding',
      ])
        delete headers[name];
      res.writeHead(304, headers);
      res.end();
      return;
    }
    delete headers['transfer-encoding'];
    // Ranges answered from the stored full response (RFC 9110 §14, RFC 9111 §3.4).
    const range = req.headers.range;
    if (
      range !== undefined &&
      entry.meta.status === 200 &&
      ifRangeHolds(
        req.headers,
        one(entry.meta.headers.etag) ?? '',
        one(entry.meta.headers['last-modified']) ?? '',
      )
    ) {
      const size = entry.body.length;
      const r = parseRange(range, size);
      if (r === 'unsatisfiable') {
        for (const name of ['content-type', 'content-encoding']) delete headers[name];
        headers['content-range'] = `bytes */${size}`;
        headers['content-length'] = 0;
        res.writeHead(416, headers);
        res.end();
        return;
      }
      if (r !== undefined) {
        headers['content-range'] = `bytes ${r.start}-${r.end}/${size}`;
        headers['content-length'] = r.end - r.start + 1;
        res.writeHead(206, headers);
        res.end(req.method === 'HEAD' ? undefined : entry.body.subarray(r.start, r.end + 1));
        return;
      }
    }
    headers['content-length'] = entry.body.length;
    res.writeHead(entry.meta.status, headers);
    res.end(req.method === 'HEAD' ? undefined : entry.body);
  }
}

const noop = () => {};

/**
 * The tee of a key last seen uncacheable: one small object, no buffering. If the response
 * has become cacheable, the key leaves pass so the next request stores it.
 */
class PassTee implements ResponseTee {
  constructor(
    readonly cache: HttpCache,
    readonly req: IncomingMessage,
    readonly primary: string,
  ) {}

  start(status: number, headers: Record<string, string | string[] | undefined>): string {
    const reason = this.cache.whyNotStore(this.req.method ?? 'GET', this.req, status, headers);
    if (reason === undefined) {
      this.cache.unpass(this.primary);
      return `${NAME}; fwd=uri-miss`;
    }
    return PASS_STATUS[reason] ?? `${NAME}; fwd=uri-miss; detail=${reason.replace(/ /g, '-')}`;
  }

  data(): void {}
  end(): void {}
  abort(): void {}
}

/** Cache-Status values of common pass reasons, built once. */
const PASS_STATUS: Record<string, string> = {
  'no explicit freshness': `${NAME}; fwd=uri-miss; detail=no-explicit-freshness`,
  'set-cookie': `${NAME}; fwd=uri-miss; detail=set-cookie`,
  'no-store': `${NAME}; fwd=uri-miss; detail=no-store`,
  private: `${NAME}; fwd=uri-miss; detail=private`,
};

function primaryKey(scope: Scope, ctx: RequestContext): string {
  return `${scope.project}\0${scope.deployment}\0${ctx.proto}\0${ctx.prefix}\0${ctx.path}`;
}

function secondaryKey(
  primary: string,
  vary: readonly string[] | undefined,
  req: IncomingMessage,
): string {
  if (vary === undefined || vary.length === 0) return primary;
  let key = primary;
  for (const name of vary) {
    const v = req.headers[name];
    // §4.1: values compared after combining fields and normalising whitespace.
    key += `\0${name}=${(Array.isArray(v) ? v.join(', ') : (v ?? '')).replace(/\s+/g, ' ').trim()}`;
  }
  return key;
}

function varyOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return splitList(Array.isArray(value) ? value.join(',') : value).map((v) => v.toLowerCase());
}

/** `Cache-Tag` / `Surrogate-Key` values, for purges by tag. */
function tagsOf(headers: Record<string, string | string[] | undefined>): string[] {
  const out: string[] = [];
  for (const name of ['cache-tag', 'surrogate-key']) {
    const v = headers[name];
    if (v === undefined) continue;
    for (const part of (Array.isArray(v) ? v.join(',') : v).split(/[,\s]+/))
      if (part !== '') out.push(part);
  }
  return out;
}

function compactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  return out;
}

const one = (v: string | readonly string[] | undefined) => (typeof v === 'string' ? v : v?.[0]);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
