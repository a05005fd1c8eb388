/**
 * Fleet membership: each instance writes its public addresses (and its busiest projects'
 * traffic counters) to the store on a heartbeat (kind `instance`, `fleet.heartbeatMs`), and
 * every instance reads who is alive from its mirror. An instance not
 * heard from for three heartbeats has left (killed, or cut off from the store); a draining
 * one leaves at once. This is what DNS answers are made of (the Route 53 health-check role).
 *
 * Liveness is judged by when this instance saw a heartbeat arrive (its own clock), not by
 * the writer's timestamp, so clock skew between machines does not keep a dead one in.
 */
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Change, JsonValue, StateStore } from '../store/state-store.js';
import type { StoreMirror } from '../store/store-mirror.js';

export interface InstanceRecord {
  readonly id: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly draining: boolean;
  readonly startedAt: string;
  /** The writer's clock; for people and for records found at start-up. */
  readonly seenAt: string;
  /** Its busiest projects' traffic counters (cumulative since it started). */
  readonly traffic?: JsonValue;
}

/** Records not heard from for this long are removed from the store by any instance. */
const FORGET_AFTER_MS = 60 * 60_000;

/** Writes this instance's heartbeat. */
export class InstanceHeartbeat {
  readonly #store: StateStore;
  readonly #mirror: StoreMirror;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #record: Omit<InstanceRecord, 'seenAt' | 'draining'>;
  readonly #extra: () => Pick<InstanceRecord, 'traffic'>;
  #draining = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(options: {
    store: StateStore;
    mirror: StoreMirror;
    logger: Logger;
    id: string;
    hostname: string;
    addresses: readonly string[];
    intervalMs: number;
    /** More fields for each heartbeat. */
    extra?: () => Pick<InstanceRecord, 'traffic'>;
  }) {
    this.#extra = options.extra ?? (() => ({}));
    this.#store = options.store;
    this.#mirror = options.mirror;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs;
    this.#record = {
      id: options.id,
      hostname: options.hostname,
      addresses: options.addresses,
      startedAt: new Date().toISOString(),
    };
  }

  get id(): string {
    return this.#record.id;
  }

  /** The first heartbeat is written before this resolves (when the store is reachable). */
  async start(): Promise<void> {
    await this.#beat();
    this.#schedule();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.#beat().finally(() => {
        if (this.#timer !== undefined) this.#schedule();
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const record: InstanceRecord = {
      ...this.#extra(),
      ...this.#record,
      draining: this.#draining,
      seenAt: new Date().toISOString(),
    };
    const changes: { kind: 'instance'; key: string; value: JsonValue | null }[] = [
      { kind: 'instance', key: record.id, value: record as unknown as JsonValue },
    ];
    // Long-gone instances (killed, never deregistered) leave the store eventually.
    for (const r of this.#mirror.values('instance')) {
      const seenAt = Date.parse((r.value as unknown as InstanceRecord).seenAt);
      if (r.key !== record.id && Date.now() - seenAt > FORGET_AFTER_MS) {
        changes.push({ kind: 'instance', key: r.key, value: null });
      }
    }
    try {
      await this.#store.commit(changes);
      if (this.#failing) this.#logger.info('instance heartbeat written again');
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#logger.warn({ err }, 'instance heartbeat could not be written');
      this.#failing = true;
    }
  }

  /** Leave DNS answers now, while connections drain. */
  async drain(): Promise<void> {
    if (this.#stopped) return;
    this.#draining = true;
    await this.#beat();
  }

  /** Stop beating and remove the record (a clean exit). */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopped = true;
    await this.#store
      .commit([{ kind: 'instance', key: this.#record.id, value: null }])
      .catch(() => {});
  }
}

/** Who is alive, as this instance sees it: fed the mirror's changes. */
export class FleetView {
  readonly #mirror: StoreMirror;
  readonly #staleMs: number;
  /** When a heartbeat of each instance last arrived (this instance's clock). */
  readonly #heardAt = new Map<string, number>();

  constructor(mirror: StoreMirror, heartbeatMs: number) {
    this.#mirror = mirror;
    this.#staleMs = 3 * heartbeatMs;
    this.onChanges('reloaded');
  }

  onChanges(changes: readonly Change[] | 'reloaded', now = Date.now()): void {
    if (changes === 'reloaded') {
      this.#heardAt.clear();
      for (const r of this.#mirror.values('instance')) {
        // Found at start-up or after a resync: judged by the writer's clock this once.
        const seenAt = Date.parse((r.value as unknown as InstanceRecord).seenAt);
        this.#heardAt.set(r.key, Math.min(Number.isNaN(seenAt) ? 0 : seenAt, now));
      }
      return;
    }
    for (const c of changes) {
      if (c.kind !== 'instance') continue;
      if (c.value === null) this.#heardAt.delete(c.key);
      else this.#heardAt.set(c.key, now);
    }
  }

  /** Instances heard from within three heartbeats and not draining. */
  healthy(now = Date.now()): InstanceRecord[] {
    const out: InstanceRecord[] = [];
    for (const r of this.#mirror.values('instance')) {
      const heard = this.#heardAt.get(r.key);
      const record = r.value as unknown as InstanceRecord;
      if (heard !== undefined && now - heard <= this.#staleMs && !record.draining) out.push(record);
    }
    return out;
  }

  /** Every instance record, with whether it counts as healthy (for status views). */
  all(now = Date.now()): (InstanceRecord & { healthy: boolean })[] {
    const healthy = new Set(this.healthy(now).map((r) => r.id));
    return [...this.#mirror.values('instance')].map((r) => ({
      ...(r.value as unknown as InstanceRecord),
      healthy: healthy.has(r.key),
    }));
  }
}

/** This machine's public addresses: its interfaces' addresses, not loopback or link-local. */
export function discoverAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || isIP(a.address) === 0) continue;
      if (a.family === 'IPv6' && /^fe[89ab]/i.test(a.address)) continue; // link-local
      if (a.family === 'IPv4' && a.address.startsWith('169.254.')) continue;
      out.push(a.address);
    }
  }
  return out;
}
