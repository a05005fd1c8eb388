import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'undici';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runSwitchyard, spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { fetchText } from '../support/http.js';

describe('client commands: deploy, projects, rollback', () => {
  let sy: RunningSwitchyard;
  let dataDir: string;
  let env: Record<string, string>;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sy-cli-data-'));
    sy = await spawnSwitchyard([], {
      SWITCHYARD_DATA_DIR: dataDir,
      SWITCHYARD_LOG_ACCESS: 'false',
    });
    const admin = /admin API on (http:\/\/[^/\s]+)\//.exec(sy.stderr());
    assert.ok(admin, sy.stderr());
    env = { SWITCHYARD_ADMIN_URL: admin[1]!, SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_TOKEN: '' };
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
  });

  function site(text: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'sy-site-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), `<h1>${text}</h1>`);
    writeFileSync(join(dir, 'assets', 'app.js'), `console.log(${JSON.stringify(text)})`);
    return dir;
  }

  it('generated an admin token file only its owner can read', () => {
    assert.equal(statSync(join(dataDir, 'admin-token')).mode & 0o777, 0o600);
  });

  it('deploys a directory to production, prints the URLs, lists and rolls back', async () => {
    const first = await runSwitchyard(
      ['deploy', site('first'), '--project', 'usera', '--prod', '--id', 'v1'],
      env,
    );
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /deployment v1 is ready/);
    assert.match(first.stdout, /promoted v1 to production/);
    const production = /production: (http:\/\/usera\.localhost:\d+\/)/.exec(first.stdout);
    assert.ok(production, first.stdout);
    assert.match(first.stdout, /preview: {4}http:\/\/v1--usera\.localhost:\d+\//);
    const page = () => fetchText(`http://127.0.0.1:${sy.port}/usera/`);
    assert.equal((await page()).body, '<h1>first</h1>');
    assert.equal(
      (await fetchText(`http://127.0.0.1:${sy.port}/usera/assets/app.js`)).body,
      'console.log("first")',
    );

    const second = await runSwitchyard(
      ['deploy', site('second'), '--project', 'usera', '--prod'],
      env,
    );
    assert.equal(second.code, 0, second.stderr);
    assert.equal((await page()).body, '<h1>second</h1>');

    const listed = await runSwitchyard(['projects'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^usera\tproduction: d\w+\tprevious: v1$/m);
    // The demo project comes from the configuration (none given: the built-in one).
    assert.match(listed.stdout, /^hello\t\(configuration file: read-only here\)$/m);
    const fileProject = await runSwitchyard(['rollback', 'hello'], env);
    assert.equal(fileProject.code, 1);
    assert.match(
      fileProject.stderr,
      /"hello" is declared in the configuration file: change it there/,
    );

    const rolled = await runSwitchyard(['rollback', 'usera'], env);
    assert.equal(rolled.code, 0, rolled.stderr);
    assert.match(rolled.stdout, /usera: production is now v1/);
    assert.equal((await page()).body, '<h1>first</h1>');
  });

  it('mints a token bound to one project for its CI, lists and removes it', async () => {
    const created = await runSwitchyard(
      ['tokens', 'create', '--name', 'ci usera', '--scope', 'deploy', '--project', 'usera'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created (t\w+) \(deploy, usera\)/);
    const secret = /token \(shown once\): (sy_\S+)/.exec(created.stdout)?.[1];
    assert.ok(secret, created.stdout);
    const id = /created (t\w+)/.exec(created.stdout)![1]!;
    // The bound token deploys its own project, and sees no other.
    const own = await runSwitchyard(['projects'], { ...env, SWITCHYARD_TOKEN: secret });
    assert.equal(own.code, 0, own.stderr);
    assert.doesNotMatch(own.stdout, /^(?!usera)\w+\tproduction/m);
    const listed = await runSwitchyard(['tokens', 'ls'], env);
    assert.match(listed.stdout, new RegExp(`^${id}\tci usera\tdeploy\tusera\t-$`, 'm'));
    const removed = await runSwitchyard(['tokens', 'rm', id], env);
    assert.equal(removed.code, 0, removed.stderr);
    const refused = await runSwitchyard(['projects'], { ...env, SWITCHYARD_TOKEN: secret });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401/);
  });

  it('promotes, sets and removes aliases, attaches and verifies domains, reports status', async () => {
    for (const id of ['p1', 'p2']) {
      const r = await runSwitchyard(['deploy', site(id), '--project', 'routing', '--id', id], env);
      assert.equal(r.code, 0, r.stderr);
    }
    const promoted = await runSwitchyard(['promote', 'routing', 'p2'], env);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /routing: production is now p2/);
    const set = await runSwitchyard(['alias', 'set', 'routing', 'staging', 'p1'], env);
    assert.equal(set.code, 0, set.stderr);
    const page = await fetchText(`http://127.0.0.1:${sy.port}/`, {
      headers: { host: 'staging--routing.localhost' },
    });
    assert.match(page.body, /p1/);
    assert.match((await runSwitchyard(['alias', 'ls', 'routing'], env)).stdout, /staging\t→ p1/);
    assert.equal((await runSwitchyard(['alias', 'rm', 'routing', 'staging'], env)).code, 0);
    const added = await runSwitchyard(['domains', 'add', 'routing', 'www.example.test'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /TXT {3}_switchyard\.www\.example\.test {2}"[^"]+"/);
    assert.match(
      (await runSwitchyard(['domains', 'ls', 'routing'], env)).stdout,
      /www\.example\.test\tnot verified yet/,
    );
    const verify = await runSwitchyard(['domains', 'verify', 'routing', 'www.example.test'], env);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /not verified yet: publish TXT _switchyard\.www\.example\.test/);
    assert.equal(
      (await runSwitchyard(['domains', 'rm', 'routing', 'www.example.test'], env)).code,
      0,
    );
    const status = await runSwitchyard(['status'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /status: {3}ok/);
    assert.match(status.stdout, /store: {4}embedded, connected/);
    assert.match(status.stdout, /fleet: {4}1 of 1 instances healthy/);
    const usage = await runSwitchyard(['alias', 'set', 'routing'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /expected alias ls <project>/);
  });

  it('prints a deployment’s build log, and follows it until it ends', async () => {
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const api = async (path: string, body: unknown) => {
      const res = await request(`${env.SWITCHYARD_ADMIN_URL}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.body.text();
      assert.ok(res.statusCode < 300, `${path}: ${res.statusCode}`);
    };
    await api('/v1/projects', { slug: 'built' });
    await api('/v1/projects/built/deployments', { id: 'b1' });
    await api('/v1/projects/built/deployments/b1/status', { status: 'building' });
    await api('/v1/projects/built/deployments/b1/logs', { lines: ['npm ci', 'npm run build'] });
    const sofar = await runSwitchyard(['logs', 'built'], env);
    assert.equal(sofar.code, 0, sofar.stderr);
    assert.match(sofar.stdout, /— b1 is building\nnpm ci\nnpm run build\n$/);
    const following = runSwitchyard(['logs', 'built', 'b1', '--follow'], env);
    await new Promise((r) => setTimeout(r, 1500));
    await api('/v1/projects/built/deployments/b1/logs', { lines: ['done in 3 s'] });
    await api('/v1/projects/built/deployments/b1/status', {
      status: 'error',
      message: 'tests failed',
    });
    const followed = await following;
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /npm run build\ndone in 3 s\n— b1 is error: tests failed\n$/);
  });

  it('explains each command with --help', async () => {
    const help = await runSwitchyard(['deploy', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--id <id> +The deployment's id/);
    assert.match(help.stdout, /--spa +A single-page app/);
    const all = await runSwitchyard(['--help']);
    assert.match(all.stdout, /switchyard domains ls <project>/);
  });

  it('says clearly what is wrong', async () => {
    const missing = await runSwitchyard(['deploy', '/nonexistent/dir', '--project', 'usera'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/nonexistent\/dir is not a directory/);
    const empty = mkdtempSync(join(tmpdir(), 'sy-empty-'));
    mkdirSync(join(empty, 'sub'));
    const nothing = await runSwitchyard(['deploy', empty, '--project', 'usera'], env);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /has no files to deploy/);
    const noProject = await runSwitchyard(['deploy', site('x')], env);
    assert.equal(noProject.code, 2);
    assert.match(noProject.stderr, /--project is required/);
    const badToken = await runSwitchyard(['projects'], {
      ...env,
      SWITCHYARD_TOKEN: 'wrong-token-value',
    });
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /401: a valid bearer token is required/);
    const down = await runSwitchyard(['projects'], {
      ...env,
      SWITCHYARD_ADMIN_URL: 'http://127.0.0.1:1',
    });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the admin API at http:\/\/127\.0\.0\.1:1/);
    const nothingBefore = await runSwitchyard(['rollback', 'nobody'], env);
    assert.equal(nothingBefore.code, 1);
    assert.match(nothingBefore.stderr, /404: no project is named "nobody"/);
  });
});
