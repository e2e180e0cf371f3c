/**
 * DNS on one socket: queries and responses correlated by peer (address, port) and transaction
 * id, over UDP (one message per datagram) or TCP (RFC 1035 4.2.2 two-byte length prefix,
 * messages split or coalesced across reads at any byte).
 *
 * A UDP server socket is one session for all its clients, hence the peer in the key.
 */
import type { DnsTransactionEvent, ObservedSide, PayloadEvent } from '../../../core/events';
import * as bytes from '../bytes';
import * as eventHeader from '../event-header';
import type { ConnectionSnapshot } from '../event-header';
import type { Emit, L7Options, ProtocolSession } from '../protocol';
import * as message from './message';
import * as records from './records';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { CappedBuffer } = bytes;
const { reuseSnapshot, withOptionalHeader } = eventHeader;
const { DnsMessage, looksLikeDns, parseDnsMessage, PARSE_MALFORMED, PARSE_BAD_RECORDS } = message;
const { rcodeName, typeName } = records;

/** Outstanding queries per socket; beyond it the oldest is given up. */
const MAX_PENDING = 4096;
const MAX_TCP_MESSAGE = 65535;

class PendingQuery {
  /** Another query with the same id and peer port but a different peer address. */
  next: PendingQuery | undefined = undefined;

  constructor(
    readonly snapshot: ConnectionSnapshot,
    readonly side: ObservedSide,
    readonly startUs: number,
    readonly id: number,
    readonly remoteAddress: string,
    readonly queryDirection: 'send' | 'recv',
    readonly questionName: string,
    readonly questionType: number,
  ) {}
}

/** Reassembles length-prefixed messages in one direction of a TCP stream. */
class TcpFramer {
  /** First byte of a length prefix split across reads, or -1. */
  lengthHigh = -1;
  /** Length of the message being read; 0 while reading a prefix. */
  messageLength = 0;
  /** Bytes of the current message consumed, captured or not. */
  got = 0;
  /** Part of the current message was not captured (or did not fit the buffer). */
  gap = false;
  /** The framing was lost in bytes that were not captured. */
  lost = false;
  readonly buf: bytes.CappedBuffer;

  constructor(cap: number) {
    this.buf = new CappedBuffer(Math.min(cap, MAX_TCP_MESSAGE), 512);
  }

  reset(): void {
    this.lengthHigh = -1;
    this.messageLength = 0;
    this.got = 0;
    this.gap = false;
    this.lost = false;
    this.buf.clear();
  }
}

/** A plausible DNS-over-TCP message (length prefix + DNS header) at data[start, end). */
export function looksLikeTcpDns(data: Uint8Array, start: number, end: number): boolean {
  if (end - start < 2) return false;
  const length = (data[start] << 8) | data[start + 1];
  return length >= 17 && looksLikeDns(data, start + 2, Math.min(end, start + 2 + length));
}

const msg = new DnsMessage();

export class DnsSession implements ProtocolSession {
  malformed = 0;
  private readonly pending = new Map<number, PendingQuery>();
  private pendingCount = 0;
  private parsedAny = false;
  private notDns = false;
  private sendFramer: TcpFramer | undefined;
  private recvFramer: TcpFramer | undefined;
  private snapshot: ConnectionSnapshot | undefined;

  constructor(private readonly options: L7Options) {}

  onPayload(event: PayloadEvent, emit: Emit): boolean {
    const data = event.data;
    if (event.transport === 'udp') {
      this.onMessage(event, data, 0, data.length, data.length < event.originalLength, emit);
    } else {
      this.feedTcp(event, emit);
    }
    return !this.notDns;
  }

  expire(nowUs: number, emit: Emit): void {
    if (this.pendingCount === 0) return;
    const timeoutUs = this.options.transactionTimeoutMs * 1000;
    const cutoff = nowUs - timeoutUs;
    for (const [key, head] of this.pending) {
      let first: PendingQuery | undefined;
      let last: PendingQuery | undefined;
      for (let q: PendingQuery | undefined = head; q !== undefined; ) {
        const next: PendingQuery | undefined = q.next;
        if (q.startUs < cutoff) {
          this.pendingCount--;
          emit(this.toEvent(q, q.startUs + timeoutUs, 'timeout'));
        } else {
          q.next = undefined;
          if (last === undefined) first = q;
          else last.next = q;
          last = q;
        }
        q = next;
      }
      if (first === undefined) this.pending.delete(key);
      else if (first !== head) this.pending.set(key, first);
    }
  }

  close(nowUs: number, emit: Emit): void {
    for (const head of this.pending.values()) {
      for (let q: PendingQuery | undefined = head; q !== undefined; q = q.next) {
        emit(this.toEvent(q, nowUs, 'connection_closed'));
      }
    }
    this.pending.clear();
    this.pendingCount = 0;
    this.sendFramer?.reset();
    this.recvFramer?.reset();
  }

  private feedTcp(event: PayloadEvent, emit: Emit): void {
    const cap = this.options.maxBufferBytes;
    const f = event.dataDirection === 'send' ? (this.sendFramer ??= new TcpFramer(cap)) : (this.recvFramer ??= new TcpFramer(cap));
    const data = event.data;
    const captured = data.length;
    const total = event.originalLength > captured ? event.originalLength : captured;
    if (f.lost) {
      // Only a read that starts a message lets us pick the framing up again.
      if (!looksLikeTcpDns(data, 0, captured)) return;
      f.reset();
    }
    let pos = 0;
    while (pos < total) {
      if (f.messageLength === 0) {
        if (pos >= captured) {
          f.lost = true;
          return;
        }
        let length: number;
        if (f.lengthHigh >= 0) {
          length = (f.lengthHigh << 8) | data[pos];
          f.lengthHigh = -1;
          pos += 1;
        } else if (pos + 1 < captured) {
          length = (data[pos] << 8) | data[pos + 1];
          pos += 2;
        } else if (captured === total) {
          f.lengthHigh = data[pos];
          return;
        } else {
          f.lost = true;
          return;
        }
        if (length < 12) {
          this.malformed++;
          if (!this.parsedAny) this.notDns = true;
          f.lost = true;
          return;
        }
        f.messageLength = length;
        f.got = 0;
        f.gap = false;
        continue;
      }
      if (f.got === 0 && pos + f.messageLength <= captured) {
        // The whole message is in this read: parse it in place.
        this.onMessage(event, data, pos, pos + f.messageLength, false, emit);
        pos += f.messageLength;
        f.messageLength = 0;
        continue;
      }
      const n = Math.min(f.messageLength - f.got, total - pos);
      const capturedPart = f.gap ? 0 : Math.max(0, Math.min(n, captured - pos));
      if (capturedPart > 0 && !f.buf.append(data, pos, pos + capturedPart)) f.gap = true;
      if (capturedPart < n) f.gap = true;
      f.got += n;
      pos += n;
      if (f.got === f.messageLength) {
        this.onMessage(event, f.buf.data, 0, f.buf.length, f.gap, emit);
        f.buf.clear();
        f.messageLength = 0;
      }
    }
  }

  private onMessage(event: PayloadEvent, data: Uint8Array, start: number, end: number, truncated: boolean, emit: Emit): void {
    const result = parseDnsMessage(data, start, end, msg, true, truncated);
    if (result === PARSE_MALFORMED) {
      this.malformed++;
      if (!this.parsedAny) this.notDns = true;
      return;
    }
    if (result === PARSE_BAD_RECORDS) this.malformed++;
    this.parsedAny = true;
    if (msg.questionName === '') return;
    const key = msg.id * 65536 + event.remotePort;
    if (!msg.isResponse) this.addQuery(event, key, emit);
    else this.onResponse(event, key, emit);
  }

  private addQuery(event: PayloadEvent, key: number, emit: Emit): void {
    const head = this.pending.get(key);
    for (let q = head; q !== undefined; q = q.next) {
      // A retransmission: latency counts from the first attempt.
      if (q.remoteAddress === event.remoteAddress && q.queryDirection === event.dataDirection) return;
    }
    if (this.pendingCount >= MAX_PENDING) this.evictOldest(event.timeUs, emit);
    const query = new PendingQuery(
      this.snapshotFor(event),
      event.dataDirection === 'send' ? 'client' : 'server',
      event.timeUs,
      msg.id,
      event.remoteAddress,
      event.dataDirection,
      msg.questionName,
      msg.questionType,
    );
    const current = this.pending.get(key);
    if (current === undefined) {
      this.pending.set(key, query);
    } else {
      query.next = current;
      this.pending.set(key, query);
    }
    this.pendingCount++;
  }

  private evictOldest(nowUs: number, emit: Emit): void {
    // Map order is insertion order: the first key holds (one of) the oldest queries.
    for (const [key, head] of this.pending) {
      if (head.next === undefined) this.pending.delete(key);
      else this.pending.set(key, head.next);
      this.pendingCount--;
      emit(this.toEvent(head, nowUs, 'evicted'));
      return;
    }
  }

  private onResponse(event: PayloadEvent, key: number, emit: Emit): void {
    let prev: PendingQuery | undefined;
    for (let q = this.pending.get(key); q !== undefined; prev = q, q = q.next) {
      if (q.remoteAddress !== event.remoteAddress || q.queryDirection === event.dataDirection) continue;
      // Same id and peer but another question: an id collision or a spoof, not our answer.
      if (q.questionName !== msg.questionName && q.questionName.toLowerCase() !== msg.questionName.toLowerCase()) continue;
      if (prev === undefined) {
        if (q.next === undefined) this.pending.delete(key);
        else this.pending.set(key, q.next);
      } else {
        prev.next = q.next;
      }
      this.pendingCount--;
      const out = this.toEvent(q, event.timeUs, undefined);
      out.responseCode = rcodeName(msg.rcode);
      if (msg.answers.length > 0) out.answers = msg.answers;
      emit(out);
      return;
    }
    // A response without its query (capture started later, or the query timed out): dropped.
  }

  private snapshotFor(event: PayloadEvent): ConnectionSnapshot {
    this.snapshot = reuseSnapshot(this.snapshot, event);
    return this.snapshot;
  }

  private toEvent(q: PendingQuery, endUs: number, errorType: string | undefined): DnsTransactionEvent {
    const c = q.snapshot;
    const event: DnsTransactionEvent = {
      kind: 'l7.dns',
      timeUs: q.startUs,
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
      side: q.side,
      startUs: q.startUs,
      endUs: endUs > q.startUs ? endUs : q.startUs,
      transactionId: q.id,
      questionName: q.questionName,
      questionType: typeName(q.questionType),
      responseCode: '',
      answers: [],
    };
    if (errorType !== undefined) event.errorType = errorType;
    return withOptionalHeader(event, c);
  }
}
