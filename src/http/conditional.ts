/**
 * Conditional requests (RFC 9110 §13), for the static origin and the cache alike.
 * https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2 gives the order of evaluation.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Does the entity-tag list in If-None-Match match `etag` (weak comparison, §13.1.2)? */
function noneMatch(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const raw of list.split(',')) {
    const tag = raw.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}

/** GET/HEAD answered with 304 Not Modified? (§13.1.2 If-None-Match, then §13.1.3 If-Modified-Since) */
export function isNotModified(
  headers: IncomingHttpHeaders,
  etag: string,
  mtimeMs: number,
): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) return noneMatch(inm, etag);
  const ims = headers['if-modified-since'];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    // HTTP dates have one-second resolution.
    return Number.isFinite(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
  }
  return false;
}

/** Is a Range request still valid under If-Range (§13.1.5, strong comparison)? */
export function ifRangeHolds(
  headers: IncomingHttpHeaders,
  etag: string,
  lastModified: string,
): boolean {
  const value = headers['if-range'];
  if (value === undefined) return true;
  if (typeof value !== 'string') return false; // repeated: not a valid If-Range
  if (value.startsWith('"')) return value === etag;
  if (value.startsWith('W/')) return false;
  return value === lastModified;
}
