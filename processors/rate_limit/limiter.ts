/**
 * The rate limiter: one token bucket, or one per key, charged one token per event. Events
 * without a token are dropped, or in delay mode held in a bounded queue until their bucket has
 * refilled — at most max_delay, at most max_queued_events, otherwise dropped after all.
 */
import * as events from '../../core/events';
import type { NetworkEvent } from '../../core/events';
import type { Logger } from '../../core/logger';
import type { ComponentTelemetry } from '../../core/telemetry';
import type { Clock, Timer } from '../../core/clock';
import { DelayQueue } from './delay-queue';
import { KeyTable, type KeyPart } from './key-table';
import { Bucket, BucketPolicy } from './token-bucket';

export type RateLimitKey = 'none' | 'process' | 'pod' | 'destination';
export type RateLimitBehavior = 'drop' | 'delay';

export interface RateLimiterOptions {
  eventsPerSecond: number;
  /** Bucket capacity in events (already resolved: at least 1). */
  burst: number;
  key: RateLimitKey;
  maxKeys: number;
  behavior: RateLimitBehavior;
  maxDelayMs: number;
  maxQueuedEvents: number;
}

// Read once: under the CommonJS interop every use of an imported name is a getter call.
const { isL7Event } = events;

/**
 * Real timers can fire up to a millisecond before the clock reads their due time (libuv checks
 * against a cached loop time); releasing that early keeps one wake-up per due time.
 */
const TIMER_SLACK_MS = 1;

/** The capacity a `burst` setting means: 0 is one second's worth of events, at least one. */
export function effectiveBurst(burst: number, eventsPerSecond: number): number {
  return burst > 0 ? burst : Math.max(1, Math.ceil(eventsPerSecond));
}

export class RateLimiter {
  private readonly policy: BucketPolicy;
  private readonly single: Bucket | undefined;
  private readonly table: KeyTable | undefined;
  private readonly queue: DelayQueue | undefined;
  private timer: Timer | undefined;
  private timerDue = Infinity;
  private stopping = false;
  private drained: (() => void) | undefined;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly options: RateLimiterOptions,
    private readonly clock: Clock,
    private readonly telemetry: ComponentTelemetry,
    private readonly logger: Logger,
    /** Passes released (delayed) events on; may return a promise the shutdown waits for. */
    private readonly release: (batch: NetworkEvent[]) => void | Promise<void>,
  ) {
    const now = clock.now();
    this.policy = new BucketPolicy(options.eventsPerSecond, options.burst);
    if (options.key === 'none') this.single = new Bucket(options.burst, now);
    else this.table = new KeyTable(options.maxKeys, this.policy, now);
    if (options.behavior === 'delay') this.queue = new DelayQueue(options.maxQueuedEvents);
  }

  /** Keys with their own bucket (0 without per-key limiting). */
  get keys(): number {
    return this.table?.size ?? 0;
  }

  /** Events waiting in the delay queue. */
  get queued(): number {
    return this.queue?.size ?? 0;
  }

  /** Events charged to the shared overflow bucket because the key table was full. */
  get overflowed(): number {
    return this.table?.overflowed ?? 0;
  }

  /**
   * Charges every event of `batch`; returns those that pass now (the batch itself when all do,
   * so the common case allocates nothing). Dropped and delayed events are counted.
   */
  admit(batch: NetworkEvent[]): NetworkEvent[] {
    const now = this.clock.now();
    const overflowedBefore = this.overflowed;
    let out: NetworkEvent[] | undefined;
    let dropped = 0;
    let delayed = 0;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      const bucket = this.bucketFor(event, now);
      this.policy.refill(bucket, now);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        if (out !== undefined) out.push(event);
        continue;
      }
      // From here on the batch is not passed whole: copy what passed so far, once.
      if (out === undefined) out = batch.slice(0, i);
      if (this.queue !== undefined && !this.stopping && this.hold(event, bucket, now)) delayed++;
      else dropped++;
    }
    if (dropped > 0) this.telemetry.dropped(dropped);
    if (this.overflowed !== overflowedBefore) this.telemetry.add('overflow', this.overflowed - overflowedBefore);
    if (delayed > 0) {
      this.telemetry.add('delayed', delayed);
      this.armTimer(now);
    }
    return out ?? batch;
  }

  /**
   * Stops taking events into the delay queue and resolves once every queued event is released
   * (by construction within max_delay) and passed on.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.queue !== undefined && this.queue.size > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private hold(event: NetworkEvent, bucket: Bucket, now: number): boolean {
    const wait = this.policy.waitForToken(bucket);
    if (wait > this.options.maxDelayMs || !this.queue!.push(event, now + wait)) return false;
    // The token is spent now (the bucket goes into debt), so later events queue behind this one.
    bucket.tokens -= 1;
    return true;
  }

  private bucketFor(event: NetworkEvent, now: number): Bucket {
    if (this.single !== undefined) return this.single;
    let primary: KeyPart;
    let secondary: KeyPart = '';
    switch (this.options.key) {
      case 'process':
        primary = event.process.pid;
        break;
      case 'pod':
        primary = event.k8s?.namespace ?? '';
        secondary = event.k8s?.podName ?? '';
        break;
      default: {
        // The server side of the exchange: what the observed process connected to, or itself
        // when it accepted.
        const local = isL7Event(event) ? event.side === 'server' : event.direction === 'inbound';
        primary = local ? event.localAddress : event.remoteAddress;
        secondary = local ? event.localPort : event.remotePort;
      }
    }
    return this.table!.bucketFor(primary, secondary, now);
  }

  private armTimer(now: number): void {
    const due = this.queue!.nextDue();
    if (due === Infinity || due >= this.timerDue) return;
    this.timer?.cancel();
    this.timerDue = due;
    this.timer = this.clock.setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(due - now)));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    const now = this.clock.now();
    const ready: NetworkEvent[] = [];
    this.queue!.popDue(now + TIMER_SLACK_MS, ready);
    if (ready.length > 0) this.pass(ready);
    if (this.queue!.size > 0) {
      this.armTimer(now);
    } else if (this.drained !== undefined) {
      const resolve = this.drained;
      this.drained = undefined;
      resolve();
    }
  }

  private pass(batch: NetworkEvent[]): void {
    let result: void | Promise<void>;
    try {
      result = this.release(batch);
    } catch (error) {
      this.failed(batch.length, error as Error);
      return;
    }
    if (result instanceof Promise) {
      const tracked: Promise<void> = result.then(
        () => undefined,
        (error: Error) => this.failed(batch.length, error),
      ).finally(() => this.inflight.delete(tracked));
      this.inflight.add(tracked);
    }
  }

  private failed(count: number, error: Error): void {
    this.telemetry.errors();
    this.logger.error(`passing on ${count} delayed event(s) failed: ${error.message}`);
  }
}
