/**
 * Limits on a client's connection, against the built executable on raw sockets: a head that
 * trickles in is answered 408 and closed within about a second of `limits.headersTimeoutMs`
 * (Node checks every 30 s by default) on HTTP, HTTPS/1.1, HTTP/2 and the admin API; a TLS
 * handshake has as long; a connection carries at most `limits.maxRequestsPerConnection`
 * requests; a stalled body gets 408; connections are capped in all and per client address.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as http2Connect } from 'node:http2';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  configWithProject,
  loggedPort,
  spawnSwitchyard,
  type RunningSwitchyard,
} from '../support/cli.js';
import { fetchText, rawRequest } from '../support/http.js';
import { once } from 'node:events';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

describe('connection limits (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('ok'));
    const file = join(mkdtempSync(join(tmpdir(), 'sy-limits-')), 'switchyard.yaml');
    writeFileSync(
      file,
      `listen: { host: 127.0.0.1 }\nlimits: { headersTimeoutMs: 500, maxRequestsPerConnection: 2 }\nprojects:\n  - slug: api\n    deployments:\n      - id: v1\n        upstream: { replicas: ["${app.url}"] }\n`,
    );
    sy = await spawnSwitchyard(['--config', file]);
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  it('answers a head that never ends with 408 and closes, within a second of the limit', async () => {
    const started = Date.now();
    const { data, ms } = await new Promise<{ data: string; ms: number }>((resolve) => {
      const socket = connect(sy.port, '127.0.0.1', () => {
        socket.write('GET / HTTP/1.1\r\nHost: api.localhost\r\n'); // …and nothing more
      });
      let data = '';
      socket.setEncoding('latin1').on('data', (d: string) => (data += d));
      socket.on('close', () => resolve({ data, ms: Date.now() - started }));
    });
    assert.match(data, /^HTTP\/1\.1 408 /);
    assert.ok(ms >= 450 && ms < 2000, `closed after ${ms} ms`);
  });

  it('closes a connection after its last allowed request', async () => {
    const before = app.requests.length;
    const raw = await rawRequest(
      sy.port,
      'GET /x HTTP/1.1\r\nHost: api.localhost\r\n\r\n'.repeat(3),
      500,
    );
    const answers = raw.match(/HTTP\/1\.1 \d{3}/g) ?? [];
    // The second answer says the connection closes; a request pipelined past the limit
    // gets Node's 503 and never reaches the app.
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 503'], raw);
    assert.match(raw.split('HTTP/1.1 200')[2] ?? '', /Connection: close/);
    assert.equal(app.requests.length - before, 2);
  });
});

/** Resolves with what the peer sent and when it closed (ms after `connect`). */
function heldOpen(
  open: () => Socket,
  send: (socket: Socket) => void,
): Promise<{ data: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = open();
    let data = '';
    // A TLS socket says 'connect' and then 'secureConnect': send once it is ready.
    socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => send(socket));
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ data, ms: Date.now() - started }));
  });
}

describe('limits on every listener (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  let https: number;
  let admin: number;
  before(async () => {
    app = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const file = configWithProject(
      [
        'listen: { host: 127.0.0.1 }',
        'admin: { host: 127.0.0.1, token: test-admin-token-0123456789 }',
        'https: { enabled: true, host: 127.0.0.1 }',
        'limits:',
        '  headersTimeoutMs: 600',
        '  bodyIdleTimeoutMs: 700',
        '  http2: { idleTimeoutMs: 1000 }',
        '  maxConnections: 5',
        '  maxConnectionsPerIp: 3',
      ],
      app.url,
    );
    sy = await spawnSwitchyard(['--config', file]);
    https = await loggedPort(sy, 'HTTPS listening');
    admin = await loggedPort(sy, 'admin API listening');
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  const tls = (alpn: string) => () =>
    tlsConnect({
      host: '127.0.0.1',
      port: https,
      servername: 'api.localhost',
      rejectUnauthorized: false,
      ALPNProtocols: [alpn],
    });
  const inTime = (ms: number) => assert.ok(ms >= 550 && ms < 2200, `closed after ${ms} ms`);

  it('answers a slow head 408 on HTTPS/1.1 and the admin API, as on HTTP', async () => {
    const slowHead = (s: Socket) => s.write('GET / HTTP/1.1\r\nHost: api.localhost\r\n');
    const [overTls, overAdmin] = await Promise.all([
      heldOpen(tls('http/1.1'), slowHead),
      heldOpen(() => connect(admin, '127.0.0.1'), slowHead),
    ]);
    assert.match(overTls.data, /^HTTP\/1\.1 408 /);
    inTime(overTls.ms);
    assert.match(overAdmin.data, /^HTTP\/1\.1 408 /);
    inTime(overAdmin.ms);
  });

  it('closes a TLS handshake that never comes, and an HTTP/2 connection that asks nothing', async () => {
    const silent = await heldOpen(
      () => connect(https, '127.0.0.1'),
      () => {},
    );
    inTime(silent.ms);
    const started = Date.now();
    const session = http2Connect(`https://127.0.0.1:${https}`, {
      servername: 'api.localhost',
      rejectUnauthorized: false,
    });
    session.on('error', () => {});
    // The settings are sent explicitly (limits.http2, limits.maxHeaderBytes).
    const [settings] = (await once(session, 'remoteSettings')) as [Record<string, unknown>];
    assert.equal(settings.maxConcurrentStreams, 128);
    assert.equal(settings.initialWindowSize, 65535);
    assert.equal(settings.maxHeaderListSize, 16384);
    assert.equal(settings.enablePush, false);
    const [code] = (await once(session, 'goaway')) as [number];
    assert.equal(code, 0); // NO_ERROR: a graceful close
    inTime(Date.now() - started);
    session.destroy();
  });

  it('closes an HTTP/2 connection once it has had nothing open for http2.idleTimeoutMs', async () => {
    const session = http2Connect(`https://127.0.0.1:${https}`, {
      servername: 'api.localhost',
      rejectUnauthorized: false,
    });
    session.on('error', () => {});
    let goneAt = 0;
    session.once('goaway', () => (goneAt = Date.now()));
    // Two requests, the second after the first's answer: the timer stops while one is open.
    for (let i = 0; i < 2; i++) {
      const stream = session.request({ ':path': '/', ':authority': 'api.localhost' });
      stream.resume();
      await once(stream, 'close');
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(goneAt, 0, 'still open 500 ms after its last request');
    const idleFrom = Date.now() - 500;
    await once(session, 'goaway', { signal: AbortSignal.timeout(4000) }); // fails if it never comes
    const idle = Date.now() - idleFrom;
    assert.ok(idle >= 950 && idle < 2600, `closed after ${idle} ms idle`);
    session.destroy();
  });

  it('answers a body that stalls 408 and closes the connection', async () => {
    const stalled = await heldOpen(
      () => connect(sy.port, '127.0.0.1'),
      (s) =>
        s.write('POST /upload HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: 10\r\n\r\nab'),
    );
    assert.match(stalled.data, /^HTTP\/1\.1 408 /);
    assert.match(stalled.data, /SY_BODY_TIMEOUT/);
    assert.match(stalled.data, /Connection: close/i);
    assert.ok(stalled.ms >= 650 && stalled.ms < 3000, `closed after ${stalled.ms} ms`);
  });

  it('caps connections per client address and in all, and counts the refusals', async () => {
    const open: Socket[] = [];
    const opened = (localAddress: string) =>
      new Promise<Socket>((resolve) => {
        const s = connect({ port: sy.port, host: '127.0.0.1', localAddress }, () => resolve(s));
        s.on('error', () => {});
        open.push(s);
      });
    const ask = (localAddress: string) =>
      new Promise<string>((resolve) => {
        const s = connect({ port: sy.port, host: '127.0.0.1', localAddress }, () =>
          s.write('GET / HTTP/1.1\r\nHost: api.localhost\r\nConnection: close\r\n\r\n'),
        );
        let data = '';
        s.setEncoding('latin1').on('data', (d: string) => (data += d));
        s.on('error', () => {});
        s.on('close', () => resolve(data));
      });
    try {
      for (let i = 0; i < 3; i++) await opened('127.0.0.2');
      await new Promise((r) => setTimeout(r, 100)); // accepted and counted
      const fourth = await ask('127.0.0.2');
      assert.match(fourth, /^HTTP\/1\.1 429 /);
      assert.match(fourth, /SY_TOO_MANY_CONNECTIONS/);
      // Another address still gets in, up to the instance's limit (5 open in all).
      await opened('127.0.0.3');
      await opened('127.0.0.3');
      await new Promise((r) => setTimeout(r, 100));
      const sixth = await ask('127.0.0.4');
      assert.match(sixth, /^HTTP\/1\.1 503 /);
      assert.match(sixth, /SY_OVER_CAPACITY/);
      // Over HTTPS the refusal is a close before the handshake.
      const refused = await heldOpen(tls('http/1.1'), () => {});
      assert.ok(refused.ms < 1000, `closed after ${refused.ms} ms`);
    } finally {
      for (const s of open) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    const served = await ask('127.0.0.2');
    assert.match(served, /^HTTP\/1\.1 200 /); // the slots came back
    const metrics = await fetchText(`http://127.0.0.1:${admin}/metrics`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    assert.match(metrics.body, /switchyard_limit_refusals_total\{limit="connections_per_ip"\} 1/);
    assert.match(metrics.body, /switchyard_limit_refusals_total\{limit="connections"\} [12]/);
  });
});

describe('slowloris (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('ok'));
    const file = configWithProject(
      [
        'listen: { host: 127.0.0.1 }',
        'limits: { headersTimeoutMs: 1000, maxConnectionsPerIp: 1000 }',
      ],
      app.url,
    );
    sy = await spawnSwitchyard(['--config', file]);
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  it('cuts 500 half-open connections within a second of the limit, serving others meanwhile', async () => {
    const started = Date.now();
    const closedAt: number[] = [];
    const sockets = Array.from({ length: 500 }, (_, i) => {
      const s = connect(sy.port, '127.0.0.1', () => {
        // A head that starts and never ends, a few bytes at a time.
        s.write(`GET /${i} HTTP/1.1\r\nHost: api.localhost\r\n`);
        const drip = setInterval(() => s.write('X-a: b\r\n'), 200);
        s.once('close', () => clearInterval(drip));
      });
      s.on('error', () => {});
      s.resume(); // read the 408, so the close is seen
      s.once('close', () => closedAt.push(Date.now() - started));
      return s;
    });
    // Meanwhile an ordinary client is answered, promptly, every time.
    const latencies: number[] = [];
    while (Date.now() - started < 2500) {
      const t = Date.now();
      const raw = await rawRequest(
        sy.port,
        'GET /ok HTTP/1.1\r\nHost: api.localhost\r\nConnection: close\r\n\r\n',
      );
      assert.match(raw, /^HTTP\/1\.1 200 /);
      latencies.push(Date.now() - t);
      await new Promise((r) => setTimeout(r, 100));
    }
    const deadline = Date.now() + 2000;
    while (closedAt.length < 500 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    for (const s of sockets) s.destroy();
    assert.equal(closedAt.length, 500);
    const [first, last] = [Math.min(...closedAt), Math.max(...closedAt)];
    assert.ok(first >= 900, `the first was cut after ${first} ms, before the limit`);
    assert.ok(last < 1000 + 1500, `the last was cut after ${last} ms`);
    assert.ok(
      Math.max(...latencies) < 500,
      `ordinary requests took ${JSON.stringify(latencies)} ms`,
    );
  });
});
