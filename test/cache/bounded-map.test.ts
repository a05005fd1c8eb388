import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedMap, ExpiringSet } from '../../src/cache/bounded-map.js';

describe('BoundedMap', () => {
  it('holds at most its bound, dropping the oldest insertion first', () => {
    const m = new BoundedMap<string, number>(3);
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) m.set(k, i);
    assert.equal(m.size, 3);
    assert.deepEqual([...m.keys()], ['c', 'd', 'e']);
  });

  it('replaces a key it holds without dropping another', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 3);
    assert.deepEqual(
      [...m.entries()],
      [
        ['a', 3],
        ['b', 2],
      ],
    );
  });
});

describe('ExpiringSet', () => {
  it('holds a key for its time to live, then forgets it', () => {
    const s = new ExpiringSet<string>(10, 1_000);
    s.add('a', 5_000);
    assert.equal(s.has('a', 5_000), true);
    assert.equal(s.has('a', 5_999), true);
    assert.equal(s.has('a', 6_000), false);
    assert.equal(s.size, 0, 'an expired key is dropped when it is asked for');
    assert.equal(s.has('b', 0), false);
  });

  it('keeps the first deadline of a key added again while held, and forgets a deleted key', () => {
    const s = new ExpiringSet<string>(10, 1_000);
    s.add('a', 0);
    s.add('a', 800);
    assert.equal(s.has('a', 999), true);
    assert.equal(s.has('a', 1_000), false, 'not extended by the second add');
    s.add('a', 1_200);
    assert.equal(s.has('a', 2_100), true, 'added again once expired: a new deadline');
    assert.equal(s.delete('a'), true);
    assert.equal(s.has('a', 2_100), false);
  });

  it('holds at most its bound, dropping the oldest insertion first', () => {
    const s = new ExpiringSet<number>(3, 1_000);
    for (let i = 0; i < 5; i++) s.add(i, 0);
    assert.equal(s.size, 3);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((k) => s.has(k, 1)),
      [false, false, true, true, true],
    );
  });
});
