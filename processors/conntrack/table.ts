/**
 * The connection table: a hash table with chaining plus per-kind LRU lists, stored as
 * fixed-size records in three typed arrays indexed by slot number.
 *
 * Why hand-rolled instead of Map<string, object>: a Map entry with a string key and an object
 * with a dozen numeric fields costs 400+ bytes per connection on V8 (boxed doubles, the key
 * string, the Map's own entry) and allocates a key string per lookup. Here a connection is 164
 * bytes of typed arrays, a lookup hashes five integers, and nothing on the hot path allocates.
 * Addresses and process names are interned ids (see StringPool).
 *
 * Records, not one array per field: a lookup or update touches one slot at a random place in a
 * table bigger than the CPU cache, so the fields it needs must share cache lines. The key and
 * the list links and flags of a slot fill exactly one 32-byte run of `keys`; counters and times
 * are 96 bytes of `f64`; process ids, series and small enums are 32 bytes of `i32`.
 *
 * Lists: each slot is on exactly one doubly linked list — TCP, UDP, ICMP (live entries) or CLOSED
 * (tombstones of recently closed connections, in close order) — or on the free list.
 *
 * LRU by second chance (CLOCK): touching a slot records the time and sets a "referenced" bit in
 * the key word the lookup just read, instead of moving the slot to the tail, which would chase
 * its two neighbours and the tail through three more cache misses on every event. Eviction takes
 * the head of a list; a referenced head gets its bit cleared and goes to the tail (its second
 * chance); the first unreferenced head is the victim. That is the classic approximation of LRU
 * (as in the kernel's page cache): an entry used since it was last passed over is never evicted
 * before one that was not.
 */

export const LIST_TCP = 0;
export const LIST_UDP = 1;
export const LIST_ICMP = 2;
export const LIST_CLOSED = 3;
const LIST_FREE = 255;
export const NIL = -1;

export const TRANSPORT_TCP = 0;
export const TRANSPORT_UDP = 1;
export const TRANSPORT_ICMP = 2;

// keys: 8 int32 per slot.
export const K_STRIDE = 8;
const K_NETNS = 0;
const K_LOCAL = 1;
const K_REMOTE = 2;
/** localPort << 16 | remotePort (as int32); for ICMP echo flows the echo id << 16. */
const K_PORTS = 3;
/**
 * transport | list << 8 | referenced bit (16) | close reason << 17 (4 bits) | flags << 24.
 * Flags and reason live here, in the word every lookup has just read, so reading or setting
 * them costs no further cache line.
 */
const K_KIND = 4;
const REFERENCED = 1 << 16;
const REASON_SHIFT = 17;
const REASON_MASK = 15 << REASON_SHIFT;
const KEEP_ON_APPEND = 0xff | REFERENCED | REASON_MASK | (0xff << 24);
const K_HNEXT = 5;
const K_PREV = 6;
const K_NEXT = 7;

// f64: 12 float64 per slot. Counters are cumulative over the entry's life.
export const F_STRIDE = 12;
export const F_BYTES_SENT = 0;
export const F_BYTES_RECEIVED = 1;
export const F_PACKETS_SENT = 2;
export const F_PACKETS_RECEIVED = 3;
export const F_RETRANSMITS = 4;
export const F_SRTT_US = 5;
/** Start of the connection or flow, epoch microseconds (event time). */
export const F_START_US = 6;
/** Latest event time seen, epoch microseconds. */
export const F_LAST_EVENT_US = 7;
/** Last activity on the table's clock, milliseconds; orders the lists. */
export const F_LAST_SEEN_MS = 8;
export const F_COOKIE = 9;
export const F_CGROUP = 10;
export const F_PEER_CGROUP = 11;

// i32: 8 int32 per slot.
export const I_STRIDE = 8;
export const I_PID = 0;
export const I_TID = 1;
/** Pooled id of the process name, -1 when unknown. */
export const I_COMM = 2;
export const I_PEER_PID = 3;
export const I_PEER_TID = 4;
export const I_PEER_COMM = 5;
/** Metric series, -1 when metrics are off. */
export const I_SERIES = 6;
/** networkType (bit 0) | direction << 1 (2 bits). */
export const I_META = 7;

/** Slot flags (in the key record). */
export const FLAG_SAW_OPEN = 1;
/** F_START_US is a real start time (open seen, or the receiver told the age), not first sight. */
export const FLAG_START_KNOWN = 2;
export const FLAG_HAS_PEER = 4;
export const FLAG_K8S = 8;
/** I_PID is set: events need not look at the process record again. */
export const FLAG_PID_KNOWN = 16;

export class ConnTable {
  /** Slots allocated. */
  capacity = 0;
  /** Slots ever handed out (slots below this are in use or on the free list). */
  private used = 0;
  private freeHead = NIL;
  private mask = 0;
  private buckets = new Int32Array(0);

  /** Replaced when the table grows: read these after any insert, never cache them across one. */
  keys = new Int32Array(0);
  f64 = new Float64Array(0);
  i32 = new Int32Array(0);

  readonly heads = new Int32Array([NIL, NIL, NIL, NIL]);
  readonly tails = new Int32Array([NIL, NIL, NIL, NIL]);
  readonly counts = new Int32Array(4);

  constructor(readonly limit: number, initialCapacity = 1024) {
    if (!(limit >= 1)) throw new Error(`connection table limit must be at least 1, got ${limit}`);
    this.grow(Math.min(limit, Math.max(16, initialCapacity)));
  }

  /** Live entries (every list but CLOSED). */
  get liveCount(): number {
    return this.counts[LIST_TCP] + this.counts[LIST_UDP] + this.counts[LIST_ICMP];
  }

  /** `netns` and `ports` may be uint32; they are compared as int32. */
  find(netns: number, localId: number, remoteId: number, ports: number, transport: number): number {
    netns |= 0;
    ports |= 0;
    const keys = this.keys;
    let slot = this.buckets[hash(netns, localId, remoteId, ports, transport) & this.mask];
    while (slot !== NIL) {
      const o = slot * K_STRIDE;
      if (
        keys[o + K_PORTS] === ports &&
        keys[o + K_REMOTE] === remoteId &&
        keys[o + K_LOCAL] === localId &&
        keys[o + K_NETNS] === netns &&
        (keys[o + K_KIND] & 0xff) === transport
      ) return slot;
      slot = keys[o + K_HNEXT];
    }
    return NIL;
  }

  /**
   * A fresh slot for a key the caller has checked is absent, appended to `list`, its fields
   * zeroed (ids -1). Throws when the table is at its limit: the caller evicts first.
   */
  insert(netns: number, localId: number, remoteId: number, ports: number, transport: number, list: number, nowMs: number): number {
    let slot = this.freeHead;
    if (slot !== NIL) {
      this.freeHead = this.keys[slot * K_STRIDE + K_NEXT];
    } else {
      if (this.used === this.capacity) {
        if (this.capacity >= this.limit) throw new Error(`connection table full (${this.limit} slots)`);
        this.grow(Math.min(this.limit, this.capacity * 2));
      }
      slot = this.used++;
    }
    netns |= 0;
    ports |= 0;
    const keys = this.keys;
    const o = slot * K_STRIDE;
    keys[o + K_NETNS] = netns;
    keys[o + K_LOCAL] = localId;
    keys[o + K_REMOTE] = remoteId;
    keys[o + K_PORTS] = ports;
    keys[o + K_KIND] = transport & 0xff;
    const b = hash(netns, localId, remoteId, ports, transport) & this.mask;
    keys[o + K_HNEXT] = this.buckets[b];
    this.buckets[b] = slot;

    this.f64.fill(0, slot * F_STRIDE, slot * F_STRIDE + F_STRIDE);
    this.f64[slot * F_STRIDE + F_LAST_SEEN_MS] = nowMs;
    const i = slot * I_STRIDE;
    const i32 = this.i32;
    i32[i + I_PID] = 0;
    i32[i + I_TID] = 0;
    i32[i + I_COMM] = NIL;
    i32[i + I_PEER_PID] = 0;
    i32[i + I_PEER_TID] = 0;
    i32[i + I_PEER_COMM] = NIL;
    i32[i + I_SERIES] = NIL;
    i32[i + I_META] = 0;
    this.append(slot, list);
    return slot;
  }

  /** Unlinks a slot from the hash and its list and frees it. The caller releases pooled ids first. */
  remove(slot: number): void {
    const keys = this.keys;
    const o = slot * K_STRIDE;
    const b = hash(keys[o + K_NETNS], keys[o + K_LOCAL], keys[o + K_REMOTE], keys[o + K_PORTS], keys[o + K_KIND] & 0xff) & this.mask;
    let cur = this.buckets[b];
    if (cur === slot) {
      this.buckets[b] = keys[o + K_HNEXT];
    } else {
      while (cur !== NIL && keys[cur * K_STRIDE + K_HNEXT] !== slot) cur = keys[cur * K_STRIDE + K_HNEXT];
      if (cur !== NIL) keys[cur * K_STRIDE + K_HNEXT] = keys[o + K_HNEXT];
    }
    this.unlink(slot);
    keys[o + K_KIND] = (keys[o + K_KIND] & 0xff) | (LIST_FREE << 8);
    keys[o + K_NEXT] = this.freeHead;
    this.freeHead = slot;
  }

  /** Marks activity: records the time and gives the slot a second chance against eviction. */
  touch(slot: number, nowMs: number): void {
    this.f64[slot * F_STRIDE + F_LAST_SEEN_MS] = nowMs;
    this.keys[slot * K_STRIDE + K_KIND] |= REFERENCED;
  }

  /**
   * The eviction candidate of a list: its first head not referenced since it was last passed
   * over. Referenced heads lose the bit and move to the tail on the way. NIL for an empty list.
   */
  evictionCandidate(list: number): number {
    const keys = this.keys;
    for (;;) {
      const head = this.heads[list];
      if (head === NIL) return NIL;
      const k = head * K_STRIDE + K_KIND;
      if ((keys[k] & REFERENCED) === 0) return head;
      keys[k] &= ~REFERENCED;
      if (this.tails[list] === head) return head;
      this.unlink(head);
      this.append(head, list);
    }
  }

  /** Moves a slot to the tail of another list (e.g. live -> CLOSED). */
  moveTo(slot: number, list: number, nowMs: number): void {
    this.f64[slot * F_STRIDE + F_LAST_SEEN_MS] = nowMs;
    this.unlink(slot);
    this.append(slot, list);
  }

  list(slot: number): number {
    return (this.keys[slot * K_STRIDE + K_KIND] >>> 8) & 0xff;
  }

  isLive(slot: number): boolean {
    return ((this.keys[slot * K_STRIDE + K_KIND] >>> 8) & 0xff) <= LIST_ICMP;
  }

  transport(slot: number): number {
    return this.keys[slot * K_STRIDE + K_KIND] & 0xff;
  }

  netns(slot: number): number {
    return this.keys[slot * K_STRIDE + K_NETNS] >>> 0;
  }

  localId(slot: number): number {
    return this.keys[slot * K_STRIDE + K_LOCAL];
  }

  remoteId(slot: number): number {
    return this.keys[slot * K_STRIDE + K_REMOTE];
  }

  ports(slot: number): number {
    return this.keys[slot * K_STRIDE + K_PORTS] >>> 0;
  }

  next(slot: number): number {
    return this.keys[slot * K_STRIDE + K_NEXT];
  }

  lastSeenMs(slot: number): number {
    return this.f64[slot * F_STRIDE + F_LAST_SEEN_MS];
  }

  flags(slot: number): number {
    return this.keys[slot * K_STRIDE + K_KIND] >>> 24;
  }

  addFlags(slot: number, flags: number): void {
    this.keys[slot * K_STRIDE + K_KIND] |= flags << 24;
  }

  networkType(slot: number): number {
    return this.i32[slot * I_STRIDE + I_META] & 1;
  }

  direction(slot: number): number {
    return (this.i32[slot * I_STRIDE + I_META] >>> 1) & 3;
  }

  reason(slot: number): number {
    return (this.keys[slot * K_STRIDE + K_KIND] & REASON_MASK) >>> REASON_SHIFT;
  }

  setNetworkTypeAndDirection(slot: number, networkType: number, direction: number): void {
    const i = slot * I_STRIDE + I_META;
    this.i32[i] = (this.i32[i] & ~7) | (networkType & 1) | ((direction & 3) << 1);
  }

  setReason(slot: number, reason: number): void {
    const k = slot * K_STRIDE + K_KIND;
    this.keys[k] = (this.keys[k] & ~REASON_MASK) | ((reason & 15) << REASON_SHIFT);
  }

  /** Slots of a list from least to most recently used; safe against removing the current slot. */
  *slots(list: number): IterableIterator<number> {
    let slot = this.heads[list];
    while (slot !== NIL) {
      const following = this.keys[slot * K_STRIDE + K_NEXT];
      yield slot;
      slot = following;
    }
  }

  private append(slot: number, list: number): void {
    const keys = this.keys;
    const o = slot * K_STRIDE;
    keys[o + K_KIND] = (keys[o + K_KIND] & KEEP_ON_APPEND) | (list << 8);
    const tail = this.tails[list];
    keys[o + K_PREV] = tail;
    keys[o + K_NEXT] = NIL;
    if (tail === NIL) this.heads[list] = slot;
    else keys[tail * K_STRIDE + K_NEXT] = slot;
    this.tails[list] = slot;
    this.counts[list]++;
  }

  private unlink(slot: number): void {
    const keys = this.keys;
    const o = slot * K_STRIDE;
    const list = (keys[o + K_KIND] >>> 8) & 0xff;
    const p = keys[o + K_PREV];
    const n = keys[o + K_NEXT];
    if (p === NIL) this.heads[list] = n;
    else keys[p * K_STRIDE + K_NEXT] = n;
    if (n === NIL) this.tails[list] = p;
    else keys[n * K_STRIDE + K_PREV] = p;
    this.counts[list]--;
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    const keys = new Int32Array(capacity * K_STRIDE);
    keys.set(this.keys);
    for (let slot = old; slot < capacity; slot++) keys[slot * K_STRIDE + K_KIND] = LIST_FREE << 8;
    this.keys = keys;
    const f64 = new Float64Array(capacity * F_STRIDE);
    f64.set(this.f64);
    this.f64 = f64;
    const i32 = new Int32Array(capacity * I_STRIDE);
    i32.set(this.i32);
    this.i32 = i32;
    this.capacity = capacity;

    // One bucket per slot keeps chains short (load factor <= 1) for 4 bytes a slot.
    let buckets = 16;
    while (buckets < capacity) buckets *= 2;
    if (buckets !== this.buckets.length) {
      this.buckets = new Int32Array(buckets).fill(NIL);
      this.mask = buckets - 1;
      for (let slot = 0; slot < this.used; slot++) {
        const o = slot * K_STRIDE;
        if (((keys[o + K_KIND] >>> 8) & 0xff) === LIST_FREE) continue;
        const b = hash(keys[o + K_NETNS], keys[o + K_LOCAL], keys[o + K_REMOTE], keys[o + K_PORTS], keys[o + K_KIND] & 0xff) & this.mask;
        keys[o + K_HNEXT] = this.buckets[b];
        this.buckets[b] = slot;
      }
    }
  }
}

/** murmur3-style mixing of the five key words (all int32). */
function hash(netns: number, localId: number, remoteId: number, ports: number, transport: number): number {
  let h = Math.imul(netns ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h ^= Math.imul(localId + 0x7f4a7c15, 0xcc9e2d51);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h ^= Math.imul(remoteId + 0x165667b1, 0x1b873593);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h ^= Math.imul(ports, 0xcc9e2d51);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h ^= transport;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
