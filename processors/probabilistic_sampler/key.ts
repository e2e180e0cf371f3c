/**
 * Which hash decides an event's fate. The byte layouts here are the contract a kernel-side
 * sampler must reproduce to agree with this processor (see README "Sampling key").
 */
import * as events from '../../core/events';
import type { NetworkEvent, Transport } from '../../core/events';
import * as hashing from './hash';
import * as ip from './ip';

// Imported bindings are read once here: the CommonJS interop that runs this TypeScript turns
// every use of an imported name into a getter call, which dominated the per-event cost.
const { isL7Event } = events;
const { FNV_PRIME, mixWord, seededBasis } = hashing;
const { compareEndpoints, parseAddress } = ip;

export type ConnectionKeySource = 'tuple' | 'socket_cookie';

/** IANA protocol numbers, as the kernel stores them. */
function protocolNumber(transport: Transport): number {
  return transport === 'tcp' ? 6 : transport === 'udp' ? 17 : 1;
}

const TWO_POW_32 = 0x1_0000_0000;

/** Value returned when an event carries no usable identity (no trace id, tuple or cookie). */
export const NO_KEY = -1;

/**
 * Every hash method takes a mask applied before returning. The sampler passes the 14-bit bucket
 * mask: a small result stays an immediate integer, while a full uint32 returned from a call
 * that is not inlined is boxed as a heap number — an allocation per event.
 */
export const FULL_HASH = 0xffffffff;

export class SamplingKeyHasher {
  private readonly basis: number;
  // Scratch buffers reused for every event: the hot path allocates nothing.
  private readonly addressA = new Uint8Array(16);
  private readonly addressB = new Uint8Array(16);

  constructor(seed: number, private readonly connectionKey: ConnectionKeySource, private readonly useTraceId: boolean) {
    this.basis = seededBasis(seed);
  }

  /**
   * The event's hash (unsigned 32-bit), or NO_KEY. Precedence: a valid W3C trace id (when
   * enabled), then the connection: the canonical tuple (default) or the socket cookie, each
   * falling back to the other when it is unknown.
   */
  hashEvent(event: NetworkEvent, mask = FULL_HASH): number {
    const hash = this.hashTrace(event, mask);
    return hash !== NO_KEY ? hash : this.hashConnection(event, mask);
  }

  /** The trace-id hash of an L7 event carrying a valid trace context (when enabled), else NO_KEY. */
  hashTrace(event: NetworkEvent, mask = FULL_HASH): number {
    if (!this.useTraceId || !isL7Event(event) || event.traceContext === undefined) return NO_KEY;
    return this.hashTraceId(event.traceContext.traceId, mask);
  }

  /** The connection's hash by the configured key, falling back to the other one; else NO_KEY. */
  hashConnection(event: NetworkEvent, mask = FULL_HASH): number {
    if (this.connectionKey === 'socket_cookie') {
      if (event.socketCookie !== 0) return this.hashCookie(event.socketCookie, mask);
      return this.hashTuple(event, mask);
    }
    const hash = this.hashTuple(event, mask);
    if (hash !== NO_KEY) return hash;
    return event.socketCookie !== 0 ? this.hashCookie(event.socketCookie, mask) : NO_KEY;
  }

  /** fnv32a(seed || 16 trace-id bytes); NO_KEY for anything but 32 hex digits, not all zero. */
  hashTraceId(traceId: string, mask = FULL_HASH): number {
    if (traceId.length !== 32) return NO_KEY;
    let hash = this.basis | 0;
    let nonZero = 0;
    for (let i = 0; i < 32; i += 2) {
      const high = hexDigit(traceId.charCodeAt(i));
      const low = hexDigit(traceId.charCodeAt(i + 1));
      if (high < 0 || low < 0) return NO_KEY;
      const byte = (high << 4) | low;
      nonZero |= byte;
      hash = Math.imul(hash ^ byte, FNV_PRIME);
    }
    return nonZero === 0 ? NO_KEY : (hash & mask) >>> 0;
  }

  /** fnv32a(seed || cookie as u64 little-endian). */
  hashCookie(cookie: number, mask = FULL_HASH): number {
    const low = cookie % TWO_POW_32 >>> 0;
    const high = Math.floor(cookie / TWO_POW_32) >>> 0;
    return (mixWord(mixWord(this.basis | 0, low), high) & mask) >>> 0;
  }

  /**
   * fnv32a(seed || lowAddr[16] || highAddr[16] || lowPort u16le || highPort u16le || proto u8
   * || 3 zero bytes || netns u32le), endpoints ordered by (address bytes, port) so both ends and
   * both directions of a connection hash alike. NO_KEY when an address does not parse.
   */
  hashTuple(event: NetworkEvent, mask = FULL_HASH): number {
    const a = this.addressA;
    const b = this.addressB;
    if (!parseAddress(event.localAddress, a) || !parseAddress(event.remoteAddress, b)) return NO_KEY;
    let low = a;
    let high = b;
    let lowPort = event.localPort;
    let highPort = event.remotePort;
    if (compareEndpoints(a, event.localPort, b, event.remotePort) > 0) {
      low = b;
      high = a;
      lowPort = event.remotePort;
      highPort = event.localPort;
    }
    // The state stays a signed int32 (Math.imul) in locals; see FULL_HASH on boxing.
    let hash = this.basis | 0;
    for (let i = 0; i < 16; i++) hash = Math.imul(hash ^ low[i], FNV_PRIME);
    for (let i = 0; i < 16; i++) hash = Math.imul(hash ^ high[i], FNV_PRIME);
    hash = Math.imul(hash ^ (lowPort & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ ((lowPort >>> 8) & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ (highPort & 0xff), FNV_PRIME);
    hash = Math.imul(hash ^ ((highPort >>> 8) & 0xff), FNV_PRIME);
    hash = mixWord(hash, protocolNumber(event.transport));
    return (mixWord(hash, event.netnsId >>> 0) & mask) >>> 0;
  }
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}
