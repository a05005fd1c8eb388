/**
 * The DNS listener: UDP and TCP on one port (RFC 1035 §4.2, RFC 7766), packets parsed and
 * built by `dns-packet`, answers from `answerQuery`. A UDP answer larger than the client can
 * take (512 bytes, or its EDNS0 size up to 1,232) goes out truncated with TC set, and the
 * client asks again over TCP. Malformed packets are dropped and counted; TCP connections
 * are capped, and closed when idle or when they send garbage.
 */
import { once } from 'node:events';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Logger } from 'pino';
import { countDnsDropped, countDnsResponse } from '../observability/metrics.js';
import { answerQuery, MAX_UDP_PAYLOAD, truncated, type ZoneData } from './zone-answers.js';

export interface DnsServerOptions {
  readonly host: string;
  /** 0 picks a free port (UDP first, then TCP on the same number). */
  readonly port: number;
  readonly data: ZoneData;
  readonly logger: Logger;
  /** Most TCP connections at once. */
  readonly maxTcpConnections: number;
  /** A TCP connection quiet this long is closed (RFC 7766 §6.2.3 suggests seconds). */
  readonly tcpIdleTimeoutMs: number;
}

/** The most a TCP client may have sent but we have not yet parsed (two largest messages). */
const MAX_TCP_BUFFER = 2 * (65_535 + 2);
/** The most answers may wait for a TCP client that sends queries but does not read. */
const MAX_TCP_UNREAD = 256 * 1024;

export class DnsServer {
  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #data: ZoneData;
  readonly #logger: Logger;
  readonly #sockets = new Set<Socket>();
  #rotation = 0;

  private constructor(udp: UdpSocket, tcp: Server, options: DnsServerOptions) {
    this.#udp = udp;
    this.#tcp = tcp;
    this.#data = options.data;
    this.#logger = options.logger;
  }

  static async listen(options: DnsServerOptions): Promise<DnsServer> {
    const family = options.host.includes(':') ? 'udp6' : 'udp4';
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket({ type: family });
      const tcp = createServer({ noDelay: true });
      tcp.maxConnections = options.maxTcpConnections;
      const server = new DnsServer(udp, tcp, options);
      udp.on('message', (msg, peer) => server.#onUdp(msg, peer.address, peer.port));
      udp.on('error', (err) => options.logger.error({ err }, 'DNS UDP socket error'));
      tcp.on('connection', (socket) => server.#onTcp(socket, options.tcpIdleTimeoutMs));
      tcp.on('drop', () => countDnsDropped('tcp', 'connections'));
      udp.bind(options.port, options.host);
      await once(udp, 'listening');
      const port = udp.address().port;
      try {
        tcp.listen(port, options.host);
        await once(tcp, 'listening');
        return server;
      } catch (err) {
        udp.close();
        // Port 0: the number UDP got may be taken for TCP; try another a few times.
        if (options.port !== 0 || attempt >= 10) throw err;
      }
    }
  }

  get port(): number {
    return this.#udp.address().port;
  }

  /** The response bytes for a query's bytes, or undefined to drop it. */
  #respond(message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      countDnsDropped(transport, 'malformed');
      return undefined;
    }
    let answer: ReturnType<typeof answerQuery>;
    try {
      answer = answerQuery(query, this.#data, this.#rotation++);
    } catch (err) {
      // A packet dns-packet accepted but we cannot make sense of: dropped, never a crash.
      this.#logger.warn({ err }, 'DNS query could not be answered');
      countDnsDropped(transport, 'malformed');
      return undefined;
    }
    if (answer === undefined) {
      countDnsDropped(transport, 'not_a_query');
      return undefined;
    }
    let bytes: Buffer;
    try {
      bytes = dnsPacket.encode(answer.packet);
    } catch (err) {
      // A value in the zone data dns-packet cannot write (a bad address in the store).
      this.#logger.error({ err }, 'DNS answer could not be encoded');
      countDnsDropped(transport, 'unencodable');
      return undefined;
    }
    if (transport === 'udp') {
      const limit = Math.min(answer.udpPayloadSize ?? 512, MAX_UDP_PAYLOAD);
      if (bytes.length > limit) bytes = dnsPacket.encode(truncated(answer));
    }
    countDnsResponse(transport, answer.rcode);
    return bytes;
  }

  #onUdp(message: Buffer, address: string, port: number): void {
    if (port === 0) return; // nobody to answer; a spoofed source
    const bytes = this.#respond(message, 'udp');
    if (bytes !== undefined) this.#udp.send(bytes, port, address);
  }

  #onTcp(socket: Socket, idleTimeoutMs: number): void {
    let buffered: Buffer = Buffer.alloc(0);
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_TCP_BUFFER) {
        countDnsDropped('tcp', 'malformed');
        socket.destroy();
        return;
      }
      // Each message is preceded by its length in two bytes (RFC 1035 §4.2.2).
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const bytes = this.#respond(message, 'tcp');
        if (bytes === undefined) {
          socket.destroy(); // a client that sends garbage gets no more of our time
          return;
        }
        const framed = Buffer.allocUnsafe(2 + bytes.length);
        framed.writeUInt16BE(bytes.length, 0);
        bytes.copy(framed, 2);
        socket.write(framed);
        if (socket.writableLength > MAX_TCP_UNREAD) {
          countDnsDropped('tcp', 'not_reading');
          socket.destroy();
          return;
        }
      }
    });
  }

  async close(): Promise<void> {
    const tcpClosed = new Promise<void>((resolve) => this.#tcp.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#udp.close(() => resolve()));
    await tcpClosed;
  }
}
