/**
 * Custom domain verification: the owner proves control by publishing the domain's token in
 * a TXT record `_switchyard.<domain>`. Checked with a configurable resolver (the system's, or
 * given servers), on a schedule, for every domain not yet verified; the result is recorded
 * on the domain (`verified`, `checkedAt`, `lastError`, and whether the name already points
 * at the platform). Only a verified domain routes traffic and gets a certificate.
 */
import { Resolver } from 'node:dns/promises';
import type { Logger } from 'pino';
import type { DomainRecord } from '../model/records.js';
import type { StoreMirror } from '../store/store-mirror.js';
import type { JsonValue, StateStore } from '../store/state-store.js';

export interface VerifierSettings {
  /** DNS servers as `host` or `host:port`; empty: the system's resolvers. */
  readonly resolvers: readonly string[];
  readonly intervalMs: number;
  /** What a domain should point at: a CNAME target and/or addresses (informational). */
  readonly cnameTarget: string | undefined;
  readonly addresses: readonly string[];
}

export type VerifiedDomain = DomainRecord & {
  readonly checkedAt?: string;
  readonly lastError?: string | null;
  readonly pointsHere?: boolean | null;
};

export class DomainVerifier {
  readonly #store: StateStore;
  readonly #replica: StoreMirror;
  readonly #settings: VerifierSettings;
  readonly #logger: Logger;
  readonly #resolver = new Resolver({ timeout: 2000, tries: 2 });
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(store: StateStore, replica: StoreMirror, settings: VerifierSettings, logger: Logger) {
    this.#store = store;
    this.#replica = replica;
    this.#settings = settings;
    this.#logger = logger;
    if (settings.resolvers.length > 0) this.#resolver.setServers([...settings.resolvers]);
  }

  start(): void {
    const tick = () => {
      void this.checkAll()
        .catch((err: unknown) => this.#logger.warn({ err }, 'domain verification round failed'))
        .finally(() => {
          if (this.#stopped) return;
          this.#timer = setTimeout(tick, this.#settings.intervalMs);
          this.#timer.unref();
        });
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref();
  }

  /** Stop the schedule and wait for a round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** Check every unverified domain once (also what the API's "verify now" calls). */
  checkAll(): Promise<void> {
    if (this.#running === undefined) {
      const run = (async () => {
        for (const r of [...this.#replica.values('domain')]) {
          const d = r.value as unknown as VerifiedDomain;
          if (!d.verified) await this.check(d.domain);
        }
      })();
      // Cleared after the run settles (never inside it: an empty run settles synchronously).
      this.#running = run.finally(() => {
        this.#running = undefined;
      });
    }
    return this.#running;
  }

  /** Check one domain now and record the result; resolves with the updated record. */
  async check(domain: string): Promise<VerifiedDomain | undefined> {
    const record = await this.#store.get('domain', domain);
    if (record === undefined) return undefined;
    const d = record.value as unknown as VerifiedDomain;
    let verified = d.verified;
    let lastError: string | null = null;
    if (!verified) {
      try {
        const txt = (await this.#resolver.resolveTxt(`_switchyard.${domain}`)).map((parts) =>
          parts.join(''),
        );
        verified = txt.includes(d.verificationToken);
        if (!verified) lastError = `TXT _switchyard.${domain} does not hold the verification token`;
      } catch (err) {
        lastError = `TXT _switchyard.${domain}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      }
    }
    const next: VerifiedDomain = {
      ...d,
      verified,
      checkedAt: new Date().toISOString(),
      lastError,
      pointsHere: await this.#pointsHere(domain),
    };
    const result = await this.#store.commit([
      {
        kind: 'domain',
        key: domain,
        value: next as unknown as JsonValue,
        expectedVersion: record.version,
      },
    ]);
    if (result.ok && verified && !d.verified)
      this.#logger.info({ domain, project: d.project }, 'domain verified');
    return result.ok ? next : d;
  }

  async #pointsHere(domain: string): Promise<boolean | null> {
    const { cnameTarget, addresses } = this.#settings;
    if (cnameTarget === undefined && addresses.length === 0) return null;
    if (cnameTarget !== undefined) {
      const cnames = await this.#resolver.resolveCname(domain).catch(() => [] as string[]);
      if (cnames.some((c) => c.toLowerCase().replace(/\.$/, '') === cnameTarget)) return true;
    }
    const found = await this.#resolver.resolve4(domain).catch(() => [] as string[]);
    return found.some((a) => addresses.includes(a));
  }
}
