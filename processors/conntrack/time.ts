/**
 * The clock and timers conntrack runs on. Injected (through the component's container under
 * TIME_SOURCE_TOKEN) so tests and benchmarks drive timeouts, cleanup and flushes by advancing a
 * manual clock instead of sleeping.
 */

export interface IntervalHandle {
  cancel(): void;
}

export interface TimeSource {
  /** Milliseconds since the Unix epoch. Must never go backwards: idle timeouts are measured on it. */
  now(): number;
  /** Calls `callback` every `ms` milliseconds until cancelled. */
  setInterval(callback: () => void, ms: number): IntervalHandle;
}

/** Container token: register a TimeSource under it to replace the system clock. */
export const TIME_SOURCE_TOKEN = 'conntrack:time-source';

/**
 * Monotonic and epoch-aligned: performance.now() does not jump when the wall clock is adjusted,
 * so a step of NTP cannot expire every connection at once.
 */
export const systemTimeSource: TimeSource = {
  now: () => performance.timeOrigin + performance.now(),
  setInterval(callback, ms) {
    const timer = setInterval(callback, ms);
    // The collector's lifecycle, not a pending timer, decides when the process exits.
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};

interface ManualTimer {
  callback: () => void;
  everyMs: number;
  dueMs: number;
  cancelled: boolean;
}

/** A clock that moves only when told to; intervals fire in time order as it advances. */
export class ManualTimeSource implements TimeSource {
  private current: number;
  private timers: ManualTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setInterval(callback: () => void, ms: number): IntervalHandle {
    if (!(ms > 0)) throw new Error(`interval must be positive, got ${ms} ms`);
    const timer: ManualTimer = { callback, everyMs: ms, dueMs: this.current + ms, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Number of live intervals (tests check that shutdown cancels them). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves the clock forward by `ms`, firing every interval that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) if (t.dueMs <= target && (!next || t.dueMs < next.dueMs)) next = t;
      if (!next) break;
      this.current = next.dueMs;
      next.dueMs += next.everyMs;
      next.callback();
    }
    this.current = target;
  }
}
