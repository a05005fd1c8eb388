/**
 * The audit trail: every admin write — who (token id and name, never the secret), what,
 * on which project and target, with what result — kept per project in the store's event
 * logs (the last EVENT_BACKLOG, 1,000, per project; writes on no project in a platform trail) and written
 * as a log line too. A deleted project's trail stays.
 */
import type { JsonValue } from '../store/state-store.js';
import type { Logger } from '../observability/logger.js';
import type { ControlStore } from './control-store.js';

/** Where writes that name no project (tokens, platform-wide purges) are kept. */
export const PLATFORM_TRAIL = '_platform';
const TRAIL = '_audit';

export interface AuditEntry {
  readonly at: string;
  readonly token: { readonly id: string; readonly name: string };
  /** `METHOD /route/pattern`, e.g. `POST /v1/projects/:project/promote`. */
  readonly action: string;
  readonly project: string | null;
  /** The route's other parameters (deployment, alias, domain, token id …). */
  readonly target: Readonly<Record<string, string>>;
  /** The HTTP status answered. */
  readonly result: number;
}

export class Audit {
  readonly #store: ControlStore;
  readonly #logger: Logger | undefined;

  constructor(store: ControlStore, logger?: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** Records a write; a store that is away loses the entry but the log line is written. */
  async record(entry: AuditEntry): Promise<void> {
    this.#logger?.info({ kind: 'audit', ...entry }, 'admin write');
    await this.#store
      .appendEvents(entry.project ?? PLATFORM_TRAIL, TRAIL, [
        { type: 'audit', data: entry as unknown as JsonValue },
      ])
      .catch(() => {});
  }

  /** A project's trail (or the platform's), oldest first, after sequence `after`. */
  async list(
    project: string | undefined,
    options: { after: number; limit: number },
  ): Promise<{ items: (AuditEntry & { seq: number })[]; next?: number }> {
    const events = await this.#store.run((s) =>
      s.readEvents(project ?? PLATFORM_TRAIL, TRAIL, options.after),
    );
    const items = events
      .slice(0, options.limit)
      .map((e) => ({ seq: e.seq, ...(e.data as unknown as AuditEntry) }));
    const last = items.at(-1);
    return events.length > options.limit && last !== undefined
      ? { items, next: last.seq }
      : { items };
  }
}
