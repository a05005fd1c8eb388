import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { preparePebble, type TestPebble } from '../support/pebble.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

function getH1(
  port: number,
  servername: string,
  ca: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername,
        ca,
        headers: { host: servername },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function getH2(
  port: number,
  servername: string,
  ca: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca, servername });
    session.on('error', reject);
    const stream = session.request({ ':path': '/', ':authority': servername });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.setEncoding('utf8').on('data', (d: string) => (body += d));
    stream.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    stream.on('error', reject);
  });
}

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
    await edge.api('POST', '/v1/projects', { slug: 'shop' });
    await edge.api('POST', '/v1/projects/shop/deployments', {
      id: 'd1',
      status: 'ready',
      origin: { upstream: { replicas: [app.url] } },
    });
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
    await new Promise((r) => setTimeout(r, 300));
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
    const two = await getH2(port, 'shop.example.com', root);
    assert.deepEqual(two, { status: 200, body: 'the shop' });
    const one = await getH1(port, 'shop.example.com', root);
    assert.deepEqual(one, { status: 200, body: 'the shop' });
  });

  it('orders nothing for an unverified domain or a random name', async () => {
    const before = orders(pebble);
    await edge.api('POST', '/v1/projects/shop/domains', { domain: 'unproved.example.com' });
    const root = await pebble.root();
    const port = edge.instance.sy.httpsPort!;
    for (const name of ['unproved.example.com', 'random-name.example.org']) {
      await assert.rejects(getH1(port, name, root), 'no valid certificate for it');
    }
    await new Promise((r) => setTimeout(r, 500));
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
    assert.deepEqual(
      await getH1(edge.instance.sy.httpsPort!, 'shop.example.com', await pebble.root()),
      {
        status: 200,
        body: 'the shop',
      },
    );
  });
});
