/**
 * HTTP/1.1 pipelining against the built executable, on raw sockets: pipelined requests are
 * answered in order and handled one at a time (the app never sees two of one connection's
 * requests at once), and a client that pipelines past `limits.maxPipelinedRequests` is cut
 * off before any app is asked, instead of having every answer buffered for it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  configWithProject,
  loggedPort,
  spawnSwitchyard,
  type RunningSwitchyard,
} from '../support/cli.js';
import { fetchText } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const MAX_PIPELINED = 10;

describe('HTTP/1.1 pipelining (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  let admin: number;
  let open = 0;
  let mostAtOnce = 0;
  before(async () => {
    app = await startUpstream((req, res) => {
      mostAtOnce = Math.max(mostAtOnce, ++open);
      setTimeout(() => {
        open--;
        res.end(`answer to ${req.url}\n`);
      }, 20);
    });
    const file = configWithProject(
      [
        'listen: { host: 127.0.0.1 }',
        'admin: { host: 127.0.0.1, token: test-admin-token-0123456789 }',
        `limits: { maxPipelinedRequests: ${MAX_PIPELINED} }`,
      ],
      app.url,
    );
    sy = await spawnSwitchyard(['--config', file]);
    admin = await loggedPort(sy, 'admin API listening');
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  /** Write `count` pipelined GETs at once; resolve with all that came back until the close. */
  async function pipeline(count: number, prefix: string): Promise<string> {
    const socket = connect(sy.port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    const requests = Array.from(
      { length: count },
      (_, i) =>
        `GET /${prefix}-${i} HTTP/1.1\r\nHost: api.localhost\r\n` +
        (i === count - 1 ? 'Connection: close\r\n' : '') +
        '\r\n',
    );
    socket.write(requests.join(''));
    let data = '';
    socket.setEncoding('latin1').on('data', (d: string) => (data += d));
    // A cut may come as a reset (unread requests in the server's buffer): 'close' follows the
    // 'error' either way, and is what is waited for (`once` would reject on the error).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no close within 10 s')), 10_000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return data;
  }

  it('answers pipelined requests in order, handling one at a time', async () => {
    mostAtOnce = 0;
    const data = await pipeline(MAX_PIPELINED, 'seq');
    const answers = [...data.matchAll(/answer to \/seq-(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      answers,
      Array.from({ length: MAX_PIPELINED }, (_, i) => i),
    );
    assert.equal(mostAtOnce, 1, 'the app never had two of them at once');
  });

  it('cuts a client that pipelines past the limit, before any app is asked', async () => {
    const before = app.requests.length;
    const data = await pipeline(1000, 'flood'); // and reads nothing until the close
    assert.equal(data, '');
    assert.equal(app.requests.length - before, 0);
    const metrics = await fetchText(`http://127.0.0.1:${admin}/metrics`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    assert.match(metrics.body, /switchyard_limit_refusals_total\{limit="pipelined"\} 1/);
  });
});
