import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { LOG } from '../../src/observability/log-fields.js';
import { fetchText } from '../support/http.js';
import { startSwitchyard, upstreamProject } from '../support/switchyard.js';
import { startUpstream } from '../support/upstream.js';

describe('access log', () => {
  it('writes one JSON line per request with the documented fields', async () => {
    const app = await startUpstream((_req, res) => res.end('hello world'));
    const sy = await startSwitchyard({ projects: [upstreamProject('api', [app.url])] });
    try {
      const res = await fetchText(`${sy.origin}/api/path?q=1`, { method: 'POST', body: 'x' });
      await fetchText(`${sy.origin}/nobody/`);
      // Each line is written when its response closes: wait for both.
      const lines = await eventually(() => {
        const found = sy.logs.filter((l) => l.kind === 'access');
        assert.equal(found.length, 2);
        return found;
      });
      const [ok, missing] = lines as [Record<string, unknown>, Record<string, unknown>];
      assert.equal(ok[LOG.requestId], res.headers['x-request-id']);
      assert.equal(ok[LOG.method], 'POST');
      assert.equal(ok[LOG.host], '127.0.0.1');
      assert.equal(ok[LOG.path], '/api/path?q=1');
      assert.equal(ok[LOG.status], 200);
      assert.ok((ok[LOG.bytes] as number) > 'hello world'.length, 'bytes written, head included');
      assert.equal(typeof ok[LOG.durationMs], 'number');
      assert.equal(ok[LOG.clientIp], '127.0.0.1');
      assert.equal(ok[LOG.project], 'api');
      assert.equal(ok[LOG.deployment], 'd1');
      assert.equal(ok[LOG.upstream], app.url);
      assert.equal(typeof ok.time, 'number');
      assert.equal(missing[LOG.status], 404);
      assert.equal(missing[LOG.error], 'SY_UNKNOWN_PROJECT');
    } finally {
      await sy.close();
      await app.close();
    }
  });

  it('can be turned off', async () => {
    const sy = await startSwitchyard({ log: { access: false }, demo: true });
    try {
      await fetchText(`${sy.origin}/hello/`);
      assert.equal(sy.logs.filter((l) => l.kind === 'access').length, 0);
    } finally {
      await sy.close();
    }
  });
});
