/**
 * The HTTPS listener's server: HTTP/2 and HTTP/1.1 by ALPN, a certificate per handshake from
 * `SNICallback`, the TLS policy, explicit HTTP/2 settings, and HTTP/1.1-over-TLS timeouts
 * and answers the same as the plain HTTP listener's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, Http2ServerResponse, type Http2SecureServer } from 'node:http2';
import type { Config } from '../config/schema.js';
import type { SNICallback } from '../tls/sni.js';
import { TLS_POLICY } from '../tls/tls-policy.js';
import { answerClientError } from './connection-guard.js';

/**
 * An HTTP/2 response that counts the body bytes written through it. One connection carries
 * many streams at once, so the connection's growth while a response was open is not what that
 * response sent, and a stream has no byte count of its own; `end(chunk)` writes through
 * `write`, so every body byte passes here once. HPACK-compressed header blocks are not counted.
 */
export class CountingHttp2Response extends Http2ServerResponse {
  bodyBytes = 0;

  override write(chunk: string | Uint8Array, callback?: (err: Error) => void): boolean;
  override write(
    chunk: string | Uint8Array,
    encoding: BufferEncoding,
    callback?: (err: Error) => void,
  ): boolean;
  override write(
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | ((err: Error) => void),
    callback?: (err: Error) => void,
  ): boolean {
    this.bodyBytes +=
      typeof chunk === 'string'
        ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : 'utf8')
        : chunk.byteLength;
    return super.write(chunk, encoding as BufferEncoding, callback);
  }
}

export function createHttpsServer(
  limits: Config['limits'],
  tls: { cert: string; key: string; SNICallback: SNICallback },
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Http2SecureServer {
  const server = createSecureServer(
    {
      ...TLS_POLICY,
      cert: tls.cert,
      key: tls.key,
      SNICallback: tls.SNICallback,
      allowHTTP1: true, // ALPN offers h2 and http/1.1; WebSocket stays on HTTP/1.1
      Http2ServerResponse: CountingHttp2Response,
      handshakeTimeout: limits.headersTimeoutMs,
      maxSessionMemory: 64,
      // Sent explicitly rather than left to Node's defaults (RFC 9113 §6.5.2).
      settings: {
        maxConcurrentStreams: limits.http2.maxConcurrentStreams,
        initialWindowSize: limits.http2.initialWindowSize,
        maxHeaderListSize: limits.maxHeaderBytes,
        enablePush: false,
      },
    },
    handle as unknown as (req: unknown, res: unknown) => void,
  );
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
  return server as unknown as Http2SecureServer; // its responses are CountingHttp2Response
}
