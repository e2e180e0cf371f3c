/** Address formatting for the decoder's hot path: IPv4 cached by value, IPv6 per RFC 5952 (shared with DNS answers). */

const V4_CACHE_MAX = 8192;
const v4Cache = new Map<number, string>();

/** `a` is the address as it sits in memory (network order) read as a little-endian u32. */
// The two most recent addresses short-circuit the map: a record's local address is usually the
// previous record's too.
// The sentinel is outside int32, so no key (`raw | 0`) can match it: -1 is 255.255.255.255.
const NO_KEY = 2 ** 32;
let lastA = NO_KEY;
let lastAText = '';
let lastB = NO_KEY;
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

export { formatIpv6 } from '../../core/ip-text';
