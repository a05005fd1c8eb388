/** The rules for aliases: promote and roll back production, branch aliases. Pointer moves only. */
import { ControlError } from './control-error.js';
import { busy, checkName, type ControlStore } from './control-store.js';
import { HISTORY_KEPT, type ProjectRecord } from './records.js';

export class Aliases {
  readonly #store: ControlStore;

  constructor(store: ControlStore) {
    this.#store = store;
  }

  /** Points production at a ready deployment; the previous one is kept for rollback. */
  async promote(slug: string, id: string): Promise<ProjectRecord> {
    const deployment = (await this.#store.deployment(slug, id)).value;
    if (deployment.status !== 'ready') {
      throw new ControlError(
        'SY_NOT_READY',
        `deployment "${id}" is ${deployment.status}: only a ready deployment can be promoted`,
        { field: '/deployment' },
      );
    }
    return this.#store.updateProject(slug, (p) =>
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
    const project = (await this.#store.project(slug)).value;
    const previous = project.history[0];
    if (previous === undefined) {
      throw new ControlError(
        'SY_CONFLICT',
        `project "${slug}" has no earlier production deployment to roll back to`,
      );
    }
    await this.#store.deployment(slug, previous);
    return this.#store.updateProject(slug, (p) => {
      if (p.history[0] !== previous) throw busy();
      return { ...p, production: previous, history: p.history.slice(1) };
    });
  }

  async set(slug: string, name: string, id: string): Promise<ProjectRecord> {
    checkName(name, '/name', 'alias name');
    await this.#store.deployment(slug, id);
    return this.#store.updateProject(slug, (p) => ({
      ...p,
      aliases: { ...p.aliases, [name]: id },
    }));
  }

  async delete(slug: string, name: string): Promise<ProjectRecord> {
    return this.#store.updateProject(slug, (p) => {
      if (!(name in p.aliases)) {
        throw new ControlError('SY_RESOURCE_NOT_FOUND', `project "${slug}" has no alias "${name}"`);
      }
      const aliases = { ...p.aliases };
      delete aliases[name];
      return { ...p, aliases };
    });
  }
}
