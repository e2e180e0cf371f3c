/**
 * The bounded least-recently-used map components share (caches of pids, cgroups, owners, TLS
 * handshakes, metric attribute sets). A Map keeps insertion order, so re-inserting on access
 * makes its first key the least recently used; every operation is O(1) and nothing else is
 * allocated. `peek` reads without refreshing, so a user that only peeks gets a bounded map
 * that forgets the oldest insertion first.
 *
 * Tables on a per-event hot path with their own eviction rules (conntrack's second-chance
 * table, l7's connection table, rate_limit's idle-only key table) keep intrusive lists instead:
 * a touch there is a few pointer writes rather than a Map delete and insert.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  /** Entries pushed out because the cache was full. */
  evictions = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  /** Looks without refreshing recency. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) {
      this.map.delete(key);
    } else if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
      this.evictions++;
    }
    this.map.set(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
