/** The rules for custom domains: attach (unique across projects), list, detach. */
import { randomBytes } from 'node:crypto';
import { normalizeHost } from '../http/host.js';
import { ControlError } from './control-error.js';
import { busy, json, now, type ControlStore } from './control-store.js';
import type { DomainRecord } from './records.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export class Domains {
  readonly #store: ControlStore;

  constructor(store: ControlStore) {
    this.#store = store;
  }

  /** Attaches an unverified domain; it routes once its TXT record proves the owner. */
  async attach(
    slug: string,
    rawDomain: string,
  ): Promise<{ domain: DomainRecord; created: boolean }> {
    await this.#store.project(slug);
    const domain = normalizeHost(rawDomain);
    if (domain === undefined || !DOMAIN.test(domain)) {
      throw new ControlError('SY_INVALID', `"${rawDomain}" is not a domain name`, {
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
    const result = await this.#store.commit([
      { kind: 'domain', key: domain, value: json(record), expectedVersion: 0 },
    ]);
    if (result.ok) return { domain: record, created: true };
    const value = (await this.#store.get('domain', domain))?.value as unknown as
      DomainRecord | undefined;
    if (value?.project === slug) return { domain: value, created: false };
    throw new ControlError('SY_CONFLICT', `${domain} is attached to another project`, {
      field: '/domain',
    });
  }

  async list(slug: string): Promise<DomainRecord[]> {
    await this.#store.project(slug);
    const all = await this.#store.list('domain');
    return all.map((r) => r.value as unknown as DomainRecord).filter((d) => d.project === slug);
  }

  /** The domain record if it is attached to `slug`, else 404. */
  async get(slug: string, domain: string): Promise<DomainRecord> {
    const record = await this.#store.get('domain', domain);
    const value = record?.value as unknown as DomainRecord | undefined;
    if (value?.project !== slug) {
      throw new ControlError('SY_RESOURCE_NOT_FOUND', `${domain} is not attached to "${slug}"`);
    }
    return value;
  }

  async detach(slug: string, domain: string): Promise<void> {
    const record = await this.#store.get('domain', domain);
    if (record === undefined || (record.value as unknown as DomainRecord).project !== slug) {
      throw new ControlError('SY_RESOURCE_NOT_FOUND', `${domain} is not attached to "${slug}"`);
    }
    const result = await this.#store.commit([
      { kind: 'domain', key: domain, value: null, expectedVersion: record.version },
    ]);
    if (!result.ok) throw busy();
  }
}
