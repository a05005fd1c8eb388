import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { safeRelativePath } from '../../src/static/safe-path.js';
import { rawRequest, statusOf } from '../support/http.js';
import { startSwitchyard, staticProject, type TestSwitchyard } from '../support/switchyard.js';

/**
 * Nothing outside a deployment's directory is ever readable. The requests go over a raw
 * socket, byte for byte, because HTTP clients normalise the very paths under test.
 */
describe('static origin: path traversal', () => {
  let sy: TestSwitchyard;
  let root: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'sy-trav-'));
    const site = join(root, 'site');
    mkdirSync(join(site, 'sub'), { recursive: true });
    writeFileSync(join(site, 'index.html'), 'inside');
    writeFileSync(join(site, 'sub', 'page.html'), 'sub page');
    writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET');
    symlinkSync(root, join(site, 'up')); // a directory link out
    symlinkSync(join(root, 'secret.txt'), join(site, 'secret-link.txt'));
    sy = await startSwitchyard({ projects: [staticProject('site', site)] });
  });
  after(() => sy.close());

  const get = (path: string) =>
    rawRequest(
      sy.port,
      `GET ${path} HTTP/1.1\r\nHost: site.localhost\r\nConnection: close\r\n\r\n`,
    );

  const vectors: [string, string][] = [
    ['dot-dot', '/../secret.txt'],
    ['dot-dot deeper', '/sub/../../secret.txt'],
    ['encoded dots', '/%2e%2e/secret.txt'],
    ['mixed encoded dots', '/.%2e/secret.txt'],
    ['encoded slash', '/..%2fsecret.txt'],
    ['encoded slash in a segment', '/sub%2f..%2f..%2fsecret.txt'],
    ['encoded backslash', '/..%5csecret.txt'],
    ['raw backslash', '/..\\secret.txt'],
    ['NUL byte', '/index.html%00.txt'],
    ['overlong UTF-8 dot', '/%c0%ae%c0%ae/secret.txt'],
    ['overlong UTF-8 slash', '/..%c0%afsecret.txt'],
    ['double encoding', '/%252e%252e/secret.txt'],
    ['directory symlink out', '/up/secret.txt'],
    ['file symlink out', '/secret-link.txt'],
  ];
  for (const [name, path] of vectors) {
    it(`refuses ${name}: ${path}`, async () => {
      const res = await get(path);
      const status = statusOf(res);
      assert.ok(status === 400 || status === 404, `status ${status} for ${path}`);
      assert.doesNotMatch(res, /TOP-SECRET/);
    });
  }

  it('still serves what is inside', async () => {
    const res = await get('/sub/page.html');
    assert.equal(statusOf(res), 200);
    assert.match(res, /sub page/);
  });

  it('decodes paths strictly', () => {
    assert.equal(safeRelativePath('/a%20b/c.html'), 'a b/c.html');
    assert.equal(safeRelativePath('/caf%C3%A9'), 'café');
    for (const bad of [
      '/../x',
      '/%2e%2e/x',
      '/a%2fb',
      '/a%5cb',
      '/a\\b',
      '/%00',
      '/%c0%ae',
      '/%zz',
      '/./x',
    ]) {
      assert.throws(() => safeRelativePath(bad), { code: 'SY_BAD_PATH' }, bad);
    }
  });
});
