/**
 * Prometheus metrics (prom-client), served on the admin listener at /metrics. Names are a
 * public API (dashboards and alerts depend on them): see docs/metrics.md.
 *
 * In multi-core mode each worker keeps its own registry; the worker answering a scrape asks
 * the primary, which gathers every worker's registry (prom-client's AggregatorRegistry) so
 * one scrape sees the whole instance.
 */
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });
AggregatorRegistry.setRegistries([registry]);
// A worker answers the primary's requests for its metrics once an aggregator exists in it.
if (cluster.isWorker) new AggregatorRegistry();

/**
 * The two metrics every data-plane request moves are kept in plain typed arrays (an add and
 * a short bucket search per request, no label lookup, no allocation) and handed to
 * prom-client as metric objects read at scrape time — same names, types and output as
 * prom-client's own Counter and Histogram, and summed across workers the same way.
 */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const DURATION_BOUNDS = [0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10];
const byClass = new Float64Array(STATUS_CLASSES.length);
/** Requests per duration bucket (not cumulative; the last one is above every bound). */
const byDuration = new Float64Array(DURATION_BOUNDS.length + 1);
let durationSum = 0;
let durationCount = 0;

export function countRequest(status: number, seconds: number): void {
  byClass[Math.min(Math.max(Math.floor(status / 100) - 1, 0), 4)]!++;
  let i = 0;
  while (i < DURATION_BOUNDS.length && seconds > DURATION_BOUNDS[i]!) i++;
  byDuration[i]!++;
  durationSum += seconds;
  durationCount++;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric prom-client's registry can hold: what its own metrics' `get()` returns. */
function readAtScrape(
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  values: () => MetricValue[],
  reset: () => void,
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => Promise.resolve({ name, help, type, aggregator: 'sum', values: values() }),
    reset,
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

readAtScrape(
  'switchyard_http_requests_total',
  'Requests answered on the data plane, by status class.',
  'counter',
  () =>
    STATUS_CLASSES.flatMap((c, i) =>
      byClass[i]! > 0 ? [{ labels: { status_class: c }, value: byClass[i]! }] : [],
    ),
  () => byClass.fill(0),
);
readAtScrape(
  'switchyard_http_request_duration_seconds',
  'Time from request to the end of the response, on the data plane.',
  'histogram',
  () => {
    const bucket = 'switchyard_http_request_duration_seconds_bucket';
    let below = 0;
    const values: MetricValue[] = DURATION_BOUNDS.map((le, i) => {
      below += byDuration[i]!;
      return { labels: { le }, value: below, metricName: bucket };
    });
    values.push(
      { labels: { le: '+Inf' }, value: durationCount, metricName: bucket },
      {
        labels: {},
        value: durationSum,
        metricName: 'switchyard_http_request_duration_seconds_sum',
      },
      {
        labels: {},
        value: durationCount,
        metricName: 'switchyard_http_request_duration_seconds_count',
      },
    );
    return values;
  },
  () => {
    byDuration.fill(0);
    durationSum = 0;
    durationCount = 0;
  },
);

const upstreamEvents = new Counter({
  name: 'switchyard_upstream_replica_events_total',
  help: 'Replica state changes: ejected, readmitted (passive health), unhealthy, healthy (active checks).',
  labelNames: ['event'] as const,
  registers: [registry],
});

export function countUpstreamEvent(event: string): void {
  upstreamEvents.labels(event).inc();
}

const refusals = new Counter({
  name: 'switchyard_limit_refusals_total',
  help: 'Connections and requests refused by a limit (connections, connections_per_ip, event_streams_per_ip, body_timeout, proxy_protocol, rate_client_ip, rate_project).',
  labelNames: ['limit'] as const,
  registers: [registry],
});

/** Count one refusal by a limit (not on the hot path: only when a limit bites). */
export function countRefusal(limit: string): void {
  refusals.labels(limit).inc();
}

const rateLimited = new Counter({
  name: 'switchyard_rate_limited_total',
  help: 'Requests answered 429 by rate limiting, by project and by which limit (client_ip, project).',
  labelNames: ['project', 'limit'] as const,
  registers: [registry],
});

export function countRateLimited(project: string, limit: 'client_ip' | 'project'): void {
  rateLimited.labels(project, limit).inc();
  refusals.labels(limit === 'project' ? 'rate_project' : 'rate_client_ip').inc();
}

export interface ReplicaFigures {
  readonly project: string;
  readonly deployment: string;
  readonly replica: string;
  readonly state: string;
  readonly inFlight: number;
  readonly errorRate: number;
  readonly latencyMs: number;
}

/** Per-replica gauges, read from the live upstream origins at scrape time. */
export function replicaGauges(read: () => Iterable<ReplicaFigures>): void {
  const labelNames = ['project', 'deployment', 'replica'] as const;
  for (const name of [
    'switchyard_upstream_replica_up',
    'switchyard_upstream_replica_in_flight',
    'switchyard_upstream_replica_error_rate',
    'switchyard_upstream_replica_latency_seconds',
  ]) {
    registry.removeSingleMetric(name);
  }
  const up = new Gauge({
    name: 'switchyard_upstream_replica_up',
    help: '1 while a replica takes traffic (healthy), 0 while ejected, unhealthy or draining.',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      inFlight.reset();
      errorRate.reset();
      latency.reset();
      for (const r of read()) {
        const labels = { project: r.project, deployment: r.deployment, replica: r.replica };
        this.set(labels, r.state === 'healthy' ? 1 : 0);
        inFlight.set(labels, r.inFlight);
        errorRate.set(labels, r.errorRate);
        latency.set(labels, r.latencyMs / 1000);
      }
    },
  });
  const inFlight = new Gauge({
    name: 'switchyard_upstream_replica_in_flight',
    help: 'Requests in flight to a replica.',
    labelNames,
    registers: [registry],
  });
  const errorRate = new Gauge({
    name: 'switchyard_upstream_replica_error_rate',
    help: 'Recent share of failed attempts on a replica (exponentially weighted).',
    labelNames,
    registers: [registry],
  });
  const latency = new Gauge({
    name: 'switchyard_upstream_replica_latency_seconds',
    help: 'Recent time to response headers from a replica (exponentially weighted).',
    labelNames,
    registers: [registry],
  });
  void up;
}

/** Gauges read at scrape time from whoever owns the value. */
export function gauge(name: string, help: string, read: () => number): void {
  registry.removeSingleMetric(name);
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** The exposition text of the whole instance (every worker in multi-core mode). */
export async function metricsText(): Promise<string> {
  if (!cluster.isWorker) return registry.metrics();
  return new Promise((resolve, reject) => {
    const id = randomUUID();
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer with metrics'));
    }, 5000);
    const onMessage = (msg: { type?: string; id?: string; text?: string; error?: string }) => {
      if (msg.type !== 'sy:metrics:reply' || msg.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (msg.error !== undefined) reject(new Error(msg.error));
      else resolve(msg.text ?? '');
    };
    process.on('message', onMessage);
    process.send?.({ type: 'sy:metrics', id });
  });
}

export const METRICS_CONTENT_TYPE = registry.contentType;

/** In the primary: answer workers' requests for the aggregated metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: { type?: string; id?: string }) => {
    if (msg.type !== 'sy:metrics') return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: 'sy:metrics:reply', id: msg.id, text }),
      (err: unknown) => worker.send({ type: 'sy:metrics:reply', id: msg.id, error: String(err) }),
    );
  });
}

const dnsResponses = new Counter({
  name: 'switchyard_dns_responses_total',
  help: 'DNS responses sent, by transport (udp, tcp) and response code (NOERROR, NXDOMAIN, REFUSED, FORMERR, NOTIMP, BADVERS).',
  labelNames: ['transport', 'rcode'] as const,
  registers: [registry],
});
const dnsDropped = new Counter({
  name: 'switchyard_dns_dropped_total',
  help: 'DNS packets and connections dropped unanswered, by transport and reason (malformed, not_a_query, unencodable, connections, not_reading).',
  labelNames: ['transport', 'reason'] as const,
  registers: [registry],
});

export function countDnsResponse(transport: 'udp' | 'tcp', rcode: string): void {
  dnsResponses.labels(transport, rcode).inc();
}

export function countDnsDropped(transport: 'udp' | 'tcp', reason: string): void {
  dnsDropped.labels(transport, reason).inc();
}
