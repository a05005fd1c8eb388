/**
 * A tenant reaches only what is theirs — each attack tried against the built executable
 * (embedded store): a deploy token acting on another project, a replica aimed at an internal
 * address, build logs read from the public building page, a data directory others can read.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { eventually } from '../support/eventually.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('tenant isolation (the built executable)', () => {
  let sy: RunningSwitchyard;
  let app: TestUpstream;
  let admin: string;
  let adminPort: number;
  let adminToken: string;
  let dataDir: string;
  let tenant: string;

  const api = async (method: string, path: string, body?: unknown, token = adminToken) => {
    const res = await request(`${admin}${path}`, {
      method: method as 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) };
  };

  before(async () => {
    app = await startUpstream((_req, res) => res.end('app'));
    // An install from before: a data directory others may read.
    dataDir = mkdtempSync(join(tmpdir(), 'sy-tenancy-'));
    chmodSync(dataDir, 0o755);
    sy = await spawnSwitchyard([], { SWITCHYARD_DATA_DIR: dataDir });
    const m = /admin API on (http:\/\/[^/\s]+)\//.exec(sy.stderr());
    assert.ok(m, sy.stderr());
    admin = m[1]!;
    adminPort = Number(new URL(admin).port);
    adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    for (const slug of ['mine', 'victim']) {
      assert.equal((await api('POST', '/v1/projects', { slug })).status, 201);
      const d = await api('POST', `/v1/projects/${slug}/deployments`, {
        id: 'd1',
        status: 'ready',
        origin: { upstream: { replicas: [app.url] } },
      });
      assert.equal(d.status, 201, JSON.stringify(d.body));
    }
    const created = await api('POST', '/v1/tokens', {
      name: 'ci of mine',
      scope: 'deploy',
      projects: ['mine'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.projects, ['mine']);
    tenant = created.body.token as string;
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  it('keeps a project-bound token to its own projects (404 elsewhere, as if absent)', async () => {
    const own = await api('POST', '/v1/projects/mine/deployments', { id: 'd2' }, tenant);
    assert.equal(own.status, 201, JSON.stringify(own.body));
    for (const [method, path, body] of [
      ['POST', '/v1/projects/victim/promote', { deployment: 'd1' }],
      ['POST', '/v1/projects/victim/rollback', undefined],
      ['POST', '/v1/projects/victim/deployments', { id: 'evil' }],
      ['GET', '/v1/projects/victim', undefined],
      ['GET', '/v1/projects/victim/deployments/d1/events', undefined],
      ['GET', '/v1/projects/victim/deployments/d1/logs', undefined],
      ['POST', '/v1/cache/purge', { project: 'victim' }],
      ['POST', '/v1/cache/purge', { tag: 'everything' }],
      ['GET', `/v1/explain?url=${encodeURIComponent('http://victim.localhost/')}`, undefined],
    ] as const) {
      const res = await api(method, path, body, tenant);
      assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'SY_RESOURCE_NOT_FOUND');
    }
    const listed = await api('GET', '/v1/projects', undefined, tenant);
    assert.deepEqual(
      listed.body.items.map((p: { slug: string }) => p.slug),
      ['mine'],
    );
    for (const path of ['/v1/tokens', '/v1/certificates', '/metrics']) {
      assert.equal((await api('GET', path, undefined, tenant)).status, 403, path);
    }
  });

  it('audits every write with its token, including refused ones', async () => {
    const mine = await api('GET', '/v1/audit?project=mine');
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    const deploy = mine.body.items.find(
      (e: { action: string }) => e.action === 'POST /v1/projects/:project/deployments',
    );
    assert.ok(deploy, JSON.stringify(mine.body.items));
    const byTenant = mine.body.items.filter(
      (e: { token: { name: string } }) => e.token.name === 'ci of mine',
    );
    assert.ok(byTenant.some((e: { result: number }) => e.result === 201));
    assert.ok(!JSON.stringify(mine.body).includes(tenant), 'never the secret');
    const victim = await api('GET', '/v1/audit?project=victim');
    assert.ok(
      victim.body.items.some(
        (e: { token: { name: string }; action: string; result: number }) =>
          e.token.name === 'ci of mine' &&
          e.action === 'POST /v1/projects/:project/promote' &&
          e.result === 404,
      ),
      'the refused attempt on another project is on that project’s trail',
    );
    // A bound token reads its own trail, not another's.
    assert.equal((await api('GET', '/v1/audit?project=mine', undefined, tenant)).status, 200);
    assert.equal((await api('GET', '/v1/audit?project=victim', undefined, tenant)).status, 404);
    assert.match(sy.stdout(), /"kind":"audit"/);
  });

  it('refuses an expired token (401)', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const short = await api('POST', '/v1/tokens', { name: 'short', scope: 'read', expiresAt });
    assert.equal(short.status, 201, JSON.stringify(short.body));
    const token = short.body.token as string;
    assert.equal((await api('GET', '/v1/projects/mine', undefined, token)).status, 200);
    await eventually(async () => {
      assert.equal((await api('GET', '/v1/projects/mine', undefined, token)).status, 401);
    }, 5000);
  });

  it('refuses tenant replicas aimed at internal addresses; the operator’s admin token may', async () => {
    for (const [i, replica] of [
      `http://127.0.0.1:${adminPort}`, // the admin API itself
      'http://169.254.169.254', // cloud metadata
      `http://localhost:${sy.port}`, // a name that resolves to loopback
      'http://[::1]:6379',
      'http://0.0.0.0:80',
    ].entries()) {
      const res = await api(
        'POST',
        '/v1/projects/mine/deployments',
        { id: `bad${i}`, status: 'ready', origin: { upstream: { replicas: [replica] } } },
        tenant,
      );
      assert.equal(res.status, 400, `${replica}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.field, '/origin/upstream/replicas/0');
    }
    // A private address is where containers live: allowed.
    const ok = await api(
      'POST',
      '/v1/projects/mine/deployments',
      {
        id: 'private',
        status: 'ready',
        origin: { upstream: { replicas: ['http://10.9.8.7:3000'] } },
      },
      tenant,
    );
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const trusted = await api('POST', '/v1/projects/victim/deployments', {
      id: 'local',
      status: 'ready',
      origin: { upstream: { replicas: [app.url] } },
    });
    assert.equal(trusted.status, 201, 'the operator may point at loopback');
  });

  it('never shows build logs on the public building page unless the project opts in', async () => {
    await api('POST', '/v1/projects/mine/deployments', { id: 'b1' }, tenant);
    await api('POST', '/v1/projects/mine/deployments/b1/status', { status: 'building' }, tenant);
    await api(
      'POST',
      '/v1/projects/mine/deployments/b1/logs',
      { lines: ['export NPM_TOKEN=npm_secret123'] },
      tenant,
    );
    const stream = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: sy.port,
            path: '/',
            headers: { host, accept: 'text/event-stream' },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => {
              text += d;
              if (/event: status[\s\S]*building/.test(text)) {
                setImmediate(() => {
                  req.destroy();
                  resolve(text);
                });
              }
            });
          },
        );
        req.on('error', reject);
        req.setTimeout(3000, () => reject(new Error('no status event')));
        req.end();
      });
    const preview = await stream('b1--mine.localhost');
    assert.match(preview, /building/);
    assert.doesNotMatch(preview, /NPM_TOKEN|npm_secret123/);
    // Logs stay readable through the admin API.
    const logs = await request(`${admin}/v1/projects/mine/deployments/b1/events`, {
      headers: { authorization: `Bearer ${tenant}`, accept: 'text/event-stream' },
    });
    let seen = '';
    for await (const chunk of logs.body) {
      seen += String(chunk);
      if (seen.includes('npm_secret123')) break;
    }
    assert.match(seen, /npm_secret123/);
    await api('PATCH', '/v1/projects/mine', { publicBuildLogs: true });
    await eventually(async () => {
      const shown = await stream('b1--mine.localhost');
      assert.match(shown, /event: log/);
    });
  });

  it('keeps the data directory to its owner (fixed at start, with a warning)', () => {
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    for (const name of ['state.db', 'admin-token']) {
      assert.equal(statSync(join(dataDir, name)).mode & 0o777, 0o600, name);
    }
    assert.match(sy.stdout() + sy.stderr(), /modes were tightened/);
  });
});
