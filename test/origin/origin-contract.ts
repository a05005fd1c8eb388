/** What every origin must do, whatever serves the deployment; origins.test.ts runs it for each. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { request } from 'undici';
import type { Origin } from '../../src/origin/origin.js';
import type { RequestContext } from '../../src/request/request-context.js';

/** The deployment every origin under test serves: `/hello.txt` = "hello\n" (text/plain). */
export const HELLO = 'hello\n';

function context(id: string): RequestContext {
  return {
    id,
    start: performance.now(),
    clientIp: '127.0.0.1',
    peer: '127.0.0.1',
    trustedPeer: false,
    proto: 'http',
    host: 'app.localhost',
    authority: 'app.localhost',
    bodyLimit: 0,
    bytesAtStart: 0,
    rateLimit: undefined,
    path: '/',
    prefix: '',
    project: 'app',
    deployment: 'd1',
    upstream: undefined,
    cacheStatus: undefined,
    error: undefined,
    routedByReferral: false,
    projectCookie: undefined,
    httpsRedirect: false,
    hsts: undefined,
    onInternalError: (err) => {
      throw err;
    },
  };
}

/** Serve `origin` on a port-0 listener the way the request handler hands requests over. */
async function front(origin: Origin): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    const ctx = context(`r${n++}`);
    ctx.path = req.url ?? '/';
    origin.handle(req, res, ctx);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export function originContract(name: string, open: () => Promise<Origin>): void {
  describe(`origin contract: ${name}`, () => {
    it('answers GET with the deployment’s content, HEAD with its head only', async () => {
      const origin = await open();
      const { url, server } = await front(origin);
      try {
        const get = await request(`${url}/hello.txt`);
        assert.equal(get.statusCode, 200);
        assert.match(String(get.headers['content-type']), /^text\/plain/);
        assert.equal(await get.body.text(), HELLO);
        const head = await request(`${url}/hello.txt`, { method: 'HEAD' });
        assert.equal(head.statusCode, 200);
        assert.equal(head.headers['content-length'], String(Buffer.byteLength(HELLO)));
        assert.equal(await head.body.text(), '');
      } finally {
        server.close();
        await origin.close();
      }
    });

    it('answers 404 for what the deployment does not have', async () => {
      const origin = await open();
      const { url, server } = await front(origin);
      try {
        const res = await request(`${url}/missing.txt`);
        assert.equal(res.statusCode, 404);
        await res.body.text();
      } finally {
        server.close();
        await origin.close();
      }
    });

    it('closes once its in-flight requests are done (and closing twice is harmless)', async () => {
      const origin = await open();
      const { url, server } = await front(origin);
      const res = await request(`${url}/hello.txt`);
      await res.body.text();
      server.close();
      await origin.close();
      await origin.close();
    });
  });
}
