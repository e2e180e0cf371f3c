/**
 * Small integer codes for the enums the table stores per slot (one byte each) and the metrics
 * index counters by. Code 0 is always the "unknown" value so a zeroed slot reads as unknown.
 */
import type { CloseReason, ConnectFailureReason, Direction, NetworkType, Transport } from '../../core/events';
import { TRANSPORT_ICMP, TRANSPORT_TCP, TRANSPORT_UDP } from './table';

export const CLOSE_REASONS: readonly CloseReason[] = ['unknown', 'fin', 'reset', 'timeout', 'evicted', 'refused'];
export const CLOSE_UNKNOWN = 0;
export const CLOSE_FIN = 1;
export const CLOSE_RESET = 2;
export const CLOSE_TIMEOUT = 3;
export const CLOSE_EVICTED = 4;
export const CLOSE_REFUSED = 5;

export const FAILURE_REASONS: readonly ConnectFailureReason[] = ['unknown', 'refused', 'timeout', 'reset', 'unreachable'];

export const DIRECTIONS: readonly Direction[] = ['unknown', 'inbound', 'outbound'];
export const NETWORK_TYPES: readonly NetworkType[] = ['ipv4', 'ipv6'];
export const TRANSPORTS: readonly Transport[] = ['tcp', 'udp', 'icmp'];

export function closeReasonCode(reason: string): number {
  switch (reason) {
    case 'fin': return CLOSE_FIN;
    case 'reset': return CLOSE_RESET;
    case 'timeout': return CLOSE_TIMEOUT;
    case 'evicted': return CLOSE_EVICTED;
    case 'refused': return CLOSE_REFUSED;
    default: return CLOSE_UNKNOWN;
  }
}

export function failureReasonCode(reason: string): number {
  switch (reason) {
    case 'refused': return 1;
    case 'timeout': return 2;
    case 'reset': return 3;
    case 'unreachable': return 4;
    default: return 0;
  }
}

/** How a failed connect ends the entry its connect() opened. */
export function closeReasonForFailure(reason: string): number {
  switch (reason) {
    case 'refused': return CLOSE_REFUSED;
    case 'timeout': return CLOSE_TIMEOUT;
    case 'reset': return CLOSE_RESET;
    default: return CLOSE_UNKNOWN;
  }
}

export function directionCode(direction: string): number {
  return direction === 'inbound' ? 1 : direction === 'outbound' ? 2 : 0;
}

export function networkTypeCode(networkType: string): number {
  return networkType === 'ipv6' ? 1 : 0;
}

export function transportCode(transport: string): number {
  return transport === 'udp' ? TRANSPORT_UDP : transport === 'icmp' ? TRANSPORT_ICMP : TRANSPORT_TCP;
}
