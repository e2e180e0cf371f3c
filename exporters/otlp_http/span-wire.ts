/**
 * The form in which spans cross to the serializer worker (structured clone), and back.
 *
 * Only what the OTLP span serializers read is sent: ids, flags, name, kind, times, status and
 * attributes. Resource and instrumentation scope are sent once per worker context (see
 * serializer-worker.ts), so the rebuilt spans share ONE Resource object, as the serializers'
 * grouping by object identity requires. Times travel as four numbers rather than two HrTime
 * arrays: every object in a structured clone costs a header and an allocation on both sides.
 */
import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

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

const NO_EVENTS = Object.freeze([]) as unknown as TimedEvent[];
const NO_LINKS = Object.freeze([]) as unknown as Link[];

/** A span rebuilt in the worker; the serializers see the same values the main thread's span had. */
class WorkerSpan implements ReadableSpan {
  readonly ended = true;
  readonly events = NO_EVENTS;
  readonly links = NO_LINKS;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;

  constructor(
    readonly name: string,
    readonly kind: SpanKind,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly status: SpanStatus,
    readonly attributes: Attributes,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {}

  spanContext(): SpanContext {
    return this.context;
  }

  get duration(): HrTime {
    let s = this.endTime[0] - this.startTime[0];
    let ns = this.endTime[1] - this.startTime[1];
    if (ns < 0) {
      s -= 1;
      ns += 1e9;
    }
    return [s, ns];
  }
}

export function fromWire(wire: readonly WireSpan[], resource: Resource, scope: InstrumentationScope): ReadableSpan[] {
  const out: ReadableSpan[] = new Array(wire.length);
  for (let i = 0; i < wire.length; i++) {
    const w = wire[i];
    const parent: SpanContext | undefined = w.parentSpanId
      ? { traceId: w.traceId, spanId: w.parentSpanId, traceFlags: w.traceFlags, isRemote: w.parentIsRemote }
      : undefined;
    out[i] = new WorkerSpan(
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
    );
  }
  return out;
}
