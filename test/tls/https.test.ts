import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { connect as http2Connect } from 'node:http2';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { needsBinary } from '../support/binaries.js';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { startEdge, type TestEdge, deployUpstream } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { fetchText } from '../support/http.js';
import { h1, h2 } from '../support/tls-client.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** Try a handshake with client-side limits; resolves with the error, if any. */
function handshake(port: number, options: Record<string, unknown>): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port,
        servername: 'app.localhost',
        rejectUnauthorized: false,
        ...options,
      },
      () => {
        socket.end();
        resolve(undefined);
      },
    );
    socket.on('error', (err) => resolve(err));
  });
}

describe('HTTPS with the local CA', () => {
  let edge: TestEdge;
  let app: TestUpstream;
  let port: number;
  let ca: string;
  before(async () => {
    app = await startUpstream((req, res) => {
      if (req.url === '/trailers') {
        res.writeHead(200, { trailer: 'x-checksum', 'content-type': 'text/plain' });
        res.write('body with trailers');
        res.addTrailers({ 'x-checksum': 'sha256-abc' });
        res.end();
        return;
      }
      if (req.url === '/big') {
        res.end(Buffer.alloc(1024 * 1024, 'x'));
        return;
      }
      if (req.url === '/via') {
        res.end(String(req.headers.via));
        return;
      }
      if (req.url === '/echo-body') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () =>
          res.end(
            `${req.method} ${String(req.headers['content-length'])} ${Buffer.concat(chunks).toString()}`,
          ),
        );
        return;
      }
      res.end(
        `app saw ${req.url} host=${req.headers.host} proto=${String(req.headers['x-forwarded-proto'])}`,
      );
    });
    edge = await startEdge({
      demo: false,
      https: { hstsMaxAgeSeconds: 600 },
      limits: { bodyIdleTimeoutMs: 500 }, // a stalled HTTP/2 upload is cut within the test
    });
    port = edge.instance.sy.httpsPort!;
    ca = edge.instance.control.tls!.localCa.caPem;
    await edge.api('POST', '/v1/projects', { slug: 'app', httpsRedirect: true });
    await deployUpstream(edge, 'app', [app.url], { create: false });
    await deployUpstream(edge, 'plain', [app.url]);
    await deployUpstream(edge, 'small', [app.url]);
    await edge.api('PATCH', '/v1/projects/small', { maxBodyBytes: 8 });
  });
  after(async () => {
    await edge.close();
    await app.close();
  });

  it('serves a project over HTTP/2 and HTTP/1.1 with a certificate issued for its name', async () => {
    const two = await eventually(() => h2(port, 'app.localhost', '/x?y=1', ca));
    assert.equal(two.alpn, 'h2');
    assert.equal(two.status, 200);
    assert.equal(two.body, 'app saw /x?y=1 host=app.localhost proto=https');
    assert.match(String(two.cert.subjectaltname), /DNS:app\.localhost/);
    const one = await h1(port, 'app.localhost', '/y', ca);
    assert.equal(one.alpn, 'http/1.1');
    assert.equal(one.body, 'app saw /y host=app.localhost proto=https');
    const big = await h2(port, 'app.localhost', '/big', ca);
    assert.equal(big.body.length, 1024 * 1024, 'a large body streams through HTTP/2');
  });

  it('names the protocol the client spoke in the Via it sends upstream (RFC 9110 §7.6.3)', async () => {
    const two = await eventually(() => h2(port, 'app.localhost', '/via', ca));
    assert.equal(two.body, '2 switchyard');
    const one = await h1(port, 'app.localhost', '/via', ca);
    assert.equal(one.body, '1.1 switchyard');
  });

  it('passes trailer fields through, over HTTP/2 and chunked HTTP/1.1', async () => {
    const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const session = http2Connect(`https://127.0.0.1:${port}`, {
        ca,
        servername: 'app.localhost',
      });
      session.on('error', reject);
      const stream = session.request({ ':path': '/trailers', ':authority': 'app.localhost' });
      stream.on('trailers', (t) => {
        resolve(t);
        session.close();
      });
      stream.resume();
      stream.on('error', reject);
    });
    assert.equal(trailers['x-checksum'], 'sha256-abc');
    const plain = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = httpRequest(
        `${edge.origin}/trailers`,
        { headers: { host: 'plain.localhost' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.trailers));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(plain['x-checksum'], 'sha256-abc');
  });

  it('sends on an HTTP/2 request body that has no Content-Length, held to the limit', async () => {
    // RFC 9113 §8.1: over HTTP/2 a body is whatever DATA frames follow the HEADERS frame; a
    // client streaming an upload does not declare its length. It was once dropped unseen.
    const post = (authority: string, parts: string[]) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const session = http2Connect(`https://127.0.0.1:${port}`, { ca, servername: authority });
        session.on('error', reject);
        const stream = session.request({
          ':method': 'POST',
          ':path': '/echo-body',
          ':authority': authority,
        });
        let status = 0;
        let body = '';
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.setEncoding('utf8').on('data', (d: string) => (body += d));
        stream.on('end', () => {
          resolve({ status, body });
          session.close();
        });
        stream.on('error', reject);
        // Sent in pieces, the last after a pause: the proxy cannot see the length up front.
        for (const part of parts.slice(0, -1)) stream.write(part);
        setTimeout(() => stream.end(parts.at(-1)), 50);
      });
    const sent = await post('app.localhost', ['hello ', 'streamed ', 'world']);
    assert.equal(sent.status, 200);
    assert.equal(sent.body, 'POST undefined hello streamed world');
    const over = await post('small.localhost', ['0123456', '789abcdef']);
    assert.equal(over.status, 413, over.body);
    assert.match(over.body, /larger than this project accepts \(8 bytes\)/);
    // A client that starts an upload and stops: the body idle timeout answers 408.
    const started = Date.now();
    const stalled = await new Promise<number>((resolve, reject) => {
      const session = http2Connect(`https://127.0.0.1:${port}`, {
        ca,
        servername: 'app.localhost',
      });
      session.on('error', reject);
      const stream = session.request({
        ':method': 'POST',
        ':path': '/echo-body',
        ':authority': 'app.localhost',
      });
      stream.on('response', (h) => {
        resolve(Number(h[':status']));
        session.destroy();
      });
      stream.on('error', reject);
      stream.write('the first part, then nothing');
    });
    assert.equal(stalled, 408);
    assert.ok(Date.now() - started < 5000, 'cut by bodyIdleTimeoutMs, not by a later timeout');
  });

  it('routes HTTP/2 path routing on a platform host too', async () => {
    const res = await h2(port, 'localhost', '/plain/z', ca);
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app saw /z host=localhost proto=https');
  });

  it('gives an unknown name the default certificate, never a tenant’s', async () => {
    const err = await h1(port, 'random.example', '/', ca).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    assert.equal(err?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    const cert = await new Promise<PeerCertificate>((resolve, reject) => {
      const s = tlsConnect(
        { host: '127.0.0.1', port, servername: 'random.example', rejectUnauthorized: false },
        () => {
          resolve(s.getPeerCertificate());
          s.end();
        },
      );
      s.on('error', reject);
    });
    assert.doesNotMatch(String(cert.subjectaltname), /app\.localhost|plain/);
    assert.match(String(cert.subjectaltname), /DNS:localhost/);
    const listed = await edge.api('GET', '/v1/certificates');
    assert.ok(
      !listed.body.items.some((c: { name: string }) => c.name === 'random.example'),
      'no certificate for a random name',
    );
  });

  it('speaks TLS 1.2+ with AEAD suites only', async () => {
    assert.ok(
      await handshake(port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }),
      'TLS 1.1 is refused',
    );
    assert.ok(
      await handshake(port, {
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA',
      }),
      'CBC suites are refused',
    );
    assert.ok(
      await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }),
      'static RSA key exchange is refused',
    );
    assert.equal(
      await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }),
      undefined,
    );
    assert.equal(await handshake(port, { minVersion: 'TLSv1.3' }), undefined);
  });

  it('agrees keys with the post-quantum hybrid X25519MLKEM768 first', async () => {
    const groupOf = (options: Record<string, unknown>) =>
      new Promise<string | undefined>((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port, servername: 'app.localhost', ca, ...options },
          () => {
            const info = socket.getEphemeralKeyInfo();
            resolve(info !== null && 'name' in info ? info.name : undefined);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
    // A client that offers only the hybrid group completes a handshake with it.
    assert.equal(await groupOf({ ecdhCurve: 'X25519MLKEM768' }), 'X25519MLKEM768');
    // Offered everything, the server picks the hybrid; classic-only clients still connect.
    assert.equal(await groupOf({ ecdhCurve: 'X25519:P-256:X25519MLKEM768' }), 'X25519MLKEM768');
    assert.equal(await groupOf({ ecdhCurve: 'X25519' }), 'X25519');
    assert.equal(await groupOf({ ecdhCurve: 'P-256' }), 'prime256v1');
    // TLS 1.2 has no hybrid; P-256 is offered too, as the certificate's ECDSA curve.
    assert.equal(await groupOf({ maxVersion: 'TLSv1.2', ecdhCurve: 'X25519:P-256' }), 'X25519');
  });

  it('negotiates X25519MLKEM768 with Chromium', needsBinary(CHROMIUM), async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      const details = new Promise<{ protocol: string; keyExchangeGroup?: string }>((resolve) =>
        cdp.on('Network.responseReceived', (e) => {
          if (e.response.securityDetails) resolve(e.response.securityDetails);
        }),
      );
      const res = await page.goto(`https://app.localhost:${port}/pq`);
      assert.equal(res?.status(), 200);
      const security = await details;
      assert.equal(security.protocol, 'TLS 1.3');
      assert.equal(security.keyExchangeGroup, 'X25519MLKEM768');
    } finally {
      await browser.close();
    }
  });

  it('redirects plain HTTP to HTTPS for projects that ask, with HSTS over HTTPS', async () => {
    const redirected = await fetchText(`${edge.origin}/some/path?q=1`, {
      headers: { host: 'app.localhost' },
    });
    assert.equal(redirected.status, 308);
    assert.equal(redirected.headers.location, `https://app.localhost:${port}/some/path?q=1`);
    const secure = await h1(port, 'app.localhost', '/', ca);
    assert.equal(secure.headers['strict-transport-security'], 'max-age=600');
    const plain = await fetchText(`${edge.origin}/plain/`);
    assert.equal(plain.status, 200, 'a project without the setting stays on HTTP');
    const acme = await fetchText(`${edge.origin}/.well-known/acme-challenge/unknown-token`, {
      headers: { host: 'app.localhost' },
    });
    assert.equal(acme.status, 404, 'the ACME path is never redirected');
  });

  it('keeps private keys out of the API and the logs', async () => {
    const listed = await edge.api('GET', '/v1/certificates');
    assert.ok(listed.body.items.some((c: { name: string }) => c.name === 'app.localhost'));
    assert.doesNotMatch(JSON.stringify(listed.body), /PRIVATE KEY/);
    assert.doesNotMatch(JSON.stringify(edge.logs), /PRIVATE KEY/);
  });
});

describe('HTTPS: sessions, WebSocket, domain instructions', () => {
  let edge: TestEdge;
  let ws: WebSocketServer;
  let wsUrl: string;
  before(async () => {
    ws = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(ws, 'listening');
    ws.on('connection', (socket) =>
      socket.on('message', (m: RawData) => socket.send(`echo ${(m as Buffer).toString()}`)),
    );
    wsUrl = `http://127.0.0.1:${(ws.address() as AddressInfo).port}`;
    edge = await startEdge({
      demo: false,
      domains: { cnameTarget: 'edge.example.net', addresses: ['203.0.113.7'] },
    });
    await deployUpstream(edge, 'live', [wsUrl]);
  });
  after(async () => {
    await edge.close();
    ws.close();
  });

  it('resumes TLS sessions', async () => {
    const port = edge.instance.sy.httpsPort!;
    const connectOnce = (session?: Buffer) =>
      new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
        let saved: Buffer | undefined;
        const s = tlsConnect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          rejectUnauthorized: false,
          session,
          maxVersion: 'TLSv1.2',
        });
        s.on('session', (b: Buffer) => (saved = b));
        s.on('secureConnect', () => {
          const reused = s.isSessionReused();
          setTimeout(() => {
            s.end();
            resolve({ reused, session: saved ?? s.getSession() });
          }, 20);
        });
        s.on('error', reject);
      });
    const first = await connectOnce();
    assert.equal(first.reused, false);
    const second = await connectOnce(first.session);
    assert.equal(second.reused, true);
  });

  it('passes WebSocket upgrades over TLS (HTTP/1.1)', async () => {
    await eventually(async () => {
      // ws hands these to tls.connect: SNI and the local CA to trust.
      const tlsOptions = {
        servername: 'live.localhost',
        ca: edge.instance.control.tls!.localCa.caPem,
      };
      const client = new WebSocket(`wss://127.0.0.1:${edge.instance.sy.httpsPort!}/`, {
        headers: { host: 'live.localhost' },
        ...tlsOptions,
      });
      await once(client, 'open');
      client.send('hi');
      const [reply] = (await once(client, 'message')) as [RawData];
      assert.equal(String(reply as Buffer), 'echo hi');
      client.close();
    });
  });

  it('tells a domain owner what to publish', async () => {
    const res = await edge.api('POST', '/v1/projects/live/domains', { domain: 'www.live.example' });
    assert.equal(res.body.publish.txt.name, '_switchyard.www.live.example');
    assert.equal(res.body.publish.cname, 'edge.example.net');
    assert.deepEqual(res.body.publish.a, ['203.0.113.7']);
  });
});
