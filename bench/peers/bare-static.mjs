// The floor for static files and cache hits: a bare node:http server answering prebuilt
// Buffers from a Map — no routing, no validation, no headers beyond length and type. What a
// Node server cannot beat. Usage: node bare-static.mjs <port> <dir>
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [port, dir] = process.argv.slice(2);
const files = new Map();
for (const name of readdirSync(dir)) files.set(`/${name}`, readFileSync(join(dir, name)));

createServer((req, res) => {
  const body = files.get(req.url);
  if (body === undefined) {
    res.writeHead(404, { 'content-length': 0 }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
}).listen(Number(port), '127.0.0.1');
