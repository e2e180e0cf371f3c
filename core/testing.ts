/**
 * Helpers for testing components outside a running collector: what a plugin author needs to
 * unit-test a factory, and what our own tests use. Part of the public API.
 */
import 'reflect-metadata';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { CLOCK_TOKEN, type Clock, type Timer } from './clock';
import type { ComponentId, ComponentKind, ComponentSettings, Consumer, Host } from './component';
import type { NetworkEvent } from './events';
import { silentLogger, type Logger } from './logger';
import { ComponentRegistry } from './registry';
import { ComponentTelemetry } from './telemetry';

export function makeComponentId(kind: ComponentKind, key: string): ComponentId {
  const slash = key.indexOf('/');
  const type = slash < 0 ? key : key.slice(0, slash);
  const name = slash < 0 ? '' : key.slice(slash + 1);
  return { kind, type, name, key };
}

/**
 * Settings as the runtime builds them, in a registry of their own: register stand-ins (a
 * ManualClock under CLOCK_TOKEN) on `settings.container` before creating the component.
 */
export function createTestSettings(kind: ComponentKind, key: string, logger: Logger = silentLogger): ComponentSettings {
  const id = makeComponentId(kind, key);
  return new ComponentRegistry().instanceContainer({ id, logger, telemetry: new ComponentTelemetry(`${kind}/${key}`) });
}

/** Test settings whose component runs on a ManualClock starting at `startMs`: timers fire only when the test advances it. */
export function createClockedTestSettings(kind: ComponentKind, key: string, startMs = 0): { settings: ComponentSettings; clock: ManualClock } {
  const settings = createTestSettings(kind, key);
  const clock = new ManualClock(startMs);
  settings.container.register(CLOCK_TOKEN, { useValue: clock });
  return { settings, clock };
}

/** A consumer that keeps every batch it is given. */
export class CollectingConsumer implements Consumer {
  readonly mutatesData = false;
  readonly batches: NetworkEvent[][] = [];

  consume(batch: NetworkEvent[]): void {
    this.batches.push(batch);
  }

  get events(): NetworkEvent[] {
    return this.batches.flat();
  }

  ofKind<K extends NetworkEvent['kind']>(kind: K): Extract<NetworkEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<NetworkEvent, { kind: K }> => e.kind === kind);
  }

  /** Resolves once `predicate` holds for the collected events, or rejects after `timeoutMs`. */
  async waitFor(predicate: (events: NetworkEvent[]) => boolean, timeoutMs = 5000, what = 'events'): Promise<NetworkEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const events = this.events;
      if (predicate(events)) return events;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.events.length} events`);
  }
}

export interface TestHostOptions {
  /** Readers on the host's MeterProvider; with none, `metricsEnabled` is false as in a collector without metric exporters. */
  metricReaders?: MetricReader[];
}

/** A Host for starting a component alone; fatal errors and stop reports are collected instead of acted on. */
export function createTestHost(options: TestHostOptions = {}): Host & { meterProvider: MeterProvider; fatalErrors: Error[]; stopped: string[] } {
  const fatalErrors: Error[] = [];
  const stopped: string[] = [];
  const readers = options.metricReaders ?? [];
  return {
    meterProvider: new MeterProvider({ readers }),
    metricsEnabled: readers.length > 0,
    reportFatalError: (error) => fatalErrors.push(error),
    reportStopped: (reason) => stopped.push(reason),
    fatalErrors,
    stopped,
  };
}

interface ManualTimer {
  callback: () => void;
  due: number;
  /** 0 for a one-shot timer. */
  everyMs: number;
}

/**
 * A Clock that moves only when told to: register it on a component's container under
 * CLOCK_TOKEN (core/clock) and call `advance`. Timers and intervals that fall due run inside
 * `advance`, in time order (ties in the order they were set). Wall time and monotonic time are
 * the same number here.
 */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly pending = new Map<number, ManualTimer>();

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  wallNow(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): Timer {
    return this.add({ callback, due: this.time + Math.max(0, delayMs), everyMs: 0 });
  }

  setInterval(callback: () => void, intervalMs: number): Timer {
    if (!(intervalMs > 0)) throw new Error(`interval must be positive, got ${intervalMs} ms`);
    return this.add({ callback, due: this.time + intervalMs, everyMs: intervalMs });
  }

  /** Timers and intervals still pending (tests check that shutdown cancels them). */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let nextId = -1;
      let next: ManualTimer | undefined;
      // Map order is creation order, so the first of equal due times wins the tie.
      for (const [id, timer] of this.pending) {
        if (timer.due <= target && (next === undefined || timer.due < next.due)) {
          nextId = id;
          next = timer;
        }
      }
      if (next === undefined) break;
      this.time = Math.max(this.time, next.due);
      if (next.everyMs > 0) next.due += next.everyMs;
      else this.pending.delete(nextId);
      next.callback();
    }
    this.time = target;
  }

  private add(timer: ManualTimer): Timer {
    const id = this.nextId++;
    this.pending.set(id, timer);
    return { cancel: () => this.pending.delete(id) };
  }
}
