/**
 * A deployment's manifest: which blob each path of the build output is. Stored as a blob
 * itself (JSON), so a deployment record carries only the manifest's hash.
 */
import { createHash } from 'node:crypto';
import { isBlobHash } from './blob-store.js';

export interface ManifestEntry {
  readonly hash: string;
  readonly size: number;
}

export interface Manifest {
  readonly version: 1;
  /** Path (relative, `/`-separated, no `.` or `..` segments) → blob. */
  readonly files: Readonly<Record<string, ManifestEntry>>;
}

export const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

/** Why a path may not be in a manifest, or undefined if it may. */
export function manifestPathProblem(path: string): string | undefined {
  if (path === '' || path.length > 1024) return 'must be 1 to 1024 characters';
  if (path.startsWith('/') || path.includes('\\') || path.includes('\0')) {
    return 'must be relative, with / between segments and no NUL or backslash';
  }
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    return 'may not have empty, . or .. segments';
  }
  return undefined;
}

/** The manifest in a blob's bytes, checked whole; throws on anything malformed. */
export function parseManifest(body: Buffer): Manifest {
  const value = JSON.parse(body.toString('utf8')) as Partial<Manifest>;
  if (value.version !== 1 || typeof value.files !== 'object' || value.files === null) {
    throw new Error('not a version 1 manifest');
  }
  for (const [path, entry] of Object.entries(value.files)) {
    const problem = manifestPathProblem(path);
    if (problem !== undefined) throw new Error(`manifest path ${JSON.stringify(path)} ${problem}`);
    if (!isBlobHash(entry.hash) || !Number.isSafeInteger(entry.size) || entry.size < 0) {
      throw new Error(`manifest entry ${JSON.stringify(path)} is malformed`);
    }
  }
  return value as Manifest;
}

export function serializeManifest(files: Record<string, ManifestEntry>): Buffer {
  const sorted: Record<string, ManifestEntry> = {};
  for (const path of Object.keys(files).sort()) sorted[path] = files[path]!;
  return Buffer.from(JSON.stringify({ version: 1, files: sorted }));
}
