/**
 * The exporter queue/retry helper (the Collector's exporterhelper sending_queue +
 * retry_on_failure, for one process and one event loop).
 *
 * - offer() never blocks and never throws: the caller (an exporter's consume()) returns at once.
 * - Memory is bounded by `capacity`, measured in items (spans, log records, metric points):
 *   when a new request does not fit, the OLDEST waiting requests are dropped to make room.
 * - `consumers` workers send concurrently; a failed send is retried with exponential backoff
 *   (Retry-After wins when the server sends one) until max_elapsed_time, then dropped.
 * - drain() (shutdown) stops intake and keeps sending, retries included, until the queue is
 *   empty or the deadline passes; whatever is left then is dropped and counted. Requests
 *   waiting out a backoff are resent at once, and later retries wait at most
 *   DRAIN_RETRY_INTERVAL_MS: the backend may be back, and the shutdown window is short next to
 *   a backoff (retry_on_failure goes up to 30 s by default).
 * - With `enabled: false` there is no queue: submit() sends (with retries) and the caller waits.
 */
import { nextRetryDelay, type RetryPolicy, type SendOutcome } from './retry';

export type DropReason = 'queue_full' | 'send_failed' | 'retries_exhausted' | 'shutdown';

/** While draining, the longest wait between two attempts of one request. */
export const DRAIN_RETRY_INTERVAL_MS = 250;

export interface SendingQueueOptions<T> {
  enabled: boolean;
  /** Maximum items waiting (not counting those being sent). */
  capacity: number;
  consumers: number;
  retry: RetryPolicy;
  sizeOf(item: T): number;
  /** One attempt. Must not throw; a throw is treated as a permanent failure. */
  send(item: T): Promise<SendOutcome>;
  onSent?(item: T, attempts: number): void;
  onDropped?(item: T, reason: DropReason, error: Error | undefined): void;
  /** A retry is scheduled; for counters and debug logs. */
  onRetry?(item: T, delayMs: number, error: Error): void;
  now?: () => number;
}

export interface SendingQueueStats {
  /** Items waiting. */
  queuedItems: number;
  /** Requests waiting. */
  queuedRequests: number;
  /** Requests being sent or waiting for a retry. */
  inFlight: number;
}

interface Entry<T> {
  item: T;
  size: number;
}

export class SendingQueue<T> {
  /** FIFO as a growable ring: no Array.shift() on the hot path. */
  private buffer: Array<Entry<T> | undefined> = new Array(64);
  private head = 0;
  private count = 0;
  private items = 0;
  private busy = 0;
  private closed = false;
  private aborted = false;
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private idleWaiters: Array<() => void> = [];
  private readonly now: () => number;

  constructor(private readonly options: SendingQueueOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Queues a request (or, with the queue disabled, sends it and resolves when done).
   * Returns false when the request was dropped at once (queue closed, or larger than the queue).
   */
  submit(item: T): boolean | Promise<boolean> {
    if (this.closed) {
      this.options.onDropped?.(item, 'shutdown', undefined);
      return false;
    }
    if (!this.options.enabled) {
      this.busy++;
      return this.deliver(item).finally(() => {
        this.busy--;
        if (this.busy === 0 && this.count === 0) this.wakeIdle();
      });
    }
    const size = Math.max(1, this.options.sizeOf(item));
    if (size > this.options.capacity) {
      this.options.onDropped?.(item, 'queue_full', new Error(`one request of ${size} items exceeds queue_size ${this.options.capacity}`));
      return false;
    }
    while (this.items + size > this.options.capacity && this.count > 0) {
      const oldest = this.popFront()!;
      this.options.onDropped?.(oldest.item, 'queue_full', undefined);
    }
    this.pushBack({ item, size });
    this.pump();
    return true;
  }

  stats(): SendingQueueStats {
    return { queuedItems: this.items, queuedRequests: this.count, inFlight: this.busy };
  }

  /**
   * Stops intake, then sends what is queued until it is all gone or `timeoutMs` passed.
   * Resolves true when everything was delivered or given up normally, false on timeout
   * (what was left is dropped with reason `shutdown`). Idempotent.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    this.wakeSleepers();
    this.pump();
    if (this.count === 0 && this.busy === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      }),
    ]);
    clearTimeout(timer);
    if (!finished) this.abort();
    return finished;
  }

  /** Drops everything waiting and wakes sleeping retries so they give up. */
  private abort(): void {
    this.aborted = true;
    while (this.count > 0) this.options.onDropped?.(this.popFront()!.item, 'shutdown', undefined);
    this.wakeSleepers();
  }

  /** Ends every backoff now: the retries run (or, aborted, give up) at once. */
  private wakeSleepers(): void {
    for (const sleeper of this.sleeping) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleeping.clear();
  }

  private pump(): void {
    while (this.busy < this.options.consumers && this.count > 0) {
      const entry = this.popFront()!;
      this.busy++;
      void this.deliver(entry.item).finally(() => {
        this.busy--;
        this.pump();
        if (this.busy === 0 && this.count === 0) this.wakeIdle();
      });
    }
  }

  /** Sends one request with retries. Resolves true when delivered. Never rejects. */
  private async deliver(item: T): Promise<boolean> {
    const started = this.now();
    let lastError: Error | undefined;
    for (let attempt = 0; ; attempt++) {
      if (this.aborted) {
        this.options.onDropped?.(item, 'shutdown', lastError);
        return false;
      }
      let outcome: SendOutcome;
      try {
        outcome = await this.options.send(item);
      } catch (error) {
        outcome = { ok: false, retryable: false, error: error instanceof Error ? error : new Error(String(error)) };
      }
      if (outcome.ok) {
        this.options.onSent?.(item, attempt + 1);
        return true;
      }
      lastError = outcome.error;
      const delay = nextRetryDelay(this.options.retry, outcome, attempt, this.now() - started);
      if (delay === undefined) {
        const reason: DropReason = outcome.retryable && this.options.retry.enabled ? 'retries_exhausted' : 'send_failed';
        this.options.onDropped?.(item, reason, outcome.error);
        return false;
      }
      this.options.onRetry?.(item, delay, outcome.error);
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.aborted) return Promise.resolve();
    if (this.closed) ms = Math.min(ms, DRAIN_RETRY_INTERVAL_MS);
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleeping.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleeping.add(sleeper);
    });
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private pushBack(entry: Entry<T>): void {
    if (this.count === this.buffer.length) {
      const grown: Array<Entry<T> | undefined> = new Array(this.buffer.length * 2);
      for (let i = 0; i < this.count; i++) grown[i] = this.buffer[(this.head + i) % this.buffer.length];
      this.buffer = grown;
      this.head = 0;
    }
    this.buffer[(this.head + this.count) % this.buffer.length] = entry;
    this.count++;
    this.items += entry.size;
  }

  private popFront(): Entry<T> | undefined {
    if (this.count === 0) return undefined;
    const entry = this.buffer[this.head]!;
    this.buffer[this.head] = undefined;
    this.head = (this.head + 1) % this.buffer.length;
    this.count--;
    this.items -= entry.size;
    return entry;
  }
}
