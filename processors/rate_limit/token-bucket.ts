/**
 * Token bucket arithmetic. Buckets refill lazily (on use) from the elapsed time, so idle keys
 * cost nothing. Tokens may go negative in delay mode: that debt is the events already queued.
 */

export class Bucket {
  tokens: number;
  updatedAt: number;

  constructor(tokens: number, now: number) {
    this.tokens = tokens;
    this.updatedAt = now;
  }
}

export class BucketPolicy {
  readonly ratePerMs: number;

  constructor(readonly eventsPerSecond: number, readonly capacity: number) {
    this.ratePerMs = eventsPerSecond / 1000;
  }

  refill(bucket: Bucket, now: number): void {
    const elapsed = now - bucket.updatedAt;
    if (elapsed <= 0) return;
    const tokens = bucket.tokens + elapsed * this.ratePerMs;
    bucket.tokens = tokens > this.capacity ? this.capacity : tokens;
    bucket.updatedAt = now;
  }

  /** True when the bucket would be full at `now`: forgetting it loses no state. */
  isIdle(bucket: Bucket, now: number): boolean {
    this.refill(bucket, now);
    return bucket.tokens >= this.capacity;
  }

  /** Milliseconds until the bucket holds one whole token (0 when it already does). */
  waitForToken(bucket: Bucket): number {
    return bucket.tokens >= 1 ? 0 : (1 - bucket.tokens) / this.ratePerMs;
  }
}
