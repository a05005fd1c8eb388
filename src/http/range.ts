/**
 * Single byte ranges (RFC 9110 §14). Multiple ranges are answered with the whole
 * representation, which §14.2 allows ("a server MAY ignore the Range header field").
 * https://www.rfc-editor.org/rfc/rfc9110#section-14.1.2
 */

export interface ByteRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
}

/** undefined: serve the whole thing; 'unsatisfiable': 416; otherwise the range. */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return undefined; // not a single bytes range: ignore it
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix range: the last N bytes (§14.1.2).
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  let end = last === '' ? size - 1 : Number(last);
  if (end < start) return undefined; // invalid range-spec: ignore (§14.1.1)
  if (start >= size) return 'unsatisfiable';
  if (end >= size) end = size - 1;
  return { start, end };
}
