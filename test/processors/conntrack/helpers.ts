/** Event builders and a harness running the conntrack processor on a manual clock. */
import { CLOCK_TOKEN } from '../../../core/clock';
import type { Host, Processor } from '../../../core/component';
import type {
  ConnectionClosedEvent,
  ConnectionFailedEvent,
  ConnectionOpenedEvent,
  ConnectionUpdatedEvent,
  EventHeader,
  FlowUpdatedEvent,
  IcmpEvent,
  NetworkEvent,
  ProcessInfo,
} from '../../../core/events';
import type { ComponentTelemetry } from '../../../core/telemetry';
import { CollectingConsumer, ManualClock, createTestHost, createTestSettings } from '../../../core/testing';
import { factory, type ConntrackConfig } from '../../../processors/conntrack';

export const T0_MS = 1_700_000_000_000;

export interface Endpoint {
  pid?: number;
  comm?: string;
  local?: string;
  localPort?: number;
  remote?: string;
  remotePort?: number;
  direction?: 'inbound' | 'outbound' | 'unknown';
  cookie?: number;
  netns?: number;
  timeUs?: number;
  networkType?: 'ipv4' | 'ipv6';
}

export function proc(pid: number, comm = `p${pid}`): ProcessInfo {
  return { pid, tid: pid, comm, cgroupId: pid * 10 };
}

export function header(e: Endpoint, transport: 'tcp' | 'udp' | 'icmp' = 'tcp'): EventHeader {
  return {
    timeUs: e.timeUs ?? T0_MS * 1000,
    process: e.pid === undefined ? proc(100) : e.pid === 0 ? { pid: 0, tid: 0, comm: '', cgroupId: 0 } : proc(e.pid, e.comm),
    transport,
    networkType: e.networkType ?? 'ipv4',
    localAddress: e.local ?? '127.0.0.1',
    localPort: e.localPort ?? 40000,
    remoteAddress: e.remote ?? '127.0.0.1',
    remotePort: e.remotePort ?? 8080,
    direction: e.direction ?? 'outbound',
    socketCookie: e.cookie ?? 0,
    netnsId: e.netns ?? 4026531840,
  };
}

export function opened(e: Endpoint = {}): ConnectionOpenedEvent {
  return { ...header(e), kind: 'connection.opened', transport: 'tcp' };
}

export interface Counters {
  bytesSent?: number;
  bytesReceived?: number;
  segmentsSent?: number;
  segmentsReceived?: number;
  srttUs?: number;
  retransmits?: number;
  durationNs?: number;
}

export function closed(e: Endpoint = {}, c: Counters = {}, closeReason: ConnectionClosedEvent['closeReason'] = 'fin'): ConnectionClosedEvent {
  return {
    ...header(e), kind: 'connection.closed', transport: 'tcp', closeReason,
    bytesSent: c.bytesSent ?? 0, bytesReceived: c.bytesReceived ?? 0, segmentsSent: c.segmentsSent ?? 0,
    segmentsReceived: c.segmentsReceived ?? 0, srttUs: c.srttUs ?? 0, retransmits: c.retransmits ?? 0,
    durationNs: c.durationNs ?? 0,
  };
}

export function updated(e: Endpoint = {}, c: Counters = {}): ConnectionUpdatedEvent {
  return {
    ...header(e), kind: 'connection.updated', transport: 'tcp',
    bytesSent: c.bytesSent ?? 0, bytesReceived: c.bytesReceived ?? 0, segmentsSent: c.segmentsSent ?? 0,
    segmentsReceived: c.segmentsReceived ?? 0, srttUs: c.srttUs ?? 0, retransmits: c.retransmits ?? 0,
    durationNs: c.durationNs ?? 0,
  };
}

export function failed(e: Endpoint = {}, reason: ConnectionFailedEvent['reason'] = 'refused'): ConnectionFailedEvent {
  return { ...header(e), kind: 'connection.failed', transport: 'tcp', reason, errorName: 'ECONNREFUSED' };
}

export function flow(
  e: Endpoint,
  delta: { bytesSent?: number; bytesReceived?: number; packetsSent?: number; packetsReceived?: number; final?: boolean },
  transport: 'udp' | 'icmp' = 'udp',
): FlowUpdatedEvent {
  return {
    ...header({ localPort: 5353, remotePort: 53, ...e }, transport), kind: 'flow.updated', transport,
    bytesSent: delta.bytesSent ?? 0, bytesReceived: delta.bytesReceived ?? 0,
    packetsSent: delta.packetsSent ?? 0, packetsReceived: delta.packetsReceived ?? 0,
    durationNs: 0, final: delta.final ?? false,
  };
}

export function icmp(e: Endpoint, type: number, echoId: number, bytes = 64): IcmpEvent {
  return {
    ...header({ localPort: 0, remotePort: 0, ...e }, 'icmp'), kind: 'icmp', transport: 'icmp',
    icmpType: type, icmpCode: 0, icmpName: type === 8 ? 'echo-request' : 'echo-reply', echoId, echoSequence: 1, bytes,
  };
}

export interface Harness {
  time: ManualClock;
  next: CollectingConsumer;
  processor: Processor;
  telemetry: ComponentTelemetry;
  host: Host;
  feed(...events: NetworkEvent[]): Promise<void>;
  /** Events of `kind` emitted so far. */
  out<K extends NetworkEvent['kind']>(kind: K): Extract<NetworkEvent, { kind: K }>[];
  /** Now in epoch microseconds on the manual clock. */
  nowUs(): number;
}

export type ConfigOverrides = Partial<Omit<ConntrackConfig, 'metrics'>> & { metrics?: Partial<ConntrackConfig['metrics']> };

export function config(overrides: ConfigOverrides = {}): ConntrackConfig {
  const base = factory.createDefaultConfig();
  return { ...base, ...overrides, metrics: { ...base.metrics, enabled: false, ...overrides.metrics } };
}

export async function harness(overrides: ConfigOverrides = {}, host: Host = createTestHost()): Promise<Harness> {
  const time = new ManualClock(T0_MS);
  const settings = createTestSettings('processor', 'conntrack');
  settings.container.registerInstance(CLOCK_TOKEN, time);
  const next = new CollectingConsumer();
  const processor = await factory.createProcessor(settings, config(overrides), next);
  await processor.start(host);
  return {
    time,
    next,
    processor,
    host,
    telemetry: settings.telemetry,
    feed: async (...events) => {
      await processor.consume(events);
    },
    out: (kind) => next.ofKind(kind),
    nowUs: () => time.now() * 1000,
  };
}
