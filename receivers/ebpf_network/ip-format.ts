/** Address formatting for the decoder's hot path: IPv4 cached by value, IPv6 per RFC 5952. */

const V4_CACHE_MAX = 8192;
const v4Cache = new Map<number, string>();

/** `a` is the address as it sits in memory (network order) read as a little-endian u32. */
// The two most recent addresses short-circuit the map: a record's local address is usually the
// previous record's too.
let lastA = -1;
let lastAText = '';
let lastB = -1;
let lastBText = '';

export function formatIpv4(raw: number): string {
  // `| 0` keeps the key a small integer (no heap-number hashing) for addresses >= 128.0.0.0.
  const key = raw | 0;
  if (key === lastA) return lastAText;
  if (key === lastB) return lastBText;
  let s = v4Cache.get(key);
  if (s === undefined) {
    s = `${raw & 0xff}.${(raw >>> 8) & 0xff}.${(raw >>> 16) & 0xff}.${raw >>> 24}`;
    if (v4Cache.size >= V4_CACHE_MAX) v4Cache.clear();
    v4Cache.set(key, s);
  }
  lastB = lastA;
  lastBText = lastAText;
  lastA = key;
  lastAText = s;
  return s;
}

/** RFC 5952 text for 16 bytes at `off`: lowercase, longest zero run (>= 2 groups) as `::`. */
export function formatIpv6(bytes: Uint8Array, off: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (bytes[off + 2 * i] << 8) | bytes[off + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) {
    return `::ffff:${bytes[off + 12]}.${bytes[off + 13]}.${bytes[off + 14]}.${bytes[off + 15]}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += groups[i].toString(16);
    if (i < 7) out += ':';
  }
  return out;
}
