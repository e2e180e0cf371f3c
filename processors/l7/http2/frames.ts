/**
 * HTTP/2 framing (RFC 9113 section 4 and 6) for a passive observer: an incremental frame
 * reader that accepts bytes in arbitrary pieces, keeps only the part of each frame payload
 * the session needs, and knows how to lose and regain sync when captured chunks were
 * truncated.
 */

export const FRAME_HEADER_LENGTH = 9;

export const FRAME_DATA = 0x0;
export const FRAME_HEADERS = 0x1;
export const FRAME_PRIORITY = 0x2;
export const FRAME_RST_STREAM = 0x3;
export const FRAME_SETTINGS = 0x4;
export const FRAME_PUSH_PROMISE = 0x5;
export const FRAME_PING = 0x6;
export const FRAME_GOAWAY = 0x7;
export const FRAME_WINDOW_UPDATE = 0x8;
export const FRAME_CONTINUATION = 0x9;

export const FLAG_END_STREAM = 0x1;
export const FLAG_ACK = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_MAX_FRAME_SIZE = 0x5;
/** SETTINGS_MAX_FRAME_SIZE until a peer announces more (RFC 9113 section 6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16384;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

/** The client connection preface (RFC 9113 section 3.4). */
export const CLIENT_PREFACE: Uint8Array = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** HTTP/2 error codes (RFC 9113 section 7), by value. */
export const H2_ERROR_NAMES: readonly string[] = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

export function h2ErrorName(code: number): string {
  return H2_ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/**
 * Receives frames. `payload[start, end)` holds the kept prefix of the frame payload (see
 * `FrameReader`); `intact` is false when part of that prefix was lost to a truncated capture
 * or the frame was larger than the reader keeps, in which case the bytes must not be parsed.
 * Frames are delivered as soon as their kept prefix is complete; the rest of the payload is
 * skipped afterwards.
 */
export interface FrameSink {
  onFrame(type: number, flags: number, streamId: number, length: number, payload: Uint8Array, start: number, end: number, intact: boolean): void;
}

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_LOST = 2;

/** Bytes of a SETTINGS payload worth keeping: 32 parameters, far more than peers send. */
const SETTINGS_KEEP = 6 * 32;

export class FrameReader {
  /** Frames delivered. */
  frames = 0;
  /** Times the reader lost the frame boundary (bytes missing inside a frame header). */
  syncLosses = 0;
  /**
   * Set when one of the first `strictFrames` frame headers was implausible: the stream is
   * probably not HTTP/2 at all. The reader stops (as if it had lost sync).
   */
  rejected = false;
  private strictRemaining: number;

  private state = STATE_HEADER;
  private readonly header = new Uint8Array(FRAME_HEADER_LENGTH);
  private headerFill = 0;
  private type = 0;
  private flags = 0;
  private streamId = 0;
  private length = 0;
  /** Payload bytes of the current frame consumed so far (kept or skipped). */
  private consumed = 0;
  private keepLength = 0;
  private keepFill = 0;
  private keepIntact = true;
  private delivered = false;
  private keepBuffer = new Uint8Array(0);

  constructor(
    private readonly sink: FrameSink,
    /** Largest header block fragment kept; larger HEADERS/CONTINUATION frames arrive not intact. */
    private readonly maxBlockBytes: number,
    /** Check this many leading frame headers with `plausibleFrameHeader` (protocol confirmation). */
    strictFrames = 0,
  ) {
    this.strictRemaining = strictFrames;
  }

  get lost(): boolean {
    return this.state === STATE_LOST;
  }

  /** True between frames (useful to know whether a resync is needed). */
  get atFrameBoundary(): boolean {
    return this.state === STATE_HEADER && this.headerFill === 0;
  }

  /** Start over at a frame boundary (after a successful resync check by the caller). */
  resync(): void {
    this.state = STATE_HEADER;
    this.headerFill = 0;
  }

  /** Feeds `data[start, end)`. Never throws. */
  push(data: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end) {
      if (this.state === STATE_LOST) return;
      if (this.state === STATE_HEADER) {
        let h: Uint8Array;
        let o: number;
        if (this.headerFill === 0 && end - i >= FRAME_HEADER_LENGTH) {
          h = data;
          o = i;
          i += FRAME_HEADER_LENGTH;
        } else {
          const n = Math.min(FRAME_HEADER_LENGTH - this.headerFill, end - i);
          this.header.set(data.subarray(i, i + n), this.headerFill);
          this.headerFill += n;
          i += n;
          if (this.headerFill < FRAME_HEADER_LENGTH) return;
          this.headerFill = 0;
          h = this.header;
          o = 0;
        }
        if (this.strictRemaining > 0) {
          this.strictRemaining--;
          if (!plausibleFrameHeader(h, o, true)) {
            this.rejected = true;
            this.loseSync();
            return;
          }
        }
        this.beginFrame(h, o);
        if (this.keepLength === 0) this.deliver(this.header, 0, 0);
        if (this.length === 0) continue; // state stays HEADER
        this.state = STATE_PAYLOAD;
        continue;
      }
      // STATE_PAYLOAD
      const available = end - i;
      if (!this.delivered) {
        const wanted = this.keepLength - this.keepFill;
        if (this.keepFill === 0 && available >= wanted) {
          // The whole kept prefix is in this chunk: hand it over without copying.
          this.deliver(data, i, i + wanted);
          i += wanted;
          this.consumed += wanted;
        } else {
          const n = Math.min(wanted, available);
          if (this.keepBuffer.length < this.keepLength) this.keepBuffer = new Uint8Array(Math.max(this.keepLength, Math.min(this.keepBuffer.length * 2, this.maxBlockBytes)));
          this.keepBuffer.set(data.subarray(i, i + n), this.keepFill);
          this.keepFill += n;
          this.consumed += n;
          i += n;
          if (this.keepFill === this.keepLength) {
            this.deliver(this.keepBuffer, 0, this.keepLength);
            // Large split header blocks are rare: do not keep their buffer for the connection's life.
            if (this.keepBuffer.length > 16 * 1024) this.keepBuffer = new Uint8Array(0);
          }
        }
      } else {
        const n = Math.min(this.length - this.consumed, available);
        this.consumed += n;
        i += n;
      }
      if (this.consumed === this.length) this.state = STATE_HEADER;
    }
  }

  /** `n` bytes directly after the last pushed ones were not captured. */
  gap(n: number): void {
    if (n <= 0 || this.state === STATE_LOST) return;
    if (this.state === STATE_HEADER) {
      // The next frame header is (partly) gone: its length, and with it every later boundary.
      this.loseSync();
      return;
    }
    const remaining = this.length - this.consumed;
    if (!this.delivered) {
      // Part of the bytes we wanted is gone: deliver what the frame header tells, marked broken.
      this.keepIntact = false;
      this.deliver(this.keepBuffer, 0, 0);
    }
    if (n > remaining) {
      this.loseSync();
      return;
    }
    this.consumed += n;
    if (this.consumed === this.length) this.state = STATE_HEADER;
  }

  private loseSync(): void {
    this.state = STATE_LOST;
    this.headerFill = 0;
    this.syncLosses++;
    // Do not hold on to a large block buffer while waiting for a resync.
    if (this.keepBuffer.length > 4096) this.keepBuffer = new Uint8Array(0);
  }

  private beginFrame(h: Uint8Array, o: number): void {
    this.length = (h[o] << 16) | (h[o + 1] << 8) | h[o + 2];
    this.type = h[o + 3];
    this.flags = h[o + 4];
    // The reserved bit is ignored on receipt (RFC 9113 section 4.1).
    this.streamId = ((h[o + 5] & 0x7f) * 0x1000000) + ((h[o + 6] << 16) | (h[o + 7] << 8) | h[o + 8]);
    this.consumed = 0;
    this.keepFill = 0;
    this.keepIntact = true;
    this.delivered = false;
    this.keepLength = this.keepFor(this.type, this.length);
  }

  private keepFor(type: number, length: number): number {
    switch (type) {
      case FRAME_HEADERS:
      case FRAME_PUSH_PROMISE:
      case FRAME_CONTINUATION:
        if (length > this.maxBlockBytes) {
          this.keepIntact = false;
          return 0;
        }
        return length;
      case FRAME_SETTINGS:
        return Math.min(length, SETTINGS_KEEP);
      case FRAME_RST_STREAM:
        return Math.min(length, 4);
      case FRAME_GOAWAY:
        return Math.min(length, 8);
      case FRAME_DATA:
        // Only flags and sizes matter, never the body: keep the pad length byte if any.
        return this.flags & FLAG_PADDED ? Math.min(length, 1) : 0;
      default:
        // PRIORITY, PING,
        // WINDOW_UPDATE and unknown extension frames (ignored, RFC 9113 section 4.1).
        return 0;
    }
  }

  private deliver(payload: Uint8Array, start: number, end: number): void {
    this.delivered = true;
    this.frames++;
    this.sink.onFrame(this.type, this.flags, this.streamId, this.length, payload, start, end, this.keepIntact);
  }
}

/**
 * Structural plausibility of one frame header, stricter than what an endpoint must accept:
 * used to recognize HTTP/2 without the preface and to regain sync, where a false positive
 * costs more than a miss. Frames with undefined flag bits or unknown types are rejected here
 * although a peer would ignore them.
 */
export function plausibleFrameHeader(h: Uint8Array, o: number, allowExtensions = false): boolean {
  const length = (h[o] << 16) | (h[o + 1] << 8) | h[o + 2];
  const type = h[o + 3];
  const flags = h[o + 4];
  if (h[o + 5] & 0x80) return false;
  const stream = (h[o + 5] | h[o + 6] | h[o + 7] | h[o + 8]) !== 0;
  switch (type) {
    case FRAME_DATA:
      return stream && (flags & ~(FLAG_END_STREAM | FLAG_PADDED)) === 0;
    case FRAME_HEADERS:
      return stream && length > 0 && (flags & ~(FLAG_END_STREAM | FLAG_END_HEADERS | FLAG_PADDED | FLAG_PRIORITY)) === 0;
    case FRAME_PRIORITY:
      return stream && length === 5 && flags === 0;
    case FRAME_RST_STREAM:
      return stream && length === 4 && flags === 0;
    case FRAME_SETTINGS:
      return !stream && length % 6 === 0 && (flags === 0 || (flags === FLAG_ACK && length === 0));
    case FRAME_PUSH_PROMISE:
      return stream && length >= 4 && (flags & ~(FLAG_END_HEADERS | FLAG_PADDED)) === 0;
    case FRAME_PING:
      return !stream && length === 8 && (flags & ~FLAG_ACK) === 0;
    case FRAME_GOAWAY:
      return !stream && length >= 8 && flags === 0;
    case FRAME_WINDOW_UPDATE:
      return length === 4 && flags === 0;
    case FRAME_CONTINUATION:
      return stream && (flags & ~FLAG_END_HEADERS) === 0;
    default:
      // Extension frame types (ALTSVC, ORIGIN, PRIORITY_UPDATE, ...) exist in the wild; they
      // are tolerated only where a miss is worse than a false positive.
      return allowExtensions && length <= 16384;
  }
}

/**
 * True when `data` is a run of plausible frames that ends exactly at the end of the data (or,
 * for a truncated capture, runs past it). Requires at least one complete frame header.
 */
export function isPlausibleFrameChain(data: Uint8Array, truncated: boolean): boolean {
  let o = 0;
  let frames = 0;
  while (o + FRAME_HEADER_LENGTH <= data.length) {
    if (!plausibleFrameHeader(data, o)) return false;
    const length = (data[o] << 16) | (data[o + 1] << 8) | data[o + 2];
    o += FRAME_HEADER_LENGTH + length;
    frames++;
    if (frames > 64) return true; // long enough to be convincing; stop paying for it
  }
  if (frames === 0) return false;
  return o === data.length || truncated;
}

/**
 * Decides whether a frame header found while looking for the lost frame boundary can be where
 * frames start again; `atStart` is true at the first byte of a captured chunk, where a sender's
 * write usually begins, and false inside it, where only frames the session can vouch for (a
 * DATA frame of a stream it knows, say) should be taken: the bytes around are message payload.
 */
export type FrameStartCheck = (type: number, flags: number, streamId: number, length: number, atStart: boolean) => boolean;

/**
 * Where frames start again in `data[start, end)` after a direction lost its frame boundary: the
 * first offset with a plausible frame header that `check` accepts and after which every frame
 * header up to the end of the data is plausible too. The chain may end inside a frame or inside
 * a frame header (the rest comes with the next chunk or was not captured). -1 when none.
 */
export function findFrameStart(data: Uint8Array, start: number, end: number, check: FrameStartCheck): number {
  for (let o = start; o + FRAME_HEADER_LENGTH <= end; o++) {
    if (!plausibleFrameHeader(data, o)) continue;
    const length = (data[o] << 16) | (data[o + 1] << 8) | data[o + 2];
    const streamId = ((data[o + 5] & 0x7f) * 0x1000000) + ((data[o + 6] << 16) | (data[o + 7] << 8) | data[o + 8]);
    if (!check(data[o + 3], data[o + 4], streamId, length, o === start)) continue;
    let next = o + FRAME_HEADER_LENGTH + length;
    let frames = 0;
    while (next + FRAME_HEADER_LENGTH <= end && frames < 64 && plausibleFrameHeader(data, next)) {
      next += FRAME_HEADER_LENGTH + ((data[next] << 16) | (data[next + 1] << 8) | data[next + 2]);
      frames++;
    }
    if (next + FRAME_HEADER_LENGTH > end || frames === 64) return o;
  }
  return -1;
}

/** How many leading bytes of `data` match the client preface (all of them or a prefix). */
export function prefaceMatchLength(data: Uint8Array, offset = 0): number {
  const n = Math.min(data.length, CLIENT_PREFACE.length - offset);
  for (let i = 0; i < n; i++) if (data[i] !== CLIENT_PREFACE[offset + i]) return -1;
  return n;
}
