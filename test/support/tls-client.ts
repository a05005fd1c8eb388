/**
 * Requests over TLS with a chosen SNI name, trusting a given CA: HTTP/1.1 (ALPN http/1.1)
 * and HTTP/2, answering with what the TLS tests check (status, headers, body, ALPN, the
 * certificate served).
 */
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';

export interface TlsResponse {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  alpn: string | false | null;
  cert: PeerCertificate;
}

/** An HTTP/1.1 request over TLS with the given SNI, trusting `ca`. */
export function h1(
  port: number,
  servername: string,
  path: string,
  ca: string,
): Promise<TlsResponse> {
  let alpn: string | false | null = null;
  return new Promise((resolve, reject) => {
    const options: RequestOptions & Pick<ConnectionOptions, 'ALPNProtocols'> = {
      host: '127.0.0.1',
      port,
      path,
      servername,
      ca,
      headers: { host: servername },
      agent: false,
      ALPNProtocols: ['http/1.1'],
    };
    const req = httpsRequest(options, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        const socket = res.socket as TLSSocket;
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          alpn: alpn ?? socket.alpnProtocol,
          cert: socket.getPeerCertificate(),
        });
      });
    });
    req.on('error', reject);
    req.on('socket', (socket) => {
      socket.once('secureConnect', () => (alpn = (socket as TLSSocket).alpnProtocol));
    });
    req.end();
  });
}

/** An HTTP/2 request with the given SNI and :authority, trusting `ca`. */
export function h2(
  port: number,
  servername: string,
  path: string,
  ca: string,
): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca, servername });
    session.on('error', reject);
    const stream = session.request({ ':path': path, ':authority': servername });
    let body = '';
    let headers: Record<string, unknown> = {};
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8').on('data', (d: string) => (body += d));
    stream.on('end', () => {
      const socket = session.socket as TLSSocket;
      resolve({
        status: Number(headers[':status']),
        headers,
        body,
        alpn: socket.alpnProtocol,
        cert: socket.getPeerCertificate(),
      });
      session.close();
    });
    stream.on('error', reject);
  });
}
