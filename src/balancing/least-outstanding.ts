/**
 * Least outstanding requests: the replica with the fewest requests in flight per unit of
 * weight. Ties go round the list from a moving start, so equal replicas share evenly.
 */
import type { SelectionPolicy, Weighted } from './policy.js';

export class LeastOutstanding implements SelectionPolicy {
  readonly name = 'least-outstanding';
  #start = 0;

  pick<T extends Weighted>(candidates: readonly T[], _key?: string): T {
    const n = candidates.length;
    if (n === 1) return candidates[0]!;
    this.#start = (this.#start + 1) % n;
    let best = candidates[this.#start]!;
    let bestLoad = best.inFlight / best.weight;
    for (let i = 1; i < n; i++) {
      const c = candidates[(this.#start + i) % n]!;
      const load = c.inFlight / c.weight;
      if (load < bestLoad) {
        best = c;
        bestLoad = load;
      }
    }
    return best;
  }
}
