/**
 * Certificates from an ACME CA (RFC 8555) with acme-client: HTTP-01 challenges, answered by
 * every instance's HTTP listener because the key authorization goes through the store
 * (kind `challenge`, keyed by token). An order with a wildcard name is proved by DNS-01
 * instead (RFC 8555 §8.4: the only challenge a wildcard may use): the TXT value goes through
 * the store too, and every instance's DNS server answers it. The account key lives in the store too, so a fleet
 * shares one account. The ACME server's own TLS can be trusted from a PEM file (a private CA,
 * Pebble in tests).
 */
import type { Sealer } from '../secrets/sealer.js';
import { Agent } from 'node:https';
import { isIP } from 'node:net';
import * as acme from 'acme-client';
import type { StateStore, JsonValue } from '../store/state-store.js';
import type { IssuedCertificate, Issuer } from './issuer.js';

export const ACME_PRESETS: Record<string, string> = {
  letsencrypt: acme.directory.letsencrypt.production,
  'letsencrypt-staging': acme.directory.letsencrypt.staging,
};

export interface AcmeSettings {
  readonly directoryUrl: string;
  readonly email: string | undefined;
  /** PEM of CAs to trust for the ACME server's HTTPS. */
  readonly caPem: string | undefined;
  /** Retries of one request after a network or server error (acme-client waits 5 s × n). */
  readonly retries: number;
}

interface AccountRecord {
  readonly directoryUrl: string;
  readonly keyPem: string;
  readonly url: string | null;
}

export interface ChallengeRecord {
  readonly token: string;
  /** HTTP-01: the body to answer; DNS-01: the TXT value (the digest, RFC 8555 §8.4). */
  readonly keyAuthorization: string;
  readonly name: string;
  readonly createdAt: string;
  /** Absent in records from before DNS-01: `http-01`. */
  readonly type?: 'http-01' | 'dns-01';
  /** DNS-01: where the TXT record goes, `_acme-challenge.<domain>`. */
  readonly dnsName?: string;
}

/** Names no public CA will issue for. */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal', '.invalid', '.test'];

export class AcmeIssuer implements Issuer {
  readonly name = 'acme';
  readonly #store: StateStore;
  readonly #settings: AcmeSettings;
  #client: Promise<acme.Client> | undefined;

  /** Seals the account key before it is stored (absent: stored plain, as in tests). */
  readonly #sealer: Sealer | undefined;

  constructor(store: StateStore, settings: AcmeSettings, sealer?: Sealer) {
    this.#sealer = sealer;
    this.#store = store;
    this.#settings = settings;
    // acme-client keeps these on its shared axios instance: one ACME setup per process.
    (
      acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }
    ).acmeSettings.retryMaxAttempts = settings.retries;
    if (settings.caPem !== undefined) {
      acme.axios.defaults.httpsAgent = new Agent({ ca: settings.caPem, keepAlive: true });
    }
  }

  canIssue(name: string): boolean {
    name = name.replace(/^\*\./, '');
    if (isIP(name.replace(/^\[|\]$/g, '')) !== 0 || !name.includes('.')) return false;
    return !PRIVATE_SUFFIXES.some((s) => name.endsWith(s) || name === s.slice(1));
  }

  async issue(names: readonly string[]): Promise<IssuedCertificate> {
    try {
      return await this.#issue(names);
    } catch (err) {
      // acme-client's retry interceptor fails with a TypeError when there was no response.
      const unreachable = err instanceof TypeError && err.message.includes("reading 'config'");
      const why = unreachable ? 'the ACME server could not be reached' : (err as Error).message;
      throw new Error(
        `ACME order for ${names.join(', ')} at ${this.#settings.directoryUrl} failed: ${why}`,
        {
          cause: err,
        },
      );
    }
  }

  async #issue(names: readonly string[]): Promise<IssuedCertificate> {
    const client = await this.#accountClient();
    const [key, csr] = await acme.crypto.createCsr(
      { commonName: names[0]!, altNames: [...names] },
      await acme.crypto.createPrivateEcdsaKey(),
    );
    const certPem = await client.auto({
      csr,
      ...(this.#settings.email === undefined ? {} : { email: this.#settings.email }),
      termsOfServiceAgreed: true,
      // A wildcard can only be proved by DNS-01; then the whole order is, so that the apex
      // and `*.` share one TXT name and one way of being proved.
      challengePriority: names.some((n) => n.startsWith('*.')) ? ['dns-01'] : ['http-01'],
      // The CA checks it; our own pre-check would need public DNS and port 80.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        const dns = challenge.type === 'dns-01';
        const record: ChallengeRecord = {
          token: challenge.token,
          keyAuthorization,
          name: names[0]!,
          createdAt: new Date().toISOString(),
          type: dns ? 'dns-01' : 'http-01',
          ...(dns ? { dnsName: `_acme-challenge.${authz.identifier.value.toLowerCase()}` } : {}),
        };
        await this.#store.commit([
          { kind: 'challenge', key: challenge.token, value: record as unknown as JsonValue },
        ]);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        await this.#store.commit([{ kind: 'challenge', key: challenge.token, value: null }]);
      },
    });
    await this.#rememberAccountUrl(client);
    const info = acme.crypto.readCertificateInfo(certPem);
    return { certPem, keyPem: key.toString(), notBefore: info.notBefore, notAfter: info.notAfter };
  }

  /**
   * Keep the account URL with the key: an instance that starts later then uses the account
   * as it is instead of registering the key again (which a CA may answer with an error).
   */
  async #rememberAccountUrl(client: acme.Client): Promise<void> {
    const key = `acme:${this.#settings.directoryUrl}`;
    const current = await this.#store.get('account', key);
    const record = current?.value as unknown as AccountRecord | undefined;
    if (record === undefined || record.url !== null) return;
    let url: string;
    try {
      url = client.getAccountUrl();
    } catch {
      return;
    }
    await this.#store.commit([
      {
        kind: 'account',
        key,
        value: { ...record, url },
        expectedVersion: current!.version,
      },
    ]);
  }

  /** The ACME account, created once per directory and shared through the store. */
  #accountClient(): Promise<acme.Client> {
    this.#client ??= (async () => {
      const key = `acme:${this.#settings.directoryUrl}`;
      let record = (await this.#store.get('account', key))?.value as unknown as
        AccountRecord | undefined;
      if (record === undefined) {
        const plainKey = (await acme.crypto.createPrivateEcdsaKey()).toString();
        const created: AccountRecord = {
          directoryUrl: this.#settings.directoryUrl,
          keyPem: this.#sealer?.seal(plainKey, `account:${key}`) ?? plainKey,
          url: null,
        };
        const result = await this.#store.commit([
          { kind: 'account', key, value: created as unknown as JsonValue, expectedVersion: 0 },
        ]);
        record = result.ok
          ? created
          : ((await this.#store.get('account', key))!.value as unknown as AccountRecord);
      }
      return new acme.Client({
        directoryUrl: this.#settings.directoryUrl,
        accountKey: this.#sealer?.open(record.keyPem, `account:${key}`) ?? record.keyPem,
        // Poll an order's progress from half a second on, backing off to 10 s.
        backoffAttempts: 12,
        backoffMin: 500,
        backoffMax: 10_000,
        ...(record.url === null ? {} : { accountUrl: record.url }),
      });
    })().catch((err: unknown) => {
      this.#client = undefined;
      throw err;
    });
    return this.#client;
  }
}
