import type { TraceContext } from '../../../core/events';

const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

function isLowerHex(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * Parses a W3C `traceparent` header (Trace Context level 1, section 3.2):
 * `version-traceid-parentid-flags`, lowercase hex. Version ff and all-zero ids are invalid;
 * a version other than 00 may carry more fields after the flags, which are ignored as the
 * spec asks. Returns undefined for anything invalid.
 */
export function parseTraceparent(value: string): TraceContext | undefined {
  const v = value.trim();
  if (v.length < 55) return undefined;
  if (!isLowerHex(v, 0, 2) || v.charCodeAt(2) !== 0x2d || v.charCodeAt(35) !== 0x2d || v.charCodeAt(52) !== 0x2d) return undefined;
  const version = v.slice(0, 2);
  if (version === 'ff') return undefined;
  if (version === '00' && v.length !== 55) return undefined;
  if (v.length > 55 && v.charCodeAt(55) !== 0x2d) return undefined;
  if (!isLowerHex(v, 3, 35) || !isLowerHex(v, 36, 52) || !isLowerHex(v, 53, 55)) return undefined;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: parseInt(v.slice(53, 55), 16) };
}
