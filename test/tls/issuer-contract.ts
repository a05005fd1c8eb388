/** What every certificate issuer must do (local-ca.test.ts and acme-issuer.test.ts run it). */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { describe, it } from 'node:test';
import type { Issuer } from '../../src/tls/issuer.js';

export interface IssuerHarness {
  /** The issuer, ready to issue for `names`. */
  issuer(): Promise<Issuer>;
  /** The root a client must trust to verify what it issues. */
  root(): Promise<string>;
  /** Names it may be asked for (already proved where the issuer needs it). */
  readonly names: readonly string[];
}

export function issuerContract(name: string, harness: IssuerHarness): void {
  describe(`certificate issuer contract: ${name}`, () => {
    it('issues a certificate for the names, valid now, whose key matches and whose chain leads to the root', async () => {
      const issuer = await harness.issuer();
      const issued = await issuer.issue(harness.names);
      const leaf = new X509Certificate(issued.certPem);
      for (const n of harness.names) {
        const covered = isIP(n) === 0 ? leaf.checkHost(n) : leaf.checkIP(n);
        assert.ok(covered, `covers ${n}: ${leaf.subjectAltName ?? ''}`);
      }
      assert.equal(leaf.checkHost('other.invalid'), undefined, 'covers nothing else');
      assert.ok(
        leaf.checkPrivateKey(createPrivateKey(issued.keyPem)),
        'the key is the certificate’s',
      );
      const now = Date.now();
      assert.ok(issued.notBefore.getTime() <= now && now < issued.notAfter.getTime());
      assert.ok(
        Math.abs(Date.parse(leaf.validTo) - issued.notAfter.getTime()) < 1000,
        'notAfter is the certificate’s',
      );
      // The served chain (leaf + intermediates) verifies up to the root.
      const chain =
        issued.certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      const root = new X509Certificate(await harness.root());
      let child = leaf;
      for (const pem of chain.slice(1)) {
        const parent = new X509Certificate(pem);
        if (child.checkIssued(parent)) child = parent;
      }
      assert.ok(
        child.checkIssued(root) || child.fingerprint256 === root.fingerprint256,
        'the chain ends at the root',
      );
      assert.doesNotThrow(() => createSecureContext({ cert: issued.certPem, key: issued.keyPem }));
    });

    it('issues a fresh key every time', async () => {
      const issuer = await harness.issuer();
      const a = await issuer.issue(harness.names);
      const b = await issuer.issue(harness.names);
      assert.notEqual(a.keyPem, b.keyPem);
    });
  });
}
