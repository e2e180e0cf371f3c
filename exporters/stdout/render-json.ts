/**
 * JSON lines: exactly one object per line. Attribute names are the OpenTelemetry ones the OTLP
 * export sends (they come from the same mapping in core/otel).
 */
import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { L7Event, PayloadEvent } from '../../core/events';
import type { LogData } from '../../core/otel/logs';
import type { ObservedSpan } from '../../core/otel/spans';
import { isoFromHrTime, isoFromUs } from '../../core/otel/time';

export const SPAN_KIND_NAMES: Readonly<Record<number, string>> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

export const STATUS_NAMES: Readonly<Record<number, string>> = {
  [SpanStatusCode.UNSET]: 'UNSET',
  [SpanStatusCode.OK]: 'OK',
  [SpanStatusCode.ERROR]: 'ERROR',
};

export interface SpanJson {
  signal: 'span';
  kind: L7Event['kind'];
  time: string;
  name: string;
  span_kind: string;
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  start_time: string;
  end_time: string;
  duration_ms: number;
  status: string;
  status_message?: string;
  attributes: Attributes;
}

export function spanToJson(event: L7Event, span: ObservedSpan): SpanJson {
  const ctx = span.spanContext();
  const start = isoFromHrTime(span.startTime);
  const out: SpanJson = {
    signal: 'span',
    kind: event.kind,
    time: start,
    name: span.name,
    span_kind: SPAN_KIND_NAMES[span.kind],
    trace_id: ctx.traceId,
    span_id: ctx.spanId,
    start_time: start,
    end_time: isoFromHrTime(span.endTime),
    duration_ms: span.durationUs / 1000,
    status: STATUS_NAMES[span.status.code],
    attributes: span.attributes,
  };
  if (span.parentSpanContext) out.parent_span_id = span.parentSpanContext.spanId;
  if (span.status.message) out.status_message = span.status.message;
  return out;
}

export interface LogJson {
  signal: 'log';
  kind: LogData['kind'];
  time: string;
  event_name: string;
  severity: string;
  body: string;
  attributes: Attributes;
  /** Payload chunks at verbosity detailed only: the first bytes, hex. */
  data_hex?: string;
}

export function logToJson(log: LogData, payloadPreview?: { event: PayloadEvent; bytes: number }): LogJson {
  const out: LogJson = {
    signal: 'log',
    kind: log.kind,
    time: isoFromUs(log.timeUs),
    event_name: log.eventName,
    severity: log.severityText,
    body: log.body,
    attributes: log.attributes,
  };
  if (payloadPreview && payloadPreview.bytes > 0) {
    const { data } = payloadPreview.event;
    out.data_hex = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, payloadPreview.bytes)).toString('hex');
  }
  return out;
}

export interface DataPointJson {
  attributes: Attributes;
  start_time: string;
  time: string;
  value?: number;
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucket_bounds?: number[];
  bucket_counts?: number[];
  scale?: number;
  zero_count?: number;
}

export interface MetricJson {
  signal: 'metric';
  time: string;
  name: string;
  description: string;
  unit: string;
  type: 'histogram' | 'exponential_histogram' | 'sum' | 'gauge';
  temporality: 'cumulative' | 'delta';
  monotonic?: boolean;
  scope: string;
  data_points: DataPointJson[];
}

const iso = (t: HrTime): string => isoFromHrTime(t);

export function metricTypeName(metric: MetricData): MetricJson['type'] {
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      return 'histogram';
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return 'exponential_histogram';
    case DataPointType.SUM:
      return 'sum';
    case DataPointType.GAUGE:
      return 'gauge';
  }
}

export function metricToJson(metric: MetricData, scope: string, now: string): MetricJson {
  const points: DataPointJson[] = [];
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      for (const p of metric.dataPoints) {
        points.push({
          attributes: p.attributes,
          start_time: iso(p.startTime),
          time: iso(p.endTime),
          count: p.value.count,
          sum: p.value.sum,
          min: p.value.min,
          max: p.value.max,
          bucket_bounds: p.value.buckets.boundaries,
          bucket_counts: p.value.buckets.counts,
        });
      }
      break;
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      for (const p of metric.dataPoints) {
        points.push({
          attributes: p.attributes,
          start_time: iso(p.startTime),
          time: iso(p.endTime),
          count: p.value.count,
          sum: p.value.sum,
          min: p.value.min,
          max: p.value.max,
          scale: p.value.scale,
          zero_count: p.value.zeroCount,
        });
      }
      break;
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      for (const p of metric.dataPoints) {
        points.push({ attributes: p.attributes, start_time: iso(p.startTime), time: iso(p.endTime), value: p.value });
      }
      break;
  }
  const out: MetricJson = {
    signal: 'metric',
    time: now,
    name: metric.descriptor.name,
    description: metric.descriptor.description,
    unit: metric.descriptor.unit,
    type: metricTypeName(metric),
    temporality: metric.aggregationTemporality === AggregationTemporality.DELTA ? 'delta' : 'cumulative',
    scope,
    data_points: points,
  };
  if (metric.dataPointType === DataPointType.SUM) out.monotonic = metric.isMonotonic;
  return out;
}

/** One line per metric with data points. */
export function resourceMetricsToJsonLines(rm: ResourceMetrics, now: string): string[] {
  const lines: string[] = [];
  for (const sm of rm.scopeMetrics) {
    for (const metric of sm.metrics) {
      if (metric.dataPoints.length === 0) continue;
      lines.push(JSON.stringify(metricToJson(metric, sm.scope.name, now)));
    }
  }
  return lines;
}
