/**
 * UDP and ICMP flows aggregated from per-packet kernel records. The kernel reports packets
 * (the cgroup hook is the only place that sees the peer of an unconnected sendto); this table
 * folds them into one entry per (socket, peer) and reports cumulative counters periodically,
 * so the pipeline sees flows, not packets. Bounded: at max_flows the oldest flow is reported
 * as final and dropped.
 */
import type { FlowUpdatedEvent, NetworkType, ProcessInfo } from '../../core/events';

export interface FlowPacket {
  transport: 'udp' | 'icmp';
  networkType: NetworkType;
  cookie: number;
  netnsId: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /**
   * Identifies the peer within the socket: for IPv4 the raw address * 65536 + port (exact, 48
   * bits), for IPv6 a string. Numbers keep the hot path free of string building.
   */
  remoteKey: number | string;
  /** true when the observed socket sent it. */
  outbound: boolean;
  bytes: number;
  bootNs: number;
  process: ProcessInfo | undefined;
}

interface Flow {
  transport: 'udp' | 'icmp';
  networkType: NetworkType;
  cookie: number;
  netnsId: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  direction: 'inbound' | 'outbound';
  process: ProcessInfo;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  firstNs: number;
  lastNs: number;
  dirty: boolean;
}

const UNKNOWN_PROCESS: ProcessInfo = Object.freeze({ pid: 0, tid: 0, comm: '', cgroupId: 0 });

export class FlowTable {
  /** socket cookie (or a string for socketless packets) -> peer key -> flow */
  private readonly bySocket = new Map<number | string, Map<number | string, Flow>>();
  private count = 0;
  private readonly owners = new Map<number, ProcessInfo>();
  private reportedFinal = 0;

  constructor(
    private readonly maxFlows: number,
    private readonly idleTimeoutNs: number,
    private readonly toEpochUs: (bootNs: number) => number,
  ) {}

  get size(): number {
    return this.count;
  }

  get evictedOrExpired(): number {
    return this.reportedFinal;
  }

  /** The process owning a socket, learned in process context after its first packets. */
  setOwner(cookie: number, process: ProcessInfo): void {
    if (cookie === 0 || process.pid === 0) return;
    if (!this.owners.has(cookie) && this.owners.size >= this.maxFlows) {
      const oldest = this.owners.keys().next().value;
      if (oldest !== undefined) this.owners.delete(oldest);
    }
    this.owners.set(cookie, process);
    // Flows seen before the owner was known take it now (their next report carries it).
    for (const flow of this.bySocket.get(cookie)?.values() ?? []) {
      if (flow.process.pid === 0) flow.process = process;
    }
  }

  add(p: FlowPacket, emit: (e: FlowUpdatedEvent) => void): void {
    // Packets without a socket (kernel replies) are told apart by their local side.
    const socketKey = p.cookie !== 0 ? p.cookie : `${p.transport}|${p.localAddress}|${p.localPort}`;
    let peers = this.bySocket.get(socketKey);
    let flow = peers?.get(p.remoteKey);
    if (!flow) {
      if (this.count >= this.maxFlows) this.evictOldest(emit);
      if (!peers) {
        peers = new Map();
        this.bySocket.set(socketKey, peers);
      }
      flow = {
        transport: p.transport,
        networkType: p.networkType,
        cookie: p.cookie,
        netnsId: p.netnsId,
        localAddress: p.localAddress,
        localPort: p.localPort,
        remoteAddress: p.remoteAddress,
        remotePort: p.remotePort,
        direction: p.outbound ? 'outbound' : 'inbound',
        process: p.process ?? this.owners.get(p.cookie) ?? UNKNOWN_PROCESS,
        bytesSent: 0,
        bytesReceived: 0,
        packetsSent: 0,
        packetsReceived: 0,
        firstNs: p.bootNs,
        lastNs: p.bootNs,
        dirty: true,
      };
      peers.set(p.remoteKey, flow);
      this.count++;
    } else if (flow.process.pid === 0 && p.process) {
      flow.process = p.process;
    }
    if (p.outbound) {
      flow.bytesSent += p.bytes;
      flow.packetsSent++;
    } else {
      flow.bytesReceived += p.bytes;
      flow.packetsReceived++;
    }
    if (p.netnsId !== 0) flow.netnsId = p.netnsId;
    if (p.bootNs > flow.lastNs) flow.lastNs = p.bootNs;
    flow.dirty = true;
  }

  /** Reports flows that changed since the last report; idle ones are reported final and dropped. */
  report(nowBootNs: number, emit: (e: FlowUpdatedEvent) => void): void {
    for (const [socketKey, peers] of this.bySocket) {
      for (const [peerKey, flow] of peers) {
        if (nowBootNs - flow.lastNs >= this.idleTimeoutNs) {
          peers.delete(peerKey);
          this.count--;
          this.reportedFinal++;
          emit(this.toEvent(flow, true));
        } else if (flow.dirty) {
          flow.dirty = false;
          emit(this.toEvent(flow, false));
        }
      }
      if (peers.size === 0) this.bySocket.delete(socketKey);
    }
  }

  /** Everything as final (shutdown). */
  flushAll(emit: (e: FlowUpdatedEvent) => void): void {
    for (const peers of this.bySocket.values()) {
      for (const flow of peers.values()) emit(this.toEvent(flow, true));
    }
    this.reportedFinal += this.count;
    this.count = 0;
    this.bySocket.clear();
    this.owners.clear();
  }

  private evictOldest(emit: (e: FlowUpdatedEvent) => void): void {
    // Map iteration order is insertion order: the first socket's first peer is among the oldest.
    const first = this.bySocket.entries().next();
    if (first.done) return;
    const [socketKey, peers] = first.value;
    const oldest = peers.entries().next();
    if (!oldest.done) {
      const [peerKey, flow] = oldest.value;
      peers.delete(peerKey);
      this.count--;
      this.reportedFinal++;
      emit(this.toEvent(flow, true));
    }
    if (peers.size === 0) this.bySocket.delete(socketKey);
  }

  private toEvent(flow: Flow, final: boolean): FlowUpdatedEvent {
    return {
      kind: 'flow.updated',
      timeUs: this.toEpochUs(flow.lastNs),
      process: flow.process,
      transport: flow.transport,
      networkType: flow.networkType,
      localAddress: flow.localAddress,
      localPort: flow.localPort,
      remoteAddress: flow.remoteAddress,
      remotePort: flow.remotePort,
      direction: flow.direction,
      socketCookie: flow.cookie,
      netnsId: flow.netnsId,
      bytesSent: flow.bytesSent,
      bytesReceived: flow.bytesReceived,
      packetsSent: flow.packetsSent,
      packetsReceived: flow.packetsReceived,
      durationNs: flow.lastNs - flow.firstNs,
      final,
    };
  }
}
