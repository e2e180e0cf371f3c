/**
 * The connection identity an L7 transaction inherits from the payload chunk that started it.
 * Copied field by field (not by keeping the PayloadEvent) so a pending transaction never pins
 * the captured bytes, which may be a view into a much larger receive buffer.
 */
import type { Direction, EventHeader, K8sMetadata, NetworkType, PayloadEvent, ProcessInfo, Transport } from '../../core/events';

export interface ConnectionSnapshot {
  process: ProcessInfo;
  transport: Transport;
  networkType: NetworkType;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  direction: Direction;
  socketCookie: number;
  netnsId: number;
  k8s: K8sMetadata | undefined;
  peerK8s: K8sMetadata | undefined;
  sampleRatio: number | undefined;
}

export function snapshotOf(event: PayloadEvent): ConnectionSnapshot {
  return {
    process: event.process,
    transport: event.transport,
    networkType: event.networkType,
    localAddress: event.localAddress,
    localPort: event.localPort,
    remoteAddress: event.remoteAddress,
    remotePort: event.remotePort,
    direction: event.direction,
    socketCookie: event.socketCookie,
    netnsId: event.netnsId,
    k8s: event.k8s,
    peerK8s: event.peerK8s,
    sampleRatio: event.sampleRatio,
  };
}

/**
 * `cached` when the event comes from the same thread and tuple (the common case: a session sees
 * one connection), else a new snapshot; saves an allocation per transaction.
 */
export function reuseSnapshot(cached: ConnectionSnapshot | undefined, event: PayloadEvent): ConnectionSnapshot {
  if (
    cached !== undefined &&
    cached.process.pid === event.process.pid &&
    cached.process.tid === event.process.tid &&
    cached.remotePort === event.remotePort &&
    cached.localPort === event.localPort &&
    cached.remoteAddress === event.remoteAddress
  ) {
    return cached;
  }
  return snapshotOf(event);
}

/** Copies the optional header fields (Kubernetes metadata, sample ratio) when present. */
export function withOptionalHeader<T extends EventHeader>(event: T, s: ConnectionSnapshot): T {
  if (s.k8s !== undefined) event.k8s = s.k8s;
  if (s.peerK8s !== undefined) event.peerK8s = s.peerK8s;
  if (s.sampleRatio !== undefined) event.sampleRatio = s.sampleRatio;
  return event;
}
