/**
 * Choosing a precompressed variant by Accept-Encoding (RFC 9110 §12.5.3).
 * https://www.rfc-editor.org/rfc/rfc9110#section-12.5.3
 */

export type Encoding = 'br' | 'gzip';

/** The acceptable encodings among br and gzip, best first (br wins a tie). */
export function acceptedEncodings(header: string | undefined): Encoding[] {
  if (header === undefined || header === '') return [];
  let br = -1;
  let gzip = -1;
  let star = -1;
  for (const item of header.split(',')) {
    const [rawName = '', ...params] = item.split(';');
    const name = rawName.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q' && v !== undefined) {
        const n = Number(v.trim());
        q = Number.isFinite(n) ? n : 0;
      }
    }
    if (name === 'br') br = q;
    else if (name === 'gzip' || name === 'x-gzip') gzip = q;
    else if (name === '*') star = q;
  }
  if (br === -1) br = star;
  if (gzip === -1) gzip = star;
  const out: Encoding[] = [];
  if (br > 0 && br >= gzip) out.push('br');
  if (gzip > 0) out.push('gzip');
  if (br > 0 && br < gzip) out.push('br');
  return out;
}
