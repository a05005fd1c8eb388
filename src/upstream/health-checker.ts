/**
 * Active health checks: a GET of `path` on every replica each `checkIntervalMs`, failing on
 * a timeout, a connection error or a status outside `checkStatus` (200–399 by default). A replica changes state only
 * after `unhealthyAfter` failures or `healthyAfter` passes in a row, so one odd result never
 * flaps it. Checks use their own short-lived connections, not the traffic pools.
 */
import { request } from 'undici';
import type { HealthSettings } from './replica-set.js';

interface Checked {
  readonly url: string;
}

export class HealthChecker<R extends Checked> {
  readonly #replicas: readonly R[];
  readonly #path: string;
  readonly #settings: HealthSettings;
  readonly #onChange: (replica: R, healthy: boolean) => void;
  readonly #streak = new Map<R, { ok: boolean; count: number }>();
  readonly #passes: (status: number) => boolean;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    replicas: readonly R[],
    path: string,
    settings: HealthSettings,
    onChange: (replica: R, healthy: boolean) => void,
  ) {
    this.#replicas = replicas;
    this.#path = path;
    this.#settings = settings;
    this.#onChange = onChange;
    this.#passes = statusMatcher(settings.checkStatus ?? '200-399');
  }

  start(): void {
    const tick = () => {
      void Promise.all(this.#replicas.map((r) => this.#check(r))).finally(() => {
        if (this.#stopped) return;
        this.#timer = setTimeout(tick, this.#settings.checkIntervalMs);
        this.#timer.unref();
      });
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #check(replica: R): Promise<void> {
    let ok: boolean;
    try {
      const res = await request(`${replica.url}${this.#path}`, {
        method: 'GET',
        headers: { 'user-agent': 'switchyard-health-check', connection: 'close' },
        headersTimeout: this.#settings.checkTimeoutMs,
        bodyTimeout: this.#settings.checkTimeoutMs,
        signal: AbortSignal.timeout(this.#settings.checkTimeoutMs),
      });
      await res.body.dump();
      ok = this.#passes(res.statusCode);
    } catch {
      ok = false;
    }
    if (this.#stopped) return;
    const streak = this.#streak.get(replica);
    const next =
      streak !== undefined && streak.ok === ok ? { ok, count: streak.count + 1 } : { ok, count: 1 };
    this.#streak.set(replica, next);
    const needed = ok ? this.#settings.healthyAfter : this.#settings.unhealthyAfter;
    if (next.count === needed) this.#onChange(replica, ok);
  }
}

/** `200-399`, `200,204` … as a test on a status code. */
export function statusMatcher(spec: string): (status: number) => boolean {
  const ranges = spec.split(',').map((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return [from!, to!] as const;
  });
  return (status) => ranges.some(([from, to]) => status >= from && status <= to);
}
