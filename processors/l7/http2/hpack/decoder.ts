/**
 * HPACK decoder (RFC 7541) for a passive observer.
 *
 * Written here rather than taken from a library because an observer needs what an endpoint's
 * decoder does not offer: it must keep decoding after it missed part of the connection (a
 * capture that starts mid-connection, a truncated capture), it must never throw, and it should
 * not materialize header values nobody asked for (privacy and speed). Node's own HPACK lives
 * inside nghttp2 and is not exposed.
 *
 * Degraded mode. When the decoder has not seen the connection from its start, or lost a header
 * block, the real dynamic table holds entries this decoder never saw. Dynamic indices count
 * from the newest entry, so the entries inserted since then are still addressed correctly;
 * an index past them refers to an entry we never saw and decodes as an unknown field instead
 * of being an error. Keeping an entry longer than the real table would (sizes underestimated,
 * see `insert`) is harmless for the same reason: the encoder never references an entry it has
 * evicted, and the newer entries keep their indices.
 */
import * as huffman from './huffman';
import * as staticTable from './static-table';

// Module-local bindings for the hot path: under tsx (how the collector runs TypeScript) every
// access to an imported binding is a getter call, which showed up in profiles.
const { huffmanDecode, huffmanMaxDecodedLength } = huffman;
const { STATIC_TABLE, STATIC_TABLE_LENGTH } = staticTable;

/** Header names the HTTP/2 session cares about, as small integers so hot paths compare numbers. */
export const H_OTHER = 0;
export const H_METHOD = 1;
export const H_PATH = 2;
export const H_AUTHORITY = 3;
export const H_STATUS = 4;
export const H_CONTENT_TYPE = 5;
export const H_GRPC_STATUS = 6;
export const H_TRACEPARENT = 7;
export const H_HOST = 8;
export const H_USER_AGENT = 9;
/** The name came from a dynamic table entry this decoder never saw (degraded mode). */
export const H_UNKNOWN = 255;

export const DEFAULT_HEADER_TABLE_SIZE = 4096;
/** Largest dynamic table this decoder keeps, whatever the peers negotiate. */
export const MAX_DYNAMIC_TABLE_SIZE = 64 * 1024;
/** Per-field overhead of the table size accounting (RFC 7541 section 4.1). */
const ENTRY_OVERHEAD = 32;

/**
 * Receives the decoded fields of a header block. `code` is one of the H_* constants; `name`
 * is only filled (non-empty) when the decoder was built with `fullDecode`; `value` is filled
 * for the named codes (and for everything with `fullDecode`), '' otherwise.
 */
export type HeaderSink = (code: number, name: string, value: string) => void;

export interface HpackDecoderOptions {
  /** Hard cap on the dynamic table size in bytes (RFC 7541 accounting). */
  maxTableSize?: number;
  /** Stop delivering fields after this much header list (name + value + 32 per field). */
  maxHeaderListSize?: number;
  /** Materialize every name and value (tests, debugging); otherwise only the named codes. */
  fullDecode?: boolean;
  /** Start in degraded mode: the table may hold entries we never saw. */
  degraded?: boolean;
  /** Initial maximum table size (HTTP/2: 4096 until a size update says otherwise). */
  initialTableSize?: number;
}

export const DECODE_OK = 0;
export const DECODE_ERROR = 1;

export class HpackDecoder {
  /** Header blocks that failed to decode (each one also resets the table to degraded mode). */
  errors = 0;
  /** References to entries inserted before this decoder's knowledge began. */
  unknownReferences = 0;
  /** Size updates above what the decoding peer announced in SETTINGS_HEADER_TABLE_SIZE. */
  limitViolations = 0;
  /** Header blocks whose header list passed `maxHeaderListSize` (later fields not delivered). */
  truncatedLists = 0;
  /** Description of the last decoding error, for debugging. */
  lastError = '';

  private readonly hardCap: number;
  private readonly maxHeaderListSize: number;
  private readonly fullDecode: boolean;
  private degradedMode: boolean;
  /** SETTINGS_HEADER_TABLE_SIZE announced by the decoding side; only used to count violations. */
  private announcedLimit = DEFAULT_HEADER_TABLE_SIZE;

  // Dynamic table as a ring: slot of the newest entry is (head - 1) mod capacity.
  private capacity = 0;
  private head = 0;
  private count = 0;
  private size = 0;
  private maxSize = DEFAULT_HEADER_TABLE_SIZE;
  private codes = new Uint8Array(0);
  private sizes = new Int32Array(0);
  private nameLengths = new Int32Array(0);
  private values: string[] = [];
  private names: string[] = [];

  // Decoding cursor and scratch, instance fields so decoding allocates only the strings it keeps.
  private pos = 0;
  private scratch = new Uint8Array(256);
  private scratchLength = 0;
  private listSize = 0;

  constructor(options: HpackDecoderOptions = {}) {
    this.hardCap = Math.max(0, Math.min(options.maxTableSize ?? MAX_DYNAMIC_TABLE_SIZE, MAX_DYNAMIC_TABLE_SIZE));
    this.maxHeaderListSize = options.maxHeaderListSize ?? 64 * 1024;
    this.fullDecode = options.fullDecode ?? false;
    this.degradedMode = options.degraded ?? false;
    this.maxSize = Math.min(options.initialTableSize ?? DEFAULT_HEADER_TABLE_SIZE, this.hardCap);
  }

  /** True when the table may be missing entries (mid-connection start or a lost block). */
  get degraded(): boolean {
    return this.degradedMode;
  }

  /** Entries currently in the dynamic table. */
  get tableLength(): number {
    return this.count;
  }

  /** Current dynamic table size by RFC 7541 accounting (a lower bound in degraded mode). */
  get tableSize(): number {
    return this.size;
  }

  get tableMaxSize(): number {
    return this.maxSize;
  }

  /** Dynamic entry by HPACK index (62 = newest); for tests and debugging. */
  entry(index: number): { name: string; value: string; size: number } | undefined {
    const i = index - STATIC_TABLE_LENGTH;
    if (i < 1 || i > this.count) return undefined;
    const slot = this.slotOf(i);
    return { name: this.names[slot] ?? '', value: this.values[slot], size: this.sizes[slot] };
  }

  /** The decoding side announced SETTINGS_HEADER_TABLE_SIZE = `value`. */
  setAnnouncedLimit(value: number): void {
    this.announcedLimit = value;
  }

  /**
   * Forget the table: a header block was lost, so every entry's index may have shifted.
   * Afterwards the decoder runs in degraded mode.
   */
  resetDegraded(): void {
    this.clearTable();
    this.degradedMode = true;
  }

  /**
   * Decodes one complete header block `block[start, end)`, calling `sink` for each field.
   * Returns DECODE_OK or DECODE_ERROR; on error the table is reset to degraded mode because
   * the insertions in the rest of the block are lost. Never throws.
   */
  decode(block: Uint8Array, start: number, end: number, sink: HeaderSink): number {
    this.pos = start;
    this.listSize = 0;
    let fieldsSeen = false;
    let listTruncated = false;
    while (this.pos < end) {
      const b = block[this.pos];
      let code: number;
      let name = '';
      let value = '';
      if (b & 0x80) {
        // Indexed header field (6.1).
        const index = this.readInt(block, end, 7);
        if (index <= 0) return this.fail(index < 0 ? 'bad integer' : 'index 0');
        if (index <= STATIC_TABLE_LENGTH) {
          const entry = STATIC_TABLE[index - 1];
          code = STATIC_CODES[index - 1];
          if (this.fullDecode) name = entry[0];
          value = entry[1];
          this.listSize += entry[0].length + entry[1].length + ENTRY_OVERHEAD;
        } else {
          const i = index - STATIC_TABLE_LENGTH;
          if (i > this.count) {
            if (!this.degradedMode) return this.fail(`index ${index} beyond dynamic table of ${this.count}`);
            this.unknownReferences++;
            code = H_UNKNOWN;
          } else {
            const slot = this.slotOf(i);
            code = this.codes[slot];
            value = this.values[slot];
            if (this.fullDecode) name = this.names[slot];
            this.listSize += this.sizes[slot];
          }
        }
      } else if ((b & 0xe0) === 0x20) {
        // Dynamic table size update (6.3): only before the first field of a block.
        if (fieldsSeen) return this.fail('table size update after a header field');
        const newSize = this.readInt(block, end, 5);
        if (newSize < 0) return this.fail('bad integer');
        this.applySizeUpdate(newSize);
        continue;
      } else {
        // Literal header field: with incremental indexing (01xxxxxx, 6-bit index), without
        // indexing (0000xxxx) or never indexed (0001xxxx), both 4-bit.
        const indexing = (b & 0xc0) === 0x40;
        const index = this.readInt(block, end, indexing ? 6 : 4);
        if (index < 0) return this.fail('bad integer');
        let nameLength = 0;
        let nameKnown = true;
        if (index === 0) {
          if (!this.readString(block, end)) return this.fail('bad name string');
          nameLength = this.scratchLength;
          code = codeOfName(this.scratch, nameLength);
          if (this.fullDecode) name = latin1(this.scratch, 0, nameLength);
        } else if (index <= STATIC_TABLE_LENGTH) {
          const entry = STATIC_TABLE[index - 1];
          code = STATIC_CODES[index - 1];
          nameLength = entry[0].length;
          if (this.fullDecode) name = entry[0];
        } else {
          const i = index - STATIC_TABLE_LENGTH;
          if (i > this.count) {
            if (!this.degradedMode) return this.fail(`name index ${index} beyond dynamic table of ${this.count}`);
            this.unknownReferences++;
            code = H_UNKNOWN;
            nameKnown = false;
          } else {
            const slot = this.slotOf(i);
            code = this.codes[slot];
            if (this.fullDecode) name = this.names[slot];
            nameLength = this.nameLengthOf(slot);
          }
        }
        const keepValue = this.fullDecode || (code !== H_OTHER && code !== H_UNKNOWN);
        if (keepValue || indexing) {
          if (!this.readString(block, end)) return this.fail('bad value string');
          if (keepValue) value = latin1(this.scratch, 0, this.scratchLength);
        } else if (!this.skipString(block, end)) {
          return this.fail('bad value string');
        }
        const valueLength = keepValue ? value.length : this.scratchLength;
        this.listSize += nameLength + valueLength + ENTRY_OVERHEAD;
        // The size of an entry whose name we never saw is unknown; the lower bound keeps the
        // entry longer than the real table would, which is the harmless direction.
        if (indexing) this.insert(code, name, nameKnown ? nameLength : 0, value, valueLength);
      }
      fieldsSeen = true;
      if (this.listSize > this.maxHeaderListSize) {
        if (!listTruncated) {
          listTruncated = true;
          this.truncatedLists++;
        }
      } else {
        sink(code, name, value);
      }
    }
    this.releaseScratch();
    return DECODE_OK;
  }

  /** A huge literal grew the scratch buffer: do not keep that for the life of the connection. */
  private releaseScratch(): void {
    if (this.scratch.length > 4096) this.scratch = new Uint8Array(256);
  }

  private fail(reason: string): number {
    this.releaseScratch();
    this.errors++;
    this.lastError = reason;
    this.resetDegraded();
    return DECODE_ERROR;
  }

  /**
   * Reads an N-bit prefix integer (5.1) at `pos`. Returns -1 on truncation or on values above
   * 2^31 - 1, which no sane peer sends and which would only serve to exhaust something.
   */
  private readInt(block: Uint8Array, end: number, prefixBits: number): number {
    const mask = (1 << prefixBits) - 1;
    let value = block[this.pos++] & mask;
    if (value < mask) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= end) return -1;
      const b = block[this.pos++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
      if (shift > 28) return -1;
    }
    return value > 0x7fffffff ? -1 : value;
  }

  /** Reads a string literal (5.2) into `scratch[0, scratchLength)`. */
  private readString(block: Uint8Array, end: number): boolean {
    if (this.pos >= end) return false;
    const huffman = (block[this.pos] & 0x80) !== 0;
    const length = this.readInt(block, end, 7);
    if (length < 0 || length > end - this.pos) return false;
    const from = this.pos;
    this.pos += length;
    if (huffman) {
      const needed = huffmanMaxDecodedLength(length);
      if (this.scratch.length < needed) this.scratch = new Uint8Array(Math.max(needed, this.scratch.length * 2));
      const n = huffmanDecode(block, from, from + length, this.scratch);
      if (n < 0) return false;
      this.scratchLength = n;
    } else {
      if (this.scratch.length < length) this.scratch = new Uint8Array(Math.max(length, this.scratch.length * 2));
      this.scratch.set(block.subarray(from, from + length), 0);
      this.scratchLength = length;
    }
    return true;
  }

  /** Skips a string literal nobody needs, without decoding it. */
  private skipString(block: Uint8Array, end: number): boolean {
    if (this.pos >= end) return false;
    const length = this.readInt(block, end, 7);
    if (length < 0 || length > end - this.pos) return false;
    this.pos += length;
    this.scratchLength = length; // encoded length: close enough for the header list cap
    return true;
  }

  private applySizeUpdate(newSize: number): void {
    if (newSize > this.announcedLimit) this.limitViolations++;
    if (newSize > this.hardCap) {
      // We keep less than the peers do: references to what we evicted early must decode as
      // unknown fields rather than as errors.
      this.degradedMode = true;
      newSize = this.hardCap;
    }
    this.maxSize = newSize;
    this.evictUntil(newSize);
  }

  private insert(code: number, name: string, nameLength: number, value: string, valueLength: number): void {
    const entrySize = nameLength + valueLength + ENTRY_OVERHEAD;
    if (entrySize > this.maxSize) {
      // RFC 7541 4.4: an entry larger than the table empties it and is not added.
      this.clearTable();
      return;
    }
    this.evictUntil(this.maxSize - entrySize);
    if (this.count === this.capacity) this.grow();
    const slot = this.head;
    this.codes[slot] = code;
    this.sizes[slot] = entrySize;
    this.nameLengths[slot] = nameLength;
    this.values[slot] = value;
    if (this.fullDecode) this.names[slot] = name;
    this.head = (this.head + 1) % this.capacity;
    this.count++;
    this.size += entrySize;
  }

  private evictUntil(limit: number): void {
    while (this.size > limit && this.count > 0) {
      const slot = this.slotOf(this.count); // oldest
      this.size -= this.sizes[slot];
      this.values[slot] = '';
      if (this.fullDecode) this.names[slot] = '';
      this.count--;
    }
  }

  private clearTable(): void {
    while (this.count > 0) {
      const slot = this.slotOf(this.count);
      this.values[slot] = '';
      if (this.fullDecode) this.names[slot] = '';
      this.count--;
    }
    this.size = 0;
  }

  /** Ring slot of the i-th newest entry (1 = newest). */
  private slotOf(i: number): number {
    let slot = this.head - i;
    if (slot < 0) slot += this.capacity;
    return slot;
  }

  private nameLengthOf(slot: number): number {
    return this.nameLengths[slot];
  }

  private grow(): void {
    const maxEntries = Math.floor(this.hardCap / ENTRY_OVERHEAD) + 1;
    const newCapacity = Math.min(maxEntries, Math.max(16, this.capacity * 2));
    const codes = new Uint8Array(newCapacity);
    const sizes = new Int32Array(newCapacity);
    const nameLengths = new Int32Array(newCapacity);
    const values = new Array<string>(newCapacity).fill('');
    const names = this.fullDecode ? new Array<string>(newCapacity).fill('') : this.names;
    // Copy oldest first so the new ring starts at slot 0.
    for (let k = 0; k < this.count; k++) {
      const from = this.slotOf(this.count - k);
      codes[k] = this.codes[from];
      sizes[k] = this.sizes[from];
      nameLengths[k] = this.nameLengths[from];
      values[k] = this.values[from];
      if (this.fullDecode) names[k] = this.names[from];
    }
    this.codes = codes;
    this.sizes = sizes;
    this.nameLengths = nameLengths;
    this.values = values;
    this.names = names;
    this.head = this.count % newCapacity;
    this.capacity = newCapacity;
  }
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  // Short strings (methods, statuses, most paths) are cheaper through fromCharCode than
  // through a Buffer round trip.
  if (end - start <= 32) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

const NAMED: readonly (readonly [string, number])[] = [
  [':method', H_METHOD],
  [':path', H_PATH],
  [':authority', H_AUTHORITY],
  [':status', H_STATUS],
  ['content-type', H_CONTENT_TYPE],
  ['grpc-status', H_GRPC_STATUS],
  ['traceparent', H_TRACEPARENT],
  ['host', H_HOST],
  ['user-agent', H_USER_AGENT],
];

const NAMED_BYTES: readonly (readonly [Uint8Array, number])[] = NAMED.map(([n, c]) => [Buffer.from(n, 'latin1'), c] as const);

/** Name code of the literal name in `bytes[0, length)`. */
function codeOfName(bytes: Uint8Array, length: number): number {
  // Every named header starts with ':', 'c', 'g', 'h', 't' or 'u'; most literal names in
  // practice are custom metadata and fall out at the first comparison.
  const first = bytes[0];
  if (length < 4 || length > 12 || (first !== 0x3a && first !== 0x63 && first !== 0x67 && first !== 0x68 && first !== 0x74 && first !== 0x75)) return H_OTHER;
  outer: for (const [candidate, code] of NAMED_BYTES) {
    if (candidate.length !== length) continue;
    for (let i = 0; i < length; i++) if (candidate[i] !== bytes[i]) continue outer;
    return code;
  }
  return H_OTHER;
}

/** Name code of each static table entry. */
const STATIC_CODES: Uint8Array = Uint8Array.from(STATIC_TABLE, ([name]) => {
  for (const [n, c] of NAMED) if (n === name) return c;
  return H_OTHER;
});
