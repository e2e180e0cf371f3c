/** Event builders for sampler and rate-limit tests: one connection seen from either end. */
import type {
  ConnectionClosedEvent,
  ConnectionOpenedEvent,
  HttpTransactionEvent,
  NetworkEvent,
  ProcessInfo,
} from '../../../core/events';

export interface Endpoint {
  address: string;
  port: number;
}

export interface ConnectionSpec {
  client: Endpoint;
  server: Endpoint;
  netnsId?: number;
  /** Socket cookie of the client's socket (0 = unknown). */
  clientCookie?: number;
  /** Socket cookie of the server's socket (0 = unknown). */
  serverCookie?: number;
}

function proc(pid: number, comm: string): ProcessInfo {
  return { pid, tid: pid, comm, cgroupId: 0 };
}

/** A connection.opened event as seen by the client (side 'client') or the server. */
export function opened(spec: ConnectionSpec, side: 'client' | 'server', timeUs = 1_700_000_000_000_000): ConnectionOpenedEvent {
  const local = side === 'client' ? spec.client : spec.server;
  const remote = side === 'client' ? spec.server : spec.client;
  return {
    kind: 'connection.opened',
    transport: 'tcp',
    timeUs,
    process: side === 'client' ? proc(1000, 'curl') : proc(2000, 'nginx'),
    networkType: local.address.includes(':') && !local.address.startsWith('::ffff:') ? 'ipv6' : 'ipv4',
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
    direction: side === 'client' ? 'outbound' : 'inbound',
    socketCookie: (side === 'client' ? spec.clientCookie : spec.serverCookie) ?? 0,
    netnsId: spec.netnsId ?? 4026531840,
  };
}

export function closed(spec: ConnectionSpec, side: 'client' | 'server'): ConnectionClosedEvent {
  return {
    ...opened(spec, side),
    kind: 'connection.closed',
    bytesSent: 100,
    bytesReceived: 200,
    segmentsSent: 3,
    segmentsReceived: 4,
    srttUs: 50,
    retransmits: 0,
    durationNs: 1_000_000,
    closeReason: 'fin',
  };
}

export function http(spec: ConnectionSpec, side: 'client' | 'server', traceId?: string): HttpTransactionEvent {
  const base = opened(spec, side);
  return {
    ...base,
    kind: 'l7.http',
    side,
    startUs: base.timeUs,
    endUs: base.timeUs + 1000,
    ...(traceId !== undefined ? { traceContext: { traceId, spanId: '00f067aa0ba902b7', traceFlags: 1 } } : {}),
    method: 'GET',
    path: '/',
    httpVersion: '1.1',
    statusCode: 200,
    requestBodySize: 0,
    responseBodySize: 10,
  };
}

/** Every event of one connection from both ends. */
export function connectionEvents(spec: ConnectionSpec): NetworkEvent[] {
  return [
    opened(spec, 'client'),
    opened(spec, 'server'),
    http(spec, 'client'),
    http(spec, 'server'),
    closed(spec, 'client'),
    closed(spec, 'server'),
  ];
}

/** A small deterministic PRNG (mulberry32) so statistical tests replay identically. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomTraceId(next: () => number): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += Math.floor(next() * 4294967296).toString(16).padStart(8, '0');
  return out;
}

/** The i-th of a stream of distinct connections: sequential ephemeral ports over many clients. */
export function nthConnection(i: number): ConnectionSpec {
  const clientHost = Math.floor(i / 28000);
  return {
    client: { address: `10.0.${(clientHost >> 8) & 0xff}.${clientHost & 0xff}`, port: 32768 + (i % 28000) },
    server: { address: '10.1.0.10', port: 443 },
    clientCookie: 2 * i + 1,
    serverCookie: 2 * i + 2,
  };
}
