/**
 * Admin API bearer tokens. The admin token comes from the configuration (`admin.token`) or,
 * when none is configured, from `<dataDir>/admin-token`, generated on first start with mode
 * 0600. Further tokens, possibly scoped to `deploy`, are created through the API and kept in
 * the store as SHA-256 digests. Every check hashes the presented token and compares it with
 * every candidate in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenRecord, TokenScope } from '../control/records.js';
import type { Replica } from '../store/replica.js';

export interface Principal {
  readonly name: string;
  readonly scope: TokenScope;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest();

export function newSecret(): string {
  return `sy_${randomBytes(24).toString('base64url')}`;
}

/** The admin token: configured, or read from / generated into the data directory. */
export function adminToken(
  configured: string | undefined,
  dataDir: string,
): { token: string; file?: string } {
  if (configured !== undefined && configured !== '') return { token: configured };
  const file = join(dataDir, 'admin-token');
  try {
    return { token: readFileSync(file, 'utf8').trim(), file };
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const token = newSecret();
    try {
      writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
      return { token, file };
    } catch {
      // Another worker wrote it first: use theirs.
      return { token: readFileSync(file, 'utf8').trim(), file };
    }
  }
}

export class TokenVerifier {
  readonly #fixed: { digest: Buffer; principal: Principal }[];
  readonly #replica: Replica;

  constructor(adminSecret: string, replica: Replica) {
    this.#fixed = [{ digest: sha256(adminSecret), principal: { name: 'admin', scope: 'admin' } }];
    this.#replica = replica;
  }

  /** The principal a presented secret belongs to, or undefined. */
  verify(secret: string): Principal | undefined {
    const digest = sha256(secret);
    let found: Principal | undefined;
    // Compare with every candidate (no early exit) so timing says nothing about which matched.
    for (const f of this.#fixed) if (timingSafeEqual(digest, f.digest)) found ??= f.principal;
    for (const r of this.#replica.values('token')) {
      const t = r.value as unknown as TokenRecord;
      const candidate = Buffer.from(t.sha256, 'hex');
      if (candidate.length === digest.length && timingSafeEqual(digest, candidate)) {
        found ??= { name: t.name, scope: t.scope };
      }
    }
    return found;
  }
}
