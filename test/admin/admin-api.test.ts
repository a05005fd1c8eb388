import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('admin API', () => {
  let edge: TestEdge;
  let v1: TestUpstream;
  let v2: TestUpstream;
  before(async () => {
    v1 = await startUpstream((_req, res) => res.end('version one'));
    v2 = await startUpstream((_req, res) => res.end('version two'));
    edge = await startEdge({
      demo: false,
      projects: [
        { slug: 'fromfile', deployments: [{ id: 'd1', upstream: { replicas: [v1.url] } }] },
      ],
    });
  });
  after(async () => {
    await edge.close();
    await v1.close();
    await v2.close();
  });

  const page = (path: string, host = '127.0.0.1') =>
    fetchText(`${edge.origin}${path}`, { headers: { host } });

  describe('authentication', () => {
    it('refuses requests without a valid bearer token with 401 and no detail', async () => {
      for (const token of [null, 'wrong-token', '']) {
        const res = await edge.api('GET', '/v1/projects', undefined, token);
        assert.equal(res.status, 401);
        assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
        assert.equal(res.body.detail, 'a valid bearer token is required');
      }
    });

    it('serves health and the OpenAPI document without a token', async () => {
      const health = await edge.api('GET', '/health', undefined, null);
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'ok');
      assert.equal(health.body.store.kind, 'embedded');
      const doc = await edge.api('GET', '/openapi.json', undefined, null);
      assert.equal(doc.status, 200);
      assert.match(doc.body.openapi, /^3\./);
      assert.ok(doc.body.paths['/v1/projects/{project}/deployments']);
      assert.ok(doc.body.paths['/v1/projects/{project}/promote']);
    });

    it('serves Prometheus metrics to admin tokens only', async () => {
      await fetchText(`${edge.origin}/fromfile/`);
      const res = await fetchText(`${edge.admin}/metrics`, {
        headers: { authorization: 'Bearer test-admin-token-0123456789' },
      });
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.match(res.body, /^switchyard_http_requests_total\{status_class="2xx"\} [1-9]\d*$/m);
      assert.match(res.body, /^switchyard_store_connected 1$/m);
      assert.match(
        res.body,
        /^switchyard_http_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m,
      );
      // A histogram as Prometheus reads it: cumulative buckets, +Inf equal to the count.
      const buckets = [
        ...res.body.matchAll(
          /^switchyard_http_request_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm,
        ),
      ].map((m) => [m[1], Number(m[2])] as const);
      assert.deepEqual(
        buckets.map(([le]) => le),
        ['0.001', '0.005', '0.025', '0.1', '0.25', '1', '2.5', '10', '+Inf'],
      );
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]![1] >= buckets[i - 1]![1]);
      const count = /^switchyard_http_request_duration_seconds_count (\d+)$/m.exec(res.body);
      assert.equal(Number(count?.[1]), buckets.at(-1)![1]);
      assert.match(res.body, /^switchyard_http_request_duration_seconds_sum \d/m);
      assert.equal((await fetchText(`${edge.admin}/metrics`)).status, 401);
    });

    it('scopes tokens: a deploy token deploys but cannot manage domains or tokens', async () => {
      const created = await edge.api('POST', '/v1/tokens', { name: 'ci', scope: 'deploy' });
      assert.equal(created.status, 201);
      const token = created.body.token as string;
      const listed = await edge.api('GET', '/v1/tokens');
      assert.ok(listed.body.items.some((t: { id: string }) => t.id === created.body.id));
      assert.doesNotMatch(
        JSON.stringify(listed.body),
        new RegExp(token),
        'secrets are never listed',
      );
      await edge.api('POST', '/v1/projects', { slug: 'scoped' });
      await eventually(async () => {
        const res = await edge.api('POST', '/v1/projects/scoped/deployments', { id: 'd1' }, token);
        assert.equal(res.status, 201);
      });
      const status = await edge.api(
        'POST',
        '/v1/projects/scoped/deployments/d1/status',
        { status: 'building' },
        token,
      );
      assert.equal(status.status, 200);
      const domain = await edge.api(
        'POST',
        '/v1/projects/scoped/domains',
        { domain: 'scoped.example' },
        token,
      );
      assert.equal(domain.status, 403);
      assert.equal(
        (await edge.api('POST', '/v1/tokens', { name: 'x', scope: 'admin' }, token)).status,
        403,
      );
      assert.equal((await edge.api('POST', '/v1/projects', { slug: 'nope' }, token)).status, 403);
      await edge.api('DELETE', `/v1/tokens/${created.body.id as string}`);
      await eventually(async () => {
        assert.equal((await edge.api('GET', '/v1/projects', undefined, token)).status, 401);
      });
    });
  });

  describe('projects', () => {
    it('creates a project idempotently and refuses a clash', async () => {
      const first = await edge.api('POST', '/v1/projects', {
        slug: 'usera',
        rootPaths: ['/assets/'],
      });
      assert.equal(first.status, 201);
      assert.equal(first.body.slug, 'usera');
      assert.equal(first.body.production, null);
      const again = await edge.api('POST', '/v1/projects', {
        slug: 'usera',
        rootPaths: ['/assets/'],
      });
      assert.equal(again.status, 200);
      const clash = await edge.api('POST', '/v1/projects', { slug: 'usera' });
      assert.equal(clash.status, 409);
      const declared = await edge.api('POST', '/v1/projects', { slug: 'fromfile' });
      assert.equal(declared.status, 409);
      assert.match(declared.body.detail, /configuration file/);
    });

    it('says which field is wrong', async () => {
      const bad = await edge.api('POST', '/v1/projects', { slug: 'Not A Slug' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.field, '/slug');
      assert.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8');
      // One catalogue for the data plane and the API (src/model/errors.ts).
      assert.equal(bad.body.code, 'SY_INVALID');
      assert.equal(bad.body.type, 'urn:switchyard:error:SY_INVALID');
      const gone = await edge.api('GET', '/v1/projects/no-such-project');
      assert.equal(gone.status, 404);
      assert.equal(gone.body.code, 'SY_RESOURCE_NOT_FOUND');
      const anonymous = await edge.api('GET', '/v1/projects', undefined, null);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.code, 'SY_UNAUTHORIZED');
      const extra = await edge.api('POST', '/v1/projects', { slug: 'ok', colour: 'red' });
      assert.equal(extra.status, 400);
      assert.equal(extra.body.field, '/colour');
      const missing = await edge.api('POST', '/v1/projects', {});
      assert.equal(missing.body.field, '/slug');
      const doubleHyphen = await edge.api('POST', '/v1/projects', { slug: 'a--b' });
      assert.equal(doubleHyphen.status, 400);
      const notJson = await edge.api('GET', '/v1/projects/usera/deployments/Bad_Id');
      assert.equal(notJson.status, 400);
    });

    it('lists projects a page at a time', async () => {
      for (const slug of ['list-a', 'list-b', 'list-c'])
        await edge.api('POST', '/v1/projects', { slug });
      const first = await edge.api('GET', '/v1/projects?limit=2');
      assert.equal(first.body.items.length, 2);
      const seen = first.body.items.map((p: { slug: string }) => p.slug);
      let next = first.body.next as string | undefined;
      while (next !== undefined) {
        const more = await edge.api('GET', `/v1/projects?limit=2&after=${next}`);
        seen.push(...more.body.items.map((p: { slug: string }) => p.slug));
        next = more.body.next;
      }
      assert.deepEqual(seen, [...seen].sort());
      for (const slug of ['list-a', 'list-b', 'list-c', 'usera']) assert.ok(seen.includes(slug));
    });
  });

  describe('deployments and aliases', () => {
    it('runs a deployment through its statuses, refusing illegal transitions', async () => {
      await edge.api('POST', '/v1/projects', { slug: 'app' });
      const created = await edge.api('POST', '/v1/projects/app/deployments', {
        id: 'd1',
        meta: { branch: 'main' },
      });
      assert.equal(created.status, 201);
      assert.equal(created.body.status, 'queued');
      const retried = await edge.api('POST', '/v1/projects/app/deployments', {
        id: 'd1',
        meta: { branch: 'main' },
      });
      assert.equal(retried.status, 200, 'a retried create returns the same deployment');
      const building = await edge.api('POST', '/v1/projects/app/deployments/d1/status', {
        status: 'building',
      });
      assert.equal(building.body.status, 'building');
      await eventually(async () => {
        const res = await page('/app/');
        assert.equal(res.status, 503, 'the only deployment is building');
      });
      const noOrigin = await edge.api('POST', '/v1/projects/app/deployments/d1/status', {
        status: 'ready',
      });
      assert.equal(noOrigin.status, 400);
      assert.equal(noOrigin.body.field, '/origin');
      const logs = await edge.api('POST', '/v1/projects/app/deployments/d1/logs', {
        lines: ['installing', 'building'],
      });
      assert.equal(logs.status, 202);
      const ready = await edge.api('POST', '/v1/projects/app/deployments/d1/status', {
        status: 'ready',
        origin: { upstream: { replicas: [v1.url] } },
      });
      assert.equal(ready.body.status, 'ready');
      const back = await edge.api('POST', '/v1/projects/app/deployments/d1/status', {
        status: 'building',
      });
      assert.equal(back.status, 409);
      assert.match(back.body.detail, /ready: it cannot become building/);
      await eventually(async () => assert.equal((await page('/app/')).body, 'version one'));
      const project = await edge.api('GET', '/v1/projects/app');
      assert.equal(project.body.production, 'd1', 'the first ready deployment became production');
    });

    it('creates once per Idempotency-Key', async () => {
      const send = () =>
        fetch(`${edge.admin}/v1/projects/app/deployments`, {
          method: 'POST',
          headers: {
            authorization: 'Bearer test-admin-token-0123456789',
            'content-type': 'application/json',
            'idempotency-key': 'build-42',
          },
          body: JSON.stringify({}),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id: string } }));
      const first = await send();
      const second = await send();
      assert.equal(first.status, 201);
      assert.equal(second.status, 200);
      assert.equal(second.body.id, first.body.id);
    });

    it('promotes only ready deployments, rolls back, and serves branch aliases', async () => {
      await edge.api('POST', '/v1/projects/app/deployments', { id: 'd2' });
      const early = await edge.api('POST', '/v1/projects/app/promote', { deployment: 'd2' });
      assert.equal(early.status, 409);
      assert.match(early.body.detail, /only a ready deployment/);
      await edge.api('POST', '/v1/projects/app/deployments/d2/status', {
        status: 'ready',
        origin: { upstream: { replicas: [v2.url] } },
      });
      assert.equal(
        (await page('/app/')).body,
        'version one',
        'd2 is not production until promoted',
      );
      const promoted = await edge.api('POST', '/v1/projects/app/promote', { deployment: 'd2' });
      assert.equal(promoted.body.production, 'd2');
      await eventually(async () => assert.equal((await page('/app/')).body, 'version two'));
      assert.equal(
        (await page('/', 'd1--app.localhost')).body,
        'version one',
        'preview host of d1',
      );
      const alias = await edge.api('PUT', '/v1/projects/app/aliases/staging', { deployment: 'd1' });
      assert.equal(alias.status, 200);
      await eventually(async () =>
        assert.equal((await page('/', 'staging--app.localhost')).body, 'version one'),
      );
      const rolled = await edge.api('POST', '/v1/projects/app/rollback');
      assert.equal(rolled.body.production, 'd1');
      await eventually(async () => assert.equal((await page('/app/')).body, 'version one'));
      const nothingLeft = await edge.api('POST', '/v1/projects/app/rollback');
      assert.equal(nothingLeft.status, 409);
    });

    it('explains where a URL goes', async () => {
      const res = await edge.api(
        'GET',
        `/v1/explain?url=${encodeURIComponent('http://staging--app.localhost/x')}`,
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.project, 'app');
      assert.equal(res.body.via, 'preview');
      assert.equal(res.body.alias, 'staging');
      assert.equal(res.body.deployment.id, 'd1');
      assert.deepEqual(res.body.origin, { kind: 'upstream', replicas: [v1.url] });
      const none = await edge.api(
        'GET',
        `/v1/explain?url=${encodeURIComponent('http://127.0.0.1/nothing/')}`,
      );
      assert.equal(none.body.served, false);
      assert.match(none.body.reason, /no project is named "nothing"/);
      const bad = await edge.api('GET', '/v1/explain?url=not-a-url');
      assert.equal(bad.status, 400);
    });

    it('attaches domains that route only once verified', async () => {
      const attached = await edge.api('POST', '/v1/projects/app/domains', {
        domain: 'WWW.App.Example.',
      });
      assert.equal(attached.status, 201);
      assert.equal(attached.body.domain, 'www.app.example');
      assert.equal(attached.body.verified, false);
      assert.equal(attached.body.publish.txt.name, '_switchyard.www.app.example');
      assert.equal((await page('/', 'www.app.example')).status, 404, 'unverified: not routed');
      const elsewhere = await edge.api('POST', '/v1/projects/usera/domains', {
        domain: 'www.app.example',
      });
      assert.equal(elsewhere.status, 409);
      const bad = await edge.api('POST', '/v1/projects/app/domains', { domain: 'not a domain' });
      assert.equal(bad.status, 400);
      assert.equal(
        (await edge.api('DELETE', '/v1/projects/app/domains/www.app.example')).status,
        204,
      );
    });

    it('deletes a project and its routes go at once', async () => {
      assert.equal((await edge.api('DELETE', '/v1/projects/app')).status, 204);
      await eventually(async () => assert.equal((await page('/app/')).status, 404));
      assert.equal((await edge.api('GET', '/v1/projects/app')).status, 404);
      assert.equal((await edge.api('GET', '/v1/projects/app/deployments/d1')).status, 404);
    });
  });
});
