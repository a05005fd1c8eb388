/**
 * An issuer turns a list of names into a certificate. Two implementations share one contract
 * suite (test/tls/issuer-contract.ts): `LocalCa` (development: a CA in the data directory)
 * and `AcmeIssuer` (RFC 8555, e.g. Let's Encrypt).
 */
export interface IssuedCertificate {
  /** Leaf first, then any intermediates. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface Issuer {
  readonly name: 'local' | 'acme';
  /** Whether a name of this shape can be issued at all (ACME needs a public DNS name). */
  canIssue(name: string): boolean;
  issue(names: readonly string[]): Promise<IssuedCertificate>;
}
