/**
 * The connection table: a hash table with chaining plus per-kind LRU lists, laid out as
 * parallel typed arrays indexed by slot number.
 *
 * Why hand-rolled instead of Map<string, object>: a Map entry with a string key and an object
 * with a dozen numeric fields costs 400+ bytes per connection on V8 (boxed doubles, the key
 * string, the Map's own entry) and allocates a key string per lookup. Here a connection is about
 * 170 bytes of typed-array slots, a lookup hashes five integers, and nothing on the hot path
 * allocates. Addresses and process names are interned ids (see StringPool).
 *
 * Lists: each slot is on exactly one doubly linked list — TCP, UDP, ICMP (live entries) or CLOSED
 * (tombstones of recently closed connections) — or on the free list. Touching a slot moves it to
 * the tail of its list, and the touch time only grows, so every list is ordered by last activity:
 * timeouts expire from the head, and the least recently used live entry is the oldest list head.
 */

export const LIST_TCP = 0;
export const LIST_UDP = 1;
export const LIST_ICMP = 2;
export const LIST_CLOSED = 3;
const LIST_FREE = 255;
const NIL = -1;

export const TRANSPORT_TCP = 0;
export const TRANSPORT_UDP = 1;
export const TRANSPORT_ICMP = 2;

/** Slot flags. */
export const FLAG_SAW_OPEN = 1;
/** startUs is a real start time (open seen, or the receiver told the age), not first sight. */
export const FLAG_START_KNOWN = 2;
export const FLAG_HAS_PEER = 4;

export class ConnTable {
  /** Slots allocated in the arrays below. */
  capacity = 0;
  /** Slots ever handed out (slots below this are in use or on the free list). */
  private used = 0;
  private freeHead = NIL;
  private mask = 0;

  // Key.
  netns = new Uint32Array(0);
  localId = new Int32Array(0);
  remoteId = new Int32Array(0);
  /** localPort << 16 | remotePort; for ICMP echo flows the echo id << 16. */
  ports = new Uint32Array(0);
  transport = new Uint8Array(0);

  // Structure.
  private buckets = new Int32Array(0);
  private hnext = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  list = new Uint8Array(0);
  readonly heads = new Int32Array([NIL, NIL, NIL, NIL]);
  readonly tails = new Int32Array([NIL, NIL, NIL, NIL]);
  readonly counts = new Int32Array(4);

  // Counters and times. Counters are cumulative over the entry's life.
  bytesSent = new Float64Array(0);
  bytesReceived = new Float64Array(0);
  packetsSent = new Float64Array(0);
  packetsReceived = new Float64Array(0);
  retransmits = new Float64Array(0);
  srttUs = new Float64Array(0);
  /** Start of the connection or flow, epoch microseconds (event time). */
  startUs = new Float64Array(0);
  /** Latest event time seen, epoch microseconds. */
  lastEventUs = new Float64Array(0);
  /** Last activity on the table's clock, milliseconds; orders the lists. */
  lastSeenMs = new Float64Array(0);
  cookie = new Float64Array(0);
  cgroupId = new Float64Array(0);
  peerCgroupId = new Float64Array(0);

  // Process and attributes.
  pid = new Int32Array(0);
  tid = new Int32Array(0);
  commId = new Int32Array(0);
  peerPid = new Int32Array(0);
  peerTid = new Int32Array(0);
  peerCommId = new Int32Array(0);
  /** Metric series id, -1 when metrics are off. */
  series = new Int32Array(0);
  /** 0 ipv4, 1 ipv6. */
  networkType = new Uint8Array(0);
  /** 0 unknown, 1 inbound, 2 outbound. */
  direction = new Uint8Array(0);
  /** Close reason code of a tombstone. */
  reason = new Uint8Array(0);
  flags = new Uint8Array(0);

  constructor(readonly limit: number, initialCapacity = 1024) {
    if (!(limit >= 1)) throw new Error(`connection table limit must be at least 1, got ${limit}`);
    this.grow(Math.min(limit, Math.max(16, initialCapacity)));
  }

  /** Live entries (every list but CLOSED). */
  get liveCount(): number {
    return this.counts[LIST_TCP] + this.counts[LIST_UDP] + this.counts[LIST_ICMP];
  }

  find(netns: number, localId: number, remoteId: number, ports: number, transport: number): number {
    let slot = this.buckets[hash(netns, localId, remoteId, ports, transport) & this.mask];
    while (slot !== NIL) {
      if (
        this.ports[slot] === ports &&
        this.remoteId[slot] === remoteId &&
        this.localId[slot] === localId &&
        this.netns[slot] === netns &&
        this.transport[slot] === transport
      ) return slot;
      slot = this.hnext[slot];
    }
    return NIL;
  }

  /**
   * A fresh slot for a key the caller has checked is absent, appended to `list` with zeroed
   * fields. Throws when the table is at its limit: the caller evicts first.
   */
  insert(netns: number, localId: number, remoteId: number, ports: number, transport: number, list: number, nowMs: number): number {
    let slot = this.freeHead;
    if (slot !== NIL) {
      this.freeHead = this.next[slot];
    } else {
      if (this.used === this.capacity) {
        if (this.capacity >= this.limit) throw new Error(`connection table full (${this.limit} slots)`);
        this.grow(Math.min(this.limit, this.capacity * 2));
      }
      slot = this.used++;
    }
    this.netns[slot] = netns;
    this.localId[slot] = localId;
    this.remoteId[slot] = remoteId;
    this.ports[slot] = ports;
    this.transport[slot] = transport;
    const b = hash(netns, localId, remoteId, ports, transport) & this.mask;
    this.hnext[slot] = this.buckets[b];
    this.buckets[b] = slot;

    this.bytesSent[slot] = 0;
    this.bytesReceived[slot] = 0;
    this.packetsSent[slot] = 0;
    this.packetsReceived[slot] = 0;
    this.retransmits[slot] = 0;
    this.srttUs[slot] = 0;
    this.startUs[slot] = 0;
    this.lastEventUs[slot] = 0;
    this.cookie[slot] = 0;
    this.cgroupId[slot] = 0;
    this.peerCgroupId[slot] = 0;
    this.pid[slot] = 0;
    this.tid[slot] = 0;
    this.commId[slot] = NIL;
    this.peerPid[slot] = 0;
    this.peerTid[slot] = 0;
    this.peerCommId[slot] = NIL;
    this.series[slot] = NIL;
    this.networkType[slot] = 0;
    this.direction[slot] = 0;
    this.reason[slot] = 0;
    this.flags[slot] = 0;

    this.lastSeenMs[slot] = nowMs;
    this.append(slot, list);
    return slot;
  }

  /** Unlinks a slot from the hash and its list and frees it. The caller releases pooled ids first. */
  remove(slot: number): void {
    const b = hash(this.netns[slot], this.localId[slot], this.remoteId[slot], this.ports[slot], this.transport[slot]) & this.mask;
    let cur = this.buckets[b];
    if (cur === slot) {
      this.buckets[b] = this.hnext[slot];
    } else {
      while (cur !== NIL && this.hnext[cur] !== slot) cur = this.hnext[cur];
      if (cur !== NIL) this.hnext[cur] = this.hnext[slot];
    }
    this.unlink(slot);
    this.list[slot] = LIST_FREE;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  /** Marks activity: the slot becomes the most recently used of its list. */
  touch(slot: number, nowMs: number): void {
    this.lastSeenMs[slot] = nowMs;
    const list = this.list[slot];
    if (this.tails[list] === slot) return;
    this.unlink(slot);
    this.append(slot, list);
  }

  /** Moves a slot to the tail of another list (e.g. live -> CLOSED). */
  moveTo(slot: number, list: number, nowMs: number): void {
    this.lastSeenMs[slot] = nowMs;
    this.unlink(slot);
    this.append(slot, list);
  }

  isLive(slot: number): boolean {
    return this.list[slot] <= LIST_ICMP;
  }

  /** Slots of a list from least to most recently used; safe against removing the current slot. */
  *slots(list: number): IterableIterator<number> {
    let slot = this.heads[list];
    while (slot !== NIL) {
      const following = this.next[slot];
      yield slot;
      slot = following;
    }
  }

  private append(slot: number, list: number): void {
    this.list[slot] = list;
    const tail = this.tails[list];
    this.prev[slot] = tail;
    this.next[slot] = NIL;
    if (tail === NIL) this.heads[list] = slot;
    else this.next[tail] = slot;
    this.tails[list] = slot;
    this.counts[list]++;
  }

  private unlink(slot: number): void {
    const list = this.list[slot];
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p === NIL) this.heads[list] = n;
    else this.next[p] = n;
    if (n === NIL) this.tails[list] = p;
    else this.prev[n] = p;
    this.counts[list]--;
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    this.netns = resizeU32(this.netns, capacity);
    this.localId = resizeI32(this.localId, capacity);
    this.remoteId = resizeI32(this.remoteId, capacity);
    this.ports = resizeU32(this.ports, capacity);
    this.transport = resizeU8(this.transport, capacity);
    this.hnext = resizeI32(this.hnext, capacity);
    this.prev = resizeI32(this.prev, capacity);
    this.next = resizeI32(this.next, capacity);
    this.list = resizeU8(this.list, capacity);
    this.bytesSent = resizeF64(this.bytesSent, capacity);
    this.bytesReceived = resizeF64(this.bytesReceived, capacity);
    this.packetsSent = resizeF64(this.packetsSent, capacity);
    this.packetsReceived = resizeF64(this.packetsReceived, capacity);
    this.retransmits = resizeF64(this.retransmits, capacity);
    this.srttUs = resizeF64(this.srttUs, capacity);
    this.startUs = resizeF64(this.startUs, capacity);
    this.lastEventUs = resizeF64(this.lastEventUs, capacity);
    this.lastSeenMs = resizeF64(this.lastSeenMs, capacity);
    this.cookie = resizeF64(this.cookie, capacity);
    this.cgroupId = resizeF64(this.cgroupId, capacity);
    this.peerCgroupId = resizeF64(this.peerCgroupId, capacity);
    this.pid = resizeI32(this.pid, capacity);
    this.tid = resizeI32(this.tid, capacity);
    this.commId = resizeI32(this.commId, capacity);
    this.peerPid = resizeI32(this.peerPid, capacity);
    this.peerTid = resizeI32(this.peerTid, capacity);
    this.peerCommId = resizeI32(this.peerCommId, capacity);
    this.series = resizeI32(this.series, capacity);
    this.networkType = resizeU8(this.networkType, capacity);
    this.direction = resizeU8(this.direction, capacity);
    this.reason = resizeU8(this.reason, capacity);
    this.flags = resizeU8(this.flags, capacity);
    this.list.fill(LIST_FREE, old);
    this.capacity = capacity;

    // One bucket per slot keeps chains short (load factor <= 1) for 4 bytes a slot.
    let buckets = 16;
    while (buckets < capacity) buckets *= 2;
    if (buckets !== this.buckets.length) {
      this.buckets = new Int32Array(buckets).fill(NIL);
      this.mask = buckets - 1;
      for (let slot = 0; slot < this.used; slot++) {
        if (this.list[slot] === LIST_FREE) continue;
        const b = hash(this.netns[slot], this.localId[slot], this.remoteId[slot], this.ports[slot], this.transport[slot]) & this.mask;
        this.hnext[slot] = this.buckets[b];
        this.buckets[b] = slot;
      }
    }
  }
}

/** murmur3-style mixing of the five key words; inlined by V8. */
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

function resizeF64(a: Float64Array, n: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}
function resizeI32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}
function resizeU32(a: Uint32Array, n: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}
function resizeU8(a: Uint8Array, n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  b.set(a.subarray(0, Math.min(a.length, n)));
  return b;
}
