/**
 * Power of two random choices: take two different replicas at random (by weight) and send
 * the request to the one with fewer requests in flight per unit of weight. Nearly as good as
 * least-outstanding without looking at every replica, and without herding onto one replica
 * when load figures are stale (Mitzenmacher, "The Power of Two Choices", 2001).
 */
import type { SelectionPolicy, Weighted } from './policy.js';

export class PowerOfTwo implements SelectionPolicy {
  readonly name = 'power-of-two';
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  pick<T extends Weighted>(candidates: readonly T[], _key?: string): T {
    const n = candidates.length;
    if (n === 1) return candidates[0]!;
    const a = this.#weightedIndex(candidates, -1);
    const b = this.#weightedIndex(candidates, a);
    const ca = candidates[a]!;
    const cb = candidates[b]!;
    return cb.inFlight / cb.weight < ca.inFlight / ca.weight ? cb : ca;
  }

  /** A random position chosen in proportion to weight, other than `skip`. */
  #weightedIndex(candidates: readonly Weighted[], skip: number): number {
    let total = 0;
    for (let i = 0; i < candidates.length; i++) if (i !== skip) total += candidates[i]!.weight;
    let r = this.#random() * total;
    for (let i = 0; i < candidates.length; i++) {
      if (i === skip) continue;
      r -= candidates[i]!.weight;
      if (r < 0) return i;
    }
    return skip === candidates.length - 1 ? candidates.length - 2 : candidates.length - 1;
  }
}
