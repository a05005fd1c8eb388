/**
 * An in-memory mirror of the whole store, kept current by the change feed: what the route
 * table is compiled from, so the request path never awaits the store.
 *
 * Opening subscribes first and buffers, then reads a snapshot, then applies the buffered
 * changes newer than it, so nothing falls between the two. A `resync` (missed changes)
 * reloads the snapshot; while the store is unreachable the mirror keeps its last state and
 * reports itself degraded, retrying with back-off.
 */
import type { Logger } from 'pino';
import type { Change, FeedEvent, RecordKind, StateStore, StoredRecord } from './state-store.js';

export interface MirrorListener {
  /** Records changed (after a batch of changes or a full reload). */
  onRecords?(changes: readonly Change[] | 'reloaded'): void;
  /** A deployment event arrived (status, log line), from this instance or another. */
  onDeploymentEvent?(event: Extract<FeedEvent, { type: 'event' }>): void;
  /** The store became unreachable or reachable. */
  onConnection?(connected: boolean): void;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

export class StoreMirror {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #listener: MirrorListener;
  readonly #records = new Map<RecordKind, Map<string, StoredRecord>>();
  #revision = 0;
  #buffer: FeedEvent[] | undefined;
  #unwatch: (() => void) | undefined;
  #reloading: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #degraded = false;
  #closed = false;

  private constructor(store: StateStore, logger: Logger, listener: MirrorListener) {
    this.#store = store;
    this.#logger = logger;
    this.#listener = listener;
  }

  static async open(store: StateStore, logger: Logger, listener: MirrorListener = {}) {
    const replica = new StoreMirror(store, logger, listener);
    replica.#unwatch = store.watch((e) => replica.#onFeed(e));
    await replica.#load();
    return replica;
  }

  /** The revision of the store this mirror reflects. */
  get revision(): number {
    return this.#revision;
  }

  /** True while the store is unreachable or the mirror could not reload. */
  get degraded(): boolean {
    return this.#degraded;
  }

  get(kind: RecordKind, key: string): StoredRecord | undefined {
    return this.#records.get(kind)?.get(key);
  }

  values(kind: RecordKind): IterableIterator<StoredRecord> {
    return (this.#records.get(kind) ?? new Map<string, StoredRecord>()).values();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#unwatch?.();
  }

  async #load(): Promise<void> {
    this.#buffer = [];
    const snapshot = await this.#store.snapshot();
    this.#records.clear();
    for (const r of snapshot.records) this.#kind(r.kind).set(r.key, r);
    this.#revision = snapshot.revision;
    const buffered = this.#buffer;
    this.#buffer = undefined;
    const changes: Change[] = [];
    for (const e of buffered) {
      if (e.type === 'change' && e.change.revision > this.#revision) {
        this.#apply(e.change);
        changes.push(e.change);
      } else if (e.type === 'event' && e.revision > snapshot.revision) {
        this.#listener.onDeploymentEvent?.(e);
      }
    }
    this.#setDegraded(false);
  }

  #kind(kind: RecordKind): Map<string, StoredRecord> {
    let m = this.#records.get(kind);
    if (m === undefined) {
      m = new Map();
      this.#records.set(kind, m);
    }
    return m;
  }

  #apply(change: Change): void {
    this.#revision = change.revision;
    if (change.value === null) this.#kind(change.kind).delete(change.key);
    else
      this.#kind(change.kind).set(change.key, {
        kind: change.kind,
        key: change.key,
        version: change.version,
        value: change.value,
      });
  }

  #onFeed(e: FeedEvent): void {
    if (this.#closed) return;
    if (this.#buffer !== undefined && e.type !== 'connection') {
      this.#buffer.push(e);
      return;
    }
    switch (e.type) {
      case 'change':
        if (e.change.revision <= this.#revision) return;
        this.#apply(e.change);
        this.#listener.onRecords?.([e.change]);
        return;
      case 'event':
        this.#revision = Math.max(this.#revision, e.revision);
        this.#listener.onDeploymentEvent?.(e);
        return;
      case 'resync':
        this.#reload();
        return;
      case 'connection':
        if (e.connected) this.#reload();
        else this.#setDegraded(true);
        return;
    }
  }

  /** Reload in full, retrying with back-off while the store is away. */
  #reload(delay = RETRY_MIN_MS): void {
    if (this.#reloading !== undefined || this.#closed) return;
    this.#reloading = this.#load()
      .then(() => {
        this.#reloading = undefined;
        this.#listener.onRecords?.('reloaded');
      })
      .catch((err: unknown) => {
        this.#reloading = undefined;
        this.#buffer = undefined;
        this.#setDegraded(true);
        this.#logger.warn(
          { err, retryInMs: delay },
          'state store reload failed; serving the last known state',
        );
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => this.#reload(Math.min(delay * 2, RETRY_MAX_MS)), delay);
        this.#retryTimer.unref();
      });
  }

  #setDegraded(degraded: boolean): void {
    if (degraded === this.#degraded) return;
    this.#degraded = degraded;
    if (degraded) this.#logger.warn('state store unreachable; serving the last known state');
    else this.#logger.info('state store reachable again');
    this.#listener.onConnection?.(!degraded);
  }
}
