/**
 * Human-readable rendering. basic: one line per event. normal: plus the attributes on one line
 * (and trace ids for spans). detailed: every attribute on its own line and payload hex dumps.
 */
import type { Attributes } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { L7Event, PayloadEvent } from '../../core/events';
import { endpoint, formatSeconds, formatValue, processLabel, transactionSummary } from '../../core/otel/format';
import type { LogData } from '../../core/otel/logs';
import type { ObservedSpan } from '../../core/otel/spans';
import { isoFromHrTime, isoFromUs } from '../../core/otel/time';
import { SPAN_KIND_NAMES, metricTypeName } from './render-json';

export type Verbosity = 'basic' | 'normal' | 'detailed';

function attributesOneLine(attributes: Attributes): string {
  const parts: string[] = [];
  for (const key in attributes) parts.push(`${key}=${formatValue(attributes[key])}`);
  return parts.join(' ');
}

function attributesBlock(attributes: Attributes, indent: string): string {
  let out = '';
  for (const key in attributes) out += `\n${indent}${key}: ${formatValue(attributes[key])}`;
  return out;
}

function l7Endpoints(event: L7Event): string {
  const local = endpoint(event.localAddress, event.localPort);
  const remote = endpoint(event.remoteAddress, event.remotePort);
  return event.side === 'server' ? `${remote} -> ${local}` : `${local} -> ${remote}`;
}

export function spanToText(event: L7Event, span: ObservedSpan, verbosity: Verbosity): string {
  const attrs = span.attributes;
  const error = span.status.code === SpanStatusCode.ERROR ? ` ERROR(${formatValue(attrs[ATTR_ERROR_TYPE] ?? span.status.message ?? 'error')})` : '';
  let line =
    `${isoFromHrTime(span.startTime)} span ${event.kind} ${SPAN_KIND_NAMES[span.kind]} "${span.name}" ` +
    `${transactionSummary(event, attrs)} ${formatSeconds(span.durationUs / 1e6)}${error} ${l7Endpoints(event)} ${processLabel(event)}`;
  if (verbosity === 'basic') return line;
  const ctx = span.spanContext();
  const parent = span.parentSpanContext ? ` parent_span_id=${span.parentSpanContext.spanId}` : '';
  if (verbosity === 'normal') {
    line += `\n    trace_id=${ctx.traceId} span_id=${ctx.spanId}${parent}\n    ${attributesOneLine(attrs)}`;
    return line;
  }
  line += `\n    trace_id: ${ctx.traceId}\n    span_id: ${ctx.spanId}`;
  if (span.parentSpanContext) line += `\n    parent_span_id: ${span.parentSpanContext.spanId}`;
  line += `\n    start: ${isoFromHrTime(span.startTime)}\n    end: ${isoFromHrTime(span.endTime)}`;
  if (span.status.message) line += `\n    status_message: ${span.status.message}`;
  line += `\n    attributes:${attributesBlock(attrs, '      ')}`;
  return line;
}

/** Classic 16-bytes-per-row hex dump with an ASCII column. */
export function hexDump(data: Uint8Array, limit: number, indent: string): string {
  const n = Math.min(data.length, limit);
  let out = '';
  for (let row = 0; row < n; row += 16) {
    let hex = '';
    let ascii = '';
    for (let i = row; i < row + 16; i++) {
      if (i < n) {
        const b = data[i];
        hex += (b < 16 ? '0' : '') + b.toString(16) + ' ';
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += '   ';
      }
    }
    out += `\n${indent}${row.toString(16).padStart(4, '0')}  ${hex} ${ascii}`;
  }
  return out;
}

export function logToText(log: LogData, verbosity: Verbosity, payload?: { event: PayloadEvent; bytes: number }): string {
  let line = `${isoFromUs(log.timeUs)} log ${log.kind} ${log.severityText} ${log.body}`;
  if (verbosity === 'basic') return line;
  if (verbosity === 'normal') return `${line}\n    ${attributesOneLine(log.attributes)}`;
  line += `\n    event_name: ${log.eventName}\n    attributes:${attributesBlock(log.attributes, '      ')}`;
  if (payload && payload.bytes > 0) {
    const shown = Math.min(payload.event.data.length, payload.bytes);
    line += `\n    data (first ${shown} of ${payload.event.originalLength} bytes):${hexDump(payload.event.data, payload.bytes, '      ')}`;
  }
  return line;
}

function unitSuffix(unit: string): string {
  return unit ? ` ${unit}` : '';
}

function metricDataPointLines(metric: MetricData, verbosity: Verbosity, now: string): string[] {
  const name = metric.descriptor.name;
  const unit = unitSuffix(metric.descriptor.unit);
  const type = metricTypeName(metric);
  const lines: string[] = [];
  const head = (attributes: Attributes): string => {
    const attrs = attributesOneLine(attributes);
    return `${now} metric ${name}${attrs ? `{${attrs}}` : ''} ${type}`;
  };
  switch (metric.dataPointType) {
    case DataPointType.HISTOGRAM:
      for (const p of metric.dataPoints) {
        let line = `${head(p.attributes)} count=${p.value.count} sum=${p.value.sum}${unit}`;
        if (p.value.min !== undefined) line += ` min=${p.value.min}${unit} max=${p.value.max}${unit}`;
        if (verbosity !== 'basic') {
          const { boundaries, counts } = p.value.buckets;
          const buckets = counts.map((c, i) => `${i < boundaries.length ? `<=${boundaries[i]}` : `>${boundaries[boundaries.length - 1]}`}:${c}`);
          line += `\n    buckets: ${buckets.join(' ')}`;
        }
        lines.push(line);
      }
      break;
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      for (const p of metric.dataPoints) {
        lines.push(`${head(p.attributes)} count=${p.value.count} sum=${p.value.sum}${unit} scale=${p.value.scale}`);
      }
      break;
    case DataPointType.SUM:
    case DataPointType.GAUGE:
      for (const p of metric.dataPoints) lines.push(`${head(p.attributes)} value=${p.value}${unit}`);
      break;
  }
  if (verbosity === 'detailed' && lines.length > 0 && metric.descriptor.description) {
    lines[0] = `${lines[0]}\n    description: ${metric.descriptor.description}`;
  }
  return lines;
}

export function resourceMetricsToTextLines(rm: ResourceMetrics, verbosity: Verbosity, now: string): string[] {
  const lines: string[] = [];
  if (verbosity === 'detailed') lines.push(`${now} metrics resource ${attributesOneLine(rm.resource.attributes)}`);
  for (const sm of rm.scopeMetrics) {
    for (const metric of sm.metrics) lines.push(...metricDataPointLines(metric, verbosity, now));
  }
  return lines;
}
