/**
 * How stored responses change after the fact: a 304 refreshes a stored response's header
 * fields (RFC 9111 §4.3.4, §3.2), and a successful unsafe request makes stored responses
 * for its URI — and for the URIs in its `Location` and `Content-Location` — stale (§4.4).
 */
import type { RequestContext } from '../request/request-context.js';
import type { CacheStore, Entry } from './cache-store.js';

/**
 * Fields a 304 never changes in the stored response: its length, and what describes the
 * stored body itself (its encoding, digest, range and validator) — §3.2 lets a cache keep
 * those "to assure integrity of the stored response".
 */
const KEPT_ON_304 = new Set([
  'content-length',
  'content-encoding',
  'content-md5',
  'content-range',
  'etag',
]);

/** The stored entry refreshed by a 304's header fields (and its targeted control, if any). */
export function refreshedBy304(
  entry: Entry,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  control: string | readonly string[] | undefined,
  targeted: string | undefined,
): Entry {
  const merged = { ...entry.meta.headers };
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !KEPT_ON_304.has(name) && name !== targeted) merged[name] = value;
  }
  const now = Date.now();
  return {
    meta: {
      ...entry.meta,
      headers: merged,
      requestTime: now,
      responseTime: now,
      ...(control === undefined ? {} : { control }),
    },
    body: entry.body,
  };
}

/** RFC 9110 §9.2.1: the safe methods; any other (unknown ones too) invalidates (§4.4). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function isUnsafe(method: string | undefined): boolean {
  return !SAFE.has(method ?? 'GET');
}

/**
 * The paths (as the app sees them, query included) that a successful unsafe request makes
 * stale: its own, and those its `Location` / `Content-Location` name on the same host and
 * under the same path-routing prefix (§4.4: "MUST NOT" invalidate other hosts' URIs).
 */
export function invalidatedPaths(
  ctx: RequestContext,
  location: unknown,
  contentLocation: unknown,
): string[] {
  const out = [ctx.path];
  const base = `http://${ctx.authority}${ctx.prefix}${ctx.path}`;
  for (const value of [location, contentLocation]) {
    if (typeof value !== 'string' || value === '') continue;
    let url: URL;
    try {
      url = new URL(value, base);
    } catch {
      continue;
    }
    if (url.host !== ctx.authority || !url.pathname.startsWith(`${ctx.prefix}/`)) continue;
    const path = `${url.pathname.slice(ctx.prefix.length)}${url.search}`;
    if (!out.includes(path)) out.push(path);
  }
  return out;
}

/**
 * Keep at most `max` variants (by Vary) of one URL: `lists` holds each URL's variant keys,
 * least recently stored first; storing one more deletes the oldest from the store.
 */
export async function boundVariants(
  store: CacheStore,
  lists: {
    get(primary: string): string[] | undefined;
    set(primary: string, keys: string[]): unknown;
  },
  primary: string,
  key: string,
  max: number,
): Promise<void> {
  let keys = lists.get(primary);
  if (keys === undefined) lists.set(primary, (keys = []));
  const at = keys.indexOf(key);
  if (at !== -1) keys.splice(at, 1);
  keys.push(key);
  while (keys.length > max) await store.delete(keys.shift()!);
}
