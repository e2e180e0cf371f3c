/**
 * Small byte helpers shared by the protocol parsers. The parsers read captured syscall data
 * in place (no copies on the common path), so these work on (array, start, end) ranges.
 */

const EMPTY = new Uint8Array(0);

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;

// Node's Buffer decodes latin1 natively several times faster than TextDecoder for the short
// strings parsers produce (paths, hosts, DNS labels). It accepts any Uint8Array as `this`.
// Feature-detected so another runtime falls back to the standard decoder.
const nativeLatin1 = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;
const latin1Decoder = new TextDecoder('latin1');

/** Bytes [start, end) as a latin1 string: every byte maps to one code unit, never throws. */
export function latin1(data: Uint8Array, start: number, end: number): string {
  if (end <= start) return '';
  if (nativeLatin1 !== undefined) return nativeLatin1.call(data, start, end);
  return latin1Decoder.decode(data.subarray(start, end));
}

type IndexOf = (this: Uint8Array, value: number, byteOffset: number) => number;
// Buffer's indexOf of a byte is a native memchr, about twice as fast as a JS loop even on
// ~30-byte header lines (TypedArray.prototype.indexOf is slower than both). It takes any
// Uint8Array as `this`.
const nativeIndexOf = (Buffer.prototype as unknown as { indexOf?: IndexOf }).indexOf;

/** Index of the first `byte` in [start, end), or -1. */
export function indexOfByte(data: Uint8Array, byte: number, start: number, end: number): number {
  if (start >= end) return -1;
  if (nativeIndexOf !== undefined) {
    // Searches past `end` when it finds nothing before it; stops at the first match.
    const i = nativeIndexOf.call(data, byte, start);
    return i >= 0 && i < end ? i : -1;
  }
  for (let i = start; i < end; i++) if (data[i] === byte) return i;
  return -1;
}

/**
 * A growable byte buffer with a hard cap: parsers copy only the tail of a chunk that did not
 * form a complete unit (a split header block, a partial DNS-over-TCP message).
 */
export class CappedBuffer {
  // Allocated on first use: most connections never split a unit across chunks.
  private bytes: Uint8Array = EMPTY;
  length = 0;

  constructor(readonly cap: number, private readonly initial = 256) {}

  get data(): Uint8Array {
    return this.bytes;
  }

  /** Appends data[start, end); returns false (and appends nothing) when it would exceed the cap. */
  append(data: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (n <= 0) return true;
    const need = this.length + n;
    if (need > this.cap) return false;
    if (need > this.bytes.length) {
      let size = Math.max(this.bytes.length * 2, this.initial);
      while (size < need) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.cap));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(data.subarray(start, end), this.length);
    this.length = need;
    return true;
  }

  /** Drops the first n bytes. */
  consume(n: number): void {
    if (n >= this.length) {
      this.length = 0;
      return;
    }
    this.bytes.copyWithin(0, n, this.length);
    this.length -= n;
  }

  clear(): void {
    this.length = 0;
    // Give back memory a large unit made us grow to: idle connections stay small.
    if (this.bytes.length > 4096) this.bytes = EMPTY;
  }
}
