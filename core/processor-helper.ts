/**
 * Absorbs the boilerplate every processor repeats: counting what comes in and goes out,
 * forwarding to the next consumer, idempotent start/shutdown. A processor written with it is
 * one function from batch to batch.
 */
import type { ComponentSettings, Consumer, Host, Processor } from './component';
import type { NetworkEvent } from './events';

export interface ProcessorHooks {
  /**
   * Transform one batch; return the events to pass on (may be the same array). Events a
   * processor discards on purpose are counted by it with `telemetry.dropped`.
   */
  process(batch: NetworkEvent[]): NetworkEvent[];
  /** True when `process` changes events in place or returns the same array modified. */
  mutatesData: boolean;
  start?(host: Host): void | Promise<void>;
  /** Called once; flush anything held back through `emit` before resolving. */
  shutdown?(): void | Promise<void>;
}

export interface ProcessorHelper extends Processor {
  /** Pass events on from outside `consume` (timers, flushes); counted as emitted. */
  emit(batch: NetworkEvent[]): void | Promise<void>;
}

export function createProcessor(settings: ComponentSettings, next: Consumer, hooks: ProcessorHooks): ProcessorHelper {
  const { telemetry } = settings;
  let started = false;
  let stopped: Promise<void> | undefined;

  const emit = (batch: NetworkEvent[]): void | Promise<void> => {
    if (batch.length === 0) return;
    telemetry.emitted(batch.length);
    return next.consume(batch);
  };

  return {
    mutatesData: hooks.mutatesData,
    async start(host: Host): Promise<void> {
      if (started) return;
      started = true;
      await hooks.start?.(host);
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
        settings.logger.error(`processing a batch of ${batch.length} failed: ${(error as Error).message}`);
        return;
      }
      return emit(out);
    },
    emit,
    shutdown(): Promise<void> {
      stopped ??= Promise.resolve(hooks.shutdown?.());
      return stopped;
    },
  };
}
