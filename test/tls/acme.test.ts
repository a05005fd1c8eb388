import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { startEdge, type TestEdge, deployUpstream } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { preparePebble, type TestPebble } from '../support/pebble.js';
import { h1, h2 } from '../support/tls-client.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Orders Pebble accepted (a retried request after a bad nonce is not a second order). */
const orders = (pebble: TestPebble) => (pebble.log().match(/Added order "/g) ?? []).length;

describe('ACME certificates for verified custom domains (Pebble)', needsBinary('pebble'), () => {
  let pebble: TestPebble;
  let edge: TestEdge;
  let app: TestUpstream;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('the shop'));
    pebble = await preparePebble();
    edge = await startEdge({
      demo: false,
      https: {
        issuer: 'acme',
        acme: { directory: pebble.directory, caFile: pebble.caFile, email: 'ops@shop.example.com' },
        retryBaseMs: 200,
      },
      domains: { resolvers: [pebble.dns], verifyIntervalMs: 100 },
    });
    await pebble.start(edge.port);
    await deployUpstream(edge, 'shop', [app.url]);
  });
  after(async () => {
    await edge.close();
    await pebble.close();
    await app.close();
  });

  it('verifies a domain by its TXT record, orders its certificate, and serves it over HTTP/2 and HTTP/1.1', async () => {
    const attached = await edge.api('POST', '/v1/projects/shop/domains', {
      domain: 'shop.example.com',
    });
    assert.equal(attached.status, 201);
    // Resolves once this instance has decided about the name (here: not eligible).
    await edge.instance.control.tls!.manager.ensure('shop.example.com');
    assert.equal(orders(pebble), 0, 'no order before the domain is verified');
    await pebble.setTxt('_switchyard.shop.example.com', attached.body.verificationToken);
    await eventually(async () => {
      const domains = await edge.api('GET', '/v1/projects/shop/domains');
      assert.equal(
        domains.body.items[0].verified,
        true,
        JSON.stringify(domains.body) + JSON.stringify(edge.logs.slice(-5)),
      );
    }, 10_000);
    const certificate = await eventually(async () => {
      const listed = await edge.api('GET', '/v1/certificates');
      const found = listed.body.items.find(
        (c: { name: string; issuer: string }) => c.name === 'shop.example.com',
      );
      assert.ok(found?.notAfter, JSON.stringify(listed.body));
      return found as { issuer: string };
    }, 20_000);
    assert.equal(certificate.issuer, 'acme');
    assert.equal(orders(pebble), 1);
    const root = await pebble.root();
    const port = edge.instance.sy.httpsPort!;
    for (const request of [h2, h1]) {
      const res = await request(port, 'shop.example.com', '/', root);
      assert.deepEqual([res.status, res.body], [200, 'the shop']);
    }
  });

  it('orders nothing for an unverified domain or a random name', async () => {
    const before = orders(pebble);
    await edge.api('POST', '/v1/projects/shop/domains', { domain: 'unproved.example.com' });
    const root = await pebble.root();
    const port = edge.instance.sy.httpsPort!;
    for (const name of ['unproved.example.com', 'random-name.example.org']) {
      await assert.rejects(h1(port, name, '/', root), 'no valid certificate for it');
      await edge.instance.control.tls!.manager.ensure(name); // the decision is made
    }
    assert.equal(orders(pebble), before);
    const listed = await edge.api('GET', '/v1/certificates');
    assert.ok(!listed.body.items.some((c: { name: string }) => c.name !== 'shop.example.com'));
  });

  it('renews when asked and keeps serving the old certificate until the new one lands', async () => {
    const before = orders(pebble);
    const first = (await edge.api('GET', '/v1/certificates')).body.items[0].notAfter as string;
    await edge.instance.control.tls!.manager.ensure('shop.example.com', true);
    assert.equal(orders(pebble), before + 1);
    const listed = await edge.api('GET', '/v1/certificates');
    const renewed = listed.body.items.find((c: { name: string }) => c.name === 'shop.example.com');
    assert.ok(renewed.notAfter >= first);
    const res = await h1(edge.instance.sy.httpsPort!, 'shop.example.com', '/', await pebble.root());
    assert.deepEqual([res.status, res.body], [200, 'the shop']);
  });
});
