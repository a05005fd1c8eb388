import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { needsBinaries } from '../support/binaries.js';
import { sharedKeyFile } from '../support/secret-key.js';
import { startEdge, type TestEdge, deployUpstream } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { preparePebble, type TestPebble } from '../support/pebble.js';
import { h1 } from '../support/tls-client.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Orders Pebble accepted (a retried request after a bad nonce is not a second order). */
const orders = (pebble: TestPebble) => (pebble.log().match(/Added order "/g) ?? []).length;

describe('certificates in a fleet (Redis, Pebble)', needsBinaries('pebble', 'redis-server'), () => {
  let redis: TestRedis;
  let pebble: TestPebble;
  let a: TestEdge;
  let b: TestEdge;
  let app: TestUpstream;
  before(async () => {
    redis = await startRedis();
    app = await startUpstream((_req, res) => res.end('fleet shop'));
    pebble = await preparePebble();
    // Every instance of a fleet seals with the same key (docs/security.md).
    const keyFile = sharedKeyFile();
    const raw = {
      demo: false,
      store: redis.storeUrl,
      secrets: { keyFile },
      https: { issuer: 'acme', acme: { directory: pebble.directory, caFile: pebble.caFile } },
      domains: { resolvers: [pebble.dns], verifyIntervalMs: 100 },
    };
    a = await startEdge(raw);
    b = await startEdge(raw);
    // Pebble validates HTTP-01 against B, whichever instance orders: the token is in the store.
    // A nonce rejected now and then (RFC 8555 §6.5: badNonce) is retried by the client.
    await pebble.start(b.port, { PEBBLE_WFE_NONCEREJECT: '30' });
  });
  after(async () => {
    await a.close();
    await b.close();
    await pebble.close();
    await redis.close();
    await app.close();
  });

  it('answers an ACME challenge stored by another instance', async () => {
    await a.instance.control.store.commit([
      {
        kind: 'challenge',
        key: 'tok-123_abc',
        value: {
          token: 'tok-123_abc',
          keyAuthorization: 'tok-123_abc.thumbprint',
          name: 'x',
          createdAt: '',
        },
      },
    ]);
    await eventually(async () => {
      const res = await fetchText(`${b.origin}/.well-known/acme-challenge/tok-123_abc`, {
        headers: { host: 'anything.example.com' },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'tok-123_abc.thumbprint');
    });
  });

  it('orders one certificate for a name and every instance serves it', async () => {
    await deployUpstream(a, 'shop', [app.url]);
    const attached = await a.api('POST', '/v1/projects/shop/domains', {
      domain: 'fleet.example.com',
    });
    await pebble.setTxt('_switchyard.fleet.example.com', attached.body.verificationToken);
    const root = await pebble.root();
    for (const edge of [a, b]) {
      await eventually(async () => {
        assert.equal(
          (await h1(edge.instance.sy.httpsPort!, 'fleet.example.com', '/', root)).body,
          'fleet shop',
        );
      }, 20_000);
    }
    assert.equal(orders(pebble), 1, 'one order for the whole fleet');
  });
});
