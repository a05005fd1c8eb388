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
import { checkName, json, type ControlStore } from './control-store.js';

/** Who called: the token's id and name (never its secret), what it may do, and where. */
export interface Principal {
  readonly id: string;
  readonly name: string;
  readonly scope: TokenScope;
  /** The only projects it reaches; undefined: every project. */
  readonly projects: ReadonlySet<string> | undefined;
}

/** Whether a principal reaches a project (bound tokens: only their own). */
export function mayAccess(principal: Principal, project: string): boolean {
  return principal.projects === undefined || principal.projects.has(project);
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
        : [
            {
              digest: sha256(adminSecret),
              principal: { id: 'admin', name: 'admin', scope: 'admin', projects: undefined },
            },
          ];
    this.#replica = replica;
  }

  /** The principal a presented secret belongs to, or undefined. */
  /** The principal a presented secret belongs to; undefined if none, or if it expired. */
  verify(secret: string, now = Date.now()): Principal | undefined {
    const digest = sha256(secret);
    let found: Principal | undefined;
    let record: TokenRecord | undefined;
    // Compare with every candidate (no early exit) so timing says nothing about which matched.
    for (const f of this.#fixed) if (timingSafeEqual(digest, f.digest)) found ??= f.principal;
    for (const r of this.#replica.values('token')) {
      const t = r.value as unknown as TokenRecord;
      const candidate = Buffer.from(t.sha256, 'hex');
      if (candidate.length === digest.length && timingSafeEqual(digest, candidate)) record ??= t;
    }
    if (found !== undefined || record === undefined) return found;
    if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) return undefined;
    return {
      id: record.id,
      name: record.name,
      scope: record.scope,
      projects: record.projects === undefined ? undefined : new Set(record.projects),
    };
  }
}

/** What the API shows of a token: never its secret or digest. */
export interface TokenSummary {
  readonly id: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly createdAt: string;
  readonly projects?: readonly string[];
  readonly expiresAt?: string;
}

const summary = (t: TokenRecord): TokenSummary => ({
  id: t.id,
  name: t.name,
  scope: t.scope,
  createdAt: t.createdAt,
  ...(t.projects === undefined ? {} : { projects: t.projects }),
  ...(t.expiresAt === undefined ? {} : { expiresAt: t.expiresAt }),
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
    projects?: readonly string[];
    expiresAt?: string;
  }): Promise<TokenSummary & { token: string }> {
    for (const [i, slug] of (input.projects ?? []).entries()) {
      checkName(slug, `/projects/${i}`, 'project slug');
    }
    if (input.projects !== undefined && input.projects.length === 0) {
      throw new ControlError('SY_INVALID', 'a token bound to no project could do nothing', {
        field: '/projects',
      });
    }
    if (input.expiresAt !== undefined) {
      const at = Date.parse(input.expiresAt);
      if (Number.isNaN(at) || at <= Date.now()) {
        throw new ControlError('SY_INVALID', 'expiresAt must be a date-time in the future', {
          field: '/expiresAt',
        });
      }
    }
    const secret = newSecret();
    const record: TokenRecord = {
      id: `t${randomBytes(6).toString('hex')}`,
      name: input.name,
      scope: input.scope,
      sha256: sha256(secret).toString('hex'),
      createdAt: new Date().toISOString(),
      ...(input.projects === undefined ? {} : { projects: [...new Set(input.projects)].sort() }),
      ...(input.expiresAt === undefined
        ? {}
        : { expiresAt: new Date(input.expiresAt).toISOString() }),
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
