import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCacheControl, seconds } from '../../src/cache/cache-control.js';
import {
  currentAge,
  freshnessLifetime,
  notStorable,
  staleIfError,
  usability,
} from '../../src/cache/freshness.js';

const GET = { method: 'GET', headers: {} };
const res = (headers: Record<string, string>, status = 200) => ({ status, headers });
const date = (ms: number) => new Date(ms).toUTCString();

describe('Cache-Control parsing (RFC 9111 §5.2)', () => {
  it('reads directives, quoted values and repeated fields, ignoring junk', () => {
    const cc = parseCacheControl([
      'max-age=60, no-cache="set-cookie"',
      'S-MAXAGE=5, ,=3, bad dir, public',
    ]);
    assert.equal(cc.get('max-age'), '60');
    assert.equal(cc.get('no-cache'), 'set-cookie');
    assert.equal(cc.get('s-maxage'), '5');
    assert.equal(cc.get('public'), true);
    assert.equal(cc.has('bad dir'), false);
    assert.equal(seconds(parseCacheControl('max-age=abc'), 'max-age'), Number.NaN);
    assert.equal(seconds(parseCacheControl('max-age=99999999999'), 'max-age'), 2 ** 31);
    assert.equal(
      parseCacheControl('max-age=1, max-age=2').get('max-age'),
      '1',
      'first wins (§4.2.1)',
    );
  });
});

describe('storability for a shared cache (RFC 9111 §3)', () => {
  it('stores what it may and says why it will not store the rest', () => {
    assert.equal(notStorable(GET, res({ 'cache-control': 'max-age=60' })), undefined);
    assert.equal(
      notStorable(GET, res({ 'last-modified': date(0) })),
      undefined,
      'heuristically cacheable 200',
    );
    assert.equal(
      notStorable({ method: 'POST', headers: {} }, res({ 'cache-control': 'max-age=60' })),
      'method',
    );
    assert.equal(notStorable(GET, res({ 'cache-control': 'no-store' })), 'no-store');
    assert.equal(notStorable(GET, res({ 'cache-control': 'private, max-age=60' })), 'private');
    assert.equal(
      notStorable(GET, res({ 'cache-control': 'max-age=60', vary: 'Accept, *' })),
      'vary *',
    );
    assert.equal(
      notStorable(GET, res({ 'cache-control': 'max-age=60' }, 206)),
      'status',
      'partial content is not stored as such',
    );
    assert.equal(notStorable(GET, res({}, 302)), 'no freshness', '302 needs explicit freshness');
    assert.equal(
      notStorable(GET, res({ 'cache-control': 'max-age=60', 'set-cookie': 'a=b' })),
      'set-cookie',
    );
    assert.equal(
      notStorable(
        { method: 'GET', headers: { 'cache-control': 'no-store' } },
        res({ 'cache-control': 'max-age=1' }),
      ),
      'request no-store',
    );
  });

  it('stores an authorized response only when it says it may (§3.5)', () => {
    const auth = { method: 'GET', headers: { authorization: 'Bearer x' } };
    assert.equal(notStorable(auth, res({ 'cache-control': 'max-age=60' })), 'authorization');
    assert.equal(notStorable(auth, res({ 'cache-control': 'public, max-age=60' })), undefined);
    assert.equal(notStorable(auth, res({ 'cache-control': 's-maxage=60' })), undefined);
    assert.equal(
      notStorable(auth, res({ 'cache-control': 'max-age=60, must-revalidate' })),
      undefined,
    );
  });
});

describe('freshness and age (RFC 9111 §4.2)', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  it('takes s-maxage, then max-age, then Expires, then a heuristic', () => {
    assert.equal(freshnessLifetime(res({ 'cache-control': 'max-age=60, s-maxage=10' })), 10);
    assert.equal(freshnessLifetime(res({ 'cache-control': 'max-age=60' })), 60);
    assert.equal(freshnessLifetime(res({ date: date(now), expires: date(now + 30_000) })), 30);
    assert.equal(
      freshnessLifetime(res({ date: date(now), expires: 'garbage' })),
      0,
      'invalid Expires is expired',
    );
    assert.equal(
      freshnessLifetime(res({ 'cache-control': 'max-age=oops' })),
      0,
      'invalid max-age is stale',
    );
    const lm = res({ date: date(now), 'last-modified': date(now - 1000_000) });
    assert.equal(freshnessLifetime(lm), 100, '10% of the time since Last-Modified');
    assert.equal(
      freshnessLifetime(res({ date: date(now), 'last-modified': date(now - 1000_000) }, 302)),
      0,
      'no heuristic for 302',
    );
  });

  it('computes the current age from Age, Date, delays and residence', () => {
    const r = res({ date: date(now - 10_000), age: '5' });
    // response arrived at `now` after a 2 s request: corrected age = max(10, 5 + 2) = 10; then 30 s resident.
    assert.equal(currentAge(r, now - 2000, now, now + 30_000), 40);
  });

  it('says fresh, stale-while-revalidate, or must revalidate', () => {
    const swr = res({ 'cache-control': 'max-age=10, stale-while-revalidate=30' });
    assert.equal(usability(GET, swr, 5).use, 'fresh');
    assert.equal(usability(GET, swr, 20).use, 'stale-while-revalidate');
    assert.equal(usability(GET, swr, 50).use, 'must-revalidate');
    const strict = res({
      'cache-control': 'max-age=10, stale-while-revalidate=30, must-revalidate',
    });
    assert.equal(
      usability(GET, strict, 20).use,
      'must-revalidate',
      'must-revalidate forbids serving stale',
    );
    assert.equal(
      usability(GET, res({ 'cache-control': 'max-age=60, no-cache' }), 1).use,
      'must-revalidate',
    );
    assert.equal(
      usability(
        { method: 'GET', headers: { 'cache-control': 'no-cache' } },
        res({ 'cache-control': 'max-age=60' }),
        1,
      ).use,
      'must-revalidate',
    );
    assert.equal(
      usability(
        { method: 'GET', headers: { 'cache-control': 'max-age=5' } },
        res({ 'cache-control': 'max-age=60' }),
        10,
      ).use,
      'must-revalidate',
    );
    assert.equal(
      usability(
        { method: 'GET', headers: { 'cache-control': 'min-fresh=30' } },
        res({ 'cache-control': 'max-age=60' }),
        40,
      ).use,
      'must-revalidate',
    );
  });

  it('allows stale-if-error within its window only (RFC 5861 §4)', () => {
    const r = res({ 'cache-control': 'max-age=10, stale-if-error=60' });
    assert.equal(staleIfError(r, 30), true);
    assert.equal(staleIfError(r, 80), false);
    assert.equal(
      staleIfError(res({ 'cache-control': 'max-age=10, stale-if-error=60, proxy-revalidate' }), 30),
      false,
    );
  });
});
