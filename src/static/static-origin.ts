/**
 * The static origin: a deployment's build output in a directory, or as blobs named by a
 * manifest (`storage`; the bytes come from `BlobFiles`: the local store or a disk cache of
 * object storage).
 *
 * Resolution: `/dir/` → `dir/index.html`; `/dir` (a directory) → 308 to `/dir/`; `/about` →
 * `about.html` (clean URLs); otherwise the SPA fallback `/index.html` when enabled, then the
 * deployment's own `404.html` (status 404), then Switchyard's 404 page.
 * Responses carry a strong ETag and Last-Modified, answer conditional requests (304) and
 * single ranges (206/416), and prefer a precompressed `.br`/`.gz` sibling the client accepts.
 */
import { createReadStream, type Stats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';
import { contentType } from 'mime-types';
import type { StaticOriginSpec } from '../model/site.js';
import type { Origin } from '../origin/origin.js';
import { sendError, writeErrorToSocket } from '../request/error-renderer.js';
import { SwitchyardError } from '../model/errors.js';
import type { RequestContext } from '../request/request-context.js';
import { decorateResponseHeaders, decorationLines } from '../request/response-headers.js';
import { fieldBlock, writeHeadBlock } from '../http/response-head.js';
import { acceptedEncodings, type Encoding } from '../http/accept-encoding.js';
import { cacheControlFor } from './cache-policy.js';
import { ifRangeHolds, isNotModified } from '../http/conditional.js';
import {
  bodyKey,
  cachedBody,
  lookupCache,
  MISSING,
  SMALL_FILE_BYTES,
  storeBody,
  type Found,
} from './file-cache.js';
import { safeRelativePath } from './safe-path.js';
import { parseRange } from '../http/range.js';
import { endWithBody } from '../http/small-body.js';
import { BlobMissing } from '../storage/blob-store.js';
import type { BlobFiles } from '../storage/blob-files.js';
import type { Manifest } from '../storage/manifest.js';
import { PreparedAnswers } from './prepared-answers.js';

const SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };
const COMPRESSIBLE = /^(text\/|application\/(javascript|json|xml|wasm|manifest\+json)|image\/svg)/;
const noop = () => {};
/** Written per answer, not with a prepared answer's block: the body's length. */
const BLOCK_SKIPS: ReadonlySet<string> = new Set(['content-length']);

export class StaticOrigin implements Origin {
  readonly kind = 'static';
  readonly #spec: StaticOriginSpec;
  #root: Promise<string> | undefined;
  readonly #lookups;
  readonly #blobs: BlobFiles | undefined;
  readonly #prepared = new PreparedAnswers();

  /** `blobs` serves deployments whose spec names a manifest. */
  constructor(spec: StaticOriginSpec, blobs?: BlobFiles) {
    this.#spec = spec;
    this.#blobs = blobs;
    this.#lookups = lookupCache(spec.immutable || spec.manifest !== undefined);
    // Fetch the manifest as soon as the deployment is routed, before its first request:
    // every instance of a fleet then knows its files even if object storage goes away.
    if (spec.manifest !== undefined) blobs?.manifest(spec.manifest).catch(() => {});
  }

  handle(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
    if (this.#answerPrepared(req, res, ctx)) return;
    this.#serve(req, res, ctx).catch((err: unknown) => {
      const e =
        err instanceof SwitchyardError
          ? err
          : new SwitchyardError('SY_INTERNAL', 'the file could not be read', { cause: err });
      sendError(req, res, ctx, e);
    });
  }

  upgrade(_req: IncomingMessage, socket: Duplex, _head: Buffer, ctx: RequestContext): void {
    writeErrorToSocket(
      socket,
      ctx,
      new SwitchyardError(
        'SY_BAD_REQUEST',
        'this deployment is static: it does not accept upgrades',
      ),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * A plain GET (no range, no validators) for a file whose lookup, headers and bytes are all
   * in memory (prepared-answers.ts): answered at once. False sends the request the full way.
   */
  #answerPrepared(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): boolean {
    const h = req.headers;
    if (
      req.method !== 'GET' ||
      h.range !== undefined ||
      h['if-none-match'] !== undefined ||
      h['if-modified-since'] !== undefined
    ) {
      return false;
    }
    const q = ctx.path.indexOf('?');
    let rel: string;
    try {
      rel = safeRelativePath(q === -1 ? ctx.path : ctx.path.slice(0, q));
    } catch {
      return false; // the full path answers why
    }
    const found = this.#lookups.get(rel === '' || rel.endsWith('/') ? `${rel}index.html` : rel);
    if (found === undefined || 'missing' in found || !found.stat.isFile()) return false;
    const answer = this.#prepared.find(found, h['accept-encoding']);
    const body = answer === undefined ? undefined : cachedBody(answer.bodyKey);
    if (body === undefined) return false;
    const lines = answer!.block === undefined ? undefined : decorationLines(ctx);
    if (lines === undefined || !writeHeadBlock(req, res, 200, answer!.block!, lines, body.length)) {
      res.writeHead(200, decorateResponseHeaders({ ...answer!.headers }, ctx));
    }
    endWithBody(req, res, body);
    return true;
  }

  async #serve(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') {
      throw new SwitchyardError(
        'SY_METHOD_NOT_ALLOWED',
        `${method ?? ''} is not allowed on a static deployment`,
        {
          headers: { allow: 'GET, HEAD' },
        },
      );
    }
    const q = ctx.path.indexOf('?');
    const pathname = q === -1 ? ctx.path : ctx.path.slice(0, q);
    const rel = safeRelativePath(pathname);
    const root = this.#spec.manifest === undefined ? await this.#rootDir() : '';

    let found: Found | undefined;
    if (rel === '' || rel.endsWith('/')) {
      found = await this.#lookup(root, `${rel}index.html`);
    } else {
      found = await this.#lookup(root, rel, true);
      if (found?.stat.isDirectory()) {
        // RFC 9110 §15.4.9: 308 keeps the method.
        const location = `${ctx.prefix}${pathname}/${q === -1 ? '' : ctx.path.slice(q)}`;
        res.writeHead(308, decorateResponseHeaders({ location, 'content-length': 0 }, ctx));
        res.end();
        return;
      }
      if (found === undefined && this.#spec.cleanUrls && extname(rel) === '') {
        found = await this.#lookup(root, `${rel}.html`);
      }
    }
    if (found === undefined && this.#spec.spa && acceptsHtml(req)) {
      found = await this.#lookup(root, 'index.html');
    }
    if (found !== undefined) return this.#send(req, res, ctx, root, found, 200);
    const custom404 = await this.#lookup(root, '404.html');
    if (custom404 !== undefined) return this.#send(req, res, ctx, root, custom404, 404);
    throw new SwitchyardError('SY_NOT_FOUND', `${pathname} is not part of this deployment`);
  }

  #rootDir(): Promise<string> {
    this.#root ??= realpath(this.#spec.dir).catch((err: unknown) => {
      this.#root = undefined; // try again next time: the directory may appear
      throw new SwitchyardError('SY_NOT_FOUND', 'this deployment has no build output', {
        cause: err,
      });
    });
    return this.#root;
  }

  /** The file at `rel` if it exists inside the root (symbolic links resolved), else undefined. */
  async #lookup(root: string, rel: string, allowDirectory = false): Promise<Found | undefined> {
    let hit = this.#lookups.get(rel);
    if (hit === undefined) {
      hit = (await this.#resolve(root, rel)) ?? MISSING;
      this.#lookups.set(rel, hit);
    }
    if ('missing' in hit) return undefined;
    return hit.stat.isFile() || (allowDirectory && hit.stat.isDirectory()) ? hit : undefined;
  }

  async #resolve(root: string, rel: string): Promise<Found | undefined> {
    if (this.#spec.manifest !== undefined) return this.#resolveBlob(this.#spec.manifest, rel);
    let file: string;
    let st: Stats;
    try {
      file = await realpath(join(root, rel));
      if (file !== root && !file.startsWith(root + sep)) return undefined; // a link out of the deployment
      st = await stat(file);
    } catch {
      return undefined;
    }
    return st.isFile() || st.isDirectory() ? { file, rel, stat: st } : undefined;
  }

  /** A path of a manifest deployment: a file (its blob fetched later), a directory, or none. */
  async #resolveBlob(manifestHash: string, rel: string): Promise<Found | undefined> {
    const blobs = this.#blobs;
    if (blobs === undefined) {
      throw new SwitchyardError(
        'SY_NOT_FOUND',
        'this deployment’s build output is in storage this instance does not use',
      );
    }
    const manifest = await blobs.manifest(manifestHash).catch((err: unknown) => {
      throw storageError(err);
    });
    const path = rel.replace(/\/$/, '');
    const entry = manifest.files[path];
    if (entry !== undefined) {
      return { file: '', rel, stat: blobStat(entry.size, false), hash: entry.hash };
    }
    return directoriesOf(manifest).has(path)
      ? { file: '', rel, stat: blobStat(0, true) }
      : undefined;
  }

  async #send(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: RequestContext,
    root: string,
    found: Found,
    status: number,
  ): Promise<void> {
    const type = contentType(extname(found.rel)) || 'application/octet-stream';
    let chosen = found;
    let encoding: Encoding | undefined;
    const available: Encoding[] = [];
    if (COMPRESSIBLE.test(type)) {
      const [br, gzip] = await Promise.all([
        this.#lookup(root, found.rel + SUFFIX.br),
        this.#lookup(root, found.rel + SUFFIX.gzip),
      ]);
      const variants = { br, gzip };
      if (br !== undefined) available.push('br');
      if (gzip !== undefined) available.push('gzip');
      // acceptedEncodings lists the client's choices best first.
      for (const enc of available.length > 0
        ? acceptedEncodings(req.headers['accept-encoding'])
        : []) {
        const variant = variants[enc];
        if (variant !== undefined) {
          chosen = variant;
          encoding = enc;
          break;
        }
      }
    }
    const negotiated = available.length > 0;
    if (chosen.hash !== undefined && this.#blobs !== undefined) {
      const blobs = this.#blobs;
      const hash = chosen.hash;
      chosen = {
        ...chosen,
        file: await blobs.file(hash).catch((err: unknown) => {
          throw storageError(err);
        }),
      };
    }
    const { size, mtimeMs } = chosen.stat;
    // A blob is named by its content: its hash is the strongest validator there is.
    const etag =
      chosen.hash === undefined
        ? `"${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}${encoding === undefined ? '' : `-${encoding}`}"`
        : `"${chosen.hash.slice(0, 32)}"`;
    const lastModified = new Date(mtimeMs).toUTCString();
    const headers: OutgoingHttpHeaders = {
      'content-type': type,
      etag,
      ...(chosen.hash === undefined ? { 'last-modified': lastModified } : {}),
      'cache-control': cacheControlFor(found.rel),
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    if (encoding !== undefined) headers['content-encoding'] = encoding;
    if (negotiated) headers.vary = 'Accept-Encoding';

    // RFC 9110 §13.2.2: preconditions before Range.
    if (status === 200 && isNotModified(req.headers, etag, mtimeMs)) {
      delete headers['content-type'];
      res.writeHead(304, decorateResponseHeaders(headers, ctx));
      res.end();
      return;
    }
    let start = 0;
    let end = size - 1;
    const rangeHeader = req.headers.range;
    if (
      status === 200 &&
      rangeHeader !== undefined &&
      ifRangeHolds(req.headers, etag, lastModified)
    ) {
      const range = parseRange(rangeHeader, size);
      if (range === 'unsatisfiable') {
        throw new SwitchyardError('SY_RANGE_NOT_SATISFIABLE', `the file has ${size} bytes`, {
          headers: { 'content-range': `bytes */${size}` },
        });
      }
      if (range !== undefined) {
        status = 206;
        start = range.start;
        end = range.end;
        headers['content-range'] = `bytes ${start}-${end}/${size}`;
      }
    }
    headers['content-length'] = end - start + 1;
    if (req.method === 'HEAD' || size === 0) {
      res.writeHead(status, decorateResponseHeaders(headers, ctx));
      res.end();
      return;
    }
    const body = size <= SMALL_FILE_BYTES ? await this.#smallBody(chosen) : undefined;
    if (body !== undefined && status === 200 && req.method === 'GET') {
      // The whole file, answered in full: the next plain GET needs none of the above.
      this.#prepared.remember(found, available, encoding, {
        headers: { ...headers },
        block: fieldBlock(headers, BLOCK_SKIPS),
        bodyKey: bodyKey(chosen),
      });
    }
    res.writeHead(status, decorateResponseHeaders(headers, ctx));
    if (body === undefined) {
      pipeline(createReadStream(chosen.file, { start, end }), res, noop);
    } else {
      endWithBody(req, res, start === 0 && end === size - 1 ? body : body.subarray(start, end + 1));
    }
  }

  /** The bytes of a small file from memory, read once; undefined if it changed meanwhile. */
  async #smallBody(found: Found): Promise<Buffer | undefined> {
    const key = bodyKey(found);
    const cached = cachedBody(key);
    if (cached !== undefined) return cached;
    const body = await readFile(found.file);
    if (body.length !== found.stat.size) {
      this.#lookups.clear(); // the directory is being edited: look again next time
      return undefined;
    }
    storeBody(key, body);
    return body;
  }
}

/** What a manifest knows of a file: its size (blobs have no modification time). */
function blobStat(size: number, directory: boolean): Stats {
  return {
    size,
    mtimeMs: 0,
    isFile: () => !directory,
    isDirectory: () => directory,
  } as unknown as Stats;
}

const DIRECTORIES = new WeakMap<Manifest, Set<string>>();

/** The directories a manifest's paths imply (`a/b/c.html` → `a`, `a/b`), computed once. */
function directoriesOf(manifest: Manifest): Set<string> {
  let dirs = DIRECTORIES.get(manifest);
  if (dirs === undefined) {
    dirs = new Set(['']);
    for (const path of Object.keys(manifest.files)) {
      for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
        dirs.add(path.slice(0, i));
      }
    }
    DIRECTORIES.set(manifest, dirs);
  }
  return dirs;
}

/** Object storage away (or a blob missing from it): 503, try again shortly. */
function storageError(err: unknown): SwitchyardError {
  if (err instanceof SwitchyardError) return err;
  const detail =
    err instanceof BlobMissing
      ? 'a file of this deployment is missing from its storage'
      : 'the storage holding this deployment’s files cannot be reached; try again shortly';
  return new SwitchyardError('SY_STORAGE_UNAVAILABLE', detail, {
    headers: { 'retry-after': '5' },
    cause: err,
  });
}

function acceptsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return accept === undefined || accept.includes('text/html') || accept.includes('*/*');
}
