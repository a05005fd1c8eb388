/**
 * Deploys and serving with build output in object storage (`npm run bench:deploy`):
 *
 * - A 2,000-file site (10 MiB): the `.tar.gz` upload (everything, every time) beside the
 *   incremental deploy of `switchyard deploy` (first deploy, then a redeploy with one file
 *   changed) — seconds and bytes sent.
 * - Serving a 1 KiB file from a deployment in object storage (its blob cached on this
 *   instance's disk) beside the same file from a local deployment: requests per second with
 *   wrk, as a ratio; and cold fetches: the first request of 200 files never served before,
 *   object storage (s3rver on loopback) beside local blobs, ms each.
 *
 * Object storage is s3rver on loopback: no network latency, so the cold figures are a
 * floor; a real bucket adds its round trip (~10–50 ms) to every cold file.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';
import { c as createTar } from 'tar';
import { request } from 'undici';
import { freePort, stop, type Started } from './lib/processes.js';
import { BENCH_TOKEN, startWithAdmin } from './lib/switchyard.js';
import { wrk } from './lib/wrk.js';

const execute = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'switchyard.js');
const TOKEN = BENCH_TOKEN;
const FILES = 2000;
const FILE_BYTES = 5 * 1024; // 2,000 × 5 KiB = 10 MiB
const quick = process.argv.includes('--quick');

const instance = (work: string, name: string, storage: string) =>
  startWithAdmin(work, name, [storage], ', uploadMaxUnpackedBytes: 1073741824');

/** Run the CLI (asynchronously: s3rver runs in this process and must keep answering). */
async function cli(admin: number, args: string[]): Promise<{ seconds: number; out: string }> {
  const started = performance.now();
  const { stdout } = await execute(process.execPath, [BIN, ...args], {
    env: {
      ...process.env,
      SWITCHYARD_ADMIN_URL: `http://127.0.0.1:${admin}`,
      SWITCHYARD_TOKEN: TOKEN,
    },
    timeout: 300_000,
  });
  return { seconds: (performance.now() - started) / 1000, out: stdout };
}

async function tarUpload(admin: number, dir: string, id: string) {
  const started = performance.now();
  const chunks: Buffer[] = [];
  for await (const c of createTar({ gzip: true, cwd: dir, portable: true }, ['.'])) {
    chunks.push(c);
  }
  const body = Buffer.concat(chunks);
  const res = await request(`http://127.0.0.1:${admin}/v1/projects/site/deployments?id=${id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/gzip' },
    body,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`tar upload: ${res.statusCode} ${text}`);
  return { seconds: (performance.now() - started) / 1000, bytes: body.length };
}

async function coldFetches(port: number, host: string, paths: string[]): Promise<number> {
  const started = performance.now();
  for (const path of paths) {
    const res = await request(`http://127.0.0.1:${port}${path}`, { headers: { host } });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
  }
  return (performance.now() - started) / paths.length;
}

export async function deployBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'sy-bench-deploy-'));
  const site = join(work, 'site');
  for (let i = 0; i < FILES; i++) {
    const dir = join(site, `d${i % 40}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.js`), randomBytes(FILE_BYTES / 2).toString('hex'));
  }
  writeFileSync(join(site, 'one-k.txt'), 'x'.repeat(1024));
  const s3dir = mkdtempSync(join(tmpdir(), 'sy-bench-s3-'));
  const s3port = await freePort();
  const s3 = new S3rver({
    port: s3port,
    address: '127.0.0.1',
    silent: true,
    directory: s3dir,
    configureBuckets: [{ name: 'b', configs: [] }],
  });
  await s3.run();
  const procs: Started[] = [];
  try {
    const objectStorage = `storage: { kind: s3, endpoint: "http://127.0.0.1:${s3port}", bucket: b, accessKeyId: S3RVER, secretAccessKey: S3RVER }`;
    const remote = await instance(work, 'remote', objectStorage);
    procs.push(remote.proc);
    const local = await instance(work, 'local', 'storage: { kind: local }');
    procs.push(local.proc);
    // Deploys into object storage: the first (every blob new), the .tar.gz way (every byte
    // sent again), then one file changed.
    const first = await cli(remote.admin, [
      'deploy',
      site,
      '--project',
      'site',
      '--id',
      'inc1',
      '--prod',
    ]);
    await cli(local.admin, ['deploy', site, '--project', 'site', '--id', 'inc1', '--prod']);
    const tar = await tarUpload(remote.admin, site, 'tar1');
    writeFileSync(join(site, 'd0', 'f0.js'), randomBytes(FILE_BYTES / 2).toString('hex'));
    const again = await cli(remote.admin, ['deploy', site, '--project', 'site', '--id', 'inc2']);
    const uploaded = (out: string) => /uploaded (\d+) of (\d+) files \((\d+) of/.exec(out)!;
    const u1 = uploaded(first.out);
    const u2 = uploaded(again.out);

    // Warm serving: the same 1 KiB file, cached blob vs local blob.
    const seconds = quick ? 3 : 5;
    const rps: Record<string, number> = {};
    for (const [name, i] of [
      ['object storage', remote],
      ['local disk', local],
    ] as const) {
      const url = `http://127.0.0.1:${i.port}/site/one-k.txt`;
      await wrk(url, { seconds: 1, connections: 50 });
      rps[name] = (await wrk(url, { seconds, connections: 50 })).rps;
    }
    // Cold: files of a deployment never served on this instance.
    const paths = Array.from({ length: 200 }, (_, k) => `/d${(k * 7 + 1) % 40}/f${k * 7 + 1}.js`);
    const coldRemote = await coldFetches(remote.port, 'inc2--site.localhost', paths);
    await cli(local.admin, ['deploy', site, '--project', 'site', '--id', 'inc2']);
    const coldLocal = await coldFetches(local.port, 'inc2--site.localhost', paths);

    const mib = (n: number) =>
      n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(2)} MiB`;
    return [
      `### Deploys and serving from object storage (${FILES} files, ${mib(FILES * FILE_BYTES)}; s3rver on loopback)`,
      '',
      '| deploy | seconds | sent |',
      '| --- | --- | --- |',
      `| \`.tar.gz\` upload (all files, every time) | ${tar.seconds.toFixed(2)} | ${mib(tar.bytes)} compressed |`,
      `| incremental, first deploy | ${first.seconds.toFixed(2)} | ${u1[1]} of ${u1[2]} files, ${mib(Number(u1[3]))} |`,
      `| incremental, one file changed | ${again.seconds.toFixed(2)} | ${u2[1]} of ${u2[2]} files, ${mib(Number(u2[3]))} |`,
      '',
      '| serving | object storage | local disk | ratio |',
      '| --- | --- | --- | --- |',
      `| warm 1 KiB, req/s (wrk -c50) | ${rps['object storage']!.toFixed(0)} | ${rps['local disk']!.toFixed(0)} | ${(rps['object storage']! / rps['local disk']!).toFixed(2)}× |`,
      `| cold file, ms each (200 in a row) | ${coldRemote.toFixed(2)} | ${coldLocal.toFixed(2)} | ${(coldRemote / coldLocal).toFixed(2)}× |`,
      '',
    ].join('\n');
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await s3.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await deployBench());
}
