/**
 * Where static build output lives, content-addressed: every file is a blob named by the
 * SHA-256 of its bytes, stored once however many deployments and projects hold it; a
 * deployment is a manifest (itself a blob) from paths to blobs. Two implementations share one
 * contract suite (test/storage/blob-store-contract.ts): `LocalBlobStore` (the data directory,
 * one machine) and `S3BlobStore` (S3-compatible object storage, a fleet).
 */

/** A blob's name: 64 lower-case hex digits (SHA-256). */
export const BLOB_HASH = /^[0-9a-f]{64}$/;

export function isBlobHash(value: unknown): value is string {
  return typeof value === 'string' && BLOB_HASH.test(value);
}

/** The store cannot be reached (or answered 5xx): try again later; nothing is lost. */
export class BlobStoreUnavailable extends Error {
  override readonly name = 'BlobStoreUnavailable';
}

/** The store answered, and it has no such blob. */
export class BlobMissing extends Error {
  override readonly name = 'BlobMissing';
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Which of these blobs the store does not have (in the order given). */
  missing(hashes: readonly string[]): Promise<string[]>;
  /** The sizes of those of these blobs the store has. */
  sizes(hashes: readonly string[]): Promise<Map<string, number>>;
  /** Store a blob whose hash the caller has checked. Storing one that exists is harmless. */
  put(hash: string, body: Buffer): Promise<void>;
  /** The blob's bytes. Throws BlobMissing or BlobStoreUnavailable. */
  read(hash: string): Promise<Buffer>;
  /** Every blob, with when it was stored (for garbage collection). */
  list(): AsyncIterable<{ readonly hash: string; readonly storedAt: Date }>;
  delete(hashes: readonly string[]): Promise<void>;
  /** The blob's path on this machine's disk, when the store is this machine's disk. */
  localPath(hash: string): string | undefined;
}
