/**
 * Events held back in delay mode, released in order of their due time. A binary min-heap on
 * preallocated arrays, ordered by (due time, arrival), with a fixed capacity: pushing into a full
 * queue fails and the caller drops the event. Per key, due times only grow, so each key's events
 * leave in arrival order.
 */
import type { NetworkEvent } from '../../core/events';

export class DelayQueue {
  private readonly events: Array<NetworkEvent | undefined>;
  private readonly due: Float64Array;
  private readonly arrival: Float64Array;
  private count = 0;
  private sequence = 0;

  constructor(readonly capacity: number) {
    this.events = new Array<NetworkEvent | undefined>(capacity).fill(undefined);
    this.due = new Float64Array(capacity);
    this.arrival = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  /** Due time of the next event, Infinity when empty. */
  nextDue(): number {
    return this.count === 0 ? Infinity : this.due[0];
  }

  push(event: NetworkEvent, dueAt: number): boolean {
    if (this.count >= this.capacity) return false;
    let i = this.count++;
    const seq = this.sequence++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.due[parent] < dueAt || (this.due[parent] === dueAt && this.arrival[parent] < seq)) break;
      this.move(parent, i);
      i = parent;
    }
    this.events[i] = event;
    this.due[i] = dueAt;
    this.arrival[i] = seq;
    return true;
  }

  /** Appends every event due at or before `now` to `out`, earliest first. */
  popDue(now: number, out: NetworkEvent[]): void {
    while (this.count > 0 && this.due[0] <= now) out.push(this.popMin());
  }

  private popMin(): NetworkEvent {
    const top = this.events[0]!;
    const last = --this.count;
    const event = this.events[last]!;
    const dueAt = this.due[last];
    const seq = this.arrival[last];
    this.events[last] = undefined;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      let child = left;
      if (right < last && (this.due[right] < this.due[left] || (this.due[right] === this.due[left] && this.arrival[right] < this.arrival[left]))) {
        child = right;
      }
      if (this.due[child] > dueAt || (this.due[child] === dueAt && this.arrival[child] > seq)) break;
      this.move(child, i);
      i = child;
    }
    if (last > 0) {
      this.events[i] = event;
      this.due[i] = dueAt;
      this.arrival[i] = seq;
    }
    return top;
  }

  private move(from: number, to: number): void {
    this.events[to] = this.events[from];
    this.due[to] = this.due[from];
    this.arrival[to] = this.arrival[from];
  }
}
