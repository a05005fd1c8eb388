import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { needsBinary } from '../support/binaries.js';
import { fetchText } from '../support/http.js';
import { startSwitchyard, staticProject, type TestSwitchyard } from '../support/switchyard.js';

/** A page as a bundler builds it for the site root: every asset URL absolute. */
function builtForRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-rootapp-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><html><head><meta charset="utf-8"><title>root app</title>
<link rel="stylesheet" href="/assets/style-1a2b3c4d.css">
<script type="module" src="/assets/index-5e6f7a8b.js"></script></head>
<body><p id="out">not loaded</p></body></html>`,
  );
  writeFileSync(join(dir, 'assets', 'style-1a2b3c4d.css'), '#out { color: rgb(0, 128, 0); }');
  // The entry imports a chunk: that request's Referer is the entry script, not the page.
  writeFileSync(
    join(dir, 'assets', 'index-5e6f7a8b.js'),
    `import { answer } from '/assets/chunk-9c0d1e2f.js';\ndocument.getElementById('out').textContent = 'loaded: ' + answer;`,
  );
  writeFileSync(join(dir, 'assets', 'chunk-9c0d1e2f.js'), `export const answer = 'chunk ok';`);
  return dir;
}

describe('root-path referral (apps built for the site root, served under /<slug>/)', () => {
  let sy: TestSwitchyard;
  before(async () => {
    const app = builtForRoot();
    const other = mkdtempSync(join(tmpdir(), 'sy-other-'));
    mkdirSync(join(other, 'assets'));
    writeFileSync(join(other, 'index.html'), 'other');
    const assets = mkdtempSync(join(tmpdir(), 'sy-assets-'));
    writeFileSync(join(assets, 'style-1a2b3c4d.css'), 'assets project css');
    sy = await startSwitchyard({
      projects: [
        staticProject('app', app, { rootPaths: ['/assets/'] }),
        staticProject('other', other),
        staticProject('assets', assets),
      ],
    });
  });
  after(() => sy.close());

  it("never shadows another project's own path", async () => {
    const res = await fetchText(`${sy.origin}/assets/style-1a2b3c4d.css`, {
      headers: { referer: `${sy.origin}/app/` },
    });
    // `/assets/` is itself a project here, and a project's own path is never shadowed.
    assert.equal(res.body, 'assets project css');
    const viaApp = await fetchText(`${sy.origin}/assets/chunk-9c0d1e2f.js`, {
      headers: { referer: `${sy.origin}/app/` },
    });
    assert.equal(viaApp.status, 404, 'the project "assets" answers, not the referral');
  });

  it('sets the project cookie on HTML page loads only', async () => {
    const page = await fetchText(`${sy.origin}/app/`, { headers: { accept: 'text/html' } });
    assert.match(
      String(page.headers['set-cookie']),
      /^sy-project=app; Path=\/; SameSite=Lax; HttpOnly$/,
    );
    const asset = await fetchText(`${sy.origin}/app/assets/chunk-9c0d1e2f.js`, {
      headers: { accept: '*/*' },
    });
    assert.equal(asset.headers['set-cookie'], undefined);
    const notOptedIn = await fetchText(`${sy.origin}/other/`, { headers: { accept: 'text/html' } });
    assert.equal(notOptedIn.headers['set-cookie'], undefined);
  });
});

describe('root-path referral without a competing project', () => {
  let sy: TestSwitchyard;
  before(async () => {
    const other = mkdtempSync(join(tmpdir(), 'sy-other-'));
    writeFileSync(join(other, 'index.html'), 'other');
    sy = await startSwitchyard({
      projects: [
        staticProject('app', builtForRoot(), { rootPaths: ['/assets/'] }),
        staticProject('other', other),
      ],
    });
  });
  after(() => sy.close());

  it('uses the Referer, then the cookie, and says the response varies by them', async () => {
    const byReferer = await fetchText(`${sy.origin}/assets/chunk-9c0d1e2f.js`, {
      headers: { referer: `${sy.origin}/app/page` },
    });
    assert.equal(byReferer.status, 200);
    assert.match(byReferer.body, /chunk ok/);
    assert.match(String(byReferer.headers.vary), /Referer, Cookie/);
    const byCookie = await fetchText(`${sy.origin}/assets/chunk-9c0d1e2f.js`, {
      headers: { referer: `${sy.origin}/assets/index-5e6f7a8b.js`, cookie: 'a=b; sy-project=app' },
    });
    assert.equal(byCookie.status, 200);
  });

  it('refuses what the project did not opt in to, and other hosts and projects', async () => {
    const cookie = 'sy-project=app';
    assert.equal(
      (await fetchText(`${sy.origin}/index.html`, { headers: { cookie } })).status,
      404,
      'not under rootPaths',
    );
    assert.equal((await fetchText(`${sy.origin}/assets/chunk-9c0d1e2f.js`)).status, 404, 'no hint');
    const foreign = await fetchText(`${sy.origin}/assets/chunk-9c0d1e2f.js`, {
      headers: { referer: 'http://evil.test/app/' },
    });
    assert.equal(foreign.status, 404, 'a Referer from another host');
    const otherProject = await fetchText(`${sy.origin}/assets/chunk-9c0d1e2f.js`, {
      headers: { cookie: 'sy-project=other' },
    });
    assert.equal(otherProject.status, 404, 'a project that did not opt in');
  });

  it(
    'loads a real built page with absolute asset URLs in Chromium',
    needsBinary(CHROMIUM),
    async () => {
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(`${sy.origin}/app/`);
        // Page-side code as strings: this project type-checks for Node, without DOM types.
        await page.waitForFunction(
          "document.getElementById('out').textContent.startsWith('loaded')",
          null,
          {
            timeout: 10_000,
          },
        );
        assert.equal(await page.textContent('#out'), 'loaded: chunk ok');
        const color = await page.evaluate("getComputedStyle(document.getElementById('out')).color");
        assert.equal(color, 'rgb(0, 128, 0)', 'the absolute stylesheet applied');
      } finally {
        await browser.close();
      }
    },
  );
});
