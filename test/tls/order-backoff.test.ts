import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, startEdge, type TestEdge } from '../support/edge.js';
import { fetchText } from '../support/http.js';
import { eventually } from '../support/eventually.js';
import { closedPort } from '../support/upstream.js';

/** A handshake with this SNI (the certificate itself does not matter here). */
function hello(port: number, servername: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      s.end();
      resolve();
    });
    s.on('error', () => resolve());
  });
}

interface Order {
  failures: number;
  lastError: string;
  nextAttemptAt: string;
  recent: string[];
}

describe('certificate orders that fail', () => {
  let edge: TestEdge;
  before(async () => {
    const dead = await closedPort();
    edge = await startEdge({
      demo: false,
      platform: { domains: ['apps.example.net'] },
      https: {
        issuer: 'acme',
        acme: { directory: `https://127.0.0.1:${dead}/dir`, retries: 0 },
        retryBaseMs: 300,
        ordersPerProjectPerHour: 3,
      },
    });
    await edge.api('POST', '/v1/projects', { slug: 'shop' });
  });
  after(() => edge.close());

  const order = async (name: string): Promise<Order | undefined> => {
    const listed = await edge.api('GET', '/v1/certificates');
    return listed.body.items.find((c: { name: string }) => c.name === name)?.order as
      Order | undefined;
  };

  it('are visible, back off exponentially, and stop at the project’s hourly budget', async () => {
    const port = edge.instance.sy.httpsPort!;
    await eventually(async () => {
      await hello(port, 'shop.apps.example.net');
      assert.equal((await order('shop.apps.example.net'))?.failures, 1);
    });
    const first = (await order('shop.apps.example.net'))!;
    assert.match(
      first.lastError,
      /^ACME order for shop\.apps\.example\.net at https:\/\/127\.0\.0\.1:\d+\/dir failed: the ACME server could not be reached$/,
    );
    const wait1 = Date.parse(first.nextAttemptAt) - Date.parse(first.recent.at(-1)!);
    await hello(port, 'shop.apps.example.net'); // inside the back-off: no new attempt
    assert.equal((await order('shop.apps.example.net'))?.failures, 1);
    await eventually(async () => {
      await hello(port, 'shop.apps.example.net');
      assert.equal((await order('shop.apps.example.net'))?.failures, 2);
    }, 5000);
    const second = (await order('shop.apps.example.net'))!;
    const wait2 = Date.parse(second.nextAttemptAt) - Date.parse(second.recent.at(-1)!);
    assert.ok(wait2 > wait1 * 1.5, `the back-off grows: ${wait1} ms then ${wait2} ms`);
    assert.ok(edge.logs.some((l) => l.msg === 'certificate order failed'));
    const metrics = await fetchText(`${edge.admin}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.match(metrics.body, /^switchyard_certificate_orders_failing 1$/m);

    // Three orders an hour for the project: a third name gets one, a fourth none.
    await hello(port, 'd1--shop.apps.example.net'); // not routed (no deployment d1): no order
    assert.equal(await order('d1--shop.apps.example.net'), undefined);
    await edge.api('POST', '/v1/projects/shop/deployments', { id: 'd1' });
    await edge.api('POST', '/v1/projects/shop/deployments', { id: 'd2' });
    await eventually(async () => {
      await hello(port, 'd1--shop.apps.example.net');
      assert.equal((await order('d1--shop.apps.example.net'))?.failures, 1);
    });
    await hello(port, 'd2--shop.apps.example.net');
    await edge.instance.control.tls!.manager.ensure('d2--shop.apps.example.net'); // decided
    assert.equal(await order('d2--shop.apps.example.net'), undefined, 'the budget is spent');
  });
});
