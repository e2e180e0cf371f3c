/**
 * DNS domain names on the wire (RFC 1035 4.1.4), with message compression. Pointers must
 * point strictly before the start of the name segment being read, so every jump goes back
 * and a crafted loop cannot make the reader spin; names are capped at 255 octets.
 */
import { latin1 } from '../bytes';

const MAX_NAME_OCTETS = 255;
/** After a read, the offset just past the name in the original (not the pointed-to) bytes. */
export let nameEnd = 0;

// Label bytes that print as themselves; others are escaped as dig does (\DDD, \., \\).
const PLAIN = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) PLAIN[c] = 1;
PLAIN[0x2e] = 0;
PLAIN[0x5c] = 0;

function labelText(data: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (PLAIN[data[i]] === 0) return escapedLabel(data, start, end);
  }
  return latin1(data, start, end);
}

function escapedLabel(data: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const c = data[i];
    if (PLAIN[c] === 1) out += String.fromCharCode(c);
    else if (c === 0x2e || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else out += '\\' + String(c).padStart(3, '0');
  }
  return out;
}

/**
 * Reads the name at `pos` in the message data[msgStart, msgEnd). Returns the dotted name
 * without the trailing dot ('.' for the root), or undefined when malformed. Sets `nameEnd`.
 */
export function readName(data: Uint8Array, msgStart: number, msgEnd: number, pos: number): string | undefined {
  let name = '';
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
    const label = labelText(data, pos + 1, pos + 1 + len);
    name = name.length === 0 ? label : name + '.' + label;
    pos += 1 + len;
  }
  nameEnd = end;
  return name.length === 0 ? '.' : name;
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
