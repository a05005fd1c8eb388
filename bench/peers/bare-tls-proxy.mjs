// The floors for HTTPS and HTTP/2: bare, hand-written Node proxies that only copy headers,
// with undici Pool.dispatch to the upstream (back-pressure, and the upstream response let go
// when the client leaves in the middle of it, as in bare-proxy.mjs). One process answers both:
// - HTTP/1.1 over TLS on node:https ('request' handler), the HTTPS keep-alive floor;
// - HTTP/2 on node:http2's `stream` API (no compatibility objects), the HTTP/2 floor.
// ALPN picks: h2 goes to the HTTP/2 server, http/1.1 to the HTTPS one (both on one port,
// through a TLS server that hands each socket on).
// Usage: node bare-tls-proxy.mjs <port> <upstream-url> <cert.pem> <key.pem>
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createH2Server } from 'node:http2';
import { createServer as createTlsServer } from 'node:tls';
import { Pool } from 'undici';

const [port, upstream, certFile, keyFile] = process.argv.slice(2);
const pool = new Pool(upstream, { connections: 256, pipelining: 1 });
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
]);
const CLIENT_GONE = new Error('the client went away');
const tls = { cert: readFileSync(certFile), key: readFileSync(keyFile) };

// HTTP/1.1: as bare-proxy.mjs.
const https = createHttpsServer(tls, (req, res) => {
  const headers = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  pool.dispatch(
    { path: req.url, method: req.method, headers, body: null },
    {
      onRequestStart() {},
      onResponseStart(_c, status, h) {
        const out = {};
        for (const k in h) if (!HOP.has(k)) out[k] = h[k];
        res.writeHead(status, out);
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) {
          c.pause();
          res.once('drain', () => c.resume());
          // A client that leaves mid-response never drains: free the upstream connection.
          if (!this.watching) {
            this.watching = true;
            res.once('close', () => res.writableFinished || c.abort(CLIENT_GONE));
          }
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_c, err) {
        if (!res.headersSent) res.writeHead(502).end(String(err));
        else res.destroy();
      },
    },
  );
});

// HTTP/2: streams, not req/res.
const h2 = createH2Server();
h2.on('stream', (stream, reqHeaders) => {
  const headers = { host: reqHeaders[':authority'] };
  for (const k in reqHeaders) if (k[0] !== ':' && !HOP.has(k)) headers[k] = reqHeaders[k];
  pool.dispatch(
    { path: reqHeaders[':path'], method: reqHeaders[':method'], headers, body: null },
    {
      onRequestStart() {},
      onResponseStart(_c, status, h) {
        const out = { ':status': status };
        for (const k in h) if (!HOP.has(k)) out[k] = h[k];
        stream.respond(out);
      },
      onResponseData(c, chunk) {
        if (!stream.write(chunk)) {
          c.pause();
          stream.once('drain', () => c.resume());
          // A client that leaves mid-response never drains: free the upstream connection.
          if (!this.watching) {
            this.watching = true;
            stream.once('close', () => stream.writableFinished || c.abort(CLIENT_GONE));
          }
        }
      },
      onResponseEnd() {
        stream.end();
      },
      onResponseError(_c, err) {
        if (!stream.headersSent) stream.respond({ ':status': 502 });
        stream.end(String(err));
      },
    },
  );
});
h2.on('sessionError', () => {});

createTlsServer({ ...tls, ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => {
  if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
  else https.emit('secureConnection', socket);
}).listen(Number(port), '127.0.0.1');
