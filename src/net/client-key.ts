/**
 * The key a client address is limited by: an IPv4 address as it is, an IPv6 address by its
 * /64 (one subscriber usually holds a whole /64, RFC 6177 §2 — limiting single IPv6 addresses
 * would let one client rotate through 2^64 of them). IPv4-mapped IPv6 (`::ffff:1.2.3.4`, how
 * a dual-stack listener reports IPv4 peers) is the IPv4 address.
 */
export function clientKey(address: string): string {
  if (!address.includes(':')) return address;
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  // The first four groups, expanding `::` with zeros where it falls inside them.
  const groups =
    tail === undefined
      ? left
      : [
          ...left,
          ...new Array<string>(8 - left.length - (tail === '' ? 0 : tail.split(':').length)).fill(
            '0',
          ),
          ...(tail === '' ? [] : tail.split(':')),
        ];
  const prefix = groups
    .slice(0, 4)
    .map((g) => (g === '' ? '0' : g.toLowerCase().replace(/^0+(?=.)/, '')));
  while (prefix.length < 4) prefix.push('0');
  return `${prefix.join(':')}::/64`;
}
