/**
 * The local certificate authority, for development: created on first start in the data
 * directory (`ca.pem`, and `ca-key.pem` with mode 0600), it issues a certificate for any name
 * at once, so `https://hello.localhost:8443/` works without a public CA. Trust it by adding
 * `ca.pem` to the system's or browser's trust store (README). Keys are ECDSA P-256.
 */
// @peculiar/x509 resolves its services with tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  id_ce_nameConstraints,
  NameConstraints,
} from '@peculiar/asn1-x509';
import type { IssuedCertificate, Issuer } from './issuer.js';

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const CA_YEARS = 10;
/** Leaf lifetime; renewal starts when a third is left. */
export const LOCAL_LEAF_DAYS = 90;

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

export class LocalCa implements Issuer {
  readonly name = 'local';
  readonly #cert: x509.X509Certificate;
  readonly #key: CryptoKey;
  /** PEM of the CA certificate (what clients trust). */
  readonly caPem: string;
  readonly caFile: string;

  private constructor(cert: x509.X509Certificate, key: CryptoKey, caFile: string) {
    this.#cert = cert;
    this.#key = key;
    this.caPem = cert.toString('pem');
    this.caFile = caFile;
  }

  /**
   * Load the CA from `dir`, creating it on first use. A new CA is name-constrained (RFC 5280
   * §4.2.1.10) to `localhost` and its subdomains, the loopback addresses and `names` (the
   * platform's own domains and hosts): trusted on a developer's machine, a leaked CA key
   * still cannot mint a certificate any browser accepts for another site. `onUnconstrained`
   * hears of a CA created before that.
   */
  static async open(
    dir: string,
    names: readonly string[] = [],
    onUnconstrained: (file: string) => void = () => {},
  ): Promise<LocalCa> {
    const certFile = join(dir, 'ca.pem');
    const keyFile = join(dir, 'ca-key.pem');
    try {
      const cert = new x509.X509Certificate(readFileSync(certFile, 'utf8'));
      const der = createPrivateKey(readFileSync(keyFile, 'utf8')).export({
        format: 'der',
        type: 'pkcs8',
      });
      const key = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
      if (cert.getExtension(id_ce_nameConstraints) === null) onUnconstrained(certFile);
      return new LocalCa(cert, key, certFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    mkdirSync(dir, { recursive: true });
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(notBefore.getTime() + CA_YEARS * 365 * 86_400_000);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(16).toString('hex'),
      name: `CN=Switchyard local CA ${randomBytes(3).toString('hex')}`,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        nameConstraints(names),
      ],
    });
    // Key first, with `wx`: two workers starting together cannot both create a CA.
    try {
      writeFileSync(keyFile, await pkcs8Pem(keys.privateKey), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        await new Promise((r) => setTimeout(r, 200));
        return LocalCa.open(dir, names, onUnconstrained);
      }
      throw err;
    }
    writeFileSync(certFile, cert.toString('pem'));
    return new LocalCa(cert, keys.privateKey, certFile);
  }

  canIssue(): boolean {
    return true;
  }

  async issue(names: readonly string[]): Promise<IssuedCertificate> {
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(notBefore.getTime() + LOCAL_LEAF_DAYS * 86_400_000);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(16).toString('hex'),
      subject: `CN=${names[0] ?? 'switchyard'}`,
      issuer: this.#cert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.#key,
      extensions: [
        new x509.SubjectAlternativeNameExtension(
          names.map((n) =>
            isIP(n.replace(/^\[|\]$/g, '')) !== 0
              ? { type: 'ip' as const, value: n.replace(/^\[|\]$/g, '') }
              : { type: 'dns' as const, value: n },
          ),
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.BasicConstraintsExtension(false),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.AuthorityKeyIdentifierExtension.create(this.#cert),
      ],
    });
    return {
      certPem: `${cert.toString('pem')}\n${this.caPem}\n`,
      keyPem: await pkcs8Pem(keys.privateKey),
      notBefore,
      notAfter,
    };
  }
}

/** The names a local CA may certify: localhost, loopback, and the platform's own names. */
function nameConstraints(names: readonly string[]): x509.Extension {
  const dns = new Set(['localhost']);
  const ips = new Set(['127.0.0.0/8', '::1/128']);
  for (const raw of names) {
    const name = raw
      .replace(/^\[|\]$/g, '')
      .replace(/^\*\./, '')
      .toLowerCase();
    const family = isIP(name);
    if (family === 4) ips.add(`${name}/32`);
    else if (family === 6) ips.add(`${name}/128`);
    else if (name !== '') dns.add(name); // a DNS constraint covers the name and its subdomains
  }
  const subtrees = [
    ...[...dns].map((dNSName) => new GeneralSubtree({ base: new GeneralName({ dNSName }) })),
    ...[...ips].map((iPAddress) => new GeneralSubtree({ base: new GeneralName({ iPAddress }) })),
  ];
  const value = new NameConstraints({ permittedSubtrees: new GeneralSubtrees(subtrees) });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}
