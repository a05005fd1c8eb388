/**
 * Default Cache-Control for build output. Files whose names carry a content hash
 * (`index-4f9a1c2b.js`, `app.3b2e9f8a1c.css`, `chunk-BxT3k9aZ.js`) never change under that
 * name, so they are immutable for a year (RFC 8246); everything else — HTML above all — is
 * revalidated on every use, so a new deployment shows at once.
 */

const HASHED = /[.-]([0-9a-f]{8,}|[A-Za-z0-9_-]{8,12})\.[a-z0-9]+$/;

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'public, max-age=0, must-revalidate';

export function cacheControlFor(relativePath: string): string {
  const slash = relativePath.lastIndexOf('/');
  const name = relativePath.slice(slash + 1);
  if (name.endsWith('.html') || !HASHED.test(name)) return REVALIDATE;
  // The hash part must hold a digit: `my-long-name.js` is not content-hashed.
  const m = HASHED.exec(name);
  return m?.[1] !== undefined && /\d/.test(m[1]) ? IMMUTABLE : REVALIDATE;
}
