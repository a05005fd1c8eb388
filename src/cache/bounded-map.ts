/**
 * A Map that holds at most `max` entries, dropping the oldest insertion first. For hot copies
 * of what the store keeps anyway (a miss only costs a store read): a plain Map read on the
 * request path, where an LRU would also reorder its list on every read.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  readonly #max: number;

  constructor(max: number) {
    super();
    this.#max = max;
  }

  override set(key: K, value: V): this {
    if (this.size >= this.#max && !this.has(key)) {
      const oldest = this.keys().next();
      if (oldest.done !== true) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}

/**
 * Keys remembered for `ttlMs` after they were added, at most `max` of them (the oldest
 * insertion dropped first). Time is read by the caller on the `performance.now()` clock and
 * passed in, so a request that already read the clock reads it once: no timers, no clock
 * reads of its own.
 */
export class ExpiringSet<K> {
  readonly #until: BoundedMap<K, number>;
  readonly #ttlMs: number;

  constructor(max: number, ttlMs: number) {
    this.#until = new BoundedMap(max);
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#until.size;
  }

  /** Whether `key` was added less than `ttlMs` before `now`; an expired key is forgotten. */
  has(key: K, now: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(key);
    return false;
  }

  /** Remember `key` until `now + ttlMs`; a key still held keeps its deadline. */
  add(key: K, now: number): void {
    if (!this.has(key, now)) this.#until.set(key, now + this.#ttlMs);
  }

  delete(key: K): boolean {
    return this.#until.delete(key);
  }
}
