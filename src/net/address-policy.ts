/**
 * Where a tenant's traffic may go. A replica registered by a tenant must never publish an
 * address that is not the tenant's app: loopback, link-local (cloud metadata at
 * 169.254.169.254), unspecified, multicast, or any address:port Switchyard itself listens on
 * (the admin API, the store). Private ranges are allowed: containers live there. The
 * operator widens or narrows it with `upstream.allowedNetworks` / `deniedNetworks` (CIDRs).
 *
 * Checked twice: when a replica is submitted (its host resolved), and on every connect to
 * the resolved address (`lookupFor`), so a name that later resolves to 127.0.0.1 (DNS
 * rebinding) still cannot get through. When a check cannot run (DNS fails), it refuses.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Denied unless the operator allows them (RFC 6890 special-purpose ranges that are never an app). */
export const DEFAULT_DENIED = [
  '0.0.0.0/8', // "this network", unspecified
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, broadcast
  '::/128', // unspecified
  '::1/128', // loopback
  'fe80::/10', // link-local
  'ff00::/8', // multicast
] as const;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface AddressPolicySettings {
  /** CIDRs always refused (before anything else). */
  readonly deniedNetworks: readonly string[];
  /** CIDRs allowed even inside the default-denied ranges. */
  readonly allowedNetworks: readonly string[];
  /** Where Switchyard itself listens (read at each check: ports may be chosen at start). */
  readonly self: () => readonly Endpoint[];
}

const DNS_TIMEOUT_MS = 2_000;

export class AddressPolicy {
  readonly #denied = new BlockList();
  readonly #allowed = new BlockList();
  readonly #defaults = new BlockList();
  readonly #self: () => readonly Endpoint[];

  constructor(settings: AddressPolicySettings) {
    for (const cidr of settings.deniedNetworks) addCidr(this.#denied, cidr);
    for (const cidr of settings.allowedNetworks) addCidr(this.#allowed, cidr);
    for (const cidr of DEFAULT_DENIED) addCidr(this.#defaults, cidr);
    this.#self = settings.self;
  }

  /** Why `address:port` may not be reached, or undefined when it may. */
  refusal(address: string, port: number): string | undefined {
    const ip = unmapped(address);
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (this.#denied.check(ip, family)) return `${ip} is in a denied network`;
    for (const self of selfAddresses(this.#self())) {
      if (self.port === port && self.host === ip) {
        return `${ip}:${port} is Switchyard's own listener`;
      }
    }
    if (this.#allowed.check(ip, family)) return undefined;
    if (this.#defaults.check(ip, family)) {
      return `${ip} is a loopback, link-local, unspecified or multicast address`;
    }
    return undefined;
  }

  /** Why a replica URL may not be used (its host resolved now), or undefined. */
  async checkUrl(url: string): Promise<string | undefined> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `${url} is not a URL`;
    }
    const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(host) !== 0) addresses = [host];
    else {
      try {
        const found = await withTimeout(lookup(host, { all: true }), DNS_TIMEOUT_MS);
        addresses = found.map((a) => a.address);
      } catch (err) {
        return `${host} could not be resolved (${(err as { code?: string }).code ?? 'error'})`;
      }
    }
    for (const address of addresses) {
      const why = this.refusal(address, port);
      if (why !== undefined) return `${host} → ${why}`;
    }
    return undefined;
  }

  /** A `lookup` for connections to `port` that drops refused addresses (none left: an error). */
  lookupFor(port: number): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, found: LookupAddress[]) => {
        if (err !== null) {
          callback(err, '', 0);
          return;
        }
        const usable = found.filter((a) => this.refusal(a.address, port) === undefined);
        if (usable.length === 0) {
          const refused = Object.assign(
            new Error(`${hostname} resolves only to addresses replicas may not use`),
            { code: 'ECONNREFUSED' },
          );
          callback(refused, '', 0);
          return;
        }
        if (options.all === true) callback(null, usable, 0);
        else callback(null, usable[0]!.address, usable[0]!.family);
      });
    };
  }
}

function addCidr(list: BlockList, cidr: string): void {
  const [address, bits] = cidr.split('/');
  const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
  list.addSubnet(address!, Number(bits ?? (family === 'ipv6' ? 128 : 32)), family);
}

/** `::ffff:127.0.0.1` is 127.0.0.1. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m === null ? address : m[1]!;
}

/** Listeners on a wildcard address are reachable on every local address. */
function selfAddresses(endpoints: readonly Endpoint[]): Endpoint[] {
  const out: Endpoint[] = [];
  for (const e of endpoints) {
    if (e.host === '0.0.0.0' || e.host === '::' || e.host === '') {
      for (const list of Object.values(networkInterfaces())) {
        for (const a of list ?? []) out.push({ host: a.address, port: e.port });
      }
    } else out.push({ host: unmapped(e.host), port: e.port });
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
