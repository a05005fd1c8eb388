/**
 * RFC 9111 for a shared cache: may a response be stored (§3), how long is it fresh (§4.2.1,
 * heuristics §4.2.2), how old is it (§4.2.3), and may a stale one still be used
 * (§4.2.4, RFC 5861 stale-while-revalidate / stale-if-error).
 */
import { parseHttpDate } from '../http/http-date.js';
import { parseCacheControl, seconds, type Directives } from './cache-control.js';

/** §15.1 "heuristically cacheable" status codes (RFC 9110 §15.1). */
const HEURISTIC_STATUS = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);
/**
 * Status codes this cache understands (§3): every final status but 206 (ranges are answered
 * from full responses) and 304 (a validation answer). RFC 9110 §15: an unknown code is its
 * class's x00, which defines no caching rule of its own — so a response with explicit
 * freshness is storable whatever its code; heuristics only ever apply to HEURISTIC_STATUS.
 */
function understood(status: number): boolean {
  return status >= 200 && status < 600 && status !== 206 && status !== 304;
}

/** Status codes registered with a defined meaning (RFC 9110 §15), for `must-understand`. */
const REGISTERED = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 305, 307, 308, 400, 401, 402, 403, 404, 405,
  406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 426, 429, 431, 451,
  500, 501, 502, 503, 504, 505,
]);

export interface ResponseFacts {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /**
   * The targeted cache-control field meant for this cache (RFC 9213 `CDN-Cache-Control`),
   * when the response has one: it replaces Cache-Control and Expires here (§2.2).
   */
  readonly control?: string | readonly string[] | undefined;
}

export interface RequestFacts {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

const one = (v: string | readonly string[] | undefined) => (typeof v === 'string' ? v : v?.[0]);
const all = (v: string | readonly string[] | undefined) =>
  v === undefined ? undefined : typeof v === 'string' ? v : v.join(',');

/** RFC 9110 §5.6.7, strictly (a repeated field is no date). */
const httpDate = parseHttpDate;

/** Parsed directives of stored responses, by their header object (parsed once, not per hit). */
const parsed = new WeakMap<object, Directives>();

/** The directives this cache obeys: the targeted field's (RFC 9213 §2.2), else Cache-Control. */
export function responseDirectives(res: ResponseFacts): Directives {
  let directives = parsed.get(res.headers);
  if (directives === undefined) {
    directives = parseCacheControl(res.control ?? res.headers['cache-control']);
    parsed.set(res.headers, directives);
  }
  return directives;
}

/**
 * A stored response's s-maxage or max-age lifetime, by its header object (NONE: it has
 * neither): computed once, not per hit. The other rules read the clock, so are not kept.
 */
const explicitLifetimes = new WeakMap<object, number>();
const NONE = -1;

/** Expires, unless a targeted field overrides it (RFC 9213 §2.2). */
function expiresOf(res: ResponseFacts): string | readonly string[] | undefined {
  return res.control === undefined ? res.headers.expires : undefined;
}

/** §5.1: the largest Age; an invalid one makes the response stale. */
const INVALID_AGE = 2 ** 31;

/**
 * §5.1: Age is one non-negative integer. A list, a repeated line, a sign, a fraction or a
 * parameter makes it invalid, and such a response is treated as stale (as the HTTP caching
 * test suite requires).
 */
function ageOf(value: string | readonly string[] | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return INVALID_AGE;
  return Math.min(Number(value), INVALID_AGE);
}

/** Why a response may not be stored, or undefined when it may (§3, shared cache). */
export function notStorable(req: RequestFacts, res: ResponseFacts): string | undefined {
  if (req.method !== 'GET') return 'method'; // §3: we cache GET (HEAD is answered from it)
  if (!understood(res.status)) return 'status';
  const rq = parseCacheControl(req.headers['cache-control']);
  if (rq.has('no-store')) return 'request no-store'; // §5.2.1.5
  const cc = responseDirectives(res);
  // §5.2.2.3: must-understand stores only a status this cache knows, and then overrides
  // no-store (which is there for caches that do not understand it).
  if (cc.has('must-understand')) {
    if (!REGISTERED.has(res.status)) return 'must-understand';
  } else if (cc.has('no-store')) return 'no-store'; // §5.2.2.5
  if (cc.has('private')) return 'private'; // §5.2.2.7: a shared cache must not store it
  // §4.1; Vary on several lines is one list (RFC 9110 §5.3).
  const vary = all(res.headers.vary);
  if (vary !== undefined && vary.split(',').some((v) => v.trim() === '*')) return 'vary *';
  // §3.5: a request with Authorization is stored only when the response says it may be.
  if (
    req.headers.authorization !== undefined &&
    !cc.has('public') &&
    !cc.has('must-revalidate') &&
    !cc.has('s-maxage')
  ) {
    return 'authorization';
  }
  // A request with Cookie may get a page built for that user: stored only when the response
  // says it may be shared, or varies on Cookie (docs/cache.md).
  if (req.headers.cookie !== undefined && !sharedAnyway(cc, vary, 'cookie')) return 'cookie';
  // Set-Cookie is per user: a shared cache that kept it would hand one user's cookie to others.
  if (res.headers['set-cookie'] !== undefined) return 'set-cookie';
  // §3: some reason to store it — explicit freshness, public, or a heuristically cacheable status.
  const explicit =
    cc.has('s-maxage') || cc.has('max-age') || expiresOf(res) !== undefined || cc.has('public');
  if (!explicit && !HEURISTIC_STATUS.has(res.status)) return 'no freshness';
  return undefined;
}

/** §4.2.1 freshness lifetime in seconds (shared cache), with §4.2.2 heuristics where allowed. */
export function freshnessLifetime(
  res: ResponseFacts,
  cc: Directives = responseDirectives(res),
): number {
  let explicit = explicitLifetimes.get(res.headers);
  if (explicit === undefined) {
    const sMaxage = seconds(cc, 's-maxage');
    const maxAge = sMaxage ?? seconds(cc, 'max-age');
    explicit = maxAge === undefined ? NONE : Number.isNaN(maxAge) ? 0 : maxAge;
    explicitLifetimes.set(res.headers, explicit);
  }
  if (explicit !== NONE) return explicit;
  if (expiresOf(res) !== undefined) {
    const expires = httpDate(expiresOf(res));
    if (expires === undefined) return 0; // §5.3: an invalid Expires means already expired
    const date = httpDate(res.headers.date) ?? Date.now();
    return Math.max(0, (expires - date) / 1000);
  }
  // §4.2.2: heuristic freshness only for heuristically cacheable statuses (or public),
  // 10% of the time since Last-Modified, capped at a day.
  if (!HEURISTIC_STATUS.has(res.status) && !cc.has('public')) return 0;
  const lastModified = httpDate(res.headers['last-modified']);
  if (lastModified === undefined) return 0;
  const date = httpDate(res.headers.date) ?? Date.now();
  return Math.min(Math.max(0, ((date - lastModified) / 1000) * 0.1), 86_400);
}

/** §4.2.3 current age in seconds. */
export function currentAge(
  res: ResponseFacts,
  requestTime: number,
  responseTime: number,
  now: number,
): number {
  const age = ageOf(res.headers.age);
  const date = httpDate(res.headers.date) ?? responseTime;
  const apparentAge = Math.max(0, (responseTime - date) / 1000);
  const responseDelay = (responseTime - requestTime) / 1000;
  const correctedAgeValue = age + responseDelay;
  const correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
  const residentTime = (now - responseTime) / 1000;
  return correctedInitialAge + residentTime;
}

export type Usability = 'fresh' | 'stale-while-revalidate' | 'must-revalidate';

/**
 * May a stored response answer this request without asking the origin (§4), only while
 * revalidating in the background (RFC 5861 §3), or must it be validated first?
 */
export function usability(
  req: RequestFacts,
  res: ResponseFacts,
  age: number,
): { use: Usability; lifetime: number } {
  const cc = responseDirectives(res);
  const rq = parseCacheControl(req.headers['cache-control']);
  const lifetime = freshnessLifetime(res, cc);
  // §5.2.2.4 no-cache (response) and §5.2.1.4 no-cache (request): always validate.
  if (cc.has('no-cache') || rq.has('no-cache') || one(req.headers.pragma) === 'no-cache') {
    return { use: 'must-revalidate', lifetime };
  }
  let fresh = age < lifetime;
  // §5.2.1.1 max-age and §5.2.1.3 min-fresh from the client narrow freshness.
  const reqMaxAge = seconds(rq, 'max-age');
  if (reqMaxAge !== undefined && !Number.isNaN(reqMaxAge) && age > reqMaxAge) fresh = false;
  const minFresh = seconds(rq, 'min-fresh');
  if (minFresh !== undefined && !Number.isNaN(minFresh) && lifetime - age < minFresh) fresh = false;
  if (fresh) return { use: 'fresh', lifetime };
  // §4.2.4: stale may only be served where nothing forbids it.
  const forbidStale = cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage');
  const swr = seconds(cc, 'stale-while-revalidate');
  if (!forbidStale && swr !== undefined && !Number.isNaN(swr) && age < lifetime + swr) {
    return { use: 'stale-while-revalidate', lifetime };
  }
  return { use: 'must-revalidate', lifetime };
}

/** RFC 5861 §4: may a stale response stand in when the origin fails, at this age? */
export function staleIfError(res: ResponseFacts, age: number): boolean {
  const cc = responseDirectives(res);
  if (cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage')) return false;
  const sie = seconds(cc, 'stale-if-error');
  return sie !== undefined && !Number.isNaN(sie) && age < freshnessLifetime(res, cc) + sie;
}

/** The response lets a shared cache use it for a request with `header` (Cookie). */
function sharedAnyway(cc: Directives, vary: string | undefined, header: string): boolean {
  return (
    cc.has('public') ||
    cc.has('s-maxage') ||
    (vary !== undefined && vary.split(',').some((v) => v.trim().toLowerCase() === header))
  );
}

/**
 * Whether a stored response may answer a request that carries Cookie or Authorization
 * (RFC 9111 §3.5 for Authorization; the same caution for Cookie): only one that said it may
 * be shared.
 */
export function mayServeStored(
  reqHeaders: Readonly<Record<string, string | string[] | undefined>>,
  stored: Readonly<Record<string, string | readonly string[]>>,
): boolean {
  const cookie = reqHeaders.cookie !== undefined;
  const auth = reqHeaders.authorization !== undefined;
  if (!cookie && !auth) return true;
  const cc = parseCacheControl(stored['cache-control']);
  const vary = one(stored.vary);
  if (cookie && !sharedAnyway(cc, vary, 'cookie')) return false;
  if (auth && !cc.has('public') && !cc.has('s-maxage') && !cc.has('must-revalidate')) return false;
  return true;
}
