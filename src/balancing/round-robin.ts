/**
 * Weighted round robin, smooth (nginx's algorithm): every pick adds each candidate's weight
 * to its running score, takes the highest and subtracts the total from it, so a replica of
 * weight 3 next to one of weight 1 gets a a b a — spread out, not bunched.
 * https://github.com/phusion/nginx/commit/27e94984486058d73157038f7950a0a36ecc6e35
 */
import type { SelectionPolicy, Weighted } from './policy.js';

export class RoundRobin implements SelectionPolicy {
  readonly name = 'round-robin';
  /** Running score per replica index. */
  readonly #score: number[] = [];

  pick<T extends Weighted>(candidates: readonly T[], _key?: string): T {
    if (candidates.length === 1) return candidates[0]!;
    let total = 0;
    let best: T | undefined;
    let bestScore = -Infinity;
    for (const c of candidates) {
      const score = (this.#score[c.index] ?? 0) + c.weight;
      this.#score[c.index] = score;
      total += c.weight;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    this.#score[best!.index] = bestScore - total;
    return best!;
  }
}
