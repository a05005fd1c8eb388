/**
 * The peers whose forwarding headers are believed (`proxy.trustedProxies`): addresses or
 * CIDR blocks, matched with node's BlockList. Everyone else's X-Forwarded-*, Forwarded and
 * X-Request-Id are replaced, so a client cannot forge its address.
 */
import { BlockList, isIP } from 'node:net';

export class TrustedPeers {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  /** Throws an Error naming the first entry that is neither an address nor a CIDR block. */
  constructor(entries: readonly string[]) {
    this.#empty = entries.length === 0;
    for (const entry of entries) {
      const [address = '', bits, ...rest] = entry.split('/');
      const family = isIP(address);
      const prefix = bits === undefined ? undefined : Number(bits);
      const max = family === 6 ? 128 : 32;
      if (
        family === 0 ||
        rest.length > 0 ||
        (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > max))
      ) {
        throw new Error(`"${entry}" is not an IP address or CIDR block`);
      }
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.#list.addAddress(address, type);
      else this.#list.addSubnet(address, prefix, type);
    }
  }

  has(address: string | undefined): boolean {
    if (this.#empty || address === undefined) return false;
    // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d.
    if (address.startsWith('::ffff:') && address.includes('.')) address = address.slice(7);
    return this.#list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client address: the peer, or — when the peer is trusted — the right-most
   * X-Forwarded-For entry that is not itself a trusted proxy.
   */
  clientAddress(peer: string, forwardedFor: string | undefined): string {
    if (forwardedFor === undefined || !this.has(peer)) return peer;
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (hop !== '' && !this.has(hop)) return hop;
    }
    return hops[0]?.trim() || peer;
  }
}
