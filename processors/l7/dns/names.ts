/**
 * DNS domain names on the wire (RFC 1035 4.1.4), with message compression. Pointers must
 * point strictly before the start of the name segment being read, so every jump goes back
 * and a crafted loop cannot make the reader spin; names are capped at 255 octets.
 */
import * as bytes from '../bytes';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { latin1 } = bytes;

const MAX_NAME_OCTETS = 255;
/** After `readName`: `end` is the offset just past the name in the original (not the pointed-to) bytes. */
export const nameCursor = { end: 0 };

// Label bytes that print as themselves; others are escaped as dig does (\DDD, \., \\).
const PLAIN = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) PLAIN[c] = 1;
PLAIN[0x2e] = 0;
PLAIN[0x5c] = 0;

// The presentation form is assembled here and decoded once: one native decode per name
// instead of one per label plus concatenations. 255 octets escaped (4 bytes each) fit.
const scratch = new Uint8Array(4 * MAX_NAME_OCTETS + 8);

/**
 * Reads the name at `pos` in the message data[msgStart, msgEnd). Returns the dotted name
 * without the trailing dot ('.' for the root), or undefined when malformed. Sets
 * `nameCursor.end`.
 */
export function readName(data: Uint8Array, msgStart: number, msgEnd: number, pos: number): string | undefined {
  let out = 0;
  let octets = 0;
  let segmentStart = pos;
  let end = -1;
  for (;;) {
    if (pos >= msgEnd) return undefined;
    const len = data[pos];
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= msgEnd) return undefined;
      const target = msgStart + (((len & 0x3f) << 8) | data[pos + 1]);
      if (target >= segmentStart) return undefined;
      if (end < 0) end = pos + 2;
      pos = target;
      segmentStart = target;
      continue;
    }
    if (kind !== 0) return undefined; // 0x40/0x80 label types are obsolete/unassigned
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS || pos + 1 + len > msgEnd) return undefined;
    if (out > 0) scratch[out++] = 0x2e;
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = data[i];
      if (PLAIN[c] === 1) {
        scratch[out++] = c;
      } else if (c === 0x2e || c === 0x5c) {
        scratch[out++] = 0x5c;
        scratch[out++] = c;
      } else {
        scratch[out++] = 0x5c;
        scratch[out++] = 0x30 + ((c / 100) | 0);
        scratch[out++] = 0x30 + (((c / 10) | 0) % 10);
        scratch[out++] = 0x30 + (c % 10);
      }
    }
    pos += 1 + len;
  }
  nameCursor.end = end;
  return out === 0 ? '.' : latin1(scratch, 0, out);
}

/** Skips the name at `pos` without decoding it; returns the offset past it, or -1. */
export function skipName(data: Uint8Array, msgEnd: number, pos: number): number {
  let octets = 0;
  while (pos < msgEnd) {
    const len = data[pos];
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2 <= msgEnd ? pos + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) return -1;
    pos += 1 + len;
  }
  return -1;
}
