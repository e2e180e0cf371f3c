/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `version-traceid-parentid-flags`, lowercase hex. Carried so exported spans join the
 * application's own traces. Shared by the HTTP/1 parser and the gRPC metadata parser.
 */
import type { TraceContext } from '../../core/events';
import * as bytes from './bytes';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { latin1 } = bytes;

// Lowercase hex digit values by byte, -1 for anything else (the spec forbids uppercase).
const HEX = new Int8Array(256).fill(-1);
for (let c = 0x30; c <= 0x39; c++) HEX[c] = c - 0x30;
for (let c = 0x61; c <= 0x66; c++) HEX[c] = c - 0x61 + 10;

function hexValue(c: number): number {
  return HEX[c];
}

/** Checks [start, start+len) is lowercase hex; returns true when any digit is non-zero. */
function hexNonZero(data: Uint8Array, start: number, len: number): boolean | undefined {
  let any = 0;
  for (let i = start; i < start + len; i++) {
    const v = HEX[data[i]];
    if (v < 0) return undefined;
    any |= v;
  }
  return any !== 0;
}

/** Parses a traceparent value held in data[start, end); undefined when invalid. */
export function parseTraceparentBytes(data: Uint8Array, start: number, end: number): TraceContext | undefined {
  // Leading/trailing optional whitespace was trimmed by the caller. 55 = 2+1+32+1+16+1+2.
  if (end - start < 55) return undefined;
  const v0 = hexValue(data[start]);
  const v1 = hexValue(data[start + 1]);
  if (v0 < 0 || v1 < 0) return undefined;
  const version = v0 * 16 + v1;
  if (version === 0xff) return undefined;
  // Version 00 is exactly 55 characters; later versions may append '-'-prefixed fields.
  if (version === 0 && end - start !== 55) return undefined;
  if (version !== 0 && end - start > 55 && data[start + 55] !== 0x2d) return undefined;
  if (data[start + 2] !== 0x2d || data[start + 35] !== 0x2d || data[start + 52] !== 0x2d) return undefined;
  if (hexNonZero(data, start + 3, 32) !== true) return undefined;
  if (hexNonZero(data, start + 36, 16) !== true) return undefined;
  const f0 = hexValue(data[start + 53]);
  const f1 = hexValue(data[start + 54]);
  if (f0 < 0 || f1 < 0) return undefined;
  // One decode, two slices: cheaper than decoding the ids separately.
  const text = latin1(data, start, start + 52);
  return { traceId: text.substring(3, 35), spanId: text.substring(36, 52), traceFlags: f0 * 16 + f1 };
}

/** String form, for metadata that arrives already decoded (gRPC/HTTP/2 headers). */
export function parseTraceparent(value: string): TraceContext | undefined {
  const trimmed = value.trim();
  const bytes = new Uint8Array(trimmed.length);
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed.charCodeAt(i);
    if (c > 0x7f) return undefined;
    bytes[i] = c;
  }
  return parseTraceparentBytes(bytes, 0, bytes.length);
}
