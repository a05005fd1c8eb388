import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TokenBuckets } from '../../src/limits/token-buckets.js';

describe('TokenBuckets', () => {
  const buckets = new TokenBuckets({ maxKeys: 100 });
  after(() => buckets.close());
  const rate = { requestsPerSecond: 2, burst: 5 };

  it('admits a burst, then one request per 1/rate seconds', () => {
    const t = 1000;
    const first = Array.from({ length: 8 }, () => buckets.take('a', rate, t));
    assert.deepEqual(
      first.map((w) => w === 0),
      [true, true, true, true, true, false, false, false],
    );
    assert.equal(first[5], 0.5); // one token comes back in half a second at 2/s
    assert.ok(buckets.take('a', rate, t + 400) > 0, 'not yet: 0.8 of a token');
    assert.equal(buckets.take('a', rate, t + 500), 0, 'one token back after 1/rate s');
    assert.ok(buckets.take('a', rate, t + 500) > 0);
    assert.equal(buckets.take('b', rate, t), 0, 'keys are independent');
  });

  it('never holds more than its burst, however long it was idle', () => {
    const t = 5000;
    let admitted = 0;
    buckets.take('idle', rate, t);
    for (let i = 0; i < 20; i++) if (buckets.take('idle', rate, t + 3_600_000) === 0) admitted++;
    assert.equal(admitted, 5);
  });

  it('keeps at most maxKeys buckets, dropping full ones first', () => {
    const small = new TokenBuckets({ maxKeys: 100 });
    try {
      const busy = { requestsPerSecond: 1, burst: 1 };
      small.take('drained', busy, 0); // empty: kept
      for (let i = 0; i < 300; i++)
        small.take(`k${i}`, { requestsPerSecond: 1000, burst: 1 }, 10_000 + i);
      assert.ok(small.size <= 100, `${small.size} buckets`);
    } finally {
      small.close();
    }
  });
});
