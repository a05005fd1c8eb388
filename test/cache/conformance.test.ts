/**
 * The HTTP caching test suite (http-cache-tests, behind cache-tests.fyi) against the cache,
 * in CI: a floor under the number of results passed, so conformance can only go up.
 * `npm run bench:cache-conformance` compares with nginx and Varnish.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startSwitchyard, upstreamProject, type TestSwitchyard } from '../support/switchyard.js';
import { freePort, waitForPort } from '../support/ports.js';

const run = promisify(execFile);
const SUITE = dirname(fileURLToPath(import.meta.resolve('http-cache-tests/cli.mjs')));
/** 241 of 350 passed when this floor was set (2026-11-30); a little room for timing. */
const FLOOR = 238;

describe('HTTP caching test suite (http-cache-tests)', () => {
  let origin: ReturnType<typeof spawn>;
  let sy: TestSwitchyard;
  before(async () => {
    const port = await freePort();
    origin = spawn(process.execPath, [join(SUITE, 'server', 'server.mjs')], {
      cwd: SUITE,
      env: {
        ...process.env,
        npm_config_port: String(port),
        npm_config_protocol: 'http',
        npm_config_pidfile: '/dev/null',
      },
      stdio: 'ignore',
    });
    await waitForPort(port, 'the cache test server', origin);
    sy = await startSwitchyard({ projects: [upstreamProject('t', [`http://127.0.0.1:${port}`])] });
  });
  after(async () => {
    await sy.close();
    origin.kill();
    await once(origin, 'exit');
  });

  it(`passes at least ${FLOOR} results`, async () => {
    const { stdout } = await run(process.execPath, ['--no-warnings', join(SUITE, 'cli.mjs')], {
      cwd: SUITE,
      env: { ...process.env, npm_config_base: `${sy.origin}/t`, npm_package_config_id: '' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 110_000,
    });
    const results = Object.entries(JSON.parse(stdout) as Record<string, unknown>);
    const passed = results.filter(([, v]) => v === true).length;
    assert.ok(
      passed >= FLOOR,
      `${passed} of ${results.length} passed, below the floor of ${FLOOR}`,
    );
  });
});
