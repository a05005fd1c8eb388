import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { CachingOrigin } from '../../src/cache/caching-origin.js';
import { HttpCache } from '../../src/cache/http-cache.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { loadConfig } from '../../src/config/load-config.js';
import { StaticOrigin } from '../../src/static/static-origin.js';
import { UpstreamOrigin } from '../../src/upstream/upstream-origin.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { HELLO, originContract } from './origin-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'sy-origin-'));
writeFileSync(join(dir, 'hello.txt'), HELLO);
const { config } = loadConfig({ raw: {} });
let app: TestUpstream | undefined;
const appUrl = async () => {
  app ??= await startUpstream((req, res) => {
    if (req.url !== '/hello.txt') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such thing\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-length': String(Buffer.byteLength(HELLO)),
      'cache-control': 'max-age=60',
    });
    res.end(HELLO); // node:http sends no body for HEAD
  });
  return app.url;
};
after(() => app?.close());

const upstream = async () =>
  new UpstreamOrigin(
    { kind: 'upstream', replicas: [await appUrl()] },
    config.upstream,
    'switchyard',
  );

originContract('static', () =>
  Promise.resolve(
    new StaticOrigin({ kind: 'static', dir, spa: false, cleanUrls: true, immutable: false }),
  ),
);
originContract('upstream', upstream);
originContract('upstream behind the HTTP cache', async () => {
  const cache = new HttpCache(new MemoryStore(1024 * 1024), {
    maxObjectBytes: 64 * 1024,
    heuristicFreshness: false,
    lockTimeoutMs: 1000,
    via: 'switchyard',
  });
  return new CachingOrigin(await upstream(), cache, { project: 'app', deployment: 'd1' });
});
