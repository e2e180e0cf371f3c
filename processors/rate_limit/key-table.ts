/**
 * Per-key buckets with a hard bound on the number of keys. Keys live in an LRU list; when the
 * table is full, a new key takes over the least recently used key's slot only if that bucket is
 * idle (refilled to capacity, so forgetting it changes nothing). Otherwise the new key is charged
 * to one shared overflow bucket: churning through many keys can never mint fresh, full buckets,
 * and memory stays at max_keys buckets.
 */
import { Bucket, type BucketPolicy } from './token-bucket';

export type KeyPart = string | number;

export class KeyedBucket extends Bucket {
  primary: KeyPart = '';
  secondary: KeyPart = '';
  /** Towards the most recently used end. */
  newer: KeyedBucket | null = null;
  /** Towards the least recently used end. */
  older: KeyedBucket | null = null;
}

export class KeyTable {
  private readonly index = new Map<KeyPart, Map<KeyPart, KeyedBucket>>();
  private newest: KeyedBucket | null = null;
  private oldest: KeyedBucket | null = null;
  private count = 0;
  /** Shared by keys that found the table full of busy keys. */
  readonly overflow: Bucket;
  /** Lookups charged to the overflow bucket so far. */
  overflowed = 0;

  constructor(private readonly maxKeys: number, private readonly policy: BucketPolicy, now: number) {
    this.overflow = new Bucket(policy.capacity, now);
  }

  get size(): number {
    return this.count;
  }

  /** The bucket for (primary, secondary); allocates only when a new key gets a fresh slot. */
  bucketFor(primary: KeyPart, secondary: KeyPart, now: number): Bucket {
    let inner = this.index.get(primary);
    const existing = inner?.get(secondary);
    if (existing !== undefined) {
      this.touch(existing);
      return existing;
    }
    let node: KeyedBucket;
    if (this.count < this.maxKeys) {
      node = new KeyedBucket(this.policy.capacity, now);
      this.count++;
    } else {
      const victim = this.oldest!;
      if (!this.policy.isIdle(victim, now)) {
        this.overflowed++;
        return this.overflow;
      }
      this.unlink(victim);
      this.forget(victim);
      node = victim;
      node.tokens = this.policy.capacity;
      node.updatedAt = now;
    }
    node.primary = primary;
    node.secondary = secondary;
    if (inner === undefined) {
      inner = new Map();
      this.index.set(primary, inner);
    }
    inner.set(secondary, node);
    this.pushNewest(node);
    return node;
  }

  private forget(node: KeyedBucket): void {
    const inner = this.index.get(node.primary);
    if (inner === undefined) return;
    inner.delete(node.secondary);
    if (inner.size === 0) this.index.delete(node.primary);
  }

  private touch(node: KeyedBucket): void {
    if (this.newest === node) return;
    this.unlink(node);
    this.pushNewest(node);
  }

  private unlink(node: KeyedBucket): void {
    if (node.newer !== null) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older !== null) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = null;
    node.older = null;
  }

  private pushNewest(node: KeyedBucket): void {
    node.older = this.newest;
    node.newer = null;
    if (this.newest !== null) this.newest.newer = node;
    this.newest = node;
    if (this.oldest === null) this.oldest = node;
  }
}
