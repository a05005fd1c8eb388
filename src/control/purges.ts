/**
 * Cache purges: a purge is a store record, so every instance of a fleet applies it from the
 * change feed; the record is removed a minute later (it only carries the purge).
 */
import { randomBytes } from 'node:crypto';
import type { PurgeSelector } from '../model/purge.js';
import { ControlError } from './control-error.js';
import { json, type ControlStore } from './control-store.js';

/** How long a purge record stays in the store: long enough for every instance to see it. */
const PURGE_RECORD_MS = 60_000;

export class Purges {
  readonly #store: ControlStore;

  constructor(store: ControlStore) {
    this.#store = store;
  }

  async purge(selector: PurgeSelector): Promise<void> {
    if (Object.keys(selector).length === 0) {
      throw new ControlError('SY_INVALID', 'name at least one of project, deployment, url or tag', {
        field: '/project',
      });
    }
    const key = `purge-${Date.now()}-${randomBytes(4).toString('hex')}`;
    await this.#store.commit([{ kind: 'purge', key, value: json(selector) }]);
    setTimeout(
      () => void this.#store.commit([{ kind: 'purge', key, value: null }]).catch(() => {}),
      PURGE_RECORD_MS,
    ).unref();
  }
}
