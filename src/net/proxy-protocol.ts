/**
 * The PROXY protocol header an L4 load balancer puts before a connection's first byte to say
 * whose connection it is (HAProxy's proxy-protocol.txt: version 1, text, at most 107 bytes;
 * version 2, binary, a 16-byte head and its addresses). Parsed strictly: anything else is an
 * error, never guessed at.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type ProxyHeader =
  /** A proxied connection: the client's address and port. */
  | { readonly kind: 'proxy'; readonly address: string; readonly port: number }
  /** The balancer's own connection (health checks; v2 LOCAL, v1 UNKNOWN): keep the peer. */
  | { readonly kind: 'local' };

const V1_PREFIX = Buffer.from('PROXY ');
const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** Longest v2 address block accepted (addresses are at most 216 bytes; TLVs beyond are skipped). */
const V2_MAX_LENGTH = 2048;

export class ProxyHeaderError extends Error {}

/**
 * The header at the start of `buf` and its length in bytes; undefined while more bytes are
 * needed. Throws ProxyHeaderError when the bytes are not a valid header.
 */
export function parseProxyHeader(buf: Buffer): { header: ProxyHeader; length: number } | undefined {
  if (startsLike(buf, V2_SIGNATURE)) return buf.length < V2_SIGNATURE.length ? undefined : v2(buf);
  if (startsLike(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? undefined : v1(buf);
  throw new ProxyHeaderError('the connection did not start with a PROXY protocol header');
}

/** `buf` and `prefix` agree on their common length. */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

function v1(buf: Buffer): { header: ProxyHeader; length: number } | undefined {
  const end = buf.subarray(0, V1_MAX).indexOf('\r\n');
  if (end === -1) {
    if (buf.length >= V1_MAX) throw new ProxyHeaderError('PROXY v1 header longer than 107 bytes');
    return undefined;
  }
  const parts = buf.subarray(0, end).toString('latin1').split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { header: { kind: 'local' }, length };
  const [, family, source, destination, sourcePort, destinationPort, ...extra] = parts;
  const valid = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6 : undefined;
  if (
    valid === undefined ||
    extra.length > 0 ||
    !valid(source ?? '') ||
    !valid(destination ?? '') ||
    !isPort(sourcePort) ||
    !isPort(destinationPort)
  ) {
    throw new ProxyHeaderError('malformed PROXY v1 header');
  }
  return { header: { kind: 'proxy', address: source!, port: Number(sourcePort) }, length };
}

function isPort(text: string | undefined): boolean {
  return text !== undefined && /^(0|[1-9]\d{0,4})$/.test(text) && Number(text) <= 65535;
}

function v2(buf: Buffer): { header: ProxyHeader; length: number } | undefined {
  if (buf.length < 16) return undefined;
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) throw new ProxyHeaderError('PROXY v2 header of another version');
  const command = versionCommand & 0x0f;
  const family = buf[13]!;
  const size = buf.readUInt16BE(14);
  if (size > V2_MAX_LENGTH) throw new ProxyHeaderError('PROXY v2 header too long');
  const length = 16 + size;
  if (buf.length < length) return undefined;
  if (command === 0x0) return { header: { kind: 'local' }, length }; // LOCAL
  if (command !== 0x1) throw new ProxyHeaderError('PROXY v2 header with an unknown command');
  const body = buf.subarray(16, length);
  switch (family >> 4) {
    case 0x1: // AF_INET: source, destination, source port, destination port
      if (size < 12) throw new ProxyHeaderError('PROXY v2 IPv4 addresses cut short');
      return {
        header: {
          kind: 'proxy',
          address: [...body.subarray(0, 4)].join('.'),
          port: body.readUInt16BE(8),
        },
        length,
      };
    case 0x2: // AF_INET6
      if (size < 36) throw new ProxyHeaderError('PROXY v2 IPv6 addresses cut short');
      return {
        header: { kind: 'proxy', address: ipv6(body.subarray(0, 16)), port: body.readUInt16BE(32) },
        length,
      };
    default: // AF_UNSPEC or AF_UNIX: no address to take
      return { header: { kind: 'local' }, length };
  }
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The canonical text form (RFC 5952), as a socket would report it.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
