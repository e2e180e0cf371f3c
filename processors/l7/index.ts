/**
 * l7: turns captured `payload` chunks into L7 transactions (l7.http, l7.dns, l7.grpc, l7.tls)
 * joined to their connection, and records their duration histograms. See README.md.
 */
import type { ProcessorFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import type { NetworkEvent } from '../../core/events';
import { L7MetricsRecorder } from '../../core/otel/l7-metrics';
import { createProcessor } from '../../core/processor-helper';
import type { L7ProcessorConfig } from './config.generated';
import schema from './config.schema.json';
import { L7Engine, type L7EngineOptions } from './engine';
import { ALL_MODULES, type ProtocolName } from './modules';

export type L7Config = Required<L7ProcessorConfig>;

export function engineOptions(config: L7Config): L7EngineOptions {
  return {
    captureQuery: config.capture_query,
    transactionTimeoutMs: config.transaction_timeout,
    maxBufferBytes: config.max_buffer_bytes,
    protocols: config.protocols,
    httpPorts: config.http_ports,
    dnsPort: config.dns_port,
    httpsPorts: config.https_ports,
    grpcPorts: config.grpc_ports,
    portMode: config.port_mode,
    maxSessions: config.max_sessions,
    sessionIdleTimeoutMs: config.session_idle_timeout,
    forwardPayload: config.forward_payload,
    dropSelfTraffic: config.drop_self_traffic,
  };
}

const PORT_OPTION: Record<ProtocolName, Array<keyof L7Config>> = {
  http1: ['http_ports'],
  http2: ['http_ports', 'grpc_ports'],
  tls: ['https_ports', 'grpc_ports'],
  dns: ['dns_port'],
};

export const factory: ProcessorFactory<L7Config> = {
  kind: 'processor',
  type: 'l7',
  stability: 'alpha',
  description: 'Parses captured payload into HTTP/1.x, HTTP/2+gRPC, DNS and TLS-handshake transactions joined to their connection.',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<L7Config>(schema),
  // `enabled`, as k8s_attributes and the OpenTelemetry Collector name it.
  renamedOptions: { enable: 'enabled' },

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (!(config.transaction_timeout > 0)) {
      issues.push({ path: ['transaction_timeout'], message: 'must be longer than 0 (e.g. 10s)' });
    }
    if (!(config.session_idle_timeout > 0)) {
      issues.push({ path: ['session_idle_timeout'], message: 'must be longer than 0 (e.g. 5m)' });
    }
    if (config.max_buffer_bytes < 1024) {
      issues.push({ path: ['max_buffer_bytes'], message: `${config.max_buffer_bytes} bytes cannot hold a typical HTTP header block; use at least 1KiB` });
    }
    if (config.enabled && config.port_mode === 'restrict') {
      for (const protocol of config.protocols) {
        const options = PORT_OPTION[protocol];
        const empty = options.every((o) => {
          const value = config[o];
          return Array.isArray(value) ? value.length === 0 : value === 0;
        });
        if (empty) {
          issues.push({
            path: ['protocols'],
            message: `${protocol} is enabled but port_mode restrict allows it on no port: set ${options.join(' or ')}, or remove ${protocol} from protocols`,
          });
        }
      }
    }
    return issues;
  },

  createProcessor(settings, config, next) {
    const { telemetry, logger } = settings;
    if (!config.enabled) {
      return createProcessor(settings, next, {
        mutatesData: false,
        process(batch: NetworkEvent[]): NetworkEvent[] {
          if (config.forward_payload) return batch;
          const out = batch.filter((e) => e.kind !== 'payload');
          const dropped = batch.length - out.length;
          if (dropped > 0) telemetry.add('payload_consumed', dropped);
          return out;
        },
      });
    }

    let errorsLogged = 0;
    const engine = new L7Engine(engineOptions(config), ALL_MODULES, (message) => {
      // Bounded: a module bug hit on every chunk must not flood the log.
      if (errorsLogged++ < 10) logger.error(`l7 protocol module failed (state for that connection dropped): ${message}`);
    });
    const missing = config.protocols.filter((p) => !engine.activeProtocols.includes(p));
    if (missing.length > 0) logger.warn(`protocols not available in this build, ignored: ${missing.join(', ')}`);

    const reported: Record<string, number> = {};
    for (const name of Object.keys(engine.counters)) {
      reported[name] = 0;
      telemetry.add(name, 0);
    }
    const flushCounters = (): void => {
      for (const name in engine.counters) {
        const value = engine.counters[name];
        if (value !== reported[name]) {
          telemetry.add(name, value - reported[name]);
          reported[name] = value;
        }
      }
    };
    telemetry.registerGauge('sessions', () => engine.sessionCount);

    // Recorded here, where transactions are derived, so samplers and rate limits further down
    // the pipeline do not thin the metrics; only when some exporter reads metrics. Transactions
    // of summarised exchanges are recorded, then left out (the counter says whether any came).
    let metrics: L7MetricsRecorder | undefined;
    const passOn = (out: NetworkEvent[]): NetworkEvent[] => {
      const summarised = engine.counters.transactions_summarised !== reported.transactions_summarised;
      flushCounters();
      if (metrics !== undefined) metrics.recordBatch(out);
      return summarised ? withoutMeasuredOnly(out) : out;
    };

    const processor = createProcessor(settings, next, {
      mutatesData: false,
      start(host) {
        if (host.metricsEnabled) metrics = new L7MetricsRecorder(host.meterProvider);
      },
      process: (batch) => passOn(engine.process(batch)),
      periodic: [
        {
          // Timeouts must fire when traffic stops, not only when the next batch arrives.
          name: 'transaction timeout sweep',
          intervalMs: Math.max(10, Math.min(1000, config.transaction_timeout / 4)),
          run(out) {
            const timedOut = passOn(engine.tick(engine.now()));
            for (let i = 0; i < timedOut.length; i++) out.push(timedOut[i]);
          },
          // Without a session nothing can time out: no wake-ups on an idle host.
          idle: () => engine.sessionCount === 0,
        },
      ],
      async shutdown() {
        await processor.emit(passOn(engine.flush(engine.now())));
      },
    });
    return processor;
  },
};

/** Leaves out, in place, the transactions that are only counted and measured. */
function withoutMeasuredOnly(events: NetworkEvent[]): NetworkEvent[] {
  let kept = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    if (event.kind === 'l7.http' && event.measuredOnly === true) continue;
    events[kept++] = event;
  }
  events.length = kept;
  return events;
}
