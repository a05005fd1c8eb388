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
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });
AggregatorRegistry.setRegistries([registry]);
// A worker answers the primary's requests for its metrics once an aggregator exists in it.
if (cluster.isWorker) new AggregatorRegistry();

const requests = new Counter({
  name: 'switchyard_http_requests_total',
  help: 'Requests answered on the data plane, by status class.',
  labelNames: ['status_class'] as const,
  registers: [registry],
});
const duration = new Histogram({
  name: 'switchyard_http_request_duration_seconds',
  help: 'Time from request to the end of the response, on the data plane.',
  buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10],
  registers: [registry],
});
/** One counter child per status class, resolved once: `inc()` on the hot path is a field add. */
const byClass = ['1xx', '2xx', '3xx', '4xx', '5xx'].map((c) => requests.labels(c));

export function countRequest(status: number, seconds: number): void {
  byClass[Math.min(Math.max(Math.floor(status / 100) - 1, 0), 4)]!.inc();
  duration.observe(seconds);
}

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
