/** Builders for payload events as the eBPF receiver produces them, for the l7 tests. */
import type { ConnectionClosedEvent, H1ResponseSummary, L7Event, PayloadEvent, ProcessInfo } from '../../../core/events';
import type { Emit, ProtocolSession } from '../../../processors/l7/protocol';

export interface Endpoint {
  pid: number;
  comm: string;
  address: string;
  port: number;
  cookie: number;
}

export const CLIENT: Endpoint = { pid: 1001, comm: 'curl', address: '127.0.0.1', port: 40000, cookie: 11 };
export const SERVER: Endpoint = { pid: 2002, comm: 'node', address: '127.0.0.1', port: 18080, cookie: 22 };

const processes = new Map<number, ProcessInfo>();
function processOf(e: Endpoint): ProcessInfo {
  let p = processes.get(e.pid);
  if (!p) {
    p = { pid: e.pid, tid: e.pid, comm: e.comm, cgroupId: 0 };
    processes.set(e.pid, p);
  }
  return p;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface PayloadOptions {
  transport?: 'tcp' | 'udp';
  /** Capture only this many bytes (originalLength stays the full length). */
  captureLimit?: number;
  originalLength?: number;
}

/** A chunk observed on `self`'s socket talking to `peer`. */
export function payload(
  self: Endpoint,
  peer: Endpoint,
  dataDirection: 'send' | 'recv',
  data: Uint8Array | string,
  timeUs: number,
  options: PayloadOptions = {},
): PayloadEvent {
  const bytes = typeof data === 'string' ? enc(data) : data;
  const limit = options.captureLimit ?? bytes.length;
  const captured = bytes.length > limit ? bytes.slice(0, limit) : bytes;
  const originalLength = options.originalLength ?? bytes.length;
  return {
    kind: 'payload',
    timeUs,
    process: processOf(self),
    transport: options.transport ?? 'tcp',
    networkType: self.address.includes(':') ? 'ipv6' : 'ipv4',
    localAddress: self.address,
    localPort: self.port,
    remoteAddress: peer.address,
    remotePort: peer.port,
    direction: self.port === SERVER.port || self === SERVER ? 'inbound' : 'outbound',
    socketCookie: self.cookie,
    netnsId: 0,
    dataDirection,
    fd: 5,
    data: captured,
    originalLength,
    truncated: originalLength > captured.length,
  };
}

/** What a test states about the response of a summarised exchange; the rest follows from it. */
export interface SummaryResponse {
  timeUs: number;
  status: number;
  /** Defaults to 0. */
  bodyLength?: number;
  /** Defaults to a short head plus the body. */
  length?: number;
  versionMinor?: number;
}

/**
 * The kernel's summary of one whole HTTP/1 exchange on `self`'s socket, as the receiver decodes
 * it: the request's payload event (sent by a client, received by a server) with `h1Response`.
 */
export function summary(self: Endpoint, peer: Endpoint, request: Uint8Array | string, requestUs: number, response: SummaryResponse): PayloadEvent {
  const requestDirection = self === SERVER || self.port === SERVER.port ? 'recv' : 'send';
  const event = payload(self, peer, requestDirection, request, requestUs);
  const bodyLength = response.bodyLength ?? 0;
  const h1Response: H1ResponseSummary = {
    timeUs: response.timeUs,
    length: response.length ?? 40 + bodyLength,
    bodyLength,
    status: response.status,
    versionMinor: response.versionMinor ?? 1,
    pid: self.pid,
    tid: self.pid,
    dataDirection: requestDirection === 'send' ? 'recv' : 'send',
  };
  event.h1Response = h1Response;
  return event;
}

export function closed(self: Endpoint, peer: Endpoint, timeUs: number): ConnectionClosedEvent {
  return {
    kind: 'connection.closed',
    timeUs,
    process: processOf(self),
    transport: 'tcp',
    networkType: 'ipv4',
    localAddress: self.address,
    localPort: self.port,
    remoteAddress: peer.address,
    remotePort: peer.port,
    direction: 'outbound',
    socketCookie: self.cookie,
    netnsId: 0,
    bytesSent: 0,
    bytesReceived: 0,
    segmentsSent: 0,
    segmentsReceived: 0,
    srttUs: 0,
    retransmits: 0,
    durationNs: 0,
    closeReason: 'fin',
  };
}

/** Feeds events to a session and collects what it emits. */
export class SessionDriver {
  readonly out: L7Event[] = [];
  readonly emit: Emit = (e) => this.out.push(e);
  constructor(readonly session: ProtocolSession) {}

  /** As the engine hands them over: summaries (h1Response) to onH1Summary, the rest to onPayload. */
  feed(...events: PayloadEvent[]): boolean {
    let ok = true;
    for (const e of events) {
      const summarised = e.h1Response;
      if (summarised === undefined) ok = this.session.onPayload(e, this.emit) && ok;
      else ok = this.session.onH1Summary!(e, summarised, this.emit) && ok;
    }
    return ok;
  }
}
