import assert from 'node:assert/strict';
import {
  FNV_OFFSET_BASIS,
  HASH_BUCKETS,
  MIN_NONZERO_PERCENTAGE,
  fnvByte,
  fnvU16LE,
  fnvWordLE,
  hashBytes,
  scaledThreshold,
} from '../../../processors/probabilistic_sampler/hash';

function fnv1a(bytes: Iterable<number>): number {
  let hash = FNV_OFFSET_BASIS;
  for (const b of bytes) hash = fnvByte(hash, b);
  return hash;
}

describe('probabilistic_sampler hash', () => {
  it('is FNV-1a 32 (published test vectors)', () => {
    assert.equal(fnv1a([]), 0x811c9dc5);
    assert.equal(fnv1a(Buffer.from('a')), 0xe40c292c);
    assert.equal(fnv1a(Buffer.from('foobar')), 0xbf9cf968);
  });

  it('prefixes the seed as four little-endian bytes, as the Collector does', () => {
    const key = [0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36];
    const seed = 0x01020304;
    assert.equal(hashBytes(seed, key), fnv1a([0x04, 0x03, 0x02, 0x01, ...key]));
    assert.notEqual(hashBytes(1, key), hashBytes(2, key));
  });

  it('feeds words and u16s least significant byte first', () => {
    assert.equal(fnvWordLE(FNV_OFFSET_BASIS, 0xdeadbeef), fnv1a([0xef, 0xbe, 0xad, 0xde]));
    assert.equal(fnvU16LE(FNV_OFFSET_BASIS, 0x1f90), fnv1a([0x90, 0x1f]));
  });

  it('scales percentages to 14-bit buckets with float32 truncation', () => {
    assert.equal(scaledThreshold(100), HASH_BUCKETS);
    assert.equal(scaledThreshold(150), HASH_BUCKETS);
    assert.equal(scaledThreshold(0), 0);
    assert.equal(scaledThreshold(10), 1638);
    assert.equal(scaledThreshold(50), 8192);
    assert.equal(scaledThreshold(1), 163);
    assert.equal(scaledThreshold(MIN_NONZERO_PERCENTAGE), 1);
    assert.equal(scaledThreshold(0.0061), 0);
  });
});
