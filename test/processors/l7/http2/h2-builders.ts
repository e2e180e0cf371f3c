/** Tiny HTTP/2 + HPACK encoders for building test inputs the recorded fixtures do not cover. */
import { huffmanEncode } from '../../../../processors/l7/http2/hpack/huffman';

export function frame(type: number, flags: number, streamId: number, payload: Uint8Array | number[] = []): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  const out = new Uint8Array(9 + p.length);
  out[0] = (p.length >> 16) & 0xff;
  out[1] = (p.length >> 8) & 0xff;
  out[2] = p.length & 0xff;
  out[3] = type;
  out[4] = flags;
  out[5] = (streamId >>> 24) & 0x7f;
  out[6] = (streamId >> 16) & 0xff;
  out[7] = (streamId >> 8) & 0xff;
  out[8] = streamId & 0xff;
  out.set(p, 9);
  return out;
}

export function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** HPACK integer with an N-bit prefix, `first` holding the representation's high bits. */
export function hpackInt(value: number, prefixBits: number, first = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

export function hpackString(s: string, huffman = false): number[] {
  const raw = Buffer.from(s, 'latin1');
  const bytes = huffman ? huffmanEncode(raw) : raw;
  return [...hpackInt(bytes.length, 7, huffman ? 0x80 : 0), ...bytes];
}

/** Indexed header field. */
export const indexed = (index: number): number[] => hpackInt(index, 7, 0x80);

/** Literal with incremental indexing, new name. */
export const literalIndexed = (name: string, value: string, huffman = false): number[] => [0x40, ...hpackString(name, huffman), ...hpackString(value, huffman)];

/** Literal with incremental indexing, indexed name. */
export const literalIndexedName = (index: number, value: string, huffman = false): number[] => [...hpackInt(index, 6, 0x40), ...hpackString(value, huffman)];

/** Literal without indexing, indexed name. */
export const literalNameRef = (index: number, value: string): number[] => [...hpackInt(index, 4, 0x00), ...hpackString(value)];

/** Literal without indexing, new name. */
export const literalPlain = (name: string, value: string): number[] => [0x00, ...hpackString(name), ...hpackString(value)];

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const EMPTY_SETTINGS = frame(4, 0, 0);
export const SETTINGS_ACK = frame(4, 1, 0);
