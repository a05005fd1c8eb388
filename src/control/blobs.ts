/**
 * Incremental deploys (as `vercel deploy` does them): the client hashes its build output,
 * asks which blobs the store lacks (`missing`), uploads only those (`put`, each checked
 * against its hash), then creates the deployment from a manifest (`deploy`) — ready at once,
 * atomically, and only if every blob it names is stored. A redeploy with one changed file
 * uploads one file. Blobs are content-addressed and shared by every project: asking whether
 * a blob exists tells a tenant only that someone stored exactly those bytes.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { BlobStoreUnavailable, isBlobHash, type BlobStore } from '../storage/blob-store.js';
import {
  manifestPathProblem,
  serializeManifest,
  sha256,
  type ManifestEntry,
} from '../storage/manifest.js';
import { ControlError } from './control-error.js';
import type { Deployments } from './deployments.js';
import type { DeploymentRecord } from './records.js';
import type { UploadLimits } from './uploads.js';

/** Most hashes one `missing` call may ask about. */
export const MAX_HASHES_PER_CALL = 10_000;

export interface ManifestDeployInput {
  readonly id?: string;
  readonly files: Readonly<Record<string, ManifestEntry>>;
  readonly spa?: boolean;
  readonly cleanUrls?: boolean;
}

export class Blobs {
  readonly #store: BlobStore;
  readonly #deployments: Deployments;
  readonly #limits: UploadLimits;
  /**
   * Blobs the store was seen to hold in the last minute (for `missing` only). At most 200,000,
   * by `maxSize`: with `max`, lru-cache would preallocate 8.8 MB of slots up front.
   */
  readonly #seen = new LRUCache<string, true>({
    maxSize: 200_000,
    sizeCalculation: () => 1,
    ttl: 60_000,
  });

  constructor(store: BlobStore, deployments: Deployments, limits: UploadLimits) {
    this.#store = store;
    this.#deployments = deployments;
    this.#limits = limits;
  }

  get store(): BlobStore {
    return this.#store;
  }

  /**
   * Which of `hashes` must still be uploaded. Advisory (the deploy checks again), so blobs
   * seen stored in the last minute are not asked about again: a redeploy asks the object
   * store about its new files only.
   */
  async missing(hashes: readonly string[]): Promise<string[]> {
    if (hashes.length > MAX_HASHES_PER_CALL) {
      throw new ControlError('SY_TOO_LARGE', `at most ${MAX_HASHES_PER_CALL} hashes per call`, {
        field: '/hashes',
      });
    }
    hashes.forEach((h, i) => checkHash(h, `/hashes/${i}`));
    const unknown = [...new Set(hashes)].filter((h) => !this.#seen.has(h));
    const absent = new Set(await available(() => this.#store.missing(unknown)));
    for (const h of unknown) if (!absent.has(h)) this.#seen.set(h, true);
    const out: string[] = [];
    for (const h of hashes) {
      if (absent.delete(h)) out.push(h); // each once, in the order asked
    }
    return out;
  }

  /** Store one blob; its bytes must hash to `hash`. */
  async put(hash: string, body: Readable, contentLength: string | undefined): Promise<void> {
    checkHash(hash, '/hash');
    const bytes = await readBounded(body, contentLength, this.#limits.maxBytes);
    const actual = sha256(bytes);
    if (actual !== hash) {
      throw new ControlError(
        'SY_INVALID',
        `the body's SHA-256 is ${actual}, not the ${hash} named in the path`,
        { field: '/body' },
      );
    }
    await available(() => this.#store.put(hash, bytes));
    this.#seen.set(hash, true);
  }

  /** A ready deployment from a manifest whose blobs are all stored. */
  async deploy(
    project: string,
    input: ManifestDeployInput,
    idempotencyKey: string | undefined,
  ): Promise<{ deployment: DeploymentRecord; created: boolean }> {
    const paths = Object.keys(input.files);
    if (paths.length === 0) {
      throw new ControlError('SY_INVALID', 'the manifest has no files', { field: '/files' });
    }
    if (paths.length > this.#limits.maxEntries) {
      throw new ControlError('SY_TOO_LARGE', `more than ${this.#limits.maxEntries} files`, {
        field: '/files',
      });
    }
    let total = 0;
    for (const path of paths) {
      const problem = manifestPathProblem(path);
      const field = `/files/${path.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (problem !== undefined) {
        throw new ControlError('SY_INVALID', `path ${JSON.stringify(path)} ${problem}`, { field });
      }
      const entry = input.files[path]!;
      checkHash(entry.hash, `${field}/hash`);
      total += entry.size;
    }
    if (total > this.#limits.maxUnpackedBytes) {
      throw new ControlError(
        'SY_TOO_LARGE',
        `the files add up to more than ${this.#limits.maxUnpackedBytes} bytes`,
        { field: '/files' },
      );
    }
    const needed = [...new Set(paths.map((p) => input.files[p]!.hash))];
    const stored = await available(() => this.#store.sizes(needed));
    const absent = needed.filter((h) => !stored.has(h));
    if (absent.length > 0) {
      throw new ControlError(
        'SY_CONFLICT',
        `${absent.length} of the manifest's blobs are not stored yet; upload them first: ${absent.slice(0, 20).join(', ')}${absent.length > 20 ? ' …' : ''}`,
        { field: '/files' },
      );
    }
    // A size the manifest gets wrong would cut the file short (or promise bytes never sent).
    for (const path of paths) {
      const entry = input.files[path]!;
      if (stored.get(entry.hash) !== entry.size) {
        throw new ControlError(
          'SY_INVALID',
          `files[${JSON.stringify(path)}].size is ${entry.size}; the stored blob has ${stored.get(entry.hash)} bytes`,
          { field: '/files' },
        );
      }
    }
    const manifest = serializeManifest({ ...input.files });
    const manifestHash = sha256(manifest);
    await available(() => this.#store.put(manifestHash, manifest));
    return this.#deployments.create(
      project,
      {
        ...(input.id === undefined ? {} : { id: input.id }),
        status: 'ready',
        origin: {
          kind: 'static',
          dir: '',
          spa: input.spa ?? false,
          cleanUrls: input.cleanUrls ?? true,
          immutable: true,
          manifest: manifestHash,
        },
      },
      idempotencyKey,
    );
  }

  /** Store every file under `dir` (an unpacked upload) as blobs; the manifest's files. */
  async storeDirectory(dir: string): Promise<Record<string, ManifestEntry>> {
    const root = await realpath(dir);
    const files: Record<string, ManifestEntry> = {};
    for (const file of await walk(root)) {
      // Links were checked at unpack time to stay inside the upload; follow them to bytes.
      const real = await realpath(file).catch(() => undefined);
      if (real === undefined || (real !== root && !real.startsWith(root + sep))) continue;
      if (!(await stat(real)).isFile()) continue;
      const body = await readFile(real);
      const hash = sha256(body);
      if ((await available(() => this.#store.missing([hash]))).length > 0) {
        await available(() => this.#store.put(hash, body));
      }
      files[relative(root, file).split(sep).join('/')] = { hash, size: body.length };
    }
    return files;
  }
}

function checkHash(hash: unknown, field: string): void {
  if (!isBlobHash(hash)) {
    throw new ControlError('SY_INVALID', 'a blob is named by 64 lower-case hex digits (SHA-256)', {
      field,
    });
  }
}

/** Object storage away: 503, nothing written. */
async function available<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof BlobStoreUnavailable) {
      throw new ControlError('SY_STORAGE_UNAVAILABLE', err.message, { cause: err });
    }
    throw err;
  }
}

/** The request body, refused past `max` bytes (what it says, and what arrives). */
async function readBounded(
  body: Readable,
  contentLength: string | undefined,
  max: number,
): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > max) {
    body.resume();
    throw new ControlError('SY_TOO_LARGE', `a blob may have at most ${max} bytes`, {
      field: '/body',
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      body.resume();
      throw new ControlError('SY_TOO_LARGE', `a blob may have at most ${max} bytes`, {
        field: '/body',
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Every file and link below `dir` (not directories). */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}
