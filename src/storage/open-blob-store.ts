/** The blob store the configuration names. */
import type { Config } from '../config/schema.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

export function openBlobStore(config: Config, dataDir: string): BlobStore {
  const s = config.storage;
  if (s.kind === 'local') return new LocalBlobStore(dataDir);
  return new S3BlobStore({
    endpoint: s.endpoint,
    bucket: s.bucket,
    region: s.region,
    prefix: s.prefix,
    forcePathStyle: s.forcePathStyle,
    accessKeyId: s.accessKeyId,
    secretAccessKey: s.secretAccessKey,
    timeoutMs: s.timeoutMs,
  });
}
