/**
 * The sampling hash: 32-bit FNV-1a over the little-endian seed followed by the key bytes, and a
 * decision on its low 14 bits. This is exactly the OpenTelemetry Collector probabilistic_sampler's
 * `hash_seed` mode (fnv32a(seed || traceId) & 0x3fff < uint32(float32(pct) * 163.84)), so trace-id
 * decisions agree with a Collector configured with the same seed and percentage, and it is simple
 * enough to reproduce in BPF C for kernel-side sampling (a fixed-length byte loop).
 *
 * Written by hand (not a library) because the hot path feeds it key fields one at a time from
 * scratch buffers; a general-purpose hash over a Buffer would force building the key per event.
 */

export const FNV_OFFSET_BASIS = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

export const HASH_BUCKETS = 0x4000;
export const HASH_BUCKET_MASK = HASH_BUCKETS - 1;

export function fnvByte(hash: number, byte: number): number {
  return Math.imul(hash ^ (byte & 0xff), FNV_PRIME) >>> 0;
}

/** Four bytes of `word`, least significant first. */
export function fnvWordLE(hash: number, word: number): number {
  hash = fnvByte(hash, word);
  hash = fnvByte(hash, word >>> 8);
  hash = fnvByte(hash, word >>> 16);
  return fnvByte(hash, word >>> 24);
}

/**
 * fnvWordLE on signed int32 state, for hot paths: the state stays an int32 (no heap-number
 * boxing between calls); convert with `>>> 0` once at the end.
 */
export function mixWord(hash: number, word: number): number {
  hash = Math.imul(hash ^ (word & 0xff), FNV_PRIME);
  hash = Math.imul(hash ^ ((word >>> 8) & 0xff), FNV_PRIME);
  hash = Math.imul(hash ^ ((word >>> 16) & 0xff), FNV_PRIME);
  return Math.imul(hash ^ (word >>> 24), FNV_PRIME);
}

/** Two bytes of `value`, least significant first. */
export function fnvU16LE(hash: number, value: number): number {
  return fnvByte(fnvByte(hash, value), value >>> 8);
}

/** The state after the seed prefix; every key hash starts here. */
export function seededBasis(seed: number): number {
  return fnvWordLE(FNV_OFFSET_BASIS, seed >>> 0);
}

/** fnv32a(seedLE || bytes): the reference form, used by tests and for odd-shaped keys. */
export function hashBytes(seed: number, bytes: ArrayLike<number>): number {
  let hash = seededBasis(seed);
  for (let i = 0; i < bytes.length; i++) hash = fnvByte(hash, bytes[i]);
  return hash;
}

/**
 * How many of the 2^14 buckets are kept for a percentage, computed as the Collector does
 * (float32 multiply, truncation) so the same percentage keeps the same buckets.
 */
export function scaledThreshold(percentage: number): number {
  if (percentage >= 100) return HASH_BUCKETS;
  if (percentage <= 0) return 0;
  return Math.trunc(Math.fround(Math.fround(percentage) * Math.fround(HASH_BUCKETS / 100)));
}

/** The smallest percentage that keeps anything: one bucket in 2^14 (0.0061 %). */
export const MIN_NONZERO_PERCENTAGE = 100 / HASH_BUCKETS;
