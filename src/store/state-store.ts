/**
 * The state store: projects, deployments, aliases, domains, tokens and certificates, with a
 * change feed and named locks. Two implementations pass one contract suite
 * (test/store/contract.ts): `EmbeddedStore` (SQLite in the data directory, the default) and
 * `RedisStore` (a fleet).
 *
 * The store holds plain JSON records, each with a version; every write is a compare-and-set
 * batch applied atomically, and every applied change gets the next store-wide revision. The
 * typed rules (what a project or a deployment is, which transitions are legal) live in
 * src/control/, above this interface, so both implementations stay small.
 *
 * The data plane never calls the store on a request: a `StoreMirror` (store-mirror.ts) mirrors it in
 * memory from a snapshot plus the change feed, and the route table is compiled from that.
 */
import { SwitchyardError } from '../model/errors.js';

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/** The record collections. Keys are unique within a kind. */
export const RECORD_KINDS = [
  'project',
  'deployment',
  'domain',
  'token',
  'certificate',
  'challenge',
  'order',
  'account',
  'purge',
  'instance',
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface StoredRecord {
  readonly kind: RecordKind;
  readonly key: string;
  /** 1 on creation, +1 on every write. */
  readonly version: number;
  readonly value: JsonValue;
}

export interface Write {
  readonly kind: RecordKind;
  readonly key: string;
  /** The new value, or null to delete. */
  readonly value: JsonValue | null;
  /**
   * Compare-and-set: the version the record must have now (0: it must not exist). Omitted:
   * written whatever the current version.
   */
  readonly expectedVersion?: number;
}

export interface Change {
  readonly revision: number;
  readonly kind: RecordKind;
  readonly key: string;
  /** Version after the change (0 when deleted). */
  readonly version: number;
  readonly value: JsonValue | null;
}

export type CommitResult =
  | { readonly ok: true; readonly revision: number; readonly changes: readonly Change[] }
  | {
      readonly ok: false;
      /** The first write whose expected version did not hold, and the version found. */
      readonly conflict: {
        readonly kind: RecordKind;
        readonly key: string;
        readonly version: number;
      };
    };

/** An entry of a deployment's event log: status changes and build log lines. */
export interface DeploymentEvent {
  /** 1, 2, 3 … within the deployment; the SSE event id. */
  readonly seq: number;
  readonly type: string;
  readonly data: JsonValue;
  /** ISO time the store appended it. */
  readonly at: string;
}

export type FeedEvent =
  | { readonly type: 'change'; readonly change: Change }
  | {
      readonly type: 'event';
      readonly revision: number;
      readonly project: string;
      readonly deployment: string;
      readonly event: DeploymentEvent;
    }
  /** Changes were missed (a reconnect, a gap): reload everything with `snapshot()`. */
  | { readonly type: 'resync' }
  /** The store became unreachable (false) or reachable again (true). */
  | { readonly type: 'connection'; readonly connected: boolean };

export interface Snapshot {
  readonly revision: number;
  readonly records: readonly StoredRecord[];
}

export interface Lock {
  readonly name: string;
  /** Give it up early; harmless after expiry or when someone else took it since. */
  release(): Promise<void>;
}

export interface ListOptions {
  /** Only keys starting with this. */
  readonly prefix?: string;
  /** Only keys after this one (pagination cursor). */
  readonly after?: string;
  readonly limit?: number;
}

/** A store address fit for logs and errors: a password in the URL becomes `***`. */
export function redactStoreUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** How many events a deployment keeps; older ones are dropped (the SSE backlog). */
export const EVENT_BACKLOG = 1000;

export interface StateStore {
  readonly name: 'embedded' | 'redis';
  /** False while the store cannot be reached; reads and writes then fail fast. */
  readonly connected: boolean;
  get(kind: RecordKind, key: string): Promise<StoredRecord | undefined>;
  /** Records of a kind ordered by key. */
  list(kind: RecordKind, options?: ListOptions): Promise<StoredRecord[]>;
  /** Apply every write or none (a conflict). */
  commit(writes: readonly Write[]): Promise<CommitResult>;
  /** Every record and the revision they are at, read consistently. */
  snapshot(): Promise<Snapshot>;
  /** Append to a deployment's event log (kept to the last EVENT_BACKLOG entries). */
  appendEvents(
    project: string,
    deployment: string,
    events: readonly { type: string; data: JsonValue }[],
  ): Promise<DeploymentEvent[]>;
  /** A deployment's events after `afterSeq`, oldest first, as far back as the backlog goes. */
  readEvents(project: string, deployment: string, afterSeq?: number): Promise<DeploymentEvent[]>;
  /** Drop a deployment's event log (its deployment was deleted). */
  deleteEvents(project: string, deployment: string): Promise<void>;
  /**
   * Remove the earlier values of a record from the change history, keeping its latest
   * change (for secrets: superseded key material is not kept). A watcher far behind may be
   * told to resync; none sees a wrong value.
   */
  forgetHistory(kind: RecordKind, key: string): Promise<void>;
  /**
   * Every change and event from now on, in revision order, from this process and any other
   * sharing the store. On a gap, `resync` instead of the missed changes.
   */
  watch(listener: (event: FeedEvent) => void): () => void;
  /** Take a named lock for `ttlMs` unless someone holds it; undefined when taken. */
  lock(name: string, ttlMs: number): Promise<Lock | undefined>;
  close(): Promise<void>;
}

export class StoreUnavailableError extends SwitchyardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SY_STORE_UNAVAILABLE', message, options);
    this.name = 'StoreUnavailableError';
  }
}
