/**
 * HTTP/2 answered on the native `stream` API (src/server/http2-exchange.ts): the HTTPS
 * server's own listener, on a real TLS port with a real HTTP/2 client, through the parts of
 * the request/response interface the request path uses — and what a hostile or leaving client
 * does to it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  connect as http2Connect,
  constants,
  sensitiveHeaders,
  type ClientHttp2Session,
  type Http2SecureServer,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { bodyOf } from '../../src/http/request-body.js';
import type { SwitchyardError } from '../../src/model/errors.js';
import { Http2Response } from '../../src/server/http2-exchange.js';
import { createHttpsServer } from '../../src/server/secure-server.js';
import { LocalCa } from '../../src/tls/local-ca.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: Buffer;
  trailers: Record<string, unknown> | undefined;
  informational: number[];
}

describe('HTTP/2 on the native stream API', () => {
  let server: Http2SecureServer;
  let session: ClientHttp2Session;
  let dir: string;
  const handlers = new Map<string, Handler>();
  /** What each response emitted, by path, once its 'close' came. */
  const events = new Map<string, string[]>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-h2-'));
    const ca = await LocalCa.open(dir);
    const leaf = await ca.issue(['localhost']);
    const { config } = loadConfig({ raw: {} });
    server = createHttpsServer(
      config.limits,
      { cert: leaf.certPem, key: leaf.keyPem, SNICallback: (_name, cb) => cb(null, undefined) },
      (req, res) => {
        const path = req.url ?? '';
        const seen: string[] = [];
        res.once('finish', () => seen.push('finish'));
        res.once('close', () => {
          seen.push('close');
          events.set(path, seen);
        });
        // A request refused as it came: answered as the request path answers it.
        const refusal = (req as { refusal?: SwitchyardError }).refusal;
        if (refusal !== undefined) {
          res.writeHead(refusal.status, { 'x-code': refusal.code }).end(refusal.detail);
          return;
        }
        (handlers.get(path) ?? ((_q, r) => r.writeHead(404).end()))(req, res);
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    session = http2Connect(`https://localhost:${port}`, { ca: ca.caPem });
    await once(session, 'connect');
  });

  after(() => {
    session.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function request(headers: OutgoingHttpHeaders, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const stream = session.request(headers, { endStream: body === undefined });
      const chunks: Buffer[] = [];
      const answer: Answer = {
        status: 0,
        headers: {},
        body: Buffer.alloc(0),
        trailers: undefined,
        informational: [],
      };
      stream.on('headers', (h) => answer.informational.push(Number(h[':status'])));
      stream.on('response', (h) => {
        answer.status = Number(h[':status']);
        answer.headers = h;
      });
      stream.on('trailers', (t: Record<string, unknown>) => {
        answer.trailers = t;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ ...answer, body: Buffer.concat(chunks) }));
      stream.on('error', reject);
      if (body !== undefined) stream.end(body);
    });
  }

  it('hands the request path its own request and response, not the compatibility layer', async () => {
    let seen: unknown;
    handlers.set('/kind', (req, res) => {
      seen = res;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end(`${req.method === 'GET' && req.httpVersionMajor === 2 ? 'ok' : 'no'}`);
    });
    const answer = await request({ ':path': '/kind' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), 'ok');
    assert.ok(seen instanceof Http2Response);
    assert.equal(server.listenerCount('stream'), 1, 'no compatibility listener beside it');
    assert.deepEqual(events.get('/kind'), ['finish', 'close']);
    assert.equal(seen.bodyBytes, 2);
  });

  it('ends a response of declared length with its body: no trailers, no waiting for them', async () => {
    // Waiting for trailers shows on the stream as a 'wantTrailers' listener (and on the wire
    // as one more, empty, frame after the body).
    const waiting = new Map<string, number>();
    const waits = (path: string, res: ServerResponse) =>
      waiting.set(path, (res as unknown as Http2Response).stream.listenerCount('wantTrailers'));
    handlers.set('/declared', (_req, res) => {
      res.writeHead(200, { 'content-length': 5 });
      waits('/declared', res);
      res.end('hello');
    });
    handlers.set('/undeclared', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      waits('/undeclared', res);
      res.end('hello');
    });
    const answer = await request({ ':path': '/declared' });
    assert.equal(answer.body.toString(), 'hello');
    assert.equal(answer.trailers, undefined);
    assert.equal(waiting.get('/declared'), 0);
    const undeclared = await request({ ':path': '/undeclared' });
    assert.equal(undeclared.body.toString(), 'hello', 'ends with empty trailers');
    assert.equal(waiting.get('/undeclared'), 1);
  });

  it('sends trailers on a response of undeclared length', async () => {
    handlers.set('/trailers', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one, ');
      res.addTrailers({ 'x-checksum': 'abc', connection: 'close' });
      res.end('part two');
    });
    const answer = await request({ ':path': '/trailers' });
    assert.equal(answer.body.toString(), 'part one, part two');
    assert.equal(answer.trailers?.['x-checksum'], 'abc');
    assert.equal(answer.trailers?.connection, undefined, 'connection-specific: dropped');
  });

  it('drops connection-specific fields instead of failing the response (RFC 9113 §8.2.2)', async () => {
    handlers.set('/hop', (_req, res) => {
      res.setHeader('Connection', 'close');
      res.setHeader('keep-alive', 'timeout=5');
      res.writeHead(200, { 'transfer-encoding': 'chunked', 'x-kept': 'yes' });
      res.end('fine');
    });
    const answer = await request({ ':path': '/hop' });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-kept'], 'yes');
    assert.equal(answer.headers.connection, undefined);
    assert.equal(answer.headers['transfer-encoding'], undefined);
    assert.equal(answer.body.toString(), 'fine');
  });

  it('leaves the fields object given to writeHead as it was (it may be shared)', async () => {
    const shared = Object.freeze({ 'content-type': 'text/plain', 'content-length': 2 });
    handlers.set('/shared-200', (_req, res) => res.writeHead(200, shared).end('ok'));
    handlers.set('/shared-404', (_req, res) => res.writeHead(404, shared).end('no'));
    handlers.set('/given-hop', (_req, res) =>
      res.writeHead(200, { connection: 'close', upgrade: 'h2c', 'x-kept': 'yes' }).end('ok'),
    );
    const ok = await request({ ':path': '/shared-200' });
    const missing = await request({ ':path': '/shared-404' });
    assert.equal(ok.status, 200);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-type'], 'text/plain');
    assert.deepEqual(Object.keys(shared), ['content-type', 'content-length']);
    const hop = await request({ ':path': '/given-hop' });
    assert.equal(hop.status, 200);
    assert.equal(hop.headers['x-kept'], 'yes');
    assert.equal(hop.headers.connection, undefined);
    assert.equal(hop.body.toString(), 'ok');
  });

  it('sends the request id as a literal never indexed (RFC 7541 §6.2.3), the rest indexed', async () => {
    handlers.set('/id-given', (_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain', 'x-request-id': 'id-1' }).end('ok'),
    );
    handlers.set('/id-set', (_req, res) => {
      res.setHeader('x-request-id', 'id-2');
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no');
    });
    const frozen = Object.freeze({ 'x-request-id': 'id-3', 'content-length': 2 });
    handlers.set('/id-frozen', (_req, res) => res.writeHead(200, frozen).end('ok'));
    handlers.set('/id-hop', (_req, res) =>
      res.writeHead(200, { connection: 'close', 'x-request-id': 'id-4' }).end('ok'),
    );
    const never = (a: Answer) => (a.headers as { [sensitiveHeaders]?: string[] })[sensitiveHeaders];
    for (const [path, id] of [
      ['/id-given', 'id-1'],
      ['/id-set', 'id-2'],
      ['/id-hop', 'id-4'],
    ] as const) {
      const answer = await request({ ':path': path });
      assert.equal(answer.headers['x-request-id'], id, path);
      assert.deepEqual(never(answer), ['x-request-id'], path);
    }
    const kept = await request({ ':path': '/id-frozen' });
    assert.equal(kept.headers['x-request-id'], 'id-3', 'a frozen object goes as it was');
    assert.deepEqual(never(kept), []);
    assert.deepEqual(Object.getOwnPropertySymbols(frozen), []);
  });

  it('answers HEAD, 204 and 304 with the head alone, whatever the handler writes', async () => {
    // A 204 carries no Content-Length (RFC 9110 §8.6): one that claims content would make the
    // client reset the stream (RFC 9113 §8.1.1), so it is dropped.
    for (const [path, status] of [
      ['/head', 200],
      ['/204', 204],
      ['/304', 304],
    ] as const) {
      handlers.set(path, (_req, res) => {
        res.writeHead(status, { 'content-length': 4, etag: '"x"' });
        res.write('body');
        res.end();
      });
    }
    const head = await request({ ':path': '/head', ':method': 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '4');
    assert.equal(head.body.length, 0);
    for (const path of ['/204', '/304']) {
      const answer = await request({ ':path': path });
      assert.equal(answer.body.length, 0, path);
      assert.equal(answer.headers.etag, '"x"', path);
    }
    assert.equal((await request({ ':path': '/204' })).headers['content-length'], undefined);
    assert.deepEqual(events.get('/head'), ['finish', 'close']);
  });

  it('lets sendError-style code replace the fields set so far', async () => {
    handlers.set('/replace', (_req, res) => {
      res.setHeader('x-robots-tag', 'noindex');
      res.setHeader('etag', '"stale"');
      for (const name of res.getHeaderNames()) if (name !== 'x-robots-tag') res.removeHeader(name);
      res.statusCode = 503;
      res.setHeader('content-length', 4);
      res.end('busy');
    });
    const answer = await request({ ':path': '/replace' });
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['x-robots-tag'], 'noindex');
    assert.equal(answer.headers.etag, undefined);
    assert.equal(answer.body.toString(), 'busy');
  });

  it('reads a request body from the stream', async () => {
    handlers.set('/echo', (req, res) => {
      const chunks: Buffer[] = [];
      const body = bodyOf(req);
      body.on('data', (c: Buffer) => chunks.push(c));
      body.on('end', () => res.end(Buffer.concat(chunks)));
    });
    const answer = await request({ ':path': '/echo', ':method': 'POST' }, 'sent up');
    assert.equal(answer.body.toString(), 'sent up');
  });

  it('answers Expect: 100-continue with a 100 first, and other expectations with 417', async () => {
    handlers.set('/expect', (_req, res) => res.end('after continue'));
    const ok = await request(
      { ':path': '/expect', ':method': 'POST', expect: '100-continue' },
      'x',
    );
    assert.deepEqual(ok.informational, [100]);
    assert.equal(ok.body.toString(), 'after continue');
    const odd = await request({ ':path': '/expect', expect: 'something-else' });
    assert.equal(odd.status, 417);
    assert.equal(odd.headers['x-code'], 'SY_EXPECTATION_FAILED');
    assert.match(odd.body.toString(), /expectation/);
  });

  it('forwards 103 Early Hints before the response', async () => {
    handlers.set('/hints', (_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.end('page');
    });
    const answer = await request({ ':path': '/hints' });
    assert.deepEqual(answer.informational, [103]);
    assert.equal(answer.body.toString(), 'page');
  });

  it('carries a large body through pipeline() with back-pressure, counted', async () => {
    const size = 3 * 1024 * 1024; // more than the stream's window: writes must wait for 'drain'
    let piped: Error | null | undefined;
    let response: Http2Response | undefined;
    handlers.set('/large', (_req, res) => {
      response = res as unknown as Http2Response;
      res.writeHead(200, { 'content-length': size });
      const source = Readable.from(
        (function* () {
          for (let sent = 0; sent < size; sent += 64 * 1024) yield Buffer.alloc(64 * 1024, 7);
        })(),
      );
      pipeline(source, res, (err) => (piped = err));
    });
    const answer = await request({ ':path': '/large' });
    assert.equal(answer.body.length, size);
    assert.ok(answer.body.every((b) => b === 7));
    await new Promise((r) => setImmediate(r));
    assert.equal(piped, undefined);
    assert.equal(response?.bodyBytes, size);
    assert.deepEqual(events.get('/large'), ['finish', 'close']);
  });

  it('hands a large body given to end() to the stream in 64 KiB slices, in order', async () => {
    // One write completes only when all of it is sent: slices let the send timeout see a
    // slow reader's progress (net/send-timeout.ts).
    const size = 1024 * 1024 + 5;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = i % 251;
    const writes: number[] = [];
    handlers.set('/stored', (_req, res) => {
      const stream = (res as unknown as Http2Response).stream;
      const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
      const end = stream.end.bind(stream) as (chunk?: Buffer) => void;
      Object.assign(stream, {
        write: (chunk: Buffer) => (writes.push(chunk.length), write(chunk)),
        end: (chunk?: Buffer) => (writes.push(chunk?.length ?? 0), end(chunk)),
      });
      res.writeHead(200, { 'content-length': size });
      res.end(body);
    });
    const answer = await request({ ':path': '/stored' });
    assert.ok(answer.body.equals(body));
    assert.equal(writes.length, 17);
    assert.ok(writes.every((n) => n <= 64 * 1024));
    assert.deepEqual(events.get('/stored'), ['finish', 'close']);
  });

  it('says close without finish when the client resets mid-response, and keeps serving', async () => {
    let sourceDestroyed = false;
    let piped: unknown = null;
    handlers.set('/reset', (_req, res) => {
      res.writeHead(200, { 'content-length': 64 * 1024 * 1024 });
      const source = new Readable({
        read() {
          this.push(Buffer.alloc(16 * 1024, 1));
        },
        destroy(err, cb) {
          sourceDestroyed = true;
          cb(err);
        },
      });
      pipeline(source, res, (err) => (piped = err));
    });
    const stream = session.request({ ':path': '/reset' });
    await once(stream, 'response');
    await once(stream, 'data');
    stream.close(constants.NGHTTP2_CANCEL);
    await waitFor(() => events.has('/reset'));
    assert.deepEqual(events.get('/reset'), ['close']);
    await waitFor(() => sourceDestroyed);
    assert.ok(piped instanceof Error, 'pipeline reports the cut');
    handlers.set('/after', (_req, res) => res.end('still here'));
    const after = await request({ ':path': '/after' });
    assert.equal(after.body.toString(), 'still here');
  });

  it('refuses CONNECT with 405 (the request path answers it)', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': 'internal.example:22' },
        { endStream: false },
      );
      stream.on('response', (h) => {
        resolve(`${h[':status']} ${String(h['x-code'])}`);
        stream.close();
      });
      stream.on('error', reject);
    });
    assert.equal(status, '405 SY_METHOD_NOT_ALLOWED');
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'condition not reached in 2 s');
}
