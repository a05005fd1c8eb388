/**
 * A deployment's replicas, each with its own pooled keep-alive client (undici Pool), picked
 * per request by the deployment's selection policy (src/balancing/), which sees each
 * replica's weight and the requests in flight to it.
 */
import { Pool } from 'undici';
import type { PolicyName, SelectionPolicy, Weighted } from '../balancing/policy.js';
import { createPolicy } from '../balancing/policies.js';

export interface UpstreamSettings {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionsPerReplica: number;
  /** Default balancing (a deployment may override it). */
  readonly balancing?: { readonly policy: PolicyName; readonly hashOn: string };
}

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

class LazyReplica implements Replica {
  readonly index: number;
  readonly weight: number;
  inFlight = 0;
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly #origin: string;
  readonly #settings: UpstreamSettings;
  #pool: Pool | undefined;

  constructor(index: number, url: string, weight: number, settings: UpstreamSettings) {
    this.index = index;
    this.weight = weight;
    const u = new URL(url);
    this.url = url;
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.#origin = u.origin;
    this.#settings = settings;
  }

  get pool(): Pool {
    const s = this.#settings;
    this.#pool ??= new Pool(this.#origin, {
      connections: s.connectionsPerReplica,
      pipelining: 1,
      keepAliveTimeout: s.keepAliveTimeoutMs,
      headersTimeout: s.headersTimeoutMs,
      bodyTimeout: s.idleTimeoutMs,
      connect: { timeout: s.connectTimeoutMs },
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

export class ReplicaSet {
  readonly #replicas: readonly LazyReplica[];
  readonly #policy: SelectionPolicy;

  constructor(
    urls: readonly string[],
    settings: UpstreamSettings,
    balancing: { policy: PolicyName; weights?: readonly number[] } = { policy: 'round-robin' },
  ) {
    this.#replicas = urls.map(
      (url, i) => new LazyReplica(i, url, balancing.weights?.[i] ?? 1, settings),
    );
    this.#policy = createPolicy(balancing.policy, this.#replicas);
  }

  get size(): number {
    return this.#replicas.length;
  }

  get policy(): PolicyName {
    return this.#policy.name;
  }

  /**
   * The replica for a request with affinity `key`; on a retry, one not in `tried` (a bit
   * per replica index) while there is one.
   */
  pick(key?: string, tried = 0): Replica {
    if (tried === 0) return this.#policy.pick(this.#replicas, key);
    const left = this.#replicas.filter((r) => (tried & (1 << (r.index % 31))) === 0);
    return this.#policy.pick(left.length > 0 ? left : this.#replicas, key);
  }

  /** Let in-flight requests finish, then close every pool. */
  async close(): Promise<void> {
    await Promise.all(this.#replicas.map((r) => r.close()));
  }

  /** Close at once, failing what is in flight. */
  async destroy(): Promise<void> {
    await Promise.all(this.#replicas.map((r) => r.destroy()));
  }
}
