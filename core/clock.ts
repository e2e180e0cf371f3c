/**
 * The one clock components run on: monotonic time for timeouts and rates, wall time for
 * timestamps, and timers. Components take it from `settings.clock`, which the runtime resolves
 * from the component's container under CLOCK_TOKEN; a test registers a ManualClock
 * (core/testing) there and drives time by hand instead of sleeping.
 */
import { performance } from 'node:perf_hooks';
import type { DependencyContainer } from 'tsyringe';

/** A pending timer or interval. Cancelling twice, or after it fired, is harmless. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /**
   * Monotonic milliseconds, aligned with the Unix epoch when the process started: never goes
   * backwards, so an NTP step cannot expire every idle entry at once. Measure intervals on it.
   */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch (follows NTP): for timestamps people read. */
  wallNow(): number;
  /**
   * Calls `callback` once, `delayMs` from now. Keeps the process alive while pending: a pending
   * one-shot timer stands for held work (delayed events) that shutdown waits for.
   */
  setTimeout(callback: () => void, delayMs: number): Timer;
  /**
   * Calls `callback` every `intervalMs` until cancelled. Does not keep the process alive: the
   * component lifecycle, not a housekeeping timer, decides when the process exits.
   */
  setInterval(callback: () => void, intervalMs: number): Timer;
}

/** tsyringe token of the Clock; register one on a component's container to replace it. */
export const CLOCK_TOKEN = 'network-observer:clock';

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  wallNow: () => Date.now(),
  setTimeout(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  },
  setInterval(callback, intervalMs) {
    const timer = setInterval(callback, intervalMs);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};

/** The clock registered on `container` or one of its parents; the system clock otherwise. */
export function clockFrom(container: DependencyContainer): Clock {
  return container.isRegistered(CLOCK_TOKEN, true) ? container.resolve<Clock>(CLOCK_TOKEN) : systemClock;
}
