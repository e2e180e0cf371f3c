/**
 * The stdout exporter: renders each batch through the shared OpenTelemetry mapping (spans for
 * L7 transactions, log records for everything else) as text or JSON lines, and optionally prints
 * the collector's metrics periodically.
 */
import { fstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { PeriodicExportingMetricReader, type MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ComponentSettings, Exporter, Host } from '../../core/component';
import type { L7Event, NetworkEvent, PayloadEvent } from '../../core/events';
import { INSTRUMENTATION_SCOPE_NAME } from '../../core/semconv';
import { toLogData } from '../../core/otel/logs';
import { observerResource, OBSERVER_VERSION } from '../../core/otel/resource';
import { SpanMapper } from '../../core/otel/spans';
import { isoFromUs } from '../../core/otel/time';
import type { StdoutExporterConfig } from './config.generated';
import { LineEncoder } from './line-encoder';
import { LineWriter, type WritableLike } from './line-writer';
import { logToJson, resourceMetricsToJsonLines, spanToJson } from './render-json';
import { logToText, resourceMetricsToTextLines, spanToText } from './render-text';

export type StdoutConfig = Required<StdoutExporterConfig>;

/** How long shutdown waits for a slow stdout to take what is still held. */
const SHUTDOWN_FLUSH_MS = 2000;

export class StdoutExporter implements Exporter {
  readonly mutatesData = false;
  private readonly writer: LineWriter;
  private readonly lines = new LineEncoder();
  private readonly spans: SpanMapper;
  private readonly detailed: boolean;
  private readonly json: boolean;
  private reader: PeriodicExportingMetricReader | undefined;
  private started = false;
  private host: Host | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: StdoutConfig,
    stream: WritableLike = standardOutput(),
  ) {
    this.detailed = config.verbosity === 'detailed';
    this.json = config.format === 'json';
    this.spans = new SpanMapper({
      resource: observerResource(config.service_name),
      scope: { name: INSTRUMENTATION_SCOPE_NAME, version: OBSERVER_VERSION },
      detailed: this.detailed,
      optIn: config.opt_in_attributes,
    });
    this.writer = new LineWriter(stream, config.max_buffered_bytes, settings.logger, {
      written: (n) => settings.telemetry.emitted(n),
      dropped: (n) => settings.telemetry.dropped(n),
      closed: (reason) => this.outputClosed(reason),
    });
    settings.telemetry.registerGauge('buffered_bytes', () => this.writer.stats().bufferedBytes);
  }

  metricReaders(): MetricReader[] {
    if (!this.config.metrics) return [];
    this.reader ??= new PeriodicExportingMetricReader({
      exporter: new MetricPrinter(this),
      exportIntervalMillis: this.config.metrics_interval,
      exportTimeoutMillis: Math.min(this.config.metrics_interval, 30_000),
    });
    return [this.reader];
  }

  start(host: Host): void {
    if (this.started) return;
    this.started = true;
    this.host = host;
  }

  /**
   * Nobody will read this output again: stop, and let the collector decide whether anything is
   * left to run (with no other exporter it shuts down, exit 0, as `cmd | head` expects).
   */
  private outputClosed(reason: string): void {
    if (this.host) this.host.reportStopped(`${reason}; the rest of its output is dropped`);
    else this.settings.logger.warn(`${reason}; further output is dropped and counted`);
  }

  consume(batch: NetworkEvent[]): void {
    const { telemetry } = this.settings;
    telemetry.received(batch.length);
    if (this.stopping) {
      telemetry.dropped(batch.length);
      return;
    }
    const lines = this.lines;
    let rendered = 0;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      try {
        lines.add(this.render(event));
        rendered++;
      } catch (error) {
        // A malformed event (e.g. from a third-party plugin) costs one line, not the batch.
        telemetry.errors();
        telemetry.dropped(1);
        this.settings.logger.warn(`rendering a ${String((event as { kind?: unknown }).kind)} event failed: ${(error as Error).message}`);
      }
    }
    // Counted as emitted when the stream reports the write, dropped if it fails.
    if (rendered > 0) this.writer.write(lines.take(), rendered);
  }

  /** One event as its line(s), without the trailing newline. */
  render(event: NetworkEvent): string {
    if (event.kind.startsWith('l7.')) {
      const l7 = event as L7Event;
      const span = this.spans.map(l7);
      return this.json ? JSON.stringify(spanToJson(l7, span)) : spanToText(l7, span, this.config.verbosity);
    }
    const log = toLogData(event, this.detailed)!;
    const payload =
      event.kind === 'payload' && this.detailed ? { event: event as PayloadEvent, bytes: this.config.payload_preview_bytes } : undefined;
    return this.json ? JSON.stringify(logToJson(log, payload)) : logToText(log, this.config.verbosity, payload);
  }

  /** Called by the metric reader; the stream stays usable until the process ends. */
  printMetrics(rm: ResourceMetrics): void {
    const now = isoFromUs(Date.now() * 1000);
    const lines = this.json ? resourceMetricsToJsonLines(rm, now) : resourceMetricsToTextLines(rm, this.config.verbosity, now);
    if (lines.length > 0) this.writer.write(Buffer.from(lines.join('\n') + '\n'), 0);
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const flushed = await this.writer.flush(SHUTDOWN_FLUSH_MS);
      if (!flushed) {
        // A reader that stopped reading must not keep the process alive after shutdown.
        const lostBytes = await this.writer.abandon();
        this.settings.logger.warn(`standard output did not drain within ${SHUTDOWN_FLUSH_MS} ms; the ${lostBytes} bytes of output it still held were dropped`);
      }
    })();
    return this.stopping;
  }
}

/**
 * Metric exporter that prints. Final metrics are printed when the collector shuts its
 * MeterProvider down (after the exporters), which still works because the stream stays open.
 */
class MetricPrinter implements PushMetricExporter {
  constructor(private readonly owner: StdoutExporter) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      this.owner.printMetrics(metrics);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}

/**
 * Standard output as a stream this exporter owns when it is a pipe or a socket. Node writes to
 * pipes synchronously on Linux, so a reader that stops reading (a stuck log collector, a paused
 * `| less`) would block the whole observer in write(2), eBPF ring and signals included; and
 * process.stdout cannot be closed, so output a reader never takes would keep the process alive
 * after shutdown. A pipe is opened anew through /proc/self/fd/1: a description of our own can be
 * made non-blocking (a libuv pipe handle does that) without changing the one the shell or
 * runtime shares, and closing it leaves fd 1 alone. A socket cannot be reopened, so fd 1 itself
 * is wrapped, and closed only if shutdown gives up on it. Files and terminals keep
 * process.stdout: a file write does not stall for long, and a terminal that stops reading is a
 * person who pressed Ctrl-S.
 */
function standardOutput(): WritableLike {
  try {
    const stat = fstatSync(1);
    if (stat.isFIFO()) return new Socket({ fd: openSync('/proc/self/fd/1', 'w'), readable: false, writable: true });
    if (stat.isSocket()) return new Socket({ fd: 1, readable: false, writable: true });
  } catch {
    // No /proc, or the pipe cannot be reopened: the plain stream.
  }
  return process.stdout;
}
