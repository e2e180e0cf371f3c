/**
 * Hands one batch to several consumers. Read-only consumers share the batch; a consumer that
 * declared `mutatesData` gets its own deep copy unless it is the only one, so no consumer can
 * change what another sees. A consumer that throws or rejects is isolated: the error is
 * counted against it and logged, and the others still get the batch.
 */
import type { Consumer } from './component';
import type { NetworkEvent } from './events';
import type { Logger } from './logger';
import type { ComponentTelemetry } from './telemetry';

export interface FanOutTarget {
  consumer: Consumer;
  /** Where a failure is counted and reported. */
  telemetry: ComponentTelemetry;
  logger: Logger;
}

/** Logs the first failure and then at most one per interval, so a broken consumer cannot flood stderr. */
const FAILURE_LOG_INTERVAL_MS = 10_000;

function guard(target: FanOutTarget): (batch: NetworkEvent[]) => void | Promise<void> {
  let lastLogged = -Infinity;
  const fail = (error: unknown, size: number): void => {
    target.telemetry.errors();
    target.telemetry.dropped(size);
    const now = Date.now();
    if (now - lastLogged >= FAILURE_LOG_INTERVAL_MS) {
      lastLogged = now;
      target.logger.error(`consuming a batch of ${size} events failed (dropped): ${(error as Error)?.message ?? String(error)}`);
    }
  };
  return (batch) => {
    try {
      const result = target.consumer.consume(batch);
      if (result && typeof (result as Promise<void>).then === 'function') {
        return (result as Promise<void>).catch((error) => fail(error, batch.length));
      }
    } catch (error) {
      fail(error, batch.length);
    }
    return undefined;
  };
}

export function cloneBatch(batch: NetworkEvent[]): NetworkEvent[] {
  return structuredClone(batch);
}

export function fanOut(targets: FanOutTarget[]): Consumer {
  const readOnly = targets.filter((t) => !t.consumer.mutatesData).map(guard);
  const mutating = targets.filter((t) => t.consumer.mutatesData).map(guard);
  // The last mutating consumer may take the original only when nobody else reads it.
  const originalToLastMutating = readOnly.length === 0;
  return {
    mutatesData: originalToLastMutating && mutating.length > 0,
    consume(batch: NetworkEvent[]): void | Promise<void> {
      let pending: Promise<void>[] | undefined;
      const track = (result: void | Promise<void>): void => {
        if (result) (pending ??= []).push(result);
      };
      for (const deliver of readOnly) track(deliver(batch));
      for (let i = 0; i < mutating.length; i++) {
        const own = originalToLastMutating && i === mutating.length - 1 ? batch : cloneBatch(batch);
        track(mutating[i](own));
      }
      if (pending) return Promise.all(pending).then(() => undefined);
      return undefined;
    },
  };
}
