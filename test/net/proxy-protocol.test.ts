import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProxyHeader, ProxyHeaderError } from '../../src/net/proxy-protocol.js';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.from([0x20 | command, family, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

describe('parseProxyHeader', () => {
  it('reads v1 TCP4, TCP6 and UNKNOWN, and says how long the header was', () => {
    const line = 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n';
    assert.deepEqual(parseProxyHeader(Buffer.from(`${line}GET / HTTP/1.1\r\n`)), {
      header: { kind: 'proxy', address: '203.0.113.7', port: 51000 },
      length: line.length,
    });
    assert.deepEqual(
      parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'))?.header,
      { kind: 'proxy', address: '2001:db8::1', port: 1 },
    );
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))?.header, { kind: 'local' });
  });

  it('reads v2 PROXY for IPv4 and IPv6, and LOCAL, skipping TLVs', () => {
    const ipv4 = Buffer.from([
      203, 0, 113, 7, 10, 0, 0, 1, 0xc7, 0x38, 0x01, 0xbb, 0x04, 0x00, 0x01, 0x00,
    ]);
    assert.deepEqual(parseProxyHeader(Buffer.concat([v2(1, 0x11, ipv4), Buffer.from('rest')])), {
      header: { kind: 'proxy', address: '203.0.113.7', port: 51000 },
      length: 16 + ipv4.length,
    });
    const ipv6 = Buffer.alloc(36);
    ipv6.write('20010db8000000000000000000000001', 0, 'hex');
    ipv6.writeUInt16BE(8080, 32);
    assert.deepEqual(parseProxyHeader(v2(1, 0x21, ipv6))?.header, {
      kind: 'proxy',
      address: '2001:db8::1',
      port: 8080,
    });
    assert.deepEqual(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))?.header, { kind: 'local' });
  });

  it('asks for more while a header is incomplete', () => {
    const line = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n');
    for (const n of [1, 5, 6, 20, line.length - 1])
      assert.equal(parseProxyHeader(line.subarray(0, n)), undefined, `${n}`);
    const whole = v2(1, 0x11, Buffer.alloc(12));
    for (const n of [1, 12, 15, 16, whole.length - 1])
      assert.equal(parseProxyHeader(whole.subarray(0, n)), undefined, `${n}`);
  });

  it('refuses what is not a valid header', () => {
    const bad = [
      'GET / HTTP/1.1\r\n',
      'PROXY TCP4 203.0.113.7 10.0.0.1 51000\r\n',
      'PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n',
      'PROXY TCP4 203.0.113.7 10.0.0.1 65536 443\r\n',
      'PROXY TCP4 203.0.113.7 10.0.0.1 0443 443\r\n',
      'PROXY TCP5 203.0.113.7 10.0.0.1 1 2\r\n',
      'PROXY TCP4 203.0.113.7 10.0.0.1 1 2 extra\r\n',
      `PROXY ${'x'.repeat(120)}`,
    ];
    for (const text of bad)
      assert.throws(() => parseProxyHeader(Buffer.from(text)), ProxyHeaderError, text);
    const wrongVersion = v2(1, 0x11, Buffer.alloc(12));
    wrongVersion[12] = 0x11;
    assert.throws(() => parseProxyHeader(wrongVersion), ProxyHeaderError);
    assert.throws(() => parseProxyHeader(v2(1, 0x11, Buffer.alloc(8))), ProxyHeaderError);
    assert.throws(() => parseProxyHeader(v2(7, 0x11, Buffer.alloc(12))), ProxyHeaderError);
    const huge = Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    assert.throws(() => parseProxyHeader(huge), ProxyHeaderError);
  });
});
