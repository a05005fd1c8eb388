/**
 * Which certificate a TLS handshake gets: an in-memory index from name to secure context,
 * kept in step with the certificates in the store. Lookup is exact name first, then the
 * wildcard one label up (`*.example.com` covers `a.example.com`, not `a.b.example.com`,
 * RFC 6125 §6.4.3). A name with no certificate gets undefined: the caller decides (the
 * default certificate, or issuing one for a name that is allowed to have one).
 */
import type { Sealer } from '../secrets/sealer.js';
import { createSecureContext, type SecureContext } from 'node:tls';
import { TLS_POLICY } from './tls-policy.js';

export interface CertificateRecord {
  /** Names the certificate covers (SANs), lower case; `*.` for a wildcard. */
  readonly names: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuer: string;
  readonly issuedAt: string;
}

interface Entry {
  readonly context: SecureContext;
  readonly notAfter: number;
}

/** Where a certificate's sealed private key is bound (its record, by first name). */
export const certificateKeyContext = (record: CertificateRecord) =>
  `certificate:${record.names[0] ?? ''}`;

export class CertificateIndex {
  #byName = new Map<string, Entry>();
  readonly #sealer: Sealer | undefined;

  /** `sealer` opens the private keys stored sealed (absent: keys are plain, as in tests). */
  constructor(sealer?: Sealer) {
    this.#sealer = sealer;
  }

  #key(record: CertificateRecord): string {
    return this.#sealer?.open(record.keyPem, certificateKeyContext(record)) ?? record.keyPem;
  }

  /** Replace the whole index (certificates arrive from the store's replica). */
  replace(records: Iterable<CertificateRecord>): void {
    const next = new Map<string, Entry>();
    for (const r of records) {
      let context: SecureContext;
      try {
        context = createSecureContext({ ...TLS_POLICY, cert: r.certPem, key: this.#key(r) });
      } catch {
        continue; // a broken record never takes the listener down; the manager reissues
      }
      const entry = { context, notAfter: Date.parse(r.notAfter) };
      for (const name of r.names) {
        const current = next.get(name);
        // Two certificates for a name (a renewal landed): the one valid longer wins.
        if (current === undefined || current.notAfter < entry.notAfter) next.set(name, entry);
      }
    }
    this.#byName = next;
  }

  /** Add one certificate now (just issued here; the store's copy follows). */
  add(record: CertificateRecord): void {
    const next = new Map(this.#byName);
    const context = createSecureContext({
      ...TLS_POLICY,
      cert: record.certPem,
      key: this.#key(record),
    });
    const entry = { context, notAfter: Date.parse(record.notAfter) };
    for (const name of record.names) {
      const current = next.get(name);
      if (current === undefined || current.notAfter < entry.notAfter) next.set(name, entry);
    }
    this.#byName = next;
  }

  /** The context for a server name, or undefined. */
  lookup(serverName: string): SecureContext | undefined {
    const name = serverName.toLowerCase().replace(/\.$/, '');
    const exact = this.#byName.get(name);
    if (exact !== undefined) return exact.context;
    const dot = name.indexOf('.');
    if (dot === -1) return undefined;
    return this.#byName.get(`*${name.slice(dot)}`)?.context;
  }

  has(serverName: string): boolean {
    return this.lookup(serverName) !== undefined;
  }

  get size(): number {
    return this.#byName.size;
  }
}
