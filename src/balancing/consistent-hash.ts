/**
 * Consistent hashing for sticky sessions: each replica owns points on a ring (160 per unit
 * of weight); a request's key goes to the owner of the first point at or after its hash.
 * When a replica comes or goes only the keys it owned move — about 1/N of them — and a key
 * whose replica is unavailable falls to the next replica on the ring. Without a key the
 * request goes round robin.
 * (Karger et al., "Consistent hashing and random trees", 1997.)
 */
import type { SelectionPolicy, Weighted } from './policy.js';
import { RoundRobin } from './round-robin.js';

const POINTS_PER_WEIGHT = 160;

/** 32-bit FNV-1a. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Finalise (murmur3 fmix32) so that near keys spread over the ring.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Ring {
  /** Sorted point hashes and, at the same position, the replica index owning each. */
  readonly points: Uint32Array;
  readonly owners: Int32Array;
}

export class ConsistentHash implements SelectionPolicy {
  readonly name = 'consistent-hash';
  readonly #fallback = new RoundRobin();
  /** Ring of every replica this policy was built for, by stable identity. */
  #ring: Ring;

  /** `identities[i]` names replica index i (its URL): the ring depends on names, not order. */
  constructor(identities: readonly string[], weights: readonly number[]) {
    this.#ring = buildRing(identities, weights);
  }

  pick<T extends Weighted>(candidates: readonly T[], key: string | undefined): T {
    if (candidates.length === 1) return candidates[0]!;
    if (key === undefined) return this.#fallback.pick(candidates);
    const { points, owners } = this.#ring;
    const h = hash(key);
    // First point ≥ h (binary search), wrapping round.
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    // Walk on until a point whose owner may take the request.
    for (let step = 0; step < points.length; step++) {
      const owner = owners[(lo + step) % points.length]!;
      for (const c of candidates) if (c.index === owner) return c;
    }
    return this.#fallback.pick(candidates);
  }
}

function buildRing(identities: readonly string[], weights: readonly number[]): Ring {
  const entries: [number, number][] = [];
  identities.forEach((id, index) => {
    const count = POINTS_PER_WEIGHT * Math.max(1, weights[index] ?? 1);
    for (let i = 0; i < count; i++) entries.push([hash(`${id}#${i}`), index]);
  });
  entries.sort((a, b) => a[0] - b[0]);
  return {
    points: Uint32Array.from(entries, (e) => e[0]),
    owners: Int32Array.from(entries, (e) => e[1]),
  };
}

export { hash as consistentHashOf };
