import assert from 'node:assert/strict';
import { Bucket, BucketPolicy } from '../../../processors/rate_limit/token-bucket';

describe('rate_limit token bucket', () => {
  it('refills at the rate, up to the capacity', () => {
    const policy = new BucketPolicy(100, 10); // 0.1 token per ms
    const bucket = new Bucket(0, 0);
    policy.refill(bucket, 50);
    assert.equal(bucket.tokens, 5);
    policy.refill(bucket, 50);
    assert.equal(bucket.tokens, 5, 'no time passed');
    policy.refill(bucket, 10_000);
    assert.equal(bucket.tokens, 10, 'capped at capacity');
  });

  it('ignores a clock that goes backwards', () => {
    const policy = new BucketPolicy(100, 10);
    const bucket = new Bucket(3, 100);
    policy.refill(bucket, 90);
    assert.equal(bucket.tokens, 3);
    assert.equal(bucket.updatedAt, 100);
  });

  it('pays back debt before filling, and knows how long until the next token', () => {
    const policy = new BucketPolicy(2, 5); // one token per 500 ms
    const bucket = new Bucket(-1.5, 0);
    assert.equal(policy.waitForToken(bucket), 1250);
    policy.refill(bucket, 1250);
    assert.equal(bucket.tokens, 1);
    assert.equal(policy.waitForToken(bucket), 0);
  });

  it('is idle only when full', () => {
    const policy = new BucketPolicy(1000, 4);
    const bucket = new Bucket(0, 0);
    assert.equal(policy.isIdle(bucket, 3), false);
    assert.equal(policy.isIdle(bucket, 4), true);
  });
});
