/**
 * NetworkEvent -> OpenTelemetry attributes, named by the semantic conventions. This is THE mapping:
 * the OTLP exporter and the stdout exporter both render what these functions return, so a name
 * seen in `stdout` JSON is the name a backend receives.
 *
 * Hot path (one call per exported event): attributes are written into one object literal per
 * event with constant keys; no intermediate arrays or spreads.
 */
import type { AttributeValue, Attributes } from '@opentelemetry/api';
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
import * as semconv from '../semconv';
import type {
  ConnectionClosedEvent,
  ConnectionUpdatedEvent,
  DnsTransactionEvent,
  EventHeader,
  GrpcCallEvent,
  HttpTransactionEvent,
  K8sMetadata,
  L7Event,
  NetworkEvent,
  TlsConnectionInfo,
  TlsHandshakeEvent,
} from '../events';

/**
 * Attribute objects are instances of an empty class rather than `{}`: V8 turns a `{}` into a
 * slow hash map once ~16 properties are added by keyed stores (`out[ATTR_X] = v`), and our spans
 * carry 15-25 attributes. Constructor-made objects get in-object slack and stay fast, which made
 * mapping ~3x and the OTLP serializers' walk over the attributes several times faster.
 * Serializers only enumerate own properties, so the prototype is invisible to them.
 */
/**
 * The project's names as plain properties: a module namespace compiled to CommonJS (tsx, esbuild)
 * reads every export through a getter call, measurable at one access per attribute per event.
 */
const sc = { ...semconv };

class AttributeBag {
  [key: string]: AttributeValue | undefined;
}

export function newAttributes(): Attributes {
  return new AttributeBag();
}

/** Methods the HTTP semantic conventions know; anything else is reported as `_OTHER`. */
const KNOWN_HTTP_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

export function isKnownHttpMethod(method: string): boolean {
  return KNOWN_HTTP_METHODS.has(method);
}

/** Owner kinds with a semconv attribute for the workload name (spans, logs and metrics alike). */
export const OWNER_ATTRIBUTE: Readonly<Record<string, string>> = {
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

/** `k8s.pod.annotation.<key>`, cached like label keys. */
const annotationKeyCache = new Map<string, string>();
function podAnnotationKey(key: string): string {
  let name = annotationKeyCache.get(key);
  if (name === undefined) {
    name = `k8s.pod.annotation.${key}`;
    if (annotationKeyCache.size < LABEL_KEY_CACHE_MAX) annotationKeyCache.set(key, name);
  }
  return name;
}

/** The remote end's pod, service and workload, under the project namespace. */
function addPeerK8sAttributes(peer: K8sMetadata, out: Attributes): void {
  if (peer.namespace) out[sc.ATTR_NO_PEER_K8S_NAMESPACE_NAME] = peer.namespace;
  if (peer.podName) out[sc.ATTR_NO_PEER_K8S_POD_NAME] = peer.podName;
  if (peer.serviceName) out[sc.ATTR_NO_PEER_K8S_SERVICE_NAME] = peer.serviceName;
  if (peer.ownerKind && peer.ownerName) {
    out[sc.ATTR_NO_PEER_K8S_OWNER_KIND] = peer.ownerKind;
    out[sc.ATTR_NO_PEER_K8S_OWNER_NAME] = peer.ownerName;
  }
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
  if (k8s.annotations) {
    for (const key in k8s.annotations) out[podAnnotationKey(key)] = k8s.annotations[key];
  }
}

/**
 * The attributes every event may carry besides its network tuple: process, socket and
 * Kubernetes identity. `detailed` adds identifiers only useful when debugging (thread, netns,
 * cgroup). Added after the per-kind object literal (see below), so they stay few keyed stores.
 */
export function addIdentityAttributes(event: EventHeader, out: Attributes, detailed: boolean): void {
  const proc = event.process;
  if (proc.pid > 0) out[sc.ATTR_PROCESS_PID] = proc.pid;
  if (proc.comm) out[sc.ATTR_PROCESS_EXECUTABLE_NAME] = proc.comm;
  if (event.socketCookie) out[sc.ATTR_NO_SOCKET_COOKIE] = event.socketCookie;
  addContextAttributes(event, out, detailed);
}

/** Debugging identifiers (when `detailed`), the sampling ratio and Kubernetes metadata. */
function addContextAttributes(event: EventHeader, out: Attributes, detailed: boolean): void {
  const proc = event.process;
  if (detailed) {
    if (proc.tid > 0) out[sc.ATTR_THREAD_ID] = proc.tid;
    if (proc.cgroupId) out[sc.ATTR_NO_CGROUP_ID] = proc.cgroupId;
    if (event.netnsId) out[sc.ATTR_NO_NETNS_ID] = event.netnsId;
  }
  if (event.sampleRatio !== undefined && event.sampleRatio < 1) out[sc.ATTR_NO_SAMPLE_RATIO] = event.sampleRatio;
  if (event.k8s) addK8sAttributes(event.k8s, out);
  if (event.peerK8s) addPeerK8sAttributes(event.peerK8s, out);
}

// ---- L7 ---------------------------------------------------------------------------------------
// network.protocol.name is set only where it is not `http` (DNS): the HTTP and RPC conventions
// require it only for other protocols, and every attribute costs on the export hot path.

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

/** Host headers, :authority and SNI repeat endlessly; split each distinct value once. */
const hostCache = new Map<string, [string, number]>();
const HOST_CACHE_MAX = 4096;
function splitHostPortCached(value: string): [string, number] {
  let split = hostCache.get(value);
  if (split === undefined) {
    split = splitHostPort(value);
    // Bounded: a flood of distinct names resets the cache instead of growing it.
    if (hostCache.size >= HOST_CACHE_MAX) hostCache.clear();
    hostCache.set(value, split);
  }
  return split;
}

/** The name the exchange addressed its server by: Host header, :authority or SNI; undefined when none. */
export function logicalHost(event: L7Event): string | undefined {
  switch (event.kind) {
    case 'l7.http':
      return event.host ?? event.tls?.serverName;
    case 'l7.grpc':
      return event.authority ?? event.tls?.serverName;
    case 'l7.dns':
      return undefined;
    case 'l7.tls':
      return event.serverName;
  }
}

/**
 * server.address per semconv: the local end on the server side, the remote end on the client
 * side; a logical name (`host`, from logicalHost) wins over the IP address.
 */
export function serverAddress(event: L7Event, host: string | undefined): string {
  if (host) {
    const name = splitHostPortCached(host)[0];
    if (name) return name;
  }
  return event.side === 'server' ? event.localAddress : event.remoteAddress;
}

/** server.port, chosen as serverAddress chooses the address; a port in the logical name wins. */
export function serverPort(event: L7Event, host: string | undefined): number {
  if (host) {
    const port = splitHostPortCached(host)[1];
    if (port) return port;
  }
  return event.side === 'server' ? event.localPort : event.remotePort;
}

/**
 * What every L7 span starts with, in one order for all kinds (so every attribute object shares
 * one hidden-class prefix and the stores below stay monomorphic): the network tuple, server.*
 * (serverAddress, serverPort), client.address on SERVER spans, and the observed process.
 */
function l7Base(event: L7Event): Attributes {
  const host = logicalHost(event);
  const out = newAttributes();
  out[ATTR_NETWORK_TRANSPORT] = event.transport;
  out[ATTR_NETWORK_TYPE] = event.networkType;
  out[ATTR_NETWORK_PEER_ADDRESS] = event.remoteAddress;
  out[ATTR_NETWORK_PEER_PORT] = event.remotePort;
  out[ATTR_SERVER_ADDRESS] = serverAddress(event, host);
  out[ATTR_SERVER_PORT] = serverPort(event, host);
  if (event.side === 'server') out[ATTR_CLIENT_ADDRESS] = event.remoteAddress;
  const proc = event.process;
  if (proc.pid > 0) out[sc.ATTR_PROCESS_PID] = proc.pid;
  if (proc.comm) out[sc.ATTR_PROCESS_EXECUTABLE_NAME] = proc.comm;
  if (event.socketCookie) out[sc.ATTR_NO_SOCKET_COOKIE] = event.socketCookie;
  return out;
}

/**
 * The attributes the semantic conventions mark Opt-In (instrumentations should not emit them by
 * default): the local end of the socket, client.port, HTTP body sizes.
 */
function addOptInAttributes(event: L7Event, out: Attributes): void {
  out[ATTR_NETWORK_LOCAL_ADDRESS] = event.localAddress;
  out[ATTR_NETWORK_LOCAL_PORT] = event.localPort;
  if (event.side === 'server') out[ATTR_CLIENT_PORT] = event.remotePort;
  if (event.kind === 'l7.http') {
    out[sc.ATTR_HTTP_REQUEST_BODY_SIZE] = event.requestBodySize;
    if (event.statusCode > 0) out[sc.ATTR_HTTP_RESPONSE_BODY_SIZE] = event.responseBodySize;
  }
}

/** A semconv method name: the known ones as is (case-normalized), anything else `_OTHER`. */
export function httpMethod(method: string): string {
  if (KNOWN_HTTP_METHODS.has(method)) return method;
  const upper = method.toUpperCase();
  return KNOWN_HTTP_METHODS.has(upper) ? upper : '_OTHER';
}

/** `HTTP/1.1` or `1.1` -> `1.1`; HTTP/2 -> `2`. */
export function httpProtocolVersion(version: string): string {
  if (version === '1.1' || version === 'HTTP/1.1') return '1.1';
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
    default:
      return unhandledKind(event);
  }
}

/** A compile error where a switch over L7 kinds misses one (undefined at run time). */
function unhandledKind(event: never): undefined {
  void event;
  return undefined;
}

function httpAttributes(event: HttpTransactionEvent): Attributes {
  const method = httpMethod(event.method);
  const out = l7Base(event);
  out[ATTR_HTTP_REQUEST_METHOD] = method;
  out[ATTR_URL_PATH] = event.path;
  out[ATTR_URL_SCHEME] = urlScheme(event);
  if (method === '_OTHER') out[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = event.method;
  if (event.query) out[ATTR_URL_QUERY] = event.query;
  if (event.statusCode > 0) out[ATTR_HTTP_RESPONSE_STATUS_CODE] = event.statusCode;
  if (event.httpVersion) out[ATTR_NETWORK_PROTOCOL_VERSION] = httpProtocolVersion(event.httpVersion);
  if (event.userAgent) out[ATTR_USER_AGENT_ORIGINAL] = event.userAgent;
  addTlsAttributes(event.tls, out);
  return out;
}

/** The handshake of the connection an HTTPS or gRPC-over-TLS exchange travelled on. */
function addTlsAttributes(tls: TlsConnectionInfo | undefined, out: Attributes): void {
  if (!tls) return;
  out[sc.ATTR_TLS_PROTOCOL_NAME] = 'tls';
  if (tls.version) out[sc.ATTR_TLS_PROTOCOL_VERSION] = tls.version;
  if (tls.cipher) out[sc.ATTR_TLS_CIPHER] = tls.cipher;
  if (tls.alpn) out[sc.ATTR_TLS_NEXT_PROTOCOL] = tls.alpn;
  if (tls.serverName) out[sc.ATTR_TLS_CLIENT_SERVER_NAME] = tls.serverName;
}

function grpcAttributes(event: GrpcCallEvent): Attributes {
  let out: Attributes;
  if (event.isGrpc) {
    out = l7Base(event);
    out[ATTR_RPC_SYSTEM_NAME] = RPC_SYSTEM_NAME_VALUE_GRPC;
    out[ATTR_RPC_METHOD] = grpcMethod(event);
    out[ATTR_NETWORK_PROTOCOL_VERSION] = '2';
    out[sc.ATTR_NO_HTTP2_STREAM_ID] = event.streamId;
    if (event.grpcStatusCode >= 0) {
      out[ATTR_RPC_STATUS_CODE] = rpcStatusCode(event);
      out[sc.ATTR_NO_GRPC_STATUS_CODE_NUMBER] = event.grpcStatusCode;
    }
  } else {
    const method = httpMethod(event.method);
    out = l7Base(event);
    out[ATTR_HTTP_REQUEST_METHOD] = method;
    out[ATTR_URL_PATH] = event.path;
    out[ATTR_URL_SCHEME] = urlScheme(event);
    out[ATTR_NETWORK_PROTOCOL_VERSION] = '2';
    out[sc.ATTR_NO_HTTP2_STREAM_ID] = event.streamId;
    if (method === '_OTHER') out[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = event.method;
  }
  if (event.httpStatusCode > 0) out[ATTR_HTTP_RESPONSE_STATUS_CODE] = event.httpStatusCode;
  if (event.userAgent) out[ATTR_USER_AGENT_ORIGINAL] = event.userAgent;
  addTlsAttributes(event.tls, out);
  return out;
}

/** `https` when parsed from plaintext taken at the TLS library (see addTlsAttributes), else `http`. */
export function urlScheme(event: HttpTransactionEvent | GrpcCallEvent): string {
  return event.tls ? 'https' : 'http';
}

/** rpc.status_code: the status name (`OK`, `NOT_FOUND`); undefined before a status arrived. */
export function rpcStatusCode(event: GrpcCallEvent): string | undefined {
  if (event.grpcStatusCode < 0) return undefined;
  return event.grpcStatusName ?? String(event.grpcStatusCode);
}

/** `pkg.Service/Method`, from the event or from the :path (`/pkg.Service/Method`). */
export function grpcMethod(event: GrpcCallEvent): string {
  if (event.rpcMethod) return event.rpcMethod;
  return event.path.startsWith('/') ? event.path.slice(1) : event.path;
}

function dnsAttributes(event: DnsTransactionEvent): Attributes {
  const out = l7Base(event);
  out[sc.ATTR_DNS_QUESTION_NAME] = event.questionName;
  out[sc.ATTR_NO_DNS_QUESTION_TYPE] = event.questionType;
  out[sc.ATTR_NO_DNS_TRANSACTION_ID] = event.transactionId;
  out[ATTR_NETWORK_PROTOCOL_NAME] = 'dns';
  if (event.responseCode) out[sc.ATTR_NO_DNS_RESPONSE_CODE] = event.responseCode;
  if (event.answers.length > 0) {
    const answers: string[] = new Array(event.answers.length);
    for (let i = 0; i < answers.length; i++) answers[i] = event.answers[i].data;
    out[sc.ATTR_DNS_ANSWERS] = answers;
  }
  return out;
}

function tlsAttributes(event: TlsHandshakeEvent): Attributes {
  const out = l7Base(event);
  out[sc.ATTR_TLS_PROTOCOL_NAME] = 'tls';
  out[sc.ATTR_TLS_ESTABLISHED] = event.version !== '' && event.errorType === undefined;
  if (event.version) out[sc.ATTR_TLS_PROTOCOL_VERSION] = event.version;
  if (event.cipher) out[sc.ATTR_TLS_CIPHER] = event.cipher;
  if (event.alpn) out[sc.ATTR_TLS_NEXT_PROTOCOL] = event.alpn;
  if (event.serverName) out[sc.ATTR_TLS_CLIENT_SERVER_NAME] = event.serverName;
  if (event.offeredVersions.length > 0) out[sc.ATTR_NO_TLS_OFFERED_VERSIONS] = event.offeredVersions.slice();
  if (event.offeredAlpn.length > 0) out[sc.ATTR_NO_TLS_OFFERED_ALPN] = event.offeredAlpn.slice();
  if (event.ja4) out[sc.ATTR_NO_TLS_JA4] = event.ja4;
  return out;
}

/**
 * Span attributes of an L7 transaction. `optIn` adds the semconv Opt-In attributes (see
 * addOptInAttributes); `detailed` adds debugging identifiers and implies `optIn`.
 */
export function l7Attributes(event: L7Event, detailed = false, optIn = detailed): Attributes {
  let out: Attributes;
  switch (event.kind) {
    case 'l7.http':
      out = httpAttributes(event);
      break;
    case 'l7.grpc':
      out = grpcAttributes(event);
      break;
    case 'l7.dns':
      out = dnsAttributes(event);
      break;
    case 'l7.tls':
      out = tlsAttributes(event);
      break;
  }
  if (optIn) addOptInAttributes(event, out);
  addContextAttributes(event, out, detailed);
  const errorType = l7ErrorType(event);
  if (errorType !== undefined) out[ATTR_ERROR_TYPE] = errorType;
  return out;
}

// ---- L3/L4 lifecycle ------------------------------------------------------------------------

type CountersEvent = ConnectionClosedEvent | ConnectionUpdatedEvent;

/** The network tuple and initiator of a non-L7 event, as one literal (see the L7 note above). */
function tupleAttributes(event: EventHeader): Attributes {
  const out = newAttributes();
  out[ATTR_NETWORK_TRANSPORT] = event.transport;
  out[ATTR_NETWORK_TYPE] = event.networkType;
  out[ATTR_NETWORK_LOCAL_ADDRESS] = event.localAddress;
  out[ATTR_NETWORK_LOCAL_PORT] = event.localPort;
  out[ATTR_NETWORK_PEER_ADDRESS] = event.remoteAddress;
  out[ATTR_NETWORK_PEER_PORT] = event.remotePort;
  out[sc.ATTR_NO_DIRECTION] = event.direction;
  return out;
}

/** The tuple, then the connection's state and counters. */
function countersAttributes(event: CountersEvent): Attributes {
  const out = tupleAttributes(event);
  out[sc.ATTR_NETWORK_CONNECTION_STATE] = event.kind === 'connection.closed' ? 'closed' : 'established';
  out[sc.ATTR_NO_BYTES_SENT] = event.bytesSent;
  out[sc.ATTR_NO_BYTES_RECEIVED] = event.bytesReceived;
  out[sc.ATTR_NO_SEGMENTS_SENT] = event.segmentsSent;
  out[sc.ATTR_NO_SEGMENTS_RECEIVED] = event.segmentsReceived;
  out[sc.ATTR_NO_TCP_RETRANSMITS] = event.retransmits;
  out[sc.ATTR_NO_DURATION] = event.durationNs / 1e9;
  if (event.kind === 'connection.closed') out[sc.ATTR_NO_CLOSE_REASON] = event.closeReason;
  if (event.srttUs > 0) out[sc.ATTR_NO_TCP_SRTT] = event.srttUs / 1e6;
  if (event.peerProcess) {
    if (event.peerProcess.pid > 0) out[sc.ATTR_NO_PEER_PROCESS_PID] = event.peerProcess.pid;
    if (event.peerProcess.comm) out[sc.ATTR_NO_PEER_PROCESS_EXECUTABLE_NAME] = event.peerProcess.comm;
  }
  return out;
}

export type NonL7Event = Exclude<NetworkEvent, L7Event>;

/** Attributes of a connection, flow, ICMP or payload event (the log-record side of the mapping). */
export function eventAttributes(event: NonL7Event, detailed = false): Attributes {
  let out: Attributes;
  switch (event.kind) {
    case 'connection.closed':
    case 'connection.updated':
      out = countersAttributes(event);
      break;
    case 'connection.opened':
      out = tupleAttributes(event);
      out[sc.ATTR_NETWORK_CONNECTION_STATE] = 'established';
      break;
    case 'connection.failed':
      out = tupleAttributes(event);
      out[sc.ATTR_NO_FAILURE_REASON] = event.reason;
      if (event.errorName) out[sc.ATTR_NO_ERROR_NAME] = event.errorName;
      out[ATTR_ERROR_TYPE] = event.errorName || event.reason;
      break;
    case 'flow.updated':
      out = tupleAttributes(event);
      out[sc.ATTR_NO_BYTES_SENT] = event.bytesSent;
      out[sc.ATTR_NO_BYTES_RECEIVED] = event.bytesReceived;
      out[sc.ATTR_NO_PACKETS_SENT] = event.packetsSent;
      out[sc.ATTR_NO_PACKETS_RECEIVED] = event.packetsReceived;
      out[sc.ATTR_NO_DURATION] = event.durationNs / 1e9;
      out[sc.ATTR_NO_FLOW_FINAL] = event.final;
      break;
    case 'icmp':
      out = tupleAttributes(event);
      out[sc.ATTR_NO_ICMP_TYPE] = event.icmpType;
      out[sc.ATTR_NO_ICMP_CODE] = event.icmpCode;
      if (event.icmpName) out[sc.ATTR_NO_ICMP_NAME] = event.icmpName;
      if (event.echoId !== undefined) out[sc.ATTR_NO_ICMP_ECHO_ID] = event.echoId;
      if (event.echoSequence !== undefined) out[sc.ATTR_NO_ICMP_ECHO_SEQUENCE] = event.echoSequence;
      out[sc.ATTR_NO_ICMP_BYTES] = event.bytes;
      break;
    case 'payload':
      // A summary of the captured chunk: lengths, never the bytes themselves.
      out = tupleAttributes(event);
      out[sc.ATTR_NO_PAYLOAD_DATA_DIRECTION] = event.dataDirection;
      out[sc.ATTR_NO_PAYLOAD_FD] = event.fd;
      out[sc.ATTR_NO_PAYLOAD_CAPTURED_LENGTH] = event.data.length;
      out[sc.ATTR_NO_PAYLOAD_ORIGINAL_LENGTH] = event.originalLength;
      out[sc.ATTR_NO_PAYLOAD_TRUNCATED] = event.truncated;
      break;
  }
  addIdentityAttributes(event, out, detailed);
  return out;
}
