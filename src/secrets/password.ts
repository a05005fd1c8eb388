/**
 * Passwords kept as scrypt digests (RFC 7914; N=16384, r=8, p=1, a 16-byte salt), checked in
 * constant time; and short signed tokens (HMAC-SHA256) for cookies and share links.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, { N, r: R, p: P }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    ),
  );
}

/** `scrypt$N$r$p$<salt>$<hash>` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, digest: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = digest.split('$');
  if (scheme !== 'scrypt' || Number(n) !== N || Number(r) !== R || Number(p) !== P) return false;
  const expected = Buffer.from(hash ?? '', 'base64url');
  const actual = await derive(password, Buffer.from(salt ?? '', 'base64url'));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** `<expires>.<signature>` over `purpose|…parts|expires`. */
export function signToken(key: Buffer, parts: readonly string[], expiresAt: number): string {
  return `${expiresAt}.${mac(key, parts, expiresAt)}`;
}

/** Whether `token` was signed with `key` for `parts` and has not expired. */
export function verifyToken(
  key: Buffer,
  parts: readonly string[],
  token: string,
  now = Date.now(),
): boolean {
  const dot = token.indexOf('.');
  const expiresAt = Number(token.slice(0, dot));
  if (dot < 1 || !Number.isSafeInteger(expiresAt) || expiresAt <= now) return false;
  const expected = Buffer.from(mac(key, parts, expiresAt));
  const given = Buffer.from(token.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function mac(key: Buffer, parts: readonly string[], expiresAt: number): string {
  return createHmac('sha256', key)
    .update(`${parts.join('|')}|${expiresAt}`)
    .digest('base64url');
}
