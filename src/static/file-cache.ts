/**
 * Caches for the static origin, like nginx's `open_file_cache`: a deployment's build output
 * does not change while it is served, so a path's resolution (realpath + stat) and the bytes
 * of small files are kept in memory instead of being read on every request.
 *
 * - Lookups are per origin, bounded in entries, and revalidated after `ttlMs` so a directory
 *   edited in place (a configured `static.dir` during development) is picked up; an
 *   immutable deployment keeps them for its life.
 * - Bodies are shared by all origins under one byte budget, keyed by file, size and mtime:
 *   a changed file never serves old bytes once its lookup is revalidated.
 */
import type { Stats } from 'node:fs';
import { LRUCache } from 'lru-cache';

export interface Found {
  /** Real path of the file on disk. */
  readonly file: string;
  /** Path relative to the root, as requested (names the content type and cache policy). */
  readonly rel: string;
  readonly stat: Stats;
  /** The blob holding it, for a deployment in blob storage (`file` is then found at send). */
  readonly hash?: string;
}

/** A cached "no such file" (the cache cannot hold undefined). */
export const MISSING = Object.freeze({ missing: true as const });
export type Lookup = Found | typeof MISSING;

/** How long a lookup is trusted before the disk is asked again (mutable directories). */
export const LOOKUP_TTL_MS = 1000;
/** Entries per origin: hostile random paths evict each other, they do not grow memory. */
const LOOKUP_ENTRIES = 4096;
/** Files up to this size are kept in memory; larger ones stream from disk. */
export const SMALL_FILE_BYTES = 128 * 1024;
const BODY_BUDGET_BYTES = 64 * 1024 * 1024;
const one = () => 1;

/**
 * A deployment's lookups. Bounded by `maxSize` (one per entry), not `max`: lru-cache
 * preallocates `max` slots, 125 KiB for every routed static deployment before its first
 * request; this way an origin holds only what it looked up.
 */
export function lookupCache(immutable: boolean): LRUCache<string, Lookup> {
  return new LRUCache<string, Lookup>({
    maxSize: LOOKUP_ENTRIES,
    sizeCalculation: one,
    ...(immutable ? {} : { ttl: LOOKUP_TTL_MS, ttlAutopurge: false }),
  });
}

const bodies = new LRUCache<string, Buffer>({
  maxSize: BODY_BUDGET_BYTES,
  sizeCalculation: (b) => b.length || 1,
});

export function bodyKey(found: Found): string {
  return `${found.file}\0${found.stat.size}\0${found.stat.mtimeMs}`;
}

export function cachedBody(key: string): Buffer | undefined {
  return bodies.get(key);
}

export function storeBody(key: string, body: Buffer): void {
  bodies.set(key, body);
}
