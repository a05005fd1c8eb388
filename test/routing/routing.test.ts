import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchText, rawRequest, statusOf } from '../support/http.js';
import { startSwitchyard, type TestSwitchyard } from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

function site(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-route-'));
  writeFileSync(join(dir, 'index.html'), text);
  return dir;
}

describe('routing', () => {
  let sy: TestSwitchyard;
  let app: TestUpstream;
  before(async () => {
    app = await startUpstream((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, prefix: req.headers['x-forwarded-prefix'] ?? null }));
    });
    sy = await startSwitchyard({
      platform: { hosts: ['127.0.0.1', 'platform.test'], domains: ['apps.test'] },
      projects: [
        {
          slug: 'usera',
          production: 'v2',
          aliases: { staging: 'v1' },
          domains: ['www.usera.com'],
          deployments: [
            { id: 'v1', static: { dir: site('usera v1') } },
            { id: 'v2', static: { dir: site('usera v2') } },
          ],
        },
        { slug: 'api', deployments: [{ id: 'a1', upstream: { replicas: [app.url] } }] },
        { slug: 'empty' },
        {
          slug: 'wip',
          deployments: [{ id: 'b1', status: 'building', static: { dir: site('x') } }],
        },
        {
          slug: 'broken',
          deployments: [{ id: 'e1', status: 'error', static: { dir: site('x') } }],
        },
      ],
    });
  });
  after(async () => {
    await sy.close();
    await app.close();
  });

  const get = (path: string, host: string, headers: Record<string, string> = {}) =>
    fetchText(`${sy.origin}${path}`, { headers: { host, ...headers } });

  it('routes /<slug>/ on a platform host, prefix stripped and announced', async () => {
    const res = await get('/api/users/7?x=1', 'platform.test');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { url: '/users/7?x=1', prefix: '/api' });
    assert.equal((await get('/usera/', 'platform.test')).body, 'usera v2');
  });

  it('redirects /<slug> to /<slug>/ with 308, keeping the query', async () => {
    const res = await get('/api?q=1', 'platform.test');
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, '/api/?q=1');
  });

  it('routes <slug>.<domain> to production with the path untouched', async () => {
    const res = await get('/users?x=1', 'api.apps.test');
    assert.deepEqual(JSON.parse(res.body), { url: '/users?x=1', prefix: null });
    assert.equal((await get('/', 'usera.apps.test')).body, 'usera v2');
  });

  it('routes preview hosts to their own deployment, and branch aliases', async () => {
    assert.equal((await get('/', 'v1--usera.apps.test')).body, 'usera v1');
    assert.equal((await get('/', 'v2--usera.apps.test')).body, 'usera v2');
    assert.equal((await get('/', 'staging--usera.apps.test')).body, 'usera v1');
    const unknown = await get('/', 'v9--usera.apps.test');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /no deployment or alias/);
  });

  it('routes custom domains, ignoring case, port and a trailing dot', async () => {
    assert.equal((await get('/', 'www.usera.com')).body, 'usera v2');
    assert.equal((await get('/', 'WWW.UserA.com.:8443')).body, 'usera v2');
    assert.equal((await get('/', 'USERA.Apps.Test.')).body, 'usera v2');
  });

  it('answers unknown hosts and slugs with a 404 page: HTML for browsers, JSON on request', async () => {
    const html = await get('/', 'nobody.example', { accept: 'text/html' });
    assert.equal(html.status, 404);
    assert.match(html.headers['content-type'] as string, /^text\/html/);
    assert.match(html.body, /No project at this host/);
    assert.match(html.body, /SY_UNKNOWN_HOST/);
    const json = await get('/nobody/', 'platform.test', { accept: 'application/json' });
    assert.equal(json.status, 404);
    assert.match(json.headers['content-type'] as string, /^application\/json/);
    const problem = JSON.parse(json.body) as Record<string, unknown>;
    assert.equal(problem.code, 'SY_UNKNOWN_PROJECT');
    assert.equal(problem.status, 404);
    assert.equal(problem.requestId, json.headers['x-request-id']);
    assert.equal((await get('/', 'unknown.apps.test')).status, 404);
  });

  it('escapes what it echoes on error pages', async () => {
    const res = await get('/%3Cscript%3E/', 'platform.test', { accept: 'text/html' });
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.body, /<script>/);
    assert.match(res.body, /&lt;script&gt;/);
  });

  it('gates deployments by status', async () => {
    assert.equal((await get('/', 'empty.apps.test')).status, 404);
    const building = await get('/', 'wip.apps.test');
    assert.equal(building.status, 503);
    assert.equal(building.headers['retry-after'], '5');
    assert.equal((await get('/', 'broken.apps.test')).status, 502);
  });

  it('answers health on the platform host only', async () => {
    const res = await get('/_switchyard/health', 'platform.test');
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { status: string }).status, 'ok');
    assert.equal((await get('/_switchyard/health', 'api.apps.test')).status, 200);
    assert.deepEqual(
      JSON.parse((await get('/_switchyard/health', 'api.apps.test')).body),
      {
        url: '/_switchyard/health',
        prefix: null,
      },
      "a project's own paths are never shadowed",
    );
  });

  it('routes absolute-form targets by their own authority, never to foreign hosts', async () => {
    const foreign = await rawRequest(
      sy.port,
      'GET http://example.com/ HTTP/1.1\r\nHost: platform.test\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(foreign), 404);
    const own = await rawRequest(
      sy.port,
      'GET http://usera.apps.test/ HTTP/1.1\r\nHost: usera.apps.test\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(own), 200);
    assert.match(own, /usera v2/);
  });

  it('refuses malformed requests before any work', async () => {
    const twoHosts = await rawRequest(
      sy.port,
      'GET / HTTP/1.1\r\nHost: usera.apps.test\r\nHost: evil.test\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(twoHosts), 400);
    const smuggle = await rawRequest(
      sy.port,
      'POST /api/ HTTP/1.1\r\nHost: platform.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.equal(statusOf(smuggle), 400);
    const noHost = await rawRequest(sy.port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(noHost), 400);
    const huge = await rawRequest(
      sy.port,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
    );
    assert.equal(statusOf(huge), 431);
    const asterisk = await rawRequest(
      sy.port,
      'OPTIONS * HTTP/1.1\r\nHost: platform.test\r\nConnection: close\r\n\r\n',
    );
    assert.equal(statusOf(asterisk), 400);
  });
});
