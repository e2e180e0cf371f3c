/**
 * Reference-counted string interning. The connection table stores addresses and process names
 * as small integers so a tracked connection costs typed-array slots instead of retained string
 * objects, and the strings that come back out are exactly the ones the receiver sent (no
 * re-formatting of IPv6 addresses that could split a metric series).
 */
/** localNetnsOf: the address is local in more than one namespace. */
export const AMBIGUOUS_NETNS = 0xffffffff;

export class StringPool {
  private readonly ids = new Map<string, number>();
  private strings: string[] = [];
  private refs = new Int32Array(256);
  /** Per id: how many table entries use it as their LOCAL address (see usedAsLocal). */
  private localUses = new Int32Array(256);
  /** Per id: the network namespace where it is a local address, or AMBIGUOUS_NETNS. */
  private localNetns = new Uint32Array(256);
  private readonly freeIds: number[] = [];

  /** The id of `text`, or -1 when it is not pooled (then no connection can refer to it). */
  find(text: string): number {
    const id = this.ids.get(text);
    return id === undefined ? -1 : id;
  }

  /** The id of `text`, pooling it if needed; the caller owns one reference. */
  acquire(text: string): number {
    let id = this.ids.get(text);
    if (id !== undefined) {
      this.refs[id]++;
      return id;
    }
    id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.strings.length;
    if (id >= this.refs.length) {
      this.refs = doubled(this.refs, new Int32Array(this.refs.length * 2));
      this.localUses = doubled(this.localUses, new Int32Array(this.refs.length));
      this.localNetns = doubled(this.localNetns, new Uint32Array(this.refs.length));
    }
    this.strings[id] = text;
    this.refs[id] = 1;
    this.localUses[id] = 0;
    this.ids.set(text, id);
    return id;
  }

  /** Another reference to an id the caller already holds one for. */
  retain(id: number): void {
    this.refs[id]++;
  }

  release(id: number): void {
    if (--this.refs[id] > 0) return;
    this.ids.delete(this.strings[id]);
    this.strings[id] = '';
    this.freeIds.push(id);
  }

  /** Counts (or, with -1, uncounts) a use of `id` as some entry's local address. */
  addLocalUse(id: number, delta: number, netns = 0): void {
    const before = this.localUses[id];
    this.localUses[id] = before + delta;
    if (delta <= 0) return;
    if (before <= 0) this.localNetns[id] = netns;
    else if (this.localNetns[id] !== netns) this.localNetns[id] = AMBIGUOUS_NETNS;
  }

  /**
   * The namespace where this address is some entry's local address, or AMBIGUOUS_NETNS when it
   * is local in several (overlapping private networks) for as long as any of those entries live.
   * A pod's address is local in the pod's namespace only, so this is where the other end of a
   * connection to it lives when both pods are on this host.
   */
  localNetnsOf(id: number): number {
    return this.localNetns[id];
  }

  /**
   * True when some entry has this address as its local address. A connection can only have its
   * other end on this host when its remote address is local here, so peer pairing checks this
   * before spending a table lookup on the mirrored tuple.
   */
  usedAsLocal(id: number): boolean {
    return this.localUses[id] > 0;
  }

  value(id: number): string {
    return this.strings[id];
  }

  /** Distinct strings currently pooled. */
  get size(): number {
    return this.ids.size;
  }

  references(id: number): number {
    return this.refs[id];
  }
}

/** `into` (twice the size) holding `from`'s values. */
function doubled<T extends Int32Array | Uint32Array>(from: T, into: T): T {
  into.set(from);
  return into;
}
