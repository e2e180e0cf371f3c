/**
 * HTTP/1.x on one connection, seen from one endpoint (one socket). Requests and responses
 * are framed per direction (Content-Length, chunked, until-close), correlated in order (which
 * also covers pipelining and keep-alive), and emitted as one `l7.http` event per exchange.
 *
 * Captures hold only the first N bytes of each syscall: `originalLength` tells how many bytes
 * really moved, so bodies are skipped by count through the bytes that were not captured. When
 * a message boundary falls into such a gap the stream resynchronises on the next syscall
 * that starts with a request or status line.
 */
import type { H1ResponseSummary, HttpTransactionEvent, ObservedSide, PayloadEvent, TraceContext } from '../../../core/events';
import * as bytes from '../bytes';
import * as eventHeader from '../event-header';
import type { ConnectionSnapshot } from '../event-header';
import type { Emit, L7Options, ProtocolSession } from '../protocol';
import * as headModule from './head';
import * as methods from './methods';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { CappedBuffer, indexOfByte } = bytes;
const { reuseSnapshot, withOptionalHeader } = eventHeader;
const { CONTENT_LENGTH_INVALID, findHeadEnd, HEAD_INCOMPLETE, HeadInfo, parseHead } = headModule;
const { isMessageStartPrefix, isRequestLineStart, isStatusLineStart, methodTokenLength } = methods;

const enum State {
  /** Before the first message start in this direction; skips silently. */
  Start,
  Head,
  BodyFixed,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  /**
   * A chunked body whose next chunk-size line fell into uncaptured bytes: every byte counts as
   * body until a call ends with the last chunk, or the next call starts a message.
   */
  ChunkedBlind,
  /** Lost the message boundary; waits for a syscall that starts a message. */
  Resync,
  /** After 101 Switching Protocols or a CONNECT tunnel: no longer HTTP/1. */
  Tunnel,
}

/** Requests awaiting their response; more means the peer is not speaking HTTP to us. */
const MAX_PENDING = 64;
/** A chunk-size line is hex digits plus optional extensions; anything longer is garbage. */
const MAX_CHUNK_LINE = 1024;

class Transaction {
  statusCode = 0;
  requestBodySize = 0;
  responseBodySize = 0;
  responseStarted = false;

  constructor(
    readonly snapshot: ConnectionSnapshot,
    readonly side: ObservedSide,
    readonly startUs: number,
    readonly method: string,
    readonly path: string,
    readonly query: string | undefined,
    readonly host: string | undefined,
    readonly userAgent: string | undefined,
    readonly version: string,
    readonly traceContext: TraceContext | undefined,
  ) {}
}

class Direction {
  state = State.Start;
  readonly buf: bytes.CappedBuffer;
  /** Bytes left in a Content-Length body or a chunk (or of the CRLF after a chunk). */
  remaining = 0;
  /** Time of the syscall holding the first byte of the message head being read. */
  headStartUs = 0;
  /** Time of the last syscall seen in this direction. */
  lastUs = 0;
  /** Time of the last syscall counted into a ChunkedBlind body: where it ends when the next call starts a message. */
  blindUs = 0;

  constructor(cap: number) {
    this.buf = new CappedBuffer(cap);
  }
}

// One scratch head per process: parsing is synchronous and results are copied out at once.
const head = new HeadInfo();

export class Http1Session implements ProtocolSession {
  malformed = 0;
  private readonly req: Direction;
  private readonly res: Direction;
  private requestDir: 'send' | 'recv' | undefined;
  private readonly pending: Transaction[] = [];
  /** The transaction whose request body is being read. */
  private reqTxn: Transaction | undefined;
  /** The transaction whose response is being read; undefined for an orphan response. */
  private resTxn: Transaction | undefined;
  private parsedAny = false;
  private notHttp = false;
  private upgraded = false;
  private snapshot: ConnectionSnapshot | undefined;
  private emit: Emit = () => undefined;

  constructor(private readonly options: L7Options) {
    this.req = new Direction(options.maxBufferBytes);
    this.res = new Direction(options.maxBufferBytes);
  }

  onPayload(event: PayloadEvent, emit: Emit): boolean {
    this.emit = emit;
    const dir = event.dataDirection;
    if (this.requestDir === undefined) {
      const data = event.data;
      const n = data.length;
      if (isRequestLineStart(data, 0, n) || isMessageStartPrefix(true, data, 0, n)) this.requestDir = dir;
      else if (isStatusLineStart(data, 0, n) || isMessageStartPrefix(false, data, 0, n)) this.requestDir = dir === 'send' ? 'recv' : 'send';
      else return true; // nothing to anchor on yet
    }
    const isRequest = dir === this.requestDir;
    this.feed(isRequest ? this.req : this.res, isRequest, event);
    return !(this.upgraded || this.notHttp);
  }

  /**
   * A whole exchange the kernel framed and summarised: the request is parsed here like any
   * request head, the response is taken from the summary, and the transaction is emitted marked
   * `measuredOnly`. The kernel summarises only where this session is between exchanges; both
   * directions end where a normally parsed exchange leaves them.
   */
  onH1Summary(event: PayloadEvent, response: H1ResponseSummary, emit: Emit): boolean {
    this.emit = emit;
    const dir = event.dataDirection;
    if (!this.betweenExchanges(dir)) {
      // This session saw the stream otherwise (records lost on the way): the summary cannot be
      // placed in it, and both directions resynchronise on the next message start.
      this.malformed++;
      this.loseSync(this.req, true, event.timeUs);
      this.loseSync(this.res, false, event.timeUs);
      return true;
    }
    this.requestDir = dir;
    const data = event.data;
    const n = data.length;
    const end = parseHead(data, 0, n, head, this.options.captureQuery, false);
    const bodyLength = head.contentLength > 0 ? head.contentLength : 0;
    if (
      end < 0 || !head.isRequest || head.chunked || head.otherTransferCoding || head.contentLength === CONTENT_LENGTH_INVALID ||
      end + bodyLength !== n || response.status < 200
    ) {
      // Not one whole request framed by Content-Length, answered by a final response.
      this.malformed++;
      if (!this.parsedAny) this.notHttp = true;
      this.loseSync(this.req, true, event.timeUs);
      return !this.notHttp;
    }
    this.parsedAny = true;
    const txn = this.newTransaction(event, event.timeUs);
    txn.requestBodySize = bodyLength;
    txn.statusCode = response.status;
    txn.responseStarted = true;
    txn.responseBodySize = response.bodyLength;
    this.req.state = State.Head;
    this.req.lastUs = event.timeUs;
    this.res.state = State.Head;
    this.res.lastUs = response.timeUs;
    const summarised = this.toEvent(txn, response.timeUs, undefined);
    summarised.measuredOnly = true;
    this.emit(summarised);
    if (txn.method === 'CONNECT' && response.status < 300) {
      // As after a parsed CONNECT: the connection now carries another protocol.
      this.upgraded = true;
      this.req.state = State.Tunnel;
      this.res.state = State.Tunnel;
    }
    return !this.upgraded;
  }

  expire(nowUs: number, emit: Emit): void {
    const timeoutUs = this.options.transactionTimeoutMs * 1000;
    const cutoff = nowUs - timeoutUs;
    let kept = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const txn = this.pending[i];
      // A response already under way is waited for, however long its body takes.
      if (!txn.responseStarted && txn.startUs < cutoff) {
        if (txn === this.reqTxn) this.reqTxn = undefined;
        emit(this.toEvent(txn, txn.startUs + timeoutUs, 'timeout'));
      } else {
        this.pending[kept++] = txn;
      }
    }
    this.pending.length = kept;
  }

  close(nowUs: number, emit: Emit): void {
    // A body delimited by the connection's end is complete now; so is a blind chunked body,
    // whose last chunk most likely went by in bytes that were not captured (a whole response
    // written in one call): nothing says it was cut short.
    if ((this.res.state === State.UntilClose || this.res.state === State.ChunkedBlind) && this.resTxn !== undefined) {
      this.emit = emit;
      this.responseDone(this.res.lastUs);
    }
    for (const txn of this.pending) emit(this.toEvent(txn, nowUs, 'connection_closed'));
    this.pending.length = 0;
    this.reqTxn = undefined;
    this.resTxn = undefined;
    this.req.buf.clear();
    this.res.buf.clear();
  }

  private feed(s: Direction, isRequest: boolean, event: PayloadEvent): void {
    const data = event.data;
    const captured = data.length;
    const total = event.originalLength > captured ? event.originalLength : captured;
    s.lastUs = event.timeUs;
    let pos = 0;
    while (pos < total) {
      switch (s.state) {
        case State.Start:
        case State.Resync:
          // A read of only the first few bytes of a message counts too: the head parser checks it.
          if (pos === 0 && (startsMessage(isRequest, data, captured) || (captured === total && isMessageStartPrefix(isRequest, data, 0, captured)))) {
            s.state = State.Head;
            s.buf.clear();
          } else {
            pos = total;
          }
          break;
        case State.Head:
          pos = this.readHead(s, isRequest, event, pos, captured, total);
          break;
        case State.BodyFixed: {
          const n = Math.min(s.remaining, total - pos);
          s.remaining -= n;
          pos += n;
          this.addBody(isRequest, n);
          if (s.remaining === 0) this.messageDone(s, isRequest, event.timeUs);
          break;
        }
        case State.ChunkSize:
          pos = this.readChunkSize(s, isRequest, data, pos, captured, total, event.timeUs);
          break;
        case State.ChunkData: {
          const n = Math.min(s.remaining, total - pos);
          s.remaining -= n;
          pos += n;
          this.addBody(isRequest, n);
          if (s.remaining === 0) {
            s.state = State.ChunkDataEnd;
            s.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd:
          if (pos >= captured) {
            // Not captured: assume the CRLF is there, as the sender's framing says.
            const n = Math.min(s.remaining, total - pos);
            s.remaining -= n;
            pos += n;
          } else {
            const c = data[pos];
            if (c === 0x0d && s.remaining === 2) {
              s.remaining = 1;
              pos++;
            } else if (c === 0x0a) {
              s.remaining = 0;
              pos++;
            } else {
              this.malformed++;
              this.loseSync(s, isRequest, event.timeUs);
              pos = total;
              break;
            }
          }
          if (s.remaining === 0) s.state = State.ChunkSize;
          break;
        case State.Trailers:
          pos = this.readTrailers(s, isRequest, data, pos, captured, total, event.timeUs);
          break;
        case State.ChunkedBlind:
          pos = this.readBlindChunked(s, isRequest, data, pos, captured, total, event.timeUs);
          break;
        case State.UntilClose:
          this.addBody(isRequest, total - pos);
          pos = total;
          break;
        case State.Tunnel:
          pos = total;
          break;
      }
    }
  }

  private readHead(s: Direction, isRequest: boolean, event: PayloadEvent, pos: number, captured: number, total: number): number {
    const data = event.data;
    const captureQuery = this.options.captureQuery;
    if (s.buf.length === 0) {
      if (pos >= captured) {
        // The next message starts in bytes that were not captured.
        this.loseSync(s, isRequest, event.timeUs);
        return total;
      }
      s.headStartUs = event.timeUs;
      // Fast path: the whole head is in this read, parsed in one pass without copying.
      const end = parseHead(data, pos, captured, head, captureQuery, false);
      if (end >= 0) {
        this.onHead(s, isRequest, event, end, false);
        return end;
      }
      if (end !== HEAD_INCOMPLETE) {
        this.onHead(s, isRequest, event, end, false);
        return total;
      }
      if (captured < total) {
        // The head runs on into bytes that were not captured: keep what we have, then resync.
        this.onHead(s, isRequest, event, parseHead(data, pos, captured, head, captureQuery, true), true);
        this.loseSync(s, isRequest, event.timeUs);
        return total;
      }
      if (!s.buf.append(data, pos, captured)) this.headTooLarge(s, isRequest, event.timeUs);
      return total;
    }
    const before = s.buf.length;
    if (pos >= captured) {
      this.onHead(s, isRequest, event, parseHead(s.buf.data, 0, s.buf.length, head, captureQuery, true), true);
      this.loseSync(s, isRequest, event.timeUs);
      return total;
    }
    if (!s.buf.append(data, pos, captured)) {
      this.headTooLarge(s, isRequest, event.timeUs);
      return total;
    }
    // Only the bytes this read added are searched, so a head arriving byte by byte stays linear.
    const buffered = s.buf.data;
    const end = findHeadEnd(buffered, 0, before > 2 ? before - 2 : 0, s.buf.length);
    if (end >= 0) {
      this.onHead(s, isRequest, event, parseHead(buffered, 0, end, head, captureQuery, false), false);
      s.buf.clear();
      return pos + (end - before);
    }
    if (captured < total) {
      this.onHead(s, isRequest, event, parseHead(buffered, 0, s.buf.length, head, captureQuery, true), true);
      this.loseSync(s, isRequest, event.timeUs);
    }
    return total;
  }

  private headTooLarge(s: Direction, isRequest: boolean, nowUs: number): void {
    this.malformed++;
    if (!this.parsedAny) this.notHttp = true;
    this.loseSync(s, isRequest, nowUs);
  }

  /** Acts on a head `parseHead` just filled into `head` (result: its end, or an error). */
  private onHead(s: Direction, isRequest: boolean, event: PayloadEvent, result: number, partial: boolean): void {
    if (result < 0 || head.isRequest !== isRequest) {
      this.malformed++;
      if (!this.parsedAny) this.notHttp = true;
      this.loseSync(s, isRequest, event.timeUs);
      return;
    }
    this.parsedAny = true;
    if (isRequest) this.onRequestHead(s, event, partial);
    else this.onResponseHead(s, event, partial);
  }

  /** A transaction for the request head `parseHead` just filled into `head`. */
  private newTransaction(event: PayloadEvent, startUs: number): Transaction {
    return new Transaction(
      this.snapshotFor(event),
      event.dataDirection === 'send' ? 'client' : 'server',
      startUs,
      head.method,
      head.path,
      head.query,
      head.host ?? head.targetHost,
      head.userAgent,
      head.version,
      head.traceContext,
    );
  }

  private onRequestHead(s: Direction, event: PayloadEvent, partial: boolean): void {
    const txn = this.newTransaction(event, s.headStartUs);
    if (this.pending.length >= MAX_PENDING) {
      const oldest = this.pending.shift() as Transaction;
      this.emit(this.toEvent(oldest, event.timeUs, 'queue_overflow'));
    }
    this.pending.push(txn);
    this.reqTxn = undefined;
    s.state = State.Head;
    if (partial) {
      // Framing unknown past the captured bytes; the declared length is the best size we have.
      if (head.contentLength > 0) txn.requestBodySize = head.contentLength;
      return;
    }
    if (head.chunked) {
      this.reqTxn = txn;
      s.state = State.ChunkSize;
    } else if (head.otherTransferCoding || head.contentLength === CONTENT_LENGTH_INVALID) {
      // A request body without a determinable length (RFC 9112 6.3): framing is lost.
      this.malformed++;
      this.loseSync(s, true, event.timeUs);
    } else if (head.contentLength > 0) {
      this.reqTxn = txn;
      s.state = State.BodyFixed;
      s.remaining = head.contentLength;
    }
  }

  private onResponseHead(s: Direction, event: PayloadEvent, partial: boolean): void {
    const status = head.status;
    s.state = State.Head;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (status >= 100 && status < 200 && status !== 101) return;
    const txn = this.pending.length > 0 ? this.pending[0] : undefined;
    this.resTxn = txn;
    if (txn !== undefined) {
      txn.statusCode = status;
      txn.responseStarted = true;
    }
    const method = txn?.method;
    if (status === 101 || (method === 'CONNECT' && status >= 200 && status < 300)) {
      // The connection now carries another protocol: hand it back for detection.
      this.responseDone(event.timeUs);
      this.upgraded = true;
      this.req.state = State.Tunnel;
      this.res.state = State.Tunnel;
      return;
    }
    if (partial) {
      if (txn !== undefined && head.contentLength > 0) txn.responseBodySize = head.contentLength;
      this.responseDone(event.timeUs);
      return;
    }
    if (method === 'HEAD' || status === 204 || status === 304) {
      this.responseDone(event.timeUs);
    } else if (head.chunked) {
      s.state = State.ChunkSize;
    } else if (head.otherTransferCoding) {
      s.state = State.UntilClose;
    } else if (head.contentLength === CONTENT_LENGTH_INVALID) {
      this.malformed++;
      this.responseDone(event.timeUs);
      this.loseSync(s, false, event.timeUs);
    } else if (head.contentLength > 0) {
      s.state = State.BodyFixed;
      s.remaining = head.contentLength;
    } else if (head.contentLength === 0) {
      this.responseDone(event.timeUs);
    } else {
      s.state = State.UntilClose;
    }
  }

  private readChunkSize(
    s: Direction,
    isRequest: boolean,
    data: Uint8Array,
    pos: number,
    captured: number,
    total: number,
    nowUs: number,
  ): number {
    if (pos >= captured) {
      return this.lostInGap(s, isRequest, pos, total, nowUs);
    }
    let line: Uint8Array;
    let start: number;
    let lf: number;
    let next: number;
    if (s.buf.length === 0) {
      lf = indexOfByte(data, 0x0a, pos, captured);
      if (lf < 0) return this.bufferPartialLine(s, isRequest, data, pos, captured, total, nowUs);
      line = data;
      start = pos;
      next = lf + 1;
    } else {
      const lfInChunk = indexOfByte(data, 0x0a, pos, captured);
      const upTo = lfInChunk < 0 ? captured : lfInChunk + 1;
      if (s.buf.length + (upTo - pos) > MAX_CHUNK_LINE || !s.buf.append(data, pos, upTo)) {
        this.malformed++;
        this.loseSync(s, isRequest, nowUs);
        return total;
      }
      if (lfInChunk < 0) return captured < total ? this.lostInGap(s, isRequest, captured, total, nowUs) : total;
      line = s.buf.data;
      start = 0;
      lf = s.buf.length - 1;
      next = upTo;
    }
    const size = parseChunkSize(line, start, lf);
    s.buf.clear();
    if (size < 0) {
      this.malformed++;
      this.loseSync(s, isRequest, nowUs);
      return total;
    }
    if (size === 0) {
      s.state = State.Trailers;
    } else {
      s.state = State.ChunkData;
      s.remaining = size;
    }
    return next;
  }

  private bufferPartialLine(
    s: Direction,
    isRequest: boolean,
    data: Uint8Array,
    pos: number,
    captured: number,
    total: number,
    nowUs: number,
  ): number {
    if (captured < total) return this.lostInGap(s, isRequest, pos, total, nowUs);
    if (captured - pos > MAX_CHUNK_LINE || !s.buf.append(data, pos, captured)) {
      this.malformed++;
      this.loseSync(s, isRequest, nowUs);
    }
    return total;
  }

  /**
   * The next chunk-size line is in bytes that were not captured (a large chunked body: only the
   * head and tail of each call are). The body goes on blind rather than ending here.
   */
  private lostInGap(s: Direction, isRequest: boolean, pos: number, total: number, nowUs: number): number {
    s.buf.clear();
    s.state = State.ChunkedBlind;
    this.addBody(isRequest, total - pos);
    s.blindUs = nowUs;
    return total;
  }

  /**
   * A blind chunked body ends with a call whose captured end (its head when it was captured
   * whole, or its tail record) is the last chunk, or before a call that starts the next
   * message. Its size then includes the framing of the chunks that were not seen (a few bytes
   * each) but not the last chunk.
   */
  private readBlindChunked(
    s: Direction,
    isRequest: boolean,
    data: Uint8Array,
    pos: number,
    captured: number,
    total: number,
    nowUs: number,
  ): number {
    if (pos === 0 && startsMessage(isRequest, data, captured)) {
      this.messageDone(s, isRequest, s.blindUs);
      return 0;
    }
    s.blindUs = nowUs;
    if (captured === total && endsWithLastChunk(data, pos, captured)) {
      this.addBody(isRequest, total - pos - LAST_CHUNK.length);
      this.messageDone(s, isRequest, nowUs);
    } else {
      this.addBody(isRequest, total - pos);
    }
    return total;
  }

  /** The trailer section after the last chunk: header lines up to an empty line. */
  private readTrailers(
    s: Direction,
    isRequest: boolean,
    data: Uint8Array,
    pos: number,
    captured: number,
    total: number,
    nowUs: number,
  ): number {
    if (pos >= captured) {
      // The end of the message was not captured; the body itself was complete.
      this.messageDone(s, isRequest, nowUs);
      s.state = State.Resync;
      return total;
    }
    if (s.buf.length === 0) {
      // Almost always no trailers: the section is a bare CRLF.
      if (data[pos] === 0x0a) {
        this.messageDone(s, isRequest, nowUs);
        return pos + 1;
      }
      if (data[pos] === 0x0d && pos + 1 < captured && data[pos + 1] === 0x0a) {
        this.messageDone(s, isRequest, nowUs);
        return pos + 2;
      }
      // Search as a head whose first line already ended: a virtual LF in front.
      s.buf.append(LF, 0, 1);
    }
    const before = s.buf.length;
    if (!s.buf.append(data, pos, captured)) {
      this.malformed++;
      this.messageDone(s, isRequest, nowUs);
      this.loseSync(s, isRequest, nowUs);
      return total;
    }
    const end = findHeadEnd(s.buf.data, 0, before > 2 ? before - 2 : 0, s.buf.length);
    if (end >= 0) {
      s.buf.clear();
      this.messageDone(s, isRequest, nowUs);
      return pos + (end - before);
    }
    if (captured < total) {
      this.messageDone(s, isRequest, nowUs);
      this.loseSync(s, isRequest, nowUs);
    }
    return total;
  }

  private addBody(isRequest: boolean, n: number): void {
    if (isRequest) {
      if (this.reqTxn !== undefined) this.reqTxn.requestBodySize += n;
    } else if (this.resTxn !== undefined) {
      this.resTxn.responseBodySize += n;
    }
  }

  private messageDone(s: Direction, isRequest: boolean, nowUs: number): void {
    s.state = State.Head;
    if (isRequest) this.reqTxn = undefined;
    else this.responseDone(nowUs);
  }

  /** Completes the response being read (if it belongs to a request) and emits the exchange. */
  private responseDone(endUs: number): void {
    const txn = this.resTxn;
    this.resTxn = undefined;
    if (txn === undefined) return;
    const i = this.pending.indexOf(txn);
    if (i === 0) this.pending.shift();
    else if (i > 0) this.pending.splice(i, 1);
    if (txn === this.reqTxn) this.reqTxn = undefined;
    this.emit(this.toEvent(txn, endUs, undefined));
  }

  /** The boundary of the next message in this direction is unknown. */
  private loseSync(s: Direction, isRequest: boolean, nowUs: number): void {
    s.buf.clear();
    s.state = State.Resync;
    if (isRequest) {
      this.reqTxn = undefined;
    } else if (this.resTxn !== undefined) {
      // Report the response as far as it was seen rather than hold it forever.
      this.responseDone(nowUs);
    }
  }

  /**
   * Nothing in flight, as the kernel requires before it summarises: no request awaits its
   * response and neither direction is inside a message; requests travel in `requestDir`.
   */
  private betweenExchanges(requestDir: 'send' | 'recv'): boolean {
    return (
      (this.requestDir === undefined || this.requestDir === requestDir) && this.pending.length === 0 &&
      atMessageStart(this.req) && atMessageStart(this.res)
    );
  }

  private snapshotFor(event: PayloadEvent): ConnectionSnapshot {
    this.snapshot = reuseSnapshot(this.snapshot, event);
    return this.snapshot;
  }

  private toEvent(txn: Transaction, endUs: number, errorType: string | undefined): HttpTransactionEvent {
    const c = txn.snapshot;
    // One literal with every required field: a single allocation and one stable object shape.
    const event: HttpTransactionEvent = {
      kind: 'l7.http',
      timeUs: txn.startUs,
      process: c.process,
      transport: c.transport,
      networkType: c.networkType,
      localAddress: c.localAddress,
      localPort: c.localPort,
      remoteAddress: c.remoteAddress,
      remotePort: c.remotePort,
      direction: c.direction,
      socketCookie: c.socketCookie,
      netnsId: c.netnsId,
      side: txn.side,
      startUs: txn.startUs,
      endUs: endUs > txn.startUs ? endUs : txn.startUs,
      method: txn.method,
      path: txn.path,
      httpVersion: txn.version,
      statusCode: txn.statusCode,
      requestBodySize: txn.requestBodySize,
      responseBodySize: txn.responseBodySize,
    };
    if (txn.query !== undefined) event.query = txn.query;
    if (txn.host !== undefined) event.host = txn.host;
    if (txn.userAgent !== undefined) event.userAgent = txn.userAgent;
    if (txn.traceContext !== undefined) event.traceContext = txn.traceContext;
    if (errorType !== undefined) event.errorType = errorType;
    return withOptionalHeader(event, c);
  }
}

const LF = Uint8Array.of(0x0a);

/** The direction's next byte starts a message (or is looked at as a possible start). */
function atMessageStart(s: Direction): boolean {
  return (s.state === State.Head || s.state === State.Start || s.state === State.Resync) && s.buf.length === 0;
}

/** `0\r\n\r\n`: the last chunk without extensions, and no trailers. */
const LAST_CHUNK = [0x30, 0x0d, 0x0a, 0x0d, 0x0a];

/** data[from, end) ends with the last chunk on a line of its own. */
function endsWithLastChunk(data: Uint8Array, from: number, end: number): boolean {
  const at = end - LAST_CHUNK.length;
  if (at < from) return false;
  for (let i = 0; i < LAST_CHUNK.length; i++) if (data[at + i] !== LAST_CHUNK[i]) return false;
  return at === from || data[at - 1] === 0x0a;
}

function startsMessage(isRequest: boolean, data: Uint8Array, end: number): boolean {
  if (isRequest) {
    return isRequestLineStart(data, 0, end) || (methodTokenLength(data, 0, end) > 0 && hasHttpVersionOnFirstLine(data, end));
  }
  return isStatusLineStart(data, 0, end);
}

/** For extension methods: the first line ends in HTTP/1.x (checked within the captured bytes). */
function hasHttpVersionOnFirstLine(data: Uint8Array, end: number): boolean {
  const lf = indexOfByte(data, 0x0a, 0, Math.min(end, 8192));
  if (lf < 9) return false;
  const e = data[lf - 1] === 0x0d ? lf - 1 : lf;
  return e >= 8 && data[e - 8] === 0x48 && data[e - 7] === 0x54 && data[e - 6] === 0x54 && data[e - 5] === 0x50 && data[e - 4] === 0x2f;
}

/** Hex size before optional whitespace/extensions and the line end at `lf`; -1 if invalid. */
function parseChunkSize(data: Uint8Array, start: number, lf: number): number {
  let i = start;
  let size = 0;
  let digits = 0;
  for (; i < lf; i++) {
    const c = data[i];
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
    else break;
    size = size * 16 + v;
    // 13 hex digits already exceed 2^52: no real body is that large.
    if (++digits > 13) return -1;
  }
  if (digits === 0) return -1;
  for (; i < lf; i++) {
    const c = data[i];
    if (c === 0x3b) return size; // chunk extensions are ignored
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return -1;
  }
  return size;
}
