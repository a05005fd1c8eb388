/**
 * The HTTPS listener's server: HTTP/2 and HTTP/1.1 by ALPN, a certificate per handshake from
 * `SNICallback`, the TLS policy, explicit HTTP/2 settings, HTTP/1.1-over-TLS timeouts and
 * answers the same as the plain HTTP listener's, and the listener's connection guard.
 */
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { Config } from '../config/schema.js';
import type { SNICallback } from '../tls/sni.js';
import { TLS_POLICY } from '../tls/tls-policy.js';
import { answerClientError, type ConnectionGuard } from './connection-guard.js';
import { http2StreamListener, type RequestListener } from './http2-exchange.js';

export function createHttpsServer(
  limits: Config['limits'],
  tls: { cert: string; key: string; SNICallback: SNICallback },
  handle: RequestListener,
  guard?: ConnectionGuard,
): Http2SecureServer {
  const server = createSecureServer({
    ...TLS_POLICY,
    cert: tls.cert,
    key: tls.key,
    SNICallback: tls.SNICallback,
    allowHTTP1: true, // ALPN offers h2 and http/1.1; WebSocket stays on HTTP/1.1
    handshakeTimeout: limits.headersTimeoutMs,
    maxSessionMemory: 64,
    // Protocol floods, each ending the connection (test/server/http2-floods.test.ts); Node's and
    // nghttp2's defaults, set here so that they hold whatever a later Node defaults to.
    streamResetBurst: 1000, // rapid reset (CVE-2023-44487): 1,000 resets at once, then
    streamResetRate: 33, // 33 a second, or GOAWAY
    maxSessionInvalidFrames: 1000, // empty DATA frames and other invalid ones (CVE-2019-9518)
    maxSessionRejectedStreams: 100, // streams refused past maxConcurrentStreams
    maxOutstandingPings: 10,
    // Sent explicitly rather than left to Node's defaults (RFC 9113 §6.5.2).
    settings: {
      maxConcurrentStreams: limits.http2.maxConcurrentStreams,
      initialWindowSize: limits.http2.initialWindowSize,
      maxHeaderListSize: limits.maxHeaderBytes,
      enablePush: false,
    },
  });
  // HTTP/1.1 over TLS comes as 'request'. Adding that listener makes node:http2 answer
  // HTTP/2 streams through its compatibility layer as well (a 'stream' listener it adds);
  // they are answered natively instead (http2-exchange.ts), through the same `handle`.
  server.on('request', handle as unknown as (req: unknown, res: unknown) => void);
  server.removeAllListeners('stream');
  server.on('stream', http2StreamListener(handle, guard?.sends));
  // HTTP/1.1 over TLS: the same head, request and keep-alive timeouts as the HTTP listener,
  // checked as often (Node reads these before 'listening').
  Object.assign(server, {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: 1000,
    maxRequestsPerSocket: limits.maxRequestsPerConnection,
  });
  server.on('clientError', answerClientError); // HTTP/1.1 over TLS: the same answers
  // A failed handshake (unknown SNI, old protocol, port scan) concerns no one else.
  server.on('tlsClientError', () => {});
  guard?.guardSecure(server); // connection caps, deadlines, the send timeout
  return server;
}
