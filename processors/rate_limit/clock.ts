/**
 * Time as the rate limiter sees it: a monotonic millisecond clock plus one-shot timers, behind
 * an interface so tests (and plugin authors' tests) drive time by hand with ManualClock.
 * Components resolve it from their container under CLOCK_TOKEN and fall back to systemClock.
 */
import { performance } from 'node:perf_hooks';
import type { DependencyContainer } from 'tsyringe';

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds (any origin). */
  now(): number;
  /** Calls `callback` once, `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** tsyringe token: register a Clock on a component's container to replace the system clock. */
export const CLOCK_TOKEN = 'network-observer:clock';

class SystemClock implements Clock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return performance.now();
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    // Not unref'd on purpose: a pending timer means queued events a shutdown is waiting for.
    this.timers.set(id, setTimeout(() => {
      this.timers.delete(id);
      callback();
    }, Math.max(0, delayMs)));
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    const timer = this.timers.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(handle.id);
    }
  }
}

export const systemClock: Clock = new SystemClock();

export function clockFrom(container: DependencyContainer): Clock {
  return container.isRegistered(CLOCK_TOKEN, true) ? container.resolve<Clock>(CLOCK_TOKEN) : systemClock;
}

/** A clock that moves only when told to; due timers run inside `advance`, in time order. */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly pending = new Map<number, { due: number; callback: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { due: this.time + Math.max(0, delayMs), callback });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.pending.delete(handle.id);
  }

  /** Timers waiting to fire. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let nextId = -1;
      let nextDue = Infinity;
      for (const [id, timer] of this.pending) {
        if (timer.due <= target && (timer.due < nextDue || (timer.due === nextDue && id < nextId))) {
          nextId = id;
          nextDue = timer.due;
        }
      }
      if (nextId < 0) break;
      const timer = this.pending.get(nextId)!;
      this.pending.delete(nextId);
      this.time = Math.max(this.time, timer.due);
      timer.callback();
    }
    this.time = target;
  }
}
