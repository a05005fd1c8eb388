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
  readonly pool: Pool;
}

export class ReplicaSet {
  readonly #replicas: readonly Replica[];
  #cursor = 0;

  constructor(urls: readonly string[], settings: UpstreamSettings) {
    this.#replicas = urls.map((url) => {
      const u = new URL(url);
      return {
        url,
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: Number(u.port || 80),
        pool: new Pool(u.origin, {
          connections: settings.connectionsPerReplica,
          pipelining: 1,
          keepAliveTimeout: settings.keepAliveTimeoutMs,
          headersTimeout: settings.headersTimeoutMs,
          bodyTimeout: settings.idleTimeoutMs,
          connect: { timeout: settings.connectTimeoutMs },
        }),
      };
    });
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
    await Promise.all(this.#replicas.map((r) => r.pool.close()));
  }

  /** Close at once, failing what is in flight. */
  async destroy(): Promise<void> {
    await Promise.all(this.#replicas.map((r) => r.pool.destroy()));
  }
}
