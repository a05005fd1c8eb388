/**
 * Which buckets a request draws from: its client's (`rateLimit.perClientIp`, or its
 * project's own per-client limit, then a bucket per client on that project) and its
 * project's (`rateLimit.perProject`, or the project's own). Over either: 429
 * `SY_RATE_LIMITED` with `Retry-After` (RFC 9110 §10.2.3) and the IETF `RateLimit-Policy`
 * and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers-10 §2, §3) — on refusals only,
 * so admitted requests carry nothing extra.
 */
import { SwitchyardError } from '../model/errors.js';
import type { ProjectRateLimits, Rate } from '../model/rate-limit.js';
import { clientKey } from '../net/client-key.js';
import { countRateLimited } from '../observability/metrics.js';
import type { TokenBuckets } from './token-buckets.js';

export interface RateDefaults {
  readonly perClientIp: Rate;
  readonly perProject: Rate;
}

const on = (rate: Rate | undefined): rate is Rate =>
  rate !== undefined && rate.requestsPerSecond > 0;

export class RateLimits {
  readonly #buckets: TokenBuckets;
  readonly #defaults: RateDefaults;

  constructor(buckets: TokenBuckets, defaults: RateDefaults) {
    this.#buckets = buckets;
    this.#defaults = defaults;
  }

  /**
   * Draw one request from the buckets that apply; the 429 to send when one is empty.
   * `now` is performance.now() at the request's start.
   */
  check(
    clientIp: string,
    project: string | undefined,
    own: ProjectRateLimits | undefined,
    now: number,
  ): SwitchyardError | undefined {
    const perClient = own?.perClientIp ?? this.#defaults.perClientIp;
    if (on(perClient)) {
      const client = clientKey(clientIp);
      const key = own?.perClientIp === undefined ? `c|${client}` : `pc|${project}|${client}`;
      const wait = this.#buckets.take(key, perClient, now);
      if (wait > 0)
        return refuse('client-ip', perClient, wait, project, 'too many requests from this address');
    }
    if (project === undefined) return undefined;
    const perProject = own?.perProject ?? this.#defaults.perProject;
    if (on(perProject)) {
      const wait = this.#buckets.take(`p|${project}`, perProject, now);
      if (wait > 0)
        return refuse(
          'project',
          perProject,
          wait,
          project,
          `project "${project}" is over its request rate`,
        );
    }
    return undefined;
  }
}

function refuse(
  policy: 'client-ip' | 'project',
  rate: Rate,
  waitSeconds: number,
  project: string | undefined,
  what: string,
): SwitchyardError {
  countRateLimited(project ?? '', policy === 'project' ? 'project' : 'client_ip');
  const retry = Math.max(1, Math.ceil(waitSeconds));
  const window = Math.max(1, Math.ceil(rate.burst / rate.requestsPerSecond));
  return new SwitchyardError(
    'SY_RATE_LIMITED',
    `${what} (${rate.requestsPerSecond}/s, burst ${rate.burst}); retry in ${retry} s`,
    {
      headers: {
        'retry-after': String(retry),
        // A bucket of `burst` that refills in `window` seconds; none left for `retry` seconds.
        'ratelimit-policy': `"${policy}";q=${rate.burst};w=${window}`,
        ratelimit: `"${policy}";r=0;t=${retry}`,
      },
    },
  );
}
