/**
 * Rate limits: a token bucket per client address and per project (`rateLimit.*` in the
 * configuration, a project's own in its record). docs/security.md explains the rule.
 */

/** A token bucket: `burst` requests at once, refilled at `requestsPerSecond` (0: no limit). */
export interface Rate {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

/** A project's own limits, instead of `rateLimit.perClientIp` / `rateLimit.perProject`. */
export interface ProjectRateLimits {
  /** Per client address on this project's hosts (its own bucket per client). */
  readonly perClientIp?: Rate;
  /** All of this project's traffic together. */
  readonly perProject?: Rate;
}

/** What one instance admitted under one key since it last told the fleet. */
export interface RateUse {
  readonly key: string;
  readonly rate: Rate;
  readonly taken: number;
}

/**
 * A fleet's shared buckets (Redis): each instance reports what it admitted and learns what
 * is left in the shared bucket, which may be below zero (the fleet overshot: a debt to repay).
 */
export interface RateExchange {
  exchange(uses: readonly RateUse[]): Promise<number[]>;
}

/** Whether `value` (a state store) can share rate-limit buckets with a fleet. */
export function isRateExchange(value: object): value is RateExchange {
  return typeof (value as Partial<RateExchange>).exchange === 'function';
}
