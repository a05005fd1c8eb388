/**
 * Bytes per response over HTTP/2: one connection carries many streams at once, so what one
 * response sent is not the connection's growth while it was open. Another stream's body sent
 * meanwhile must not be counted in a response's access-log line or its project's traffic.
 * Requests refused as they come (CONNECT, an unmeetable expectation) are logged too.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { LOG } from '../../src/observability/log-fields.js';
import { deployUpstream, startEdge, type TestEdge } from '../support/edge.js';
import { eventually } from '../support/eventually.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const BIG = 512 * 1024;

/** A GET on `session`; resolves with the status and the body's length once it has ended. */
function get(
  session: ClientHttp2Session,
  path: string,
  onHead?: () => void,
): Promise<{ status: number; bytes: number }> {
  const stream = session.request({ ':path': path, ':authority': 'app.localhost' });
  let status = 0;
  let bytes = 0;
  stream.on('response', (headers) => {
    status = Number(headers[':status']);
    onHead?.();
  });
  stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
  return once(stream, 'end').then(() => ({ status, bytes }));
}

describe('access log over HTTP/2', () => {
  let edge: TestEdge;
  let app: TestUpstream;
  let releaseBig: () => void = () => {};
  before(async () => {
    const bigMayGo = new Promise<void>((resolve) => (releaseBig = resolve));
    app = await startUpstream((req, res) => {
      if (req.url === '/big') {
        // The head first; the body once /small is in flight on the same connection.
        res.writeHead(200, { 'content-length': BIG });
        res.flushHeaders();
        void bigMayGo.then(() => res.end(Buffer.alloc(BIG, 'b')));
        return;
      }
      // /small: let /big's body through the edge while this response is open.
      releaseBig();
      setTimeout(() => res.end('small'), 300);
    });
    edge = await startEdge({ demo: false, https: { enabled: true }, log: { access: true } });
    await deployUpstream(edge, 'app', [app.url]);
  });
  after(async () => {
    await edge.close();
    await app.close();
  });

  it('counts each stream’s own bytes, not the connection’s', async () => {
    const port = edge.instance.sy.httpsPort!;
    const session = http2Connect(`https://127.0.0.1:${port}`, {
      rejectUnauthorized: false,
      servername: 'app.localhost',
    });
    try {
      let small: Promise<{ status: number; bytes: number }> | undefined;
      const big = get(session, '/big', () => {
        small = get(session, '/small');
      });
      const bigDone = await big;
      const smallDone = await small!;
      assert.deepEqual(bigDone, { status: 200, bytes: BIG });
      assert.deepEqual(smallDone, { status: 200, bytes: 'small'.length });
    } finally {
      session.close();
    }
    const lines = await eventually(() => {
      const found = edge.logs.filter((l) => l.kind === 'access' && l[LOG.project] === 'app');
      assert.equal(found.length, 2);
      return found;
    });
    const bytes = (path: string) => lines.find((l) => l[LOG.path] === path)![LOG.bytes] as number;
    assert.ok(bytes('/big') >= BIG && bytes('/big') < BIG + 1024, `/big: ${bytes('/big')}`);
    assert.ok(bytes('/small') < 1024, `/small counted ${bytes('/small')} bytes`);
    // The dashboard's per-project counter adds the same figures.
    const traffic = edge.instance.sy.traffic.snapshot().app!;
    assert.equal(traffic.bytes, bytes('/big') + bytes('/small'));
  });

  it('logs and counts CONNECT (405) and an unmeetable expectation (417)', async () => {
    const port = edge.instance.sy.httpsPort!;
    const session = http2Connect(`https://127.0.0.1:${port}`, {
      rejectUnauthorized: false,
      servername: 'app.localhost',
    });
    const statusOf = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request(headers, { endStream: headers[':method'] !== 'CONNECT' });
        stream.on('response', (h) => resolve(Number(h[':status'])));
        stream.on('error', reject);
        stream.resume();
      });
    const before = app.requests.length;
    try {
      assert.equal(await statusOf({ ':method': 'CONNECT', ':authority': 'app.localhost:22' }), 405);
      assert.equal(
        await statusOf({ ':path': '/odd', ':authority': 'app.localhost', expect: 'teapot' }),
        417,
      );
    } finally {
      session.close();
    }
    const lines = await eventually(() => {
      const found = edge.logs.filter(
        (l) => l.kind === 'access' && (l[LOG.status] === 405 || l[LOG.status] === 417),
      );
      assert.equal(found.length, 2);
      return found;
    });
    assert.deepEqual(lines.map((l) => l[LOG.method]).sort(), ['CONNECT', 'GET']);
    assert.deepEqual(lines.map((l) => l[LOG.error]).sort(), [
      'SY_EXPECTATION_FAILED',
      'SY_METHOD_NOT_ALLOWED',
    ]);
    assert.equal(app.requests.length, before, 'neither reached the app');
  });
});
