/**
 * An instance on `storage.kind: local` never loads the S3 SDK (~30 MiB, ~80 ms at start):
 * it is loaded when an S3 store is made. Checked in a fresh process that imports everything
 * `switchyard start` does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const run = promisify(execFile);

const PROBE = `
import { createRequire } from 'node:module';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('client-s3'));
await import('./src/app/start.ts');
const before = loaded();
const { S3BlobStore } = await import('./src/storage/s3-blob-store.ts');
new S3BlobStore({ endpoint: 'http://127.0.0.1:1', bucket: 'b', region: 'us-east-1', prefix: '', forcePathStyle: true, accessKeyId: 'a', secretAccessKey: 's', timeoutMs: 100 });
console.log(JSON.stringify({ before, after: loaded() }));
`;

describe('the S3 SDK', () => {
  it('is loaded only when an S3 blob store is made', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', PROBE],
      { cwd: new URL('../..', import.meta.url).pathname },
    );
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), { before: false, after: true });
  });
});
