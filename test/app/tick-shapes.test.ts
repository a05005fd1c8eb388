/**
 * `process.nextTick` keeps monomorphic property definitions through full garbage collections
 * that happen while no tick is pending, once src/app/tick-shapes.ts holds its entries' shapes.
 * Checked in fresh processes with V8's own feedback dump (`%DebugPrint` of the function lists
 * each inline cache's state): twelve rounds of two full collections, each followed by 2,000
 * ticks, as a server's start and idle moments do. Without the held shapes the same rounds
 * leave the literal's property definitions MEGAMORPHIC; that control shows the test can fail,
 * and tells whoever upgrades Node when the workaround is no longer needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runProbe } from '../support/v8-probe.js';

const probe = (hold: boolean): string => `
const { keepTickObjectShapes, heldTickObjects } = await import('./src/app/tick-shapes.ts');
if (${hold}) {
  keepTickObjectShapes();
  keepTickObjectShapes();
  console.log('held ' + heldTickObjects());
}
const noop = () => {};
for (let round = 0; round < 12; round++) {
  await new Promise((resolve) => setTimeout(resolve, 10));
  globalThis.gc();
  globalThis.gc();
  for (let i = 0; i < 2000; i++) process.nextTick(noop, i);
  await new Promise((resolve) => setImmediate(resolve));
}
new Function('f', '%DebugPrint(f)')(process.nextTick);
`;

/** The states of nextTick's `DefineKeyedOwnPropertyInLiteral` inline caches. */
async function literalCacheStates(hold: boolean): Promise<{ states: string[]; out: string }> {
  const out = await runProbe(
    ['--allow-natives-syntax', '--expose-gc', '--import', 'tsx'],
    probe(hold),
  );
  const states = [...out.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1]!);
  return { states, out };
}

describe('nextTick object shapes', () => {
  it('stay shared through full collections once held', async () => {
    const { states, out } = await literalCacheStates(true);
    assert.match(out, /^held 2$/m, 'one entry without and one with arguments, captured once');
    assert.ok(
      states.length >= 3,
      `expected nextTick's literal caches in the dump: ${states.join(', ')}`,
    );
    assert.deepEqual(
      states.filter((s) => s !== 'MONOMORPHIC'),
      [],
      `nextTick's literal caches: ${states.join(', ')}`,
    );
  });

  it('go megamorphic without it (the control: Node still needs the workaround)', async () => {
    const { states } = await literalCacheStates(false);
    assert.ok(
      states.includes('MEGAMORPHIC'),
      `this Node keeps nextTick's shapes by itself (${states.join(', ')}): ` +
        'src/app/tick-shapes.ts can go',
    );
  });
});
