/**
 * The DNS side of an instance (`dns.enabled`): answers the platform zones from memory —
 * addresses of healthy instances, TXT records of pending DNS-01 challenges (from the store,
 * so any instance answers them).
 */
import { isIP } from 'node:net';
import type { LoadedConfig } from '../config/load-config.js';
import type { ChallengeRecord } from '../tls/acme-issuer.js';
import { DnsServer } from '../dns/dns-server.js';
import type { ZoneData } from '../dns/zone-answers.js';
import type { FleetView } from '../control/instances.js';
import type { Logger } from '../observability/logger.js';
import type { Change } from '../store/state-store.js';
import type { StoreMirror } from '../store/store-mirror.js';

export class DnsNode {
  readonly #server: DnsServer;
  readonly #onChange: (changes: readonly Change[] | 'reloaded') => void;

  private constructor(
    server: DnsServer,
    onChange: (changes: readonly Change[] | 'reloaded') => void,
  ) {
    this.#server = server;
    this.#onChange = onChange;
  }

  static async start(options: {
    loaded: LoadedConfig;
    mirror: StoreMirror;
    /** Who is alive (fed the store's changes by the control node). */
    fleet: FleetView;
    /** This instance's announced addresses. */
    own: readonly string[];
    logger: Logger;
  }): Promise<DnsNode> {
    const { loaded, mirror, fleet, own, logger } = options;
    const { dns, platform } = loaded.config;
    if (own.length === 0) {
      logger.warn(
        'dns: this instance found no public address on its interfaces; set dns.addresses (it answers for the zones with the other instances’ addresses only)',
      );
    }
    let serial = Math.floor(Date.now() / 1000);
    let challenges = challengeIndex(mirror);
    /** Instances known, and whether each is draining: what moves the SOA serial. */
    const members = new Map<string, boolean>();
    const onChange = (changes: readonly Change[] | 'reloaded') => {
      if (changes === 'reloaded' || changes.some((c) => c.kind === 'challenge')) {
        challenges = challengeIndex(mirror);
      }
      // The serial moves when the answers may: a challenge, an instance joining, leaving or
      // draining — not on every heartbeat. Every change is looked at (membership is kept).
      let moved = changes === 'reloaded';
      for (const c of changes === 'reloaded' ? [] : changes) {
        if (c.kind === 'challenge') moved = true;
        if (c.kind !== 'instance') continue;
        const before = members.get(c.key);
        const now =
          c.value === null ? undefined : (c.value as { draining?: boolean }).draining === true;
        if (now === undefined) members.delete(c.key);
        else members.set(c.key, now);
        if (before !== now) moved = true;
      }
      if (moved) serial = Math.max(serial + 1, Math.floor(Date.now() / 1000));
    };
    const zones = platform.domains.map((d) => d.toLowerCase().replace(/\.$/, ''));
    const data: ZoneData = {
      zones,
      nameservers: (zone) =>
        dns.nameservers.length > 0 ? dns.nameservers : [`ns1.${zone}`, `ns2.${zone}`],
      addresses: () => {
        const healthy = fleet.healthy();
        // No instance looks healthy (this one is cut off from the store, say): answer with
        // every address known rather than none — as Route 53 does when all checks fail.
        const source =
          healthy.length > 0 ? healthy.flatMap((r) => r.addresses) : [...own, ...allKnown(fleet)];
        const unique = [...new Set(source)];
        return {
          v4: unique.filter((a) => isIP(a) === 4),
          v6: unique.filter((a) => isIP(a) === 6),
        };
      },
      txt: (name) => challenges.get(name) ?? [],
      serial: () => serial,
      ttl: dns.ttlSeconds,
      negativeTtl: dns.negativeTtlSeconds,
    };
    const server = await DnsServer.listen({
      host: dns.host,
      port: dns.port,
      data,
      logger,
      maxTcpConnections: dns.maxTcpConnections,
      tcpIdleTimeoutMs: dns.tcpIdleTimeoutMs,
    });
    logger.info({ port: server.port, zones, addresses: own }, 'DNS listening');
    return new DnsNode(server, onChange);
  }

  get port(): number {
    return this.#server.port;
  }

  /** Store changes, as the mirror applies them. */
  onRecords(changes: readonly Change[] | 'reloaded'): void {
    this.#onChange(changes);
  }

  close(): Promise<void> {
    return this.#server.close();
  }
}

function allKnown(fleet: FleetView): string[] {
  return fleet
    .all()
    .filter((r) => !r.draining)
    .flatMap((r) => r.addresses);
}

/** DNS-01 challenge values by record name (`_acme-challenge.<domain>`, lower case). */
function challengeIndex(mirror: StoreMirror): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of mirror.values('challenge')) {
    const c = r.value as unknown as ChallengeRecord;
    if (c.type !== 'dns-01' || c.dnsName === undefined) continue;
    const name = c.dnsName.toLowerCase();
    out.set(name, [...(out.get(name) ?? []), c.keyAuthorization]);
  }
  return out;
}
