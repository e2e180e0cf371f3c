/**
 * The form in which spans cross to the serializer worker (structured clone), and back.
 *
 * Only what the OTLP span serializers read is sent: ids, flags, name, kind, times, status and
 * attributes. Resource and instrumentation scope are sent once per worker context (see
 * serializer-worker.ts), so the rebuilt spans share ONE Resource object, as the serializers'
 * grouping by object identity requires. Times travel as four numbers rather than two HrTime
 * arrays: every object in a structured clone costs a header and an allocation on both sides.
 */
import type { Attributes, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ObservedSpan } from '../../core/otel/spans';

export interface WireSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  traceFlags: number;
  /** Empty when the span has no parent. */
  parentSpanId: string;
  parentIsRemote: boolean;
  startS: number;
  startNs: number;
  endS: number;
  endNs: number;
  /** Shared frozen status objects are cloned once per message (structured clone keeps identity). */
  status: SpanStatus;
  attributes: Attributes;
}


export function toWire(spans: readonly ReadableSpan[]): WireSpan[] {
  const out: WireSpan[] = new Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i];
    const context = span.spanContext();
    const parent = span.parentSpanContext;
    out[i] = {
      name: span.name,
      kind: span.kind,
      traceId: context.traceId,
      spanId: context.spanId,
      traceFlags: context.traceFlags,
      parentSpanId: parent?.spanId ?? '',
      parentIsRemote: parent?.isRemote === true,
      startS: span.startTime[0],
      startNs: span.startTime[1],
      endS: span.endTime[0],
      endNs: span.endTime[1],
      status: span.status,
      attributes: span.attributes,
    };
  }
  return out;
}

export function fromWire(wire: readonly WireSpan[], resource: Resource, scope: InstrumentationScope): ReadableSpan[] {
  const out: ReadableSpan[] = new Array(wire.length);
  for (let i = 0; i < wire.length; i++) {
    const w = wire[i];
    const parent: SpanContext | undefined = w.parentSpanId
      ? { traceId: w.traceId, spanId: w.parentSpanId, traceFlags: w.traceFlags, isRemote: w.parentIsRemote }
      : undefined;
    // The same span class the main thread builds, so both sides hand the serializer one shape.
    const durationUs = (w.endS - w.startS) * 1e6 + (w.endNs - w.startNs) / 1e3;
    out[i] = new ObservedSpan(
      w.name,
      w.kind,
      { traceId: w.traceId, spanId: w.spanId, traceFlags: w.traceFlags },
      parent,
      [w.startS, w.startNs],
      [w.endS, w.endNs],
      w.status,
      w.attributes,
      resource,
      scope,
      durationUs,
    );
  }
  return out;
}
