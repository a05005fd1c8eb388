/**
 * Blobs as files on this machine, for the static origin to serve: straight from the store
 * when the store is the local disk, else from a disk cache under `<dataDir>/blob-cache/`
 * bounded in bytes (least recently used out first). A cold blob is fetched once however many
 * requests want it at the same moment, checked against its hash (never a wrong file), and
 * written aside before it is renamed in. Parsed manifests are kept in memory.
 *
 * While object storage is away, cached blobs keep being served; a blob not cached fails with
 * BlobStoreUnavailable (the origin answers 503 with Retry-After).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { BlobStoreUnavailable, isBlobHash, type BlobStore } from './blob-store.js';
import { parseManifest, sha256, type Manifest } from './manifest.js';

/** Parsed manifests kept (a manifest of 2,000 files is ~200 KB parsed). */
const MANIFESTS = 256;

export class BlobFiles {
  readonly #store: BlobStore;
  readonly #dir: string;
  readonly #maxBytes: number;
  /** Cached blobs and their sizes, least recently used first. */
  readonly #cached = new Map<string, number>();
  #bytes = 0;
  readonly #fetching = new Map<string, Promise<string>>();
  readonly #manifests = new LRUCache<string, Promise<Manifest>>({ max: MANIFESTS });
  #ready: Promise<void> | undefined;

  constructor(store: BlobStore, dataDir: string, maxBytes: number) {
    this.#store = store;
    this.#dir = join(dataDir, 'blob-cache');
    this.#maxBytes = maxBytes;
  }

  get store(): BlobStore {
    return this.#store;
  }

  /** Bytes of blobs cached on disk now. */
  get cachedBytes(): number {
    return this.#bytes;
  }

  /** What is already on disk from an earlier run counts against the budget. */
  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.#dir, { recursive: true });
      for (const name of await readdir(this.#dir)) {
        const file = join(this.#dir, name);
        if (!isBlobHash(name)) {
          await rm(file, { force: true }); // a download cut short
          continue;
        }
        const size = (await stat(file)).size;
        this.#cached.set(name, size);
        this.#bytes += size;
      }
    })();
    return this.#ready;
  }

  /** The path of a file holding the blob's bytes. */
  async file(hash: string): Promise<string> {
    const local = this.#store.localPath(hash);
    if (local !== undefined) return local;
    const size = this.#cached.get(hash);
    if (size !== undefined) {
      this.#cached.delete(hash); // most recently used: to the end
      this.#cached.set(hash, size);
      return join(this.#dir, hash);
    }
    let fetching = this.#fetching.get(hash);
    if (fetching === undefined) {
      fetching = this.#fetch(hash).finally(() => this.#fetching.delete(hash));
      this.#fetching.set(hash, fetching);
    }
    return fetching;
  }

  async #fetch(hash: string): Promise<string> {
    await this.#init();
    const body = await this.#store.read(hash);
    if (sha256(body) !== hash) {
      throw new BlobStoreUnavailable(`blob ${hash} came back with other bytes; not served`);
    }
    const file = join(this.#dir, hash);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.part`;
    await writeFile(tmp, body);
    await rename(tmp, file);
    this.#cached.set(hash, body.length);
    this.#bytes += body.length;
    await this.#evict(hash);
    return file;
  }

  /** Least recently used blobs out until the cache fits (never the one just fetched). */
  async #evict(keep: string): Promise<void> {
    for (const [hash, size] of this.#cached) {
      if (this.#bytes <= this.#maxBytes) return;
      if (hash === keep) continue;
      this.#cached.delete(hash);
      this.#bytes -= size;
      // A file being streamed stays readable through its open descriptor.
      await rm(join(this.#dir, hash), { force: true });
    }
  }

  /**
   * A deployment's manifest, parsed: fetched once into the disk cache like any blob (so it
   * outlives an outage and a restart), kept parsed in memory.
   */
  manifest(hash: string): Promise<Manifest> {
    let found = this.#manifests.get(hash);
    if (found === undefined) {
      found = this.file(hash)
        .then((file) => readFile(file))
        .then((body) => parseManifest(body));
      // A failure is not remembered: the next request tries again.
      found.catch(() => this.#manifests.delete(hash));
      this.#manifests.set(hash, found);
    }
    return found;
  }
}
