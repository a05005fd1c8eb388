/**
 * The embedded state store: one SQLite file in the data directory, through Node's built-in
 * `node:sqlite` (https://nodejs.org/api/sqlite.html): no native addon to build or to keep in
 * step with the runtime (docs/architecture.md says why it replaced better-sqlite3).
 *
 * Every commit is one transaction, so a crash mid-write leaves the previous state. Changes
 * are also appended to a `changes` table under their revision; watchers in this process are
 * told at once, and other processes on the same file (workers) find them by polling
 * `PRAGMA data_version` (https://sqlite.org/pragma.html#pragma_data_version), which only
 * changes when another connection commits. Old changes are trimmed; a watcher that fell
 * further behind than the table reaches is told to resync.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import {
  EVENT_BACKLOG,
  RECORD_KINDS,
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

/** Changes kept for watchers that are behind (other processes poll every POLL_MS). */
const CHANGES_KEPT = 10_000;
const POLL_MS = 50;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
  revision INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,
  version INTEGER NOT NULL, value TEXT);
CREATE TABLE IF NOT EXISTS events (
  stream TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (stream, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0);
`;

interface ChangeRow {
  revision: number;
  kind: string;
  key: string;
  version: number;
  value: string | null;
}

/** A prepared statement with its parameter and row types (node:sqlite's are untyped). */
interface Query<P extends SQLInputValue[], R> {
  get(...params: P): R | undefined;
  all(...params: P): R[];
  run(...params: P): { changes: number | bigint };
}

function query<P extends SQLInputValue[], R = unknown>(db: DatabaseSync, sql: string): Query<P, R> {
  return db.prepare(sql) as unknown as Query<P, R>;
}

/** The same, with rows as arrays in column order: about twice as fast for long results. */
function tupleQuery<P extends SQLInputValue[], R extends unknown[]>(
  db: DatabaseSync,
  sql: string,
): Query<P, R> {
  const statement = db.prepare(sql);
  statement.setReturnArrays(true);
  return statement as unknown as Query<P, R>;
}

const streamOf = (project: string, deployment: string) => `${project}/${deployment}`;

export class EmbeddedStore implements StateStore {
  readonly name = 'embedded';
  readonly connected = true;
  readonly #db: DatabaseSync;
  readonly #listeners = new Set<(e: FeedEvent) => void>();
  #delivered: number;
  #dataVersion: number;
  #poller: NodeJS.Timeout | undefined;
  readonly #stmt;

  /** Opens (creating if needed) the database file; `:memory:` for a private one. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file, { timeout: 5000 });
    // WAL: readers never block the writer (https://sqlite.org/wal.html). FULL: a committed
    // write survives power loss, not only a crash of the process.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
    this.#db.exec(SCHEMA);
    const db = this.#db;
    this.#stmt = {
      get: query<[string, string], { version: number; value: string }>(
        db,
        'SELECT version, value FROM records WHERE kind = ? AND key = ?',
      ),
      list: tupleQuery<
        [string, string, string, string, number],
        [key: string, version: number, value: string]
      >(
        db,
        `SELECT key, version, value FROM records
         WHERE kind = ? AND key > ? AND substr(key, 1, length(?)) = ?
         ORDER BY key LIMIT ?`,
      ),
      all: tupleQuery<[], [kind: string, key: string, version: number, value: string]>(
        db,
        'SELECT kind, key, version, value FROM records',
      ),
      upsert: query<[string, string, number, string]>(
        db,
        `INSERT INTO records (kind, key, version, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (kind, key) DO UPDATE SET version = excluded.version, value = excluded.value`,
      ),
      remove: query<[string, string]>(db, 'DELETE FROM records WHERE kind = ? AND key = ?'),
      revision: query<[], { value: number }>(db, "SELECT value FROM meta WHERE name = 'revision'"),
      setRevision: query<[number]>(db, "UPDATE meta SET value = ? WHERE name = 'revision'"),
      addChange: query<[number, string, string, number, string | null]>(
        db,
        'INSERT INTO changes (revision, kind, key, version, value) VALUES (?, ?, ?, ?, ?)',
      ),
      changesAfter: query<[number], ChangeRow>(
        db,
        'SELECT revision, kind, key, version, value FROM changes WHERE revision > ? ORDER BY revision',
      ),
      oldestChange: query<[], { revision: number | null }>(
        db,
        'SELECT min(revision) AS revision FROM changes',
      ),
      trimChanges: query<[number]>(db, 'DELETE FROM changes WHERE revision <= ?'),
      lastSeq: query<[string], { seq: number | null }>(
        db,
        'SELECT max(seq) AS seq FROM events WHERE stream = ?',
      ),
      addEvent: query<[string, number, string, string, string]>(
        db,
        'INSERT INTO events (stream, seq, at, type, data) VALUES (?, ?, ?, ?, ?)',
      ),
      trimEvents: query<[string, number]>(db, 'DELETE FROM events WHERE stream = ? AND seq <= ?'),
      eventsAfter: tupleQuery<
        [string, number],
        [seq: number, at: string, type: string, data: string]
      >(db, 'SELECT seq, at, type, data FROM events WHERE stream = ? AND seq > ? ORDER BY seq'),
      dropEvents: query<[string]>(db, 'DELETE FROM events WHERE stream = ?'),
      takeLock: query<[string, string, number, number]>(
        db,
        `INSERT INTO locks (name, holder, expires) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
         WHERE locks.expires <= ?`,
      ),
      dataVersion: query<[], { data_version: number }>(db, 'PRAGMA data_version'),
      forgetHistory: query<[string, string, string, string]>(
        db,
        `DELETE FROM changes WHERE kind = ? AND key = ? AND revision <
           (SELECT max(revision) FROM changes WHERE kind = ? AND key = ?)`,
      ),
      releaseLock: query<[string, string]>(db, 'DELETE FROM locks WHERE name = ? AND holder = ?'),
    };
    this.#delivered = this.#revision();
    this.#dataVersion = this.#stmt.dataVersion.get()!.data_version;
  }

  /** Runs `body` in one transaction: all of its writes land, or none do. */
  #transaction<T>(mode: 'IMMEDIATE' | 'DEFERRED', body: () => T): T {
    this.#db.exec(`BEGIN ${mode}`);
    try {
      const out = body();
      this.#db.exec('COMMIT');
      return out;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #revision(): number {
    return this.#stmt.revision.get()!.value;
  }

  get(kind: RecordKind, key: string): Promise<StoredRecord | undefined> {
    const row = this.#stmt.get.get(kind, key);
    return Promise.resolve(
      row && { kind, key, version: row.version, value: JSON.parse(row.value) as JsonValue },
    );
  }

  list(kind: RecordKind, options: ListOptions = {}): Promise<StoredRecord[]> {
    const prefix = options.prefix ?? '';
    const rows = this.#stmt.list.all(
      kind,
      options.after ?? '',
      prefix,
      prefix,
      options.limit ?? -1,
    );
    return Promise.resolve(
      rows.map(([key, version, value]) => ({
        kind,
        key,
        version,
        value: JSON.parse(value) as JsonValue,
      })),
    );
  }

  commit(writes: readonly Write[]): Promise<CommitResult> {
    const result = this.#transaction('IMMEDIATE', (): CommitResult => {
      const current = writes.map((w) => this.#stmt.get.get(w.kind, w.key)?.version ?? 0);
      for (const [i, w] of writes.entries()) {
        if (w.expectedVersion !== undefined && w.expectedVersion !== current[i]) {
          return { ok: false, conflict: { kind: w.kind, key: w.key, version: current[i]! } };
        }
      }
      let revision = this.#revision();
      const changes: Change[] = [];
      for (const [i, w] of writes.entries()) {
        revision++;
        const version = w.value === null ? 0 : current[i]! + 1;
        const text = w.value === null ? null : JSON.stringify(w.value);
        if (text === null) this.#stmt.remove.run(w.kind, w.key);
        else this.#stmt.upsert.run(w.kind, w.key, version, text);
        this.#stmt.addChange.run(revision, w.kind, w.key, version, text);
        changes.push({ revision, kind: w.kind, key: w.key, version, value: w.value });
      }
      this.#stmt.setRevision.run(revision);
      if (revision % 1000 === 0) this.#stmt.trimChanges.run(revision - CHANGES_KEPT);
      return { ok: true, revision, changes };
    });
    if (result.ok) this.#poll();
    return Promise.resolve(result);
  }

  snapshot(): Promise<Snapshot> {
    const read = this.#transaction('DEFERRED', () => ({
      revision: this.#revision(),
      records: this.#stmt.all
        .all()
        .flatMap(([kind, key, version, value]) =>
          isKind(kind) ? [{ kind, key, version, value: JSON.parse(value) as JsonValue }] : [],
        ),
    }));
    return Promise.resolve(read);
  }

  appendEvents(
    project: string,
    deployment: string,
    events: readonly { type: string; data: JsonValue }[],
  ): Promise<DeploymentEvent[]> {
    const stream = streamOf(project, deployment);
    const out = this.#transaction('IMMEDIATE', () => {
      let seq = this.#stmt.lastSeq.get(stream)?.seq ?? 0;
      let revision = this.#revision();
      const at = new Date().toISOString();
      const out: DeploymentEvent[] = [];
      for (const e of events) {
        seq++;
        revision++;
        const event: DeploymentEvent = { seq, type: e.type, data: e.data, at };
        this.#stmt.addEvent.run(stream, seq, at, e.type, JSON.stringify(e.data));
        this.#stmt.addChange.run(revision, 'event', stream, seq, JSON.stringify(event));
        out.push(event);
      }
      this.#stmt.trimEvents.run(stream, seq - EVENT_BACKLOG);
      this.#stmt.setRevision.run(revision);
      return out;
    });
    this.#poll();
    return Promise.resolve(out);
  }

  readEvents(project: string, deployment: string, afterSeq = 0): Promise<DeploymentEvent[]> {
    const rows = this.#stmt.eventsAfter.all(streamOf(project, deployment), afterSeq);
    return Promise.resolve(
      rows.map(([seq, at, type, data]) => ({ seq, at, type, data: JSON.parse(data) as JsonValue })),
    );
  }

  forgetHistory(kind: RecordKind, key: string): Promise<void> {
    this.#stmt.forgetHistory.run(kind, key, kind, key);
    return Promise.resolve();
  }

  deleteEvents(project: string, deployment: string): Promise<void> {
    this.#stmt.dropEvents.run(streamOf(project, deployment));
    return Promise.resolve();
  }

  watch(listener: (event: FeedEvent) => void): () => void {
    this.#listeners.add(listener);
    this.#poller ??= setInterval(() => this.#pollOthers(), POLL_MS).unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        clearInterval(this.#poller);
        this.#poller = undefined;
      }
    };
  }

  /** Another connection (a worker process) committed: deliver its changes. */
  #pollOthers(): void {
    const version = this.#stmt.dataVersion.get()!.data_version;
    if (version === this.#dataVersion) return;
    this.#dataVersion = version;
    this.#poll();
  }

  /** Deliver every change after the last delivered one, or a resync if some were trimmed. */
  #poll(): void {
    const oldest = this.#stmt.oldestChange.get()?.revision ?? null;
    const rows = this.#stmt.changesAfter.all(this.#delivered);
    if (rows.length === 0) return;
    if (oldest !== null && oldest > this.#delivered + 1) {
      this.#delivered = rows.at(-1)!.revision;
      this.#emit({ type: 'resync' });
      return;
    }
    for (const row of rows) {
      this.#delivered = row.revision;
      this.#emit(toFeedEvent(row));
    }
  }

  #emit(event: FeedEvent): void {
    for (const l of this.#listeners) l(event);
  }

  lock(name: string, ttlMs: number): Promise<Lock | undefined> {
    const holder = randomBytes(12).toString('base64url');
    const now = Date.now();
    const taken = this.#stmt.takeLock.run(name, holder, now + ttlMs, now).changes === 1;
    if (!taken) return Promise.resolve(undefined);
    return Promise.resolve({
      name,
      release: () => {
        this.#stmt.releaseLock.run(name, holder);
        return Promise.resolve();
      },
    });
  }

  close(): Promise<void> {
    clearInterval(this.#poller);
    this.#listeners.clear();
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

function isKind(kind: string): kind is RecordKind {
  return (RECORD_KINDS as readonly string[]).includes(kind);
}

function toFeedEvent(row: ChangeRow): FeedEvent {
  if (row.kind === 'event') {
    const slash = row.key.indexOf('/');
    return {
      type: 'event',
      revision: row.revision,
      project: row.key.slice(0, slash),
      deployment: row.key.slice(slash + 1),
      event: JSON.parse(row.value!) as DeploymentEvent,
    };
  }
  return {
    type: 'change',
    change: {
      revision: row.revision,
      kind: row.kind as RecordKind,
      key: row.key,
      version: row.version,
      value: row.value === null ? null : (JSON.parse(row.value) as JsonValue),
    },
  };
}
