/**
 * Limits on a client's connection, against the built executable on raw sockets: a head that
 * trickles in is answered 408 and closed within about a second of `limits.headersTimeoutMs`
 * (Node checks every 30 s by default), and a connection carries at most
 * `limits.maxRequestsPerConnection` requests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { rawRequest } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('connection limits (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('ok'));
    const file = join(mkdtempSync(join(tmpdir(), 'sy-limits-')), 'switchyard.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1 }\nlimits: { headersTimeoutMs: 500, maxRequestsPerConnection: 2 }\nprojects:\n  - slug: api\n    deployments:\n      - id: v1\n        upstream: { replicas: ["${app.url}"] }\n`,
    );
    sy = await spawnSwitchyard(['--config', file]);
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  it('answers a head that never ends with 408 and closes, within a second of the limit', async () => {
    const started = Date.now();
    const { data, ms } = await new Promise<{ data: string; ms: number }>((resolve) => {
      const socket = connect(sy.port, '127.0.0.1', () => {
        socket.write('GET / HTTP/1.1\r\nHost: api.localhost\r\n'); // …and nothing more
      });
      let data = '';
      socket.setEncoding('latin1').on('data', (d: string) => (data += d));
      socket.on('close', () => resolve({ data, ms: Date.now() - started }));
    });
    assert.match(data, /^HTTP\/1\.1 408 /);
    assert.ok(ms >= 450 && ms < 2000, `closed after ${ms} ms`);
  });

  it('closes a connection after its last allowed request', async () => {
    const before = app.requests.length;
    const raw = await rawRequest(
      sy.port,
      'GET /x HTTP/1.1\r\nHost: api.localhost\r\n\r\n'.repeat(3),
      500,
    );
    const answers = raw.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    // The second answer says the connection closes; a request pipelined past the limit
    // gets Node's 503 and never reaches the app.
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 503'], raw);
    assert.match(raw.split('HTTP/1.1 200')[2] ?? '', /Connection: close/);
    assert.equal(app.requests.length - before, 2);
  });
});
