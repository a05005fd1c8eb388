/**
 * Static build output uploaded as a `.tar.gz`: streamed into a private directory under
 * `<dataDir>/deployments/.incoming/`, checked entry by entry (no absolute paths, no `..`, no
 * links that leave the upload, no devices), bounded in compressed and unpacked bytes and in
 * entries, then renamed into `<dataDir>/deployments/<project>/<id>` and registered as a ready
 * deployment. Anything that goes wrong — a bad entry, a truncated or oversized archive, a
 * client that hangs up — removes the private directory: nothing is left behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Stats } from 'node:fs';
import type { ReadEntry } from 'tar';
import { ControlError } from './control-error.js';
import { newDeploymentId, type Deployments } from './deployments.js';
import type { Projects } from './projects.js';
import type { DeploymentRecord } from './records.js';
import type { Blobs } from './blobs.js';

export interface UploadLimits {
  /** Largest archive accepted, compressed. */
  readonly maxBytes: number;
  /** Largest total size of the files in it (a gzip bomb stops here). */
  readonly maxUnpackedBytes: number;
  readonly maxEntries: number;
}

export interface UploadOptions {
  readonly id: string | undefined;
  readonly spa: boolean;
  readonly cleanUrls: boolean;
  readonly idempotencyKey: string | undefined;
}

/** Why an archive is refused: a 400 naming the body (or 413 for size). */
class Refused extends ControlError {
  constructor(message: string, tooLarge = false) {
    super(tooLarge ? 'SY_TOO_LARGE' : 'SY_INVALID', message, { field: '/body' });
  }
}

export class Uploads {
  readonly #projects: Projects;
  readonly #deployments: Deployments;
  readonly #root: string;
  readonly #limits: UploadLimits;
  /** With object storage, an upload becomes blobs and a manifest instead of a directory. */
  readonly #blobs: Blobs | undefined;

  constructor(
    parts: { projects: Projects; deployments: Deployments },
    dataDir: string,
    limits: UploadLimits,
    blobs?: Blobs,
  ) {
    this.#blobs = blobs?.store.kind === 's3' ? blobs : undefined;
    this.#projects = parts.projects;
    this.#deployments = parts.deployments;
    this.#root = join(dataDir, 'deployments');
    this.#limits = limits;
  }

  async receive(
    project: string,
    body: NodeJS.ReadableStream,
    contentLength: string | undefined,
    options: UploadOptions,
  ): Promise<{ deployment: DeploymentRecord; created: boolean }> {
    const input = body as Readable;
    try {
      await this.#projects.get(project);
      if (contentLength !== undefined && Number(contentLength) > this.#limits.maxBytes) {
        throw new Refused(
          `the archive has ${contentLength} bytes; the limit is ${this.#limits.maxBytes}`,
          true,
        );
      }
      if (options.id !== undefined) {
        const existing = await this.#deployments.get(project, options.id).catch(() => undefined);
        if (existing !== undefined) {
          input.resume(); // a retried upload of a deployment that already landed
          return { deployment: existing, created: false };
        }
      }
    } catch (err) {
      input.resume();
      throw err;
    }
    const id = options.id ?? newDeploymentId();
    const incoming = join(this.#root, '.incoming', randomBytes(8).toString('hex'));
    const dir = join(this.#root, project, id);
    await mkdir(incoming, { recursive: true });
    const blobs = this.#blobs;
    if (blobs !== undefined) {
      try {
        await this.#unpack(input, incoming);
        const files = await blobs.storeDirectory(incoming);
        if (Object.keys(files).length === 0) throw new Refused('the archive has no files');
        return await blobs.deploy(
          project,
          { id, files, spa: options.spa, cleanUrls: options.cleanUrls },
          options.idempotencyKey,
        );
      } catch (err) {
        input.resume();
        throw err;
      } finally {
        await rm(incoming, { recursive: true, force: true });
      }
    }
    try {
      await this.#unpack(input, incoming);
      await mkdir(join(this.#root, project), { recursive: true });
      await rename(incoming, dir).catch((err: unknown) => {
        throw new ControlError(
          'SY_CONFLICT',
          `deployment "${id}" of "${project}" already has files`,
          {
            field: '/id',
            cause: err,
          },
        );
      });
    } catch (err) {
      input.resume();
      await rm(incoming, { recursive: true, force: true });
      throw err;
    }
    try {
      const { deployment, created } = await this.#deployments.create(
        project,
        {
          id,
          status: 'ready',
          origin: {
            kind: 'static',
            dir,
            spa: options.spa,
            cleanUrls: options.cleanUrls,
            immutable: true,
          },
        },
        options.idempotencyKey,
      );
      if (!created) await rm(dir, { recursive: true, force: true });
      return { deployment, created };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Unpack into `dir`. A refused entry does not stop the stream: every later entry is
   * skipped unwritten and the archive is read to its end (bounded by `maxBytes`), so that
   * no write is still in flight when the caller removes the directory.
   */
  async #unpack(input: Readable, dir: string): Promise<void> {
    // Loaded with the first archive: an instance that is never sent one never holds tar.
    const { x: extract } = await import('tar');
    const limits = this.#limits;
    let compressed = 0;
    let unpacked = 0;
    let entries = 0;
    let refusal: Refused | undefined;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        compressed += chunk.length;
        if (compressed > limits.maxBytes) {
          refusal ??= new Refused(
            `the archive is larger than the limit of ${limits.maxBytes} bytes`,
            true,
          );
          done(refusal);
          return;
        }
        done(null, chunk);
      },
    });
    // The request is piped, not part of the pipeline: a refusal must not destroy it, or
    // the client would get a cut connection instead of the answer saying why.
    const interrupted = () => {
      if (!input.readableEnded) {
        counter.destroy(new Refused('the upload was interrupted before the archive ended'));
      }
    };
    input.once('close', interrupted);
    input.once('error', interrupted);
    input.pipe(counter);
    const check = (path: string, stats: ReadEntry | Stats): boolean => {
      if (!('type' in stats)) return true; // only when packing, never when reading an archive
      if (refusal !== undefined) return false;
      const entry = stats;
      entries++;
      if (entries > limits.maxEntries) {
        refusal = new Refused(`the archive has more than ${limits.maxEntries} entries`, true);
        return false;
      }
      const problem = entryProblem(path, entry.type, entry.linkpath);
      if (problem !== undefined) {
        refusal = new Refused(problem);
        return false;
      }
      unpacked += entry.size ?? 0;
      if (unpacked > limits.maxUnpackedBytes) {
        refusal = new Refused(
          `the archive unpacks to more than ${limits.maxUnpackedBytes} bytes`,
          true,
        );
        return false;
      }
      return true;
    };
    const extractor = extract({ cwd: dir, strict: true, filter: check, preserveOwner: false });
    try {
      await pipeline(counter, extractor);
    } catch (err) {
      input.unpipe(counter);
      // Let writes already started finish before the caller removes the directory.
      await settled(extractor);
      if (refusal !== undefined) throw refusal;
      if (err instanceof Refused) throw err;
      throw new Refused(
        `the archive could not be read: ${(err as Error).message} (a .tar.gz is expected)`,
      );
    } finally {
      input.off('close', interrupted);
      input.off('error', interrupted);
    }
    if (refusal !== undefined) throw refusal;
    if (entries === 0) throw new Refused('the archive is empty');
  }

  /** Delete the files of removed deployments (after their records are gone). */
  async removeFiles(deployments: readonly DeploymentRecord[]): Promise<void> {
    for (const d of deployments) {
      // Blobs of deleted deployments are left for garbage collection (docs/fleet.md).
      if (d.origin?.kind === 'static' && d.origin.dir.startsWith(this.#root + '/')) {
        await rm(d.origin.dir, { recursive: true, force: true });
      }
    }
  }
}

/** Why an entry may not be unpacked, or undefined if it may. */
export function entryProblem(
  path: string,
  type: string,
  linkpath: string | undefined,
): string | undefined {
  const shown = JSON.stringify(path.slice(0, 200));
  if (isAbsolute(path) || /^[a-zA-Z]:/.test(path)) return `entry ${shown} has an absolute path`;
  if (path.split(/[\\/]/).includes('..')) return `entry ${shown} points outside the upload (..)`;
  switch (type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
    case 'Directory':
      return undefined;
    case 'SymbolicLink':
    case 'Link': {
      const target = linkpath ?? '';
      // A symbolic link resolves from its own directory; a hard link from the archive root.
      const resolved =
        type === 'SymbolicLink' ? posix.join(posix.dirname(path), target) : posix.normalize(target);
      if (isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
        return `entry ${shown} links outside the upload (to ${JSON.stringify(target.slice(0, 200))})`;
      }
      return undefined;
    }
    default:
      return `entry ${shown} is a ${type}; only files, directories and links are accepted`;
  }
}

/** Resolves once a stream has closed (or after a second, whichever comes first). */
function settled(stream: NodeJS.EventEmitter & { closed?: boolean }): Promise<void> {
  if (stream.closed === true) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
