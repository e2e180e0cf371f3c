/**
 * Connection, flow and ICMP events -> log records (body + semconv attributes). The OTLP exporter
 * emits these through @opentelemetry/sdk-logs; stdout renders the same LogData.
 */
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { Attributes } from '@opentelemetry/api';
import { EVENT_KINDS, type EventKind, type NetworkEvent } from '../events';
import { EVENT_NAME_PREFIX } from '../semconv';
import { eventAttributes, type NonL7Event } from './attributes';
import { endpoint, flowEndpoints, formatBytes, formatSeconds, processLabel } from './format';

export interface LogData {
  kind: EventKind;
  /** `network_observer.<kind>`, the OpenTelemetry event name. */
  eventName: string;
  timeUs: number;
  severityNumber: SeverityNumber;
  severityText: string;
  body: string;
  attributes: Attributes;
}

/** Kinds that become log records; payload chunks are internal to the l7 processor. */
export const LOG_EVENT_KINDS: readonly EventKind[] = Object.freeze(EVENT_KINDS.filter((kind) => kind !== 'payload' && !kind.startsWith('l7.')));

const EVENT_NAMES = new Map<EventKind, string>();
function eventName(kind: EventKind): string {
  let name = EVENT_NAMES.get(kind);
  if (name === undefined) {
    name = EVENT_NAME_PREFIX + kind;
    EVENT_NAMES.set(kind, name);
  }
  return name;
}

export function logBody(event: NonL7Event): string {
  const where = flowEndpoints(event);
  switch (event.kind) {
    case 'connection.opened':
      return `${event.transport} connection opened ${where} (${event.direction}) by ${processLabel(event)}`;
    case 'connection.closed':
      return (
        `${event.transport} connection closed ${where} (${event.closeReason}) after ${formatSeconds(event.durationNs / 1e9)}: ` +
        `sent ${formatBytes(event.bytesSent)}, received ${formatBytes(event.bytesReceived)}, ${event.retransmits} retransmits`
      );
    case 'connection.updated':
      return (
        `${event.transport} connection ${where} open for ${formatSeconds(event.durationNs / 1e9)}: ` +
        `sent ${formatBytes(event.bytesSent)}, received ${formatBytes(event.bytesReceived)}, ${event.retransmits} retransmits`
      );
    case 'connection.failed':
      return `${event.transport} connection to ${endpoint(event.remoteAddress, event.remotePort)} failed: ${event.reason}${event.errorName ? ` (${event.errorName})` : ''} by ${processLabel(event)}`;
    case 'flow.updated':
      return (
        `${event.transport} flow ${where}${event.final ? ' ended' : ''} after ${formatSeconds(event.durationNs / 1e9)}: ` +
        `sent ${event.packetsSent} packets/${formatBytes(event.bytesSent)}, received ${event.packetsReceived} packets/${formatBytes(event.bytesReceived)}`
      );
    case 'icmp':
      return `icmp ${event.icmpName || `type ${event.icmpType} code ${event.icmpCode}`} ${where} (${event.bytes} B)`;
    case 'payload': {
      if (event.h1Exchanges !== undefined) return `${event.h1Exchanges} HTTP/1 exchanges counted in the kernel ${where}`;
      const chunk = `payload ${event.dataDirection} ${event.originalLength} B on fd ${event.fd}${event.truncated ? ` (captured ${event.data.length} B)` : ''} ${where}`;
      const r = event.h1Response;
      // A summarised HTTP/1 exchange: this is its request; the response was not copied.
      if (r === undefined) return chunk;
      return `${chunk}; summarised exchange: HTTP/1.${r.versionMinor} ${r.status} response of ${formatBytes(r.length)} ${r.dataDirection} after ${formatSeconds(Math.max(0, r.timeUs - event.timeUs) / 1e6)}`;
    }
  }
}

function severityOf(event: NonL7Event): [SeverityNumber, string] {
  if (event.kind === 'connection.failed') return [SeverityNumber.WARN, 'WARN'];
  if (event.kind === 'connection.closed' && event.closeReason === 'reset') return [SeverityNumber.WARN, 'WARN'];
  if (event.kind === 'payload') return [SeverityNumber.DEBUG, 'DEBUG'];
  return [SeverityNumber.INFO, 'INFO'];
}

/** The log record for any non-L7 event (payload included, for stdout); undefined for L7 events. */
export function toLogData(event: NetworkEvent, detailed = false): LogData | undefined {
  if (event.kind.startsWith('l7.')) return undefined;
  const e = event as NonL7Event;
  const [severityNumber, severityText] = severityOf(e);
  return {
    kind: e.kind,
    eventName: eventName(e.kind),
    timeUs: e.timeUs,
    severityNumber,
    severityText,
    body: logBody(e),
    attributes: eventAttributes(e, detailed),
  };
}
