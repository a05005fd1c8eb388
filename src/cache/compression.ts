/**
 * Stored text compressed once for every client: brotli and gzip on libuv's thread pool, in
 * the background, kept next to the identity copy; the client's Accept-Encoding picks one.
 */
import { promisify } from 'node:util';
import { brotliCompress, constants as zlibConstants, gzip as gzipCallback } from 'node:zlib';
import type { CacheStore, Entry } from './cache-store.js';
import { encodedKey } from './cache-key.js';

const brotli = promisify(brotliCompress);
const gzip = promisify(gzipCallback);

/** Text worth compressing once for every client: not already encoded, not tiny. */
const COMPRESSIBLE_TYPE =
  /^(text\/|application\/(javascript|json|xml|wasm|manifest\+json|[a-z.+-]*\+(json|xml))|image\/svg)/i;

export function compressible(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  size: number,
): boolean {
  if (status !== 200 || size < 256) return false;
  if (headers['content-encoding'] !== undefined) return false; // never compress twice
  const cc = String(headers['cache-control'] ?? '');
  if (/no-transform/i.test(cc)) return false; // RFC 9111 §5.2.2.6
  const type = headers['content-type'];
  return typeof type === 'string' && COMPRESSIBLE_TYPE.test(type);
}

/**
 * Compress a stored response, store the encoded copies next to it, and mark it as having
 * them. A failure leaves the identity copy serving.
 */
export async function compressStored(store: CacheStore, key: string, entry: Entry): Promise<void> {
  try {
    const [br, gz] = await Promise.all([
      brotli(entry.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } }),
      gzip(entry.body, { level: 6 }),
    ]);
    const encodings: string[] = [];
    for (const [name, bytes] of [
      ['br', br],
      ['gzip', gz],
    ] as const) {
      if (bytes.length >= entry.body.length) continue; // not worth it
      if (await store.set(encodedKey(key, name), { meta: entry.meta, body: bytes })) {
        encodings.push(name);
      }
    }
    if (encodings.length > 0) {
      await store.set(key, { meta: { ...entry.meta, encodings }, body: entry.body });
    }
  } catch {
    // compression failed: the identity copy serves
  }
}
