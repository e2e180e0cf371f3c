/**
 * Semantic-convention names that are not in the STABLE entry point of
 * @opentelemetry/semantic-conventions, plus this project's own names.
 *
 * Why copies: the package's `incubating` entry point may rename or remove any of these in a minor
 * release, and its authors ask users to copy the incubating names they need instead of importing
 * them. Stable names (http.*, url.*, server.*, client.*, network.* transport/type/peer/local,
 * rpc.method, rpc.system.name, rpc.status_code, k8s.pod.name, container.id, error.type, ...) are
 * imported from the package's main entry point where they are used; do not copy them here.
 *
 * Shared by several components: edits are additive only (add names, never rename or remove one,
 * since dashboards depend on them).
 */

// ---- Incubating OpenTelemetry semantic conventions (copied from semantic-conventions 1.45.0) ----

export const ATTR_PROCESS_PID = 'process.pid' as const;
export const ATTR_PROCESS_EXECUTABLE_NAME = 'process.executable.name' as const;
export const ATTR_THREAD_ID = 'thread.id' as const;
export const ATTR_HOST_NAME = 'host.name' as const;

export const ATTR_DNS_QUESTION_NAME = 'dns.question.name' as const;
export const ATTR_DNS_ANSWERS = 'dns.answers' as const;

export const ATTR_TLS_PROTOCOL_NAME = 'tls.protocol.name' as const;
export const ATTR_TLS_PROTOCOL_VERSION = 'tls.protocol.version' as const;
export const ATTR_TLS_CIPHER = 'tls.cipher' as const;
export const ATTR_TLS_NEXT_PROTOCOL = 'tls.next_protocol' as const;
export const ATTR_TLS_CLIENT_SERVER_NAME = 'tls.client.server_name' as const;
export const ATTR_TLS_ESTABLISHED = 'tls.established' as const;

export const ATTR_HTTP_REQUEST_BODY_SIZE = 'http.request.body.size' as const;
export const ATTR_HTTP_RESPONSE_BODY_SIZE = 'http.response.body.size' as const;

export const ATTR_K8S_SERVICE_NAME = 'k8s.service.name' as const;

/** `transmit` or `receive`; used on byte/packet counters. */
export const ATTR_NETWORK_IO_DIRECTION = 'network.io.direction' as const;
export const NETWORK_IO_DIRECTION_VALUE_TRANSMIT = 'transmit' as const;
export const NETWORK_IO_DIRECTION_VALUE_RECEIVE = 'receive' as const;
export const ATTR_NETWORK_CONNECTION_STATE = 'network.connection.state' as const;

export const METRIC_DNS_LOOKUP_DURATION = 'dns.lookup.duration' as const;

/**
 * Explicit bucket boundaries (seconds) the semantic conventions recommend for
 * http.*.request.duration, rpc.*.call.duration and dns.lookup.duration.
 */
export const SEMCONV_DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

// ---- This project's own names, until OpenTelemetry defines equivalents -------------------------

/** Namespace of every project-specific attribute, metric and event name. */
export const PROJECT_NAMESPACE = 'network_observer' as const;

/** Instrumentation scope name of everything the observer emits. */
export const INSTRUMENTATION_SCOPE_NAME = 'network-observer' as const;

/** Who initiated the connection or flow: `inbound`, `outbound` or `unknown`. */
export const ATTR_NO_DIRECTION = 'network_observer.direction' as const;
export const ATTR_NO_SOCKET_COOKIE = 'network_observer.socket.cookie' as const;
export const ATTR_NO_NETNS_ID = 'network_observer.netns.id' as const;
export const ATTR_NO_CGROUP_ID = 'network_observer.process.cgroup_id' as const;
/** Probability with which a sampler kept the event (count it 1/ratio times). */
export const ATTR_NO_SAMPLE_RATIO = 'network_observer.sample_ratio' as const;

export const ATTR_NO_BYTES_SENT = 'network_observer.bytes.sent' as const;
export const ATTR_NO_BYTES_RECEIVED = 'network_observer.bytes.received' as const;
export const ATTR_NO_SEGMENTS_SENT = 'network_observer.tcp.segments.sent' as const;
export const ATTR_NO_SEGMENTS_RECEIVED = 'network_observer.tcp.segments.received' as const;
export const ATTR_NO_PACKETS_SENT = 'network_observer.packets.sent' as const;
export const ATTR_NO_PACKETS_RECEIVED = 'network_observer.packets.received' as const;
/** Smoothed round-trip time, seconds. */
export const ATTR_NO_TCP_SRTT = 'network_observer.tcp.srtt' as const;
export const ATTR_NO_TCP_RETRANSMITS = 'network_observer.tcp.retransmits' as const;
/** Connection or flow age, seconds. */
export const ATTR_NO_DURATION = 'network_observer.duration' as const;
export const ATTR_NO_CLOSE_REASON = 'network_observer.connection.close_reason' as const;
export const ATTR_NO_FAILURE_REASON = 'network_observer.connection.failure_reason' as const;
export const ATTR_NO_ERROR_NAME = 'network_observer.connection.error_name' as const;
export const ATTR_NO_FLOW_FINAL = 'network_observer.flow.final' as const;

export const ATTR_NO_PEER_PROCESS_PID = 'network_observer.peer.process.pid' as const;
export const ATTR_NO_PEER_PROCESS_EXECUTABLE_NAME = 'network_observer.peer.process.executable.name' as const;
// The remote end's Kubernetes identity (k8s_attributes enrich_peer); semconv has no peer form yet.
export const ATTR_NO_PEER_K8S_NAMESPACE_NAME = 'network_observer.peer.k8s.namespace.name' as const;
export const ATTR_NO_PEER_K8S_POD_NAME = 'network_observer.peer.k8s.pod.name' as const;
export const ATTR_NO_PEER_K8S_SERVICE_NAME = 'network_observer.peer.k8s.service.name' as const;
export const ATTR_NO_PEER_K8S_OWNER_KIND = 'network_observer.peer.k8s.owner.kind' as const;
export const ATTR_NO_PEER_K8S_OWNER_NAME = 'network_observer.peer.k8s.owner.name' as const;

export const ATTR_NO_ICMP_TYPE = 'network_observer.icmp.type' as const;
export const ATTR_NO_ICMP_CODE = 'network_observer.icmp.code' as const;
export const ATTR_NO_ICMP_NAME = 'network_observer.icmp.name' as const;
export const ATTR_NO_ICMP_ECHO_ID = 'network_observer.icmp.echo.id' as const;
export const ATTR_NO_ICMP_ECHO_SEQUENCE = 'network_observer.icmp.echo.sequence' as const;
export const ATTR_NO_ICMP_BYTES = 'network_observer.icmp.bytes' as const;

export const ATTR_NO_DNS_QUESTION_TYPE = 'network_observer.dns.question.type' as const;
export const ATTR_NO_DNS_RESPONSE_CODE = 'network_observer.dns.response_code' as const;
export const ATTR_NO_DNS_TRANSACTION_ID = 'network_observer.dns.transaction_id' as const;

export const ATTR_NO_GRPC_STATUS_CODE_NUMBER = 'network_observer.grpc.status_code_number' as const;
export const ATTR_NO_HTTP2_STREAM_ID = 'network_observer.http2.stream_id' as const;

export const ATTR_NO_TLS_OFFERED_VERSIONS = 'network_observer.tls.offered_versions' as const;
export const ATTR_NO_TLS_OFFERED_ALPN = 'network_observer.tls.offered_alpn' as const;
export const ATTR_NO_TLS_JA4 = 'network_observer.tls.ja4' as const;

export const ATTR_NO_PAYLOAD_DATA_DIRECTION = 'network_observer.payload.data_direction' as const;
export const ATTR_NO_PAYLOAD_FD = 'network_observer.payload.fd' as const;
export const ATTR_NO_PAYLOAD_CAPTURED_LENGTH = 'network_observer.payload.captured_length' as const;
export const ATTR_NO_PAYLOAD_ORIGINAL_LENGTH = 'network_observer.payload.original_length' as const;
export const ATTR_NO_PAYLOAD_TRUNCATED = 'network_observer.payload.truncated' as const;

/** Event names of the log records made from lifecycle events (`network_observer.<kind>`). */
export const EVENT_NAME_PREFIX = 'network_observer.' as const;

/**
 * Marks the series that collects everything beyond a cardinality cap, as the OpenTelemetry
 * metrics SDK specification names it (not exported by the semantic-conventions package).
 */
export const ATTR_OTEL_METRIC_OVERFLOW = 'otel.metric.overflow' as const;

// ---- Connection and flow metrics (processors/conntrack), until semconv has flow metrics --------

/** Open connections and active flows, by network.transport (and network.connection.state for TCP). */
export const METRIC_NO_CONNECTION_ACTIVE = 'network_observer.connection.active' as const;
export const METRIC_NO_CONNECTION_OPENED = 'network_observer.connection.opened' as const;
/** By network_observer.connection.close_reason. */
export const METRIC_NO_CONNECTION_CLOSED = 'network_observer.connection.closed' as const;
/** Failed connects, by error.type (refused, timeout, reset, unreachable, unknown). */
export const METRIC_NO_CONNECTION_FAILED = 'network_observer.connection.failed' as const;
/** Seconds. */
export const METRIC_NO_CONNECTION_DURATION = 'network_observer.connection.duration' as const;
/** Smoothed round-trip time at close, seconds. */
export const METRIC_NO_CONNECTION_RTT = 'network_observer.connection.rtt' as const;
export const METRIC_NO_CONNECTION_RETRANSMITS = 'network_observer.connection.retransmits' as const;
/** Bytes, by network.io.direction (transmit/receive), TCP, UDP and ICMP. */
export const METRIC_NO_IO = 'network_observer.io' as const;
/** Packets (TCP segments, UDP datagrams, ICMP messages), by network.io.direction. */
export const METRIC_NO_PACKETS = 'network_observer.packets' as const;
