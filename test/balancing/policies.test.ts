import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsistentHash } from '../../src/balancing/consistent-hash.js';
import { LeastOutstanding } from '../../src/balancing/least-outstanding.js';
import { PowerOfTwo } from '../../src/balancing/power-of-two.js';
import { RoundRobin } from '../../src/balancing/round-robin.js';
import { policyContract, replicas } from './policy-contract.js';

policyContract('round-robin', () => new RoundRobin(), { keyed: false });
policyContract('least-outstanding', () => new LeastOutstanding(), { keyed: false });
policyContract('power-of-two', () => new PowerOfTwo(), { keyed: false });
policyContract('consistent-hash', (urls, weights) => new ConsistentHash(urls, weights), {
  keyed: true,
});

describe('policies, each on its own terms', () => {
  it('round robin interleaves by weight (a a b a, not a a a b)', () => {
    const policy = new RoundRobin();
    const set = replicas([3, 1]);
    const seq = Array.from({ length: 8 }, () => policy.pick(set, undefined).index).join('');
    assert.equal(seq, '00100010');
  });

  it('least outstanding sends to the replica with the fewest requests in flight per weight', () => {
    const policy = new LeastOutstanding();
    const set = replicas([1, 1, 2]);
    set[0]!.inFlight = 5;
    set[1]!.inFlight = 1;
    set[2]!.inFlight = 4; // 2 per unit of weight
    for (let i = 0; i < 10; i++) assert.equal(policy.pick(set, undefined).index, 1);
  });

  it('power of two never picks the busiest of two', () => {
    const policy = new PowerOfTwo();
    const set = replicas([1, 1]);
    set[0]!.inFlight = 10;
    for (let i = 0; i < 100; i++) assert.equal(policy.pick(set, undefined).index, 1);
  });

  it('consistent hashing keeps a key on its replica and moves about 1/N of keys when one goes', () => {
    const n = 5;
    const urls = Array.from({ length: n }, (_, i) => `http://10.0.0.${i + 1}:3000`);
    const policy = new ConsistentHash(urls, new Array<number>(n).fill(1));
    const all = replicas(new Array<number>(n).fill(1));
    const keys = Array.from({ length: 20_000 }, (_, i) => `session-${i}`);
    const before = keys.map((k) => policy.pick(all, k).index);
    assert.deepEqual(
      keys.slice(0, 100).map((k) => policy.pick(all, k).index),
      before.slice(0, 100),
      'stable',
    );
    const without = all.filter((r) => r.index !== 2);
    const after = keys.map((k) => policy.pick(without, k).index);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] !== after[i]) {
        moved++;
        assert.equal(before[i], 2, 'only keys of the removed replica move');
      }
    }
    const share = moved / keys.length;
    assert.ok(
      Math.abs(share - 1 / n) < 0.05,
      `${(share * 100).toFixed(1)}% moved, expected about ${100 / n}%`,
    );
    // And when it comes back, the same keys return to it.
    assert.deepEqual(
      keys.map((k) => policy.pick(all, k).index),
      before,
    );
  });

  it('consistent hashing without a key falls back to round robin', () => {
    const policy = new ConsistentHash(['a', 'b'], [1, 1]);
    const set = replicas([1, 1]);
    const seq = Array.from({ length: 4 }, () => policy.pick(set, undefined).index).join('');
    assert.equal(seq, '0101');
  });
});
