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
/**
 * The allowed growth of Switchyard's peak RSS while 1 GiB passes through.
 *
 * Most of it is garbage, not buffered data: a body arrives in 64 KiB socket reads, each its
 * own ArrayBuffer, and V8 frees dead ArrayBuffers only at a scavenge or once 64 MiB of
 * external memory was allocated since the last GC (V8's external-allocation soft limit).
 * Node 24's young generation grows to 64 MiB (Node 20: 32), so scavenges come later and that
 * 64 MiB trigger decides. Measured on Node 24.22 with a sampler in the Switchyard process:
 * peak `arrayBuffers` 88 MiB, 0 right after a full GC; V8 heap used flat at 30 MiB; peak
 * RSS growth 74–86 MiB. Data held back by a back-pressure failure is live and grows with the
 * transfer — the slow-app test below checks exactly that.
 */
const MAX_GROWTH = 112 * 1024 * 1024;

function* gib(): Generator<Buffer> {
  for (let sent = 0; sent < GiB; sent += CHUNK.length) yield CHUNK;
}

describe('streaming with back-pressure (1 GiB each way, flat memory)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  before(async () => {
    app = await startUpstream((req, res) => {
      if (req.method === 'POST' && req.url === '/slow') {
        // An app that reads far slower than the client sends: without back-pressure the
        // difference piles up in Switchyard.
        let received = 0;
        req.on('data', (c: Buffer) => {
          received += c.length;
          req.pause();
          setTimeout(() => req.resume(), 1);
        });
        req.on('end', () => res.end(String(received)));
        return;
      }
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
      `listen: { host: 127.0.0.1 }\nlog: { access: false }\nlimits: { maxBodyBytes: 0 }\nprojects:\n  - slug: big\n    deployments:\n      - id: d1\n        upstream: { replicas: ["${app.url}"] }\n`,
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

  it('holds a fast client back when the app reads slowly (no piling up in memory)', async () => {
    const size = 256 * 1024 * 1024;
    const before = peakRss(sy.proc.pid!);
    const req = request({
      port: sy.port,
      host: '127.0.0.1',
      path: '/big/slow',
      method: 'POST',
      headers: { host: '127.0.0.1', 'content-length': String(size) },
    });
    const response = once(req, 'response') as Promise<[IncomingMessage]>;
    await pipeline(
      Readable.from(
        (function* () {
          for (let sent = 0; sent < size; sent += CHUNK.length) yield CHUNK;
        })(),
      ),
      req,
    );
    const [res] = await response;
    let body = '';
    for await (const c of res) body += String(c);
    assert.equal(Number(body), size, 'every byte arrived');
    // The app takes over 1 ms per 64 KiB read: the client outpaces it several times over, so
    // without back-pressure most of the 256 MiB would be held in Switchyard at once (checked:
    // an unbounded buffer in front of undici makes this grow by 230 MiB).
    const growth = peakRss(sy.proc.pid!) - before;
    assert.ok(growth < MAX_GROWTH, `peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
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
