/**
 * `switchyard deploy` as an incremental upload: hash every file of the build folder, ask the
 * server which blobs it lacks, upload only those (a few at a time), then create the
 * deployment from the manifest. A redeploy with one changed file uploads one file.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { AdminClient } from './admin-client.js';

/** Uploads in flight at once. */
const PARALLEL_UPLOADS = 8;
/** Hashes per `missing` question (the server takes up to 10,000). */
const HASHES_PER_CALL = 5000;

interface Entry {
  readonly path: string;
  readonly file: string;
  readonly hash: string;
  readonly size: number;
}

/** Every file below `dir` (links followed while they stay inside it), hashed. */
async function hashFolder(dir: string): Promise<Entry[]> {
  const root = await realpath(dir);
  const out: Entry[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const file = join(e.parentPath, e.name);
    const real = await realpath(file).catch(() => undefined);
    if (real === undefined || !real.startsWith(root + sep)) continue;
    if (!(await stat(real)).isFile()) continue;
    const body = await readFile(real);
    out.push({
      path: relative(root, file).split(sep).join('/'),
      file: real,
      hash: createHash('sha256').update(body).digest('hex'),
      size: body.length,
    });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export async function incrementalDeploy<T>(
  client: AdminClient,
  options: { dir: string; project: string; id?: string; spa: boolean },
  out: (line: string) => void,
): Promise<T> {
  const entries = await hashFolder(options.dir);
  const unique = [...new Map(entries.map((e) => [e.hash, e])).values()];
  const missing = new Set<string>();
  for (let i = 0; i < unique.length; i += HASHES_PER_CALL) {
    const asked = unique.slice(i, i + HASHES_PER_CALL).map((e) => e.hash);
    const res = await client.call<{ missing: string[] }>('POST', '/v1/blobs/missing', {
      hashes: asked,
    });
    for (const h of res.body.missing) missing.add(h);
  }
  const toUpload = unique.filter((e) => missing.has(e.hash));
  let next = 0;
  const worker = async () => {
    while (next < toUpload.length) {
      const e = toUpload[next++]!;
      await client.call('PUT', `/v1/blobs/${e.hash}`, undefined, {
        stream: Readable.from([await readFile(e.file)]),
        contentType: 'application/octet-stream',
      });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
  const bytes = toUpload.reduce((sum, e) => sum + e.size, 0);
  const total = entries.reduce((sum, e) => sum + e.size, 0);
  out(
    `uploaded ${toUpload.length} of ${entries.length} files (${bytes} of ${total} bytes; the rest the server already has)`,
  );
  const files: Record<string, { hash: string; size: number }> = {};
  for (const e of entries) files[e.path] = { hash: e.hash, size: e.size };
  const created = await client.call<T>('POST', `/v1/projects/${options.project}/deployments`, {
    ...(options.id === undefined ? {} : { id: options.id }),
    files,
    spa: options.spa,
  });
  return created.body;
}
