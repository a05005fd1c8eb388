/**
 * Hop-by-hop fields: meaningful only for one connection, never forwarded
 * (RFC 9110 §7.6.1, plus the de-facto Keep-Alive and Proxy-Connection).
 * https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1
 * `Trailer` is end to end (RFC 9110 §6.6.2): it announces the trailer fields that follow.
 */

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The fields a `Connection` header names (they are hop-by-hop too, §7.6.1), lower-cased;
 * undefined when it names none besides the usual `close`/`keep-alive`.
 */
export function connectionTokens(value: string | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  const tokens = new Set<string>();
  for (const t of lower.split(',')) {
    const token = t.trim();
    if (token !== '' && token !== 'close' && token !== 'keep-alive') tokens.add(token);
  }
  return tokens.size === 0 ? undefined : tokens;
}
