/**
 * A real S3-compatible server for tests: s3rver (npm), on a free loopback port, its objects
 * in a temporary directory, one bucket. It checks the access key id but not request
 * signatures (a wrong secret is accepted): the client's signing is AWS's own SDK, which is
 * not ours to test. Stop and start it again on the same port to play an outage.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from './ports.js';

export const S3_BUCKET = 'switchyard';
export const S3_KEY = 'S3RVER';

export interface TestS3 {
  readonly endpoint: string;
  /** `storage` settings for Switchyard. */
  readonly storage: Record<string, unknown>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'sy-s3-'));
  const port = await freePort();
  let server: S3rver | undefined;
  const start = async () => {
    server = new S3rver({
      port,
      address: '127.0.0.1',
      silent: true,
      directory,
      configureBuckets: [{ name: S3_BUCKET, configs: [] }],
    });
    await server.run();
  };
  const stop = async () => {
    await server?.close();
    server = undefined;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    storage: {
      kind: 's3',
      endpoint,
      bucket: S3_BUCKET,
      accessKeyId: S3_KEY,
      secretAccessKey: S3_KEY,
      timeoutMs: 2000,
    },
    start,
    stop,
    close: stop,
  };
}
