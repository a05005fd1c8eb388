/**
 * Compiling Switchyard's validators leaves V8's root object map room to grow. That map holds
 * at most 1,536 transitions; Ajv's optimiser used to spend ~1,150 of them on the
 * configuration schema, and once it was full every object built from `{}` got a map of its
 * own, which left `process.nextTick` 4× slower for the life of the process
 * (src/config/ajv-options.ts). Checked in a fresh process with V8's own map comparison:
 * objects built alike must keep sharing a map for at least 800 new property names once a whole
 * instance (configuration, data plane, admin API's Fastify routes) has started and the admin
 * body validators are compiled. About 1,000 fit today; the old options left none, and Fastify's
 * route schemas alone took ~270 with Ajv's optimiser on.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const run = promisify(execFile);

const PROBE = `
await import('./src/app/start.ts');
const { startEdge } = await import('./test/support/edge.ts');
const edge = await startEdge();
const { checkBody } = await import('./src/admin/body.ts');
const S = await import('./src/admin/schemas.ts');
for (const schema of [S.ManifestDeployInput, S.DeploymentInput]) {
  try { checkBody(schema, {}); } catch {}
}
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');
const kept = [];
let free = 0;
for (; free < 1600; free++) {
  const a = {};
  const b = {};
  a['probe_' + free] = 1;
  b['probe_' + free] = 1;
  if (!sameMap(a, b)) break;
  kept.push(a);
}
await edge.close();
console.log(JSON.stringify({ free }));
`;

describe('compiled validators', () => {
  it('leave V8’s root object map room for new object shapes', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', PROBE],
      { cwd: new URL('../..', import.meta.url).pathname },
    );
    const { free } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { free: number };
    assert.ok(free >= 800, `only ${free} new object shapes fit before V8's root map is full`);
  });
});
