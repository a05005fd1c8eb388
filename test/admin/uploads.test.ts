import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { tarball, type TarEntry } from '../support/tarball.js';

/** Every path under a directory, relative to it (the data directory's shape). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      out.push(relative(dir, p));
      if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('static build output upload (.tar.gz)', () => {
  let edge: TestEdge;
  before(async () => {
    edge = await startEdge({
      demo: false,
      admin: {
        uploadMaxBytes: 64 * 1024,
        uploadMaxUnpackedBytes: 1024 * 1024,
        uploadMaxEntries: 50,
      },
    });
    await edge.api('POST', '/v1/projects', { slug: 'site' });
  });
  after(() => edge.close());

  const upload = async (archive: Buffer, query = '') => {
    const res = await fetch(`${edge.admin}/v1/projects/site/deployments${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/gzip' },
      body: archive,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('unpacks an archive into a new ready deployment that serves at once', async () => {
    const res = await upload(
      tarball([
        { name: 'index.html', body: '<h1>uploaded</h1>' },
        { name: 'assets/', type: '5' },
        { name: 'assets/app-1a2b3c4d.js', body: 'console.log(1)' },
        { name: 'latest.js', type: '2', link: 'assets/app-1a2b3c4d.js' },
      ]),
      '?id=v1',
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'ready');
    await eventually(async () => {
      const page = await fetchText(`${edge.origin}/site/`);
      assert.equal(page.body, '<h1>uploaded</h1>');
    });
    assert.equal(
      (await fetchText(`${edge.origin}/site/latest.js`)).body,
      'console.log(1)',
      'a link inside is fine',
    );
    const again = await upload(tarball([{ name: 'index.html', body: 'other' }]), '?id=v1');
    assert.equal(again.status, 200, 'a retried upload returns the deployment that landed');
    assert.equal((await fetchText(`${edge.origin}/site/`)).body, '<h1>uploaded</h1>');
  });

  const hostile: [string, TarEntry[] | Buffer, number, RegExp][] = [
    [
      'a traversal entry',
      [
        { name: 'ok.txt', body: 'x' },
        { name: '../evil.txt', body: 'pwned' },
      ],
      400,
      /outside the upload \(\.\.\)/,
    ],
    ['an absolute path', [{ name: '/tmp/evil.txt', body: 'pwned' }], 400, /absolute path/],
    [
      'a symbolic link out',
      [{ name: 'leak', type: '2', link: '../../../etc/passwd' }],
      400,
      /links outside the upload/,
    ],
    [
      'an absolute symbolic link',
      [{ name: 'leak', type: '2', link: '/etc/passwd' }],
      400,
      /links outside the upload/,
    ],
    [
      'a hard link out',
      [{ name: 'leak', type: '1', link: '../state.db' }],
      400,
      /links outside the upload/,
    ],
    ['a device', [{ name: 'tty', type: '3' }], 400, /only files, directories and links/],
    [
      'a truncated archive',
      tarball([{ name: 'big.bin', body: randomBytes(20_000) }]).subarray(0, 5000),
      400,
      /could not be read|ended/,
    ],
    [
      'something that is not gzip',
      Buffer.from('just some text, not an archive'),
      400,
      /could not be read/,
    ],
    [
      'an oversized archive',
      tarball([{ name: 'big.bin', body: randomBytes(100_000) }]),
      413,
      /limit of 65536 bytes|the limit is 65536/,
    ],
    [
      'a gzip bomb',
      tarball([{ name: 'zeros.bin', body: Buffer.alloc(2 * 1024 * 1024) }]),
      413,
      /unpacks to more than/,
    ],
    [
      'too many entries',
      Array.from({ length: 60 }, (_, i) => ({ name: `f${i}.txt`, body: 'x' })),
      413,
      /more than 50 entries/,
    ],
  ];
  for (const [what, entries, status, message] of hostile) {
    it(`refuses ${what} and leaves the data directory unchanged`, async () => {
      const before = tree(edge.dataDir).filter((p) => !p.startsWith('state.db'));
      const deployments = (await edge.api('GET', '/v1/projects/site/deployments')).body.items
        .length;
      const res = await upload(Buffer.isBuffer(entries) ? entries : tarball(entries));
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(String(res.body.detail), message);
      assert.equal(res.body.field, '/body');
      const afterTree = tree(edge.dataDir).filter((p) => !p.startsWith('state.db'));
      assert.deepEqual(
        afterTree.filter((p) => !p.startsWith('deployments/.incoming')),
        before.filter((p) => !p.startsWith('deployments/.incoming')),
      );
      assert.deepEqual(
        tree(join(edge.dataDir, 'deployments', '.incoming')),
        [],
        'nothing left in the incoming area',
      );
      assert.equal(
        (await edge.api('GET', '/v1/projects/site/deployments')).body.items.length,
        deployments,
      );
      assert.equal(existsSync(join(edge.dataDir, 'evil.txt')), false);
    });
  }

  it('leaves nothing behind when the client hangs up mid-upload', async () => {
    const archive = tarball([{ name: 'big.bin', body: randomBytes(40_000) }]);
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${edge.admin}/v1/projects/site/deployments?id=cut`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'content-type': 'application/gzip',
          'content-length': archive.length,
        },
      });
      req.on('error', () => resolve());
      req.write(archive.subarray(0, 10_000), () => setTimeout(() => req.destroy(), 100));
      req.on('close', () => resolve());
    });
    await eventually(() => {
      assert.deepEqual(tree(join(edge.dataDir, 'deployments', '.incoming')), []);
    });
    assert.equal((await edge.api('GET', '/v1/projects/site/deployments/cut')).status, 404);
  });
});
