/**
 * The disk tier: one file per entry under a directory (metadata, a newline, then the body),
 * named by a hash of the key. Writes go to a temporary file that is renamed into place, so a
 * crash never leaves a torn entry; a file that does not parse is treated as absent and
 * removed. An index in memory (rebuilt from the directory at open) tracks sizes and recency
 * to evict the least recently used entries beyond `maxBytes`. A full disk makes `set` fail
 * (the cache is bypassed), never the request. Writes and removals of one key run in the order
 * they were made (a slow write of an old version never lands after a newer one), and `close`
 * waits for those in progress: the tiered store does not wait for the disk.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  entryBytes,
  matches,
  type CacheStore,
  type Entry,
  type EntryMeta,
  type PurgeSelector,
} from './cache-store.js';

interface Indexed {
  readonly file: string;
  readonly bytes: number;
  readonly meta: EntryMeta;
}

const fileOf = (key: string) => `${createHash('sha256').update(key).digest('hex')}.entry`;

export class DiskStore implements CacheStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  /** Key → file; Map order is recency (re-inserted on use). */
  readonly #index = new Map<string, Indexed>();
  #bytes = 0;
  /** Key → its last write or removal in progress (each one waits for the one before). */
  readonly #inProgress = new Map<string, Promise<unknown>>();

  private constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  /** Open (creating) the directory and index what a previous run left. */
  static async open(dir: string, maxBytes: number): Promise<DiskStore> {
    await mkdir(dir, { recursive: true });
    const store = new DiskStore(dir, maxBytes);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.entry'));
    const found: { key: string; indexed: Indexed; mtime: number }[] = [];
    for (const f of files) {
      const path = join(dir, f);
      const parsed = await readEntry(path).catch(() => undefined);
      if (parsed === undefined) {
        await rm(path, { force: true });
        continue;
      }
      const s = await stat(path);
      found.push({
        key: parsed.key,
        indexed: { file: f, bytes: s.size, meta: parsed.entry.meta },
        mtime: s.mtimeMs,
      });
    }
    // Temporary files of writes a crash interrupted.
    for (const f of (await readdir(dir)).filter((f) => f.endsWith('.tmp')))
      await rm(join(dir, f), { force: true });
    found.sort((a, b) => a.mtime - b.mtime);
    for (const { key, indexed } of found) {
      store.#index.set(key, indexed);
      store.#bytes += indexed.bytes;
    }
    await store.#evict();
    return store;
  }

  get size(): number {
    return this.#bytes;
  }

  async get(key: string): Promise<Entry | undefined> {
    const indexed = this.#index.get(key);
    if (indexed === undefined) return undefined;
    const parsed = await readEntry(join(this.#dir, indexed.file)).catch(() => undefined);
    if (parsed === undefined || parsed.key !== key) {
      await this.delete(key);
      return undefined;
    }
    this.#index.delete(key);
    this.#index.set(key, indexed);
    return parsed.entry;
  }

  set(key: string, entry: Entry): Promise<boolean> {
    return this.#inOrder(key, () => this.#write(key, entry));
  }

  delete(key: string): Promise<void> {
    return this.#inOrder(key, () => this.#remove(key));
  }

  /** Run `work` on `key` once the work already queued on it is done. */
  #inOrder<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#inProgress.get(key);
    const run = before === undefined ? work() : before.then(work, work);
    this.#inProgress.set(key, run);
    const settled = () => {
      if (this.#inProgress.get(key) === run) this.#inProgress.delete(key);
    };
    run.then(settled, settled);
    return run;
  }

  async #write(key: string, entry: Entry): Promise<boolean> {
    const head = Buffer.from(
      `${JSON.stringify({ key, length: entry.body.length, meta: entry.meta })}\n`,
    );
    const bytes = head.length + entry.body.length;
    if (bytes > this.#maxBytes || entryBytes(entry) > this.#maxBytes) return false;
    const file = fileOf(key);
    const tmp = join(this.#dir, `${file}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const handle = await open(tmp, 'w');
      try {
        await handle.writev([head, entry.body]);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, join(this.#dir, file));
    } catch {
      await rm(tmp, { force: true }).catch(() => {});
      return false; // disk full or gone: the request is served uncached
    }
    const previous = this.#index.get(key);
    if (previous !== undefined) {
      this.#bytes -= previous.bytes;
      this.#index.delete(key);
    }
    this.#index.set(key, { file, bytes, meta: entry.meta });
    this.#bytes += bytes;
    await this.#evict();
    return true;
  }

  async #remove(key: string): Promise<void> {
    const indexed = this.#index.get(key);
    if (indexed === undefined) return;
    this.#index.delete(key);
    this.#bytes -= indexed.bytes;
    await rm(join(this.#dir, indexed.file), { force: true });
  }

  async purge(selector: PurgeSelector): Promise<number> {
    const keys = [...this.#index].filter(([, i]) => matches(i.meta, selector)).map(([k]) => k);
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  async #evict(): Promise<void> {
    for (const key of this.#index.keys()) {
      if (this.#bytes <= this.#maxBytes) return;
      // Not queued: called from a write, and never for the key being written (the newest).
      await this.#remove(key);
    }
  }

  /** Once every write and removal in progress is done. */
  async close(): Promise<void> {
    while (this.#inProgress.size > 0) await Promise.allSettled(this.#inProgress.values());
  }
}

async function readEntry(path: string): Promise<{ key: string; entry: Entry }> {
  const data = await readFile(path);
  const nl = data.indexOf(10);
  if (nl === -1) throw new Error('torn entry');
  const head = JSON.parse(data.subarray(0, nl).toString('utf8')) as {
    key: string;
    length: number;
    meta: EntryMeta;
  };
  const body = data.subarray(nl + 1);
  if (body.length !== head.length) throw new Error('torn entry');
  return { key: head.key, entry: { meta: head.meta, body } };
}
