import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { startEdge, type TestEdge, deployUpstream } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('a fleet of two instances sharing Redis', needsBinary('redis-server'), () => {
  let redis: TestRedis;
  let a: TestEdge;
  let b: TestEdge;
  let v1: TestUpstream;
  let v2: TestUpstream;
  let v3: TestUpstream;
  before(async () => {
    redis = await startRedis();
    v1 = await startUpstream((_req, res) => res.end('one'));
    v2 = await startUpstream((_req, res) => res.end('two'));
    v3 = await startUpstream((_req, res) => res.end('three'));
    a = await startEdge({ demo: false, store: redis.storeUrl });
    b = await startEdge({ demo: false, store: redis.storeUrl });
  });
  after(async () => {
    await a.close();
    await b.close();
    await redis.close();
    for (const u of [v1, v2, v3]) await u.close();
  });

  const body = async (edge: TestEdge) => (await fetchText(`${edge.origin}/shop/`)).body;

  it('serves on every instance what was deployed through one, a promote reaching the other within a second', async () => {
    await deployUpstream(a, 'shop', [v1.url]);
    await eventually(async () => assert.equal(await body(b), 'one'));
    await deployUpstream(a, 'shop', [v2.url], { id: 'd2', create: false });
    const started = Date.now();
    await a.api('POST', '/v1/projects/shop/promote', { deployment: 'd2' });
    await eventually(async () => assert.equal(await body(b), 'two'), 1000);
    assert.ok(Date.now() - started < 1000);
    const health = await b.api('GET', '/health', undefined, null);
    assert.equal(health.body.store.kind, 'redis');
  });

  it('keeps serving when Redis goes away, reports degraded, and catches up when it returns', async () => {
    await redis.stop();
    await eventually(async () => {
      const health = await b.api('GET', '/health', undefined, null);
      assert.equal(health.status, 503);
      assert.equal(health.body.status, 'degraded');
      const dataPlane = await fetchText(`${b.origin}/_switchyard/health`);
      assert.equal(JSON.parse(dataPlane.body).store, 'degraded');
    });
    const metrics = await fetchText(`${b.admin}/metrics`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    assert.match(metrics.body, /^switchyard_store_connected 0$/m);
    assert.equal(await body(a), 'two', 'a serves its last table');
    assert.equal(await body(b), 'two', 'b serves its last table');
    const write = await a.api('POST', '/v1/projects/shop/rollback');
    assert.equal(write.status, 503, 'writes fail fast while the store is away');
    assert.match(write.body.detail, /state store is unreachable/);
    assert.equal(write.body.code, 'SY_STORE_UNAVAILABLE');
    assert.equal(write.headers['retry-after'], '1');
    // Tokens and purges go through the control plane too: 503, never a 500.
    for (const [path, input] of [
      ['/v1/tokens', { name: 'ci', scope: 'deploy' }],
      ['/v1/cache/purge', { project: 'shop' }],
    ] as const) {
      const refused = await a.api('POST', path, input);
      assert.equal(refused.status, 503, path);
      assert.equal(refused.body.code, 'SY_STORE_UNAVAILABLE', path);
    }

    await redis.start();
    await eventually(async () => {
      const health = await a.api('GET', '/health', undefined, null);
      assert.equal(health.body.status, 'ok');
    }, 10_000);
    await deployUpstream(a, 'shop', [v3.url], { id: 'd3', create: false });
    await a.api('POST', '/v1/projects/shop/promote', { deployment: 'd3' });
    await eventually(async () => assert.equal(await body(b), 'three'), 10_000);
    await eventually(async () => {
      const health = await b.api('GET', '/health', undefined, null);
      assert.equal(health.body.status, 'ok');
    }, 10_000);
  });

  it('carries a cache purge made on one instance to the other', async () => {
    let n = 0;
    const cached = await startUpstream((_req, res) => {
      n++;
      res.setHeader('cache-control', 'max-age=600');
      res.end(`copy ${n}`);
    });
    try {
      await deployUpstream(a, 'cached', [cached.url]);
      const onB = async () => (await fetchText(`${b.origin}/cached/page`)).body;
      await eventually(async () => assert.equal(await onB(), 'copy 1'));
      assert.equal(await onB(), 'copy 1', 'B serves its stored copy');
      const purged = await a.api('POST', '/v1/cache/purge', { project: 'cached' });
      assert.equal(purged.status, 202);
      await eventually(async () => assert.equal(await onB(), 'copy 2'), 2000);
    } finally {
      await cached.close();
    }
  });

  it('delivers a status reported to one instance to event streams on the other', async () => {
    await a.api('POST', '/v1/projects/shop/deployments', { id: 'd4' });
    await eventually(async () =>
      assert.equal((await b.api('GET', '/v1/projects/shop/deployments/d4')).status, 200),
    );
    const events: string[] = [];
    const controller = new AbortController();
    const res = await fetch(`${b.admin}/v1/projects/shop/deployments/d4/events`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789', accept: 'text/event-stream' },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const reading = (async () => {
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += decoder.decode(value);
        for (const m of text.matchAll(/event: status\ndata: (.*)\n/g)) events.push(m[1]!);
        text = text.slice(text.lastIndexOf('\n\n') + 2);
        if (events.some((e) => e.includes('building'))) return;
      }
    })();
    await a.api('POST', '/v1/projects/shop/deployments/d4/status', { status: 'building' });
    await Promise.race([
      reading,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no event: ${events.join()}`)), 3000),
      ),
    ]);
    controller.abort();
    assert.ok(events.some((e) => JSON.parse(e).status === 'building'));
  });
});
