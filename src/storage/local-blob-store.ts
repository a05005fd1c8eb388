/** Blobs in the data directory: `<dataDir>/blobs/<first two hex digits>/<hash>`. */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobMissing, type BlobStore } from './blob-store.js';

export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';
  readonly #root: string;

  constructor(dataDir: string) {
    this.#root = join(dataDir, 'blobs');
  }

  localPath(hash: string): string {
    return join(this.#root, hash.slice(0, 2), hash);
  }

  async missing(hashes: readonly string[]): Promise<string[]> {
    const found = await this.sizes(hashes);
    return hashes.filter((h) => !found.has(h));
  }

  async sizes(hashes: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const hash of hashes) {
      const info = await stat(this.localPath(hash)).catch(() => undefined);
      if (info?.isFile() === true) out.set(hash, info.size);
    }
    return out;
  }

  async put(hash: string, body: Buffer): Promise<void> {
    const file = this.localPath(hash);
    await mkdir(join(this.#root, hash.slice(0, 2)), { recursive: true });
    // Written aside and renamed: a reader never sees half a blob.
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, file);
  }

  async read(hash: string): Promise<Buffer> {
    try {
      return await readFile(this.localPath(hash));
    } catch (err) {
      throw new BlobMissing(`blob ${hash} is not in ${this.#root}`, { cause: err });
    }
  }

  async *list(): AsyncIterable<{ hash: string; storedAt: Date }> {
    let dirs: string[];
    try {
      dirs = await readdir(this.#root);
    } catch {
      return;
    }
    for (const dir of dirs) {
      for (const name of await readdir(join(this.#root, dir)).catch(() => [])) {
        if (name.endsWith('.tmp')) continue;
        const info = await stat(join(this.#root, dir, name)).catch(() => undefined);
        if (info !== undefined) yield { hash: name, storedAt: info.mtime };
      }
    }
  }

  async delete(hashes: readonly string[]): Promise<void> {
    for (const hash of hashes) await rm(this.localPath(hash), { force: true });
  }
}
