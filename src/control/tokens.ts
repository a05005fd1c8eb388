/**
 * Admin API bearer tokens. The admin token comes from the configuration (`admin.token`) or,
 * when none is configured, from `<dataDir>/admin-token`, generated on first start with mode
 * 0600. Further tokens, possibly scoped to `deploy`, are created through the API (`Tokens`)
 * and kept in the store as SHA-256 digests; the secret is shown once. Every check hashes the
 * presented token and compares it with every candidate in constant time, reading the
 * in-memory mirror (`TokenVerifier`), never the store.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenRecord, TokenScope } from './records.js';
import type { StoreMirror } from '../store/store-mirror.js';
import { ControlError } from './control-error.js';
import { json, type ControlStore } from './control-store.js';

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
  readonly #replica: StoreMirror;

  /** `adminSecret`: the admin token (absent when the admin API is off). */
  constructor(adminSecret: string | undefined, replica: StoreMirror) {
    this.#fixed =
      adminSecret === undefined
        ? []
        : [{ digest: sha256(adminSecret), principal: { name: 'admin', scope: 'admin' } }];
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

/** What the API shows of a token: never its secret or digest. */
export interface TokenSummary {
  readonly id: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly createdAt: string;
}

const summary = (t: TokenRecord): TokenSummary => ({
  id: t.id,
  name: t.name,
  scope: t.scope,
  createdAt: t.createdAt,
});

export class Tokens {
  readonly #store: ControlStore;

  constructor(store: ControlStore) {
    this.#store = store;
  }

  /** A new token; its secret is in this answer only (the store keeps a digest). */
  async create(input: {
    name: string;
    scope: TokenScope;
  }): Promise<TokenSummary & { token: string }> {
    const secret = newSecret();
    const record: TokenRecord = {
      id: `t${randomBytes(6).toString('hex')}`,
      name: input.name,
      scope: input.scope,
      sha256: sha256(secret).toString('hex'),
      createdAt: new Date().toISOString(),
    };
    const result = await this.#store.commit([
      { kind: 'token', key: record.id, value: json(record), expectedVersion: 0 },
    ]);
    if (!result.ok) throw new ControlError('SY_CONFLICT', 'token id collision; retry');
    return { ...summary(record), token: secret };
  }

  async list(): Promise<TokenSummary[]> {
    return (await this.#store.list('token')).map((r) => summary(r.value as unknown as TokenRecord));
  }

  async delete(id: string): Promise<void> {
    const existing = await this.#store.get('token', id);
    if (existing === undefined) throw new ControlError('SY_RESOURCE_NOT_FOUND', `no token ${id}`);
    await this.#store.commit([
      { kind: 'token', key: id, value: null, expectedVersion: existing.version },
    ]);
  }
}
