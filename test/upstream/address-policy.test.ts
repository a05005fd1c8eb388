/**
 * The address policy for tenants' replicas (src/net/address-policy.ts): the rules, and the
 * check on every connect to the resolved address (a name that resolves to loopback later —
 * DNS rebinding — never reaches it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressPolicy } from '../../src/net/address-policy.js';
import { fetchText } from '../support/http.js';
import { startSwitchyard } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

const policy = (over: Partial<ConstructorParameters<typeof AddressPolicy>[0]> = {}) =>
  new AddressPolicy({ allowedNetworks: [], deniedNetworks: [], self: () => [], ...over });

describe('address policy', () => {
  it('refuses loopback, link-local, unspecified and multicast; allows private ranges', () => {
    const p = policy();
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '::1',
      '::ffff:127.0.0.1',
      '169.254.169.254',
      'fe80::1',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      'ff02::1',
    ]) {
      assert.ok(p.refusal(address, 80), `${address} refused`);
    }
    for (const address of ['10.0.0.5', '172.16.3.4', '192.168.1.10', 'fd00::5', '203.0.113.9']) {
      assert.equal(p.refusal(address, 80), undefined, `${address} allowed`);
    }
  });

  it('lets the operator widen and narrow it; its own listeners are never allowed', () => {
    const p = policy({
      allowedNetworks: ['127.0.0.0/8'],
      deniedNetworks: ['10.1.0.0/16'],
      self: () => [{ host: '127.0.0.1', port: 8081 }],
    });
    assert.equal(p.refusal('127.0.0.1', 3000), undefined, 'allowed by the operator');
    assert.ok(p.refusal('127.0.0.1', 8081), 'the admin listener stays refused');
    assert.ok(p.refusal('10.1.2.3', 80), 'denied by the operator');
    assert.equal(p.refusal('10.2.0.1', 80), undefined);
  });

  it('resolves names at submission and refuses when the name resolves to a refused address', async () => {
    const p = policy();
    assert.match((await p.checkUrl('http://localhost:3000'))!, /127\.0\.0\.1|::1/);
    assert.match((await p.checkUrl('http://no-such-host.invalid'))!, /could not be resolved/);
    assert.equal(await p.checkUrl('http://10.0.0.7:8080'), undefined);
  });

  it('checks every connection of a tenant’s replica on the resolved address', async () => {
    const app = await startUpstream((_req, res) => res.end('internal'));
    const port = new URL(app.url).port;
    const sy = await startSwitchyard({ demo: false });
    try {
      const spec = (checked: boolean) => ({
        slug: checked ? 'tenant' : 'operator',
        production: 'd1',
        aliases: {},
        domains: [],
        rootPaths: [],
        httpsRedirect: false,
        deployments: [
          {
            id: 'd1',
            status: 'ready' as const,
            // A name that resolved to a private address when it was submitted, and to
            // loopback now.
            origin: { kind: 'upstream' as const, replicas: [`http://localhost:${port}`], checked },
          },
        ],
      });
      sy.sy.setStoreProjects([spec(true), spec(false)]);
      const tenant = await fetchText(`${sy.origin}/tenant/`);
      assert.equal(tenant.status, 502, tenant.body);
      assert.equal(app.requests.length, 0, 'nothing reached the internal address');
      const operator = await fetchText(`${sy.origin}/operator/`);
      assert.equal(operator.body, 'internal', 'the operator’s own replicas are not checked');
    } finally {
      await sy.close();
      await app.close();
    }
  });
});
