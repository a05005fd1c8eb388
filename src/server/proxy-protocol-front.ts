/**
 * A listener that reads the PROXY protocol header (src/net/proxy-protocol.ts) a trusted L4
 * load balancer sends, gives the connection the client's address (so routing, rate limits,
 * logs and X-Forwarded-For see the client, not the balancer), and hands it to the HTTP or
 * HTTPS server behind it. Only `proxy.trustedProxies` may speak it: from anyone else the
 * header is not read (a PROXY line would be a bad request), so no client can claim an
 * address. From a trusted peer it is required, and must arrive within `timeoutMs`.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { parseProxyHeader, ProxyHeaderError } from '../net/proxy-protocol.js';
import { countRefusal } from '../observability/metrics.js';
import type { TrustedPeers } from '../proxy/trusted-peers.js';

export function proxyProtocolFront(
  target: EventEmitter,
  options: {
    trusted: TrustedPeers;
    timeoutMs: number;
    /**
     * The target reads the socket itself once it has it (TLS wraps its handle and takes what
     * was put back with unshift): leave it paused. HTTP needs it flowing.
     */
    takesOver?: boolean;
  },
): NetServer {
  const handOver = (socket: Socket) => {
    target.emit('connection', socket);
    if (options.takesOver !== true) socket.resume();
  };
  return createServer({ noDelay: true, pauseOnConnect: true }, (socket: Socket) => {
    if (!options.trusted.has(socket.remoteAddress)) {
      handOver(socket);
      return;
    }
    let buffered: Buffer = Buffer.alloc(0);
    const fail = () => {
      countRefusal('proxy_protocol');
      socket.destroy();
    };
    const timer = setTimeout(fail, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let parsed;
      try {
        parsed = parseProxyHeader(buffered);
      } catch (err) {
        if (!(err instanceof ProxyHeaderError)) throw err;
        clearTimeout(timer);
        fail();
        return;
      }
      if (parsed === undefined) return; // more to come
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      const { header, length } = parsed;
      if (header.kind === 'proxy') {
        // The peer is the client from here on: what every later reader of the socket sees.
        Object.defineProperty(socket, 'remoteAddress', { value: header.address });
        Object.defineProperty(socket, 'remotePort', { value: header.port });
        Object.defineProperty(socket, 'remoteFamily', {
          value: header.address.includes(':') ? 'IPv6' : 'IPv4',
        });
      }
      const rest = buffered.subarray(length);
      if (rest.length > 0) socket.unshift(rest);
      handOver(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clearTimeout(timer));
    socket.resume();
  });
}

/**
 * A TLS socket reports its own peer, not the one its raw socket took from a PROXY header:
 * copy the client's address over (Node's TLSSocket keeps the raw socket as `_parent`).
 */
export function inheritClientAddress(tlsSocket: Socket): void {
  const raw = (tlsSocket as { _parent?: Socket })._parent;
  if (raw === undefined || !Object.hasOwn(raw, 'remoteAddress')) return;
  for (const name of ['remoteAddress', 'remotePort', 'remoteFamily'] as const) {
    Object.defineProperty(tlsSocket, name, { value: raw[name] });
  }
}
