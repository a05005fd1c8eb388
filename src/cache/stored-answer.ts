/**
 * Answering from a stored entry: the encoded copy the client accepts best, if there is one;
 * then the client's own conditionals (RFC 9111 §4.3.2), ranges from the stored full response
 * (RFC 9110 §14), HEAD, `Age` (§5.1) and `Cache-Status` (RFC 9211).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { acceptedEncodings } from '../http/accept-encoding.js';
import { ifRangeHolds, isNotModified } from '../http/conditional.js';
import { parseRange } from '../http/range.js';
import { endWithBody } from '../http/small-body.js';
import { downstreamResponseHeaders } from '../proxy/forwarded-headers.js';
import type { RequestContext } from '../request/request-context.js';
import { decorateResponseHeaders, decorationLines } from '../request/response-headers.js';
import { fieldBlock, writeHeadBlock, type FieldBlock } from '../http/response-head.js';
import type { CacheStore, Entry } from './cache-store.js';
import { encodedKey, one } from './cache-key.js';

/**
 * Answer `req` from `entry` (stored under `key`). An encoded copy is read from memory when it
 * is there, else from the store (after a restart it is on disk only).
 */
export async function answerStored(
  store: CacheStore,
  via: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  entry: Entry,
  status: string,
  age = 0,
  key?: string,
): Promise<void> {
  if (answerStoredNow(store, via, req, res, ctx, entry, status, age, key)) return;
  const encodings = entry.meta.encodings!;
  for (const enc of acceptedEncodings(req.headers['accept-encoding'])) {
    if (!encodings.includes(enc)) continue;
    const encoded = await store.get(encodedKey(key!, enc));
    if (encoded !== undefined) {
      writeStored(via, req, res, ctx, encoded, status, age, enc);
      return;
    }
  }
  writeStored(via, req, res, ctx, entry, status, age, 'identity');
}

/**
 * The same, when nothing has to be read from the store first (no encoded copies, or the one
 * the client accepts best is in memory): answered at once. False: nothing was sent.
 */
export function answerStoredNow(
  store: CacheStore,
  via: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  entry: Entry,
  status: string,
  age = 0,
  key?: string,
): boolean {
  const encodings = entry.meta.encodings;
  const offered = encodings !== undefined && encodings.length > 0;
  if (offered && key !== undefined && req.headers.range === undefined) {
    for (const enc of acceptedEncodings(req.headers['accept-encoding'])) {
      if (!encodings.includes(enc)) continue;
      const encoded = store.getSync?.(encodedKey(key, enc));
      if (encoded === undefined) return false; // perhaps on disk, or gone: ask the store
      writeStored(via, req, res, ctx, encoded, status, age, enc);
      return true;
    }
  }
  writeStored(via, req, res, ctx, entry, status, age, offered ? 'identity' : undefined);
  return true;
}

/**
 * The headers every answer from a stored response starts from (hop-by-hop fields removed,
 * `Via` added), computed once per stored header object — not per hit.
 */
const downstream = new WeakMap<object, Readonly<Record<string, string | string[]>>>();

function storedHeaders(
  headers: Entry['meta']['headers'],
  via: string,
): Record<string, string | string[]> {
  let out = downstream.get(headers);
  if (out === undefined) {
    out = downstreamResponseHeaders({ ...headers } as Record<string, string | string[]>, via);
    downstream.set(headers, out);
  }
  return { ...out };
}

/**
 * The fields of an answer from a stored response sent with `encoding` (undefined: this cache
 * did not choose among encodings), before those made for the request.
 */
function encodedHeaders(
  stored: Entry['meta']['headers'],
  via: string,
  encoding: string | undefined,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = storedHeaders(stored, via);
  delete headers['transfer-encoding'];
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
  return headers;
}

/** What a hit's block leaves out: written per answer, by Switchyard or by Node. */
const HIT_SKIPS: ReadonlySet<string> = new Set([
  'content-length',
  'age',
  'cache-status',
  'x-request-id',
  'strict-transport-security',
]);

/** Blocks per stored header object and encoding (null: a field did not pass the check). */
const blocks = new WeakMap<object, Map<string | undefined, FieldBlock | null>>();

function hitBlock(
  stored: Entry['meta']['headers'],
  via: string,
  encoding: string | undefined,
): FieldBlock | undefined {
  let byEncoding = blocks.get(stored);
  if (byEncoding === undefined) {
    byEncoding = new Map();
    blocks.set(stored, byEncoding);
  }
  let block = byEncoding.get(encoding);
  if (block === undefined) {
    block = fieldBlock(encodedHeaders(stored, via, encoding), HIT_SKIPS) ?? null;
    byEncoding.set(encoding, block);
  }
  return block ?? undefined;
}

/**
 * A plain hit (no validators, no range) as a prebuilt block and the request's own lines.
 * False: nothing was sent (not HTTP/1.1, a stored field that must merge with the request's).
 */
function writeHit(
  via: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  entry: Entry,
  status: string,
  age: number,
  encoding: string | undefined,
): boolean {
  const stored = entry.meta.headers;
  // The origin's HSTS goes on unless the edge has its own (decorateResponseHeaders).
  if (ctx.hsts === undefined && stored['strict-transport-security'] !== undefined) return false;
  const block = hitBlock(stored, via, encoding);
  const lines = block === undefined ? undefined : decorationLines(ctx);
  if (lines === undefined) return false;
  // RFC 9111 §5.1: Age; RFC 9211: Cache-Status.
  const own = `${lines}age: ${Math.floor(age)}\r\ncache-status: ${status}\r\n`;
  if (!writeHeadBlock(req, res, entry.meta.status, block!, own, entry.body.length)) return false;
  ctx.cacheStatus = status; // for the access log and per-project traffic
  endWithBody(req, res, entry.body);
  return true;
}

/** The same, without waiting: for an entry with no encoded copies (or a range request). */
export function writeStored(
  via: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  entry: Entry,
  status: string,
  age: number,
  encoding: string | undefined,
): void {
  const h = req.headers;
  if (
    h.range === undefined &&
    h['if-none-match'] === undefined &&
    h['if-modified-since'] === undefined &&
    writeHit(via, req, res, ctx, entry, status, age, encoding)
  ) {
    return;
  }
  const headers = decorateResponseHeaders(encodedHeaders(entry.meta.headers, via, encoding), ctx);
  headers.age = String(Math.floor(age)); // RFC 9111 §5.1
  headers['cache-status'] = status;
  ctx.cacheStatus = status; // for the access log and per-project traffic
  // RFC 9111 §4.3.2: the client's own validators are checked against the stored response.
  // (Only asked when the client sent a validator: no date is parsed on a plain hit.)
  if (
    entry.meta.status === 200 &&
    (h['if-none-match'] !== undefined || h['if-modified-since'] !== undefined) &&
    isNotModified(
      h,
      one(entry.meta.headers.etag) ?? '',
      Date.parse(one(entry.meta.headers['last-modified']) ?? ''),
    )
  ) {
    for (const name of ['content-length', 'content-type', 'content-encoding', 'transfer-encoding'])
      delete headers[name];
    res.writeHead(304, headers);
    res.end();
    return;
  }
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
      endWithBody(req, res, entry.body.subarray(r.start, r.end + 1));
      return;
    }
  }
  headers['content-length'] = entry.body.length;
  res.writeHead(entry.meta.status, headers);
  endWithBody(req, res, entry.body);
}
