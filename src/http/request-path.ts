/**
 * The request path as routing and apps see it: dot segments resolved (RFC 3986 §5.2.4,
 * `/api/../site/` is `/site/`, `%2e` counted as a dot) and a leading run of slashes made one
 * (`//evil.example/` would read as a protocol-relative URL in a redirect). The query is left
 * as it is. Paths with neither stay the same string: nothing is allocated on the common path.
 */

/** `path` is origin-form: `/…` with an optional `?query`. */
export function normalizeRequestPath(path: string): string {
  const q = path.indexOf('?');
  const pathname = q === -1 ? path : path.slice(0, q);
  const dotty = pathname.includes('/.') || /%2e/i.test(pathname);
  const doubled = pathname.charCodeAt(1) === 47; /* / */
  if (!dotty && !doubled) return path;
  let clean = dotty ? removeDotSegments(pathname) : pathname;
  if (clean.charCodeAt(1) === 47) clean = `/${clean.replace(/^\/+/, '')}`;
  return q === -1 ? clean : `${clean}${path.slice(q)}`;
}

/** RFC 3986 §5.2.4 for an absolute path; `.` and `..` segments go, `..` taking one before it. */
function removeDotSegments(pathname: string): string {
  const segments = pathname.split('/').slice(1);
  const out: string[] = [];
  let trailing = false;
  for (const segment of segments) {
    const plain = segment.length <= 6 ? segment.replace(/%2e/gi, '.') : segment;
    if (plain === '.' || plain === '..') {
      if (plain === '..') out.pop();
      trailing = true;
      continue;
    }
    out.push(segment);
    trailing = false;
  }
  return `/${out.join('/')}${trailing && out.length > 0 ? '/' : ''}`;
}
