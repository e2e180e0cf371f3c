/**
 * One HTTP/2 cleartext connection as seen from one process: two frame readers and two HPACK
 * decoders (one per direction, each with its own dynamic table), and the table of open streams
 * that joins a request's HEADERS to its response and trailers.
 */
import type { GrpcCallEvent, PayloadEvent, TraceContext } from '../../../core/events';
import { snapshotOf, withOptionalHeader, type ConnectionSnapshot } from '../event-header';
import type { Emit, L7Options, ProtocolSession } from '../protocol';
import * as frames from './frames';
import type { FrameSink } from './frames';
import * as hpack from './hpack/decoder';
import type { HeaderSink } from './hpack/decoder';
import * as grpc from './grpc';
import * as traceContext from '../traceparent';

// Module-local bindings for the per-frame and per-field paths: under tsx (how the collector
// runs TypeScript) every access to an imported binding is a getter call.
const {
  CLIENT_PREFACE,
  FLAG_ACK,
  FLAG_END_HEADERS,
  FLAG_END_STREAM,
  FLAG_PADDED,
  FLAG_PRIORITY,
  FRAME_CONTINUATION,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PUSH_PROMISE,
  FRAME_RST_STREAM,
  FRAME_SETTINGS,
  FRAME_WINDOW_UPDATE,
  DEFAULT_MAX_FRAME_SIZE,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_MAX_FRAME_SIZE,
  findFrameStart,
  h2ErrorName,
  prefaceMatchLength,
} = frames;
const { grpcStatusName, isGrpcContentType, parseGrpcStatus, rpcMethodOf } = grpc;
const { parseTraceparent } = traceContext;
const { DECODE_ERROR, H_AUTHORITY, H_CONTENT_TYPE, H_GRPC_STATUS, H_HOST, H_METHOD, H_PATH, H_STATUS, H_TRACEPARENT, H_USER_AGENT } = hpack;

/** Streams tracked per connection; beyond it the oldest is emitted with errorType 'evicted'. */
export const MAX_TRACKED_STREAMS = 512;
/** Header list (RFC 7541 accounting) delivered per block; later fields are not looked at. */
export const MAX_HEADER_LIST_SIZE = 64 * 1024;
/**
 * Chunks in a row that fail to resync a direction before a connection not yet known to be
 * HTTP/2 is given up. One known to be HTTP/2 keeps looking: a 1 MB message read in 64 KiB
 * reads is 16 reads with no frame header in their captured bytes.
 */
const MAX_RESYNC_ATTEMPTS = 16;
/** Telemetry counter: header blocks lost to capture, HPACK state rebuilt from scratch. */
export const HPACK_DESYNC_COUNTER = 'hpack_desync';
/** Leading frames per direction checked strictly, to back out of a wrong detection early. */
const STRICT_FRAMES = 4;

const SEND = 0;
const RECV = 1;

class Stream {
  method = '';
  path = '';
  query: string | undefined = undefined;
  authority = '';
  userAgent = '';
  contentType = '';
  traceContext: TraceContext | undefined = undefined;
  status = 0;
  grpcStatus = -1;
  requestBytes = 0;
  responseBytes = 0;
  /** Request headers could not be decoded (lost block); fields stay empty. */
  headersLost = false;
  /** The response's HEADERS (with :status) were seen. */
  responseHeadersSeen = false;
  /**
   * The response direction lost its frame boundary while this stream was open: its response
   * header blocks may be among the lost bytes (see `Http2Session.checkLostBlocks`).
   */
  uncertain = false;

  constructor(
    readonly id: number,
    readonly startUs: number,
    readonly header: ConnectionSnapshot,
  ) {}
}

class Direction implements FrameSink {
  readonly reader: frames.FrameReader;
  readonly decoder: hpack.HpackDecoder;
  /** Bytes of the client preface matched so far; -1 once the direction is past (or without) it. */
  prefaceMatched = 0;
  /** Header blocks seen (decoded or lost); the first one decides whether HPACK starts degraded. */
  blocks = 0;
  resyncFailures = 0;
  /** Frames were lost since the last proof that no header block was among them. */
  suspect = false;
  /** Largest frame this direction may carry (the other side's SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** Accepts a frame header as the place where frames start again after a loss. */
  readonly frameStartCheck: frames.FrameStartCheck;
  // Header block being assembled from HEADERS/PUSH_PROMISE + CONTINUATION frames.
  inBlock = false;
  blockStream = 0;
  blockEndStream = false;
  blockIsPush = false;
  blockBroken = false;
  blockLength = 0;
  block = new Uint8Array(0);

  constructor(
    readonly index: number,
    private readonly session: Http2Session,
    readonly maxBlockBytes: number,
  ) {
    this.reader = new frames.FrameReader(this, maxBlockBytes, STRICT_FRAMES);
    this.decoder = new hpack.HpackDecoder({ maxHeaderListSize: MAX_HEADER_LIST_SIZE });
    this.frameStartCheck = (type, flags, streamId, length, atStart) => session.isFrameStart(this, type, flags, streamId, length, atStart);
  }

  onFrame(type: number, flags: number, streamId: number, length: number, payload: Uint8Array, start: number, end: number, intact: boolean): void {
    this.session.onFrame(this, type, flags, streamId, length, payload, start, end, intact);
  }

  appendBlock(payload: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.blockLength + n > this.maxBlockBytes) {
      this.blockBroken = true;
      return;
    }
    if (this.block.length < this.blockLength + n) {
      const grown = new Uint8Array(Math.min(this.maxBlockBytes, Math.max(this.blockLength + n, this.block.length * 2, 1024)));
      grown.set(this.block.subarray(0, this.blockLength));
      this.block = grown;
    }
    this.block.set(payload.subarray(start, end), this.blockLength);
    this.blockLength += n;
  }

  endBlock(): void {
    this.inBlock = false;
    this.blockLength = 0;
    this.blockBroken = false;
    // A CONTINUATION-heavy peer can grow the buffer to the cap; do not keep that around.
    if (this.block.length > 16 * 1024) this.block = new Uint8Array(0);
  }
}

export class Http2Session implements ProtocolSession {
  malformed = 0;
  /** Streams emitted early because MAX_TRACKED_STREAMS were open. */
  evictedStreams = 0;
  /** Header blocks that could not be decoded (lost to truncation, oversized or HPACK errors). */
  lostHeaderBlocks = 0;
  /** Times a direction's HPACK table was found out of step and rebuilt (also `hpack_desync`). */
  hpackDesyncs = 0;
  /** Times a direction lost its frame boundary to bytes the capture did not hold. */
  frameSyncLosses = 0;

  private readonly dirs: [Direction, Direction];
  /** Index of the direction that carries requests (the client's writes); -1 until known. */
  private clientDir = -1;
  private readonly streams = new Map<number, Stream>();
  /** Highest stream id opened by request HEADERS; lower unknown ids are finished streams. */
  private maxRequestStreamId = 0;
  private completedStreams = 0;
  /** Open streams with `uncertain` set. */
  private uncertainStreams = 0;
  /** The client preface was seen: both encoders started with this capture, HPACK is exact. */
  private sawPreface: boolean;
  private current: PayloadEvent | undefined;
  private emitFn: Emit | undefined;

  // Fields of the header block being decoded, filled by `sink`.
  private fMethod = '';
  private fPath = '';
  private fAuthority = '';
  private fHost = '';
  private fStatus = '';
  private fContentType = '';
  private fGrpcStatus = '';
  private fTraceparent = '';
  private fUserAgent = '';
  private readonly sink: HeaderSink;

  constructor(
    private readonly options: L7Options,
    private readonly counters?: Record<string, number>,
  ) {
    const maxBlock = Math.max(1024, options.maxBufferBytes);
    this.dirs = [new Direction(SEND, this, maxBlock), new Direction(RECV, this, maxBlock)];
    this.sawPreface = false;
    this.sink = (code, _name, value) => {
      switch (code) {
        case H_METHOD: this.fMethod = value; break;
        case H_PATH: this.fPath = value; break;
        case H_AUTHORITY: this.fAuthority = value; break;
        case H_HOST: this.fHost = value; break;
        case H_STATUS: this.fStatus = value; break;
        case H_CONTENT_TYPE: this.fContentType = value; break;
        case H_GRPC_STATUS: this.fGrpcStatus = value; break;
        case H_TRACEPARENT: this.fTraceparent = value; break;
        case H_USER_AGENT: this.fUserAgent = value; break;
        default: break;
      }
    };
  }

  /** Side of the observed process, once known. */
  get side(): 'client' | 'server' | undefined {
    return this.clientDir < 0 ? undefined : this.clientDir === SEND ? 'client' : 'server';
  }

  get openStreams(): number {
    return this.streams.size;
  }

  onPayload(event: PayloadEvent, emit: Emit): boolean {
    this.current = event;
    this.emitFn = emit;
    const dir = this.dirs[event.dataDirection === 'send' ? SEND : RECV];
    const data = event.data;
    let start = 0;

    if (dir.prefaceMatched >= 0) {
      const matched = prefaceMatchLength(data, dir.prefaceMatched);
      if (matched < 0) {
        if (dir.prefaceMatched > 0) {
          // Started like the preface, then diverged: not HTTP/2.
          this.malformed++;
          return this.giveUp();
        }
        dir.prefaceMatched = -1;
      } else {
        dir.prefaceMatched += matched;
        start = matched;
        if (dir.prefaceMatched === CLIENT_PREFACE.length) {
          dir.prefaceMatched = -1;
          this.clientDir = dir.index;
          this.sawPreface = true;
        } else {
          if (event.truncated) {
            this.malformed++;
            return this.giveUp();
          }
          return true;
        }
      }
    }

    if (dir.reader.lost) {
      if (dir.reader.rejected && !this.confirmed) return this.giveUp();
      const from = findFrameStart(data, start, data.length, dir.frameStartCheck);
      if (from < 0) {
        if (++dir.resyncFailures > MAX_RESYNC_ATTEMPTS && !this.confirmed) return this.giveUp();
        return true;
      }
      dir.reader.resync();
      dir.resyncFailures = 0;
      start = from;
    }

    dir.reader.push(data, start, data.length);
    if (event.truncated && event.originalLength > data.length) dir.reader.gap(event.originalLength - data.length);
    if (dir.reader.lost) {
      if (dir.reader.rejected) {
        // Frames that are not HTTP/2 where the stream should start: malformed input.
        this.malformed++;
        if (!this.confirmed) return this.giveUp();
      } else {
        this.frameSyncLosses++;
      }
      this.onSyncLost(dir);
    }
    return true;
  }

  /** The preface was seen or streams were: the connection is HTTP/2, not a wrong guess. */
  private get confirmed(): boolean {
    return this.sawPreface || this.completedStreams > 0 || this.streams.size > 0;
  }

  /**
   * A direction lost its frame boundary (a frame header fell into bytes the capture did not
   * hold). Frames until the resync are gone; whether a header block was among them, and with it
   * insertions into the peer's dynamic table, is decided by what follows (`checkLostBlocks`):
   * the table is kept until then, because large messages lose only DATA frames.
   */
  private onSyncLost(dir: Direction): void {
    if (dir.inBlock) {
      // A header block was being assembled from CONTINUATION frames: it is lost for sure.
      this.lostBlock(dir, dir.blockStream, dir.blockEndStream, dir.blockIsPush);
      dir.endBlock();
    }
    if (this.clientDir < 0) {
      // Nothing to check the lost bytes against yet.
      dir.decoder.resetDegraded();
      return;
    }
    dir.suspect = true;
    if (dir.index !== this.clientDir) for (const stream of this.streams.values()) this.markUncertain(stream);
  }

  private markUncertain(stream: Stream): void {
    if (stream.uncertain) return;
    stream.uncertain = true;
    this.uncertainStreams++;
  }

  /**
   * @internal Whether the frame header at a resync candidate is where frames start again. A
   * frame of a stream must belong to a stream this session knows (or be the next request's
   * HEADERS), wherever it is; inside a chunk (`atStart` false, the bytes around are message
   * payload) nothing else is taken. Never a CONTINUATION: its block's start is gone.
   */
  isFrameStart(dir: Direction, type: number, flags: number, streamId: number, length: number, atStart: boolean): boolean {
    if (length > dir.maxFrameSize || type === FRAME_CONTINUATION) return false;
    if (this.clientDir < 0) return atStart;
    switch (type) {
      case FRAME_DATA:
        return (length > 0 || (flags & FLAG_END_STREAM) !== 0) && this.streams.has(streamId);
      case FRAME_HEADERS:
        return this.streams.has(streamId) || (dir.index === this.clientDir && (streamId & 1) === 1 && streamId > this.maxRequestStreamId);
      case FRAME_RST_STREAM:
      case FRAME_WINDOW_UPDATE:
        // Also sent for streams that just ended, so at a chunk start any stream will do.
        return atStart || streamId === 0 || this.streams.has(streamId);
      default:
        return atStart;
    }
  }

  /**
   * After a direction lost frames: the first frames that follow show whether a header block
   * was among the lost ones. Requests: stream ids grow by 2, so a new stream with a larger step,
   * or frames of a stream whose HEADERS were not seen, mean a request block is gone. Responses:
   * a stream's first response block carries :status and its last one ends it, so DATA before
   * response headers, or a later stream's block while an earlier stream that was open at the
   * loss is still unanswered, mean a response block (headers or trailers) is gone. Any of these
   * rebuilds the table; the check is conservative (concurrent streams answered out of order
   * after a loss also rebuild it), since a table out of step would put wrong names on calls.
   */
  private checkLostBlocks(dir: Direction, type: number, streamId: number): void {
    if (dir.index === this.clientDir) {
      if (!dir.suspect || streamId <= this.maxRequestStreamId || (streamId & 1) === 0) return;
      if (type === FRAME_HEADERS) {
        const expected = this.maxRequestStreamId === 0 ? 1 : this.maxRequestStreamId + 2;
        dir.suspect = false;
        if (streamId !== expected && (this.sawPreface || this.maxRequestStreamId > 0)) this.hpackDesync(dir);
      } else if (type === FRAME_DATA || type === FRAME_CONTINUATION) {
        // Frames of a request stream whose HEADERS went by unseen.
        dir.suspect = false;
        this.maxRequestStreamId = streamId;
        this.hpackDesync(dir);
      }
      return;
    }
    if (this.uncertainStreams === 0 || (type !== FRAME_HEADERS && type !== FRAME_DATA)) return;
    const stream = this.streams.get(streamId);
    if (type === FRAME_DATA) {
      if (stream !== undefined && stream.uncertain && !stream.responseHeadersSeen) this.hpackDesync(dir);
      return;
    }
    for (const other of this.streams.values()) {
      if (other.uncertain && other.id < streamId) {
        this.hpackDesync(dir);
        return;
      }
    }
  }

  /** A header block of `dir` was lost: its insertions are unknown, the table starts over degraded. */
  private hpackDesync(dir: Direction): void {
    this.hpackDesyncs++;
    if (this.counters !== undefined) this.counters[HPACK_DESYNC_COUNTER]++;
    dir.decoder.resetDegraded();
    dir.suspect = false;
    if (this.clientDir >= 0 && dir.index !== this.clientDir) {
      for (const stream of this.streams.values()) stream.uncertain = false;
      this.uncertainStreams = 0;
    }
  }

  expire(nowUs: number, emit: Emit): void {
    this.emitFn = emit;
    const limit = nowUs - this.options.transactionTimeoutMs * 1000;
    for (const stream of this.streams.values()) {
      if (stream.startUs < limit) this.complete(stream, nowUs, 'timeout');
    }
  }

  close(nowUs: number, emit: Emit): void {
    this.emitFn = emit;
    for (const stream of this.streams.values()) this.complete(stream, nowUs, 'connection_closed');
    for (const dir of this.dirs) if (dir.inBlock) dir.endBlock();
    this.current = undefined;
  }

  /** @internal Called by the directions' frame readers. */
  onFrame(dir: Direction, type: number, flags: number, streamId: number, length: number, payload: Uint8Array, start: number, end: number, intact: boolean): void {
    if (dir.suspect || this.uncertainStreams > 0) this.checkLostBlocks(dir, type, streamId);
    if (dir.inBlock && type !== FRAME_CONTINUATION) {
      // RFC 9113 6.2: nothing may interleave a header block. The block is lost.
      this.malformed++;
      this.lostBlock(dir, dir.blockStream, dir.blockEndStream, dir.blockIsPush);
      dir.endBlock();
    }
    switch (type) {
      case FRAME_DATA:
        this.onData(dir, flags, streamId, length, payload, start, end);
        return;
      case FRAME_HEADERS:
      case FRAME_PUSH_PROMISE:
        this.onHeadersFrame(dir, type, flags, streamId, payload, start, end, intact);
        return;
      case FRAME_CONTINUATION:
        if (!dir.inBlock || streamId !== dir.blockStream) {
          this.malformed++;
          return;
        }
        if (!intact) dir.blockBroken = true;
        else dir.appendBlock(payload, start, end);
        if (flags & FLAG_END_HEADERS) {
          if (dir.blockBroken) this.lostBlock(dir, dir.blockStream, dir.blockEndStream, dir.blockIsPush);
          else this.decodeBlock(dir, dir.block, 0, dir.blockLength, dir.blockStream, dir.blockEndStream, dir.blockIsPush);
          dir.endBlock();
        }
        return;
      case FRAME_RST_STREAM: {
        if (!intact || length !== 4 || streamId === 0) {
          this.malformed++;
          return;
        }
        const stream = this.streams.get(streamId);
        if (stream) this.complete(stream, this.nowUs(), `rst_stream:${h2ErrorName(readU32(payload, start))}`);
        return;
      }
      case FRAME_SETTINGS:
        if (flags & FLAG_ACK) return;
        if (!intact || length % 6 !== 0 || streamId !== 0) {
          this.malformed++;
          return;
        }
        for (let p = start; p + 6 <= end; p += 6) {
          const id = (payload[p] << 8) | payload[p + 1];
          // The sender's setting bounds the table the *other* direction's encoder may use.
          if (id === SETTINGS_HEADER_TABLE_SIZE) this.dirs[1 - dir.index].decoder.setAnnouncedLimit(readU32(payload, p + 2));
          // The largest frame the sender accepts, i.e. the largest the other direction carries.
          if (id === SETTINGS_MAX_FRAME_SIZE) this.dirs[1 - dir.index].maxFrameSize = Math.max(DEFAULT_MAX_FRAME_SIZE, Math.min(readU32(payload, p + 2), 0xffffff));
        }
        return;
      case FRAME_GOAWAY: {
        if (!intact || length < 8 || streamId !== 0) {
          this.malformed++;
          return;
        }
        // Streams initiated by the receiver of the GOAWAY above last-stream-id were not
        // processed. We track client-initiated streams, so only a server's GOAWAY matters.
        if (this.clientDir < 0 || dir.index === this.clientDir) return;
        const lastStreamId = readU32(payload, start) & 0x7fffffff;
        const errorType = `goaway:${h2ErrorName(readU32(payload, start + 4))}`;
        for (const stream of this.streams.values()) {
          if (stream.id > lastStreamId) this.complete(stream, this.nowUs(), errorType);
        }
        return;
      }
      default:
        // PRIORITY, PING, WINDOW_UPDATE and extension frames carry nothing we report.
        return;
    }
  }

  private onData(dir: Direction, flags: number, streamId: number, length: number, payload: Uint8Array, start: number, end: number): void {
    if (this.clientDir < 0) return;
    const stream = this.streams.get(streamId);
    if (!stream) return;
    let size = length;
    if (flags & FLAG_PADDED) size = end > start ? Math.max(0, length - 1 - payload[start]) : 0;
    if (dir.index === this.clientDir) {
      stream.requestBytes += size;
    } else {
      stream.responseBytes += size;
      if (flags & FLAG_END_STREAM) this.complete(stream, this.nowUs(), undefined);
    }
  }

  private onHeadersFrame(dir: Direction, type: number, flags: number, streamId: number, payload: Uint8Array, start: number, end: number, intact: boolean): void {
    const isPush = type === FRAME_PUSH_PROMISE;
    const endStream = !isPush && (flags & FLAG_END_STREAM) !== 0;
    if (streamId === 0) {
      this.malformed++;
      dir.decoder.resetDegraded();
      return;
    }
    let p = start;
    let e = end;
    let ok = intact;
    if (ok && flags & FLAG_PADDED) {
      if (p >= e) ok = false;
      else {
        const pad = payload[p++];
        e -= pad;
        if (e < p) ok = false;
      }
    }
    if (ok && !isPush && flags & FLAG_PRIORITY) {
      p += 5;
      if (p > e) ok = false;
    }
    if (ok && isPush) {
      p += 4; // promised stream id
      if (p > e) ok = false;
    }
    if (!ok) {
      if (intact) this.malformed++;
      if (flags & FLAG_END_HEADERS) this.lostBlock(dir, streamId, endStream, isPush);
      else this.startBlock(dir, streamId, endStream, isPush, true);
      return;
    }
    if (flags & FLAG_END_HEADERS) {
      this.decodeBlock(dir, payload, p, e, streamId, endStream, isPush);
    } else {
      this.startBlock(dir, streamId, endStream, isPush, false);
      dir.appendBlock(payload, p, e);
    }
  }

  private startBlock(dir: Direction, streamId: number, endStream: boolean, isPush: boolean, broken: boolean): void {
    dir.inBlock = true;
    dir.blockStream = streamId;
    dir.blockEndStream = endStream;
    dir.blockIsPush = isPush;
    dir.blockBroken = broken;
    dir.blockLength = 0;
  }

  private decodeBlock(dir: Direction, block: Uint8Array, start: number, end: number, streamId: number, endStream: boolean, isPush: boolean): void {
    this.clearFields();
    this.firstBlock(dir);
    if (dir.decoder.decode(block, start, end, this.sink) === DECODE_ERROR) {
      // Fields decoded before the error are right; the rest of the block is lost, and with it
      // the block's table insertions (the decoder starts over degraded).
      this.malformed++;
      this.lostHeaderBlocks++;
      this.hpackDesync(dir);
    }
    // Push promises are decoded only to keep the dynamic table in step.
    if (isPush) return;
    this.onHeaders(dir, streamId, endStream, false);
  }

  /** A header block that cannot be decoded: its table insertions are lost as well. */
  private lostBlock(dir: Direction, streamId: number, endStream: boolean, isPush: boolean): void {
    this.lostHeaderBlocks++;
    dir.blocks++;
    this.hpackDesync(dir);
    if (isPush) return;
    this.clearFields();
    this.onHeaders(dir, streamId, endStream, true);
  }

  private clearFields(): void {
    this.fMethod = this.fPath = this.fAuthority = this.fHost = this.fStatus = '';
    this.fContentType = this.fGrpcStatus = this.fTraceparent = this.fUserAgent = '';
  }

  private onHeaders(dir: Direction, streamId: number, endStream: boolean, lost: boolean): void {
    if (this.clientDir < 0) {
      // Without the preface, the pseudo-headers tell who is who (both usually come from the
      // static table, so they decode even in degraded mode).
      if (this.fMethod !== '') this.clientDir = dir.index;
      else if (this.fStatus !== '') this.clientDir = 1 - dir.index;
      else return;
    }
    if (dir.index === this.clientDir) {
      let stream = this.streams.get(streamId);
      if (!stream) {
        // Client streams are odd and increase; a lower id we do not track is a finished
        // stream (request trailers after the response, or one we gave up on).
        if ((streamId & 1) === 0 || streamId <= this.maxRequestStreamId) return;
        this.maxRequestStreamId = streamId;
        stream = this.openStream(streamId);
        stream.headersLost = lost;
        if (!lost) this.fillRequest(stream);
      }
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return; // response to a request we did not see (capture started later)
    if (!lost && stream.uncertain && !stream.responseHeadersSeen && this.fStatus === '') {
      // Trailers of a stream whose response headers were lost with frames: the table missed
      // their insertions, and this block was decoded against it.
      this.hpackDesync(dir);
      lost = true;
    }
    if (!lost) {
      if (this.fStatus !== '') {
        const status = parseStatus(this.fStatus);
        if (status > 0) stream.status = status;
        stream.responseHeadersSeen = true;
      }
      if (this.fGrpcStatus !== '') stream.grpcStatus = parseGrpcStatus(this.fGrpcStatus);
    }
    if (endStream) this.complete(stream, this.nowUs(), undefined);
  }

  private openStream(streamId: number): Stream {
    if (this.streams.size >= MAX_TRACKED_STREAMS) {
      const oldest = this.streams.values().next().value as Stream;
      this.evictedStreams++;
      this.complete(oldest, this.nowUs(), 'evicted');
    }
    const event = this.current as PayloadEvent;
    const stream = new Stream(streamId, event.timeUs, snapshotOf(event));
    this.streams.set(streamId, stream);
    // Opened while the response direction is lost: its answer may go by unseen.
    if (this.dirs[1 - this.clientDir].reader.lost) this.markUncertain(stream);
    return stream;
  }

  private fillRequest(stream: Stream): void {
    stream.method = this.fMethod;
    const rawPath = utf8IfNeeded(this.fPath);
    const q = rawPath.indexOf('?');
    if (q < 0) {
      stream.path = rawPath;
    } else {
      stream.path = rawPath.slice(0, q);
      if (this.options.captureQuery) stream.query = rawPath.slice(q + 1);
    }
    stream.authority = utf8IfNeeded(this.fAuthority !== '' ? this.fAuthority : this.fHost);
    stream.userAgent = this.fUserAgent;
    stream.contentType = this.fContentType;
    if (this.fTraceparent !== '') stream.traceContext = parseTraceparent(this.fTraceparent);
  }

  private complete(stream: Stream, endUs: number, errorType: string | undefined): void {
    this.streams.delete(stream.id);
    if (stream.uncertain) this.uncertainStreams--;
    this.completedStreams++;
    const emit = this.emitFn;
    if (!emit) return;
    const isGrpc = isGrpcContentType(stream.contentType);
    const h = stream.header;
    const event: GrpcCallEvent = {
      kind: 'l7.grpc',
      timeUs: stream.startUs,
      process: h.process,
      transport: h.transport,
      networkType: h.networkType,
      localAddress: h.localAddress,
      localPort: h.localPort,
      remoteAddress: h.remoteAddress,
      remotePort: h.remotePort,
      direction: h.direction,
      socketCookie: h.socketCookie,
      netnsId: h.netnsId,
      side: this.clientDir === SEND ? 'client' : 'server',
      startUs: stream.startUs,
      endUs: Math.max(endUs, stream.startUs),
      isGrpc,
      method: stream.method,
      path: stream.path,
      httpStatusCode: stream.status,
      grpcStatusCode: stream.grpcStatus,
      streamId: stream.id,
      requestBodySize: stream.requestBytes,
      responseBodySize: stream.responseBytes,
    };
    withOptionalHeader(event, h);
    if (stream.authority !== '') event.authority = stream.authority;
    if (stream.userAgent !== '') event.userAgent = stream.userAgent;
    if (stream.query !== undefined) event.query = stream.query;
    if (stream.traceContext) event.traceContext = stream.traceContext;
    if (isGrpc) {
      const rpcMethod = rpcMethodOf(stream.path);
      if (rpcMethod) event.rpcMethod = rpcMethod;
      if (stream.grpcStatus >= 0) event.grpcStatusName = grpcStatusName(stream.grpcStatus);
    }
    if (errorType !== undefined) event.errorType = errorType;
    else if (stream.headersLost) event.errorType = 'malformed';
    emit(event);
  }

  /**
   * Before the first header block of a direction: without the preface the capture joined an
   * established connection, and the peer's encoder has table entries we never saw. (A server
   * often writes its SETTINGS before it reads the preface, so this cannot be decided earlier.)
   */
  private firstBlock(dir: Direction): void {
    if (dir.blocks++ === 0 && !this.sawPreface) dir.decoder.resetDegraded();
  }

  /** Gives the connection up (returning false drops the session); pending calls are flushed. */
  private giveUp(): false {
    const now = this.nowUs();
    for (const stream of this.streams.values()) this.complete(stream, now, 'malformed');
    return false;
  }

  private nowUs(): number {
    return this.current ? this.current.timeUs : 0;
  }
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}

function parseStatus(value: string): number {
  if (value.length !== 3) return 0;
  const n = Number(value);
  return Number.isInteger(n) && n >= 100 && n <= 999 ? n : 0;
}

/** Header values are decoded as latin1 (one char per octet); paths and authorities may be UTF-8. */
function utf8IfNeeded(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7f) return Buffer.from(value, 'latin1').toString('utf8');
  }
  return value;
}
