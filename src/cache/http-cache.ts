/**
 * The HTTP cache (RFC 9111, shared cache) in front of upstream deployments. GET and HEAD are
 * answered from the store while fresh, validated with the origin when stale, stored when
 * storable; concurrent misses for one key make one upstream request (like nginx's
 * `proxy_cache_lock`). Every answer carries `Cache-Status` (RFC 9211). Keys: cache-key.ts;
 * what may be stored: storability.ts; answers from the store: stored-answer.ts; compression:
 * compression.ts; what a proxied miss shows the cache: response-tees.ts.
 *
 * The Vary names of a URL are stored with its entries (a marker entry), so a restart or an
 * eviction never strands a variant; memory holds only a bounded hot copy of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import { SwitchyardError } from '../model/errors.js';
import { downstreamResponseHeaders } from '../proxy/forwarded-headers.js';
import { sendError } from '../request/error-renderer.js';
import type { RequestContext } from '../request/request-context.js';
import { decorateResponseHeaders } from '../request/response-headers.js';
import {
  compactHeaders,
  one,
  primaryKey,
  secondaryKey,
  tagsOf,
  varyMarkerKey,
  varyOf,
  type Scope,
} from './cache-key.js';
import type { CacheStore, Entry, EntryMeta, PurgeSelector } from './cache-store.js';
import { compressible, compressStored } from './compression.js';
import { currentAge, mayServeStored, staleIfError, usability } from './freshness.js';
import { CACHE_NAME as NAME, forwardTees, MissTee, PassTee } from './response-tees.js';
import { answerStored, answerStoredNow } from './stored-answer.js';
import type { CacheSettings, Fetched, Fetcher, Headers } from './fetcher.js';
import { BoundedMap, ExpiringSet } from './bounded-map.js';
import { streamBody } from './stream-body.js';
import { targetedControl, whyNotStore } from './storability.js';
import { boundVariants, refreshedBy304 } from './stored-updates.js';

export type { Scope } from './cache-key.js';
export type { CacheSettings, Fetcher } from './fetcher.js';

/** How long an uncacheable key skips request coalescing. */
const PASS_MS = 10_000;
/** Primary keys whose Vary names are kept in memory (the store has them all). */
const VARY_KEPT = 10_000;
/** URLs whose stored variants are listed in memory (each list at most `maxVariantsPerUrl`). */
const VARIANTS_KEPT = 2_000;
const EMPTY = Buffer.alloc(0);
const noop = () => {};

export class HttpCache {
  readonly #store: CacheStore;
  readonly #settings: CacheSettings;
  /** Primary key → the header names its responses vary on (a bounded copy of the store's markers). */
  readonly #vary = new BoundedMap<string, readonly string[]>(VARY_KEPT);
  /** Primary key → its stored variants' keys, least recently stored first (bounded). */
  readonly #variants = new LRUCache<string, string[]>({ max: VARIANTS_KEPT });
  /** Misses in progress: key → settles when the leader is done. */
  readonly #pending = new Map<string, Promise<void>>();
  readonly #refreshing = new Set<string>();
  readonly #background = new Set<Promise<void>>();
  /**
   * Keys whose last response could not be stored ("hit-for-pass", as Varnish calls it):
   * for a while their misses go straight to the app instead of waiting for one another.
   */
  readonly #pass = new ExpiringSet<string>(10_000, PASS_MS);

  /** The targeted cache-control field this cache obeys and keeps from clients (RFC 9213). */
  readonly hides: string | undefined;
  readonly #forward: ReturnType<typeof forwardTees>;

  constructor(store: CacheStore, settings: CacheSettings) {
    this.#store = store;
    this.#settings = settings;
    this.hides = settings.targetedField === '' ? undefined : settings.targetedField;
    this.#forward = forwardTees(this.hides);
  }

  get store(): CacheStore {
    return this.#store;
  }

  /** Keys this cache tracks in memory beside its store (bounded; a test watches it). */
  get tracked(): number {
    const maps = [this.#vary, this.#variants, this.#pass, this.#pending, this.#refreshing];
    return maps.reduce((n, m) => n + m.size, 0);
  }

  /**
   * RFC 9111 §4.4: a successful unsafe request makes the stored responses for its URI stale,
   * and those for the same-host URIs in its Location and Content-Location (stored-updates.ts).
   */
  async invalidate(scope: Scope, ctx: RequestContext, paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const primary = primaryKey(scope, { ...ctx, path });
      this.#vary.delete(primary);
      this.#variants.delete(primary);
      await this.#store.purge({ project: scope.project, deployment: scope.deployment, url: path });
    }
  }

  /** Finish background work (compression), then close the store. */
  async close(): Promise<void> {
    await Promise.all(this.#background);
    await this.#store.close();
  }

  async purge(selector: PurgeSelector): Promise<number> {
    const n = await this.#store.purge(selector);
    this.#vary.clear(); // a hot copy only: the markers left in the store are read again
    this.#variants.clear();
    return n;
  }

  /** Why a response may not be stored (RFC 9111 §3 plus this cache's limits), or undefined. */
  whyNotStore(method: string, req: IncomingMessage, status: number, headers: Headers) {
    return whyNotStore(this.#settings, method, req, status, headers);
  }

  unpass(primary: string): void {
    this.#pass.delete(primary);
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
      // From memory, nothing awaited: a fresh hit, or a pass for a key that is not stored.
      const primary = primaryKey(scope, ctx);
      const vary = this.#vary.get(primary);
      const key = secondaryKey(primary, vary, req);
      const entry = store.getSync(key);
      if (entry === undefined && this.#pass.has(primary, ctx.start)) {
        origin.handle(req, res, ctx, new PassTee(this, req, primary));
        return;
      }
      if (entry !== undefined && vary !== undefined && this.#freshHit(req, res, ctx, entry, key))
        return;
    }
    this.#serve(req, res, ctx, scope, origin).catch((err: unknown) => {
      const e =
        err instanceof SwitchyardError
          ? err
          : new SwitchyardError('SY_INTERNAL', 'the cache failed', { cause: err });
      sendError(req, res, ctx, e);
    });
  }

  /**
   * The Vary names of a primary key: memory first (no await on the hot path), else the
   * marker stored with its entries.
   */
  #varyNames(primary: string): readonly string[] | Promise<readonly string[] | undefined> {
    return this.#vary.get(primary) ?? this.#storedVary(primary);
  }

  async #storedVary(primary: string): Promise<readonly string[] | undefined> {
    const marker =
      this.#store.getSync?.(varyMarkerKey(primary)) ??
      (await this.#store.get(varyMarkerKey(primary)));
    const names = marker?.meta.vary;
    // No marker: the stored responses do not vary (as #keep records it), known from now on —
    // unless a response stored meanwhile has already said what it varies on.
    if (names !== undefined) this.#vary.set(primary, names);
    else if (!this.#vary.has(primary)) this.#vary.set(primary, []);
    return names;
  }

  async #serve(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    scope: Scope,
    origin: Fetcher,
  ) {
    const primary = primaryKey(scope, ctx);
    const known = this.#varyNames(primary);
    let vary = known instanceof Promise ? await known : known;
    const key = secondaryKey(primary, vary, req);
    let entry = await this.#store.get(key);
    if (entry === undefined && req.headers.range !== undefined) {
      // A range of something not stored: the app answers it; a partial response is not kept.
      origin.handle(req, res, ctx, this.#forward.range);
      return;
    }
    if (entry === undefined) {
      if (this.#pass.has(primary, performance.now())) {
        origin.handle(req, res, ctx, this.#missTee(req, ctx, scope, primary, vary, noop));
        return;
      }
      const pending = this.#pending.get(key);
      if (pending !== undefined) {
        await Promise.race([pending, sleep(this.#settings.lockTimeoutMs)]);
        vary = await this.#varyNames(primary);
        const now = secondaryKey(primary, vary, req);
        entry = await this.#store.get(now);
        if (entry !== undefined) {
          await this.#answer(req, res, ctx, entry, `${NAME}; hit; detail=collapsed`, 0, now);
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
      const tee = this.#missTee(req, ctx, scope, primary, vary, settle);
      // If the answer never reached the tee (busy, an error page), nothing else will settle.
      res.once('close', () => {
        if (!tee.started) settle();
      });
      origin.handle(req, res, ctx, tee);
      return;
    }
    if (!mayServeStored(req.headers, entry.meta.headers)) {
      origin.handle(req, res, ctx, this.#forward.credentials); // never another's stored page
      return;
    }
    const now = Date.now();
    const age = currentAge(entry.meta, entry.meta.requestTime, entry.meta.responseTime, now);
    const { use, lifetime } = usability({ method: 'GET', headers: req.headers }, entry.meta, age);
    if (use === 'fresh') {
      await this.#answer(req, res, ctx, entry, hitStatus(lifetime, age), age, key);
      return;
    }
    if (use === 'stale-while-revalidate') {
      const status = `${NAME}; hit; fwd=stale; detail=revalidating`;
      await this.#answer(req, res, ctx, entry, status, age, key);
      if (!this.#refreshing.has(key)) {
        this.#refreshing.add(key);
        void this.#revalidate(req, undefined, ctx, scope, origin, primary, entry)
          .catch(() => {})
          .finally(() => this.#refreshing.delete(key));
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
    const staleStatus = `${NAME}; hit; fwd=stale; detail=stale-if-error`;
    let fetched;
    try {
      fetched = await origin.fetch(req, ctx, conditional);
    } catch (err) {
      if (res !== undefined && staleIfError(entry.meta, age)) {
        await this.#answer(req, res, ctx, entry, staleStatus, age);
        return;
      }
      if (res === undefined) return;
      throw err;
    }
    if (fetched.statusCode === 304) {
      fetched.body.resume();
      // §4.3.4: the stored response's header fields are updated from the 304.
      const control = targetedControl(this.#settings, fetched.headers);
      const refreshed = refreshedBy304(entry, fetched.headers, control, this.hides);
      const vary = await this.#varyNames(primary);
      await this.#store.set(secondaryKey(primary, vary, req), refreshed);
      if (res !== undefined) {
        await this.#answer(req, res, ctx, refreshed, `${NAME}; fwd=stale; fwd-status=304`);
      }
      return;
    }
    if (fetched.statusCode >= 500 && res !== undefined && staleIfError(entry.meta, age)) {
      fetched.body.resume();
      await this.#answer(req, res, ctx, entry, staleStatus, age);
      return;
    }
    const status = `${NAME}; fwd=stale; fwd-status=${fetched.statusCode}`;
    await this.#deliver(req, res, ctx, scope, primary, fetched, status);
  }

  /** Pass a fresh origin response to the client (if any) and store it when allowed. */
  async #deliver(
    req: IncomingMessage,
    res: ServerResponse | undefined,
    ctx: RequestContext,
    scope: Scope,
    primary: string,
    fetched: Fetched,
    status: string,
  ): Promise<void> {
    const requestTime = Date.now();
    const reason = this.whyNotStore('GET', req, fetched.statusCode, fetched.headers);
    if (res !== undefined) {
      const headers = decorateResponseHeaders(
        downstreamResponseHeaders(fetched.headers, this.#settings.via),
        ctx,
      );
      if (this.hides !== undefined) delete headers[this.hides];
      headers['cache-status'] = ctx.cacheStatus =
        reason === undefined
          ? `${status}; stored`
          : `${status}; detail=${reason.replace(/ /g, '-')}`;
      res.writeHead(fetched.statusCode, headers);
    }
    const max = this.#settings.maxObjectBytes;
    const body = await streamBody(fetched.body, req, res, reason === undefined, max);
    if (body === undefined) return;
    await this.#keep(
      req,
      ctx,
      scope,
      primary,
      fetched.statusCode,
      fetched.headers,
      requestTime,
      body,
    );
  }

  /** Store a complete response under its variant key, with its Vary marker when it varies. */
  async #keep(
    req: IncomingMessage,
    ctx: RequestContext,
    scope: Scope,
    primary: string,
    status: number,
    headers: Headers,
    requestTime: number,
    body: Buffer,
  ): Promise<void> {
    const vary = varyOf(headers.vary);
    const control = targetedControl(this.#settings, headers);
    const meta: EntryMeta = {
      ...(control === undefined ? {} : { control }),
      status,
      headers: compactHeaders(headers, this.hides),
      requestTime,
      responseTime: Date.now(),
      project: scope.project,
      deployment: scope.deployment,
      url: ctx.path,
      tags: tagsOf(headers),
    };
    const known = await this.#varyNames(primary);
    if (vary.length > 0) {
      await this.#store.set(varyMarkerKey(primary), { meta: { ...meta, vary }, body: EMPTY });
    } else if (known !== undefined && known.length > 0) {
      await this.#store.delete(varyMarkerKey(primary)); // it no longer varies
    }
    this.#vary.set(primary, vary);
    const key = secondaryKey(primary, vary, req);
    await this.#store.set(key, { meta, body });
    if (vary.length > 0) {
      const max = this.#settings.maxVariantsPerUrl ?? 32;
      await boundVariants(this.#store, this.#variants, primary, key, max);
    }
    if (compressible(status, headers, body.length)) {
      // In the background, but closing waits for it (a restart keeps the encoded copies).
      const done = compressStored(this.#store, key, { meta, body });
      this.#background.add(done);
      void done.finally(() => this.#background.delete(done));
    }
  }

  #missTee(
    req: IncomingMessage,
    ctx: RequestContext,
    scope: Scope,
    primary: string,
    vary: readonly string[] | undefined,
    settle: () => void,
  ): MissTee {
    const requestTime = Date.now();
    return new MissTee({
      ...(this.hides === undefined ? {} : { hides: this.hides }),
      whyNotStore: (status, headers) => this.whyNotStore(req.method ?? 'GET', req, status, headers),
      maxObjectBytes: this.#settings.maxObjectBytes,
      fwd: vary !== undefined && vary.length > 0 ? 'vary-miss' : 'uri-miss',
      storable: (yes) => {
        if (yes) this.#pass.delete(primary);
        else if (req.method === 'GET') this.#pass.add(primary, performance.now());
      },
      keep: (status, headers, body) =>
        this.#keep(req, ctx, scope, primary, status, headers, requestTime, body),
      settle,
    });
  }

  /** A fresh hit answered at once (see #serve for the full way); false: nothing was sent. */
  #freshHit(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    entry: Entry,
    key: string,
  ): boolean {
    if (!mayServeStored(req.headers, entry.meta.headers)) return false;
    const age = currentAge(entry.meta, entry.meta.requestTime, entry.meta.responseTime, Date.now());
    const { use, lifetime } = usability({ method: 'GET', headers: req.headers }, entry.meta, age);
    if (use !== 'fresh') return false;
    const status = hitStatus(lifetime, age);
    return answerStoredNow(this.#store, this.#settings.via, req, res, ctx, entry, status, age, key);
  }

  #answer(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    entry: Entry,
    status: string,
    age = 0,
    key?: string,
  ): Promise<void> {
    return answerStored(this.#store, this.#settings.via, req, res, ctx, entry, status, age, key);
  }
}

const hitStatus = (lifetime: number, age: number) =>
  `${NAME}; hit; ttl=${Math.floor(lifetime - age)}`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
