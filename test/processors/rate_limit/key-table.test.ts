import assert from 'node:assert/strict';
import { KeyTable } from '../../../processors/rate_limit/key-table';
import { BucketPolicy } from '../../../processors/rate_limit/token-bucket';

describe('rate_limit key table', () => {
  const policy = new BucketPolicy(10, 5); // one token per 100 ms, capacity 5

  it('gives each key its own bucket and finds it again', () => {
    const table = new KeyTable(10, policy, 0);
    const a = table.bucketFor('10.0.0.1', 80, 0);
    const b = table.bucketFor('10.0.0.1', 443, 0);
    const c = table.bucketFor(1234, '', 0);
    assert.notEqual(a, b);
    assert.notEqual(a, c);
    assert.equal(table.bucketFor('10.0.0.1', 80, 0), a);
    assert.equal(table.size, 3);
    assert.equal(a.tokens, 5);
  });

  it('charges new keys to the overflow bucket while every tracked key is busy', () => {
    const table = new KeyTable(2, policy, 0);
    table.bucketFor('a', '', 0).tokens = 0;
    table.bucketFor('b', '', 0).tokens = 0;
    const third = table.bucketFor('c', '', 0);
    assert.equal(third, table.overflow);
    assert.equal(table.bucketFor('d', '', 0), table.overflow);
    assert.equal(table.overflowed, 2);
    assert.equal(table.size, 2);
  });

  it('recycles the least recently used key once its bucket is idle', () => {
    const table = new KeyTable(2, policy, 0);
    const a = table.bucketFor('a', '', 0);
    a.tokens = 0;
    const b = table.bucketFor('b', '', 0);
    b.tokens = 0;
    table.bucketFor('a', '', 10); // a is now the most recent; b the least
    // b refills to capacity after 500 ms; a was touched but never refilled past 1 token.
    const c = table.bucketFor('c', '', 500);
    assert.equal(c, b, 'the idle LRU slot is reused');
    assert.equal(c.tokens, 5);
    assert.equal(table.size, 2);
    // b is forgotten: asking for it again needs a slot; a is LRU and full by now -> recycled.
    const again = table.bucketFor('b', '', 2000);
    assert.equal(again, a);
    assert.equal(table.bucketFor('c', '', 2000), c);
    assert.equal(table.overflowed, 0);
  });

  it('keeps LRU order through many touches (bounded, no overflow for idle churn)', () => {
    const table = new KeyTable(100, policy, 0);
    for (let i = 0; i < 10_000; i++) table.bucketFor(i % 250, i % 3, i * 1000);
    assert.equal(table.size, 100);
    assert.equal(table.overflowed, 0);
  });
});
