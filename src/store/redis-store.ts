/**
 * The Redis state store, for a fleet of instances sharing state.
 *
 * Layout under a key prefix (default `sy:`): `rec:<kind>` hash key → JSON, `ver:<kind>` hash
 * key → version, `revision` counter, `changes` stream whose entry ids are `<revision>-0`
 * (trimmed to the last CHANGES_KEPT), `ev:<project>/<deployment>` list of events and
 * `evseq` hash of their sequence numbers, `lock:<name>` strings with an expiry.
 *
 * Writes are Lua scripts, so a compare-and-set batch is atomic and its changes are numbered
 * and published in one step (https://redis.io/docs/latest/develop/interact/programmability/eval-intro/).
 * Every instance subscribes to the `changes` channel; a message whose revision is not the
 * next one, or a reconnect, makes it read the missed entries from the stream, and when the
 * stream no longer reaches back that far it is told to resync in full.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  EVENT_BACKLOG,
  RECORD_KINDS,
  StoreUnavailableError,
  redactStoreUrl,
  type Change,
  type CommitResult,
  type DeploymentEvent,
  type FeedEvent,
  type JsonValue,
  type ListOptions,
  type Lock,
  type RecordKind,
  type Snapshot,
  type StateStore,
  type StoredRecord,
  type Write,
} from './state-store.js';

const CHANGES_KEPT = 10_000;

import { APPEND_EVENTS, COMMIT, RATE_EXCHANGE, RELEASE, SNAPSHOT } from './redis-scripts.js';
import type { RateExchange, RateUse } from '../model/rate-limit.js';

/** Values travel through Lua as JSON strings so that cjson never reshapes them. */
interface WireChange {
  revision: number;
  kind: string;
  key: string;
  version: number;
  value: string | null;
}

export interface RedisStoreOptions {
  /** `redis://[:password@]host:port[/db]`, `rediss://…`, or a unix socket path. */
  readonly url: string;
  readonly prefix?: string;
  /** How long a command may wait for a reconnect before failing. */
  readonly commandTimeoutMs?: number;
}

export class RedisStore implements StateStore, RateExchange {
  readonly name = 'redis';
  readonly #prefix: string;
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #listeners = new Set<(e: FeedEvent) => void>();
  #delivered = -1;
  #catchingUp: Promise<void> | undefined;
  /** A message arrived during a catch-up that may not have covered it: catch up again. */
  #again = false;
  #subscribed = false;
  #connected = false;
  #closed = false;

  private constructor(options: RedisStoreOptions) {
    this.#prefix = options.prefix ?? 'sy:';
    const common = {
      lazyConnect: true,
      // Fail fast while the store is away: the data plane keeps its table; writers get 503.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
    };
    const url = options.url;
    this.#cmd = url.startsWith('/') ? new Redis({ path: url, ...common }) : new Redis(url, common);
    this.#sub = this.#cmd.duplicate();
    this.#cmd.on('error', () => {}); // reported through `connected` and the feed
    this.#sub.on('error', () => {});
    this.#cmd.on('close', () => this.#setConnected(false));
    this.#sub.on('close', () => this.#setConnected(false));
    // Reachable again once both connections are back, whichever returns last.
    const onReady = () => {
      if (this.#subscribed && this.#cmd.status === 'ready' && this.#sub.status === 'ready') {
        void this.#resubscribe();
      }
    };
    this.#cmd.on('ready', onReady);
    this.#sub.on('ready', onReady);
    this.#sub.on('message', (_channel: string, message: string) => this.#onMessage(message));
  }

  /** Connects and reads the current revision; rejects when Redis cannot be reached. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    try {
      await Promise.all([store.#cmd.connect(), store.#sub.connect()]);
      await store.#sub.subscribe(`${store.#prefix}changes`);
      store.#subscribed = true;
      store.#delivered = Number((await store.#cmd.get(`${store.#prefix}revision`)) ?? 0);
      store.#connected = true;
    } catch (err) {
      await store.close();
      throw new StoreUnavailableError(`cannot reach Redis at ${redactStoreUrl(options.url)}`, {
        cause: err,
      });
    }
    return store;
  }

  /** Report admissions to the fleet's shared rate-limit buckets; their levels after (RATE_EXCHANGE). */
  async exchange(uses: readonly RateUse[]): Promise<number[]> {
    const args: (string | number)[] = [this.#prefix];
    for (const u of uses) args.push(u.key, u.rate.requestsPerSecond, u.rate.burst, u.taken);
    const levels = (await this.#call('rate exchange', () =>
      this.#cmd.eval(RATE_EXCHANGE, 0, ...args),
    )) as string[];
    return levels.map(Number);
  }

  get connected(): boolean {
    return this.#connected;
  }

  #setConnected(connected: boolean): void {
    if (this.#closed || connected === this.#connected) return;
    this.#connected = connected;
    this.#emit({ type: 'connection', connected });
  }

  async #call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (this.#cmd.status !== 'ready') {
        throw new StoreUnavailableError(`the Redis store is unreachable (${what})`, { cause: err });
      }
      throw err;
    }
  }

  async get(kind: RecordKind, key: string): Promise<StoredRecord | undefined> {
    const [value, version] = await this.#call('get', () =>
      Promise.all([
        this.#cmd.hget(`${this.#prefix}rec:${kind}`, key),
        this.#cmd.hget(`${this.#prefix}ver:${kind}`, key),
      ]),
    );
    if (value === null) return undefined;
    return { kind, key, version: Number(version ?? 1), value: JSON.parse(value) as JsonValue };
  }

  async list(kind: RecordKind, options: ListOptions = {}): Promise<StoredRecord[]> {
    // Hashes are unordered: read the kind whole and page in memory. Kinds stay small enough
    // (projects, deployments) for that; the route table holds all of them anyway.
    const [values, versions] = await this.#call('list', () =>
      Promise.all([
        this.#cmd.hgetall(`${this.#prefix}rec:${kind}`),
        this.#cmd.hgetall(`${this.#prefix}ver:${kind}`),
      ]),
    );
    const prefix = options.prefix ?? '';
    const after = options.after ?? '';
    const keys = Object.keys(values)
      .filter((k) => k.startsWith(prefix) && k > after)
      .sort(compareKeys);
    const page = options.limit === undefined ? keys : keys.slice(0, options.limit);
    return page.map((key) => ({
      kind,
      key,
      version: Number(versions[key] ?? 1),
      value: JSON.parse(values[key]!) as JsonValue,
    }));
  }

  async commit(writes: readonly Write[]): Promise<CommitResult> {
    const wire = writes.map((w) => ({
      kind: w.kind,
      key: w.key,
      value: w.value === null ? undefined : JSON.stringify(w.value),
      expected: w.expectedVersion,
    }));
    const raw = await this.#call('commit', () =>
      this.#cmd.eval(COMMIT, 0, this.#prefix, JSON.stringify(wire), CHANGES_KEPT),
    );
    const result = JSON.parse(raw as string) as
      | { ok: true; changes: string[] }
      | { ok: false; conflict: { kind: RecordKind; key: string; version: number } };
    if (!result.ok) return result;
    const changes = result.changes.map((c) => toChange(JSON.parse(c) as WireChange));
    return { ok: true, revision: changes.at(-1)?.revision ?? this.#delivered, changes };
  }

  async snapshot(): Promise<Snapshot> {
    const raw = (await this.#call('snapshot', () =>
      this.#cmd.eval(SNAPSHOT, 0, this.#prefix, ...RECORD_KINDS),
    )) as [string, ...string[][]];
    const records: StoredRecord[] = [];
    RECORD_KINDS.forEach((kind, i) => {
      const values = raw[1 + 2 * i] as string[];
      const versions = pairs(raw[2 + 2 * i] as string[]);
      for (let j = 0; j < values.length; j += 2) {
        const key = values[j]!;
        records.push({
          kind,
          key,
          version: Number(versions.get(key) ?? 1),
          value: JSON.parse(values[j + 1]!) as JsonValue,
        });
      }
    });
    return { revision: Number(raw[0]), records };
  }

  async appendEvents(
    project: string,
    deployment: string,
    events: readonly { type: string; data: JsonValue }[],
  ): Promise<DeploymentEvent[]> {
    const wire = events.map((e) => ({ type: e.type, data: e.data }));
    const raw = await this.#call('appendEvents', () =>
      this.#cmd.eval(
        APPEND_EVENTS,
        0,
        this.#prefix,
        `${project}/${deployment}`,
        JSON.stringify(wire),
        EVENT_BACKLOG,
        CHANGES_KEPT,
        new Date().toISOString(),
      ),
    );
    return JSON.parse(raw as string) as DeploymentEvent[];
  }

  async readEvents(project: string, deployment: string, afterSeq = 0): Promise<DeploymentEvent[]> {
    const raw = await this.#call('readEvents', () =>
      this.#cmd.lrange(`${this.#prefix}ev:${project}/${deployment}`, 0, -1),
    );
    return raw.map((e) => JSON.parse(e) as DeploymentEvent).filter((e) => e.seq > afterSeq);
  }

  async deleteEvents(project: string, deployment: string): Promise<void> {
    const stream = `${project}/${deployment}`;
    await this.#call('deleteEvents', () =>
      this.#cmd
        .multi()
        .del(`${this.#prefix}ev:${stream}`)
        .hdel(`${this.#prefix}evseq`, stream)
        .exec(),
    );
  }

  async forgetHistory(kind: RecordKind, key: string): Promise<void> {
    const stream = `${this.#prefix}changes`;
    const entries = await this.#call('forgetHistory', () => this.#cmd.xrange(stream, '-', '+'));
    const mine = entries.filter(([, fields]) => {
      const change = JSON.parse(fields[1] ?? '{}') as { kind?: string; key?: string };
      return change.kind === kind && change.key === key;
    });
    const older = mine.slice(0, -1).map(([id]) => id);
    if (older.length > 0) await this.#call('forgetHistory', () => this.#cmd.xdel(stream, ...older));
  }

  watch(listener: (event: FeedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async lock(name: string, ttlMs: number): Promise<Lock | undefined> {
    const key = `${this.#prefix}lock:${name}`;
    const holder = randomBytes(12).toString('base64url');
    const ok = await this.#call('lock', () => this.#cmd.set(key, holder, 'PX', ttlMs, 'NX'));
    if (ok !== 'OK') return undefined;
    return {
      name,
      release: async () => {
        await this.#cmd.eval(RELEASE, 1, key, holder).catch(() => {});
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#cmd.disconnect();
    this.#sub.disconnect();
    return Promise.resolve();
  }

  #emit(event: FeedEvent): void {
    for (const l of this.#listeners) l(event);
  }

  #onMessage(message: string): void {
    const change = JSON.parse(message) as WireChange;
    if (change.revision <= this.#delivered) return;
    if (change.revision === this.#delivered + 1 && this.#catchingUp === undefined) {
      this.#deliver(change);
      return;
    }
    if (this.#catchingUp !== undefined) this.#again = true;
    void this.#catchUp();
  }

  /** After a reconnect: mark reachable again and fetch whatever was published meanwhile. */
  async #resubscribe(): Promise<void> {
    await this.#catchUp();
    if (this.#cmd.status === 'ready') this.#setConnected(true);
  }

  /** Read missed changes from the stream; if it no longer reaches back, resync. */
  #catchUp(): Promise<void> {
    this.#catchingUp ??= (async () => {
      try {
        const from = this.#delivered + 1;
        // The revision first, then the stream: a commit (one script: revision and entry
        // together) landing between the two reads then adds entries past `head`, never an
        // entry missing below it. Read the other way round, such a commit looked like a
        // stream that no longer reaches back, and cost a needless full resync.
        const head = Number((await this.#cmd.get(`${this.#prefix}revision`)) ?? 0);
        const entries = await this.#cmd.xrange(`${this.#prefix}changes`, `${from}-0`, '+');
        const first = entries[0];
        if (head < this.#delivered) {
          // The store was emptied or replaced: everything must be reloaded.
          this.#delivered = head;
          this.#emit({ type: 'resync' });
          return;
        }
        if (
          head > this.#delivered &&
          (first === undefined || Number(first[0].split('-')[0]) !== from)
        ) {
          this.#delivered = head;
          this.#emit({ type: 'resync' });
          return;
        }
        for (const [, fields] of entries) {
          const change = JSON.parse(fields[1]!) as WireChange;
          if (change.revision === this.#delivered + 1) this.#deliver(change);
        }
      } catch {
        // unreachable again: the next reconnect catches up
      } finally {
        this.#catchingUp = undefined;
        if (this.#again) {
          this.#again = false;
          void this.#catchUp();
        }
      }
    })();
    return this.#catchingUp;
  }

  #deliver(change: WireChange): void {
    this.#delivered = change.revision;
    if (change.kind === 'event') {
      const slash = change.key.indexOf('/');
      this.#emit({
        type: 'event',
        revision: change.revision,
        project: change.key.slice(0, slash),
        deployment: change.key.slice(slash + 1),
        event: JSON.parse(change.value!) as DeploymentEvent,
      });
      return;
    }
    this.#emit({ type: 'change', change: toChange(change) });
  }
}

function toChange(c: WireChange): Change {
  return {
    revision: c.revision,
    kind: c.kind as RecordKind,
    key: c.key,
    version: c.version,
    value: c.value === null || c.value === undefined ? null : (JSON.parse(c.value) as JsonValue),
  };
}

function pairs(flat: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i]!, flat[i + 1]!);
  return m;
}

/** Byte order, as SQLite compares keys, so both stores page the same way. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
