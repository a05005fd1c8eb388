/**
 * Keeps every name that may have a certificate supplied with one: issues on start-up (names
 * known to need one) and on first use (a handshake for a name that routes but has none yet),
 * renews when a third of the lifetime is left, and backs off exponentially after failures.
 * Certificates live in the store, so in a fleet one instance orders (it holds the store lock
 * `cert:<name>`) and every instance serves the result. A name that routes nowhere, or a custom
 * domain that is not verified, never causes an order; nor does a project past its hourly
 * order budget.
 */
import type { Sealer } from '../secrets/sealer.js';
import type { Logger } from 'pino';
import type { StoreMirror } from '../store/store-mirror.js';
import type { JsonValue, StateStore } from '../store/state-store.js';
import {
  certificateKeyContext,
  type CertificateIndex,
  type CertificateRecord,
} from './certificate-index.js';
import type { Issuer } from './issuer.js';

/** Who a name belongs to, when it may have a certificate. */
export interface Eligibility {
  /** The project it routes to (for the order budget); undefined for platform hosts. */
  readonly project: string | undefined;
}

export interface ManagerSettings {
  readonly renewCheckMs: number;
  readonly ordersPerProjectPerHour: number;
  /** First back-off after a failure; doubles per failure up to a day. */
  readonly retryBaseMs: number;
  /**
   * Platform domains served by one wildcard certificate each (`https.wildcard`): a name equal
   * to one or one label below it is covered by `*.<domain>`, ordered once, never by name.
   */
  readonly wildcardDomains?: readonly string[];
}

/** What ordering a name means: the certificate's key in the store and the names on it. */
interface Plan {
  readonly key: string;
  readonly names: readonly string[];
  readonly eligibility: Eligibility;
}

/** What the store remembers about ordering a name (kind `order`). */
export interface OrderRecord {
  readonly name: string;
  readonly project: string | null;
  readonly state: 'ok' | 'failed';
  readonly failures: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: string | null;
  /** Start times of recent orders, for the hourly budget. */
  readonly recent: readonly string[];
}

const LOCK_TTL_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 24 * 60 * 60_000;
const HOUR_MS = 60 * 60_000;

export class CertificateManager {
  readonly #store: StateStore;
  readonly #replica: StoreMirror;
  readonly #issuer: Issuer;
  readonly #index: CertificateIndex;
  readonly #eligible: (name: string) => Eligibility | undefined;
  readonly #settings: ManagerSettings;
  readonly #logger: Logger;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #sealer: Sealer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: {
    store: StateStore;
    replica: StoreMirror;
    issuer: Issuer;
    index: CertificateIndex;
    eligible: (name: string) => Eligibility | undefined;
    settings: ManagerSettings;
    logger: Logger;
    /** Seals private keys before they are stored (absent: stored plain, as in tests). */
    sealer?: Sealer;
  }) {
    this.#sealer = options.sealer;
    this.#store = options.store;
    this.#replica = options.replica;
    this.#issuer = options.issuer;
    this.#index = options.index;
    this.#eligible = options.eligible;
    this.#settings = options.settings;
    this.#logger = options.logger;
  }

  get issuer(): Issuer {
    return this.#issuer;
  }

  /** Issue for `names` now if they lack a certificate, then check renewals on a schedule. */
  start(names: readonly string[]): Promise<void> {
    const tick = () => {
      void this.renewDue()
        .catch((err: unknown) => this.#logger.warn({ err }, 'certificate renewal round failed'))
        .finally(() => {
          if (this.#stopped) return;
          this.#timer = setTimeout(tick, this.#settings.renewCheckMs);
          this.#timer.unref();
        });
    };
    this.#timer = setTimeout(tick, this.#settings.renewCheckMs);
    this.#timer.unref();
    return Promise.all(names.map((n) => this.ensure(n))).then(() => undefined);
  }

  /** Stop the schedule and wait for orders in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all([...this.#inFlight.values()].map((p) => p.catch(() => {})));
  }

  /** Every certificate the store holds (no keys): for the admin API. */
  list(): {
    name: string;
    names: readonly string[];
    notAfter: string;
    issuer: string;
    order?: OrderRecord;
  }[] {
    const orders = new Map<string, OrderRecord>();
    for (const r of this.#replica.values('order'))
      orders.set(r.key, r.value as unknown as OrderRecord);
    const out = [];
    for (const r of this.#replica.values('certificate')) {
      const c = r.value as unknown as CertificateRecord;
      const order = orders.get(r.key);
      out.push({
        name: r.key,
        names: c.names,
        notAfter: c.notAfter,
        issuer: c.issuer,
        ...(order ? { order } : {}),
      });
    }
    for (const [name, order] of orders) {
      if (!out.some((c) => c.name === name))
        out.push({ name, names: [], notAfter: '', issuer: '', order });
    }
    return out;
  }

  /**
   * Make sure `name` has a valid certificate, ordering one if it may. Resolves when this
   * instance is done (issued, refused, backing off, or another instance holds the order).
   * `force` orders even while a valid certificate is held (a forced renewal).
   */
  ensure(name: string, force = false): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const key = this.#wildcardOf(name) ?? name;
    let running = this.#inFlight.get(key);
    if (running === undefined) {
      running = this.#ensure(key, force).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, running);
    }
    return running;
  }

  /** `*.<domain>` when a wildcard certificate covers the name (RFC 6125 §6.4.3: one label). */
  #wildcardOf(name: string): string | undefined {
    const lower = name.toLowerCase();
    for (const domain of this.#settings.wildcardDomains ?? []) {
      if (lower === domain || lower === `*.${domain}`) return `*.${domain}`;
      if (lower.endsWith(`.${domain}`) && !lower.slice(0, -domain.length - 1).includes('.')) {
        return `*.${domain}`;
      }
    }
    return undefined;
  }

  #plan(key: string): Plan | undefined {
    if (key.startsWith('*.') && this.#wildcardOf(key) === key) {
      // The platform's own: no project budget; the apex goes on the same certificate.
      return { key, names: [key, key.slice(2)], eligibility: { project: undefined } };
    }
    const eligibility = this.#eligible(key);
    return eligibility === undefined ? undefined : { key, names: [key], eligibility };
  }

  async #ensure(name: string, force: boolean): Promise<void> {
    if (!force && this.#index.has(name)) {
      const held = this.#replica.get('certificate', name)?.value as unknown as
        CertificateRecord | undefined;
      if (held === undefined || !isDue(held, Date.now())) return;
    }
    const plan = this.#plan(name);
    if (plan === undefined || !this.#issuer.canIssue(name)) return;
    const { eligibility } = plan;
    const orderRecord = await this.#store.get('order', name);
    const order = orderRecord?.value as unknown as OrderRecord | undefined;
    const now = Date.now();
    if (order?.nextAttemptAt != null && Date.parse(order.nextAttemptAt) > now) return; // backing off
    const recent = (order?.recent ?? []).filter((t) => now - Date.parse(t) < HOUR_MS);
    if (
      eligibility.project !== undefined &&
      this.#ordersThisHour(eligibility.project, now) >= this.#settings.ordersPerProjectPerHour
    ) {
      this.#logger.warn(
        { name, project: eligibility.project },
        'certificate order budget of the project is spent for this hour',
      );
      return;
    }
    const lock = await this.#store.lock(`cert:${name}`, LOCK_TTL_MS);
    if (lock === undefined) return; // another instance is ordering it; the result arrives through the store
    const started = new Date().toISOString();
    try {
      // Another instance may have finished an order between our check and our lock.
      const stored = (await this.#store.get('certificate', name))?.value as unknown as
        CertificateRecord | undefined;
      if (!force && stored !== undefined && !isDue(stored, Date.now())) {
        this.#index.add(stored);
        return;
      }
      const issued = await this.#issuer.issue(plan.names);
      const plain: CertificateRecord = {
        names: plan.names,
        certPem: issued.certPem,
        keyPem: issued.keyPem,
        notBefore: issued.notBefore.toISOString(),
        notAfter: issued.notAfter.toISOString(),
        issuer: this.#issuer.name,
        issuedAt: started,
      };
      // The private key enters the store sealed; this instance's index opens it again.
      const record: CertificateRecord = {
        ...plain,
        keyPem: this.#sealer?.seal(plain.keyPem, certificateKeyContext(plain)) ?? plain.keyPem,
      };
      const ok: OrderRecord = {
        name,
        project: eligibility.project ?? null,
        state: 'ok',
        failures: 0,
        lastError: null,
        nextAttemptAt: null,
        recent: [...recent, started],
      };
      await this.#store.commit([
        { kind: 'certificate', key: name, value: record as unknown as JsonValue },
        { kind: 'order', key: name, value: ok as unknown as JsonValue },
      ]);
      // A renewal supersedes a private key: the store's history keeps no earlier one.
      await this.#store.forgetHistory('certificate', name).catch(() => {});
      this.#index.add(record);
      this.#logger.info(
        { name, issuer: this.#issuer.name, notAfter: record.notAfter },
        'certificate issued',
      );
    } catch (err) {
      const failures = (order?.failures ?? 0) + 1;
      const backoff = Math.min(this.#settings.retryBaseMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
      const failed: OrderRecord = {
        name,
        project: eligibility.project ?? null,
        state: 'failed',
        failures,
        lastError: (err as Error).message.slice(0, 500),
        nextAttemptAt: new Date(Date.now() + backoff).toISOString(),
        recent: [...recent, started],
      };
      await this.#store
        .commit([{ kind: 'order', key: name, value: failed as unknown as JsonValue }])
        .catch(() => {});
      this.#logger.error(
        { name, failures, retryInMs: backoff, err: (err as Error).message },
        'certificate order failed',
      );
    } finally {
      await lock.release();
    }
  }

  #ordersThisHour(project: string, now: number): number {
    let n = 0;
    for (const r of this.#replica.values('order')) {
      const o = r.value as unknown as OrderRecord;
      if (o.project === project) n += o.recent.filter((t) => now - Date.parse(t) < HOUR_MS).length;
    }
    return n;
  }

  /** Renew every certificate with less than a third of its lifetime left. */
  async renewDue(): Promise<void> {
    const now = Date.now();
    const due: string[] = [];
    for (const r of this.#replica.values('certificate')) {
      if (isDue(r.value as unknown as CertificateRecord, now)) due.push(r.key);
    }
    for (const name of due) await this.ensure(name);
  }
}

/** A certificate is due for renewal when less than a third of its lifetime is left. */
function isDue(c: CertificateRecord, now: number): boolean {
  const start = Date.parse(c.notBefore);
  const end = Date.parse(c.notAfter);
  return now >= end - (end - start) / 3;
}
