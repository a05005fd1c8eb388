/** The memory tier: an LRU map bounded in bytes (lru-cache). */
import { LRUCache } from 'lru-cache';
import {
  entryBytes,
  matches,
  type CacheStore,
  type Entry,
  type PurgeSelector,
} from './cache-store.js';

export class MemoryStore implements CacheStore {
  readonly #entries: LRUCache<string, Entry>;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#entries = new LRUCache<string, Entry>({ maxSize: maxBytes, sizeCalculation: entryBytes });
  }

  get size(): number {
    return this.#entries.calculatedSize;
  }

  get(key: string): Promise<Entry | undefined> {
    return Promise.resolve(this.#entries.get(key));
  }

  getSync(key: string): Entry | undefined {
    return this.#entries.get(key);
  }

  set(key: string, entry: Entry): Promise<boolean> {
    if (entryBytes(entry) > this.#maxBytes) return Promise.resolve(false);
    this.#entries.set(key, entry);
    return Promise.resolve(true);
  }

  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  purge(selector: PurgeSelector): Promise<number> {
    let n = 0;
    for (const [key, entry] of this.#entries.entries()) {
      if (matches(entry.meta, selector)) {
        this.#entries.delete(key);
        n++;
      }
    }
    return Promise.resolve(n);
  }

  close(): Promise<void> {
    this.#entries.clear();
    return Promise.resolve();
  }
}
