/**
 * The answers of an authoritative-only DNS server for the platform's zones: a pure function
 * from a decoded query and a view of the zone data to a response (RFC 1034/1035, negative
 * answers per RFC 2308, wildcard synthesis per RFC 4592, EDNS0 per RFC 6891, ANY per
 * RFC 8482). No recursion, no zone transfers; names outside the zones are REFUSED.
 */
import type { Answer, DecodedPacket, OptAnswer, Packet, Question } from 'dns-packet';

/** What the zones hold right now (read from memory on every query; never awaits). */
export interface ZoneData {
  /** Zone apexes, lower case, without a trailing dot. */
  readonly zones: readonly string[];
  /** Names of the zone's name servers (NS records; their addresses are this fleet's). */
  nameservers(zone: string): readonly string[];
  /** The fleet's healthy addresses (A and AAAA for the apex and every name below it). */
  addresses(): { readonly v4: readonly string[]; readonly v6: readonly string[] };
  /** TXT values at a lower-case name (pending ACME DNS-01 challenges). */
  txt(name: string): readonly string[];
  /** SOA serial: changes when the zone's data does. */
  serial(): number;
  /** TTL of positive answers. */
  readonly ttl: number;
  /** TTL of negative answers (SOA MINIMUM, RFC 2308 §5). */
  readonly negativeTtl: number;
}

export type Rcode = 'NOERROR' | 'FORMERR' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED' | 'BADVERS';

export interface ZoneAnswer {
  readonly packet: Packet;
  readonly rcode: Rcode;
  /** The client's EDNS0 UDP payload size, when it sent OPT (RFC 6891 §6.2.5). */
  readonly udpPayloadSize: number | undefined;
}

const RCODE_BITS: Record<Rcode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 0, // 16: the upper 8 bits go in OPT's extended RCODE (RFC 6891 §6.1.3)
};
const QR = 0x8000;
const AA = 0x0400;
const RD = 0x0100;
const CHALLENGE_LABEL = '_acme-challenge';

/**
 * The answer to one query, or undefined when the packet must be dropped (it is a response:
 * answering responses is how reflection loops start).
 */
export function answerQuery(
  query: DecodedPacket & { opcode?: string },
  data: ZoneData,
  rotation = 0,
): ZoneAnswer | undefined {
  if (query.flag_qr) return undefined;
  const opts = (query.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
  const opt = opts[0];
  const udpPayloadSize = opt === undefined ? undefined : Math.max(512, opt.udpPayloadSize);
  const questions = query.questions ?? [];
  const respond = (
    rcode: Rcode,
    sections: { answers?: Answer[]; authorities?: Answer[]; additionals?: Answer[] } = {},
    authoritative = false,
  ): ZoneAnswer => {
    let flags = (query.flags ?? 0) & (RD | 0x7800); // RD and the opcode, echoed
    flags |= RCODE_BITS[rcode] | QR;
    if (authoritative) flags |= AA;
    const additionals = [...(sections.additionals ?? [])];
    if (opt !== undefined) {
      // RFC 6891 §6.1.1: one OPT in the response when the query had one.
      additionals.push({
        type: 'OPT',
        name: '.',
        udpPayloadSize: MAX_UDP_PAYLOAD,
        extendedRcode: rcode === 'BADVERS' ? 1 : 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      });
    }
    return {
      packet: {
        type: 'response',
        id: query.id ?? 0,
        flags,
        questions: questions.slice(0, 1),
        answers: sections.answers ?? [],
        authorities: sections.authorities ?? [],
        additionals,
      },
      rcode,
      udpPayloadSize,
    };
  };

  if (query.opcode !== undefined && query.opcode !== 'QUERY') return respond('NOTIMP');
  if (questions.length !== 1 || opts.length > 1) return respond('FORMERR');
  if (opt !== undefined && opt.ednsVersion > 0) return respond('BADVERS');
  const question = questions[0]!;
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const zone = zoneOf(name, data.zones);
  if (zone === undefined || (question.class !== undefined && question.class !== 'IN')) {
    return respond('REFUSED'); // not ours: authoritative only, no recursion
  }
  if (question.type === 'AXFR' || question.type === 'IXFR') return respond('REFUSED');

  const soa = soaRecord(zone, data, data.ttl);
  // RFC 2308 §3: the SOA in a negative answer has the TTL of the negative answer.
  const negativeSoa = soaRecord(zone, data, Math.min(data.ttl, data.negativeTtl));
  const negative = (rcode: 'NOERROR' | 'NXDOMAIN') =>
    respond(rcode, { authorities: [negativeSoa] }, true);
  const positive = (answers: Answer[], additionals: Answer[] = []) =>
    answers.length === 0 ? negative('NOERROR') : respond('NOERROR', { answers, additionals }, true);

  // A challenge name holds TXT records only, and nothing exists below it (a wildcard does not
  // match below a name that exists, RFC 4592 §2.2.2).
  const below = name.indexOf(`.${CHALLENGE_LABEL}.`);
  if (below !== -1 && data.txt(name.slice(below + 1)).length > 0) return negative('NXDOMAIN');
  // dns-packet's types leave out ANY (255), which it decodes as 'ANY'.
  const type = question.type as string;
  const txt = data.txt(name);
  if (txt.length > 0) {
    if (type !== 'TXT' && type !== 'ANY') return negative('NOERROR');
    return positive(
      // Challenge records live minutes: a short TTL so a retried validation sees a new value.
      txt.map((value) => ({ type: 'TXT', name: question.name, ttl: 1, data: value })),
    );
  }

  const apex = name === zone;
  if (type === 'ANY') {
    // RFC 8482 §4.2: one synthesised HINFO instead of every record (no amplification).
    return positive([
      { type: 'HINFO', name: question.name, ttl: data.ttl, data: { cpu: 'RFC8482', os: '' } },
    ]);
  }
  if (type === 'A' || type === 'AAAA') {
    const { v4, v6 } = data.addresses();
    const list = rotate(type === 'A' ? v4 : v6, rotation);
    return positive(
      list.map((address) => ({ type, name: question.name, ttl: data.ttl, data: address })),
    );
  }
  if (apex && type === 'SOA') return positive([soa]);
  if (apex && type === 'NS') {
    const ns = data.nameservers(zone);
    const { v4, v6 } = data.addresses();
    // Glue for in-zone name servers (RFC 1034 §4.2.1), so a resolver needs no second query.
    const glue: Answer[] = [];
    for (const host of ns) {
      if (zoneOf(host, [zone]) === undefined) continue;
      for (const a of v4) glue.push({ type: 'A', name: host, ttl: data.ttl, data: a });
      for (const a of v6) glue.push({ type: 'AAAA', name: host, ttl: data.ttl, data: a });
    }
    return positive(
      ns.map((host) => ({ type: 'NS', name: question.name, ttl: data.ttl, data: host })),
      glue,
    );
  }
  return negative('NOERROR'); // the name exists (the apex, or by the zone's `*`): no such data
}

/** Largest UDP response we send (the DNS flag day 2020 figure: no IP fragmentation). */
export const MAX_UDP_PAYLOAD = 1232;

/** The response cut to its question, with TC set: the client asks again over TCP (RFC 7766). */
export function truncated(answer: ZoneAnswer): Packet {
  const p = answer.packet;
  return {
    ...p,
    flags: (p.flags ?? 0) | 0x0200,
    answers: [],
    authorities: [],
    additionals: (p.additionals ?? []).filter((a) => a.type === 'OPT'),
  };
}

/** The zone a lower-case name is in: the longest apex it equals or ends with. */
export function zoneOf(name: string, zones: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if ((name === z || name.endsWith(`.${z}`)) && (best === undefined || z.length > best.length)) {
      best = z;
    }
  }
  return best;
}

function soaRecord(zone: string, data: ZoneData, ttl: number): Answer {
  const ns = data.nameservers(zone);
  return {
    type: 'SOA',
    name: zone,
    ttl,
    data: {
      mname: ns[0] ?? zone,
      rname: `hostmaster.${zone}`,
      serial: data.serial() >>> 0,
      refresh: 3600,
      retry: 600,
      expire: 1_209_600,
      minimum: data.negativeTtl,
    },
  };
}

/** Addresses in a rotating order, so clients that take the first spread over the fleet. */
function rotate<T>(list: readonly T[], by: number): T[] {
  if (list.length < 2) return [...list];
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

export type { Question };
