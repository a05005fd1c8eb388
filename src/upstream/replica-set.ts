/**
 * A deployment's replicas, each with its own pooled keep-alive client (undici Pool), picked
 * per request by the deployment's selection policy (src/balancing/).
 *
 * Health, in the manner of Envoy's outlier detection and HAProxy's checks:
 * - passive: `ejectAfter` consecutive failures eject a replica for a time that doubles while
 *   it keeps failing after it comes back; never below `panicPercent` of the replicas;
 * - active (`checkPath`): `unhealthyAfter` failing checks take a replica out,
 *   `healthyAfter` passing ones bring it back (no flapping on one result);
 * - a replica that comes back ramps its weight up over `slowStartMs`.
 * Also a retry budget (retries may add at most `budgetPercent` to recent traffic) and, with
 * `maxConcurrentPerReplica`, a bounded queue in front of full replicas.
 */
import type { Logger } from '../observability/logger.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { Pool } from 'undici';
import type { PolicyName, SelectionPolicy, Weighted } from '../balancing/policy.js';
import { createPolicy } from '../balancing/policies.js';
import { HealthChecker } from './health-checker.js';

export interface HealthSettings {
  readonly ejectAfter: number;
  readonly ejectBaseMs: number;
  readonly ejectMaxMs: number;
  readonly panicPercent: number;
  readonly slowStartMs: number;
  readonly checkPath: string;
  /** Passing statuses, e.g. `200-399` or `200,204`. */
  readonly checkStatus?: string;
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number;
  readonly healthyAfter: number;
  readonly unhealthyAfter: number;
}

export interface UpstreamSettings {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionsPerReplica: number;
  /** Default balancing (a deployment may override it). */
  readonly balancing?: { readonly policy: PolicyName; readonly hashOn: string };
  readonly health?: HealthSettings;
  readonly retries?: { readonly budgetPercent: number; readonly minPerSecond: number };
  readonly maxConcurrentPerReplica?: number;
  readonly queueSize?: number;
  readonly queueTimeoutMs?: number;
  readonly drainMs?: number;
  /** Checks each connection's resolved address, for replicas a tenant registered. */
  readonly addressPolicy?: AddressPolicy;
  /** Longest pause in a client's request body (`limits.bodyIdleTimeoutMs`); absent: none. */
  readonly bodyIdleTimeoutMs?: number;
  /** A WebSocket tunnel quiet both ways this long is closed (`limits.tunnelIdleTimeoutMs`). */
  readonly tunnelIdleTimeoutMs?: number;
  /** Where a tunnel's access-log line goes when it closes; absent: not logged. */
  readonly accessLog?: Logger;
}

export const DEFAULT_HEALTH: HealthSettings = {
  ejectAfter: 5,
  ejectBaseMs: 10_000,
  ejectMaxMs: 300_000,
  panicPercent: 50,
  slowStartMs: 10_000,
  checkPath: '',
  checkIntervalMs: 5_000,
  checkTimeoutMs: 2_000,
  healthyAfter: 2,
  unhealthyAfter: 3,
};

export type ReplicaState = 'healthy' | 'ejected' | 'unhealthy' | 'draining';

export interface Replica extends Weighted {
  /** `http://host:port` */
  readonly url: string;
  /** Requests in flight to it now (the exchange counts them in and out). */
  inFlight: number;
  readonly host: string;
  readonly port: number;
  /** Created on first use: a table of 100,000 deployments must not open 100,000 pools. */
  readonly pool: Pool;
}

/** What the admin API and metrics show of a replica. */
export interface ReplicaView {
  readonly url: string;
  readonly state: ReplicaState;
  readonly weight: number;
  readonly effectiveWeight: number;
  readonly inFlight: number;
  readonly consecutiveFailures: number;
  readonly ejectedUntil: string | null;
  /** Share of recent outcomes that failed (exponentially weighted). */
  readonly errorRate: number;
  /** Recent time to response headers, ms (exponentially weighted). */
  readonly latencyMs: number;
}

const EWMA = 0.1;

class LazyReplica implements Replica {
  readonly index: number;
  readonly baseWeight: number;
  inFlight = 0;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  state: ReplicaState = 'healthy';
  failures = 0;
  ejections = 0;
  ejectedUntil = 0;
  errorRate = 0;
  latencyMs = 0;
  /** Slow start: when the ramp began and ends (0: not ramping). */
  rampFrom = 0;
  rampUntil = 0;
  readonly #origin: string;
  readonly #settings: UpstreamSettings;
  #pool: Pool | undefined;

  constructor(index: number, url: string, weight: number, settings: UpstreamSettings) {
    this.index = index;
    this.baseWeight = weight;
    const u = new URL(url);
    this.url = url;
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.#origin = u.origin;
    this.#settings = settings;
  }

  /** The weight policies see: ramping up from a tenth after the replica came back. */
  get weight(): number {
    if (this.rampUntil === 0) return this.baseWeight;
    const now = Date.now();
    if (now >= this.rampUntil) {
      this.rampUntil = 0;
      return this.baseWeight;
    }
    const share = (now - this.rampFrom) / (this.rampUntil - this.rampFrom);
    return this.baseWeight * Math.max(0.1, share);
  }

  get pool(): Pool {
    const s = this.#settings;
    this.#pool ??= new Pool(this.#origin, {
      connections: s.connectionsPerReplica,
      pipelining: 1,
      keepAliveTimeout: s.keepAliveTimeoutMs,
      headersTimeout: s.headersTimeoutMs,
      bodyTimeout: s.idleTimeoutMs,
      connect: {
        timeout: s.connectTimeoutMs,
        // A tenant's replica: the address its name resolves to is checked on every connect.
        ...(s.addressPolicy === undefined ? {} : { lookup: s.addressPolicy.lookupFor(this.port) }),
      },
    });
    return this.#pool;
  }

  close(): Promise<void> {
    return this.#pool?.close() ?? Promise.resolve();
  }

  destroy(): Promise<void> {
    return this.#pool?.destroy() ?? Promise.resolve();
  }
}

/** Counts over the last ten one-second buckets (the retry budget's window). */
class Window {
  readonly #buckets = new Float64Array(10);
  #second = 0;

  #roll(): void {
    const now = Math.floor(Date.now() / 1000);
    if (now === this.#second) return;
    const gap = Math.min(now - this.#second, 10);
    for (let i = 1; i <= gap; i++) this.#buckets[(this.#second + i) % 10] = 0;
    this.#second = now;
  }

  add(): void {
    this.#roll();
    this.#buckets[this.#second % 10]!++;
  }

  sum(): number {
    this.#roll();
    let s = 0;
    for (const b of this.#buckets) s += b;
    return s;
  }

  current(): number {
    this.#roll();
    return this.#buckets[this.#second % 10]!;
  }
}

interface Waiter {
  readonly key: string | undefined;
  readonly resolve: (replica: Replica | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

export class ReplicaSet {
  readonly #replicas: readonly LazyReplica[];
  readonly #policy: SelectionPolicy;
  readonly #health: HealthSettings;
  readonly #budget: { readonly budgetPercent: number; readonly minPerSecond: number };
  readonly #maxConcurrent: number;
  readonly #queueSize: number;
  readonly #queueTimeoutMs: number;
  /** The replicas in rotation (rebuilt when one changes state); all of them in panic. */
  #available: readonly LazyReplica[];
  readonly #requests = new Window();
  readonly #retries = new Window();
  readonly #queue: Waiter[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #checker: HealthChecker<LazyReplica> | undefined;
  #draining = false;
  #onEvent: ((event: string, replica: string) => void) | undefined;

  constructor(
    urls: readonly string[],
    settings: UpstreamSettings,
    balancing: { policy: PolicyName; weights?: readonly number[]; checkPath?: string } = {
      policy: 'round-robin',
    },
  ) {
    this.#replicas = urls.map(
      (url, i) => new LazyReplica(i, url, balancing.weights?.[i] ?? 1, settings),
    );
    this.#policy = createPolicy(
      balancing.policy,
      this.#replicas.map((r) => ({ url: r.url, weight: r.baseWeight })),
    );
    this.#health = settings.health ?? DEFAULT_HEALTH;
    this.#budget = settings.retries ?? { budgetPercent: 20, minPerSecond: 3 };
    this.#maxConcurrent = settings.maxConcurrentPerReplica ?? 0;
    this.#queueSize = settings.queueSize ?? 100;
    this.#queueTimeoutMs = settings.queueTimeoutMs ?? 5_000;
    this.#available = this.#replicas;
    const path = balancing.checkPath ?? this.#health.checkPath;
    if (path !== '') {
      this.#checker = new HealthChecker(this.#replicas, path, this.#health, (replica, healthy) =>
        this.#onCheck(replica, healthy),
      );
      this.#checker.start();
    }
  }

  get size(): number {
    return this.#replicas.length;
  }

  get policy(): PolicyName {
    return this.#policy.name;
  }

  /** Told about ejections and recoveries (metrics, logs). */
  onEvent(listener: (event: string, replica: string) => void): void {
    this.#onEvent = listener;
  }

  /**
   * The replica for a request with affinity `key`; on a retry, one not in `tried` (a bit per
   * replica index) while there is one. Undefined when every replica is at its concurrency
   * limit (the caller queues with `wait`).
   */
  pick(key?: string, tried = 0): Replica | undefined {
    if (tried === 0) this.#requests.add();
    let candidates = this.#available;
    if (tried !== 0) {
      const left = candidates.filter((r) => (tried & (1 << (r.index % 31))) === 0);
      if (left.length > 0) candidates = left;
    }
    if (this.#maxConcurrent > 0) {
      candidates = candidates.filter((r) => r.inFlight < this.#maxConcurrent);
      if (candidates.length === 0) return undefined;
    }
    return this.#policy.pick(candidates, key);
  }

  /**
   * Wait for a replica with room (under `maxConcurrentPerReplica`). Resolves undefined at
   * once when the queue is full, or after `queueTimeoutMs`.
   */
  wait(key: string | undefined): Promise<Replica | undefined> {
    if (this.#queue.length >= this.#queueSize) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        key,
        resolve,
        timer: setTimeout(() => {
          const at = this.#queue.indexOf(waiter);
          if (at !== -1) this.#queue.splice(at, 1);
          resolve(undefined);
        }, this.#queueTimeoutMs),
      };
      this.#queue.push(waiter);
    });
  }

  /** An attempt on `replica` is over: hand its room to the next waiter. */
  release(): void {
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      const replica = this.pick(next.key);
      if (replica === undefined) return;
      this.#queue.shift();
      clearTimeout(next.timer);
      next.resolve(replica);
    }
  }

  /** May a request be tried again? Only within the retry budget. */
  mayRetry(): boolean {
    const { budgetPercent, minPerSecond } = this.#budget;
    if (
      this.#retries.current() < minPerSecond ||
      this.#retries.sum() < (this.#requests.sum() * budgetPercent) / 100
    ) {
      this.#retries.add();
      return true;
    }
    return false;
  }

  /** The outcome of an attempt: passive health and the replica's recent figures. */
  report(replica: Replica, ok: boolean, latencyMs: number): void {
    const r = replica as LazyReplica;
    r.errorRate = r.errorRate * (1 - EWMA) + (ok ? 0 : EWMA);
    if (ok) {
      r.latencyMs = r.latencyMs === 0 ? latencyMs : r.latencyMs * (1 - EWMA) + latencyMs * EWMA;
      r.failures = 0;
      if (r.ejections > 0 && r.state === 'healthy' && r.rampUntil === 0) r.ejections = 0;
      return;
    }
    r.failures++;
    const { ejectAfter } = this.#health;
    if (ejectAfter > 0 && r.failures >= ejectAfter && r.state === 'healthy') this.#eject(r);
  }

  #eject(r: LazyReplica): void {
    const { ejectBaseMs, ejectMaxMs } = this.#health;
    const duration = Math.min(ejectBaseMs * 2 ** r.ejections, ejectMaxMs);
    r.ejections++;
    r.state = 'ejected';
    r.ejectedUntil = Date.now() + duration;
    this.#recompute();
    this.#onEvent?.('ejected', r.url);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (r.state !== 'ejected') return;
      this.#bringBack(r);
      this.#onEvent?.('readmitted', r.url);
    }, duration);
    timer.unref();
    this.#timers.add(timer);
  }

  #bringBack(r: LazyReplica): void {
    r.state = 'healthy';
    r.failures = 0;
    r.ejectedUntil = 0;
    const ramp = this.#health.slowStartMs;
    if (ramp > 0) {
      r.rampFrom = Date.now();
      r.rampUntil = r.rampFrom + ramp;
    }
    this.#recompute();
  }

  #onCheck(r: LazyReplica, healthy: boolean): void {
    if (!healthy && r.state === 'healthy') {
      r.state = 'unhealthy';
      this.#recompute();
      this.#onEvent?.('unhealthy', r.url);
    } else if (healthy && r.state === 'unhealthy') {
      this.#bringBack(r);
      this.#onEvent?.('healthy', r.url);
    }
  }

  /** Rebuild the rotation; below the panic threshold everyone serves. */
  #recompute(): void {
    const healthy = this.#replicas.filter((r) => r.state === 'healthy');
    const floor = Math.ceil((this.#replicas.length * this.#health.panicPercent) / 100);
    this.#available = healthy.length === 0 || healthy.length < floor ? this.#replicas : healthy;
  }

  /** Every replica's state and recent figures. */
  view(): ReplicaView[] {
    return this.#replicas.map((r) => ({
      url: r.url,
      state: this.#draining ? 'draining' : r.state,
      weight: r.baseWeight,
      effectiveWeight: Math.round(r.weight * 100) / 100,
      inFlight: r.inFlight,
      consecutiveFailures: r.failures,
      ejectedUntil: r.ejectedUntil === 0 ? null : new Date(r.ejectedUntil).toISOString(),
      errorRate: Math.round(r.errorRate * 1000) / 1000,
      latencyMs: Math.round(r.latencyMs * 10) / 10,
    }));
  }

  #stop(): void {
    this.#checker?.stop();
    for (const t of this.#timers) clearTimeout(t);
    for (const w of this.#queue.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
  }

  /** Let in-flight requests finish, then close every pool. */
  async close(): Promise<void> {
    this.#draining = true;
    this.#stop();
    await Promise.all(this.#replicas.map((r) => r.close()));
  }

  /** Close at once, failing what is in flight. */
  async destroy(): Promise<void> {
    this.#stop();
    await Promise.all(this.#replicas.map((r) => r.destroy()));
  }
}
