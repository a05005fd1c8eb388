import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { metricsText } from '../../src/observability/metrics.js';
import type { JsonValue } from '../../src/store/state-store.js';
import { needsBinary } from '../support/binaries.js';
import { dig } from '../support/dig.js';
import { startEdge, type TestEdge } from '../support/edge.js';

const ZONE = 'apps.example.com';

/** One UDP exchange; undefined when nothing comes back in `waitMs`. */
async function udpExchange(port: number, message: Buffer, waitMs = 400) {
  const socket = createSocket('udp4');
  try {
    socket.send(message, port, '127.0.0.1');
    const reply = await Promise.race([
      once(socket, 'message').then(([m]) => m as Buffer),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), waitMs)),
    ]);
    return reply;
  } finally {
    socket.close();
  }
}

const query = (name: string, type = 'A', id = 7) =>
  dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: type as 'A', name }] });

async function dropped(reason: string): Promise<number> {
  const text = await metricsText();
  const m = new RegExp(
    `switchyard_dns_dropped_total\\{transport="udp",reason="${reason}"\\} (\\d+)`,
  ).exec(text);
  return Number(m?.[1] ?? 0);
}

/** An edge answering DNS for ZONE on a free loopback port, with these `dns` settings. */
function startDnsEdge(dns: Record<string, unknown>): Promise<TestEdge> {
  return startEdge({
    demo: false,
    https: { enabled: false },
    platform: { domains: [ZONE] },
    dns: { enabled: true, host: '127.0.0.1', port: 0, ...dns },
    // Records written by a test stay alive: a heartbeat a minute.
    fleet: { heartbeatMs: 60_000 },
  });
}

describe('DNS for the platform zone (dig against the real server)', needsBinary('dig'), () => {
  let edge: TestEdge;
  let port: number;
  before(async () => {
    edge = await startDnsEdge({
      addresses: ['192.0.2.10', '2001:db8::10'],
      ttlSeconds: 30,
      negativeTtlSeconds: 15,
      tcpIdleTimeoutMs: 300,
    });
    port = edge.instance.control.dns!.port;
  });
  after(() => edge.close());

  it('answers A and AAAA for the apex and any name below it, authoritatively, in any letter case', async () => {
    for (const name of [ZONE, `shop.${ZONE}`, `abc123--shop.${ZONE}`, `ns1.${ZONE}`]) {
      const a = await dig(port, name, 'A');
      assert.equal(a.status, 'NOERROR');
      assert.ok(a.flags.includes('aa'), a.raw);
      assert.ok(!a.flags.includes('ra'), 'no recursion offered');
      assert.deepEqual(a.answer, [`${name}. 30 IN A 192.0.2.10`]);
      const aaaa = await dig(port, name, 'AAAA');
      assert.deepEqual(aaaa.answer, [`${name}. 30 IN AAAA 2001:db8::10`]);
    }
    // The question's case comes back as asked (0x20 randomisation in resolvers relies on it).
    const mixed = await dig(port, 'ShOp.APPS.Example.COM', 'A');
    assert.deepEqual(mixed.answer, ['ShOp.APPS.Example.COM. 30 IN A 192.0.2.10']);
  });

  it('tells a custom domain to CNAME to a name it answers itself', async () => {
    assert.equal((await edge.api('POST', '/v1/projects', { slug: 'shop' })).status, 201);
    const attached = await edge.api('POST', '/v1/projects/shop/domains', {
      domain: 'www.customer.example',
    });
    assert.equal(attached.status, 201);
    assert.equal(attached.body.publish.cname, `cname.${ZONE}`, JSON.stringify(attached.body));
    const target = await dig(port, `cname.${ZONE}`, 'A');
    assert.deepEqual(target.answer, [`cname.${ZONE}. 30 IN A 192.0.2.10`]);
  });

  it('answers SOA and NS at the apex, with glue for the in-zone name servers', async () => {
    const soa = await dig(port, ZONE, 'SOA');
    assert.equal(soa.answer.length, 1);
    assert.match(
      soa.answer[0]!,
      new RegExp(
        `^${ZONE}\\. 30 IN SOA ns1\\.${ZONE}\\. hostmaster\\.${ZONE}\\. \\d+ 3600 600 1209600 15$`,
      ),
    );
    const ns = await dig(port, ZONE, 'NS');
    assert.deepEqual(ns.answer, [
      `${ZONE}. 30 IN NS ns1.${ZONE}.`,
      `${ZONE}. 30 IN NS ns2.${ZONE}.`,
    ]);
    assert.ok(ns.additional.includes(`ns1.${ZONE}. 30 IN A 192.0.2.10`), ns.raw);
    assert.ok(ns.additional.includes(`ns2.${ZONE}. 30 IN AAAA 2001:db8::10`), ns.raw);
  });

  it('gives NODATA with the SOA for other types, and refuses names outside its zones', async () => {
    const mx = await dig(port, `shop.${ZONE}`, 'MX');
    assert.equal(mx.status, 'NOERROR');
    assert.deepEqual(mx.answer, []);
    assert.match(mx.authority[0] ?? '', new RegExp(`^${ZONE}\\. 15 IN SOA `), 'negative TTL');
    for (const name of ['example.com', 'www.example.org', 'google.com', 'xapps.example.com']) {
      const out = await dig(port, name, 'A', ['+rec']);
      assert.equal(out.status, 'REFUSED', name);
      assert.ok(!out.flags.includes('aa'));
      assert.deepEqual(out.answer, []);
    }
    const chaos = await dig(port, 'version.bind', 'TXT', ['-c', 'CH']);
    assert.equal(chaos.status, 'REFUSED');
    const axfr = await dig(port, ZONE, 'AXFR', ['+tcp']);
    assert.match(axfr.raw, /Transfer failed|REFUSED/);
  });

  it('answers ANY with one HINFO (RFC 8482), never the whole name', async () => {
    const any = await dig(port, ZONE, 'ANY');
    assert.deepEqual(any.answer, [`${ZONE}. 30 IN HINFO "RFC8482" ""`]);
  });

  it('serves TXT records of pending DNS-01 challenges from the store, and nothing below them', async () => {
    const name = `_acme-challenge.${ZONE}`;
    const before = await dig(port, name, 'TXT');
    assert.deepEqual(before.answer, []);
    const serial = async () => Number((await dig(port, ZONE, 'SOA')).answer[0]!.split(' ')[6]);
    const serialBefore = await serial();
    const record = (token: string, value: string): JsonValue => ({
      token,
      keyAuthorization: value,
      name: `*.${ZONE}`,
      createdAt: new Date().toISOString(),
      type: 'dns-01',
      dnsName: name,
    });
    await edge.instance.control.store.commit([
      { kind: 'challenge', key: 'tok-1', value: record('tok-1', 'first-value') },
      { kind: 'challenge', key: 'tok-2', value: record('tok-2', 'second-value') },
    ]);
    const txt = await dig(port, name.toUpperCase(), 'TXT');
    assert.deepEqual([...txt.answer].sort(), [
      `${name.toUpperCase()}. 1 IN TXT "first-value"`,
      `${name.toUpperCase()}. 1 IN TXT "second-value"`,
    ]);
    assert.equal((await dig(port, name, 'A')).answer.length, 0, 'the challenge name has TXT only');
    assert.ok((await serial()) > serialBefore, 'the SOA serial moves with the zone');
    assert.equal((await dig(port, `x.${name}`, 'A')).status, 'NXDOMAIN');
    await edge.instance.control.store.commit([
      { kind: 'challenge', key: 'tok-1', value: null },
      { kind: 'challenge', key: 'tok-2', value: null },
    ]);
    assert.deepEqual((await dig(port, name, 'TXT')).answer, []);
  });

  it('speaks EDNS0: echoes OPT, says BADVERS to versions it does not know', async () => {
    const edns = await dig(port, ZONE, 'A', ['+bufsize=4096']);
    assert.match(edns.edns ?? '', /version: 0.*udp: 1232/);
    const v1 = await dig(port, ZONE, 'A', ['+edns=1', '+noednsneg']);
    assert.equal(v1.status, 'BADVERS');
    const plain = await dig(port, ZONE, 'A', ['+noedns']);
    assert.equal(plain.edns, undefined);
  });

  it('answers over TCP too, and closes idle or garbage TCP connections', async () => {
    const tcp = await dig(port, `shop.${ZONE}`, 'A', ['+tcp']);
    assert.deepEqual(tcp.answer, [`shop.${ZONE}. 30 IN A 192.0.2.10`]);
    const idle = connect(port, '127.0.0.1');
    await once(idle, 'connect');
    const started = Date.now();
    await once(idle, 'close');
    assert.ok(Date.now() - started < 3000, 'closed by the idle timeout');
    const garbage = connect(port, '127.0.0.1');
    await once(garbage, 'connect');
    garbage.write(Buffer.concat([Buffer.from([0, 20]), randomBytes(20)]));
    await once(garbage, 'close');
  });

  it('drops responses and malformed packets, counts them, and keeps answering (fuzz)', async () => {
    const response = dnsPacket.encode({
      type: 'response',
      id: 9,
      questions: [{ type: 'A', name: ZONE }],
    });
    assert.equal(await udpExchange(port, response), undefined, 'no answer to an answer');
    const malformedBefore = await dropped('malformed');
    const valid = query(`shop.${ZONE}`);
    const socket = createSocket('udp4');
    socket.unref();
    let sent = 0;
    for (let i = 0; i < 3000; i++) {
      let packet: Buffer;
      if (i % 3 === 0) packet = randomBytes(Math.floor(Math.random() * 600));
      else {
        // Mutations of a valid query: flipped bytes, cut short, counts set high.
        packet = Buffer.from(valid);
        for (let j = 0; j < 1 + (i % 5); j++) {
          packet[Math.floor(Math.random() * packet.length)] = Math.floor(Math.random() * 256);
        }
        if (i % 7 === 0) packet = packet.subarray(0, Math.floor(Math.random() * packet.length));
        if (i % 11 === 0 && packet.length >= 6) packet.writeUInt16BE(0xffff, 4);
      }
      socket.send(packet, port, '127.0.0.1');
      sent++;
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    socket.close();
    assert.equal(sent, 3000);
    // The flood may fill the socket's receive buffer, and UDP drops what does not fit: ask as a
    // resolver does, again after a wait.
    let reply: Buffer | undefined;
    for (let attempt = 0; attempt < 10 && reply === undefined; attempt++) {
      reply = await udpExchange(port, query(`after.${ZONE}`, 'A', 4242), 500);
    }
    assert.ok(reply !== undefined, 'still answering');
    const decoded = dnsPacket.decode(reply);
    assert.equal(decoded.id, 4242);
    assert.deepEqual(
      decoded.answers?.map((a) => (a as { data?: unknown }).data),
      ['192.0.2.10'],
    );
    assert.ok((await dropped('malformed')) > malformedBefore, 'malformed packets are counted');
    const text = await metricsText();
    assert.match(text, /switchyard_dns_responses_total\{transport="udp",rcode="NOERROR"\} \d+/);
  });

  it('truncates a UDP answer larger than the client takes, and the full answer comes over TCP', async () => {
    // Twenty more instances of the fleet, each with its own address: 21 × 37 bytes > 512.
    const now = new Date().toISOString();
    await edge.instance.control.store.commit(
      Array.from({ length: 20 }, (_, i) => ({
        kind: 'instance' as const,
        key: `other-${i}`,
        value: {
          id: `other-${i}`,
          hostname: 'other',
          addresses: [`198.51.100.${i + 1}`],
          draining: false,
          startedAt: now,
          seenAt: now,
        },
      })),
    );
    const udp = await dig(port, `shop.${ZONE}`, 'A', ['+noedns', '+ignore']);
    assert.ok(udp.flags.includes('tc'), udp.raw);
    assert.deepEqual(udp.answer, []);
    const fallback = await dig(port, `shop.${ZONE}`, 'A', ['+noedns']); // dig retries over TCP
    assert.equal(fallback.answer.length, 21, fallback.raw);
    const big = await dig(port, `shop.${ZONE}`, 'A', ['+bufsize=1232', '+ignore']);
    assert.ok(!big.flags.includes('tc'), 'fits in 1,232 bytes with EDNS0');
    assert.equal(big.answer.length, 21);
  });
});

describe('DNS over TCP: connection and backlog limits', needsBinary('dig'), () => {
  let edge: TestEdge;
  let port: number;
  before(async () => {
    edge = await startDnsEdge({
      addresses: ['192.0.2.10'],
      maxTcpConnections: 2,
      tcpIdleTimeoutMs: 10_000,
    });
    port = edge.instance.control.dns!.port;
  });
  after(() => edge.close());

  it('drops connections past dns.maxTcpConnections, and serves again once one closes', async () => {
    const open = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    await Promise.all(open.map((s) => once(s, 'connect')));
    await new Promise((r) => setTimeout(r, 100)); // the server has counted them
    const third = connect(port, '127.0.0.1');
    third.on('error', () => {});
    await once(third, 'close');
    open[0]!.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const tcp = await dig(port, `shop.${ZONE}`, 'A', ['+tcp']);
    assert.deepEqual(tcp.answer, [`shop.${ZONE}. 60 IN A 192.0.2.10`]);
    open[1]!.destroy();
  });

  it('disconnects a client that sends queries but never reads the answers', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.pause(); // never read
    const q = query(`shop.${ZONE}`);
    const framed = Buffer.alloc(2 + q.length);
    framed.writeUInt16BE(q.length, 0);
    q.copy(framed, 2);
    const burst = Buffer.concat(Array.from({ length: 2000 }, () => framed));
    // (`once` would reject on the ECONNRESET the writes then meet.)
    const closed = new Promise((resolve) => socket.on('close', resolve));
    for (let i = 0; i < 100 && !socket.destroyed; i++) {
      socket.write(burst);
      await new Promise((r) => setImmediate(r));
    }
    await closed; // the server gave up on it (answers waiting past 256 KiB)
    const text = await metricsText();
    assert.match(
      text,
      /switchyard_dns_dropped_total\{transport="tcp",reason="not_reading"\} [1-9]/,
    );
  });
});
