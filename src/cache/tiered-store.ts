/**
 * Memory in front of disk: reads try memory, then disk (a disk hit is copied into memory);
 * writes go to both (the disk write is not waited for, so a slow disk never slows an
 * answer). The disk tier opens in the background; until it has, only memory serves.
 */
import type { CacheStore, Entry, PurgeSelector } from './cache-store.js';
import type { DiskStore } from './disk-store.js';
import type { MemoryStore } from './memory-store.js';

export class TieredStore implements CacheStore {
  readonly #memory: MemoryStore;
  #disk: DiskStore | undefined;
  readonly #opening: Promise<void>;

  constructor(memory: MemoryStore, disk: Promise<DiskStore>, onError: (err: unknown) => void) {
    this.#memory = memory;
    this.#opening = disk.then(
      (d) => {
        this.#disk = d;
      },
      (err: unknown) => onError(err), // no disk tier: memory alone
    );
  }

  /** Resolves once the disk tier is open (or failed to open). */
  ready(): Promise<void> {
    return this.#opening;
  }

  get size(): number {
    return this.#memory.size + (this.#disk?.size ?? 0);
  }

  getSync(key: string): Entry | undefined {
    return this.#memory.getSync(key);
  }

  async get(key: string): Promise<Entry | undefined> {
    const hot = this.#memory.getSync(key);
    if (hot !== undefined || this.#disk === undefined) return hot;
    const cold = await this.#disk.get(key);
    if (cold !== undefined) await this.#memory.set(key, cold);
    return cold;
  }

  async set(key: string, entry: Entry): Promise<boolean> {
    const inMemory = await this.#memory.set(key, entry);
    const disk = this.#disk;
    if (disk === undefined) return inMemory;
    const onDisk = disk.set(key, entry);
    return inMemory || (await onDisk);
  }

  async delete(key: string): Promise<void> {
    await this.#memory.delete(key);
    await this.#disk?.delete(key);
  }

  async purge(selector: PurgeSelector): Promise<number> {
    const a = await this.#memory.purge(selector);
    const b = (await this.#disk?.purge(selector)) ?? 0;
    return Math.max(a, b);
  }

  async close(): Promise<void> {
    await this.#memory.close();
    await this.#disk?.close();
  }
}
