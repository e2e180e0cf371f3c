/**
 * Small real components for exercising the runtime in tests: a receiver that replays given
 * events, a processor that tags events in place (mutatesData), and an exporter that records.
 * They use the public factory API exactly as plugins do.
 */
import type { Consumer, ExporterFactory, Host, ProcessorFactory, ReceiverFactory } from '../../core/component';
import type { NetworkEvent } from '../../core/events';
import { createProcessor } from '../../core/processor-helper';

export interface ReplayConfig { count: number; fail_on_start: boolean; interval: number }
export interface TagConfig { tag: string }
export interface RecordConfig { fail_on_start: boolean; fail_consume: boolean; start_delay: number; stop_delay: number }

/** Everything the test components did, in order, for assertions on lifecycle and data. */
export const journal: string[] = [];
export const recorded = new Map<string, NetworkEvent[][]>();
/** The Host each test_record exporter was started with, by component key. */
export const hosts = new Map<string, Host>();

export function sampleEvent(i: number): NetworkEvent {
  return {
    kind: 'connection.opened', transport: 'tcp', timeUs: 1_700_000_000_000_000 + i,
    process: { pid: 100 + i, tid: 100 + i, comm: 'test', cgroupId: 0 }, networkType: 'ipv4',
    localAddress: '127.0.0.1', localPort: 40000 + i, remoteAddress: '127.0.0.1', remotePort: 8080,
    direction: 'outbound', socketCookie: i + 1, netnsId: 0,
  };
}

export const replayReceiver: ReceiverFactory<ReplayConfig> = {
  kind: 'receiver', type: 'test_replay', stability: 'development', description: 'replays sample events (tests)',
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      count: { type: 'integer', minimum: 0 },
      fail_on_start: { type: 'boolean' },
      interval: { type: ['string', 'number'], format: 'duration' },
    },
  },
  createDefaultConfig: () => ({ count: 3, fail_on_start: false, interval: 0 }),
  validate: (c) => (c.count > 1000 ? [{ path: ['count'], message: 'must be at most 1000 in tests' }] : []),
  createReceiver(settings, config, next: Consumer) {
    return {
      async start() {
        journal.push(`start ${settings.id.key}`);
        if (config.fail_on_start) throw new Error('refusing to start as configured');
        const batch = Array.from({ length: config.count }, (_, i) => sampleEvent(i));
        settings.telemetry.emitted(batch.length);
        await next.consume(batch);
      },
      shutdown() { journal.push(`stop ${settings.id.key}`); },
    };
  },
};

export const tagProcessor: ProcessorFactory<TagConfig> = {
  kind: 'processor', type: 'test_tag', stability: 'development', description: 'renames comm in place (tests)',
  configSchema: { type: 'object', additionalProperties: false, properties: { tag: { type: 'string' } } },
  createDefaultConfig: () => ({ tag: 'tagged' }),
  createProcessor(settings, config, next) {
    return createProcessor(settings, next, {
      mutatesData: true,
      process(batch) {
        for (const e of batch) e.process = { ...e.process, comm: config.tag };
        return batch;
      },
      start: () => { journal.push(`start ${settings.id.key}`); },
      shutdown: () => { journal.push(`stop ${settings.id.key}`); },
    });
  },
};

export const recordExporter: ExporterFactory<RecordConfig> = {
  kind: 'exporter', type: 'test_record', stability: 'development', description: 'records batches (tests)',
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      fail_on_start: { type: 'boolean' },
      fail_consume: { type: 'boolean' },
      start_delay: { type: ['string', 'number'], format: 'duration' },
      stop_delay: { type: ['string', 'number'], format: 'duration' },
    },
  },
  createDefaultConfig: () => ({ fail_on_start: false, fail_consume: false, start_delay: 0, stop_delay: 0 }),
  createExporter(settings, config) {
    const batches: NetworkEvent[][] = [];
    recorded.set(settings.id.key, batches);
    return {
      mutatesData: false,
      async start(host) {
        journal.push(`start ${settings.id.key}`);
        hosts.set(settings.id.key, host);
        if (config.start_delay > 0) await new Promise((r) => setTimeout(r, config.start_delay));
        if (config.fail_on_start) throw new Error('backend unreachable');
      },
      consume(batch) {
        if (config.fail_consume) throw new Error('export failed');
        settings.telemetry.received(batch.length);
        batches.push(batch);
      },
      async shutdown() {
        journal.push(`stop ${settings.id.key}`);
        if (config.stop_delay > 0) await new Promise((r) => setTimeout(r, config.stop_delay));
      },
    };
  },
};

export const testFactories = () => [replayReceiver, tagProcessor, recordExporter];

export function resetJournal(): void {
  journal.length = 0;
  recorded.clear();
  hosts.clear();
}
