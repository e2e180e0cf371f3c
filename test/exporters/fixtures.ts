/**
 * Typed sample events of every kind, for exporter tests and the export benchmark.
 *
 * Built as complete object literals, the way receivers build events: objects made by spreading
 * a shared header (`{...header(), ...}`) got shapes V8 handles far slower on property reads
 * (measured 25x on a missing optional property), which would make benchmarks lie.
 */
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
  NetworkEvent,
  PayloadEvent,
  TlsHandshakeEvent,
} from '../../core/events';

export const T0_US = 1_714_564_800_000_000; // 2024-05-01T12:00:00Z

export function header(overrides: Partial<EventHeader> = {}): EventHeader {
  const h: EventHeader = {
    timeUs: T0_US,
    process: { pid: 4242, tid: 4243, comm: 'curl', cgroupId: 9001 },
    transport: 'tcp',
    networkType: 'ipv4',
    localAddress: '10.0.0.1',
    localPort: 51234,
    remoteAddress: '10.0.0.2',
    remotePort: 8080,
    direction: 'outbound',
    socketCookie: 77,
    netnsId: 4026531840,
  };
  return Object.assign(h, overrides);
}

export function httpEvent(overrides: Partial<HttpTransactionEvent> = {}): HttpTransactionEvent {
  const h = header();
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'l7.http',
    side: 'client',
    startUs: T0_US,
    endUs: T0_US + 12_500,
    method: 'GET',
    path: '/api/users/42',
    host: 'api.example.com:8080',
    userAgent: 'curl/8.5.0',
    httpVersion: '1.1',
    statusCode: 200,
    requestBodySize: 0,
    responseBodySize: 512,
  };
  return Object.assign(event, overrides);
}

export function dnsEvent(overrides: Partial<DnsTransactionEvent> = {}): DnsTransactionEvent {
  const h = header({ transport: 'udp', remoteAddress: '10.0.0.53', remotePort: 53 });
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'l7.dns',
    side: 'client',
    startUs: T0_US,
    endUs: T0_US + 1_800,
    transactionId: 0x1234,
    questionName: 'example.com',
    questionType: 'A',
    responseCode: 'NOERROR',
    answers: [
      { name: 'example.com', type: 'A', ttl: 300, data: '93.184.216.34' },
      { name: 'example.com', type: 'A', ttl: 300, data: '93.184.216.35' },
    ],
  } as DnsTransactionEvent;
  return Object.assign(event, overrides);
}

export function grpcEvent(overrides: Partial<GrpcCallEvent> = {}): GrpcCallEvent {
  const h = header({ localAddress: '10.0.0.2', localPort: 50051, remoteAddress: '10.0.0.9', remotePort: 40000, direction: 'inbound', process: { pid: 100, tid: 101, comm: 'checkout', cgroupId: 5 } });
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'l7.grpc',
    side: 'server',
    startUs: T0_US,
    endUs: T0_US + 3_000,
    isGrpc: true,
    method: 'POST',
    path: '/shop.Checkout/PlaceOrder',
    authority: 'checkout:50051',
    rpcMethod: 'shop.Checkout/PlaceOrder',
    httpStatusCode: 200,
    grpcStatusCode: 5,
    grpcStatusName: 'NOT_FOUND',
    streamId: 3,
  };
  return Object.assign(event, overrides);
}

export function tlsEvent(overrides: Partial<TlsHandshakeEvent> = {}): TlsHandshakeEvent {
  const h = header({ remotePort: 443 });
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'l7.tls',
    side: 'client',
    startUs: T0_US,
    endUs: T0_US + 4_000,
    serverName: 'secure.example.com',
    offeredVersions: ['1.3', '1.2'],
    offeredAlpn: ['h2', 'http/1.1'],
    version: '1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    alpn: 'h2',
    ja4: 't13d1516h2_8daaf6152771_b0da82dd1658',
  };
  return Object.assign(event, overrides);
}

export function connectionOpened(overrides: Partial<ConnectionOpenedEvent> = {}): ConnectionOpenedEvent {
  const h = header();
  const event: ConnectionOpenedEvent = {
    timeUs: h.timeUs,
    process: h.process,
    transport: 'tcp',
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'connection.opened',
  };
  return Object.assign(event, overrides);
}

export function connectionClosed(overrides: Partial<ConnectionClosedEvent> = {}): ConnectionClosedEvent {
  const h = header();
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'connection.closed',
    bytesSent: 1200,
    bytesReceived: 34000,
    segmentsSent: 10,
    segmentsReceived: 30,
    srttUs: 250,
    retransmits: 1,
    durationNs: 1_500_000_000,
    closeReason: 'fin',
  };
  return Object.assign(event, overrides);
}

export function connectionUpdated(overrides: Partial<ConnectionUpdatedEvent> = {}): ConnectionUpdatedEvent {
  const h = header();
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'connection.updated',
    bytesSent: 100,
    bytesReceived: 200,
    segmentsSent: 2,
    segmentsReceived: 3,
    srttUs: 100,
    retransmits: 0,
    durationNs: 60_000_000_000,
  };
  return Object.assign(event, overrides);
}

export function connectionFailed(overrides: Partial<ConnectionFailedEvent> = {}): ConnectionFailedEvent {
  const h = header();
  const event: ConnectionFailedEvent = {
    timeUs: h.timeUs,
    process: h.process,
    transport: 'tcp',
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'connection.failed',
    reason: 'refused',
    errorName: 'ECONNREFUSED',
  };
  return Object.assign(event, overrides);
}

export function flowUpdated(overrides: Partial<FlowUpdatedEvent> = {}): FlowUpdatedEvent {
  const h = header({ transport: 'udp', remotePort: 53 });
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'flow.updated',
    bytesSent: 60,
    bytesReceived: 120,
    packetsSent: 1,
    packetsReceived: 1,
    durationNs: 2_000_000,
    final: true,
  } as FlowUpdatedEvent;
  return Object.assign(event, overrides);
}

export function icmpEvent(overrides: Partial<IcmpEvent> = {}): IcmpEvent {
  const h = header({ transport: 'icmp', localPort: 0, remotePort: 0 });
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'icmp',
    icmpType: 8,
    icmpCode: 0,
    icmpName: 'echo-request',
    echoId: 7,
    echoSequence: 1,
    bytes: 64,
  } as IcmpEvent;
  return Object.assign(event, overrides);
}

export function payloadEvent(overrides: Partial<PayloadEvent> = {}): PayloadEvent {
  const data = Buffer.from('GET /secret?token=abc HTTP/1.1\r\nHost: x\r\n\r\n');
  const h = header();
  const event = {
    timeUs: h.timeUs,
    process: h.process,
    transport: h.transport,
    networkType: h.networkType,
    localAddress: h.localAddress,
    localPort: h.localPort,
    remoteAddress: h.remoteAddress,
    remotePort: h.remotePort,
    direction: h.direction,
    socketCookie: h.socketCookie,
    netnsId: h.netnsId,
    kind: 'payload',
    dataDirection: 'send',
    fd: 5,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    originalLength: 4096,
    truncated: true,
  };
  return Object.assign(event, overrides);
}

/** One event of every kind. */
export function everyKind(): NetworkEvent[] {
  return [
    connectionOpened(),
    connectionUpdated(),
    connectionClosed(),
    connectionFailed(),
    flowUpdated(),
    icmpEvent(),
    payloadEvent(),
    httpEvent(),
    dnsEvent(),
    grpcEvent(),
    tlsEvent(),
  ];
}
