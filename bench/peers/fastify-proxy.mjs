// @fastify/http-proxy (undici under the hood). Usage: node fastify-proxy.mjs <port> <upstream-url>
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [port, upstream] = process.argv.slice(2);
const app = Fastify({ logger: false });
await app.register(proxy, { upstream, undici: { connections: 256, pipelining: 1 } });
await app.listen({ port: Number(port), host: '127.0.0.1' });
