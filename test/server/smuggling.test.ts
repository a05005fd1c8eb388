/**
 * A small request-smuggling corpus against the built executable, on raw sockets: each
 * message must get one 400 or one correct answer, and the app must never see a request the
 * client hid in a body (`/smuggled`) — the front and back ends never disagree on where a
 * request ends. HTTP/1.1 cases (CL.TE, TE.CL, TE.TE obfuscations, duplicate Content-Length,
 * chunk-size overflow, bare LF, obs-fold) and HTTP/2 downgrades (`transfer-encoding` or a
 * lying `content-length` in an h2 request, written frame by frame).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  configWithProject,
  loggedPort,
  spawnSwitchyard,
  type RunningSwitchyard,
} from '../support/cli.js';
import { frame, framesOf, h2Exchange, literal, PREFACE } from '../support/h2-frames.js';
import { rawRequest } from '../support/http.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const HIDDEN = 'GET /smuggled HTTP/1.1\r\nHost: api.localhost\r\n\r\n';

/** [name, bytes]: each starts with a request whose body hides HIDDEN. */
const H1_CORPUS: [string, string][] = [
  [
    'CL.TE',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
  [
    'TE.CL',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${(HIDDEN.length + 0).toString(16)}\r\n${HIDDEN}\r\n0\r\n\r\n`,
  ],
  [
    'TE.TE: a second Transfer-Encoding',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\nContent-Length: 6\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
  [
    'TE.TE: space before the colon',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding : chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
  [
    'TE.TE: xchunked',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
  [
    'TE.TE: chunked, identity',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
  [
    'TE.TE: a vertical tab',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
  [
    // Read as Transfer-Encoding by some frameworks: the body would end at `0`.
    'Transfer_Encoding (underscore)',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: ${5 + HIDDEN.length}\r\nTransfer_Encoding: chunked\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
  [
    'duplicate Content-Length',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: 0\r\nContent-Length: ${HIDDEN.length}\r\n\r\n${HIDDEN}`,
  ],
  [
    'Content-Length list',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nContent-Length: 0, ${HIDDEN.length}\r\n\r\n${HIDDEN}`,
  ],
  [
    'chunk-size overflow',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000002f\r\n${HIDDEN}\r\n0\r\n\r\n`,
  ],
  [
    'chunk extension with a bare LF',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nTransfer-Encoding: chunked\r\n\r\n0;x\n\r\n${HIDDEN}`,
  ],
  [
    'bare LF line endings',
    `POST /a HTTP/1.1\nHost: api.localhost\nContent-Length: 0\n\n${HIDDEN}`.replace(
      HIDDEN,
      HIDDEN.replaceAll('\r\n', '\n'),
    ),
  ],
  [
    'obs-fold continuation',
    `POST /a HTTP/1.1\r\nHost: api.localhost\r\nX-Folded: a\r\n Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n${HIDDEN}`,
  ],
];

function h2Request(fields: [string, string][], body: string): Buffer {
  const block = Buffer.concat(fields.map(([n, v]) => literal(n, v)));
  return Buffer.concat([
    PREFACE,
    frame(0x1, 0x4, 1, block), // HEADERS, END_HEADERS
    frame(0x0, 0x1, 1, Buffer.from(body)), // DATA, END_STREAM
  ]);
}

const H2_BASE: [string, string][] = [
  [':method', 'POST'],
  [':scheme', 'https'],
  [':authority', 'api.localhost'],
  [':path', '/h2'],
];
const H2_CORPUS: [string, Buffer][] = [
  [
    'h2 with transfer-encoding: chunked',
    h2Request([...H2_BASE, ['transfer-encoding', 'chunked']], `0\r\n\r\n${HIDDEN}`),
  ],
  [
    'h2 with a content-length shorter than its DATA',
    h2Request([...H2_BASE, ['content-length', '0']], HIDDEN),
  ],
  [
    'h2 with a content-length longer than its DATA',
    h2Request([...H2_BASE, ['content-length', '500']], HIDDEN),
  ],
];

describe('request smuggling corpus (the built executable)', () => {
  let app: TestUpstream;
  let sy: RunningSwitchyard;
  let https: number;
  const bodies: string[] = [];
  before(async () => {
    app = await startUpstream((req, res) => {
      let body = '';
      req.setEncoding('latin1').on('data', (d: string) => (body += d));
      req.on('end', () => {
        bodies.push(body);
        res.end(`app saw ${req.method} ${req.url}`);
      });
    });
    const file = configWithProject(
      ['listen: { host: 127.0.0.1 }', 'https: { enabled: true, host: 127.0.0.1 }'],
      app.url,
    );
    sy = await spawnSwitchyard(['--config', file]);
    https = await loggedPort(sy, 'HTTPS listening');
  });
  after(async () => {
    sy.proc.kill('SIGTERM');
    await sy.exited;
    await app.close();
  });

  const neverSmuggled = (since = 0) => {
    const urls = app.requests.slice(since).map((r) => r.url);
    assert.ok(!urls.includes('/smuggled'), `the app saw ${JSON.stringify(urls)}`);
  };

  for (const [name, bytes] of H1_CORPUS) {
    it(`HTTP/1.1 ${name}: one 400 or one answer, nothing smuggled`, async () => {
      const before = app.requests.length;
      const raw = await rawRequest(sy.port, bytes, 300);
      const answers = raw.match(/HTTP\/1\.1 \d{3}/g) ?? [];
      assert.ok(answers.length === 1, `answers: ${JSON.stringify(raw)}`);
      assert.match(answers[0], /HTTP\/1\.1 (400|200)/);
      if (answers[0] === 'HTTP/1.1 200') {
        // Answered: then the app got exactly the body the edge framed, hidden request inside.
        assert.ok(!raw.includes('app saw GET /smuggled'));
      }
      neverSmuggled(before);
    });
  }

  for (const [name, bytes] of H2_CORPUS) {
    it(`${name}: refused (RST_STREAM or GOAWAY), nothing smuggled`, async () => {
      const before = app.requests.length;
      const completed = bodies.length;
      const got = await h2Exchange(https, bytes);
      const types = framesOf(got.bytes).map((f) => f.type);
      // 0x3 RST_STREAM, 0x7 GOAWAY; a HEADERS answer (0x1) would be a 4xx at most.
      assert.ok(types.includes(0x3) || types.includes(0x7), `frames ${JSON.stringify(types)}`);
      neverSmuggled(before);
      // The hidden bytes never reached the app, not even as a body: a request already
      // streaming to it (the lying length is only caught at the end) was cut off.
      for (const body of bodies.slice(completed)) assert.ok(!body.includes('/smuggled'), body);
    });
  }

  it('still serves an ordinary request after all that', async () => {
    const raw = await rawRequest(
      sy.port,
      'GET /ok HTTP/1.1\r\nHost: api.localhost\r\nConnection: close\r\n\r\n',
    );
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /app saw GET \/ok/);
    neverSmuggled();
  });
});
