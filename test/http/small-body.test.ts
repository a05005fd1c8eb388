/**
 * src/http/small-body.ts: a small body leaves with its response head in one write, byte for
 * byte (every byte value, through the latin1 string it travels as), and larger bodies, HEAD
 * and HTTP/2 as before. Then the same end to end through Switchyard: a small static file and
 * a small cached response (a hit), every byte value.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { endWithBody, SMALL_BODY_BYTES } from '../../src/http/small-body.js';
import {
  startSwitchyard,
  staticProject,
  upstreamProject,
  type TestSwitchyard,
} from '../support/switchyard.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';

/** `n` bytes cycling through every byte value. */
const everyByte = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i % 256));

type SpiedSocket = Socket & {
  _write: (...args: unknown[]) => void;
  _writev: (...args: unknown[]) => void;
};

/** A node:http server answering with `endWithBody`, counting its socket's writes per response. */
async function server(body: Buffer) {
  const writes: string[][] = [];
  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as SpiedSocket;
    const seen: string[] = [];
    writes.push(seen);
    const write = socket._write.bind(socket);
    const writev = socket._writev.bind(socket);
    socket._write = (...args: unknown[]) => {
      seen.push('write');
      write(...args);
    };
    socket._writev = (...args: unknown[]) => {
      seen.push('writev');
      writev(...args);
    };
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
    });
    endWithBody(req, res, body);
    // The prototype's own again, for anything written later on this connection.
    Reflect.deleteProperty(socket, '_write');
    Reflect.deleteProperty(socket, '_writev');
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
  return { url, writes, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

async function bytes(url: string, init: { method?: 'GET' | 'HEAD'; host?: string } = {}) {
  const res = await request(url, {
    method: init.method ?? 'GET',
    ...(init.host === undefined ? {} : { headers: { host: init.host } }),
  });
  return {
    status: res.statusCode,
    headers: res.headers,
    body: Buffer.from(await res.body.arrayBuffer()),
  };
}

describe('endWithBody', () => {
  it('sends a small body with the head in one write, every byte as it was', async () => {
    const body = everyByte(1024);
    const s = await server(body);
    try {
      const res = await bytes(s.url);
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(body), 'the bytes changed on the way');
      assert.deepEqual(s.writes, [['write']], 'head and body were not one write');
    } finally {
      await s.close();
    }
  });

  it('sends a larger body as the Buffer it is', async () => {
    const body = everyByte(SMALL_BODY_BYTES + 1);
    const s = await server(body);
    try {
      const res = await bytes(s.url);
      assert.ok(res.body.equals(body));
      assert.deepEqual(s.writes, [['writev']]);
    } finally {
      await s.close();
    }
  });

  it('sends no body for HEAD', async () => {
    const s = await server(everyByte(512));
    try {
      const res = await bytes(s.url, { method: 'HEAD' });
      assert.equal(res.headers['content-length'], '512');
      assert.equal(res.body.length, 0);
    } finally {
      await s.close();
    }
  });

  it('sends an HTTP/2 body as the Buffer it is', async () => {
    const body = everyByte(1024);
    const srv: Http2Server = createH2Server((req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      endWithBody(req as unknown as IncomingMessage, res as unknown as ServerResponse, body);
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const client = connect(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    try {
      const stream = client.request({ ':path': '/' });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      await once(stream, 'end');
      assert.ok(Buffer.concat(chunks).equals(body));
    } finally {
      client.close();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe('small bodies through Switchyard', () => {
  const small = everyByte(1500);
  let app: TestUpstream;
  let sy: TestSwitchyard;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-small-'));
    writeFileSync(join(dir, 'small.bin'), small);
    app = await startUpstream((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': small.length });
      res.end(small);
    });
    sy = await startSwitchyard({
      projects: [staticProject('site', dir), upstreamProject('app', [app.url])],
    });
  });
  after(async () => {
    await sy.close();
    await app.close();
  });

  it('serves a small static file byte for byte, twice (the second from memory), and HEAD', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await bytes(`${sy.origin}/site/small.bin`);
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(small), `answer ${i + 1} changed the bytes`);
    }
    const head = await bytes(`${sy.origin}/site/small.bin`, { method: 'HEAD' });
    assert.equal(head.headers['content-length'], String(small.length));
    assert.equal(head.body.length, 0);
  });

  it('serves a small cached response byte for byte from the cache', async () => {
    const first = await bytes(`${sy.origin}/app/x`);
    assert.ok(first.body.equals(small));
    const hit = await bytes(`${sy.origin}/app/x`);
    assert.match(String(hit.headers['cache-status']), /; hit/);
    assert.ok(hit.body.equals(small), 'the hit changed the bytes');
  });
});
