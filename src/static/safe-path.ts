/**
 * Turn a request path into a path inside a deployment's directory, or refuse it.
 *
 * The rule is strict and simple: percent-decode once (RFC 3986 §2.1), and refuse any
 * segment that is `.` or `..`, or that contains `/` (from `%2f`), `\` (raw or `%5c`), a NUL
 * or another control character; refuse malformed escapes and invalid or overlong UTF-8 (for
 * which decodeURIComponent throws). What survives is joined below the root and cannot name
 * anything outside it — except through a symbolic link, which the static origin checks
 * with realpath.
 */
import { SwitchyardError } from '../model/errors.js';

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\\/\u0000-\u001f\u007f]/;

/** `/a/b%20c.html?x` → `a/b c.html` (query already removed). Throws SY_BAD_PATH. */
export function safeRelativePath(pathname: string): string {
  if (pathname.charCodeAt(0) !== 47 /* / */) throw bad('the path must start with "/"');
  if (
    pathname.indexOf('%') === -1 &&
    pathname.indexOf('\\') === -1 &&
    pathname.indexOf('/.') === -1
  ) {
    // Fast path: nothing to decode and no dot segment.
    return pathname.slice(1);
  }
  const raw = pathname.slice(1).split('/');
  const out: string[] = [];
  for (const part of raw) {
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      throw bad('the path has a malformed percent-encoding or invalid UTF-8');
    }
    if (seg === '.' || seg === '..') throw bad('the path has a "." or ".." segment');
    if (FORBIDDEN.test(seg))
      throw bad('the path has an encoded slash, a backslash or a control character');
    out.push(seg);
  }
  return out.join('/');
}

function bad(detail: string): SwitchyardError {
  return new SwitchyardError('SY_BAD_PATH', detail);
}
