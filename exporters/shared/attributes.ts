/**
 * NetworkEvent -> OpenTelemetry attributes, named by the semantic conventions. This is THE mapping:
 * the OTLP exporter and the stdout exporter both render what these functions return, so a name
 * seen in `stdout` JSON is the name a backend receives.
 *
 * Hot path (one call per exported event): attributes are written into one object literal per
 * event with constant keys; no intermediate arrays or spreads.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_CONTAINER_ID,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_K8S_CONTAINER_NAME,
  ATTR_K8S_CRONJOB_NAME,
  ATTR_K8S_DAEMONSET_NAME,
  ATTR_K8S_DEPLOYMENT_NAME,
  ATTR_K8S_JOB_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_NODE_NAME,
  ATTR_K8S_POD_LABEL,
  ATTR_K8S_POD_NAME,
  ATTR_K8S_POD_UID,
  ATTR_K8S_REPLICASET_NAME,
  ATTR_K8S_STATEFULSET_NAME,
  ATTR_NETWORK_LOCAL_ADDRESS,
  ATTR_NETWORK_LOCAL_PORT,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  RPC_SYSTEM_NAME_VALUE_GRPC,
} from '@opentelemetry/semantic-conventions';
import * as sc from '../../core/semconv';
import type {
  ConnectionClosedEvent,
  ConnectionFailedEvent,
  ConnectionOpenedEvent,
  ConnectionUpdatedEvent,
  DnsTransactionEvent,
  EventHeader,
  FlowUpdatedEvent,
  GrpcCallEvent,
  HttpTransactionEvent,
  IcmpEvent,
  K8sMetadata,
  L7Event,
  NetworkEvent,
  PayloadEvent,
  TlsHandshakeEvent,
} from '../../core/events';

/** Methods the HTTP semantic conventions know; anything else is reported as `_OTHER`. */
const KNOWN_HTTP_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

export function isKnownHttpMethod(method: string): boolean {
  return KNOWN_HTTP_METHODS.has(method);
}

/** Owner kinds with a semconv attribute for the workload name. */
const OWNER_ATTRIBUTE: Readonly<Record<string, string>> = {
  Deployment: ATTR_K8S_DEPLOYMENT_NAME,
  StatefulSet: ATTR_K8S_STATEFULSET_NAME,
  DaemonSet: ATTR_K8S_DAEMONSET_NAME,
  ReplicaSet: ATTR_K8S_REPLICASET_NAME,
  Job: ATTR_K8S_JOB_NAME,
  CronJob: ATTR_K8S_CRONJOB_NAME,
};

/** `k8s.pod.label.<key>` strings, cached: label keys repeat on every event of a pod. */
const labelKeyCache = new Map<string, string>();
const LABEL_KEY_CACHE_MAX = 4096;
function podLabelKey(key: string): string {
  let name = labelKeyCache.get(key);
  if (name === undefined) {
    name = ATTR_K8S_POD_LABEL(key);
    if (labelKeyCache.size < LABEL_KEY_CACHE_MAX) labelKeyCache.set(key, name);
  }
  return name;
}

export function addK8sAttributes(k8s: K8sMetadata, out: Attributes): void {
  if (k8s.namespace) out[ATTR_K8S_NAMESPACE_NAME] = k8s.namespace;
  if (k8s.podName) out[ATTR_K8S_POD_NAME] = k8s.podName;
  if (k8s.podUid) out[ATTR_K8S_POD_UID] = k8s.podUid;
  if (k8s.containerName) out[ATTR_K8S_CONTAINER_NAME] = k8s.containerName;
  if (k8s.containerId) out[ATTR_CONTAINER_ID] = k8s.containerId;
  if (k8s.nodeName) out[ATTR_K8S_NODE_NAME] = k8s.nodeName;
  if (k8s.ownerKind && k8s.ownerName) {
    const attr = OWNER_ATTRIBUTE[k8s.ownerKind];
    if (attr) out[attr] = k8s.ownerName;
  }
  if (k8s.serviceName) out[sc.ATTR_K8S_SERVICE_NAME] = k8s.serviceName;
  if (k8s.labels) {
    for (const key in k8s.labels) out[podLabelKey(key)] = k8s.labels[key];
  }
}

/**
 * What every event carries: transport, addresses, process and Kubernetes identity.
 * `detailed` adds the identifiers only useful when debugging (netns, cgroup, thread).
 */
export function addHeaderAttributes(event: EventHeader, out: Attributes, detailed: boolean): void {
  out[ATTR_NETWORK_TRANSPORT] = event.transport;
  out[ATTR_NETWORK_TYPE] = event.networkType;
  out[ATTR_NETWORK_LOCAL_ADDRESS] = event.localAddress;
  out[ATTR_NETWORK_LOCAL_PORT] = event.localPort;
  out[ATTR_NETWORK_PEER_ADDRESS] = event.remoteAddress;
  out[ATTR_NETWORK_PEER_PORT] = event.remotePort;
  const proc = event.process;
  if (proc.pid > 0) out[sc.ATTR_PROCESS_PID] = proc.pid;
  if (proc.comm) out[sc.ATTR_PROCESS_EXECUTABLE_NAME] = proc.comm;
  if (event.socketCookie) out[sc.ATTR_NO_SOCKET_COOKIE] = event.socketCookie;
  if (detailed) {
    if (proc.tid > 0) out[sc.ATTR_THREAD_ID] = proc.tid;
    if (proc.cgroupId) out[sc.ATTR_NO_CGROUP_ID] = proc.cgroupId;
    if (event.netnsId) out[sc.ATTR_NO_NETNS_ID] = event.netnsId;
  }
  if (event.sampleRatio !== undefined && event.sampleRatio < 1) out[sc.ATTR_NO_SAMPLE_RATIO] = event.sampleRatio;
  if (event.k8s) addK8sAttributes(event.k8s, out);
}

// ---- L7 ---------------------------------------------------------------------------------------

/** `host`, `host:port`, `[v6]:port` -> [host, port or 0]. */
export function splitHostPort(value: string): [string, number] {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close > 0) {
      const port = value.charCodeAt(close + 1) === 58 /* : */ ? Number(value.slice(close + 2)) : 0;
      return [value.slice(1, close), Number.isInteger(port) && port > 0 && port < 65536 ? port : 0];
    }
    return [value, 0];
  }
  const colon = value.lastIndexOf(':');
  // More than one colon without brackets is a bare IPv6 address, not host:port.
  if (colon < 0 || value.indexOf(':') !== colon) return [value, 0];
  const port = Number(value.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port >= 65536) return [value, 0];
  return [value.slice(0, colon), port];
}

/**
 * server.* and client.* per semconv: the server is the local end on a SERVER span and the remote
 * end on a CLIENT span. A logical name (Host header, :authority, SNI) wins over the IP address.
 */
function addServerClient(event: L7Event, logicalHost: string | undefined, out: Attributes): void {
  const serverSide = event.side === 'server';
  let address = serverSide ? event.localAddress : event.remoteAddress;
  let port = serverSide ? event.localPort : event.remotePort;
  if (logicalHost) {
    const [host, hostPort] = splitHostPort(logicalHost);
    if (host) address = host;
    if (hostPort) port = hostPort;
  }
  out[ATTR_SERVER_ADDRESS] = address;
  out[ATTR_SERVER_PORT] = port;
  if (serverSide) {
    out[ATTR_CLIENT_ADDRESS] = event.remoteAddress;
    out[ATTR_CLIENT_PORT] = event.remotePort;
  }
}

/** `HTTP/1.1` or `1.1` -> `1.1`; HTTP/2 -> `2`. */
export function httpProtocolVersion(version: string): string {
  const v = version.startsWith('HTTP/') ? version.slice(5) : version;
  return v === '2.0' ? '2' : v === '3.0' ? '3' : v;
}

function httpStatusError(status: number, side: L7Event['side']): string | undefined {
  if (status >= 500 && status < 600) return String(status);
  if (side === 'client' && status >= 400 && status < 500) return String(status);
  return undefined;
}

/**
 * The error classification of an L7 exchange (semconv `error.type`), or undefined when it
 * succeeded: HTTP 5xx (and 4xx on the client side), gRPC non-OK, DNS non-NOERROR, or the
 * exchange's own failure (timeout, reset, malformed).
 */
export function l7ErrorType(event: L7Event): string | undefined {
  switch (event.kind) {
    case 'l7.http':
      return httpStatusError(event.statusCode, event.side) ?? event.errorType;
    case 'l7.grpc':
      if (event.isGrpc) {
        if (event.grpcStatusCode > 0) return event.grpcStatusName ?? String(event.grpcStatusCode);
        if (event.grpcStatusCode === 0) return event.errorType;
      }
      return httpStatusError(event.httpStatusCode, event.side) ?? event.errorType;
    case 'l7.dns':
      if (event.responseCode && event.responseCode !== 'NOERROR') return event.responseCode;
      return event.errorType;
    case 'l7.tls':
      return event.errorType;
  }
}

function addHttpAttributes(event: HttpTransactionEvent, out: Attributes): void {
  const method = event.method.toUpperCase();
  if (KNOWN_HTTP_METHODS.has(method)) {
    out[ATTR_HTTP_REQUEST_METHOD] = method;
  } else {
    out[ATTR_HTTP_REQUEST_METHOD] = '_OTHER';
    out[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = event.method;
  }
  out[ATTR_URL_PATH] = event.path;
  if (event.query) out[ATTR_URL_QUERY] = event.query;
  // Only plaintext HTTP is parsed from payloads; TLS traffic yields l7.tls handshakes instead.
  out[ATTR_URL_SCHEME] = 'http';
  if (event.statusCode > 0) out[ATTR_HTTP_RESPONSE_STATUS_CODE] = event.statusCode;
  out[ATTR_NETWORK_PROTOCOL_NAME] = 'http';
  if (event.httpVersion) out[ATTR_NETWORK_PROTOCOL_VERSION] = httpProtocolVersion(event.httpVersion);
  if (event.userAgent) out[ATTR_USER_AGENT_ORIGINAL] = event.userAgent;
  out[sc.ATTR_HTTP_REQUEST_BODY_SIZE] = event.requestBodySize;
  if (event.statusCode > 0) out[sc.ATTR_HTTP_RESPONSE_BODY_SIZE] = event.responseBodySize;
  addServerClient(event, event.host, out);
}

function addGrpcAttributes(event: GrpcCallEvent, out: Attributes): void {
  if (event.isGrpc) {
    out[ATTR_RPC_SYSTEM_NAME] = RPC_SYSTEM_NAME_VALUE_GRPC;
    out[ATTR_RPC_METHOD] = grpcMethod(event);
    if (event.grpcStatusCode >= 0) {
      out[ATTR_RPC_STATUS_CODE] = event.grpcStatusName ?? String(event.grpcStatusCode);
      out[sc.ATTR_NO_GRPC_STATUS_CODE_NUMBER] = event.grpcStatusCode;
    }
  } else {
    const method = event.method.toUpperCase();
    if (KNOWN_HTTP_METHODS.has(method)) {
      out[ATTR_HTTP_REQUEST_METHOD] = method;
    } else {
      out[ATTR_HTTP_REQUEST_METHOD] = '_OTHER';
      out[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = event.method;
    }
    out[ATTR_URL_PATH] = event.path;
    out[ATTR_URL_SCHEME] = 'http';
  }
  if (event.httpStatusCode > 0) out[ATTR_HTTP_RESPONSE_STATUS_CODE] = event.httpStatusCode;
  out[ATTR_NETWORK_PROTOCOL_NAME] = 'http';
  out[ATTR_NETWORK_PROTOCOL_VERSION] = '2';
  out[sc.ATTR_NO_HTTP2_STREAM_ID] = event.streamId;
  addServerClient(event, event.authority, out);
}

/** `pkg.Service/Method`, from the event or from the :path (`/pkg.Service/Method`). */
export function grpcMethod(event: GrpcCallEvent): string {
  if (event.rpcMethod) return event.rpcMethod;
  return event.path.startsWith('/') ? event.path.slice(1) : event.path;
}

function addDnsAttributes(event: DnsTransactionEvent, out: Attributes): void {
  out[sc.ATTR_DNS_QUESTION_NAME] = event.questionName;
  out[sc.ATTR_NO_DNS_QUESTION_TYPE] = event.questionType;
  if (event.responseCode) out[sc.ATTR_NO_DNS_RESPONSE_CODE] = event.responseCode;
  out[sc.ATTR_NO_DNS_TRANSACTION_ID] = event.transactionId;
  if (event.answers.length > 0) {
    const answers: string[] = new Array(event.answers.length);
    for (let i = 0; i < answers.length; i++) answers[i] = event.answers[i].data;
    out[sc.ATTR_DNS_ANSWERS] = answers;
  }
  out[ATTR_NETWORK_PROTOCOL_NAME] = 'dns';
  addServerClient(event, undefined, out);
}

function addTlsAttributes(event: TlsHandshakeEvent, out: Attributes): void {
  out[sc.ATTR_TLS_PROTOCOL_NAME] = 'tls';
  if (event.version) out[sc.ATTR_TLS_PROTOCOL_VERSION] = event.version;
  if (event.cipher) out[sc.ATTR_TLS_CIPHER] = event.cipher;
  if (event.alpn) out[sc.ATTR_TLS_NEXT_PROTOCOL] = event.alpn;
  if (event.serverName) out[sc.ATTR_TLS_CLIENT_SERVER_NAME] = event.serverName;
  out[sc.ATTR_TLS_ESTABLISHED] = event.version !== '' && event.errorType === undefined;
  if (event.offeredVersions.length > 0) out[sc.ATTR_NO_TLS_OFFERED_VERSIONS] = event.offeredVersions.slice();
  if (event.offeredAlpn.length > 0) out[sc.ATTR_NO_TLS_OFFERED_ALPN] = event.offeredAlpn.slice();
  if (event.ja4) out[sc.ATTR_NO_TLS_JA4] = event.ja4;
  addServerClient(event, event.serverName, out);
}

/** Span attributes of an L7 transaction. */
export function l7Attributes(event: L7Event, detailed = false): Attributes {
  const out: Attributes = {};
  addHeaderAttributes(event, out, detailed);
  switch (event.kind) {
    case 'l7.http':
      addHttpAttributes(event, out);
      break;
    case 'l7.grpc':
      addGrpcAttributes(event, out);
      break;
    case 'l7.dns':
      addDnsAttributes(event, out);
      break;
    case 'l7.tls':
      addTlsAttributes(event, out);
      break;
  }
  const errorType = l7ErrorType(event);
  if (errorType !== undefined) out[ATTR_ERROR_TYPE] = errorType;
  return out;
}

// ---- L3/L4 lifecycle ------------------------------------------------------------------------

type CountersEvent = ConnectionClosedEvent | ConnectionUpdatedEvent;

function addConnectionCounters(event: CountersEvent, out: Attributes): void {
  out[sc.ATTR_NO_BYTES_SENT] = event.bytesSent;
  out[sc.ATTR_NO_BYTES_RECEIVED] = event.bytesReceived;
  out[sc.ATTR_NO_SEGMENTS_SENT] = event.segmentsSent;
  out[sc.ATTR_NO_SEGMENTS_RECEIVED] = event.segmentsReceived;
  if (event.srttUs > 0) out[sc.ATTR_NO_TCP_SRTT] = event.srttUs / 1e6;
  out[sc.ATTR_NO_TCP_RETRANSMITS] = event.retransmits;
  out[sc.ATTR_NO_DURATION] = event.durationNs / 1e9;
  if (event.peerProcess) {
    if (event.peerProcess.pid > 0) out[sc.ATTR_NO_PEER_PROCESS_PID] = event.peerProcess.pid;
    if (event.peerProcess.comm) out[sc.ATTR_NO_PEER_PROCESS_EXECUTABLE_NAME] = event.peerProcess.comm;
  }
}

function connectionStateAttributes(
  event: ConnectionOpenedEvent | ConnectionClosedEvent | ConnectionUpdatedEvent | ConnectionFailedEvent,
  out: Attributes,
): void {
  switch (event.kind) {
    case 'connection.opened':
      out[sc.ATTR_NETWORK_CONNECTION_STATE] = 'established';
      break;
    case 'connection.updated':
      out[sc.ATTR_NETWORK_CONNECTION_STATE] = 'established';
      addConnectionCounters(event, out);
      break;
    case 'connection.closed':
      out[sc.ATTR_NETWORK_CONNECTION_STATE] = 'closed';
      out[sc.ATTR_NO_CLOSE_REASON] = event.closeReason;
      addConnectionCounters(event, out);
      break;
    case 'connection.failed':
      out[sc.ATTR_NO_FAILURE_REASON] = event.reason;
      if (event.errorName) {
        out[sc.ATTR_NO_ERROR_NAME] = event.errorName;
        out[ATTR_ERROR_TYPE] = event.errorName;
      } else {
        out[ATTR_ERROR_TYPE] = event.reason;
      }
      break;
  }
}

function addFlowAttributes(event: FlowUpdatedEvent, out: Attributes): void {
  out[sc.ATTR_NO_BYTES_SENT] = event.bytesSent;
  out[sc.ATTR_NO_BYTES_RECEIVED] = event.bytesReceived;
  out[sc.ATTR_NO_PACKETS_SENT] = event.packetsSent;
  out[sc.ATTR_NO_PACKETS_RECEIVED] = event.packetsReceived;
  out[sc.ATTR_NO_DURATION] = event.durationNs / 1e9;
  out[sc.ATTR_NO_FLOW_FINAL] = event.final;
}

function addIcmpAttributes(event: IcmpEvent, out: Attributes): void {
  out[sc.ATTR_NO_ICMP_TYPE] = event.icmpType;
  out[sc.ATTR_NO_ICMP_CODE] = event.icmpCode;
  if (event.icmpName) out[sc.ATTR_NO_ICMP_NAME] = event.icmpName;
  if (event.echoId !== undefined) out[sc.ATTR_NO_ICMP_ECHO_ID] = event.echoId;
  if (event.echoSequence !== undefined) out[sc.ATTR_NO_ICMP_ECHO_SEQUENCE] = event.echoSequence;
  out[sc.ATTR_NO_ICMP_BYTES] = event.bytes;
}

/** A summary of a captured payload chunk: lengths, never the bytes themselves. */
function addPayloadAttributes(event: PayloadEvent, out: Attributes): void {
  out[sc.ATTR_NO_PAYLOAD_DATA_DIRECTION] = event.dataDirection;
  out[sc.ATTR_NO_PAYLOAD_FD] = event.fd;
  out[sc.ATTR_NO_PAYLOAD_CAPTURED_LENGTH] = event.data.length;
  out[sc.ATTR_NO_PAYLOAD_ORIGINAL_LENGTH] = event.originalLength;
  out[sc.ATTR_NO_PAYLOAD_TRUNCATED] = event.truncated;
}

export type NonL7Event = Exclude<NetworkEvent, L7Event>;

/** Attributes of a connection, flow, ICMP or payload event (the log-record side of the mapping). */
export function eventAttributes(event: NonL7Event, detailed = false): Attributes {
  const out: Attributes = {};
  addHeaderAttributes(event, out, detailed);
  out[sc.ATTR_NO_DIRECTION] = event.direction;
  switch (event.kind) {
    case 'connection.opened':
    case 'connection.closed':
    case 'connection.updated':
    case 'connection.failed':
      connectionStateAttributes(event, out);
      break;
    case 'flow.updated':
      addFlowAttributes(event, out);
      break;
    case 'icmp':
      addIcmpAttributes(event, out);
      break;
    case 'payload':
      addPayloadAttributes(event, out);
      break;
  }
  return out;
}
