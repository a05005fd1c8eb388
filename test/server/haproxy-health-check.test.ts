/**
 * The fleet's health check as docs/fleet.md configures it: HAProxy checks
 * `/_switchyard/ready` on the HTTP port through a PROXY v2 header (`check-send-proxy`) and
 * sends TLS traffic to the HTTPS port. The instance is UP once ready, and on SIGTERM it goes
 * DOWN on the draining 503 before the process stops serving: the balancer stops sending
 * first.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { findBinary, needsBinary } from '../support/binaries.js';
import { configWithProject, spawnSwitchyard, type RunningSwitchyard } from '../support/cli.js';
import { eventually } from '../support/eventually.js';
import { freePort, waitForPort } from '../support/ports.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** HAProxy's view of server `a` of backend `sy_https` (`show stat`: UP, DOWN, …). */
function serverStatus(statsSocket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(statsSocket);
    let data = '';
    socket.on('connect', () => socket.write('show stat\n'));
    socket.setEncoding('utf8').on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => {
      const [header = '', ...rows] = data.split('\n');
      const columns = header.replace(/^# /, '').split(',');
      const row = rows.map((r) => r.split(',')).find((r) => r[0] === 'sy_https' && r[1] === 'a');
      resolve(row?.[columns.indexOf('status')] ?? 'missing');
    });
  });
}

/** A request through HAProxy's TLS frontend; everything that came back. */
function throughBalancer(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
    });
    let data = '';
    socket.once('secureConnect', () =>
      socket.write('GET /api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    );
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(data));
  });
}

describe('HAProxy health checks on /_switchyard/ready', needsBinary('haproxy'), () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  let haproxy: ChildProcess;
  let front: number;
  let stats: string;
  before(async () => {
    app = await startUpstream((_req, res) => res.end('from the app'));
    const httpsPort = await freePort();
    const file = configWithProject(
      [
        'listen: { host: 127.0.0.1, proxyProtocol: true }',
        'https: { host: 127.0.0.1, proxyProtocol: true }',
        'proxy: { trustedProxies: [127.0.0.1] }',
        // Above inter × fall (200 ms × 2): the balancer has let go before connections close.
        'shutdown: { drainMs: 3000, graceMs: 500 }',
      ],
      app.url,
    );
    sy = await spawnSwitchyard(['--config', file], { SWITCHYARD_HTTPS_PORT: String(httpsPort) });
    front = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'sy-haproxy-check-'));
    stats = join(dir, 'stats.sock');
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      [
        'global',
        '  maxconn 200',
        `  stats socket ${stats} level user`,
        'defaults',
        '  mode tcp',
        '  timeout connect 2s',
        '  timeout client 10s',
        '  timeout server 10s',
        `frontend tls\n  bind 127.0.0.1:${front}\n  default_backend sy_https`,
        // The lines docs/fleet.md gives, with a short interval for the test.
        'backend sy_https',
        '  option httpchk GET /_switchyard/ready',
        '  http-check send hdr Host localhost',
        `  server a 127.0.0.1:${httpsPort} send-proxy-v2 check port ${sy.port} check-send-proxy inter 200ms fall 2 rise 1`,
        '',
      ].join('\n'),
    );
    haproxy = spawn(findBinary('haproxy')!, ['-f', cfg, '-db'], { stdio: 'ignore' });
    await waitForPort(front, 'haproxy', haproxy);
  });
  after(async () => {
    haproxy.kill();
    sy.proc.kill('SIGKILL');
    await app.close();
  });

  it('is UP when ready, and DOWN on SIGTERM while the instance still serves', async () => {
    await eventually(async () => assert.equal(await serverStatus(stats), 'UP'));
    assert.match(await throughBalancer(front), /^HTTP\/1\.1 200[\s\S]*from the app$/);

    const signalled = Date.now();
    sy.proc.kill('SIGTERM');
    await eventually(async () => assert.match(await serverStatus(stats), /^DOWN/));
    const down = Date.now() - signalled;
    assert.equal(sy.proc.exitCode, null, 'DOWN before the instance stopped');
    assert.ok(down < 3000, `DOWN ${down} ms after SIGTERM, within the drain`);
    // The balancer sends nothing more: a new connection finds no server.
    assert.equal(await throughBalancer(front), '');
    await sy.exited;
    assert.ok(Date.now() - signalled >= 2900, 'the instance kept its drain time');
  });
});
