/**
 * src/http/response-head.ts: a head handed to Node as one prebuilt block is on the wire what
 * `writeHead` would send — every field once, Node's Date, Connection and Content-Length, its
 * keep-alive rules (the next request on the connection, a last request by
 * maxRequestsPerSocket) — and the answers Node has rules of its own for are left to
 * `writeHead`. Raw sockets, byte for byte.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  fieldBlock,
  HEAD_BLOCKS,
  writeHeadBlock,
  type FieldBlock,
} from '../../src/http/response-head.js';
import { endWithBody } from '../../src/http/small-body.js';
import { rawRequest } from '../support/http.js';
import {
  startSwitchyard,
  staticProject,
  upstreamProject,
  type TestSwitchyard,
} from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

const BODY = Buffer.from('hello, block');
const BLOCK = fieldBlock(
  { 'content-type': 'text/plain', etag: '"e1"', 'content-length': 12, 'x-multi': ['a', 'b'] },
  new Set(['content-length']),
)!;

/** Each answer: the block path's result, for the test to check which path was taken. */
let taken: boolean[] = [];
let block: FieldBlock = BLOCK;

function answer(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/set-first') res.setHeader('x-set', '1');
  const used = writeHeadBlock(req, res, 200, block, 'x-request-id: r1\r\n', BODY.length);
  taken.push(used);
  if (!used) res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  endWithBody(req, res, BODY);
}

/** The head's lines, and the body after it. */
function split(raw: string): { lines: string[]; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  return { lines: raw.slice(0, end).split('\r\n'), body: raw.slice(end + 4) };
}

const count = (lines: string[], name: string) =>
  lines.filter((l) => l.toLowerCase().startsWith(`${name}:`)).length;

describe('response heads as prebuilt blocks', () => {
  let server: Server;
  let port: number;

  before(async () => {
    server = createServer(answer);
    server.maxRequestsPerSocket = 3;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it('is available on the runtime Switchyard ships', () => {
    assert.equal(HEAD_BLOCKS, true);
  });

  it('sends the block, the request’s lines and Node’s own fields, each once', async () => {
    taken = [];
    const raw = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { lines, body } = split(raw);
    assert.deepEqual(taken, [true]);
    assert.equal(lines[0], 'HTTP/1.1 200 OK');
    assert.deepEqual(lines.slice(1, 6), [
      'content-type: text/plain',
      'etag: "e1"',
      'x-multi: a',
      'x-multi: b',
      'x-request-id: r1',
    ]);
    for (const name of ['date', 'connection', 'content-length'])
      assert.equal(count(lines, name), 1, `${name} once in ${raw}`);
    assert.ok(lines.includes('Content-Length: 12'));
    assert.ok(lines.includes('Connection: keep-alive'));
    assert.equal(body, 'hello, block');
  });

  it('keeps the connection for the next request, and closes after the last one allowed', async () => {
    taken = [];
    const one = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    const raw = await rawRequest(port, one + one + one + one);
    const answers = raw.split('HTTP/1.1 ').slice(1);
    // maxRequestsPerSocket: 3 — the third says it is the last, Node refuses the fourth.
    assert.deepEqual(
      answers.map((a) => a.slice(0, 3)),
      ['200', '200', '200', '503'],
      raw,
    );
    assert.deepEqual(taken, [true, true, true]);
    assert.match(answers[1]!, /Connection: keep-alive/);
    assert.match(answers[2]!, /Connection: close/);
    for (const a of answers.slice(0, 3)) assert.ok(a.endsWith('hello, block'), a);
  });

  it('gives a HEAD answer its Content-Length and no body', async () => {
    taken = [];
    const raw = await rawRequest(
      port,
      'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.deepEqual(taken, [true, true]);
    const [head, get] = raw.split('HTTP/1.1 200 OK').slice(1);
    assert.match(head!, /content-length: 12\r\n/);
    assert.ok(head!.endsWith('\r\n\r\n'), 'no body after a HEAD answer');
    assert.ok(get!.endsWith('hello, block'));
  });

  it('leaves HTTP/1.0, Expect and fields set before to writeHead', async () => {
    taken = [];
    const old = await rawRequest(port, 'GET / HTTP/1.0\r\n\r\n');
    assert.match(old, /Connection: close/);
    await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n');
    const set = await rawRequest(port, 'GET /set-first HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(set, /x-set: 1/);
    assert.deepEqual(taken, [false, false, false]);
  });

  it('sends a block’s own Date instead of Node’s', async () => {
    taken = [];
    block = fieldBlock({ date: 'Mon, 30 Nov 2026 10:00:00 GMT' }, new Set())!;
    try {
      const { lines } = split(await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      assert.deepEqual(taken, [true]);
      assert.equal(count(lines, 'date'), 1);
      assert.ok(lines.includes('date: Mon, 30 Nov 2026 10:00:00 GMT'));
    } finally {
      block = BLOCK;
    }
  });

  it('refuses to build a block from a field writeHead would refuse', () => {
    assert.equal(fieldBlock({ 'x-a': 'one\r\nx-injected: 1' }, new Set()), undefined);
    assert.equal(fieldBlock({ 'x a': 'one' }, new Set()), undefined);
    assert.equal(fieldBlock({ 'x-a': ['ok', 'bad\n'] }, new Set()), undefined);
    assert.equal(fieldBlock({ 'x-a': 'caf\u00e9' }, new Set())?.lines, 'x-a: caf\u00e9\r\n');
  });
});

describe('prebuilt heads through Switchyard', () => {
  let app: TestUpstream;
  let sy: TestSwitchyard;
  // A second in the past: the hit must carry the origin's own, not the edge's.
  const ORIGIN_DATE = new Date(Date.now() - 1000).toUTCString();
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-head-'));
    writeFileSync(join(dir, 'a.txt'), 'static body');
    app = await startUpstream((req, res) => {
      const fields: Record<string, string | string[] | number> = {
        'cache-control': 'max-age=600',
        'content-type': 'text/plain',
        date: ORIGIN_DATE,
        'x-request-id': 'from-the-origin',
        'x-multi': ['a=1', 'b=2'],
        'content-length': 11,
      };
      if (req.url === '/hsts') fields['strict-transport-security'] = 'max-age=60';
      if (req.url?.startsWith('/pass')) {
        // Not stored: the proxied path. Fields a proxy drops or rewrites, and no length when
        // asked for a chunked answer.
        fields['cache-control'] = 'no-store';
        fields.connection = 'x-hop';
        fields['x-hop'] = 'dropped';
        fields.via = '1.0 inner';
        if (req.url === '/pass/chunked') delete fields['content-length'];
        if (req.url === '/pass/reason') {
          res.writeHead(200, 'Fine Thanks', fields);
          res.end('cached body');
          return;
        }
      }
      res.writeHead(200, fields);
      res.end('cached body');
    });
    sy = await startSwitchyard({
      projects: [staticProject('site', dir), upstreamProject('app', [app.url])],
    });
  });
  after(async () => {
    await sy.close();
    await app.close();
  });

  const get = (path: string, method = 'GET') =>
    rawRequest(sy.port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);

  it('answers a cache hit with each field once: the origin’s Date, Age, Cache-Status, its own id', async () => {
    await get('/app/x'); // stored
    const { lines, body } = split(await get('/app/x'));
    assert.equal(body, 'cached body');
    assert.ok(lines.includes(`date: ${ORIGIN_DATE}`), lines.join('\n'));
    for (const name of ['date', 'age', 'cache-status', 'x-request-id', 'content-length', 'via'])
      assert.equal(count(lines, name), 1, `${name} once in\n${lines.join('\n')}`);
    assert.equal(count(lines, 'x-multi'), 2);
    assert.ok(
      !lines.includes('x-request-id: from-the-origin'),
      'the edge’s id replaces the origin’s',
    );
    assert.match(lines.join('\n'), /cache-status: Switchyard; hit; ttl=\d+/);
    const head = split(await get('/app/x', 'HEAD'));
    assert.equal(head.body, '');
    assert.equal(count(head.lines, 'content-length'), 1);
    assert.ok(head.lines.includes('content-length: 11'), head.lines.join('\n'));
  });

  it('keeps an origin’s HSTS on a hit when the edge sets none', async () => {
    await get('/app/hsts');
    const { lines } = split(await get('/app/hsts'));
    assert.match(lines.join('\n'), /; hit/);
    assert.ok(lines.includes('strict-transport-security: max-age=60'), lines.join('\n'));
  });

  it('answers a static file from memory with each field once', async () => {
    await get('/site/a.txt'); // prepared
    const { lines, body } = split(await get('/site/a.txt'));
    assert.equal(body, 'static body');
    for (const name of ['date', 'etag', 'content-length', 'x-request-id', 'content-type'])
      assert.equal(count(lines, name), 1, `${name} once in\n${lines.join('\n')}`);
  });

  it('proxies an answer with each field once, hop-by-hop ones dropped, Via appended', async () => {
    const { lines, body } = split(await get('/app/pass'));
    assert.equal(body, 'cached body');
    assert.ok(lines.includes(`date: ${ORIGIN_DATE}`), lines.join('\n'));
    assert.ok(lines.includes('via: 1.0 inner, 1.1 switchyard'), lines.join('\n'));
    for (const name of ['date', 'x-request-id', 'content-length', 'via', 'cache-status'])
      assert.equal(count(lines, name), 1, `${name} once in\n${lines.join('\n')}`);
    assert.equal(count(lines, 'x-hop'), 0);
    assert.ok(!lines.includes('x-request-id: from-the-origin'));
    assert.equal(count(lines, 'x-multi'), 2);
    const head = split(await get('/app/pass', 'HEAD'));
    assert.equal(head.body, '');
    assert.ok(head.lines.includes('content-length: 11'), head.lines.join('\n'));
  });

  it('chunks a proxied body of no stated length, and keeps an origin’s reason phrase', async () => {
    const chunked = split(await get('/app/pass/chunked'));
    assert.ok(chunked.lines.includes('Transfer-Encoding: chunked'), chunked.lines.join('\n'));
    assert.equal(count(chunked.lines, 'content-length'), 0);
    assert.equal(chunked.body, 'b\r\ncached body\r\n0\r\n\r\n');
    const reason = split(await get('/app/pass/reason'));
    assert.equal(reason.lines[0], 'HTTP/1.1 200 Fine Thanks');
  });

  it('relies on undici to refuse an origin field with a control character; keeps obs-text', async () => {
    // What the proxied block does not check again (src/proxy/forwarded-headers.ts).
    const raw = createNetServer((s) =>
      s.once('data', (request: Buffer) => {
        const value = request.includes('/ctl') ? 'a\x01b' : 'caf\xe9';
        s.end(
          Buffer.from(`HTTP/1.1 200 OK\r\nx-a: ${value}\r\ncontent-length: 2\r\n\r\nok`, 'latin1'),
        );
      }),
    );
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const port = (raw.address() as AddressInfo).port;
    const edge = await startSwitchyard({
      projects: [upstreamProject('raw', [`http://127.0.0.1:${port}`])],
    });
    try {
      const ctl = await rawRequest(edge.port, 'GET /raw/ctl HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      assert.match(ctl, /^HTTP\/1\.1 502 /);
      assert.ok(!ctl.includes('a\x01b'));
      const { lines, body } = split(
        await rawRequest(edge.port, 'GET /raw/ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
      );
      assert.equal(body, 'ok');
      assert.ok(lines.includes('x-a: caf\xe9'), lines.join('\n')); // the byte 0xE9, as sent
    } finally {
      await edge.close();
      raw.close();
    }
  });
});
