/**
 * Preview protection, as deployment platforms offer it: a project's preview hosts (or all of
 * its hosts) ask for a password; a correct one sets a signed, host-scoped cookie. Share links
 * carry a signed token that sets the same cookie; automation sends a per-project bypass
 * secret. The signing key lives in the store, sealed, so every instance of a fleet accepts
 * what another signed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Protection, ProjectRecord } from '../model/records.js';
import { hashPassword, signToken } from '../secrets/password.js';
import type { Sealer } from '../secrets/sealer.js';
import { ControlError } from './control-error.js';
import { json, type ControlStore } from './control-store.js';

/** Where the signing key is kept (sealed): one for the platform. */
export const SIGNING_KEY_RECORD = 'signing:previews';
const SIGNING_CONTEXT = `account:${SIGNING_KEY_RECORD}`;
/** Longest a share link may live. */
export const SHARE_MAX_SECONDS = 30 * 86_400;

export class ProtectionRules {
  readonly #store: ControlStore;
  readonly #sealer: Sealer;

  constructor(store: ControlStore, sealer: Sealer) {
    this.#store = store;
    this.#sealer = sealer;
  }

  /**
   * Protect a project's hosts with a password, or (null) stop. Answers the bypass secret
   * for automation once; the store keeps only digests.
   */
  async set(
    slug: string,
    input: { scope: 'previews' | 'all'; password: string } | null,
  ): Promise<{ project: ProjectRecord; bypassSecret?: string }> {
    if (input === null) {
      const project = await this.#store.updateProject(slug, (p) => {
        if (p.protection === undefined) return p;
        const next = { ...p };
        delete (next as { protection?: Protection }).protection;
        return next;
      });
      return { project };
    }
    if (input.password.length < 8) {
      throw new ControlError('SY_INVALID', 'a protection password has at least 8 characters', {
        field: '/protection/password',
      });
    }
    await this.signingKey(); // before any cookie is asked for
    const bypassSecret = `syb_${randomBytes(24).toString('base64url')}`;
    const protection: Protection = {
      scope: input.scope,
      passwordDigest: await hashPassword(input.password),
      bypassDigest: createHash('sha256').update(bypassSecret).digest('hex'),
    };
    const project = await this.#store.updateProject(slug, (p) => ({ ...p, protection }));
    return { project, bypassSecret };
  }

  /** A link that lets whoever holds it in, until it expires. */
  async shareLink(
    slug: string,
    deployment: string | undefined,
    ttlSeconds: number,
  ): Promise<{ token: string; expiresAt: string }> {
    const project = (await this.#store.project(slug)).value;
    if (deployment !== undefined) await this.#store.deployment(slug, deployment);
    if (project.protection === undefined) {
      throw new ControlError('SY_CONFLICT', `project "${slug}" is not protected`);
    }
    const expiresAt = Date.now() + Math.min(ttlSeconds, SHARE_MAX_SECONDS) * 1000;
    const token = signToken(await this.signingKey(), ['share', slug, deployment ?? ''], expiresAt);
    return { token: `${deployment ?? ''}.${token}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** The platform's signing key, created (sealed, compare-and-set) on first use. */
  async signingKey(): Promise<Buffer> {
    for (;;) {
      const existing = await this.#store.get('account', SIGNING_KEY_RECORD);
      if (existing !== undefined) {
        const sealed = (existing.value as { keyPem: string }).keyPem;
        return Buffer.from(this.#sealer.open(sealed, SIGNING_CONTEXT), 'base64');
      }
      const keyPem = this.#sealer.seal(randomBytes(32).toString('base64'), SIGNING_CONTEXT);
      await this.#store.commit([
        { kind: 'account', key: SIGNING_KEY_RECORD, value: json({ keyPem }), expectedVersion: 0 },
      ]);
    }
  }
}

/** The signing key as the data plane reads it from the mirror (undefined until it exists). */
export function signingKeyFrom(
  sealedKeyPem: string | undefined,
  sealer: Sealer,
): Buffer | undefined {
  return sealedKeyPem === undefined
    ? undefined
    : Buffer.from(sealer.open(sealedKeyPem, SIGNING_CONTEXT), 'base64');
}
