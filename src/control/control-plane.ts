/**
 * The control plane's operations: the rules for projects, deployments, aliases and domains,
 * applied to the state store with compare-and-set commits (retried on a concurrent write),
 * so two instances of a fleet can never both win a race. The admin API is a thin layer over
 * this; so is the CLI, through the admin API.
 */
import { randomBytes } from 'node:crypto';
import { NAME_PATTERN } from '../config/schema.js';
import type { DeploymentStatus, OriginSpec } from '../model/site.js';
import { normalizeHost } from '../routing/host.js';
import {
  StoreUnavailableError,
  type CommitResult,
  type DeploymentEvent,
  type JsonValue,
  type StateStore,
  type StoredRecord,
  type Write,
} from '../store/state-store.js';
import { ControlError } from './control-error.js';
import {
  deploymentKey,
  HISTORY_KEPT,
  TRANSITIONS,
  type DeploymentRecord,
  type DomainRecord,
  type ProjectRecord,
} from './records.js';

const NAME = new RegExp(NAME_PATTERN);
const CAS_ATTEMPTS = 8;

export interface DeploymentInput {
  readonly id?: string;
  readonly status?: DeploymentStatus;
  readonly message?: string;
  readonly origin?: OriginSpec;
  readonly meta?: Record<string, string>;
}

export interface StatusInput {
  readonly status: DeploymentStatus;
  readonly message?: string;
  readonly origin?: OriginSpec;
}

export interface Page<T> {
  readonly items: T[];
  /** Pass as `after` for the next page; absent on the last one. */
  readonly next?: string;
}

const json = (v: unknown) => v as JsonValue;
const now = () => new Date().toISOString();

export class ControlPlane {
  readonly #store: StateStore;
  /** Slugs declared in the configuration file: the API may not create or change them. */
  #declared: ReadonlySet<string>;

  constructor(store: StateStore, declared: ReadonlySet<string> = new Set()) {
    this.#store = store;
    this.#declared = declared;
  }

  get store(): StateStore {
    return this.#store;
  }

  setDeclared(slugs: ReadonlySet<string>): void {
    this.#declared = slugs;
  }

  // ---- projects --------------------------------------------------------------------------

  async createProject(input: {
    slug: string;
    rootPaths?: string[];
    httpsRedirect?: boolean;
  }): Promise<{ project: ProjectRecord; created: boolean }> {
    checkName(input.slug, '/slug', 'project slug');
    if (this.#declared.has(input.slug)) {
      throw new ControlError(
        'conflict',
        `project "${input.slug}" is declared in the configuration file`,
        {
          field: '/slug',
        },
      );
    }
    const at = now();
    const project: ProjectRecord = {
      slug: input.slug,
      rootPaths: input.rootPaths ?? [],
      httpsRedirect: input.httpsRedirect ?? false,
      production: null,
      history: [],
      aliases: {},
      createdAt: at,
      updatedAt: at,
    };
    const result = await this.#commit([
      { kind: 'project', key: input.slug, value: json(project), expectedVersion: 0 },
    ]);
    if (result.ok) return { project, created: true };
    const existing = await this.getProject(input.slug);
    if (
      sameRootPaths(existing.rootPaths, project.rootPaths) &&
      (existing.httpsRedirect ?? false) === project.httpsRedirect
    )
      return { project: existing, created: false };
    throw new ControlError(
      'conflict',
      `project "${input.slug}" already exists with other settings`,
      { field: '/slug' },
    );
  }

  async getProject(slug: string): Promise<ProjectRecord> {
    return (await this.#project(slug)).value;
  }

  async listProjects(options: { after?: string; limit: number }): Promise<Page<ProjectRecord>> {
    const records = await this.#read(() =>
      this.#store.list('project', { after: options.after, limit: options.limit + 1 }),
    );
    return page(
      records.map((r) => r.value as unknown as ProjectRecord),
      options.limit,
      (p) => p.slug,
    );
  }

  async updateProject(
    slug: string,
    changes: { rootPaths?: string[]; httpsRedirect?: boolean },
  ): Promise<ProjectRecord> {
    return this.#updateProject(slug, (p) => ({
      ...p,
      rootPaths: changes.rootPaths ?? p.rootPaths,
      httpsRedirect: changes.httpsRedirect ?? p.httpsRedirect ?? false,
    }));
  }

  /** Deletes the project with its deployments and domains, in one commit: its routes go at once. */
  async deleteProject(slug: string): Promise<{ deployments: DeploymentRecord[] }> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const project = await this.#project(slug);
      const deployments = await this.#read(() =>
        this.#store.list('deployment', { prefix: `${slug}/` }),
      );
      const domains = (await this.#read(() => this.#store.list('domain'))).filter(
        (d) => (d.value as unknown as DomainRecord).project === slug,
      );
      const writes: Write[] = [
        { kind: 'project', key: slug, value: null, expectedVersion: project.version },
        ...deployments.map((d) => ({
          kind: 'deployment' as const,
          key: d.key,
          value: null,
          expectedVersion: d.version,
        })),
        ...domains.map((d) => ({
          kind: 'domain' as const,
          key: d.key,
          value: null,
          expectedVersion: d.version,
        })),
      ];
      if ((await this.#commit(writes)).ok) {
        const records = deployments.map((d) => d.value as unknown as DeploymentRecord);
        await Promise.all(records.map((d) => this.#store.deleteEvents(slug, d.id).catch(() => {})));
        return { deployments: records };
      }
    }
    throw busy();
  }

  // ---- deployments -----------------------------------------------------------------------

  /**
   * Registers a deployment. With a client-chosen id (or an idempotency key) a retried
   * request returns the deployment it created the first time instead of a second one.
   */
  async createDeployment(
    slug: string,
    input: DeploymentInput,
    idempotencyKey?: string,
  ): Promise<{ deployment: DeploymentRecord; created: boolean }> {
    await this.#project(slug);
    if (input.id !== undefined) checkName(input.id, '/id', 'deployment id');
    const status = input.status ?? 'queued';
    if (status === 'ready' && input.origin === undefined) {
      throw new ControlError('invalid', 'a ready deployment needs an origin', { field: '/origin' });
    }
    const meta = {
      ...(input.meta ?? {}),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
    if (idempotencyKey !== undefined) {
      const previous = (await this.listDeployments(slug)).find(
        (d) => d.meta.idempotencyKey === idempotencyKey,
      );
      if (previous !== undefined) return { deployment: previous, created: false };
    }
    const id = input.id ?? newDeploymentId();
    const at = now();
    const deployment: DeploymentRecord = {
      project: slug,
      id,
      status,
      message: input.message ?? null,
      origin: input.origin ?? null,
      meta,
      createdAt: at,
      updatedAt: at,
    };
    const result = await this.#commit([
      {
        kind: 'deployment',
        key: deploymentKey(slug, id),
        value: json(deployment),
        expectedVersion: 0,
      },
    ]);
    if (!result.ok) {
      const existing = await this.getDeployment(slug, id);
      if (existing.status === status && sameJson(existing.origin, deployment.origin)) {
        return { deployment: existing, created: false };
      }
      throw new ControlError(
        'conflict',
        `deployment "${id}" of "${slug}" already exists with other settings`,
        {
          field: '/id',
        },
      );
    }
    await this.#event(slug, id, 'status', { status, message: deployment.message });
    if (status === 'ready') await this.#promoteIfFirst(slug, id);
    return { deployment, created: true };
  }

  async getDeployment(slug: string, id: string): Promise<DeploymentRecord> {
    return (await this.#deployment(slug, id)).value;
  }

  /** A project's deployments, newest first. */
  async listDeployments(slug: string): Promise<DeploymentRecord[]> {
    await this.#project(slug);
    const records = await this.#read(() => this.#store.list('deployment', { prefix: `${slug}/` }));
    return records
      .map((r) => r.value as unknown as DeploymentRecord)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /**
   * `queued → building → ready | error | canceled`; anything else is refused (409). Repeating
   * the current status is accepted (the build server retries). The first deployment of a
   * project to become ready becomes its production deployment.
   */
  async setStatus(slug: string, id: string, input: StatusInput): Promise<DeploymentRecord> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const { value: current, version } = await this.#deployment(slug, id);
      if (current.status === input.status) return current;
      if (!TRANSITIONS[current.status].includes(input.status)) {
        throw new ControlError(
          'illegal-transition',
          `deployment "${id}" is ${current.status}: it cannot become ${input.status}`,
          { field: '/status' },
        );
      }
      const origin = input.origin ?? current.origin;
      if (input.status === 'ready' && origin === null) {
        throw new ControlError('invalid', 'a deployment needs an origin to become ready', {
          field: '/origin',
        });
      }
      const next: DeploymentRecord = {
        ...current,
        status: input.status,
        message: input.message ?? null,
        origin,
        updatedAt: now(),
      };
      const result = await this.#commit([
        {
          kind: 'deployment',
          key: deploymentKey(slug, id),
          value: json(next),
          expectedVersion: version,
        },
      ]);
      if (!result.ok) continue;
      await this.#event(slug, id, 'status', { status: next.status, message: next.message });
      if (next.status === 'ready') await this.#promoteIfFirst(slug, id);
      return next;
    }
    throw busy();
  }

  /**
   * Change the replicas (weights, balancing) of a deployment served by containers. The old
   * set drains: its in-flight requests and WebSockets finish up to `upstream.drainMs`.
   */
  async setOrigin(slug: string, id: string, origin: OriginSpec): Promise<DeploymentRecord> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const { value: current, version } = await this.#deployment(slug, id);
      if (current.origin?.kind === 'static') {
        throw new ControlError(
          'conflict',
          `deployment "${id}" serves uploaded files: its origin cannot change`,
          {
            field: '/upstream',
          },
        );
      }
      const next: DeploymentRecord = { ...current, origin, updatedAt: now() };
      const result = await this.#commit([
        {
          kind: 'deployment',
          key: deploymentKey(slug, id),
          value: json(next),
          expectedVersion: version,
        },
      ]);
      if (result.ok) return next;
    }
    throw busy();
  }

  async appendLog(slug: string, id: string, lines: readonly string[]): Promise<DeploymentEvent[]> {
    await this.#deployment(slug, id);
    return this.#read(() =>
      this.#store.appendEvents(
        slug,
        id,
        lines.map((line) => ({ type: 'log', data: { line } })),
      ),
    );
  }

  async events(slug: string, id: string, afterSeq = 0): Promise<DeploymentEvent[]> {
    await this.#deployment(slug, id);
    return this.#read(() => this.#store.readEvents(slug, id, afterSeq));
  }

  // ---- aliases ---------------------------------------------------------------------------

  /** Points production at a ready deployment; the previous one is kept for rollback. */
  async promote(slug: string, id: string): Promise<ProjectRecord> {
    const deployment = await this.getDeployment(slug, id);
    if (deployment.status !== 'ready') {
      throw new ControlError(
        'not-ready',
        `deployment "${id}" is ${deployment.status}: only a ready deployment can be promoted`,
        {
          field: '/deployment',
        },
      );
    }
    return this.#updateProject(slug, (p) =>
      p.production === id
        ? p
        : {
            ...p,
            production: id,
            history:
              p.production === null
                ? p.history
                : [p.production, ...p.history.filter((h) => h !== id)].slice(0, HISTORY_KEPT),
          },
    );
  }

  /** Points production back at the deployment it pointed at before. */
  async rollback(slug: string): Promise<ProjectRecord> {
    const project = await this.getProject(slug);
    const previous = project.history[0];
    if (previous === undefined) {
      throw new ControlError(
        'conflict',
        `project "${slug}" has no earlier production deployment to roll back to`,
      );
    }
    await this.getDeployment(slug, previous);
    return this.#updateProject(slug, (p) => {
      if (p.history[0] !== previous) throw busy();
      return { ...p, production: previous, history: p.history.slice(1) };
    });
  }

  async setAlias(slug: string, name: string, id: string): Promise<ProjectRecord> {
    checkName(name, '/name', 'alias name');
    await this.getDeployment(slug, id);
    return this.#updateProject(slug, (p) => ({ ...p, aliases: { ...p.aliases, [name]: id } }));
  }

  async deleteAlias(slug: string, name: string): Promise<ProjectRecord> {
    return this.#updateProject(slug, (p) => {
      if (!(name in p.aliases))
        throw new ControlError('not-found', `project "${slug}" has no alias "${name}"`);
      const aliases = { ...p.aliases };
      delete aliases[name];
      return { ...p, aliases };
    });
  }

  // ---- domains ---------------------------------------------------------------------------

  async attachDomain(
    slug: string,
    rawDomain: string,
  ): Promise<{ domain: DomainRecord; created: boolean }> {
    await this.#project(slug);
    const domain = normalizeHost(rawDomain);
    if (
      domain === undefined ||
      !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain)
    ) {
      throw new ControlError('invalid', `"${rawDomain}" is not a domain name`, {
        field: '/domain',
      });
    }
    const record: DomainRecord = {
      domain,
      project: slug,
      verified: false,
      verificationToken: randomBytes(16).toString('hex'),
      createdAt: now(),
    };
    const result = await this.#commit([
      { kind: 'domain', key: domain, value: json(record), expectedVersion: 0 },
    ]);
    if (result.ok) return { domain: record, created: true };
    const existing = await this.#read(() => this.#store.get('domain', domain));
    const value = existing?.value as unknown as DomainRecord | undefined;
    if (value?.project === slug) return { domain: value, created: false };
    throw new ControlError('conflict', `${domain} is attached to another project`, {
      field: '/domain',
    });
  }

  async listDomains(slug: string): Promise<DomainRecord[]> {
    await this.#project(slug);
    const all = await this.#read(() => this.#store.list('domain'));
    return all.map((r) => r.value as unknown as DomainRecord).filter((d) => d.project === slug);
  }

  async detachDomain(slug: string, domain: string): Promise<void> {
    const record = await this.#read(() => this.#store.get('domain', domain));
    if (record === undefined || (record.value as unknown as DomainRecord).project !== slug) {
      throw new ControlError('not-found', `${domain} is not attached to "${slug}"`);
    }
    const result = await this.#commit([
      { kind: 'domain', key: domain, value: null, expectedVersion: record.version },
    ]);
    if (!result.ok) throw busy();
  }

  // ---- helpers ---------------------------------------------------------------------------

  async #promoteIfFirst(slug: string, id: string): Promise<void> {
    await this.#updateProject(slug, (p) => (p.production === null ? { ...p, production: id } : p));
  }

  async #updateProject(
    slug: string,
    update: (p: ProjectRecord) => ProjectRecord,
  ): Promise<ProjectRecord> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const { value, version } = await this.#project(slug);
      const next = update(value);
      if (next === value) return value;
      const stamped = { ...next, updatedAt: now() };
      const result = await this.#commit([
        { kind: 'project', key: slug, value: json(stamped), expectedVersion: version },
      ]);
      if (result.ok) return stamped;
    }
    throw busy();
  }

  async #project(slug: string): Promise<{ value: ProjectRecord; version: number }> {
    const r = await this.#read(() => this.#store.get('project', slug));
    if (r === undefined) throw new ControlError('not-found', `no project is named "${slug}"`);
    return { value: r.value as unknown as ProjectRecord, version: r.version };
  }

  async #deployment(
    slug: string,
    id: string,
  ): Promise<{ value: DeploymentRecord; version: number }> {
    const r = await this.#read(() => this.#store.get('deployment', deploymentKey(slug, id)));
    if (r === undefined)
      throw new ControlError('not-found', `project "${slug}" has no deployment "${id}"`);
    return { value: r.value as unknown as DeploymentRecord, version: r.version };
  }

  async #event(
    slug: string,
    id: string,
    type: string,
    data: Record<string, JsonValue>,
  ): Promise<void> {
    await this.#read(() => this.#store.appendEvents(slug, id, [{ type, data }]));
  }

  #commit(writes: Write[]): Promise<CommitResult> {
    return this.#read(() => this.#store.commit(writes));
  }

  /** Runs a store call, turning an unreachable store into a 503 for the API. */
  async #read<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof StoreUnavailableError) {
        throw new ControlError(
          'store-unavailable',
          'the state store is unreachable; try again shortly',
          { cause: err },
        );
      }
      throw err;
    }
  }
}

function checkName(value: string, field: string, what: string): void {
  if (value.length > 63 || !NAME.test(value) || value.includes('--')) {
    throw new ControlError(
      'invalid',
      `${what} "${value.slice(0, 80)}" must be 1–63 lower-case letters, digits and single hyphens`,
      { field },
    );
  }
}

function busy(): ControlError {
  return new ControlError('conflict', 'the record kept changing under this request; retry it');
}

function page<T>(items: T[], limit: number, key: (t: T) => string): Page<T> {
  if (items.length <= limit) return { items };
  const shown = items.slice(0, limit);
  return { items: shown, next: key(shown.at(-1)!) };
}

function sameRootPaths(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Sortable by creation (time first) and unguessable: `d` + base36 time + random. */
export function newDeploymentId(): string {
  return `d${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

export type { StoredRecord };
