/** The rules for projects: create (idempotent), read, list by page, change, delete whole. */
import type { ProjectRateLimits } from '../model/rate-limit.js';
import type { Write } from '../store/state-store.js';
import { ControlError } from './control-error.js';
import {
  busy,
  CAS_ATTEMPTS,
  checkName,
  json,
  now,
  page,
  type ControlStore,
  type Page,
} from './control-store.js';
import type { DeploymentRecord, DomainRecord, ProjectRecord } from './records.js';

export interface ProjectInput {
  readonly slug: string;
  readonly rootPaths?: string[];
  readonly httpsRedirect?: boolean;
  readonly publicBuildLogs?: boolean;
}

export class Projects {
  readonly #store: ControlStore;
  /** Slugs declared in the configuration file: the API may not create or change them. */
  #declared: ReadonlySet<string> = new Set();

  constructor(store: ControlStore) {
    this.#store = store;
  }

  setDeclared(slugs: ReadonlySet<string>): void {
    this.#declared = slugs;
  }

  /** A retried create with the same settings answers the project it made (`created: false`). */
  async create(input: ProjectInput): Promise<{ project: ProjectRecord; created: boolean }> {
    checkName(input.slug, '/slug', 'project slug');
    if (this.#declared.has(input.slug)) {
      throw new ControlError(
        'SY_CONFLICT',
        `project "${input.slug}" is declared in the configuration file`,
        { field: '/slug' },
      );
    }
    const at = now();
    const project: ProjectRecord = {
      slug: input.slug,
      rootPaths: input.rootPaths ?? [],
      httpsRedirect: input.httpsRedirect ?? false,
      publicBuildLogs: input.publicBuildLogs ?? false,
      production: null,
      history: [],
      aliases: {},
      createdAt: at,
      updatedAt: at,
    };
    const result = await this.#store.commit([
      { kind: 'project', key: input.slug, value: json(project), expectedVersion: 0 },
    ]);
    if (result.ok) return { project, created: true };
    const existing = await this.get(input.slug);
    const same =
      existing.rootPaths.length === project.rootPaths.length &&
      existing.rootPaths.every((p, i) => p === project.rootPaths[i]) &&
      (existing.httpsRedirect ?? false) === project.httpsRedirect &&
      (existing.publicBuildLogs ?? false) === project.publicBuildLogs;
    if (same) return { project: existing, created: false };
    throw new ControlError(
      'SY_CONFLICT',
      `project "${input.slug}" already exists with other settings`,
      { field: '/slug' },
    );
  }

  async get(slug: string): Promise<ProjectRecord> {
    return (await this.#store.project(slug)).value;
  }

  async list(options: { after?: string; limit: number }): Promise<Page<ProjectRecord>> {
    const records = await this.#store.list('project', {
      after: options.after,
      limit: options.limit + 1,
    });
    return page(
      records.map((r) => r.value as unknown as ProjectRecord),
      options.limit,
      (p) => p.slug,
    );
  }

  update(
    slug: string,
    changes: {
      rootPaths?: string[];
      httpsRedirect?: boolean;
      publicBuildLogs?: boolean;
      maxBodyBytes?: number;
      /** Replaces the project's own limits; `{}` removes them. */
      rateLimit?: ProjectRateLimits;
    },
  ): Promise<ProjectRecord> {
    return this.#store.updateProject(slug, (p) => ({
      ...p,
      rootPaths: changes.rootPaths ?? p.rootPaths,
      httpsRedirect: changes.httpsRedirect ?? p.httpsRedirect ?? false,
      publicBuildLogs: changes.publicBuildLogs ?? p.publicBuildLogs ?? false,
      ...(changes.maxBodyBytes === undefined && p.maxBodyBytes === undefined
        ? {}
        : { maxBodyBytes: changes.maxBodyBytes ?? p.maxBodyBytes }),
      ...rateLimitOf(changes.rateLimit ?? p.rateLimit),
    }));
  }

  /** Deletes the project with its deployments and domains, in one commit: its routes go at once. */
  async delete(slug: string): Promise<{ deployments: DeploymentRecord[] }> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const project = await this.#store.project(slug);
      const deployments = await this.#store.list('deployment', { prefix: `${slug}/` });
      const domains = (await this.#store.list('domain')).filter(
        (d) => (d.value as unknown as DomainRecord).project === slug,
      );
      const writes: Write[] = [
        { kind: 'project', key: slug, value: null, expectedVersion: project.version },
        ...[...deployments, ...domains].map((r) => ({
          kind: r.kind,
          key: r.key,
          value: null,
          expectedVersion: r.version,
        })),
      ];
      if ((await this.#store.commit(writes)).ok) {
        const records = deployments.map((d) => d.value as unknown as DeploymentRecord);
        await Promise.all(
          records.map((d) => this.#store.run((s) => s.deleteEvents(slug, d.id)).catch(() => {})),
        );
        return { deployments: records };
      }
    }
    throw busy();
  }
}

/** The `rateLimit` field of a record: absent when the project has no limits of its own. */
function rateLimitOf(limits: ProjectRateLimits | undefined): { rateLimit?: ProjectRateLimits } {
  if (limits === undefined || (limits.perClientIp === undefined && limits.perProject === undefined))
    return {};
  return { rateLimit: limits };
}
