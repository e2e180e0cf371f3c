/**
 * The typed event model that flows through every pipeline.
 *
 * Components pass batches (`NetworkEvent[]`), never single events, so per-call costs are paid
 * once per batch. Every event shares `EventHeader`; `kind` discriminates the rest.
 *
 * Time: the kernel stamps boot-time nanoseconds. Receivers convert once, at the edge, to
 * wall-clock epoch microseconds (`timeUs`), which fit a double exactly; durations stay in
 * nanoseconds because they are small.
 */

export type Transport = 'tcp' | 'udp' | 'icmp';
export type NetworkType = 'ipv4' | 'ipv6';
/** Who initiated the connection or flow, as seen from the observed process. */
export type Direction = 'inbound' | 'outbound' | 'unknown';
/** Which side of an L7 exchange the observed process played. */
export type ObservedSide = 'client' | 'server';

export interface ProcessInfo {
  /** Process id (tgid); 0 when the kernel did not know it (softirq context). */
  pid: number;
  /** Thread id; 0 when unknown. */
  tid: number;
  /** Kernel task name (up to 15 characters); '' when unknown. */
  comm: string;
  /** cgroup v2 id of the process; 0 when unknown. Used by k8s enrichment. */
  cgroupId: number;
}

export interface K8sMetadata {
  namespace?: string;
  podName?: string;
  podUid?: string;
  containerName?: string;
  containerId?: string;
  nodeName?: string;
  /** Controlling workload, e.g. kind Deployment, name checkout. */
  ownerKind?: string;
  ownerName?: string;
  serviceName?: string;
  labels?: Readonly<Record<string, string>>;
  /** Pod annotations the k8s_attributes processor was configured to copy. */
  annotations?: Readonly<Record<string, string>>;
}

export interface EventHeader {
  /** Wall-clock time of the event, epoch microseconds. */
  timeUs: number;
  process: ProcessInfo;
  transport: Transport;
  networkType: NetworkType;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  direction: Direction;
  /**
   * Kernel socket cookie: unique per socket for the life of the host, so it joins L7
   * transactions to their connection. 0 when unknown.
   */
  socketCookie: number;
  /** Network namespace inode; separates identical tuples in different namespaces. 0 when unknown. */
  netnsId: number;
  /** Filled by k8s enrichment when the process belongs to a pod. */
  k8s?: K8sMetadata;
  /**
   * The remote side's pod or service when its address is a known pod IP or Service cluster IP
   * (k8s_attributes with enrich_peer). Shared between events: replace it, never mutate it.
   */
  peerK8s?: K8sMetadata;
  /**
   * Probability with which this event was kept by samplers upstream (1 when unsampled),
   * so counts can be scaled back by 1/ratio.
   */
  sampleRatio?: number;
}

export interface ConnectionOpenedEvent extends EventHeader {
  kind: 'connection.opened';
  transport: 'tcp';
}

export type CloseReason = 'fin' | 'reset' | 'timeout' | 'evicted' | 'refused' | 'unknown';

export interface ConnectionCounters {
  bytesSent: number;
  bytesReceived: number;
  segmentsSent: number;
  segmentsReceived: number;
  /** Smoothed round-trip time in microseconds; 0 when unknown. */
  srttUs: number;
  retransmits: number;
}

export interface ConnectionClosedEvent extends EventHeader, ConnectionCounters {
  kind: 'connection.closed';
  transport: 'tcp';
  durationNs: number;
  closeReason: CloseReason;
  /** The other endpoint's process when it is on this host too (loopback, same node). */
  peerProcess?: ProcessInfo;
}

/** Periodic update of a long-lived connection with cumulative counters so far. */
export interface ConnectionUpdatedEvent extends EventHeader, ConnectionCounters {
  kind: 'connection.updated';
  transport: 'tcp';
  durationNs: number;
  peerProcess?: ProcessInfo;
}

export type ConnectFailureReason = 'refused' | 'timeout' | 'reset' | 'unreachable' | 'unknown';

export interface ConnectionFailedEvent extends EventHeader {
  kind: 'connection.failed';
  transport: 'tcp';
  reason: ConnectFailureReason;
  /** errno-style name when known, e.g. ECONNREFUSED. */
  errorName?: string;
}

/**
 * A UDP or ICMP flow's counters since it was first seen (cumulative), as the ebpf_network
 * receiver reports them and conntrack re-emits them. conntrack can also read per-packet deltas
 * from other receivers (its `flow_counters: delta` option).
 */
export interface FlowUpdatedEvent extends EventHeader {
  kind: 'flow.updated';
  transport: 'udp' | 'icmp';
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  durationNs: number;
  /** True when this is the flow's last update (idle timeout, eviction, shutdown). */
  final: boolean;
  /** The other endpoint's process when it is on this host too (set by conntrack for UDP). */
  peerProcess?: ProcessInfo;
}

export interface IcmpEvent extends EventHeader {
  kind: 'icmp';
  transport: 'icmp';
  icmpType: number;
  icmpCode: number;
  /** Human name for type/code, e.g. echo-request, port-unreachable. */
  icmpName: string;
  echoId?: number;
  echoSequence?: number;
  /** Bytes of the ICMP message including its header. */
  bytes: number;
}

/** A captured chunk of application data read or written on a socket. */
export interface PayloadEvent extends EventHeader {
  kind: 'payload';
  /** 'send' for data the process wrote, 'recv' for data it read. */
  dataDirection: 'send' | 'recv';
  fd: number;
  /** The first bytes of the call (at most the configured capture size). */
  data: Uint8Array;
  /** Bytes the syscall really moved; larger than data.length when truncated. */
  originalLength: number;
  truncated: boolean;
  /**
   * Plaintext of a TLS connection, taken at the TLS library (SSL_read/SSL_write) rather than
   * the socket; the connection fields are those of the TCP connection it travels on. Absent
   * or false for socket data.
   */
  decrypted?: boolean;
  /**
   * Set when the kernel summarised a whole HTTP/1 exchange at this socket (the receiver's
   * `http1_summary_above`): the event is the request, whole, and this is its response, whose
   * bytes were not copied. The l7 processor counts and measures such an exchange but makes no
   * transaction event of it. Absent for ordinary payload.
   */
  h1Response?: H1ResponseSummary;
  /**
   * Set when the kernel summarised whole HTTP/1 exchanges at this socket and only counted them
   * (`http1_summary_above` with no metrics exporter in the collector): that many exchanges since
   * the socket's last count, sent every 64 exchanges and ahead of the socket's live-scan update
   * and close. The event carries no data; the l7 processor adds the count to its transaction
   * counters and passes nothing on. Absent for ordinary payload.
   */
  h1Exchanges?: number;
}

/** The response of a summarised HTTP/1 exchange (PayloadEvent.h1Response). */
export interface H1ResponseSummary {
  /** When the call that moved the response returned, epoch microseconds. */
  timeUs: number;
  /** Bytes of the whole response, head and body, moved in that one call. */
  length: number;
  /** Bytes of its body: its Content-Length, or 0 (HEAD, 204, 304). */
  bodyLength: number;
  status: number;
  /** x of the status line's HTTP/1.x. */
  versionMinor: number;
  /** The process and thread that moved the response. */
  pid: number;
  tid: number;
  dataDirection: 'send' | 'recv';
}

export interface TraceContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

interface L7Common extends EventHeader {
  side: ObservedSide;
  /** First request byte seen, epoch microseconds. */
  startUs: number;
  /** Last response byte seen (or timeout), epoch microseconds. */
  endUs: number;
  /** W3C traceparent parsed from the request, when present. */
  traceContext?: TraceContext;
  /** Set when the exchange did not complete (timeout, connection closed, malformed). */
  errorType?: string;
}

/**
 * The TLS handshake of the connection an HTTPS transaction travelled on: set on transactions
 * parsed from decrypted payload (fields absent when the handshake was not seen).
 */
export interface TlsConnectionInfo {
  /** SNI of the ClientHello. */
  serverName?: string;
  /** Negotiated version, e.g. '1.3'. */
  version?: string;
  /** ALPN the server chose (in TLS 1.3 it is encrypted, so known only for TLS 1.2). */
  alpn?: string;
  cipher?: string;
}

export interface HttpTransactionEvent extends L7Common {
  kind: 'l7.http';
  method: string;
  path: string;
  /** Only when the l7 processor is configured to keep query strings. */
  query?: string;
  host?: string;
  userAgent?: string;
  httpVersion: string;
  /** 0 when no response was seen. */
  statusCode: number;
  requestBodySize: number;
  responseBodySize: number;
  /** Set when the exchange was HTTPS, parsed from plaintext taken at the TLS library. */
  tls?: TlsConnectionInfo;
  /**
   * Built from a summarised exchange (PayloadEvent.h1Response): counted and measured by the l7
   * processor, which never passes it on. Absent on every transaction that leaves it.
   */
  measuredOnly?: boolean;
}

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  data: string;
}

export interface DnsTransactionEvent extends L7Common {
  kind: 'l7.dns';
  transactionId: number;
  questionName: string;
  questionType: string;
  /** NOERROR, NXDOMAIN, SERVFAIL, ...; '' when no response was seen. */
  responseCode: string;
  answers: DnsAnswer[];
}

export interface GrpcCallEvent extends L7Common {
  kind: 'l7.grpc';
  /** true for gRPC; false for a plain HTTP/2 request. */
  isGrpc: boolean;
  method: string;
  path: string;
  authority?: string;
  /** The request's `user-agent` header, when sent. */
  userAgent?: string;
  /** `package.Service/Method` for gRPC. */
  rpcMethod?: string;
  httpStatusCode: number;
  /** Numeric grpc-status, -1 when no trailers were seen. */
  grpcStatusCode: number;
  /** OK, NOT_FOUND, ... */
  grpcStatusName?: string;
  streamId: number;
  /** Query string of `:path` (without '?'); only when the l7 processor keeps query strings. */
  query?: string;
  /** DATA payload bytes (padding excluded) the client sent on the stream, when seen. */
  requestBodySize?: number;
  /** DATA payload bytes (padding excluded) the server sent on the stream, when seen. */
  responseBodySize?: number;
  /** Set when the call went over TLS, parsed from plaintext taken at the TLS library. */
  tls?: TlsConnectionInfo;
}

export interface TlsHandshakeEvent extends L7Common {
  kind: 'l7.tls';
  serverName?: string;
  offeredVersions: string[];
  offeredAlpn: string[];
  /** Negotiated version, e.g. '1.3'; '' when no ServerHello was seen. */
  version: string;
  cipher?: string;
  alpn?: string;
  ja4?: string;
  /** The server answered the first ClientHello with a HelloRetryRequest (TLS 1.3). */
  helloRetry?: boolean;
}

export type L7Event = HttpTransactionEvent | DnsTransactionEvent | GrpcCallEvent | TlsHandshakeEvent;

export type NetworkEvent =
  | ConnectionOpenedEvent
  | ConnectionClosedEvent
  | ConnectionUpdatedEvent
  | ConnectionFailedEvent
  | FlowUpdatedEvent
  | IcmpEvent
  | PayloadEvent
  | L7Event;

export type EventKind = NetworkEvent['kind'];

export const EVENT_KINDS: readonly EventKind[] = [
  'connection.opened',
  'connection.closed',
  'connection.updated',
  'connection.failed',
  'flow.updated',
  'icmp',
  'payload',
  'l7.http',
  'l7.dns',
  'l7.grpc',
  'l7.tls',
];

export function isL7Event(event: NetworkEvent): event is L7Event {
  return event.kind.startsWith('l7.');
}
