/** Whether this cache may keep a response: RFC 9111 §3 plus its own limits. */
import type { IncomingMessage } from 'node:http';
import { notStorable, responseDirectives } from './freshness.js';
import { one, varyOf } from './cache-key.js';

/** More selecting headers than this and a response is not stored (a hostile `Vary`). */
export const MAX_VARY = 16;

export interface StorabilitySettings {
  /** Largest response body stored; larger ones pass through. */
  readonly maxObjectBytes: number;
  /** Store responses without explicit freshness (RFC 9111 §4.2.2 heuristics). */
  readonly heuristicFreshness: boolean;
  /** The targeted cache-control field this cache obeys (RFC 9213), lower case; '' for none. */
  readonly targetedField?: string;
}

/** The targeted field's value in a response, if the cache obeys one and it is there. */
export function targetedControl(
  settings: StorabilitySettings,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): string | readonly string[] | undefined {
  const name = settings.targetedField;
  return name === undefined || name === '' ? undefined : headers[name];
}

/** Why a response may not be stored, or undefined when it may. */
export function whyNotStore(
  settings: StorabilitySettings,
  method: string,
  req: IncomingMessage,
  status: number,
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const control = targetedControl(settings, headers);
  // The common uncacheable answer, decided without parsing anything.
  if (
    !settings.heuristicFreshness &&
    headers['cache-control'] === undefined &&
    headers.expires === undefined &&
    control === undefined
  ) {
    return 'no explicit freshness';
  }
  const res = { status, headers, control };
  let reason = notStorable({ method, headers: req.headers }, res);
  if (reason === undefined && !settings.heuristicFreshness) {
    const cc = responseDirectives(res);
    // Explicit freshness, or an explicit instruction to validate every time.
    const explicit = ['max-age', 's-maxage', 'no-cache', 'must-revalidate'].some((d) => cc.has(d));
    if (!explicit && (control !== undefined || headers.expires === undefined)) {
      reason = 'no explicit freshness';
    }
  }
  if (reason === undefined && varyOf(headers.vary).length > MAX_VARY) reason = 'vary too long';
  const length = Number(one(headers['content-length']) ?? Number.NaN);
  if (reason === undefined && length > settings.maxObjectBytes) reason = 'too large';
  return reason;
}
