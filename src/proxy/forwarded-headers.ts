/**
 * The request headers an origin receives: the client's end-to-end fields, minus hop-by-hop
 * ones, plus what a proxy must say about the hop it made —
 * `Forwarded` (RFC 7239), `X-Forwarded-For/-Proto/-Host/-Prefix`, `Via` (RFC 9110 §7.6.3)
 * and `X-Request-Id`. A client's own forwarding fields survive only from a trusted peer.
 */
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from '../request/request-context.js';
import type { FieldBlock } from '../http/response-head.js';
import { HOP_BY_HOP, connectionTokens } from './hop-by-hop.js';

/** Fields rebuilt here rather than copied. */
const REBUILT = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-prefix',
  'x-request-id',
  'via',
  // Node answers `Expect: 100-continue` itself (RFC 9110 §10.1.1); the origin gets the body.
  'expect',
]);

/** RFC 7239 §4 / RFC 9110 §5.6.4: a quoted-string, `"` and `\` escaped. */
function quoted(value: string): string {
  // A checked host never holds either character: no regex on the usual path.
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** RFC 7239 §6: an IPv6 node is bracketed and the value quoted. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

/**
 * Headers that claim who the client is or what it asked for, which some apps believe: from
 * a peer that is not a trusted proxy they are removed, never passed along (SECURITY.md
 * invariant 3). `proxy.clientIdentityHeaders` replaces the list.
 */
export const CLIENT_IDENTITY_HEADERS = [
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-original-url',
  'x-rewrite-url',
] as const;

export interface ForwardingOptions {
  /** Our pseudonym in Via. */
  readonly via: string;
  /** Keep `Connection: upgrade` and `Upgrade` (a WebSocket handshake). */
  readonly upgrade?: boolean;
  /** Removed unless the peer is a trusted proxy (default: CLIENT_IDENTITY_HEADERS). */
  readonly untrustedIdentity?: ReadonlySet<string>;
  /** Pass header names with `_` (nginx drops them: `Transfer_Encoding` is not a header to trust). */
  readonly allowUnderscores?: boolean;
}

const DEFAULT_IDENTITY: ReadonlySet<string> = new Set(CLIENT_IDENTITY_HEADERS);

export function upstreamRequestHeaders(
  req: IncomingMessage,
  ctx: RequestContext,
  options: ForwardingOptions,
): Record<string, string | string[]> {
  const incoming = req.headers;
  const named = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  const untrusted = ctx.trustedPeer ? undefined : (options.untrustedIdentity ?? DEFAULT_IDENTITY);
  const underscores = options.allowUnderscores === true;
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || REBUILT.has(name) || named?.has(name)) continue;
    // HTTP/2 pseudo-headers (`:path`, `:authority` …) do not exist in HTTP/1.1.
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if (untrusted?.has(name) === true || (!underscores && name.includes('_'))) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  // The app receives the authority that routed the request, validated and normalised (the
  // client's Host, the absolute-form target's authority, or HTTP/2's `:authority`), never
  // the raw header (RFC 9112 §3.2.2, RFC 9113 §8.3.1).
  out.host = ctx.authority;
  if (options.upgrade === true && incoming.upgrade !== undefined) {
    out.connection = 'upgrade';
    out.upgrade = incoming.upgrade;
  }

  // Read once per request, in the context.
  const peer = ctx.peer;
  const host = ctx.authority;
  const trusted = ctx.trustedPeer;
  const xff = trusted ? incoming['x-forwarded-for'] : undefined;
  out['x-forwarded-for'] = xff === undefined ? peer : `${String(xff)}, ${peer}`;
  const xfProto = trusted ? incoming['x-forwarded-proto'] : undefined;
  out['x-forwarded-proto'] = typeof xfProto === 'string' ? xfProto : ctx.proto;
  const xfHost = trusted ? incoming['x-forwarded-host'] : undefined;
  out['x-forwarded-host'] = typeof xfHost === 'string' ? xfHost : host;
  if (ctx.prefix !== '') out['x-forwarded-prefix'] = ctx.prefix;
  else if (trusted && typeof incoming['x-forwarded-prefix'] === 'string') {
    out['x-forwarded-prefix'] = incoming['x-forwarded-prefix'];
  }
  // RFC 7239 §4: append this hop to a trusted list, else start a new one.
  const hop = `for=${forwardedNode(peer)};host=${quoted(host)};proto=${ctx.proto}`;
  const fwd = trusted ? incoming.forwarded : undefined;
  out.forwarded = fwd === undefined ? hop : `${fwd}, ${hop}`;
  // RFC 9110 §7.6.3: each proxy appends itself to Via, with the protocol version it received
  // the request in: "2" for HTTP/2 (RFC 9113 §3), "1.1" or "1.0" for HTTP/1.x.
  const via = `${req.httpVersionMajor === 2 ? '2' : req.httpVersion} ${options.via}`;
  out.via = incoming.via === undefined ? via : `${String(incoming.via)}, ${via}`;
  out['x-request-id'] = ctx.id;
  return out;
}

/**
 * Response fields from an origin, minus hop-by-hop ones, with Via appended. Values are the
 * origin's bytes as latin1 strings, written back byte for byte.
 */
export function downstreamResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
  via: string,
): Record<string, string | string[]> {
  const connection = headers.connection;
  const named = connectionTokens(Array.isArray(connection) ? connection.join(',') : connection);
  const out: Record<string, string | string[]> = {};
  // Node's HTTP/1.1 writer re-encodes a Content-Disposition that comes after Content-Length
  // (latin1 to bytes, read back as UTF-8): a UTF-8 filename such as "résumé.pdf" would reach
  // the client as other bytes. Placed first, it is written as the origin sent it.
  const disposition = headers['content-disposition'];
  if (disposition !== undefined && named?.has('content-disposition') !== true)
    out['content-disposition'] = disposition;
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  const upstreamVia = out.via;
  out.via = upstreamVia === undefined ? `1.1 ${via}` : `${String(upstreamVia)}, 1.1 ${via}`;
  return out;
}

/**
 * The same fields as one block for `writeHeadBlock` (http/response-head.ts), without those the
 * edge sends its own of (X-Request-Id; HSTS and Cache-Status when it has them; `hides`, a
 * CDN-Cache-Control field kept from the client) and Content-Length, whose value comes back.
 * Nothing is checked again here: undici's parser (llhttp, strict) has refused a response whose
 * field names are not tokens or whose values hold a control character other than HTAB
 * (RFC 9110 §5.5, RFC 9112 §5), and hands values over as latin1 strings, one character per
 * byte — what writeHead would check is already true (test/http/response-head.test.ts holds
 * undici to it). Undefined: the length is not one number; `writeHead` then takes it.
 */
export function downstreamResponseBlock(
  headers: Record<string, string | string[] | undefined>,
  via: string,
  hides: string | undefined,
  edgeHsts: boolean,
  edgeCacheStatus: boolean,
): { block: FieldBlock; length: number | undefined } | undefined {
  const connection = headers.connection;
  const named = connectionTokens(Array.isArray(connection) ? connection.join(',') : connection);
  let lines = '';
  let date = false;
  let upstreamVia: string | undefined;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named?.has(name)) continue;
    if (name === 'content-length' || name === 'via' || name === 'x-request-id') continue;
    if (name === hides || (edgeHsts && name === 'strict-transport-security')) continue;
    if (edgeCacheStatus && name === 'cache-status') continue;
    if (name === 'date') date = true;
    if (typeof value === 'string') lines += `${name}: ${value}\r\n`;
    else for (const one of value) lines += `${name}: ${one}\r\n`;
  }
  // One length, digits only (llhttp's check); a list of them is writeHead's to refuse.
  const cl = headers['content-length'];
  const length = typeof cl === 'string' ? Number(cl) : undefined;
  if (cl !== undefined && !Number.isSafeInteger(length)) return undefined;
  const v = headers.via;
  if (v !== undefined) upstreamVia = String(v);
  lines += `via: ${upstreamVia === undefined ? '' : `${upstreamVia}, `}1.1 ${via}\r\n`;
  return { block: { lines, date }, length };
}
