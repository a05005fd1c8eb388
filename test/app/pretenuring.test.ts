/**
 * src/app/pretenuring.ts keeps V8 from tenuring allocation sites. Checked in fresh processes
 * with V8's own trace (`--trace-pretenuring-statistics` prints each site's decision at every
 * scavenge): one literal whose objects all survive, a million of them in a 1 MB young
 * generation, as a per-request literal looks to a starting process's young generation. With
 * the flag turned off no site is tenured; the control, without it, shows V8 tenuring the
 * site, so the test can fail (and tells whoever upgrades Node whether the behaviour is still
 * there).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runProbe } from '../support/v8-probe.js';

const probe = (off: boolean): string => `
const { turnOffPretenuring } = await import('./dist/src/app/pretenuring.js');
if (${off}) turnOffPretenuring();
const kept = [];
const make = (i) => ({ i, next: null, label: 'x' });
for (let i = 0; i < 1000000; i++) kept.push(make(i));
console.log('kept ' + kept.length);
`;

/** V8's pretenuring trace of the probe. */
function pretenuringTrace(off: boolean): Promise<string> {
  // The built module (npm test builds first), not tsx: tsx's loader runs on a thread with an
  // isolate of its own, whose sites V8 traces and may tenure before the flag is set.
  return runProbe(
    // Many scavenges, each a chance to decide.
    ['--trace-pretenuring-statistics', '--max-semi-space-size=1'],
    probe(off),
  );
}

describe('allocation-site pretenuring', () => {
  it('tenures no site once turned off', async () => {
    const out = await pretenuringTrace(true);
    assert.match(out, /^kept 1000000$/m);
    assert.doesNotMatch(out, /=> tenure/, 'a site was tenured');
  });

  it('tenures a surviving site without it (the control)', async () => {
    const out = await pretenuringTrace(false);
    assert.match(out, /=> tenure\b/, `V8 tenured no site here:\n${out.slice(0, 2000)}`);
  });
});
