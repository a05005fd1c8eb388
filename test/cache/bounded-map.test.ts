import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedMap } from '../../src/cache/bounded-map.js';

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
