/**
 * Token buckets by key, in memory: `take()` is the whole cost on the request path (one map
 * lookup and a little arithmetic, no allocation once a key has its bucket). With a fleet
 * (`RateExchange`, Redis), every `syncIntervalMs` the instance reports what it admitted per
 * key (for every bucket that is not full) and takes the shared bucket's level as its own;
 * requests never wait for that.
 *
 * Overshoot (docs/security.md): between two reconciliations each of N instances may spend
 * what the shared bucket held at the last one plus its own refill, so a fleet admits at most
 * `burst + rate·W + (N−1)·(burst + rate·Δ)` in any window W (Δ the sync interval plus a Redis
 * round trip); what it overspends is a debt in the shared bucket (down to −burst), repaid
 * before anyone is admitted again, so the long-run rate holds.
 */
import type { Rate, RateExchange, RateUse } from '../model/rate-limit.js';

interface Bucket {
  /** Tokens at `at` (may be below zero: the fleet's debt). */
  tokens: number;
  /** When `tokens` was computed (performance.now() milliseconds). */
  at: number;
  /** Admitted since the fleet was last told. */
  taken: number;
  rate: Rate;
}

/** Most keys sent to the fleet in one reconciliation (the rest wait for the next). */
const SYNC_BATCH = 5000;

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;
  #exchange: RateExchange | undefined;
  #timer: NodeJS.Timeout | undefined;
  #syncing = false;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: { maxKeys: number }) {
    this.#maxKeys = options.maxKeys;
    // Full buckets are the same as absent ones: drop them now and then to bound memory.
    this.#sweeper = setInterval(() => this.#sweep(performance.now()), 10_000).unref();
  }

  /** Keys held now (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Take one token from `key`'s bucket: 0 when there was one (admitted), else the seconds
   * until there will be. `now` is performance.now() (the request's start).
   */
  take(key: string, rate: Rate, now: number): number {
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now);
      b = { tokens: rate.burst, at: now, taken: 0, rate };
      this.#buckets.set(key, b);
    } else {
      if (now > b.at) {
        // (A reconciliation may have stamped the bucket after this request started.)
        const refilled = b.tokens + ((now - b.at) * rate.requestsPerSecond) / 1000;
        b.tokens = refilled > rate.burst ? rate.burst : refilled;
        b.at = now;
      }
      b.rate = rate;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.taken++;
      return 0;
    }
    return (1 - b.tokens) / rate.requestsPerSecond;
  }

  /** Reconcile with a fleet every `intervalMs` from now on. */
  share(exchange: RateExchange, intervalMs: number): void {
    this.#exchange = exchange;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.sync(), intervalMs);
    this.#timer.unref();
  }

  /** One reconciliation (the timer calls it; tests may too). */
  async sync(): Promise<void> {
    const exchange = this.#exchange;
    if (exchange === undefined || this.#syncing) return;
    const sent: Bucket[] = [];
    const uses: RateUse[] = [];
    const now = performance.now();
    for (const [key, b] of this.#buckets) {
      // What it admitted, and the fleet's level for any bucket not full here (so an
      // instance learns what the others spent even while it admits nothing).
      if (
        b.taken === 0 &&
        b.tokens + ((now - b.at) * b.rate.requestsPerSecond) / 1000 >= b.rate.burst
      )
        continue;
      uses.push({ key, rate: b.rate, taken: b.taken });
      sent.push(b);
      b.taken = 0;
      if (uses.length === SYNC_BATCH) break;
    }
    if (uses.length === 0) return;
    this.#syncing = true;
    try {
      const shared = await exchange.exchange(uses);
      const after = performance.now();
      sent.forEach((b, i) => {
        const level = shared[i];
        if (level === undefined || !Number.isFinite(level)) return;
        // The fleet's level, less what this instance admitted while asking.
        b.tokens = level - b.taken;
        b.at = after;
      });
    } catch {
      // The fleet is unreachable: limit locally, and report these admissions next time.
      uses.forEach((u, i) => (sent[i]!.taken += u.taken));
    } finally {
      this.#syncing = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
    clearInterval(this.#sweeper);
  }

  /** Drop buckets that have refilled (and owe the fleet nothing). */
  #sweep(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (
        b.taken === 0 &&
        b.tokens + ((now - b.at) * b.rate.requestsPerSecond) / 1000 >= b.rate.burst
      ) {
        this.#buckets.delete(key);
      }
    }
  }

  /** At the key limit: full buckets first, then the oldest tenth. */
  #evict(now: number): void {
    this.#sweep(now);
    if (this.#buckets.size < this.#maxKeys) return;
    let drop = Math.max(1, Math.floor(this.#maxKeys / 10));
    for (const key of this.#buckets.keys()) {
      this.#buckets.delete(key);
      if (--drop === 0) break;
    }
  }
}
