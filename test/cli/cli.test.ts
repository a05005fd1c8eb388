import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { BIN, runSwitchyard, spawnSwitchyard } from '../support/cli.js';
import { startUpstream } from '../support/upstream.js';

function configDir(): string {
  return mkdtempSync(join(tmpdir(), 'sy-cli-'));
}

/** Write atomically, as editors and config management do. */
function writeConfig(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

describe('switchyard command line', () => {
  it('prints help and version', async () => {
    const help = await runSwitchyard(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: switchyard/);
    const version = await runSwitchyard(['--version']);
    assert.equal(version.code, 0);
    assert.match(
      version.stdout,
      /^switchyard \d+\.\d+\.\d+ \(Node\.js 24\.\d+\.\d+ Krypton, OpenSSL 3\.5\./,
    );
  });

  it('runs on the shipped Node.js 24 when started by an older Node', async (t) => {
    // Debian's /usr/bin/node is older on these machines; elsewhere there is nothing to test.
    const old = '/usr/bin/node';
    const probe = spawnSync(old, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const major = Number(probe.stdout?.split('.')[0]);
    if (probe.status !== 0 || !(major < 24)) {
      t.skip(`no Node.js older than 24 at ${old}`);
      return;
    }
    const run = spawnSync(old, [BIN, '--version'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /\(Node\.js 24\.\d+\.\d+ .*node_modules\/node-linux-/);
    // Without the shipped runtime (a copy of the launcher outside the package), it says what to do.
    const alone = join(mkdtempSync(join(tmpdir(), 'sy-launcher-')), 'switchyard.js');
    copyFileSync(BIN, alone);
    const refused = spawnSync(old, [alone, '--version'], { encoding: 'utf8' });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /switchyard needs Node\.js 24 or newer; this is v\d+/);
    assert.match(refused.stderr, /npm ci/);
    const bad = await runSwitchyard(['frobnicate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command "frobnicate"/);
  });

  it('exits 2 on an invalid configuration, naming key, value and expectation', async () => {
    const file = join(configDir(), 'switchyard.yaml');
    writeFileSync(file, 'listen:\n  port: -1\n');
    const res = await runSwitchyard(['start', '--config', file]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /listen\.port: got -1, expected must be >= 0/);
    const env = await runSwitchyard(['start'], { SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS: 'soon' });
    assert.equal(env.code, 2);
    assert.match(
      env.stderr,
      /upstream\.connectTimeoutMs \(from SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS\): got "soon"/,
    );
  });

  it('explains configuration mistakes: the YAML line, the option meant, the value expected, a missing folder', async () => {
    const dir = configDir();
    const file = join(dir, 'switchyard.yaml');
    writeFileSync(file, 'listen: { port: 8080\nprojects: [\n');
    const yaml = await runSwitchyard(['start', '--config', file]);
    assert.equal(yaml.code, 2);
    assert.match(yaml.stderr, /not valid YAML: .* at line 2, column 1: "projects: \["/);
    writeFileSync(
      file,
      [
        'listn: { port: 1 }',
        'projects:',
        '  - slug: app',
        '    deployments:',
        '      - { id: v1, upstream: { replicas: ["http://app:3000/api"] } }',
        '',
      ].join('\n'),
    );
    const res = await runSwitchyard(['start', '--config', file]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /listn: unknown option \(did you mean "listen"\?\)/);
    assert.match(
      res.stderr,
      /replicas\[0\]: got "http:\/\/app:3000\/api", expected http:\/\/host:port — no path, query or credentials/,
    );
    writeFileSync(
      file,
      'projects:\n  - slug: app\n    deployments:\n      - { id: v1, static: { dir: ./no-such-folder } }\n',
    );
    const folder = await runSwitchyard(['start', '--config', file]);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /deployments\[0\]\.static\.dir: .*no-such-folder does not exist/);
  });

  it('says which option moves a port in use, and refuses a second instance on one data directory', async () => {
    const first = await spawnSwitchyard([]);
    try {
      const taken = await runSwitchyard(['start'], {
        PORT: String(first.port),
        SWITCHYARD_ADMIN_PORT: '0',
        SWITCHYARD_HTTPS_PORT: '0',
        SWITCHYARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-data-')),
      });
      assert.equal(taken.code, 2);
      assert.match(
        taken.stderr,
        new RegExp(
          `port ${first.port} on .* is already in use .*choose another with listen\\.port \\(or PORT\\)`,
        ),
      );
      assert.doesNotMatch(taken.stderr, /at Server\./, 'no stack trace');
      const shared = await runSwitchyard(['start'], {
        PORT: '0',
        SWITCHYARD_ADMIN_PORT: '0',
        SWITCHYARD_HTTPS_PORT: '0',
        SWITCHYARD_DATA_DIR: first.dataDir,
      });
      assert.equal(shared.code, 2);
      assert.match(shared.stderr, /is in use by another Switchyard \(pid \d+\)/);
    } finally {
      first.proc.kill('SIGTERM');
      await first.exited;
    }
  });

  it('with no configuration serves the demo project by path and subdomain, then stops cleanly on SIGTERM', async () => {
    const sy = await spawnSwitchyard([]);
    try {
      assert.match(sy.stderr(), new RegExp(`http://localhost:${sy.port}/hello/`));
      assert.match(sy.stderr(), new RegExp(`http://hello.localhost:${sy.port}/`));
      const byPath = await fetchText(`http://127.0.0.1:${sy.port}/hello/`, {
        headers: { host: `localhost:${sy.port}` },
      });
      assert.equal(byPath.status, 200);
      assert.match(byPath.body, /Hello from Switchyard/);
      const bySubdomain = await fetchText(`http://127.0.0.1:${sy.port}/about`, {
        headers: { host: `hello.localhost:${sy.port}` },
      });
      assert.match(bySubdomain.body, /<h1>About<\/h1>/);
      // The access log is written asynchronously: wait for both lines before stopping.
      await eventually(() => assert.equal(sy.stdout().match(/"kind":"access"/g)?.length, 2));
    } finally {
      sy.proc.kill('SIGTERM');
    }
    assert.equal(await sy.exited, 0);
    const access = sy
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.kind === 'access');
    assert.equal(access.length, 2);
    assert.equal(access[0]?.project, 'hello');
  });

  it('re-reads its file on change and on SIGHUP; a bad edit is refused and the table stays', async () => {
    const a = await startUpstream((_req, res) => res.end('app A'));
    const b = await startUpstream((_req, res) => res.end('app B'));
    const file = join(configDir(), 'switchyard.yaml');
    const project = (url: string) =>
      `listen: { host: 127.0.0.1 }\nprojects:\n  - slug: app\n    deployments:\n      - id: d1\n        upstream: { replicas: ["${url}"] }\n`;
    writeConfig(file, project(a.url));
    const sy = await spawnSwitchyard(['--config', file]);
    const body = async () => (await fetchText(`http://127.0.0.1:${sy.port}/app/`)).body;
    try {
      assert.equal(await body(), 'app A');
      writeConfig(file, project(b.url));
      await eventually(async () => assert.equal(await body(), 'app B', 'the change on disk'));
      writeConfig(file, `${project(a.url)}    production: nope\n`);
      await eventually(() => assert.match(sy.stdout(), /configuration change refused/));
      assert.match(sy.stdout(), /production: got \\"nope\\"/);
      assert.equal(await body(), 'app B', 'the running table stays');
      // SIGHUP re-reads too (write without a rename the watcher might coalesce).
      writeFileSync(file, project(a.url));
      sy.proc.kill('SIGHUP');
      await eventually(async () => assert.equal(await body(), 'app A', 'SIGHUP'));
    } finally {
      sy.proc.kill('SIGTERM');
      await sy.exited;
      await a.close();
      await b.close();
    }
  });

  it('lets in-flight requests finish on SIGTERM, then exits 0', async () => {
    const slow = await startUpstream((_req, res) => {
      setTimeout(() => res.end('finished'), 400);
    });
    const file = join(configDir(), 'switchyard.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1 }\nshutdown: { graceMs: 5000 }\nprojects:\n  - slug: slow\n    deployments:\n      - id: d1\n        upstream: { replicas: ["${slow.url}"] }\n`,
    );
    const sy = await spawnSwitchyard(['--config', file]);
    try {
      const inFlight = fetchText(`http://127.0.0.1:${sy.port}/slow/`);
      await eventually(() => assert.equal(slow.requests.length, 1)); // in flight at the app
      sy.proc.kill('SIGTERM');
      const res = await inFlight;
      assert.equal(res.status, 200);
      assert.equal(res.body, 'finished');
      assert.equal(await sy.exited, 0);
      await assert.rejects(fetchText(`http://127.0.0.1:${sy.port}/slow/`), 'no longer accepting');
    } finally {
      sy.proc.kill('SIGKILL');
      await slow.close();
    }
  });

  it('closes connections still busy at the shutdown deadline', async () => {
    const hang = await startUpstream(() => {});
    const file = join(configDir(), 'switchyard.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1 }\nshutdown: { graceMs: 300 }\nprojects:\n  - slug: hang\n    deployments:\n      - id: d1\n        upstream: { replicas: ["${hang.url}"] }\n`,
    );
    const sy = await spawnSwitchyard(['--config', file]);
    try {
      const inFlight = fetchText(`http://127.0.0.1:${sy.port}/hang/`).catch((err: unknown) => err);
      await eventually(() => assert.equal(hang.requests.length, 1)); // in flight at the app
      const start = Date.now();
      sy.proc.kill('SIGTERM');
      assert.equal(await sy.exited, 0);
      assert.ok(Date.now() - start < 3000, 'exited soon after the deadline');
      assert.ok((await inFlight) instanceof Error);
    } finally {
      sy.proc.kill('SIGKILL');
      await hang.close();
    }
  });
});
