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
