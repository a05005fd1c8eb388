/**
 * The guard phase: refuse what is malformed before any work. Node's parser already refuses
 * Content-Length with Transfer-Encoding, bad chunking, oversized heads (431) and a missing
 * Host on HTTP/1.1; this adds what it lets through, and decides the one authority a request
 * is for: what routes it, what the app receives as Host, and what the cache keys on.
 */
import type { IncomingMessage } from 'node:http';
import { normalizeHost } from '../http/host.js';
import { normalizeRequestPath } from '../http/request-path.js';
import { SwitchyardError } from '../model/errors.js';

export interface Target {
  /** Normalised host to route by (lower case, no port, no trailing dot). */
  readonly host: string;
  /** The authority the app receives as Host: the routed host, plus the port the client used. */
  readonly authority: string;
  /** Origin-form path and query. */
  readonly path: string;
}

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2: `host [ ":" port ]`, host a DNS name (letters, digits,
 * `-`, `_`, `.`), an IPv4 address or a bracketed IPv6 literal; port digits ≤ 65535. Stricter
 * than reg-name on purpose: sub-delims and `@` in a Host are how links get poisoned.
 */
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252}))(?::(\d{1,5}))?$/;

/**
 * Authorities already checked, by their raw text: most requests name one of a few hosts.
 * Bounded (cleared when full), so hostile Host values cannot grow it.
 */
const checked = new Map<string, { host: string; authority: string }>();
const CHECKED_KEPT = 1024;

function authorityOf(raw: string, what: string): { host: string; authority: string } {
  const known = checked.get(raw);
  if (known !== undefined) return known;
  const m = AUTHORITY.exec(raw);
  if (m === null || (m[2] !== undefined && Number(m[2]) > 65535)) {
    throw new SwitchyardError(
      'SY_BAD_HOST',
      `${what} must be a host name or address with an optional port`,
    );
  }
  const host = normalizeHost(m[1]!);
  const parsed = { host, authority: m[2] === undefined ? host : `${host}:${m[2]}` };
  if (checked.size >= CHECKED_KEPT) checked.clear();
  checked.set(raw, parsed);
  return parsed;
}

/** Where the request is for. Throws SY_BAD_REQUEST or SY_BAD_HOST. */
export function requestTarget(req: IncomingMessage): Target {
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  // RFC 9112 §3.2: more than one Host is a 400.
  if (hosts > 1)
    throw new SwitchyardError('SY_BAD_REQUEST', 'the request has more than one Host header');
  const url = req.url ?? '';
  if (url.charCodeAt(0) === 47 /* / */) {
    if (req.httpVersionMajor === 2) {
      // RFC 9113 §8.3.1: `:authority` is the target; a Host that says otherwise is refused.
      const pseudo = req.headers[':authority'];
      const own = authorityOf(
        typeof pseudo === 'string' ? pseudo : (req.headers.host ?? ''),
        ':authority',
      );
      const host = req.headers.host;
      if (host !== undefined && authorityOf(host, 'Host').host !== own.host) {
        throw new SwitchyardError('SY_BAD_HOST', 'Host and :authority name different hosts');
      }
      return { ...own, path: normalizeRequestPath(url) };
    }
    return { ...authorityOf(req.headers.host ?? '', 'Host'), path: normalizeRequestPath(url) };
  }
  // RFC 9112 §3.2.2: absolute-form; its authority replaces Host (and is what the app is
  // told). Routing only ever reaches deployments this table serves: never an open proxy.
  const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(url);
  if (m !== null) {
    const authority = m[1]!;
    if (authority.includes('@'))
      throw new SwitchyardError('SY_BAD_REQUEST', 'the request target has userinfo');
    const rest = m[2] ?? '';
    return {
      ...authorityOf(authority, 'the request target’s authority'),
      path: normalizeRequestPath(rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest),
    };
  }
  throw new SwitchyardError(
    'SY_BAD_REQUEST',
    'the request target must be a path (origin-form) or an absolute URL',
  );
}
