// node-http-proxy with a keep-alive agent. Usage: node http-proxy.mjs <port> <upstream-url>
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const [port, upstream] = process.argv.slice(2);
const proxy = httpProxy.createProxyServer({
  target: upstream,
  agent: new Agent({ keepAlive: true, maxSockets: 256 }),
});
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502).end();
});
createServer((req, res) => proxy.web(req, res)).listen(Number(port), '127.0.0.1');
