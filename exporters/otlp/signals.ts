/**
 * Per-signal plumbing: URLs, content types and the OpenTelemetry serializers that produce
 * standard OTLP bodies (protobuf or JSON) from SDK-shaped records.
 */
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { redactUrl } from '../shared/redact';
import type { OtlpExporterConfig } from './config.generated';

export type Signal = 'traces' | 'metrics' | 'logs';
export type Encoding = 'proto' | 'json';
/** The `protocol` option: OTEL_EXPORTER_OTLP_PROTOCOL's values. */
export type Protocol = NonNullable<OtlpExporterConfig['protocol']>;

/** What a protocol's payloads are encoded in (OTLP/gRPC carries protobuf only). */
export function encodingOf(protocol: Protocol): Encoding {
  return protocol === 'http/json' ? 'json' : 'proto';
}

export const CONTENT_TYPES: Readonly<Record<Encoding, string>> = {
  proto: 'application/x-protobuf',
  json: 'application/json',
};

/** The Export method of each OTLP collector service (protocol: grpc). */
const GRPC_PATHS: Readonly<Record<Signal, string>> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/**
 * The signal's own full URL when it has one; else `endpoint` + `/v1/<signal>` (OTLP/HTTP) or
 * + the service's Export method path (OTLP/gRPC).
 */
export function signalUrl(endpoint: string, override: string, signal: Signal, protocol: Protocol = 'http/protobuf'): URL {
  if (override) return new URL(override);
  const path = protocol === 'grpc' ? GRPC_PATHS[signal] : `/v1/${signal}`;
  return new URL(`${endpoint.replace(/\/+$/, '')}${path}`);
}

/** A URL problem in the user's words, or undefined when the URL is usable. */
export function checkUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not echoed: the value may hold credentials (userinfo, an expanded secret).
    return 'is not a URL; write it as http://host:4318 or https://host (with credentials: http://user:password@host:4318)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${redactUrl(url)} must use http:// or https:// (got ${url.protocol})`;
  return undefined;
}

export function serializeSpans(encoding: Encoding, spans: ReadableSpan[]): Uint8Array | undefined {
  return (encoding === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer).serializeRequest(spans);
}

export function serializeLogs(encoding: Encoding, records: ReadableLogRecord[]): Uint8Array | undefined {
  return (encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).serializeRequest(records);
}

export function serializeMetrics(encoding: Encoding, metrics: ResourceMetrics): Uint8Array | undefined {
  return (encoding === 'json' ? JsonMetricsSerializer : ProtobufMetricsSerializer).serializeRequest(metrics);
}

/** Items the backend said it rejected (OTLP partial success), with its message. */
export function rejectedItems(encoding: Encoding, signal: Signal, body: Buffer): { rejected: number; message: string } {
  if (body.length === 0) return { rejected: 0, message: '' };
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  let partial: { rejectedSpans?: unknown; rejectedLogRecords?: unknown; rejectedDataPoints?: unknown; errorMessage?: string } | undefined;
  switch (signal) {
    case 'traces':
      partial = (encoding === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer).deserializeResponse(bytes).partialSuccess;
      break;
    case 'logs':
      partial = (encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer).deserializeResponse(bytes).partialSuccess;
      break;
    case 'metrics':
      partial = (encoding === 'json' ? JsonMetricsSerializer : ProtobufMetricsSerializer).deserializeResponse(bytes).partialSuccess;
      break;
  }
  if (!partial) return { rejected: 0, message: '' };
  // int64 fields arrive as strings in OTLP/JSON and as numbers or Long-like objects in protobuf.
  const raw = partial.rejectedSpans ?? partial.rejectedLogRecords ?? partial.rejectedDataPoints ?? 0;
  const rejected = Number(typeof raw === 'object' && raw !== null ? String(raw) : raw);
  return { rejected: Number.isFinite(rejected) ? rejected : 0, message: partial.errorMessage ?? '' };
}
