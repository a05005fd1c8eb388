/**
 * Load-balancing selection: one small interface, one file per policy, one shared test
 * suite (test/balancing/policy-contract.ts). A policy sees the replicas that may take the
 * request now — healthy, not ejected, not draining — and picks one. It never awaits and
 * allocates nothing per pick.
 */

/** What a policy knows about a replica. `ReplicaSet` keeps these up to date. */
export interface Weighted {
  /** Position in the deployment's replica list (stable across picks). */
  readonly index: number;
  /** Relative share of traffic, ≥ 1. */
  readonly weight: number;
  /** Requests in flight to it now. */
  readonly inFlight: number;
}

export interface SelectionPolicy {
  readonly name: PolicyName;
  /**
   * Pick one of `candidates` (never empty). `key` is the request's affinity key for policies
   * that hash (cookie, header or client address), else undefined.
   */
  pick<T extends Weighted>(candidates: readonly T[], key: string | undefined): T;
}

import type { PolicyName } from '../model/vocabulary.js';

export type { PolicyName };
