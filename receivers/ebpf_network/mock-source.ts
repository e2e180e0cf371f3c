/**
 * Mock mode: the product's development mode (TAPIO_MOCK_MODE=true). It emits realistic,
 * typed synthetic traffic — connections that open and close with byte counts, failed
 * connects, UDP flows, ICMP echoes, and HTTP, DNS, gRPC and TLS transactions — at a
 * configured rate, so a whole pipeline runs on a machine without eBPF.
 *
 * Events are built from a small fixed cast of processes and peers so attribute cardinality
 * stays realistic, and each synthetic connection produces a consistent story: opened, its L7
 * transactions, then closed with the bytes those transactions moved.
 */
import type {
  ConnectionClosedEvent,
  ConnectionOpenedEvent,
  EventHeader,
  NetworkEvent,
  ProcessInfo,
} from '../../core/events';
import type { Logger } from '../../core/logger';
import { mulberry32 } from '../../core/prng';

export interface MockSourceOptions {
  eventsPerSecond: number;
  emit: (batch: NetworkEvent[]) => void;
  logger?: Logger;
  /** Deterministic output for tests; default is time-based. */
  seed?: number;
  /** How often a batch is produced; default 100 ms. */
  tickMs?: number;
}

export interface MockSource {
  stop(): void;
}

interface Service {
  process: ProcessInfo;
  localAddress: string;
  peerAddress: string;
  peerPort: number;
  networkType: 'ipv4' | 'ipv6';
  story: 'http' | 'grpc' | 'dns' | 'tls' | 'refused';
}

const SERVICES: Service[] = [
  { process: { pid: 4101, tid: 4101, comm: 'checkout', cgroupId: 9001 }, localAddress: '10.1.0.12', peerAddress: '10.1.3.40', peerPort: 18080, networkType: 'ipv4', story: 'http' },
  { process: { pid: 4102, tid: 4110, comm: 'payments', cgroupId: 9002 }, localAddress: '10.1.0.13', peerAddress: '10.1.4.7', peerPort: 50051, networkType: 'ipv4', story: 'grpc' },
  { process: { pid: 733, tid: 733, comm: 'coredns-client', cgroupId: 9003 }, localAddress: '10.1.0.12', peerAddress: '10.96.0.10', peerPort: 53, networkType: 'ipv4', story: 'dns' },
  { process: { pid: 5120, tid: 5120, comm: 'curl', cgroupId: 9004 }, localAddress: 'fd00::12', peerAddress: 'fd00::80', peerPort: 443, networkType: 'ipv6', story: 'tls' },
  { process: { pid: 5200, tid: 5200, comm: 'worker', cgroupId: 9005 }, localAddress: '10.1.0.14', peerAddress: '10.1.9.9', peerPort: 6379, networkType: 'ipv4', story: 'refused' },
];

const HTTP_ROUTES = [
  { method: 'GET', path: '/api/cart', status: 200 },
  { method: 'POST', path: '/api/orders', status: 201 },
  { method: 'GET', path: '/healthz', status: 200 },
  { method: 'GET', path: '/api/items/42', status: 404 },
  { method: 'PUT', path: '/api/cart', status: 503 },
];
const GRPC_METHODS = [
  { method: 'payments.v1.PaymentService/Charge', status: 0, name: 'OK' },
  { method: 'payments.v1.PaymentService/Refund', status: 5, name: 'NOT_FOUND' },
];
const DNS_NAMES = ['api.internal.example', 'db.internal.example', 'missing.example'];


export class MockTrafficGenerator {
  private readonly random: () => number;
  private nextCookie = 1;
  private nextPort = 40000;

  constructor(seed = Date.now()) {
    this.random = mulberry32(seed);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private header(service: Service, timeUs: number, transport: 'tcp' | 'udp' | 'icmp'): EventHeader {
    this.nextPort = this.nextPort >= 60999 ? 40000 : this.nextPort + 1;
    return {
      timeUs,
      process: service.process,
      transport,
      networkType: service.networkType,
      localAddress: service.localAddress,
      localPort: this.nextPort,
      remoteAddress: service.peerAddress,
      remotePort: service.peerPort,
      direction: 'outbound',
      socketCookie: this.nextCookie++,
      netnsId: 4026531840,
    };
  }

  /** One connection's worth of events (3 to 6), all ending by `nowUs`. */
  story(nowUs: number): NetworkEvent[] {
    const service = this.pick(SERVICES);
    const durationUs = 200 + Math.floor(this.random() * 50_000);
    const startUs = nowUs - durationUs;
    if (service.story === 'dns') return this.dnsStory(service, startUs, durationUs);
    const h = this.header(service, startUs, 'tcp');
    if (service.story === 'refused') {
      return [{ ...h, kind: 'connection.failed', transport: 'tcp', reason: 'refused', errorName: 'ECONNREFUSED' }];
    }
    const opened: ConnectionOpenedEvent = { ...h, kind: 'connection.opened', transport: 'tcp' };
    const l7Start = startUs + Math.floor(durationUs * 0.1);
    const l7End = startUs + Math.floor(durationUs * 0.9);
    const events: NetworkEvent[] = [opened];
    let sent = 0;
    let received = 0;
    if (service.story === 'http') {
      const route = this.pick(HTTP_ROUTES);
      const responseSize = route.status === 200 ? 512 + Math.floor(this.random() * 4096) : 64;
      sent = 120 + route.path.length;
      received = 150 + responseSize;
      events.push({
        ...h, timeUs: l7End, kind: 'l7.http', side: 'client', startUs: l7Start, endUs: l7End,
        method: route.method, path: route.path, host: `${service.peerAddress}:${service.peerPort}`,
        userAgent: 'mock-client/1.0', httpVersion: '1.1', statusCode: route.status,
        requestBodySize: route.method === 'GET' ? 0 : 96, responseBodySize: responseSize,
      });
    } else if (service.story === 'grpc') {
      const call = this.pick(GRPC_METHODS);
      sent = 240;
      received = 180;
      events.push({
        ...h, timeUs: l7End, kind: 'l7.grpc', side: 'client', startUs: l7Start, endUs: l7End,
        isGrpc: true, method: 'POST', path: `/${call.method}`, authority: `${service.peerAddress}:${service.peerPort}`,
        rpcMethod: call.method, httpStatusCode: 200, grpcStatusCode: call.status, grpcStatusName: call.name, streamId: 1,
      });
    } else {
      sent = 517;
      received = 2900;
      events.push({
        ...h, timeUs: l7End, kind: 'l7.tls', side: 'client', startUs: l7Start, endUs: l7End,
        serverName: 'shop.example', offeredVersions: ['1.3', '1.2'], offeredAlpn: ['h2', 'http/1.1'],
        version: '1.3', cipher: 'TLS_AES_128_GCM_SHA256', alpn: 'h2', ja4: 't13d1516h2_8daaf6152771_02713d6af862',
      });
    }
    const closed: ConnectionClosedEvent = {
      ...h, timeUs: nowUs, kind: 'connection.closed', transport: 'tcp', durationNs: durationUs * 1000,
      closeReason: this.random() < 0.95 ? 'fin' : 'reset', bytesSent: sent, bytesReceived: received,
      segmentsSent: 3 + Math.ceil(sent / 1448), segmentsReceived: 3 + Math.ceil(received / 1448),
      srttUs: 50 + Math.floor(this.random() * 2000), retransmits: this.random() < 0.05 ? 1 : 0,
    };
    events.push(closed);
    return events;
  }

  private dnsStory(service: Service, startUs: number, durationUs: number): NetworkEvent[] {
    const h = this.header(service, startUs, 'udp');
    const name = this.pick(DNS_NAMES);
    const found = name !== 'missing.example';
    const endUs = startUs + Math.min(durationUs, 5000);
    return [
      {
        ...h, timeUs: endUs, kind: 'l7.dns', side: 'client', startUs, endUs, transactionId: Math.floor(this.random() * 65536),
        questionName: name, questionType: 'A', responseCode: found ? 'NOERROR' : 'NXDOMAIN',
        answers: found ? [{ name, type: 'A', ttl: 30, data: `10.1.7.${1 + Math.floor(this.random() * 250)}` }] : [],
      },
      {
        ...h, timeUs: endUs, kind: 'flow.updated', transport: 'udp', bytesSent: 40 + name.length,
        bytesReceived: found ? 56 + name.length : 40 + name.length, packetsSent: 1, packetsReceived: 1,
        durationNs: (endUs - startUs) * 1000, final: false,
      },
      {
        ...h, timeUs: startUs, kind: 'icmp', transport: 'icmp', icmpType: 8, icmpCode: 0, icmpName: 'echo-request',
        echoId: 7, echoSequence: Math.floor(this.random() * 1000), bytes: 64,
      },
    ];
  }

  /** About `count` events (whole stories, so a batch may exceed it by a few). */
  batch(count: number, nowUs: number): NetworkEvent[] {
    const out: NetworkEvent[] = [];
    while (out.length < count) {
      for (const e of this.story(nowUs)) out.push(e);
    }
    return out;
  }
}

export function startMockSource(options: MockSourceOptions): MockSource {
  const tickMs = options.tickMs ?? 100;
  const generator = new MockTrafficGenerator(options.seed);
  const perTick = options.eventsPerSecond * (tickMs / 1000);
  // Fractional rates (e.g. 5 events/s at 100 ms ticks) accumulate until a whole story is due.
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    if (owed < 1) return;
    const count = Math.floor(owed);
    const batch = generator.batch(count, Date.now() * 1000);
    owed -= batch.length;
    options.emit(batch);
  }, tickMs);
  options.logger?.info(`mock mode: emitting about ${options.eventsPerSecond} synthetic events/s (TAPIO_MOCK_MODE)`);
  return {
    stop: () => clearInterval(timer),
  };
}
