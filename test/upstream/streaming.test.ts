import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { peakRss, spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const GiB = 1024 ** 3;
const CHUNK = Buffer.alloc(1024 * 1024, 0x61);
/** The allowed growth of Switchyard's peak RSS while 1 GiB passes through. */
const MAX_GROWTH = 64 * 1024 * 1024;

function* gib(): Generator<Buffer> {
  for (let sent = 0; sent < GiB; sent += CHUNK.length) yield CHUNK;
}

describe('streaming with back-pressure (1 GiB each way, flat memory)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  before(async () => {
    app = await startUpstream((req, res) => {
      if (req.method === 'POST') {
        let received = 0;
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => res.end(String(received)));
        return;
      }
      res.writeHead(200, { 'content-length': String(GiB) });
      void pipeline(Readable.from(gib()), res).catch(() => {});
    });
    const dir = mkdtempSync(join(tmpdir(), 'sy-stream-'));
    const file = join(dir, 'switchyard.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1 }\nlog: { access: false }\nprojects:\n  - slug: big\n    deployments:\n      - id: d1\n        upstream: { replicas: ["${app.url}"] }\n`,
    );
    sy = await spawnSwitchyard(['--config', file]);
    // Warm up so the baseline includes JIT and pools.
    for (let i = 0; i < 20; i++) {
      const req = request({
        port: sy.port,
        host: '127.0.0.1',
        path: '/big/',
        method: 'POST',
        headers: { host: '127.0.0.1' },
      });
      req.end('x'.repeat(100_000));
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.resume();
      await once(res, 'end');
    }
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  it('uploads 1 GiB through Switchyard', async () => {
    const before = peakRss(sy.proc.pid!);
    const req = request({
      port: sy.port,
      host: '127.0.0.1',
      path: '/big/upload',
      method: 'POST',
      headers: { host: '127.0.0.1', 'content-length': String(GiB) },
    });
    const response = once(req, 'response') as Promise<[IncomingMessage]>;
    await pipeline(Readable.from(gib()), req);
    const [res] = await response;
    let body = '';
    for await (const c of res) body += String(c);
    assert.equal(res.statusCode, 200);
    assert.equal(Number(body), GiB, 'every byte arrived');
    const growth = peakRss(sy.proc.pid!) - before;
    assert.ok(growth < MAX_GROWTH, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  });

  it('downloads 1 GiB through Switchyard', async () => {
    const before = peakRss(sy.proc.pid!);
    const req = request({
      port: sy.port,
      host: '127.0.0.1',
      path: '/big/download',
      headers: { host: '127.0.0.1' },
    });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let received = 0;
    for await (const c of res) received += (c as Buffer).length;
    assert.equal(received, GiB);
    const growth = peakRss(sy.proc.pid!) - before;
    assert.ok(growth < MAX_GROWTH, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  });
});
