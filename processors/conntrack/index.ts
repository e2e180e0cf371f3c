/**
 * conntrack: a stateful table of TCP connections and UDP/ICMP flows that turns the receiver's
 * connection and flow events into lifecycle events with cumulative counters, pairs the two
 * endpoints of local connections, and records connection metrics. See README.md.
 */
import type { ComponentSettings, Consumer, Host, Processor, ProcessorFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import type { NetworkEvent } from '../../core/events';
import { createProcessor, type PeriodicTask } from '../../core/processor-helper';
import { formatDuration } from '../../core/units';
import type { ConntrackProcessorConfig } from './config.generated';
import schema from './config.schema.json';
import { ConntrackMetrics, type MetricAttributeChoice } from './metrics';
import { ConnTracker, type TrackerOptions } from './tracker';

type GeneratedMetrics = NonNullable<ConntrackProcessorConfig['metrics']>;

/** The normalized config: every option present, durations in milliseconds. */
export type ConntrackConfig = Required<Omit<ConntrackProcessorConfig, 'metrics'>> & {
  metrics: Required<GeneratedMetrics>;
};

export const METER_NAME = 'network-observer/conntrack';

/** Closed connections remembered at once: enough to pair both ends of a burst of closes. */
export function maxClosedFor(maxConnections: number): number {
  return Math.max(1024, Math.floor(maxConnections / 16));
}

export function trackerOptions(config: ConntrackConfig): TrackerOptions {
  return {
    maxConnections: config.max_connections,
    connectionTimeoutMs: config.connection_timeout,
    udpIdleTimeoutMs: config.udp_idle_timeout,
    icmpIdleTimeoutMs: config.icmp_idle_timeout,
    closedRetentionMs: config.closed_retention,
    maxClosed: maxClosedFor(config.max_connections),
    flushIntervalMs: config.flush_interval,
    emitLifecycleEvents: config.emit_lifecycle_events,
    flowCounters: config.flow_counters,
  };
}

export const factory: ProcessorFactory<ConntrackConfig> = {
  kind: 'processor',
  type: 'conntrack',
  stability: 'beta',
  description: 'Tracks TCP connections and UDP/ICMP flows: lifecycle events, paired loopback endpoints, connection metrics.',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<ConntrackConfig>(schema),

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const key of ['connection_timeout', 'cleanup_interval', 'udp_idle_timeout', 'icmp_idle_timeout'] as const) {
      if (!(config[key] > 0)) issues.push({ path: [key], message: `must be a positive duration such as 30s, got ${config[key]} ms` });
    }
    if (config.cleanup_interval > config.connection_timeout && config.connection_timeout > 0) {
      issues.push({
        path: ['cleanup_interval'],
        message:
          `${formatDuration(config.cleanup_interval)} is longer than connection_timeout (${formatDuration(config.connection_timeout)}), ` +
          'so idle connections would live up to twice their timeout; lower cleanup_interval or raise connection_timeout',
      });
    }
    if (config.flush_interval !== 0 && !(config.flush_interval >= 1000)) {
      issues.push({
        path: ['flush_interval'],
        message: `must be 0 (off) or at least 1s, got ${config.flush_interval} ms: shorter intervals flood the pipeline with updates`,
      });
    }
    if (!(config.closed_retention >= 0)) {
      issues.push({ path: ['closed_retention'], message: `must be 0 or a positive duration, got ${config.closed_retention} ms` });
    }
    return issues;
  },

  createProcessor: (settings, config, next) => createConntrackProcessor(settings, config, next),
};

/** The processor, synchronously (benchmarks drive it without the factory's Promise type). */
export function createConntrackProcessor(settings: ComponentSettings, config: ConntrackConfig, next: Consumer): Processor {
  const { telemetry, logger, clock } = settings;
  const tracker = new ConnTracker(trackerOptions(config), telemetry);
  telemetry.registerGauge('active', () => tracker.liveCount);
  telemetry.add('aggregated', 0);
  let metrics: ConntrackMetrics | undefined;

  /** Hands the hot path's plain counters to telemetry once per batch. */
  const settleCounts = (): void => {
    const counts = tracker.counts;
    if (counts.aggregated > 0) {
      telemetry.add('aggregated', counts.aggregated);
      counts.aggregated = 0;
    }
    if (counts.dropped > 0) {
      telemetry.dropped(counts.dropped);
      counts.dropped = 0;
    }
  };

  /** Table work on a timer: expiry has to happen when no events arrive too. */
  const onTimer = (name: string, intervalMs: number, work: (out: NetworkEvent[]) => void): PeriodicTask => ({
    name,
    intervalMs,
    run(out) {
      tracker.setNow(clock.now());
      try {
        work(out);
      } finally {
        settleCounts();
      }
    },
  });
  const periodic = [onTimer('cleanup', config.cleanup_interval, (out) => tracker.sweep(out))];
  if (config.flush_interval > 0 && config.emit_lifecycle_events) {
    periodic.push(onTimer('flush', config.flush_interval, (out) => tracker.flush(out)));
  }

  const helper = createProcessor(settings, next, {
    // Input events are never changed: new events are built for what the table adds.
    mutatesData: false,

    start(host: Host) {
      // As l7 records its transactions: on the host's provider, only when some exporter reads metrics.
      if (config.metrics.enabled && host.metricsEnabled) {
        metrics = new ConntrackMetrics(
          host.meterProvider.getMeter(METER_NAME),
          { attributes: config.metrics.attributes as MetricAttributeChoice[], maxSeries: config.metrics.max_series },
          telemetry,
          () => ({
            tcp: tracker.table.counts[0],
            udp: tracker.table.counts[1],
            icmp: tracker.table.counts[2],
          }),
        );
        telemetry.add('metric_series_overflow', 0);
      }
      tracker.attachMetrics(metrics);
    },
    periodic,

    process(batch: NetworkEvent[]): NetworkEvent[] {
      const out: NetworkEvent[] = [];
      tracker.setNow(clock.now());
      for (let i = 0; i < batch.length; i++) {
        const event = batch[i];
        try {
          tracker.handle(event, out);
        } catch (error) {
          // One malformed event must not cost the rest of the batch: pass it on as it came.
          telemetry.errors();
          logger.warn(`conntrack skipped a ${String(event?.kind)} event it could not handle: ${(error as Error).message}`);
          out.push(event);
        }
      }
      settleCounts();
      return out;
    },

    async shutdown() {
      const out: NetworkEvent[] = [];
      tracker.setNow(clock.now());
      tracker.drain(out);
      settleCounts();
      metrics?.shutdown();
      tracker.attachMetrics(undefined);
      await helper.emit(out);
    },
  });
  return helper;
}
