/**
 * A deployment's replicas, each with its own pooled keep-alive client (undici Pool), taken in
 * turn (round robin). Load-balancing policies and health come later behind this same class.
 */
import { Pool } from 'undici';

export interface UpstreamSettings {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionsPerReplica: number;
}

export interface Replica {
  /** `http://host:port` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Created on first use: a table of 100,000 deployments must not open 100,000 pools. */
  readonly pool: Pool;
}

class LazyReplica implements Replica {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly #origin: string;
  readonly #settings: UpstreamSettings;
  #pool: Pool | undefined;

  constructor(url: string, settings: UpstreamSettings) {
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
  #cursor = 0;

  constructor(urls: readonly string[], settings: UpstreamSettings) {
    this.#replicas = urls.map((url) => new LazyReplica(url, settings));
  }

  get size(): number {
    return this.#replicas.length;
  }

  next(): Replica {
    const replica = this.#replicas[this.#cursor]!;
    this.#cursor = (this.#cursor + 1) % this.#replicas.length;
    return replica;
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
