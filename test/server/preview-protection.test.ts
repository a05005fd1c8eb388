/**
 * Preview protection: a protected project's preview hosts ask for a password; the cookie a
 * correct one sets is signed and bound to its host; share links and the bypass header let
 * in whom they should; preview hosts are never indexed; a fleet accepts another instance's
 * cookies (the signing key is in the store, sealed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { needsBinary } from '../support/binaries.js';
import { startFleet, type TestFleet } from '../support/fleet.js';
import { deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

async function get(
  edge: TestEdge,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
  method: 'GET' | 'POST' = 'GET',
  body?: string,
) {
  const res = await request(`${edge.origin}${path}`, {
    method,
    headers: { host, ...headers },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

const cookieOf = (setCookie: unknown) => String(setCookie).split(';')[0]!;

describe('preview protection', () => {
  let app: TestUpstream;
  let edge: TestEdge;
  let bypass: string;
  before(async () => {
    app = await startUpstream((req, res) => res.end(`app ${String(req.headers.host)}`));
    edge = await startEdge({ demo: false });
    await deployUpstream(edge, 'shop', [app.url]);
    await deployUpstream(edge, 'shop', [app.url], { id: 'd2', create: false });
    const set = await edge.api('PATCH', '/v1/projects/shop', {
      protection: { scope: 'previews', password: 'correct horse' },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.protection, { scope: 'previews' }, 'never the digests');
    bypass = set.body.bypassSecret as string;
    assert.match(bypass, /^syb_/);
  });
  after(async () => {
    await edge.close();
    await app.close();
  });

  it('keeps production public and asks for a password on preview hosts (401, never indexed)', async () => {
    assert.equal((await get(edge, 'shop.localhost')).status, 200);
    const page = await get(edge, 'd2--shop.localhost', '/', { accept: 'text/html' });
    assert.equal(page.status, 401);
    assert.match(page.body, /<form method="post"/);
    assert.equal(page.headers['x-robots-tag'], 'noindex');
    const api = await get(edge, 'd2--shop.localhost', '/', { accept: 'application/json' });
    assert.equal(api.status, 401);
    assert.equal(JSON.parse(api.body).code, 'SY_PROTECTED');
    assert.equal(app.requests.filter((r) => r.headers.host === 'd2--shop.localhost').length, 0);
  });

  it('lets in with the right password: a signed cookie for this host only', async () => {
    const wrong = await get(
      edge,
      'd2--shop.localhost',
      '/_switchyard/login',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'POST',
      'password=nope&next=%2Fdocs',
    );
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /not right/);
    const right = await get(
      edge,
      'd2--shop.localhost',
      '/_switchyard/login',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'POST',
      'password=correct+horse&next=%2Fdocs',
    );
    assert.equal(right.status, 303);
    assert.equal(right.headers.location, '/docs');
    const setCookie = String(right.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.doesNotMatch(setCookie, /Domain=/i, 'host-scoped');
    const cookie = cookieOf(setCookie);
    const inside = await get(edge, 'd2--shop.localhost', '/docs', { cookie });
    assert.equal(inside.status, 200);
    assert.equal(inside.body, 'app d2--shop.localhost');
    assert.equal(inside.headers['x-robots-tag'], 'noindex');
    assert.equal(
      (await get(edge, 'd1--shop.localhost', '/', { cookie })).status,
      401,
      'not on another host',
    );
    const forged = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await get(edge, 'd2--shop.localhost', '/', { cookie: forged })).status, 401);
  });

  it('lets automation in with the bypass secret, and share links in until they expire', async () => {
    assert.equal(
      (await get(edge, 'd2--shop.localhost', '/', { 'x-switchyard-bypass': bypass })).status,
      200,
    );
    assert.equal(
      (await get(edge, 'd2--shop.localhost', '/', { 'x-switchyard-bypass': 'syb_wrong' })).status,
      401,
    );
    const link = await edge.api('POST', '/v1/projects/shop/share-links', {
      deployment: 'd2',
      ttlSeconds: 600,
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const url = new URL(link.body.url as string);
    assert.equal(url.hostname, 'd2--shop.localhost');
    const followed = await get(edge, 'd2--shop.localhost', `${url.pathname}${url.search}`);
    assert.equal(followed.status, 303);
    assert.equal(followed.headers.location, '/', 'redirects to the clean URL');
    const cookie = cookieOf(followed.headers['set-cookie']);
    assert.equal((await get(edge, 'd2--shop.localhost', '/', { cookie })).status, 200);
    // A link for d2 does not open d1's preview.
    assert.equal((await get(edge, 'd1--shop.localhost', `/${url.search}`)).status, 401);
  });

  it('protects production too with scope all', async () => {
    await edge.api('PATCH', '/v1/projects/shop', {
      protection: { scope: 'all', password: 'correct horse' },
    });
    assert.equal((await get(edge, 'shop.localhost', '/', { accept: 'text/html' })).status, 401);
    assert.equal((await get(edge, 'localhost', '/shop/', { accept: 'text/html' })).status, 401);
    await edge.api('PATCH', '/v1/projects/shop', { protection: null });
    assert.equal((await get(edge, 'd2--shop.localhost')).status, 200, 'unprotected again');
  });
});

describe('preview protection in a fleet (Redis)', needsBinary('redis-server'), () => {
  let fleet: TestFleet;
  let a: TestEdge;
  let b: TestEdge;
  let app: TestUpstream;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('fleet'));
    fleet = await startFleet();
    ({ a, b } = fleet);
  });
  after(async () => {
    await fleet.close();
    await app.close();
  });

  it('accepts on one instance the cookie another set', async () => {
    await deployUpstream(a, 'team', [app.url]);
    await a.api('PATCH', '/v1/projects/team', {
      protection: { scope: 'all', password: 'a long secret' },
    });
    const login = await get(
      a,
      'team.localhost',
      '/_switchyard/login',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'POST',
      'password=a+long+secret',
    );
    assert.equal(login.status, 303);
    const cookie = cookieOf(login.headers['set-cookie']);
    const { eventually } = await import('../support/eventually.js');
    await eventually(async () =>
      assert.equal((await get(b, 'team.localhost', '/', { cookie })).status, 200),
    );
  });
});
