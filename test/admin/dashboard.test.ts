import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { request } from 'undici';
import { needsBinary } from '../support/binaries.js';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { ADMIN_TOKEN, deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Screenshots the test takes, for people to look at (the best are copied into docs/). */
const SHOTS = join(process.cwd(), 'test-results', 'dashboard');

describe('The dashboard on the admin listener (Chromium)', needsBinary(CHROMIUM), () => {
  let edge: TestEdge;
  let app: TestUpstream;
  let browser: Browser;
  let page: Page;
  const thirdParty: string[] = [];
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startUpstream((req, res) => {
      res.setHeader('cache-control', 'public, max-age=60');
      res.end(`shop ${req.url}`);
    });
    edge = await startEdge({ demo: false, https: { enabled: false }, fleet: { heartbeatMs: 200 } });
    await deployUpstream(edge, 'shop', [app.url], { id: 'v1' });
    await deployUpstream(edge, 'blog', [app.url], { id: 'b1' });
    // Some traffic, some of it from the cache, some of it 404.
    for (let i = 0; i < 30; i++) {
      const res = await request(`${edge.origin}/shop/page-${i % 5}`);
      await res.body.text();
    }
    const missing = await request(`${edge.origin}/nope/`);
    await missing.body.text();
    browser = await launchChromium();
    page = await browser.newPage({ colorScheme: 'dark', viewport: { width: 1280, height: 900 } });
    page.on('request', (r) => {
      if (!r.url().startsWith(edge.admin)) thirdParty.push(r.url());
    });
  });
  after(async () => {
    await browser?.close();
    await edge.close();
    await app.close();
  });

  it('serves the page with a content security policy and no third-party requests', async () => {
    const res = await request(`${edge.admin}/`);
    assert.equal(res.statusCode, 200);
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(await res.body.text(), /<title>Switchyard dashboard<\/title>/);
    const data = await request(`${edge.admin}/v1/dashboard`);
    assert.equal(data.statusCode, 401, 'the data needs a token');
    await data.body.text();
  });

  it('refuses a wrong token, then signs in and shows traffic and projects live', async () => {
    await page.goto(`${edge.admin}/`);
    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not valid.').waitFor();
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'shop' }).waitFor();
    // The token is kept for this tab only.
    const kept = await page.evaluate(
      'JSON.stringify([sessionStorage.getItem("switchyard.token"), localStorage.length])',
    );
    assert.equal(kept, JSON.stringify([ADMIN_TOKEN, 0]));
    const row = page.locator('#traffic tbody tr', { hasText: 'shop' });
    await row.waitFor();
    // Rates come from differences between snapshots: more traffic shows up as a rate.
    for (let i = 0; i < 20; i++) {
      const res = await request(`${edge.origin}/shop/page-${i % 5}`);
      await res.body.text();
    }
    await eventually(async () => {
      const cells = await row.locator('td').allTextContents();
      assert.notEqual(cells[0], '0.00', `requests/s: ${cells.join(' | ')}`);
      assert.match(cells[5] ?? '', /\d+ %/, 'a cache hit ratio');
    }, 8000);
    await page.locator('#fleet tbody tr').first().waitFor();
    assert.match((await page.locator('#fleet').textContent()) ?? '', /healthy/);
    await page.screenshot({ path: join(SHOTS, 'dashboard-dark.png'), fullPage: true });
  });

  it('shows a deployment going from building to ready live, and rollback changes production', async () => {
    const building = await edge.api('POST', '/v1/projects/shop/deployments', {
      id: 'v2',
      status: 'building',
      origin: { upstream: { replicas: [app.url] } },
    });
    assert.equal(building.status, 201, JSON.stringify(building.body));
    const status = page.locator('[data-deployment="shop/v2"] [data-status]');
    await eventually(async () => assert.equal(await status.textContent(), 'building'), 5000);
    await edge.api('POST', '/v1/projects/shop/deployments/v2/logs', { lines: ['compiling…'] });
    const ready = await edge.api('POST', '/v1/projects/shop/deployments/v2/status', {
      status: 'ready',
    });
    assert.ok(ready.status < 300, JSON.stringify(ready.body));
    await eventually(async () => assert.equal(await status.textContent(), 'ready'), 5000);
    // Promote it from the page, then roll back from the page.
    await page.locator('#promote-shop-v2').click();
    const production = page.locator('[data-production="shop"]');
    await eventually(async () => assert.equal(await production.textContent(), 'v2'), 5000);
    assert.equal((await edge.api('GET', '/v1/projects/shop')).body.production, 'v2');
    await page.locator('#logs-shop-v2').click();
    await eventually(
      async () => assert.match((await page.locator('#logs').textContent()) ?? '', /compiling…/),
      5000,
    );
    await page.getByRole('button', { name: 'Roll back' }).first().click();
    await eventually(async () => assert.equal(await production.textContent(), 'v1'), 5000);
    assert.equal((await edge.api('GET', '/v1/projects/shop')).body.production, 'v1');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(SHOTS, 'dashboard-light.png'), fullPage: true });
    assert.deepEqual(thirdParty, [], 'every request went to the admin listener');
  });

  it('shows a project-bound token only its own projects, and no fleet or certificates', async () => {
    const created = await edge.api('POST', '/v1/tokens', {
      name: 'blog-only',
      scope: 'read',
      projects: ['blog'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const res = await edge.api('GET', '/v1/dashboard', undefined, created.body.token);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.projects.map((p: { slug: string }) => p.slug),
      ['blog'],
    );
    assert.deepEqual(
      Object.keys(res.body.traffic).filter((s) => s !== 'blog'),
      [],
    );
    assert.equal(res.body.fleet, undefined);
    assert.equal(res.body.certificates, undefined);
  });
});
