/**
 * What every control-plane rule does with the state store: read and commit, with an
 * unreachable store turned into a 503 for the API; compare-and-set retries; and the common
 * look-ups (a project, a deployment) that answer 404 when the record is missing. Each
 * resource (projects.ts, deployments.ts …) is written on top of this.
 */
import {
  StoreUnavailableError,
  type CommitResult,
  type DeploymentEvent,
  type JsonValue,
  type RecordKind,
  type StateStore,
  type StoredRecord,
  type Write,
  type ListOptions,
} from '../store/state-store.js';
import { isName } from '../model/vocabulary.js';
import { ControlError } from './control-error.js';
import { deploymentKey, type DeploymentRecord, type ProjectRecord } from './records.js';

/** Compare-and-set attempts before a request gives up with 409 (someone keeps writing). */
export const CAS_ATTEMPTS = 8;

export const json = (v: unknown) => v as JsonValue;
export const now = () => new Date().toISOString();

export interface Page<T> {
  readonly items: T[];
  /** Pass as `after` for the next page; absent on the last one. */
  readonly next?: string;
}

export class ControlStore {
  readonly #store: StateStore;
  /** Slugs the configuration file declares (served, but not managed through the API). */
  declared: ReadonlySet<string> = new Set();

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** Runs a store call, turning an unreachable store into a 503 for the API. */
  async run<T>(call: (store: StateStore) => Promise<T>): Promise<T> {
    try {
      return await call(this.#store);
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        throw new ControlError(
          'SY_STORE_UNAVAILABLE',
          'the state store is unreachable; try again shortly',
          { cause: err },
        );
      }
      throw err;
    }
  }

  commit(writes: readonly Write[]): Promise<CommitResult> {
    return this.run((s) => s.commit(writes));
  }

  get(kind: RecordKind, key: string): Promise<StoredRecord | undefined> {
    return this.run((s) => s.get(kind, key));
  }

  list(kind: RecordKind, options?: ListOptions): Promise<StoredRecord[]> {
    return this.run((s) => s.list(kind, options));
  }

  appendEvents(
    project: string,
    deployment: string,
    events: readonly { type: string; data: JsonValue }[],
  ): Promise<DeploymentEvent[]> {
    return this.run((s) => s.appendEvents(project, deployment, events));
  }

  async project(slug: string): Promise<{ value: ProjectRecord; version: number }> {
    const r = await this.get('project', slug);
    if (r === undefined && this.declared.has(slug)) {
      throw new ControlError(
        'SY_CONFLICT',
        `project "${slug}" is declared in the configuration file: change it there (the API manages the projects in the store)`,
      );
    }
    if (r === undefined) {
      throw new ControlError('SY_RESOURCE_NOT_FOUND', `no project is named "${slug}"`);
    }
    return { value: r.value as unknown as ProjectRecord, version: r.version };
  }

  async deployment(
    slug: string,
    id: string,
  ): Promise<{ value: DeploymentRecord; version: number }> {
    const r = await this.get('deployment', deploymentKey(slug, id));
    if (r === undefined) {
      throw new ControlError(
        'SY_RESOURCE_NOT_FOUND',
        `project "${slug}" has no deployment "${id}"`,
      );
    }
    return { value: r.value as unknown as DeploymentRecord, version: r.version };
  }

  /** Applies `update` to a project with compare-and-set, retried; unchanged: no write. */
  async updateProject(
    slug: string,
    update: (p: ProjectRecord) => ProjectRecord,
  ): Promise<ProjectRecord> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const { value, version } = await this.project(slug);
      const next = update(value);
      if (next === value) return value;
      const stamped = { ...next, updatedAt: now() };
      const result = await this.commit([
        { kind: 'project', key: slug, value: json(stamped), expectedVersion: version },
      ]);
      if (result.ok) return stamped;
    }
    throw busy();
  }
}

export function checkName(value: string, field: string, what: string): void {
  if (!isName(value)) {
    throw new ControlError(
      'SY_INVALID',
      `${what} "${value.slice(0, 80)}" must be 1–63 lower-case letters, digits and single hyphens`,
      { field },
    );
  }
}

export function busy(): ControlError {
  return new ControlError('SY_CONFLICT', 'the record kept changing under this request; retry it');
}

export function page<T>(items: T[], limit: number, key: (t: T) => string): Page<T> {
  if (items.length <= limit) return { items };
  const shown = items.slice(0, limit);
  return { items: shown, next: key(shown.at(-1)!) };
}
