import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientKey } from '../../src/net/client-key.js';

describe('clientKey', () => {
  it('keeps an IPv4 address, and unwraps an IPv4-mapped one', () => {
    assert.equal(clientKey('203.0.113.9'), '203.0.113.9');
    assert.equal(clientKey('::ffff:203.0.113.9'), '203.0.113.9');
  });

  it('limits IPv6 by its /64, however the address is written', () => {
    const key = '2001:db8:0:1::/64';
    for (const a of [
      '2001:db8:0:1::1',
      '2001:0db8:0000:0001:ffff:ffff:ffff:ffff',
      '2001:db8::1:0:0:0:5',
      '2001:DB8:0:1:a::%eth0',
    ]) {
      assert.equal(clientKey(a), key, a);
    }
    assert.notEqual(clientKey('2001:db8:0:2::1'), key);
    assert.equal(clientKey('::1'), '0:0:0:0::/64');
    assert.equal(clientKey('fe80::'), 'fe80:0:0:0::/64');
  });
});
