/**
 * L7 transaction -> span. The observer sees finished exchanges, so spans are built directly as
 * ReadableSpan objects (what the OTLP serializers consume) without a Tracer: no context, no
 * sampler, no span processor per event.
 */
import { SpanKind, SpanStatusCode, TraceFlags, isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import type { Attributes, HrTime, Link, SpanContext, SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { L7Event } from '../events';
import * as attributes from './attributes';
import { RandomIds } from './ids';
import { usToHrTime } from './time';

// Plain bindings: CommonJS-compiled namespace imports read through a getter per call (hot path).
const { grpcMethod, isKnownHttpMethod, l7Attributes, l7ErrorType } = attributes;

const NO_EVENTS = Object.freeze([]) as unknown as TimedEvent[];
const NO_LINKS = Object.freeze([]) as unknown as Link[];
const STATUS_UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const STATUS_ERROR: SpanStatus = Object.freeze({ code: SpanStatusCode.ERROR });

/** A finished span reconstructed from observed traffic. */
export class ObservedSpan implements ReadableSpan {
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
    /** Duration in microseconds, kept for renderers. */
    readonly durationUs: number,
  ) {}

  spanContext(): SpanContext {
    return this.context;
  }

  get duration(): HrTime {
    return usToHrTime(this.durationUs);
  }
}

/**
 * Span name per the semantic conventions: HTTP `{method}` (no route template is known from
 * the wire, and the raw path would explode name cardinality; it stays in url.path), `HTTP`
 * for unknown methods; gRPC `{rpc.method}`; DNS `{qtype} {qname}`; TLS `tls handshake`.
 */
export function spanName(event: L7Event): string {
  switch (event.kind) {
    case 'l7.http': {
      const method = event.method.toUpperCase();
      return isKnownHttpMethod(method) ? method : 'HTTP';
    }
    case 'l7.grpc': {
      if (event.isGrpc) return grpcMethod(event) || 'grpc';
      const method = event.method.toUpperCase();
      return isKnownHttpMethod(method) ? method : 'HTTP';
    }
    case 'l7.dns':
      return `${event.questionType} ${event.questionName}`;
    case 'l7.tls':
      return 'tls handshake';
  }
}

export function spanStatus(event: L7Event, errorType: string | undefined): SpanStatus {
  if (errorType === undefined) return STATUS_UNSET;
  // Protocol status codes speak for themselves (semconv: no description for them); only the
  // exchange's own failure (timeout, reset, ...) gets a message.
  if (event.errorType !== undefined && event.errorType === errorType) {
    return { code: SpanStatusCode.ERROR, message: event.errorType };
  }
  return STATUS_ERROR;
}

export interface SpanMapperOptions {
  resource: Resource;
  scope: InstrumentationScope;
  /** Also attach debugging identifiers (thread id, netns, cgroup); implies optIn. */
  detailed?: boolean;
  /** Also attach the semconv Opt-In attributes (local address/port, client.port, body sizes). */
  optIn?: boolean;
}

export class SpanMapper {
  private readonly ids = new RandomIds();
  private readonly resource: Resource;
  private readonly scope: InstrumentationScope;
  private readonly detailed: boolean;
  private readonly optIn: boolean;

  constructor(options: SpanMapperOptions) {
    this.resource = options.resource;
    this.scope = options.scope;
    this.detailed = options.detailed ?? false;
    this.optIn = this.detailed || (options.optIn ?? false);
  }

  map(event: L7Event): ObservedSpan {
    const attrs = l7Attributes(event, this.detailed, this.optIn);
    const errorType = l7ErrorType(event);
    const tc = event.traceContext;
    let context: SpanContext;
    let parent: SpanContext | undefined;
    if (tc && isValidTraceId(tc.traceId) && isValidSpanId(tc.spanId)) {
      // Join the application's trace: the traceparent's span is our parent, we are a new span.
      parent = { traceId: tc.traceId, spanId: tc.spanId, traceFlags: tc.traceFlags, isRemote: true };
      context = { traceId: tc.traceId, spanId: this.ids.spanId(), traceFlags: tc.traceFlags };
    } else {
      context = { traceId: this.ids.traceId(), spanId: this.ids.spanId(), traceFlags: TraceFlags.SAMPLED };
    }
    const endUs = event.endUs >= event.startUs ? event.endUs : event.startUs;
    return new ObservedSpan(
      spanName(event),
      event.side === 'server' ? SpanKind.SERVER : SpanKind.CLIENT,
      context,
      parent,
      usToHrTime(event.startUs),
      usToHrTime(endUs),
      spanStatus(event, errorType),
      attrs,
      this.resource,
      this.scope,
      endUs - event.startUs,
    );
  }
}
