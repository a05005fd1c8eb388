import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHttpDate } from '../../src/http/http-date.js';

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37);

  it('reads IMF-fixdate, RFC 850 and asctime', () => {
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), t);
  });

  it('reads a two-digit year more than 50 years ahead as the past one', () => {
    const year = new Date().getUTCFullYear();
    const soon = (year + 10) % 100;
    const got = new Date(
      parseHttpDate(`Monday, 01-Jan-${String(soon).padStart(2, '0')} 00:00:00 GMT`)!,
    );
    assert.equal(got.getUTCFullYear(), year + 10);
    const far = (year + 60) % 100;
    const past = new Date(
      parseHttpDate(`Monday, 01-Jan-${String(far).padStart(2, '0')} 00:00:00 GMT`)!,
    );
    assert.equal(past.getUTCFullYear(), year + 60 - 100);
  });

  it('refuses everything else', () => {
    for (const bad of [
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 06 Nov 1994 08:49:37 +1000',
      'Sun, 06-Nov-1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 8:49:37 GMT',
      'Sun, 06 Nov 94 08:49:37 GMT',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      '1994-11-06T08:49:37Z',
      '0',
      '',
    ]) {
      assert.equal(parseHttpDate(bad), undefined, bad);
    }
    assert.equal(
      parseHttpDate(['Sun, 06 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 GMT']),
      undefined,
    );
  });
});
