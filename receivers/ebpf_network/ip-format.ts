/** Address formatting for the decoder's hot path: IPv4 cached by value, IPv6 per RFC 5952 (shared with DNS answers). */

/**
 * A direct-mapped cache: one slot per hash of the address, a colliding address replaces the
 * slot's string. A Map lookup cost more than the rest of the address handling together, and a
 * host talks to few enough peers at once that collisions stay rare.
 */
const V4_SLOTS = 4096;
const v4Keys = new Int32Array(V4_SLOTS);
const v4Texts: string[] = new Array<string>(V4_SLOTS).fill('');

/** `raw` is the address as it sits in memory (network order) read as a little-endian u32. */
export function formatIpv4(raw: number): string {
  // `| 0` keeps the key a small integer (no heap-number compares) for addresses >= 128.0.0.0.
  const key = raw | 0;
  // The low byte is the address's first octet, which varies least: mix the last octets in.
  const slot = (key ^ (key >>> 12) ^ (key >>> 24)) & (V4_SLOTS - 1);
  const cached = v4Texts[slot];
  // An empty text marks a slot never filled (key 0 is 0.0.0.0, a real address).
  if (v4Keys[slot] === key && cached !== '') return cached;
  const text = `${raw & 0xff}.${(raw >>> 8) & 0xff}.${(raw >>> 16) & 0xff}.${raw >>> 24}`;
  v4Keys[slot] = key;
  v4Texts[slot] = text;
  return text;
}

export { formatIpv6 } from '../../core/ip-text';
