import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { preparePebble, type TestPebble } from '../support/pebble.js';
import { h1, h2 } from '../support/tls-client.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const ZONE = 'apps.example.com';
/** Orders Pebble accepted. */
const orders = (pebble: TestPebble) => (pebble.log().match(/Added order "/g) ?? []).length;

describe(
  'A wildcard certificate for the platform domain, proved by DNS-01 through Switchyard’s DNS (Pebble)',
  needsBinary('pebble'),
  () => {
    let pebble: TestPebble;
    let edge: TestEdge;
    let app: TestUpstream;
    before(async () => {
      app = await startUpstream((req, res) => res.end(`app at ${req.headers.host}`));
      pebble = await preparePebble();
      edge = await startEdge({
        demo: false,
        platform: { domains: [ZONE] },
        dns: { enabled: true, host: '127.0.0.1', port: 0, addresses: ['127.0.0.1'] },
        https: {
          issuer: 'acme',
          wildcard: true,
          acme: { directory: pebble.directory, caFile: pebble.caFile },
          retryBaseMs: 200,
        },
      });
      // Pebble resolves every name, and looks up `_acme-challenge` TXT records, at our DNS.
      await pebble.start(edge.port, {}, `127.0.0.1:${edge.instance.control.dns!.port}`);
      await deployUpstream(edge, 'shop', [app.url]);
    });
    after(async () => {
      await edge.close();
      await pebble.close();
      await app.close();
    });

    it('orders one certificate for the domain and *.domain, and serves every project and preview host from it', async () => {
      const certificate = await eventually(async () => {
        const listed = await edge.api('GET', '/v1/certificates');
        const found = listed.body.items.find((c: { name: string }) => c.name === `*.${ZONE}`);
        assert.ok(found?.notAfter, JSON.stringify(listed.body) + pebble.log().slice(-2000));
        return found as { names: string[]; issuer: string };
      }, 30_000);
      assert.deepEqual(certificate.names, [`*.${ZONE}`, ZONE]);
      assert.equal(certificate.issuer, 'acme');
      // A wildcard name can only be proved by DNS-01 (RFC 8555 §7.1.3): Pebble asked our DNS.
      assert.match(pebble.log(), /set VALID by completed challenge/);

      const root = await pebble.root();
      const port = edge.instance.sy.httpsPort!;
      for (const host of [`shop.${ZONE}`, `d1--shop.${ZONE}`]) {
        for (const request of [h2, h1]) {
          const res = await request(port, host, '/', root);
          assert.deepEqual([res.status, res.body], [200, `app at ${host}`]);
          const served = new X509Certificate(res.cert.raw);
          assert.match(
            served.subjectAltName ?? '',
            new RegExp(`DNS:\\*\\.${ZONE.replace(/\./g, '\\.')}`),
          );
        }
      }
      // A new project later needs no order of its own.
      const before = orders(pebble);
      await deployUpstream(edge, 'blog', [app.url]);
      const res = await h1(port, `blog.${ZONE}`, '/', root);
      assert.equal(res.status, 200);
      await edge.instance.control.tls!.manager.ensure(`blog.${ZONE}`);
      assert.equal(orders(pebble), before, 'no per-name order');
      const listed = await edge.api('GET', '/v1/certificates');
      assert.equal(listed.body.items.length, 1, JSON.stringify(listed.body));
    });

    it('leaves no challenge record behind, and renews through DNS-01 as well', async () => {
      await eventually(async () => {
        const left = await edge.instance.control.store.list('challenge');
        assert.deepEqual(left, []);
      }, 5000);
      const before = orders(pebble);
      await edge.instance.control.tls!.manager.ensure(`*.${ZONE}`, true);
      assert.equal(orders(pebble), before + 1);
      const listed = await edge.api('GET', '/v1/certificates');
      const renewed = listed.body.items.find((c: { name: string }) => c.name === `*.${ZONE}`);
      assert.equal(renewed.order.state, 'ok');
    });
  },
);
