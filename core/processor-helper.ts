/**
 * Absorbs the boilerplate every processor repeats: counting what comes in and goes out,
 * forwarding to the next consumer, idempotent start/shutdown, timers tied to the lifecycle. A
 * processor written with it is one function from batch to batch (plus its periodic tasks).
 */
import type { Timer } from './clock';
import type { ComponentSettings, Consumer, Host, Processor } from './component';
import type { NetworkEvent } from './events';

/**
 * Work a processor does on a timer (timeouts that must fire when traffic stops, cleanup,
 * periodic flushes). The helper runs it on `settings.clock` from the end of `start` until
 * `shutdown` begins, and passes on what it produced.
 */
export interface PeriodicTask {
  /** What the task does, for the log when a run fails ('cleanup', 'flush'). */
  readonly name: string;
  readonly intervalMs: number;
  /**
   * One run: push the events to pass on into `out`. A run that throws is counted in `errors`
   * and logged; what it pushed before throwing still goes out.
   */
  run(out: NetworkEvent[]): void;
  /**
   * True when a run would find nothing to do until more events come (no state that could time
   * out): the helper then stops the task's timer after a run, and starts it again with the next
   * batch, so an idle collector is not woken for nothing. Without it the task runs on its
   * interval for as long as the processor does.
   */
  idle?(): boolean;
}

export interface ProcessorHooks {
  /**
   * Transform one batch; return the events to pass on (may be the same array). Events a
   * processor discards on purpose are counted by it with `telemetry.dropped`.
   */
  process(batch: NetworkEvent[]): NetworkEvent[];
  /** True when `process` changes events in place or returns the same array modified. */
  mutatesData: boolean;
  start?(host: Host): void | Promise<void>;
  /** Called once, after the periodic tasks stopped; flush anything held back through `emit` before resolving. */
  shutdown?(): void | Promise<void>;
  /** Timer work, started after `start` and stopped before `shutdown`. */
  periodic?: readonly PeriodicTask[];
}

export interface ProcessorHelper extends Processor {
  /** Pass events on from outside `consume` (timers, flushes); counted as emitted. */
  emit(batch: NetworkEvent[]): void | Promise<void>;
}

export function createProcessor(settings: ComponentSettings, next: Consumer, hooks: ProcessorHooks): ProcessorHelper {
  const { telemetry, logger } = settings;
  let started = false;
  let stopped: Promise<void> | undefined;
  const tasks = hooks.periodic ?? [];
  /** Each task's timer while it runs; undefined while it rests idle, or before start and after shutdown. */
  const timers: (Timer | undefined)[] = tasks.map(() => undefined);
  let periodicOn = false;

  const emit = (batch: NetworkEvent[]): void | Promise<void> => {
    if (batch.length === 0) return;
    telemetry.emitted(batch.length);
    return next.consume(batch);
  };

  const passOn = (out: NetworkEvent[], task: PeriodicTask): void => {
    const failed = (error: Error): void => logger.error(`passing on ${out.length} events from ${task.name} failed: ${error.message}`);
    try {
      const pending = emit(out);
      if (pending) pending.catch(failed);
    } catch (error) {
      failed(error as Error);
    }
  };

  const runPeriodic = (i: number): void => {
    if (stopped) return;
    const task = tasks[i];
    const out: NetworkEvent[] = [];
    let idle = false;
    try {
      task.run(out);
      idle = task.idle?.() === true;
    } catch (error) {
      // A bug here must not kill the timer or the process.
      telemetry.errors();
      logger.error(`${task.name} failed: ${(error as Error).message}`);
    }
    passOn(out, task);
    if (idle && timers[i] !== undefined) {
      timers[i]!.cancel();
      timers[i] = undefined;
    }
  };

  const arm = (i: number): void => {
    timers[i] = settings.clock.setInterval(() => runPeriodic(i), tasks[i].intervalMs);
  };

  const startPeriodic = (): void => {
    periodicOn = true;
    for (let i = 0; i < tasks.length; i++) arm(i);
  };

  /** Events came: resting tasks may have work again. */
  const wakeResting = (): void => {
    for (let i = 0; i < tasks.length; i++) if (timers[i] === undefined) arm(i);
  };

  const stopPeriodic = (): void => {
    periodicOn = false;
    for (let i = 0; i < timers.length; i++) {
      timers[i]?.cancel();
      timers[i] = undefined;
    }
  };

  return {
    mutatesData: hooks.mutatesData,
    async start(host: Host): Promise<void> {
      if (started) return;
      started = true;
      await hooks.start?.(host);
      if (!stopped) startPeriodic();
    },
    consume(batch: NetworkEvent[]): void | Promise<void> {
      telemetry.received(batch.length);
      let out: NetworkEvent[];
      try {
        out = hooks.process(batch);
      } catch (error) {
        // A processor bug must not take the pipeline down: count it, log it, drop the batch.
        telemetry.errors();
        telemetry.dropped(batch.length);
        logger.error(`processing a batch of ${batch.length} failed: ${(error as Error).message}`);
        return;
      }
      if (periodicOn) wakeResting();
      return emit(out);
    },
    emit,
    shutdown(): Promise<void> {
      if (!stopped) {
        stopPeriodic();
        stopped = Promise.resolve(hooks.shutdown?.());
      }
      return stopped;
    },
  };
}
