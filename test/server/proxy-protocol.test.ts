/**
 * Behind an L4 load balancer: HAProxy (mode tcp) in front with `send-proxy` and
 * `send-proxy-v2`, on the HTTP and HTTPS listeners. The app, the access log and the rate
 * limiter see the client's address from the PROXY header; only trusted peers may send one,
 * and a trusted peer that sends none, or a malformed one, is cut off.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { findBinary, needsBinary } from '../support/binaries.js';
import { deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { freePort, waitForPort } from '../support/ports.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** One request over a socket opened from `localAddress`; everything the server sent. */
function ask(open: () => Socket, request: string, secure = false): Promise<string> {
  return new Promise((resolve) => {
    const socket = open();
    let data = '';
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(data));
  });
}
const GET = 'GET /who HTTP/1.1\r\nHost: who.localhost\r\nConnection: close\r\n\r\n';

describe('PROXY protocol behind HAProxy', needsBinary('haproxy'), () => {
  let app: TestUpstream;
  let edge: TestEdge;
  let haproxy: ChildProcess;
  const ports = { v1: 0, v2: 0, tls: 0 };
  before(async () => {
    app = await startUpstream((req, res) =>
      res.end(`client=${String(req.headers['x-forwarded-for'])}`),
    );
    edge = await startEdge({
      demo: false,
      listen: { proxyProtocol: true },
      https: { enabled: true, host: '127.0.0.1', proxyProtocol: true },
      proxy: { trustedProxies: ['127.0.0.1'] },
      limits: { headersTimeoutMs: 1000 },
      log: { access: true },
    });
    await deployUpstream(edge, 'who', [app.url]);
    for (const k of ['v1', 'v2', 'tls'] as const) ports[k] = await freePort();
    const https = edge.instance.sy.httpsPort!;
    const cfg = join(mkdtempSync(join(tmpdir(), 'sy-haproxy-')), 'haproxy.cfg');
    writeFileSync(
      cfg,
      [
        'global',
        '  maxconn 200',
        'defaults',
        '  mode tcp',
        '  timeout connect 2s',
        '  timeout client 10s',
        '  timeout server 10s',
        `frontend v1\n  bind 127.0.0.1:${ports.v1}\n  default_backend sy_v1`,
        `backend sy_v1\n  server sy 127.0.0.1:${edge.port} send-proxy`,
        `frontend v2\n  bind 127.0.0.1:${ports.v2}\n  default_backend sy_v2`,
        `backend sy_v2\n  server sy 127.0.0.1:${edge.port} send-proxy-v2`,
        `frontend tls\n  bind 127.0.0.1:${ports.tls}\n  default_backend sy_tls`,
        `backend sy_tls\n  server sy 127.0.0.1:${https} send-proxy-v2`,
        '',
      ].join('\n'),
    );
    haproxy = spawn(findBinary('haproxy')!, ['-f', cfg, '-db'], { stdio: 'ignore' });
    for (const port of Object.values(ports)) await waitForPort(port, 'haproxy', haproxy);
  });
  after(async () => {
    haproxy.kill();
    await once(haproxy, 'exit');
    await edge.close();
    await app.close();
  });

  it('gives the app and the access log the client address, over v1, v2 and TLS', async () => {
    const v1 = await ask(
      () => connect({ port: ports.v1, host: '127.0.0.1', localAddress: '127.0.0.5' }),
      GET,
    );
    assert.match(v1, /client=127\.0\.0\.5$/);
    const v2 = await ask(
      () => connect({ port: ports.v2, host: '127.0.0.1', localAddress: '127.0.0.6' }),
      GET,
    );
    assert.match(v2, /client=127\.0\.0\.6$/);
    const tls = await ask(
      () =>
        tlsConnect({
          port: ports.tls,
          host: '127.0.0.1',
          // Passed on to net.connect (Node's types leave it out of TLS options).
          ...({ localAddress: '127.0.0.7' } as object),
          servername: 'who.localhost',
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
        }),
      GET,
      true,
    );
    assert.match(tls, /client=127\.0\.0\.7$/);
    // HTTP/2 over the same path.
    const session = http2Connect(`https://who.localhost:${ports.tls}`, {
      createConnection: () =>
        tlsConnect({
          port: ports.tls,
          host: '127.0.0.1',
          ...({ localAddress: '127.0.0.8' } as object),
          servername: 'who.localhost',
          rejectUnauthorized: false,
          ALPNProtocols: ['h2'],
        }),
    });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/who' });
        let text = '';
        stream.setEncoding('utf8').on('data', (d: string) => (text += d));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      assert.equal(body, 'client=127.0.0.8');
    } finally {
      session.close();
    }
    await eventually(() =>
      assert.ok(edge.logs.some((l) => l.kind === 'access' && l.clientIp === '127.0.0.6')),
    );
  });

  it('takes no header from an untrusted peer, and requires a valid one from a trusted peer', async () => {
    // An untrusted client is served as usual; a PROXY line from it is just a bad request.
    const plain = await ask(
      () => connect({ port: edge.port, host: '127.0.0.1', localAddress: '127.0.0.9' }),
      GET,
    );
    assert.match(plain, /client=127\.0\.0\.9$/);
    const forged = await ask(
      () => connect({ port: edge.port, host: '127.0.0.1', localAddress: '127.0.0.9' }),
      `PROXY TCP4 6.6.6.6 127.0.0.1 1234 80\r\n${GET}`,
    );
    assert.match(forged, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(forged, /6\.6\.6\.6/);
    // …over TLS too (the header is not read from it; the handshake goes on as usual).
    const direct = await ask(
      () =>
        tlsConnect({
          port: edge.instance.sy.httpsPort!,
          host: '127.0.0.1',
          ...({ localAddress: '127.0.0.9' } as object),
          servername: 'who.localhost',
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
        }),
      GET,
      true,
    );
    assert.match(direct, /client=127\.0\.0\.9$/);
    // The trusted balancer's address must speak PROXY: a bare request, or junk, is cut off.
    const bare = await ask(
      () => connect({ port: edge.port, host: '127.0.0.1', localAddress: '127.0.0.1' }),
      GET,
    );
    assert.equal(bare, '');
    const junk = await ask(
      () => connect({ port: edge.port, host: '127.0.0.1', localAddress: '127.0.0.1' }),
      `PROXY TCP4 999.1.1.1 127.0.0.1 1 2\r\n${GET}`,
    );
    assert.equal(junk, '');
    // …and one that never finishes its header is cut after headersTimeoutMs.
    const started = Date.now();
    await ask(
      () => connect({ port: edge.port, host: '127.0.0.1', localAddress: '127.0.0.1' }),
      'PROXY TCP4 ',
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 900 && waited < 3000, `cut after ${waited} ms`);
  });
});
