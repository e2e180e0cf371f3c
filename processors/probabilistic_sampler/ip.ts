/**
 * Parses textual IPv4/IPv6 addresses into a caller-owned 16-byte buffer without allocating, so
 * the sampler can build a canonical connection key per event on the hot path. IPv4 is stored
 * IPv4-mapped (::ffff:a.b.c.d), so `127.0.0.1` and `::ffff:127.0.0.1` — one connection seen from
 * an IPv4 socket and from a dual-stack socket — produce the same bytes.
 */

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** Dotted quad in text[start, end) into out[offset..offset+3]; false when malformed. */
function parseIPv4Into(text: string, start: number, end: number, out: Uint8Array, offset: number): boolean {
  let octet = 0;
  let digits = 0;
  let index = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 /* . */) {
      if (digits === 0 || index === 3) return false;
      out[offset + index++] = octet;
      octet = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || index !== 3) return false;
  out[offset + 3] = octet;
  return true;
}

/**
 * Writes the 16-byte form of `text` into `out` (length >= 16). Accepts dotted IPv4, IPv6 with
 * `::` compression, an embedded IPv4 tail and a `%zone` suffix (ignored). Returns false, with
 * `out` unspecified, for anything else (including the empty string).
 */
export function parseAddress(text: string, out: Uint8Array): boolean {
  let end = text.length;
  if (end === 0) return false;
  const zone = text.indexOf('%');
  if (zone >= 0) end = zone;

  if (text.indexOf(':') < 0) {
    out.fill(0, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    return parseIPv4Into(text, 0, end, out, 12);
  }

  // IPv6: collect groups before and after '::' in place, then shift the tail to the end.
  let pos = 0;
  let group = 0; // bytes written so far
  let gapAt = -1; // byte index where '::' was seen
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return false;
    gapAt = 0;
    pos = 2;
    if (pos === end) {
      out.fill(0, 0, 16);
      return true;
    }
  }
  while (pos < end) {
    if (group >= 16) return false;
    // An embedded IPv4 tail: a '.' before the next ':'.
    let next = pos;
    let sawDot = false;
    while (next < end && text.charCodeAt(next) !== 58) {
      if (text.charCodeAt(next) === 46) sawDot = true;
      next++;
    }
    if (sawDot) {
      if (next !== end || group > 12) return false;
      if (!parseIPv4Into(text, pos, end, out, group)) return false;
      group += 4;
      pos = end;
      break;
    }
    const length = next - pos;
    if (length === 0 || length > 4) return false;
    let value = 0;
    for (let i = pos; i < next; i++) {
      const digit = hexValue(text.charCodeAt(i));
      if (digit < 0) return false;
      value = (value << 4) | digit;
    }
    out[group++] = value >>> 8;
    out[group++] = value & 0xff;
    pos = next;
    if (pos === end) break;
    // pos is at ':'
    if (text.charCodeAt(pos + 1) === 58) {
      if (gapAt >= 0) return false;
      gapAt = group;
      pos += 2;
      if (pos === end) break;
    } else {
      pos += 1;
      if (pos === end) return false; // trailing single ':'
    }
  }
  if (gapAt < 0) return group === 16;
  if (group > 14) return false; // '::' must stand for at least one zero group
  const tail = group - gapAt;
  for (let i = tail - 1; i >= 0; i--) out[16 - tail + i] = out[gapAt + i];
  out.fill(0, gapAt, 16 - tail);
  return true;
}

/** -1, 0 or 1 comparing two 16-byte addresses, then ports. */
export function compareEndpoints(a: Uint8Array, portA: number, b: Uint8Array, portB: number): number {
  for (let i = 0; i < 16; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  if (portA !== portB) return portA < portB ? -1 : 1;
  return 0;
}
