// The reference: a bare, hand-written Node proxy (node:http + undici Pool.dispatch) that
// only copies headers. Usage: node bare-proxy.mjs <port> <upstream-url> [--fields]
//
// It does what any proxy must and nothing more: back-pressure, and letting go of the upstream
// response when the client leaves in the middle of it (without that, every wrk round that
// ended mid-body left its paused upstream connections in the pool for good, and after a few
// rounds of 100 KiB responses the pool had none left).
//
// --fields: also send the header fields Switchyard adds to a proxied exchange (the request's
// X-Forwarded-*, Forwarded, Via and X-Request-Id; the response's Via, X-Request-Id and a
// cache miss's Cache-Status), built per request as Switchyard builds them, so the bench can
// tell what Node and undici spend on those fields from Switchyard's own work.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, upstream, option] = process.argv.slice(2);
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

function plain(req, res) {
  const headers = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  pool.dispatch(
    {
      path: req.url,
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    },
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
}

const ID_PREFIX = Math.random().toString(36).slice(2, 10);
let counter = 0;

function withFields(req, res) {
  const headers = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  const peer = req.socket.remoteAddress;
  const host = req.headers.host;
  const id = `${ID_PREFIX}-${(++counter).toString(36)}`;
  headers['x-forwarded-for'] = peer;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = host;
  headers['x-forwarded-prefix'] = '/p0'; // Switchyard's bench routes /p0/… to this upstream
  headers.forwarded = `for=${peer};host="${host}";proto=http`;
  headers.via = '1.1 switchyard';
  headers['x-request-id'] = id;
  pool.dispatch(
    {
      path: req.url,
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    },
    {
      onRequestStart() {},
      onResponseStart(_c, status, h) {
        const out = {};
        for (const k in h) if (!HOP.has(k)) out[k] = h[k];
        out.via = out.via === undefined ? '1.1 switchyard' : `${out.via}, 1.1 switchyard`;
        out['x-request-id'] = id;
        out['cache-status'] = 'Switchyard; fwd=uri-miss; detail=no-explicit-freshness';
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
}

createServer(option === '--fields' ? withFields : plain).listen(Number(port), '127.0.0.1');
