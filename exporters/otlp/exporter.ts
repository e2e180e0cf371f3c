/**
 * otlp: network events -> OTLP (over HTTP, or gRPC).
 *
 * consume() maps events through the shared mapping (spans for L7 transactions, log records for
 * lifecycle events through @opentelemetry/sdk-logs) and hands fixed-size requests to the sending
 * queue; metrics come from its reader on the shared MeterProvider. It never waits for the
 * network unless sending_queue.enabled is false. Serialization (OpenTelemetry serializers),
 * compression and HTTP happen in the queue's workers, with retries and bounded memory.
 */
import { readFileSync } from 'node:fs';
import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { CumulativeTemporalitySelector, DeltaTemporalitySelector } from '@opentelemetry/exporter-metrics-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord, type SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import {
  PeriodicExportingMetricReader,
  type AggregationTemporality,
  type InstrumentType,
  type MetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ComponentSettings, Exporter, Host } from '../../core/component';
import type { EventKind, L7Event, NetworkEvent } from '../../core/events';
import { INSTRUMENTATION_SCOPE_NAME } from '../../core/semconv';
import { UserFacingError } from '../../core/config/errors';
import { OBSERVER_USER_AGENT } from '../../core/identity';
import { formatDuration } from '../../core/units';
import { Batcher } from '../shared/batcher';
import { DropReporter } from '../shared/drop-reporter';
import { toLogData } from '../../core/otel/logs';
import { observerResource, OBSERVER_VERSION } from '../../core/otel/resource';
import type { SendOutcome } from '../shared/retry';
import { SendingQueue, type DropReason } from '../shared/sending-queue';
import { SpanMapper } from '../../core/otel/spans';
import { usToHrTime } from '../../core/otel/time';
import type { OtlpExporterConfig } from './config.generated';
import { CONTENT_TYPES, encodingOf, rejectedItems, serializeLogs, serializeMetrics, serializeSpans, signalUrl, type Encoding, type Signal } from './signals';
import { OtlpGrpcTransport } from './grpc-transport';
import { OtlpHttpTransport, UnreachableError, type TlsClientOptions, type Transport } from './transport';
import { SerializerClient, WorkerUnavailableError } from './serializer-client';

type DeepRequired<T> = { [K in keyof T]-?: NonNullable<T[K]> extends readonly unknown[] ? NonNullable<T[K]> : NonNullable<T[K]> extends object ? DeepRequired<NonNullable<T[K]>> : NonNullable<T[K]> };

/** The normalized config the runtime hands over (defaults merged, durations in ms). */
export type OtlpConfig = DeepRequired<OtlpExporterConfig>;

/** One request on its way to the backend. */
interface ExportRequest {
  signal: Signal;
  /** Spans, log records or metric data points. */
  items: number;
  spans?: ReadableSpan[];
  logs?: ReadableLogRecord[];
  /** Serialized metrics (serialized at collection time: the SDK may reuse its objects). */
  raw?: Uint8Array;
  /** Serialized and compressed once; retries resend it. */
  body?: Buffer;
}

/**
 * Span requests at least this large go to the serializer worker when it is free; smaller ones
 * cost less to serialize than to hand over (structured clone is ~30 % of serializing).
 */
const OFFLOAD_MIN_SPANS = 256;
/** Requests in the worker at once: one being serialized, one waiting so it never idles. */
const WORKER_MAX_OUTSTANDING = 2;

const UNIT: Readonly<Record<Signal, string>> = { traces: 'spans', logs: 'log records', metrics: 'metric points' };
/** How often dropped data is logged at most. */
const DROP_LOG_PERIOD_MS = 10_000;

export class OtlpExporter implements Exporter {
  readonly mutatesData = false;
  private readonly resource: Resource;
  private readonly transport: Transport;
  private readonly queue: SendingQueue<ExportRequest>;
  private readonly urls: Readonly<Record<Signal, URL>>;
  private readonly encoding: Encoding;
  private readonly contentType: string;
  private readonly spans: SpanMapper | undefined;
  private readonly serializer: SerializerClient | undefined;
  private readonly spanBatcher: Batcher<ReadableSpan>;
  private readonly logBatcher: Batcher<ReadableLogRecord>;
  private readonly logKinds: ReadonlySet<EventKind>;
  private readonly loggerProvider: LoggerProvider | undefined;
  private readonly otelLogger: OtelLogger | undefined;
  private readonly drops: DropReporter;
  private reader: PeriodicExportingMetricReader | undefined;
  /** Sends started by the current consume() when the queue is disabled. */
  private syncSends: Promise<boolean>[] = [];
  private lastError: Error | undefined;
  private failedAttempts = 0;
  private stopping: Promise<void> | undefined;
  /** Set once shutdown has taken the last metrics collection and closed the queue. */
  private closed = false;

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: OtlpConfig,
  ) {
    const { telemetry, logger } = settings;
    this.resource = observerResource(config.service_name);
    this.urls = {
      traces: signalUrl(config.endpoint, config.traces_endpoint, 'traces', config.protocol),
      metrics: signalUrl(config.endpoint, config.metrics_endpoint, 'metrics', config.protocol),
      logs: signalUrl(config.endpoint, config.logs_endpoint, 'logs', config.protocol),
    };
    this.encoding = encodingOf(config.protocol);
    this.contentType = CONTENT_TYPES[this.encoding];
    const transportOptions = {
      headers: config.headers,
      tls: readTls(config.tls),
      compression: config.compression,
      gzipLevel: config.compression_params.level,
      timeoutMs: config.timeout,
      maxSockets: config.sending_queue.num_consumers,
      userAgent: OBSERVER_USER_AGENT,
    };
    this.transport = config.protocol === 'grpc' ? new OtlpGrpcTransport(transportOptions) : new OtlpHttpTransport(transportOptions);
    this.drops = new DropReporter(logger, DROP_LOG_PERIOD_MS);
    const retry = config.retry_on_failure;
    this.queue = new SendingQueue<ExportRequest>({
      enabled: config.sending_queue.enabled,
      capacity: config.sending_queue.queue_size,
      consumers: config.sending_queue.num_consumers,
      retry: {
        enabled: retry.enabled,
        initialIntervalMs: retry.initial_interval,
        maxIntervalMs: retry.max_interval,
        maxElapsedMs: retry.max_elapsed_time,
        multiplier: retry.multiplier,
        randomizationFactor: retry.randomization_factor,
      },
      sizeOf: (req) => req.items,
      send: (req) => this.send(req),
      onSent: (req) => this.sent(req),
      onDropped: (req, reason, error) => this.dropped(req, reason, error),
      onRetry: (req, delayMs, error) => {
        telemetry.add('retries');
        logger.debug(`retrying ${req.items} ${UNIT[req.signal]} in ${Math.round(delayMs)} ms: ${error.message}`);
      },
    });
    telemetry.registerGauge('queue_items', () => this.queue.stats().queuedItems);
    telemetry.registerGauge('in_flight_requests', () => this.queue.stats().inFlight);

    const batch = config.sending_queue.batch;
    this.spanBatcher = new Batcher<ReadableSpan>(batch.max_size, batch.flush_timeout, (spans) =>
      this.submit({ signal: 'traces', items: spans.length, spans }),
    );
    this.logBatcher = new Batcher<ReadableLogRecord>(batch.max_size, batch.flush_timeout, (logs) =>
      this.submit({ signal: 'logs', items: logs.length, logs }),
    );

    const scope = { name: INSTRUMENTATION_SCOPE_NAME, version: OBSERVER_VERSION };
    this.spans = config.signals.traces ? new SpanMapper({ resource: this.resource, scope, optIn: config.opt_in_attributes }) : undefined;
    this.serializer = config.signals.traces
      ? new SerializerClient({ resourceAttributes: this.resource.attributes, scope, logger, maxOutstanding: WORKER_MAX_OUTSTANDING })
      : undefined;
    this.logKinds = new Set(config.signals.logs ? config.logs.event_kinds : []);
    if (config.signals.logs) {
      const sink: LogRecordProcessor = {
        onEmit: (record: SdkLogRecord, _context?: Context) => this.logBatcher.add(record),
        forceFlush: async () => this.logBatcher.flush(),
        shutdown: async () => this.logBatcher.flush(),
      };
      this.loggerProvider = new LoggerProvider({ resource: this.resource, processors: [sink] });
      this.otelLogger = this.loggerProvider.getLogger(INSTRUMENTATION_SCOPE_NAME, OBSERVER_VERSION);
    }
  }

  metricReaders(): MetricReader[] {
    if (!this.config.signals.metrics) return [];
    this.reader ??= new PeriodicExportingMetricReader({
      exporter: new QueueingMetricExporter(this, this.config.metrics.temporality),
      exportIntervalMillis: this.config.metrics.export_interval,
      // The reader only hands data to the queue; delivery has its own timeout and retries.
      exportTimeoutMillis: Math.min(this.config.metrics.export_interval, 30_000),
    });
    return [this.reader];
  }

  /** Nothing to start: the queue runs from construction and the collector attaches the reader. */
  start(_host: Host): void {}

  consume(batch: NetworkEvent[]): void | Promise<void> {
    const { telemetry } = this.settings;
    telemetry.received(batch.length);
    if (this.stopping) {
      telemetry.dropped(batch.length);
      this.drops.report('events', batch.length, 'received after shutdown began');
      return;
    }
    const spans = this.spans;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      try {
        if (event.kind.startsWith('l7.')) {
          if (spans) this.spanBatcher.add(spans.map(event as L7Event));
        } else if (this.otelLogger && this.logKinds.has(event.kind)) {
          const log = toLogData(event)!;
          this.otelLogger.emit({
            eventName: log.eventName,
            timestamp: usToHrTime(log.timeUs),
            severityNumber: log.severityNumber,
            severityText: log.severityText,
            body: log.body,
            attributes: log.attributes,
          });
        }
      } catch (error) {
        // A malformed event (e.g. from a third-party plugin) is counted, never fatal.
        telemetry.errors();
        telemetry.dropped(1);
        this.drops.report('events', 1, `mapping failed: ${(error as Error).message}`);
      }
    }
    if (!this.config.sending_queue.enabled) return this.finishSync();
  }

  /** Queue disabled: this batch's requests go out now and the pipeline waits for them. */
  private async finishSync(): Promise<void> {
    this.spanBatcher.flush();
    this.logBatcher.flush();
    const sends = this.syncSends;
    this.syncSends = [];
    await Promise.all(sends);
  }

  private submit(req: ExportRequest): void {
    const result = this.queue.submit(req);
    if (typeof result !== 'boolean') this.syncSends.push(result);
  }

  /** From the metric reader: serialize now, deliver through the queue. */
  enqueueMetrics(metrics: ResourceMetrics): boolean | Promise<boolean> {
    let points = 0;
    for (const sm of metrics.scopeMetrics) {
      for (const metric of sm.metrics) points += metric.dataPoints.length;
    }
    if (points === 0) return true;
    if (this.closed) {
      // The collector shuts its MeterProvider down after the exporters; shutdown already sent
      // a final collection, so this one only repeats it (cumulative) or covers the last
      // milliseconds (delta). Counted, not reported as a loss.
      this.settings.telemetry.add('metric_points_after_shutdown', points);
      this.settings.logger.debug(`ignoring ${points} metric points collected after shutdown`);
      return false;
    }
    let raw: Uint8Array | undefined;
    try {
      // Our Resource, so spans, logs and metrics describe the observer identically.
      raw = serializeMetrics(this.encoding, { resource: this.resource, scopeMetrics: metrics.scopeMetrics });
    } catch (error) {
      this.dropped({ signal: 'metrics', items: points }, 'send_failed', new Error(`serializing metrics failed: ${(error as Error).message}`));
      return false;
    }
    if (!raw) return true;
    return this.queue.submit({ signal: 'metrics', items: points, raw });
  }

  private async send(req: ExportRequest): Promise<SendOutcome> {
    if (!req.body) {
      let raw: Uint8Array | undefined;
      try {
        raw = req.raw ?? (req.spans ? await this.serializeSpans(req.spans) : serializeLogs(this.encoding, req.logs ?? []));
      } catch (error) {
        return { ok: false, retryable: false, error: new Error(`serializing ${UNIT[req.signal]} failed: ${(error as Error).message}`) };
      }
      if (!raw) return { ok: true };
      req.body = await this.transport.encodeBody(raw);
      // The encoded body is all a retry needs; let the records go.
      req.spans = undefined;
      req.logs = undefined;
      req.raw = undefined;
    }
    const outcome = await this.transport.send(this.urls[req.signal], req.body, this.contentType);
    if (outcome.ok) {
      if (outcome.body && outcome.body.length > 0) this.partialSuccess(req, outcome.body);
    } else {
      this.lastError = outcome.error;
      this.failedAttempts++;
      this.settings.telemetry.errors();
    }
    return outcome;
  }

  /** In the serializer worker when it is free and the request is worth it, inline otherwise. */
  private async serializeSpans(spans: ReadableSpan[]): Promise<Uint8Array | undefined> {
    const worker = this.serializer;
    if (worker && spans.length >= OFFLOAD_MIN_SPANS && worker.canTake()) {
      try {
        return await worker.serialize(this.encoding, spans);
      } catch (error) {
        if (!(error instanceof WorkerUnavailableError)) throw error;
      }
    }
    return serializeSpans(this.encoding, spans);
  }

  private partialSuccess(req: ExportRequest, body: Buffer): void {
    let rejected = 0;
    let message = '';
    try {
      ({ rejected, message } = rejectedItems(this.encoding, req.signal, body));
    } catch {
      return; // A response we cannot parse still means the request was accepted.
    }
    if (rejected <= 0) return;
    this.settings.telemetry.add('rejected', rejected);
    this.drops.report(`${UNIT[req.signal]} (rejected by the backend)`, rejected, message || 'partial success without a message');
  }

  private sent(req: ExportRequest): void {
    const { telemetry, logger } = this.settings;
    if (this.failedAttempts > 0) {
      logger.info(`${this.urls[req.signal].origin} accepts data again after ${this.failedAttempts} failed attempt(s)`);
      this.failedAttempts = 0;
      this.lastError = undefined;
    }
    if (req.signal === 'metrics') telemetry.add('sent_metric_points', req.items);
    else {
      telemetry.emitted(req.items);
      telemetry.add(req.signal === 'traces' ? 'sent_spans' : 'sent_log_records', req.items);
    }
  }

  /**
   * Each dropped item is counted once: spans and log records (events) in `dropped`, with its
   * reason in `dropped_<reason>` (the reasons add up to `dropped`); metric points, which are
   * not events, in `dropped_metric_points` alone (their reason is in the log line).
   */
  private dropped(req: ExportRequest, reason: DropReason, error: Error | undefined): void {
    const { telemetry } = this.settings;
    if (req.signal === 'metrics') {
      telemetry.add('dropped_metric_points', req.items);
    } else {
      telemetry.dropped(req.items);
      telemetry.add(`dropped_${reason}`, req.items);
    }
    this.drops.report(UNIT[req.signal], req.items, this.dropReason(reason, error));
  }

  private dropReason(reason: DropReason, error: Error | undefined): string {
    const backend = error ?? this.lastError;
    const because = backend ? ` (last error: ${backend.message})` : '';
    switch (reason) {
      case 'queue_full':
        return `sending queue full (queue_size ${this.config.sending_queue.queue_size}); the backend is slower than the data or down${because}`;
      case 'retries_exhausted':
        return `gave up after retry_on_failure.max_elapsed_time ${formatDuration(this.config.retry_on_failure.max_elapsed_time)}${because}`;
      case 'send_failed':
        return backend instanceof UnreachableError
          ? `not retried (retry_on_failure is off)${because}`
          : `the backend rejected the data; check endpoint, headers and protocol${because}`;
      case 'shutdown':
        return `not delivered within shutdown_timeout ${formatDuration(this.config.shutdown_timeout)}${because}`;
    }
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    const deadline = Date.now() + this.config.shutdown_timeout;
    if (this.reader) {
      // Collect the last metrics into the queue while it still accepts data.
      await withTimeout(this.reader.forceFlush().catch(() => undefined), Math.max(0, deadline - Date.now()));
    }
    this.spanBatcher.flush();
    this.logBatcher.flush();
    this.closed = true;
    const complete = await this.queue.drain(Math.max(0, deadline - Date.now()));
    if (!complete) {
      this.settings.logger.warn(`shutdown_timeout ${formatDuration(this.config.shutdown_timeout)} passed with data still undelivered; it was dropped and counted`);
    }
    this.drops.flush();
    await this.serializer?.close();
    this.transport.close();
    await this.loggerProvider?.shutdown().catch(() => undefined);
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The metric reader's exporter: hands each collection to the sending queue. */
class QueueingMetricExporter implements PushMetricExporter {
  private readonly selector: (instrumentType: InstrumentType) => AggregationTemporality;

  constructor(
    private readonly owner: OtlpExporter,
    temporality: 'cumulative' | 'delta',
  ) {
    this.selector = temporality === 'delta' ? DeltaTemporalitySelector : CumulativeTemporalitySelector;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const result = this.owner.enqueueMetrics(metrics);
    const done = (accepted: boolean): void =>
      resultCallback(accepted ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error('metrics dropped; see the exporter log') });
    if (typeof result === 'boolean') done(result);
    else void result.then(done);
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.selector(instrumentType);
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}

/** The tls: settings as node takes them; a file that cannot be read says which and why. */
function readTls(tls: OtlpConfig['tls']): TlsClientOptions {
  const read = (key: 'ca_file' | 'cert_file' | 'key_file'): Buffer | undefined => {
    if (!tls[key]) return undefined;
    try {
      return readFileSync(tls[key]);
    } catch (error) {
      throw new UserFacingError(`otlp tls.${key}: cannot read ${tls[key]}: ${(error as Error).message}`);
    }
  };
  return {
    ca: read('ca_file'),
    cert: read('cert_file'),
    key: read('key_file'),
    rejectUnauthorized: !tls.insecure_skip_verify,
    servername: tls.server_name_override || undefined,
  };
}
