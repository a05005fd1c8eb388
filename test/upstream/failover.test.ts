/**
 * The README tour's promise: with one of two replicas refusing connections, clients never
 * notice — a refused connection never reached the app, so it goes to the other replica
 * whatever the retry budget says. Against the built executable, from a fresh start.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { closedPort, startUpstream, type TestUpstream } from '../support/upstream.js';

describe('failover past a replica that refuses connections', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  before(async () => {
    app = await startUpstream((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => res.end(`app saw ${req.method} ${req.url} ${body}`));
    });
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const file = join(mkdtempSync(join(tmpdir(), 'sy-failover-')), 'switchyard.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1 }\nprojects:\n  - slug: api\n    deployments:\n      - id: v1\n        upstream: { replicas: ["${app.url}", "${dead}"] }\n`,
    );
    sy = await spawnSwitchyard(['--config', file]);
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  const call = async (method: string, body?: string) => {
    const res = await request(`http://127.0.0.1:${sy.port}/api/users?id=7`, {
      method,
      headers: { host: 'localhost' },
      ...(body === undefined ? {} : { body }),
    });
    return { status: res.statusCode, body: await res.body.text() };
  };

  it('fails over requests with a body (nothing was sent to the refusing replica), on a fresh start', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => call('POST', `n=${i}`)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      assert.equal(r.body, `app saw POST /users?id=7 n=${i}`);
    }
  });

  it('answers every rapid request, one after another and at once', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await call('GET')).status);
    const together = await Promise.all(Array.from({ length: 24 }, () => call('GET')));
    statuses.push(...together.map((r) => r.status));
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
      `statuses: ${statuses.join(' ')}`,
    );
  });
});
