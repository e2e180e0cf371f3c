import assert from 'node:assert/strict';
import { LruMap } from '../../core/lru';

describe('core/lru LruMap', () => {
  it('holds at most its capacity and evicts the least recently used', () => {
    const lru = new LruMap<number, string>(3);
    lru.set(1, 'a');
    lru.set(2, 'b');
    lru.set(3, 'c');
    assert.equal(lru.get(1), 'a'); // 1 is now the most recent
    lru.set(4, 'd'); // evicts 2
    assert.equal(lru.size, 3);
    assert.equal(lru.peek(2), undefined);
    assert.equal(lru.evictions, 1);
    lru.peek(3); // peeking does not refresh
    lru.set(5, 'e'); // evicts 3
    assert.deepEqual([lru.peek(1), lru.peek(3), lru.peek(4), lru.peek(5)], ['a', undefined, 'd', 'e']);
    lru.set(5, 'E'); // replacing is not an eviction
    assert.equal(lru.evictions, 2);
    assert.throws(() => new LruMap(0), /positive integer/);
  });

  it('stays bounded under a million distinct keys', () => {
    const lru = new LruMap<number, number>(1000);
    for (let i = 0; i < 1_000_000; i++) lru.set(i, i);
    assert.equal(lru.size, 1000);
    assert.equal(lru.evictions, 999_000);
    assert.equal(lru.peek(999_999), 999_999);
  });
});
