/**
 * Per-project traffic counters for the dashboard: requests, 4xx and 5xx, bytes sent, cache
 * hits and misses, and a latency histogram — cumulative since start, in memory, one set per
 * process. Readers take differences between two snapshots for rates and percentiles (as
 * Prometheus does with counters), so summing processes and instances is plain addition.
 *
 * Not Prometheus labels: projects are unbounded in number, and a label per project would
 * grow every scrape without limit (docs/metrics.md). At most `MAX_PROJECTS` are counted by
 * name; the rest are counted together under `(other)`.
 */

/** Upper bounds of the latency buckets, in seconds; the last bucket is everything above. */
export const LATENCY_BOUNDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;
export const MAX_PROJECTS = 10_000;
export const OTHER_PROJECTS = '(other)';

export interface TrafficCounters {
  requests: number;
  status4xx: number;
  status5xx: number;
  bytes: number;
  cacheHits: number;
  cacheMisses: number;
  /** Counts per latency bucket (`LATENCY_BOUNDS`, then one for above the last). */
  latency: number[];
}

const emptyCounters = (): TrafficCounters => ({
  requests: 0,
  status4xx: 0,
  status5xx: 0,
  bytes: 0,
  cacheHits: 0,
  cacheMisses: 0,
  latency: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0),
});

export class ProjectTraffic {
  readonly #byProject = new Map<string, TrafficCounters>();

  /** One answered request of a routed project (on the request path: a lookup and adds). */
  record(
    project: string,
    status: number,
    seconds: number,
    bytes: number,
    cacheStatus: string | undefined,
  ): void {
    let c = this.#byProject.get(project);
    if (c === undefined) {
      const key = this.#byProject.size < MAX_PROJECTS ? project : OTHER_PROJECTS;
      c = this.#byProject.get(key);
      if (c === undefined) this.#byProject.set(key, (c = emptyCounters()));
    }
    c.requests++;
    if (status >= 500) c.status5xx++;
    else if (status >= 400) c.status4xx++;
    c.bytes += bytes;
    if (cacheStatus !== undefined) {
      if (cacheStatus.includes('; hit')) c.cacheHits++;
      else c.cacheMisses++;
    }
    let i = 0;
    while (i < LATENCY_BOUNDS.length && seconds > LATENCY_BOUNDS[i]!) i++;
    c.latency[i]!++;
  }

  /** A copy of the counters, the busiest `limit` projects first. */
  snapshot(limit = Infinity): Record<string, TrafficCounters> {
    const entries = [...this.#byProject].sort((a, b) => b[1].requests - a[1].requests);
    const out: Record<string, TrafficCounters> = {};
    for (const [project, c] of entries.slice(0, limit)) {
      out[project] = { ...c, latency: [...c.latency] };
    }
    return out;
  }
}

/** Counters of several processes or instances added up, by project. */
export function sumTraffic(
  parts: Iterable<Readonly<Record<string, TrafficCounters>>>,
): Record<string, TrafficCounters> {
  const out: Record<string, TrafficCounters> = {};
  for (const part of parts) {
    for (const [project, c] of Object.entries(part)) {
      const into = (out[project] ??= emptyCounters());
      into.requests += c.requests;
      into.status4xx += c.status4xx;
      into.status5xx += c.status5xx;
      into.bytes += c.bytes;
      into.cacheHits += c.cacheHits;
      into.cacheMisses += c.cacheMisses;
      c.latency.forEach((n, i) => (into.latency[i] = (into.latency[i] ?? 0) + n));
    }
  }
  return out;
}
