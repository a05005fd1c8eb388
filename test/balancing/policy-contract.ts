/** What every selection policy must do; policies.test.ts runs it for each. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SelectionPolicy, Weighted } from '../../src/balancing/policy.js';

export interface Replica extends Weighted {
  index: number;
  weight: number;
  inFlight: number;
}

export const replicas = (weights: number[]): Replica[] =>
  weights.map((weight, index) => ({ index, weight, inFlight: 0 }));

/**
 * Counts per replica index over `n` picks; keys are distinct when `keyed`. Requests stay in
 * flight for a while (the 64 most recent are outstanding, completing in order), so policies
 * that look at load see some.
 */
export function distribution(
  policy: SelectionPolicy,
  candidates: Replica[],
  n: number,
  keyed: boolean,
): number[] {
  const counts = new Array<number>(candidates.length).fill(0);
  const outstanding: Replica[] = [];
  for (let i = 0; i < n; i++) {
    const picked = policy.pick(candidates, keyed ? `user-${i}` : undefined);
    counts[picked.index]!++;
    picked.inFlight++;
    outstanding.push(picked);
    if (outstanding.length > 64) outstanding.shift()!.inFlight--;
  }
  for (const r of outstanding) r.inFlight--;
  return counts;
}

/**
 * Pearson's χ² statistic against expected shares; with k−1 degrees of freedom the 99.9%
 * critical value is below 27 for k ≤ 8 — a fair policy stays well under it.
 */
function chiSquare(counts: number[], shares: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((sum, c, i) => sum + (c - n * shares[i]!) ** 2 / (n * shares[i]!), 0);
}

export function policyContract(
  name: string,
  make: (urls: string[], weights: number[]) => SelectionPolicy,
  options: { keyed: boolean },
): void {
  const urls = (k: number) => Array.from({ length: k }, (_, i) => `http://10.0.0.${i + 1}:3000`);
  describe(`selection policy contract: ${name}`, () => {
    it('always picks one of the candidates, and the only one when there is one', () => {
      const all = replicas([1, 1, 1, 1]);
      const policy = make(urls(4), [1, 1, 1, 1]);
      const some = [all[0]!, all[2]!];
      for (let i = 0; i < 1000; i++) {
        const picked = policy.pick(some, options.keyed ? `k${i}` : undefined);
        assert.ok(picked === some[0] || picked === some[1]);
      }
      assert.equal(policy.pick([all[3]!], 'x'), all[3]);
    });

    it('spreads traffic evenly over equal replicas (χ² test)', () => {
      const policy = make(urls(4), [1, 1, 1, 1]);
      const counts = distribution(policy, replicas([1, 1, 1, 1]), 20_000, options.keyed);
      const x2 = chiSquare(counts, [0.25, 0.25, 0.25, 0.25]);
      assert.ok(x2 < 27, `χ² ${x2.toFixed(1)} for ${counts.join(', ')}`);
    });

    it('gives replicas traffic in proportion to their weights', () => {
      const policy = make(urls(3), [1, 2, 5]);
      const counts = distribution(policy, replicas([1, 2, 5]), 40_000, options.keyed);
      const shares = counts.map((c) => c / 40_000);
      for (const [i, expected] of [1 / 8, 2 / 8, 5 / 8].entries()) {
        assert.ok(
          Math.abs(shares[i]! - expected) < 0.03,
          `replica ${i}: ${shares[i]!.toFixed(3)} vs ${expected.toFixed(3)}`,
        );
      }
    });
  });
}
