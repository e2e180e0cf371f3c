import v8 from 'node:v8';
import vm from 'node:vm';
import { mulberry32 } from '../../core/prng';

export { mulberry32 };

/**
 * Deterministic fuzzing helpers shared by the protocol parser tests. A seeded PRNG keeps every
 * run identical, so a failure found once is reproduced by re-running the suite.
 */


export class Fuzzer {
  readonly random: () => number;

  constructor(readonly seed: number) {
    this.random = mulberry32(seed);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bool(p = 0.5): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Random bytes, length in [0, maxLength]. */
  bytes(maxLength: number): Uint8Array {
    const out = new Uint8Array(this.int(maxLength + 1));
    for (let i = 0; i < out.length; i++) out[i] = this.int(256);
    return out;
  }

  /**
   * A mutated copy of `input`: byte flips, interesting values, insertions, deletions,
   * duplicated slices and truncation, `rounds` times — the classic AFL-style havoc steps.
   */
  mutate(input: Uint8Array, rounds = 1 + this.int(4)): Uint8Array {
    let buf: Uint8Array = Uint8Array.from(input);
    for (let r = 0; r < rounds; r++) {
      const op = this.int(8);
      const pos = buf.length === 0 ? 0 : this.int(buf.length);
      switch (op) {
        case 0: // flip one bit
          if (buf.length > 0) buf[pos] ^= 1 << this.int(8);
          break;
        case 1: // random byte
          if (buf.length > 0) buf[pos] = this.int(256);
          break;
        case 2: // boundary value
          if (buf.length > 0) buf[pos] = this.pick([0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x3a, 0x20, 0xc0]);
          break;
        case 3: { // insert random bytes
          const ins = this.bytes(8);
          buf = concat(buf.subarray(0, pos), ins, buf.subarray(pos));
          break;
        }
        case 4: { // delete a range
          const len = this.int(Math.min(16, buf.length - pos) + 1);
          buf = concat(buf.subarray(0, pos), buf.subarray(pos + len));
          break;
        }
        case 5: { // duplicate a slice
          const len = this.int(Math.min(32, buf.length - pos) + 1);
          buf = concat(buf.subarray(0, pos + len), buf.subarray(pos, pos + len), buf.subarray(pos + len));
          break;
        }
        case 6: // truncate
          buf = buf.slice(0, pos);
          break;
        default: { // overwrite 16-bit big-endian field with an extreme value
          if (buf.length >= 2) {
            const p = Math.min(pos, buf.length - 2);
            const v = this.pick([0, 1, 0x7fff, 0x8000, 0xffff, 0xc00c]);
            buf[p] = v >> 8;
            buf[p + 1] = v & 0xff;
          }
        }
      }
    }
    return buf;
  }

  /** Split `input` into 1..maxParts chunks at random byte positions. */
  split(input: Uint8Array, maxParts = 4): Uint8Array[] {
    const parts = 1 + this.int(maxParts);
    const cuts = new Set<number>();
    for (let i = 1; i < parts && input.length > 1; i++) cuts.add(1 + this.int(input.length - 1));
    const sorted = [...cuts].sort((a, b) => a - b);
    const out: Uint8Array[] = [];
    let start = 0;
    for (const cut of sorted) {
      out.push(input.subarray(start, cut));
      start = cut;
    }
    out.push(input.subarray(start));
    return out;
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

let collect: (() => void) | undefined;

/** A full garbage collection, exposed at run time so the suite needs no node flags. */
export function forceGc(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) {
      collect = exposed;
    } else {
      v8.setFlagsFromString('--expose-gc');
      collect = vm.runInNewContext('gc') as () => void;
    }
  }
  collect();
}

/** Heap in use after a full GC: for asserting that state stays bounded. */
export function heapUsed(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}
