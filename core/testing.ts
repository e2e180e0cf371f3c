/**
 * Helpers for testing components outside a running collector: what a plugin author needs to
 * unit-test a factory, and what our own tests use. Part of the public API.
 */
import 'reflect-metadata';
import { container } from 'tsyringe';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ComponentId, ComponentKind, ComponentSettings, Consumer, Host } from './component';
import type { NetworkEvent } from './events';
import { silentLogger, type Logger } from './logger';
import { ComponentTelemetry } from './telemetry';

export function makeComponentId(kind: ComponentKind, key: string): ComponentId {
  const slash = key.indexOf('/');
  const type = slash < 0 ? key : key.slice(0, slash);
  const name = slash < 0 ? '' : key.slice(slash + 1);
  return { kind, type, name, key };
}

export function createTestSettings(kind: ComponentKind, key: string, logger: Logger = silentLogger): ComponentSettings {
  const id = makeComponentId(kind, key);
  return { id, logger, telemetry: new ComponentTelemetry(`${kind}/${key}`), container: container.createChildContainer() };
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

/** A Host for starting a component alone; fatal errors and stop reports are collected instead of acted on. */
export function createTestHost(): Host & { fatalErrors: Error[]; stopped: string[] } {
  const fatalErrors: Error[] = [];
  const stopped: string[] = [];
  return {
    meterProvider: new MeterProvider(),
    reportFatalError: (error) => fatalErrors.push(error),
    reportStopped: (reason) => stopped.push(reason),
    fatalErrors,
    stopped,
  };
}
