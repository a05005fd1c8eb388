/**
 * Blobs in S3-compatible object storage (AWS S3, R2, MinIO, GCS interoperability) through
 * `@aws-sdk/client-s3`: `<prefix>blobs/<hash>`. Credentials come from `storage.accessKeyId`
 * and `storage.secretAccessKey`, else from the SDK's usual chain (`AWS_ACCESS_KEY_ID` and
 * friends). Network failures and 5xx answers become BlobStoreUnavailable; a missing object
 * BlobMissing. Every request has a deadline.
 */
import { createRequire } from 'node:module';
import type * as S3 from '@aws-sdk/client-s3';
import { BlobMissing, BlobStoreUnavailable, isBlobHash, type BlobStore } from './blob-store.js';

export interface S3Settings {
  readonly endpoint: string | undefined;
  readonly bucket: string;
  readonly region: string;
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  /** Deadline of one request to the store. */
  readonly timeoutMs: number;
}

/**
 * The SDK, loaded the first time an S3 store is made: it costs ~30 MiB and ~80 ms at start,
 * which an instance on `storage.kind: local` never needs.
 */
let loaded: typeof S3 | undefined;
const sdk = (): typeof S3 =>
  (loaded ??= createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof S3);

/** Blobs checked at once by `missing` (HEAD requests in flight). */
const PARALLEL = 32;

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  readonly #client: S3.S3Client;
  readonly #sdk = sdk();
  readonly #settings: S3Settings;

  constructor(settings: S3Settings) {
    this.#settings = settings;
    this.#client = new this.#sdk.S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.accessKeyId === undefined || settings.secretAccessKey === undefined
        ? {}
        : {
            credentials: {
              accessKeyId: settings.accessKeyId,
              secretAccessKey: settings.secretAccessKey,
            },
          }),
      maxAttempts: 2,
    });
  }

  #key(hash: string): string {
    return `${this.#settings.prefix}blobs/${hash}`;
  }

  /** One request with a deadline, its failure classified. */
  async #send<T>(what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.#settings.timeoutMs);
    try {
      return await call(signal);
    } catch (err) {
      if (
        err instanceof this.#sdk.S3ServiceException &&
        (err.$metadata.httpStatusCode === 404 ||
          err.name === 'NoSuchKey' ||
          err.name === 'NotFound')
      ) {
        throw new BlobMissing(`${what}: not in bucket ${this.#settings.bucket}`, { cause: err });
      }
      const status =
        err instanceof this.#sdk.S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      if (status !== undefined && status < 500) {
        // Refused (credentials, bucket): not something waiting fixes; say it as it is.
        throw new Error(
          `${what}: object storage refused it: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
      throw new BlobStoreUnavailable(
        `${what}: object storage at ${this.#settings.endpoint ?? 'AWS'} is unavailable (${err instanceof Error ? err.message : String(err)})`,
        { cause: err },
      );
    }
  }

  localPath(): undefined {
    return undefined;
  }

  async missing(hashes: readonly string[]): Promise<string[]> {
    const found = await this.sizes(hashes);
    return hashes.filter((h) => !found.has(h));
  }

  async sizes(hashes: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (let i = 0; i < hashes.length; i += PARALLEL) {
      await Promise.all(
        hashes.slice(i, i + PARALLEL).map(async (hash) => {
          try {
            const head = await this.#send(`blob ${hash}`, (abortSignal) =>
              this.#client.send(
                new this.#sdk.HeadObjectCommand({
                  Bucket: this.#settings.bucket,
                  Key: this.#key(hash),
                }),
                { abortSignal },
              ),
            );
            found.set(hash, head.ContentLength ?? 0);
          } catch (err) {
            if (!(err instanceof BlobMissing)) throw err;
          }
        }),
      );
    }
    return found;
  }

  async put(hash: string, body: Buffer): Promise<void> {
    await this.#send(`storing blob ${hash}`, (abortSignal) =>
      this.#client.send(
        new this.#sdk.PutObjectCommand({
          Bucket: this.#settings.bucket,
          Key: this.#key(hash),
          Body: body,
          ContentLength: body.length,
        }),
        { abortSignal },
      ),
    );
  }

  async read(hash: string): Promise<Buffer> {
    return this.#send(`blob ${hash}`, async (abortSignal) => {
      const res = await this.#client.send(
        new this.#sdk.GetObjectCommand({ Bucket: this.#settings.bucket, Key: this.#key(hash) }),
        { abortSignal },
      );
      return Buffer.from(await res.Body!.transformToByteArray());
    });
  }

  async *list(): AsyncIterable<{ hash: string; storedAt: Date }> {
    const prefix = `${this.#settings.prefix}blobs/`;
    let token: string | undefined;
    do {
      const page = await this.#send('listing blobs', (abortSignal) =>
        this.#client.send(
          new this.#sdk.ListObjectsV2Command({
            Bucket: this.#settings.bucket,
            Prefix: prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          { abortSignal },
        ),
      );
      for (const o of page.Contents ?? []) {
        const hash = o.Key?.slice(prefix.length);
        if (isBlobHash(hash)) yield { hash, storedAt: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(hashes: readonly string[]): Promise<void> {
    for (let i = 0; i < hashes.length; i += 1000) {
      const batch = hashes.slice(i, i + 1000);
      await this.#send('deleting blobs', (abortSignal) =>
        this.#client.send(
          new this.#sdk.DeleteObjectsCommand({
            Bucket: this.#settings.bucket,
            Delete: { Objects: batch.map((h) => ({ Key: this.#key(h) })), Quiet: true },
          }),
          { abortSignal },
        ),
      );
    }
  }

  close(): void {
    this.#client.destroy();
  }
}
