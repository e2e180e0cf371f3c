/**
 * TLS record layer (RFC 8446 section 5, RFC 5246 section 6.2) for a passive observer: splits
 * one direction's byte stream into records, reassembles the handshake messages carried in
 * plaintext handshake records (a message may span records, a record may hold several
 * messages, and both may be split across captured chunks at any byte), and reports the other
 * record types by their first bytes only.
 */

export const CONTENT_CHANGE_CIPHER_SPEC = 20;
export const CONTENT_ALERT = 21;
export const CONTENT_HANDSHAKE = 22;
export const CONTENT_APPLICATION_DATA = 23;
export const CONTENT_HEARTBEAT = 24;

export const HANDSHAKE_CLIENT_HELLO = 1;
export const HANDSHAKE_SERVER_HELLO = 2;

export const RECORD_HEADER_LENGTH = 5;
/** Largest record payload allowed: 2^14 plaintext + 2048 expansion (RFC 5246 6.2.3). */
export const MAX_RECORD_LENGTH = 16384 + 2048;

export interface RecordSink {
  /** A complete handshake message `body[start, end)` of type `type`. */
  onHandshake(type: number, body: Uint8Array, start: number, end: number): void;
  /** A non-handshake record began; `first2` holds its first two payload bytes when present (alert level and description), else -1. */
  onRecord(contentType: number, length: number, first2: number): void;
}

/** Structural check of a record header at `b[o]`. */
export function plausibleRecordHeader(b: Uint8Array, o: number): boolean {
  const type = b[o];
  if (type < CONTENT_CHANGE_CIPHER_SPEC || type > CONTENT_HEARTBEAT) return false;
  if (b[o + 1] !== 3 || b[o + 2] > 4) return false;
  const length = (b[o + 3] << 8) | b[o + 4];
  if (length > MAX_RECORD_LENGTH) return false;
  return length > 0 || type === CONTENT_APPLICATION_DATA;
}

const EMPTY = new Uint8Array(0);

const STATE_HEADER = 0;
const STATE_BODY = 1;
const STATE_DEAD = 2;

/**
 * One direction's records. Stops for good (`dead`) on anything that is not a record or on a
 * gap it cannot skip: the handshake is over by then or the stream is not TLS.
 */
export class TlsRecordReader {
  records = 0;
  /** Why the reader stopped, '' while alive. */
  deathReason = '';

  private state = STATE_HEADER;
  private readonly header = new Uint8Array(RECORD_HEADER_LENGTH);
  private headerFill = 0;
  private contentType = 0;
  private remaining = 0;
  /** For alerts: the first two payload bytes collected so far. */
  private alertBytes = 0;
  private alertFill = 0;
  // Handshake message reassembly across records and chunks.
  private message = EMPTY;
  private messageFill = 0;
  /** Total length of the message being assembled (header included), 0 when unknown yet. */
  private messageLength = 0;
  /** Set once handshake contents are no longer parsed (lost to a gap, or not needed any more). */
  private handshakeBroken = false;
  /** Handshake bytes were lost to a capture gap (as opposed to parsing stopped on purpose). */
  handshakeLost = false;
  /** A handshake message announced more than `maxMessageBytes` and was not reassembled. */
  handshakeOversized = false;

  constructor(
    private readonly sink: RecordSink,
    /** Largest handshake message reassembled; bigger ones (huge certificate chains) are skipped. */
    private readonly maxMessageBytes: number,
  ) {}

  get dead(): boolean {
    return this.state === STATE_DEAD;
  }

  /** A record or handshake message was begun and not finished (waiting for bytes that may never come). */
  get partial(): boolean {
    if (this.state === STATE_DEAD) return false;
    return this.headerFill > 0 || this.state === STATE_BODY || this.messageFill > 0;
  }

  /** Stop parsing handshake contents (e.g. once they are encrypted, or no longer needed). */
  stopHandshake(): void {
    this.handshakeBroken = true;
    if (this.message.length > 0) this.message = EMPTY;
    this.messageFill = 0;
    this.messageLength = 0;
  }

  push(data: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end && this.state !== STATE_DEAD) {
      if (this.state === STATE_HEADER) {
        let h: Uint8Array;
        let o: number;
        if (this.headerFill === 0 && end - i >= RECORD_HEADER_LENGTH) {
          h = data;
          o = i;
          i += RECORD_HEADER_LENGTH;
        } else {
          const n = Math.min(RECORD_HEADER_LENGTH - this.headerFill, end - i);
          this.header.set(data.subarray(i, i + n), this.headerFill);
          this.headerFill += n;
          i += n;
          if (this.headerFill < RECORD_HEADER_LENGTH) return;
          this.headerFill = 0;
          h = this.header;
          o = 0;
        }
        if (!plausibleRecordHeader(h, o)) {
          this.die('not a TLS record');
          return;
        }
        this.records++;
        this.contentType = h[o];
        this.remaining = (h[o + 3] << 8) | h[o + 4];
        this.alertFill = 0;
        this.alertBytes = 0;
        if (this.contentType !== CONTENT_HANDSHAKE && this.contentType !== CONTENT_ALERT) {
          this.sink.onRecord(this.contentType, this.remaining, -1);
        }
        if (this.remaining > 0) this.state = STATE_BODY;
        continue;
      }
      // STATE_BODY
      const n = Math.min(this.remaining, end - i);
      if (this.contentType === CONTENT_HANDSHAKE && !this.handshakeBroken) {
        this.handshakeBytes(data, i, i + n);
      } else if (this.contentType === CONTENT_ALERT && this.alertFill < 2) {
        for (let k = i; k < i + n && this.alertFill < 2; k++) {
          this.alertBytes = (this.alertBytes << 8) | data[k];
          this.alertFill++;
        }
        if (this.alertFill === 2) this.sink.onRecord(CONTENT_ALERT, this.remaining, this.alertBytes);
      }
      this.remaining -= n;
      i += n;
      if (this.remaining === 0) this.state = STATE_HEADER;
    }
  }

  /** `n` bytes after the last pushed ones were not captured. */
  gap(n: number): void {
    if (n <= 0 || this.state === STATE_DEAD) return;
    if (this.state === STATE_HEADER || n > this.remaining) {
      this.die('capture gap across a record boundary');
      return;
    }
    if (this.contentType === CONTENT_HANDSHAKE && !this.handshakeBroken) {
      this.stopHandshake();
      this.handshakeLost = true;
    }
    this.remaining -= n;
    if (this.remaining === 0) this.state = STATE_HEADER;
  }

  private die(reason: string): void {
    this.state = STATE_DEAD;
    this.deathReason = reason;
    this.message = EMPTY;
  }

  private handshakeBytes(data: Uint8Array, start: number, end: number): void {
    let i = start;
    while (i < end) {
      if (this.messageFill === 0 && this.messageLength === 0 && end - i >= 4) {
        const length = 4 + ((data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
        if (end - i >= length) {
          // The whole message is in this chunk: no copy.
          this.sink.onHandshake(data[i], data, i + 4, i + length);
          i += length;
          if (this.handshakeBroken) return;
          continue;
        }
      }
      // Assemble across records/chunks: header first, then the body.
      if (this.messageLength === 0) {
        const n = Math.min(4 - this.messageFill, end - i);
        this.ensureCapacity(4);
        this.message.set(data.subarray(i, i + n), this.messageFill);
        this.messageFill += n;
        i += n;
        if (this.messageFill < 4) return;
        this.messageLength = 4 + ((this.message[1] << 16) | (this.message[2] << 8) | this.message[3]);
        if (this.messageLength > this.maxMessageBytes) {
          // Not worth keeping (and the messages we need are small): stop parsing handshakes.
          this.stopHandshake();
          this.handshakeOversized = true;
          return;
        }
        this.ensureCapacity(this.messageLength);
      }
      const n = Math.min(this.messageLength - this.messageFill, end - i);
      this.message.set(data.subarray(i, i + n), this.messageFill);
      this.messageFill += n;
      i += n;
      if (this.messageFill === this.messageLength) {
        const length = this.messageLength;
        this.messageFill = 0;
        this.messageLength = 0;
        this.sink.onHandshake(this.message[0], this.message, 4, length);
        if (this.handshakeBroken) return;
      }
    }
  }

  private ensureCapacity(n: number): void {
    if (this.message.length >= n) return;
    const grown = new Uint8Array(Math.max(n, 512));
    grown.set(this.message.subarray(0, this.messageFill));
    this.message = grown;
  }
}

/**
 * True when `data` starts like a TLS handshake record: content type 22 and version 3.0 to 3.4.
 * Detection takes a stream that starts like this for TLS even when the length or the hello that
 * follow are impossible: that is malformed TLS, counted under TLS (a bogus ClientHello), not
 * something else. Five bytes are enough: OpenSSL servers read a record header on its own.
 */
export function startsLikeTlsHandshake(data: Uint8Array): boolean {
  return data.length >= RECORD_HEADER_LENGTH && data[0] === CONTENT_HANDSHAKE && data[1] === 3 && data[2] <= 4;
}
