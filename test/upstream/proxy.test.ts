import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from 'undici';
import { isConnectFailure, toClientError } from '../../src/upstream/upstream-errors.js';
import { fetchText, rawRequest, statusOf } from '../support/http.js';
import { startSwitchyard, upstreamProject, type TestSwitchyard } from '../support/switchyard.js';
import { closedPort, startUpstream, type TestUpstream } from '../support/upstream.js';

const echo = () =>
  startUpstream((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-upstream', 'yes');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });

type Echo = { method: string; url: string; headers: Record<string, string> };

describe('upstream origin: headers', () => {
  let app: TestUpstream;
  let sy: TestSwitchyard;
  let trustingSy: TestSwitchyard;
  before(async () => {
    app = await echo();
    sy = await startSwitchyard({ projects: [upstreamProject('api', [app.url])] });
    trustingSy = await startSwitchyard({
      proxy: { trustedProxies: ['127.0.0.0/8'] },
      projects: [upstreamProject('api', [app.url])],
    });
  });
  after(async () => {
    await sy.close();
    await trustingSy.close();
    await app.close();
  });

  it('removes hop-by-hop fields, including those Connection names', async () => {
    const raw = await rawRequest(
      sy.port,
      'GET /api/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\n' +
        'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nX-End-To-End: kept\r\n\r\n',
    );
    const seen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Echo;
    for (const name of ['x-secret-hop', 'keep-alive', 'proxy-connection', 'te']) {
      assert.equal(seen.headers[name], undefined, name);
    }
    assert.equal(seen.headers['x-end-to-end'], 'kept');
    assert.equal(seen.url, '/x');
  });

  it('strips hop-by-hop fields from responses and adds Via', async () => {
    const hop = await startUpstream((_req, res) => {
      res.setHeader('connection', 'x-internal');
      res.setHeader('x-internal', 'secret');
      res.setHeader('via', '1.1 app');
      res.end('ok');
    });
    const local = await startSwitchyard({ projects: [upstreamProject('api', [hop.url])] });
    try {
      const res = await fetchText(`${local.origin}/api/`);
      assert.equal(res.headers['x-internal'], undefined);
      assert.equal(res.headers.via, '1.1 app, 1.1 switchyard');
    } finally {
      await local.close();
      await hop.close();
    }
  });

  it('sets Forwarded and X-Forwarded-*, replacing what an untrusted client sent', async () => {
    const res = await fetchText(`${sy.origin}/api/who`, {
      headers: {
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil.test',
        'x-forwarded-proto': 'https',
        forwarded: 'for=6.6.6.6',
        'x-request-id': 'forged-id',
        via: '1.0 client-proxy',
      },
    });
    const h = (JSON.parse(res.body) as Echo).headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-host'], `127.0.0.1:${sy.port}`);
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-prefix'], '/api');
    assert.equal(h.forwarded, `for=127.0.0.1;host="127.0.0.1:${sy.port}";proto=http`);
    assert.equal(h.via, '1.0 client-proxy, 1.1 switchyard');
    // Via names the version the request arrived in (RFC 9110 §7.6.3): an HTTP/1.0 one too.
    const old = await rawRequest(sy.port, 'GET /api/who HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
    const seen = JSON.parse(old.slice(old.indexOf('\r\n\r\n') + 4)) as Echo;
    assert.equal(seen.headers.via, '1.0 switchyard');
    assert.notEqual(h['x-request-id'], 'forged-id');
    assert.equal(
      h['x-request-id'],
      res.headers['x-request-id'],
      'the same id upstream and in the response',
    );
    assert.equal(h.host, `127.0.0.1:${sy.port}`, 'the original Host is kept');
  });

  it('extends the forwarding fields of a trusted proxy', async () => {
    const res = await fetchText(`${trustingSy.origin}/api/who`, {
      headers: {
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'www.usera.com',
        'x-forwarded-proto': 'https',
        forwarded: 'for=203.0.113.9;proto=https',
        'x-request-id': 'edge-123',
      },
    });
    const h = (JSON.parse(res.body) as Echo).headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-host'], 'www.usera.com');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(
      h.forwarded,
      `for=203.0.113.9;proto=https, for=127.0.0.1;host="127.0.0.1:${trustingSy.port}";proto=http`,
    );
    assert.equal(h['x-request-id'], 'edge-123');
    const line = trustingSy.logs.find((l) => l.requestId === 'edge-123');
    assert.equal(line?.clientIp, '203.0.113.9');
  });

  it('passes methods, bodies, query strings and status codes through', async () => {
    const res = await fetchText(`${sy.origin}/api/items?a=1&b=%20`, {
      method: 'PUT',
      body: 'payload',
    });
    const seen = JSON.parse(res.body) as Echo;
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, '/items?a=1&b=%20');
    assert.equal(seen.headers['content-length'], '7');
    const created = await startUpstream((_req, res) => {
      res.statusCode = 201;
      res.end();
    });
    const local = await startSwitchyard({ projects: [upstreamProject('api', [created.url])] });
    try {
      assert.equal((await fetchText(`${local.origin}/api/`)).status, 201);
    } finally {
      await local.close();
      await created.close();
    }
  });
});

describe('upstream origin: failures and timeouts', () => {
  it('answers 502 when no replica accepts connections', async () => {
    const port = await closedPort();
    const sy = await startSwitchyard({
      projects: [upstreamProject('api', [`http://127.0.0.1:${port}`])],
    });
    try {
      const res = await fetchText(`${sy.origin}/api/`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 502);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'SY_UPSTREAM_UNREACHABLE');
    } finally {
      await sy.close();
    }
  });

  it('answers 502 when the upstream breaks the response', async () => {
    const app = await startUpstream((req) => req.socket.destroy());
    const sy = await startSwitchyard({ projects: [upstreamProject('api', [app.url])] });
    try {
      const res = await fetchText(`${sy.origin}/api/`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 502);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'SY_UPSTREAM_BROKEN');
    } finally {
      await sy.close();
      await app.close();
    }
  });

  it('answers 504 when the upstream is too slow to answer', async () => {
    const app = await startUpstream(() => {
      /* never answers */
    });
    const sy = await startSwitchyard({
      upstream: { headersTimeoutMs: 200 },
      projects: [upstreamProject('api', [app.url])],
    });
    try {
      const res = await fetchText(`${sy.origin}/api/`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 504);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'SY_UPSTREAM_TIMEOUT');
    } finally {
      await sy.close();
      await app.close();
    }
  });

  it('maps a connect timeout to 504 and a refused connection to a retryable 502', () => {
    // A connect that hangs needs an address that drops packets; tests reach only loopback,
    // so the mapping is checked on undici's own error classes.
    const timeout = toClientError(new errors.ConnectTimeoutError(), 'http://10.0.0.1:80');
    assert.equal(timeout.status, 504);
    assert.equal(timeout.code, 'SY_UPSTREAM_TIMEOUT');
    assert.equal(isConnectFailure(new errors.ConnectTimeoutError()), true);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.equal(toClientError(refused, 'x').code, 'SY_UPSTREAM_UNREACHABLE');
    assert.equal(isConnectFailure(refused), true);
    assert.equal(
      isConnectFailure(new errors.HeadersTimeoutError()),
      false,
      'the app got the request',
    );
    assert.equal(toClientError(new errors.HeadersTimeoutError(), 'x').status, 504);
    assert.equal(toClientError(new errors.SocketError('closed'), 'x').code, 'SY_UPSTREAM_BROKEN');
  });

  it('cuts the response when the upstream goes silent mid-body (idle timeout)', async () => {
    const app = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345');
    });
    const sy = await startSwitchyard({
      upstream: { idleTimeoutMs: 200 },
      projects: [upstreamProject('api', [app.url])],
    });
    try {
      await assert.rejects(fetchText(`${sy.origin}/api/`));
    } finally {
      await sy.close();
      await app.close();
    }
  });

  it('cancels the upstream request when the client goes away (no leaked sockets)', async () => {
    let closedUpstream = 0;
    const app = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('started');
      req.socket.once('close', () => closedUpstream++);
    });
    // A short keep-alive: undici may reopen one idle pooled connection after an abort.
    const sy = await startSwitchyard({
      upstream: { keepAliveTimeoutMs: 200 },
      projects: [upstreamProject('api', [app.url])],
    });
    try {
      for (let i = 0; i < 5; i++) {
        const req = httpRequest(`${sy.origin}/api/slow`);
        req.end();
        const [res] = (await once(req, 'response')) as [IncomingMessage];
        await once(res, 'data');
        req.destroy();
      }
      for (let i = 0; i < 100 && closedUpstream < 5; i++) await sleep(20);
      assert.equal(closedUpstream, 5, "every cancelled request's upstream connection was closed");
      // undici may open one idle pooled connection after an abort; they must not pile up.
      assert.ok(app.sockets.size <= 2, `${app.sockets.size} upstream sockets open`);
      await sy.close();
      for (let i = 0; i < 50 && app.sockets.size > 0; i++) await sleep(20);
      assert.equal(app.sockets.size, 0, 'no upstream socket outlives the pool');
    } finally {
      await sy.close();
      await app.close();
    }
  });
});

describe('upstream origin: replicas', () => {
  it('rotates requests over replicas', async () => {
    const a = await startUpstream((_req, res) => res.end('a'));
    const b = await startUpstream((_req, res) => res.end('b'));
    const sy = await startSwitchyard({ projects: [upstreamProject('api', [a.url, b.url])] });
    try {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) seen.push((await fetchText(`${sy.origin}/api/`)).body);
      assert.deepEqual(seen.sort(), ['a', 'a', 'a', 'b', 'b', 'b']);
    } finally {
      await sy.close();
      await a.close();
      await b.close();
    }
  });

  it('skips a replica that refuses connections for idempotent requests, unseen by the client', async () => {
    const live = await startUpstream((_req, res) => res.end('live'));
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const sy = await startSwitchyard({ projects: [upstreamProject('api', [dead, live.url])] });
    try {
      for (let i = 0; i < 6; i++) {
        const res = await fetchText(`${sy.origin}/api/`);
        assert.equal(res.status, 200);
        assert.equal(res.body, 'live');
      }
    } finally {
      await sy.close();
      await live.close();
    }
  });

  it('never replays a request with a body on another replica', async () => {
    // A replica that takes the body and dies before answering: the app may have acted on it,
    // so it is not sent again (a refused connection, which sent nothing, does fail over:
    // failover.test.ts).
    let cutSaw = 0;
    const cut = await startUpstream((req) => {
      req.resume();
      req.on('end', () => {
        cutSaw++;
        req.socket.destroy();
      });
    });
    const live = await startUpstream((_req, res) => res.end('live'));
    const sy = await startSwitchyard({ projects: [upstreamProject('api', [cut.url, live.url])] });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await fetchText(`${sy.origin}/api/`, { method: 'POST', body: 'x' })).status);
      assert.deepEqual(statuses.sort(), [200, 200, 502, 502]);
      assert.equal(cutSaw, 2, 'each body reached the dying replica once');
      assert.equal(live.requests.length, 2, 'the live replica saw only its own share');
    } finally {
      await sy.close();
      await live.close();
      await cut.close();
    }
  });
});

describe('upstream origin: header bytes', () => {
  // Field values are bytes (RFC 9110 §5.5): UTF-8 in a filename, obs-text in an ETag. A
  // proxy passes them on as it got them; nginx does.
  const filename = Buffer.from('attachment; filename="résumé.pdf"', 'utf8').toString('latin1');
  const etag = `"v1-${Buffer.from([0xe9, 0x80]).toString('latin1')}"`;
  const seen: string[] = [];
  let upstream: ReturnType<typeof createNetServer>;
  let sy: TestSwitchyard;
  before(async () => {
    // A raw origin: Node's own server would rewrite the field it is asked to send.
    upstream = createNetServer((socket) => {
      let head = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        head += chunk;
        for (let end = head.indexOf('\r\n\r\n'); end !== -1; end = head.indexOf('\r\n\r\n')) {
          const request = head.slice(0, end);
          head = head.slice(end + 4);
          seen.push(request);
          const cache = request.startsWith('GET /cached') ? 'max-age=60' : 'no-store';
          socket.write(
            `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: ${cache}\r\n` +
              `Content-Disposition: ${filename}\r\nETag: ${etag}\r\nX-Name: ${filename}\r\n\r\nok`,
            'latin1',
          );
        }
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const port = (upstream.address() as AddressInfo).port;
    sy = await startSwitchyard({
      projects: [upstreamProject('api', [`http://127.0.0.1:${port}`])],
    });
  });
  after(async () => {
    await sy.close();
    upstream.close();
  });

  it('passes non-ASCII field bytes through unchanged, both ways, proxied and from the cache', async () => {
    const get = (path: string) =>
      rawRequest(
        sy.port,
        `GET /api${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Title: déjà vu\r\nConnection: close\r\n\r\n`,
      );
    for (const [path, status] of [
      ['/plain', /uri-miss; detail=no-store/],
      ['/cached', /uri-miss; stored/],
      ['/cached', /hit/],
    ] as const) {
      const raw = await get(path);
      assert.match(raw, status, path);
      assert.ok(raw.includes(`content-disposition: ${filename}\r\n`), `${path}: ${raw}`);
      assert.ok(raw.includes(`etag: ${etag}\r\n`), path);
      assert.ok(raw.includes(`x-name: ${filename}\r\n`), path);
    }
    // rawRequest sends its text as UTF-8: the origin gets those bytes.
    const title = Buffer.from('déjà vu', 'utf8').toString('latin1');
    assert.ok(seen.length >= 2);
    for (const request of seen) assert.ok(request.includes(`x-title: ${title}`), request);
  });
});

describe('upstream origin: raw status', () => {
  it('keeps the upstream reason phrase', async () => {
    const app = await startUpstream((_req, res) => {
      res.statusCode = 418;
      res.statusMessage = 'Short And Stout';
      res.end();
    });
    const sy = await startSwitchyard({ projects: [upstreamProject('api', [app.url])] });
    try {
      const raw = await rawRequest(
        sy.port,
        'GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      );
      assert.equal(statusOf(raw), 418);
      assert.match(raw, /^HTTP\/1\.1 418 Short And Stout/);
    } finally {
      await sy.close();
      await app.close();
    }
  });
});
