/**
 * The guard phase: refuse what is malformed before any work. Node's parser already refuses
 * Content-Length with Transfer-Encoding, bad chunking, oversized heads (431) and a missing
 * Host on HTTP/1.1; this adds what it lets through.
 */
import type { IncomingMessage } from 'node:http';
import { normalizeHost } from '../http/host.js';
import { SwitchyardError } from '../model/errors.js';

export interface Target {
  /** Normalised host to route by. */
  readonly host: string;
  /** Origin-form path and query. */
  readonly path: string;
}

/** Where the request is for. Throws SY_BAD_REQUEST. */
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
    // HTTP/2 carries the authority in `:authority` (RFC 9113 §8.3.1), HTTP/1.1 in Host.
    const host = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
    return { host: normalizeHost(host), path: url };
  }
  // RFC 9112 §3.2.2: absolute-form; its authority replaces Host. Routing only ever reaches
  // deployments this table serves, so this never makes Switchyard an open proxy.
  const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(url);
  if (m !== null) {
    const authority = m[1]!;
    if (authority.includes('@'))
      throw new SwitchyardError('SY_BAD_REQUEST', 'the request target has userinfo');
    const rest = m[2] ?? '';
    return {
      host: normalizeHost(authority),
      path: rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest,
    };
  }
  throw new SwitchyardError(
    'SY_BAD_REQUEST',
    'the request target must be a path (origin-form) or an absolute URL',
  );
}
