/**
 * Cache-Control (RFC 9111 §5.2) parsed leniently: unknown directives are kept, a malformed
 * one is ignored rather than poisoning the rest, and a numeric directive with a bad value is
 * treated as invalid (§4.2.1: then the response is treated as stale, i.e. its max-age is 0).
 */
export type Directives = ReadonlyMap<string, string | true>;

const EMPTY: Directives = new Map();

export function parseCacheControl(value: string | readonly string[] | undefined): Directives {
  if (value === undefined) return EMPTY;
  const text = typeof value === 'string' ? value : value.join(',');
  if (text === '') return EMPTY;
  const out = new Map<string, string | true>();
  for (const part of splitList(text)) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '' || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) continue;
    if (out.has(name)) continue; // §4.2.1: the first occurrence wins
    if (eq === -1) out.set(name, true);
    else {
      let v = part.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
      out.set(name, v);
    }
  }
  return out;
}

/** A delta-seconds directive (§1.2.2): undefined when absent, NaN when present but invalid. */
export function seconds(directives: Directives, name: string): number | undefined {
  const v = directives.get(name);
  if (v === undefined) return undefined;
  if (v === true || !/^\d+$/.test(v)) return Number.NaN;
  // §1.2.2: values too large are capped at 2^31 seconds.
  return Math.min(Number(v), 2 ** 31);
}

/** Comma-separated list items, not splitting inside quoted strings. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}
