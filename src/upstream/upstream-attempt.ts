/**
 * One request's way through a deployment's replicas — the only place that picks, counts and
 * retries, used by proxied requests, the HTTP cache's fetches and WebSocket tunnels alike
 * (Envoy's and Pingora's "upstream attempt"). Each attempt counts as load on its replica
 * from `begin` until `done`, and its outcome feeds passive health.
 *
 * Retry rule: another replica only where provably safe —
 * - a connection that was never made (refused, unreachable, connect timeout): nothing reached
 *   the app, so it always goes on to a replica not tried yet, whatever the retry budget says
 *   (the budget bounds extra load on a sick app; a refused connection puts none on it);
 * - an idempotent request without a body whose connection broke before any answer: within
 *   the retry budget (the app may have seen it).
 */
import type { Replica, ReplicaSet } from './replica-set.js';
import { isConnectFailure, isCutBeforeAnswer } from './upstream-errors.js';

export class UpstreamAttempt {
  readonly #replicas: ReplicaSet;
  readonly #key: string | undefined;
  /** Replicas tried so far, a bit per index (a retry goes elsewhere). */
  #tried = 0;
  #count = 0;
  #current: Replica | undefined;
  #sentAt = 0;

  /** `key`: the request's affinity key for hashing policies. */
  constructor(replicas: ReplicaSet, key: string | undefined) {
    this.#replicas = replicas;
    this.#key = key;
  }

  /** The replica of the attempt in progress. */
  get replica(): Replica | undefined {
    return this.#current;
  }

  /** Starts an attempt on a replica with room now; undefined when every one is at its limit. */
  next(): Replica | undefined {
    const replica = this.#replicas.pick(this.#key, this.#tried);
    if (replica !== undefined) this.#begin(replica);
    return replica;
  }

  /** Waits in the bounded queue for a replica with room; undefined when the queue refuses. */
  async wait(): Promise<Replica | undefined> {
    const replica = await this.#replicas.wait(this.#key);
    if (replica !== undefined) this.#begin(replica);
    return replica;
  }

  #begin(replica: Replica): void {
    this.#tried |= 1 << (replica.index % 31);
    this.#count++;
    replica.inFlight++;
    this.#current = replica;
    this.#sentAt = performance.now();
  }

  /** The attempt's outcome for passive health: an answer (5xx counts against), or a failure. */
  report(ok: boolean): void {
    const replica = this.#current;
    if (replica !== undefined) this.#replicas.report(replica, ok, performance.now() - this.#sentAt);
  }

  /** The attempt is over (answered, failed or cut): it no longer counts as load. Idempotent. */
  done(): void {
    const replica = this.#current;
    if (replica === undefined) return;
    replica.inFlight--;
    this.#current = undefined;
    this.#replicas.release();
  }

  /**
   * Whether a failed attempt may go to another replica (the rule above). `replayable`: the
   * request is idempotent, has no body, and got no answer yet.
   */
  mayRetry(err: unknown, replayable: boolean): boolean {
    if (this.#count >= this.#replicas.size) return false;
    if (isConnectFailure(err)) return true;
    return replayable && isCutBeforeAnswer(err) && this.#replicas.mayRetry();
  }
}
