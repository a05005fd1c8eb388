// The reference: a bare, hand-written Node proxy (node:http + undici 7 Pool.dispatch) that
// only copies headers. Usage: node bare-proxy.mjs <port> <upstream-url>
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, upstream] = process.argv.slice(2);
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

createServer((req, res) => {
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
}).listen(Number(port), '127.0.0.1');
