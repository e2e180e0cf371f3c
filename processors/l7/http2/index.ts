/**
 * HTTP/2 cleartext (prior knowledge h2c) and gRPC for the l7 processor. See README.md.
 */
import type { PayloadEvent } from '../../../core/events';
import type { L7Options, ProtocolModule, ProtocolSession } from '../protocol';
import { isPlausibleFrameChain, prefaceMatchLength } from './frames';
import { HPACK_DESYNC_COUNTER, Http2Session } from './session';

/** Shortest preface prefix accepted as evidence ("PRI * HT"): shorter is too ambiguous. */
const MIN_PREFACE_EVIDENCE = 8;

/**
 * The client preface (or a prefix of it when the capture was cut short), or — for a capture
 * that joined an established connection — a chunk that is a run of structurally plausible
 * frames ending exactly at its end.
 */
export function detectHttp2(data: Uint8Array, truncated: boolean): boolean {
  if (data.length === 0) return false;
  if (data[0] === 0x50 /* P */) {
    const matched = prefaceMatchLength(data);
    return matched >= MIN_PREFACE_EVIDENCE || (matched > 0 && matched === data.length && matched >= 3);
  }
  return isPlausibleFrameChain(data, truncated);
}

export const http2Protocol: ProtocolModule = {
  name: 'http2',
  detect(data: Uint8Array, event: PayloadEvent): boolean {
    return detectHttp2(data, event.truncated);
  },
  counterNames: [HPACK_DESYNC_COUNTER],
  createSession(options: L7Options, counters?: Record<string, number>): ProtocolSession {
    return new Http2Session(options, counters);
  },
};

export { Http2Session, MAX_TRACKED_STREAMS } from './session';
