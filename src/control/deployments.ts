/**
 * The rules for deployments: register (idempotent), the status machine
 * (model/vocabulary.ts), origins that change while serving, build logs and events.
 */
import { randomBytes } from 'node:crypto';
import type { OriginSpec } from '../model/site.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { TRANSITIONS, type DeploymentStatus } from '../model/vocabulary.js';
import type { DeploymentEvent, Write } from '../store/state-store.js';
import { ControlError } from './control-error.js';
import { busy, CAS_ATTEMPTS, checkName, json, now, type ControlStore } from './control-store.js';
import { deploymentKey, type DeploymentRecord, type ProjectRecord } from './records.js';

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

/** Who asks: the platform itself (an unbound admin token, trusted) or a tenant. */
export interface Caller {
  readonly trusted: boolean;
}

const TENANT: Caller = { trusted: false };

export class Deployments {
  readonly #store: ControlStore;
  readonly #policy: AddressPolicy;

  constructor(store: ControlStore, policy: AddressPolicy) {
    this.#store = store;
    this.#policy = policy;
  }

  /**
   * A tenant's replicas must pass the address policy (net/address-policy.ts): checked now,
   * and marked so that every connection is checked again on the resolved address.
   */
  async #checked<T extends OriginSpec | undefined>(
    origin: T,
    caller: Caller,
    field: string,
  ): Promise<T> {
    if (origin === undefined || origin.kind !== 'upstream' || caller.trusted) return origin;
    for (const [i, url] of origin.replicas.entries()) {
      const why = await this.#policy.checkUrl(url);
      if (why !== undefined) {
        throw new ControlError('SY_INVALID', `replica ${url} is refused: ${why}`, {
          field: `${field}/replicas/${i}`,
        });
      }
    }
    return { ...origin, checked: true };
  }

  /**
   * Registers a deployment. With a client-chosen id (or an idempotency key) a retried
   * request returns the deployment it created the first time instead of a second one.
   */
  async create(
    slug: string,
    input: DeploymentInput,
    idempotencyKey?: string,
    caller: Caller = TENANT,
  ): Promise<{ deployment: DeploymentRecord; created: boolean }> {
    await this.#store.project(slug);
    input = { ...input, origin: await this.#checked(input.origin, caller, '/origin/upstream') };
    if (input.id !== undefined) checkName(input.id, '/id', 'deployment id');
    const status = input.status ?? 'queued';
    if (status === 'ready' && input.origin === undefined) {
      throw new ControlError('SY_INVALID', 'a ready deployment needs an origin', {
        field: '/origin',
      });
    }
    if (idempotencyKey !== undefined) {
      const previous = (await this.list(slug)).find(
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
      meta: { ...(input.meta ?? {}), ...(idempotencyKey === undefined ? {} : { idempotencyKey }) },
      createdAt: at,
      updatedAt: at,
    };
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const writes: Write[] = [
        {
          kind: 'deployment',
          key: deploymentKey(slug, id),
          value: json(deployment),
          expectedVersion: 0,
        },
      ];
      const promote = status === 'ready' ? await this.#promoteIfFirst(slug, id) : undefined;
      if (promote !== undefined) writes.push(promote);
      const result = await this.#store.commit(writes);
      if (result.ok) {
        await this.#statusEvent(deployment);
        return { deployment, created: true };
      }
      if (result.conflict.kind === 'project') continue; // production moved meanwhile
      const existing = await this.get(slug, id);
      if (existing.status === status && sameJson(existing.origin, deployment.origin)) {
        return { deployment: existing, created: false };
      }
      throw new ControlError(
        'SY_CONFLICT',
        `deployment "${id}" of "${slug}" already exists with other settings`,
        { field: '/id' },
      );
    }
    throw busy();
  }

  async get(slug: string, id: string): Promise<DeploymentRecord> {
    return (await this.#store.deployment(slug, id)).value;
  }

  /** A project's deployments, newest first. */
  async list(slug: string): Promise<DeploymentRecord[]> {
    await this.#store.project(slug);
    const records = await this.#store.list('deployment', { prefix: `${slug}/` });
    return records
      .map((r) => r.value as unknown as DeploymentRecord)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /**
   * `queued → building → ready | error | canceled`; anything else is refused (409). The new
   * status and, for the project's first ready deployment, the production pointer are one
   * commit: a failure cannot leave a ready deployment unpromoted. Repeating the current
   * status is accepted (the build server retries) and only makes sure its event was told.
   */
  async setStatus(
    slug: string,
    id: string,
    input: StatusInput,
    caller: Caller = TENANT,
  ): Promise<DeploymentRecord> {
    input = { ...input, origin: await this.#checked(input.origin, caller, '/origin/upstream') };
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const { value: current, version } = await this.#store.deployment(slug, id);
      if (current.status === input.status) {
        await this.#statusEvent(current, true);
        return current;
      }
      if (!TRANSITIONS[current.status].includes(input.status)) {
        throw new ControlError(
          'SY_ILLEGAL_TRANSITION',
          `deployment "${id}" is ${current.status}: it cannot become ${input.status}`,
          { field: '/status' },
        );
      }
      const origin = input.origin ?? current.origin;
      if (input.status === 'ready' && origin === null) {
        throw new ControlError('SY_INVALID', 'a deployment needs an origin to become ready', {
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
      const writes: Write[] = [
        {
          kind: 'deployment',
          key: deploymentKey(slug, id),
          value: json(next),
          expectedVersion: version,
        },
      ];
      const promote = next.status === 'ready' ? await this.#promoteIfFirst(slug, id) : undefined;
      if (promote !== undefined) writes.push(promote);
      if (!(await this.#store.commit(writes)).ok) continue;
      await this.#statusEvent(next);
      return next;
    }
    throw busy();
  }

  /**
   * Change the replicas (weights, balancing) of a deployment served by containers. The old
   * set drains: its in-flight requests and WebSockets finish up to `upstream.drainMs`.
   */
  async setOrigin(
    slug: string,
    id: string,
    requested: OriginSpec,
    caller: Caller = TENANT,
  ): Promise<DeploymentRecord> {
    const origin = await this.#checked(requested, caller, '/upstream');
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const { value: current, version } = await this.#store.deployment(slug, id);
      if (current.origin?.kind === 'static') {
        throw new ControlError(
          'SY_CONFLICT',
          `deployment "${id}" serves uploaded files: its origin cannot change`,
          { field: '/upstream' },
        );
      }
      const next: DeploymentRecord = { ...current, origin, updatedAt: now() };
      const result = await this.#store.commit([
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
    await this.#store.deployment(slug, id);
    return this.#store.appendEvents(
      slug,
      id,
      lines.map((line) => ({ type: 'log', data: { line } })),
    );
  }

  async events(slug: string, id: string, afterSeq = 0): Promise<DeploymentEvent[]> {
    await this.#store.deployment(slug, id);
    return this.#store.run((s) => s.readEvents(slug, id, afterSeq));
  }

  /** The write that makes `id` production if the project has none yet, else undefined. */
  async #promoteIfFirst(slug: string, id: string): Promise<Write | undefined> {
    const { value, version } = await this.#store.project(slug);
    if (value.production !== null) return undefined;
    const next: ProjectRecord = { ...value, production: id, updatedAt: now() };
    return { kind: 'project', key: slug, value: json(next), expectedVersion: version };
  }

  /**
   * Tells event streams the deployment's status. `onlyIfMissing`: a repeated report after a
   * failure between the commit and this event; append it only if it is not the last one.
   */
  async #statusEvent(d: DeploymentRecord, onlyIfMissing = false): Promise<void> {
    if (onlyIfMissing) {
      const events = await this.#store.run((s) => s.readEvents(d.project, d.id));
      const last = events.findLast((e) => e.type === 'status');
      if ((last?.data as { status?: string } | undefined)?.status === d.status) return;
    }
    await this.#store.appendEvents(d.project, d.id, [
      { type: 'status', data: { status: d.status, message: d.message } },
    ]);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Sortable by creation (time first) and unguessable: `d` + base36 time + random. */
export function newDeploymentId(): string {
  return `d${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}
