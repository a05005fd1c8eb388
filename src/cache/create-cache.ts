/** The HTTP cache an edge server uses, built from `cache.*`: memory, with disk behind it. */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { CacheStore } from './cache-store.js';
import { DiskStore } from './disk-store.js';
import { HttpCache } from './http-cache.js';
import { MemoryStore } from './memory-store.js';
import { TieredStore } from './tiered-store.js';

/**
 * The cache (undefined when `cache.enabled` is off) and a promise that settles once what
 * earlier runs left on disk can be served.
 */
export function createHttpCache(
  config: Config,
  dataDir: string,
  logger: Logger,
): { cache: HttpCache | undefined; ready: Promise<void> } {
  if (!config.cache.enabled) return { cache: undefined, ready: Promise.resolve() };
  const memory = new MemoryStore(config.cache.memoryBytes);
  let store: CacheStore = memory;
  let ready = Promise.resolve();
  if (config.cache.diskBytes > 0) {
    const tiered = new TieredStore(
      memory,
      DiskStore.open(join(dataDir, 'cache'), config.cache.diskBytes),
      (err) => logger.error({ err }, 'the cache disk tier could not open; memory only'),
    );
    store = tiered;
    ready = tiered.ready();
  }
  const cache = new HttpCache(store, {
    maxObjectBytes: config.cache.maxObjectBytes,
    maxVariantsPerUrl: config.cache.maxVariantsPerUrl,
    targetedField: config.cache.cdnCacheControl.toLowerCase(),
    heuristicFreshness: config.cache.heuristicFreshness,
    lockTimeoutMs: config.cache.lockTimeoutMs,
    via: config.proxy.via,
  });
  return { cache, ready };
}
