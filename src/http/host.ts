/**
 * Host normalisation: hosts compare case-insensitively, ignoring the port and a trailing dot
 * (RFC 9110 §4.2.3: the host is case-insensitive; RFC 1034 §3.1: a trailing dot is the root).
 * https://www.rfc-editor.org/rfc/rfc9110#section-4.2.3
 */

/** Normalise a Host header or authority: `Hello.Example.COM.:8080` → `hello.example.com`. */
export function normalizeHost(raw: string): string {
  let end = raw.length;
  if (raw.charCodeAt(0) === 91 /* [ */) {
    // IPv6 literal: keep the brackets, drop what follows the closing one.
    const close = raw.indexOf(']');
    end = close === -1 ? raw.length : close + 1;
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon !== -1) end = colon;
  }
  if (end > 0 && raw.charCodeAt(end - 1) === 46 /* . */) end--;
  const host = end === raw.length ? raw : raw.slice(0, end);
  return host.toLowerCase();
}
