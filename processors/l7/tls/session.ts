/**
 * One TLS connection as seen from one process: reads the plaintext start of the handshake in
 * both directions and emits one l7.tls event per connection, when the ServerHello (or a fatal
 * alert, or the server's first encrypted record) ends the part of the handshake that is
 * visible without keys. Nothing is decrypted.
 */
import type { PayloadEvent, TlsHandshakeEvent } from '../../../core/events';
import { snapshotOf, withOptionalHeader, type ConnectionSnapshot } from '../event-header';
import type { Emit, L7Options, ProtocolSession } from '../protocol';
import { parseClientHello, parseServerHello, type ClientHello, type ServerHello } from './hello';
import { ja4 } from './ja4';
import { alertName, cipherSuiteName, isGrease, tlsVersionName } from './names';
import {
  CONTENT_ALERT,
  CONTENT_APPLICATION_DATA,
  HANDSHAKE_CLIENT_HELLO,
  HANDSHAKE_SERVER_HELLO,
  startsLikeTlsHandshake,
  TlsRecordReader,
  type RecordSink,
} from './records';

const SEND = 0;
const RECV = 1;

/** Largest handshake message reassembled. ClientHellos with post-quantum key shares are ~2 KiB. */
const MAX_HELLO_BYTES = 64 * 1024;

const ALERT_FATAL = 2;

const STATE_WAITING = 0; // nothing parsed yet
const STATE_CLIENT_HELLO = 1; // ClientHello seen, ServerHello pending
const STATE_DONE = 2; // emitted (or gave up); later bytes are ignored

class TlsDirection implements RecordSink {
  readonly reader: TlsRecordReader;
  /** Whether this direction's first bytes were a TLS handshake record header; undefined before any. */
  startedLikeTls: boolean | undefined = undefined;

  constructor(
    readonly index: number,
    private readonly session: TlsSession,
    maxMessageBytes: number,
  ) {
    this.reader = new TlsRecordReader(this, maxMessageBytes);
  }

  onHandshake(type: number, body: Uint8Array, start: number, end: number): void {
    this.session.onHandshake(this, type, body, start, end);
  }

  onRecord(contentType: number, length: number, first2: number): void {
    this.session.onRecord(this, contentType, length, first2);
  }
}

export class TlsSession implements ProtocolSession {
  malformed = 0;

  private readonly dirs: [TlsDirection, TlsDirection];
  private state = STATE_WAITING;
  /** Index of the direction the ClientHello travelled in; -1 until known. */
  private clientDir = -1;
  private clientHello: ClientHello | undefined;
  private helloRetry = false;
  private startUs = 0;
  private header: ConnectionSnapshot | undefined;
  private current: PayloadEvent | undefined;
  private emitFn: Emit | undefined;

  constructor(private readonly options: L7Options) {
    const maxMessage = Math.min(MAX_HELLO_BYTES, Math.max(4096, options.maxBufferBytes));
    this.dirs = [new TlsDirection(SEND, this, maxMessage), new TlsDirection(RECV, this, maxMessage)];
  }

  /** True once the handshake event was emitted (or the session gave up). */
  get done(): boolean {
    return this.state === STATE_DONE;
  }

  onPayload(event: PayloadEvent, emit: Emit): boolean {
    if (this.state === STATE_DONE) return true;
    this.current = event;
    this.emitFn = emit;
    const dir = this.dirs[event.dataDirection === 'send' ? SEND : RECV];
    if (dir.reader.dead) return true;
    if (dir.startedLikeTls === undefined && event.data.length > 0) dir.startedLikeTls = startsLikeTlsHandshake(event.data);
    const recordsBefore = dir.reader.records;
    dir.reader.push(event.data, 0, event.data.length);
    if (event.truncated && event.originalLength > event.data.length) dir.reader.gap(event.originalLength - event.data.length);
    if (this.state === STATE_DONE) return true;
    if (dir.reader.dead) {
      this.malformed++;
      // Garbage before any record of this connection, and nothing that started like TLS: it
      // was never TLS. A stream that started with a handshake record header and then broke (an
      // impossible length, say) is malformed TLS and stays counted as such.
      const other = this.dirs[1 - dir.index];
      if (this.state === STATE_WAITING && recordsBefore === 0 && other.reader.records === 0 && !dir.startedLikeTls && !other.startedLikeTls) return false;
      if (this.state === STATE_CLIENT_HELLO) this.finish(undefined, event.timeUs, 'malformed');
      return true;
    }
    if (dir.reader.handshakeOversized && this.awaitsHandshakeFrom(dir)) {
      // A hello claiming more than any hello needs: not reassembled, and not a hello.
      dir.reader.handshakeOversized = false;
      this.malformed++;
      if (this.state === STATE_CLIENT_HELLO) this.finish(undefined, event.timeUs, 'malformed');
      else this.state = STATE_DONE;
      return true;
    }
    if (dir.reader.handshakeLost && this.awaitsHandshakeFrom(dir)) {
      // The hello we waited for was cut by the capture.
      this.malformed++;
      if (this.state === STATE_WAITING && startsClientHello(event.data)) {
        // Its contents are lost, but not when and which way it went: the ServerHello can
        // still complete the event (without the client's offers and JA4).
        this.clientDir = dir.index;
        this.startUs = event.timeUs;
        this.header = snapshotOf(event);
        this.state = STATE_CLIENT_HELLO;
      } else if (this.state === STATE_CLIENT_HELLO) {
        this.finish(undefined, event.timeUs, 'malformed');
      } else {
        this.state = STATE_DONE;
      }
    }
    return true;
  }

  expire(nowUs: number, emit: Emit): void {
    if (this.state !== STATE_CLIENT_HELLO) return;
    if (this.startUs < nowUs - this.options.transactionTimeoutMs * 1000) {
      this.emitFn = emit;
      this.finish(undefined, nowUs, 'timeout');
    }
  }

  close(nowUs: number, emit: Emit): void {
    // A hello still waiting for the rest its length announced: it never came (a bogus length).
    if (this.state === STATE_WAITING && (this.dirs[SEND].reader.partial || this.dirs[RECV].reader.partial)) this.malformed++;
    if (this.state === STATE_CLIENT_HELLO) {
      this.emitFn = emit;
      this.finish(undefined, nowUs, 'connection_closed');
    }
    this.state = STATE_DONE;
    this.current = undefined;
  }

  /** @internal */
  onHandshake(dir: TlsDirection, type: number, body: Uint8Array, start: number, end: number): void {
    if (this.state === STATE_DONE) return;
    const now = this.current ? this.current.timeUs : 0;
    if (type === HANDSHAKE_CLIENT_HELLO) {
      // A second ClientHello answers a HelloRetryRequest; the fingerprint is the first one's.
      if (this.clientHello) return;
      const hello = parseClientHello(body, start, end);
      dir.reader.stopHandshake(); // nothing after the ClientHello is needed from this side
      if (!hello) {
        this.malformed++;
        return;
      }
      this.clientHello = hello;
      this.clientDir = dir.index;
      this.startUs = now;
      this.header = snapshotOf(this.current as PayloadEvent);
      this.state = STATE_CLIENT_HELLO;
      return;
    }
    if (type === HANDSHAKE_SERVER_HELLO) {
      if (this.clientDir === dir.index) return; // a ServerHello from the client side is nonsense: ignore
      const hello = parseServerHello(body, start, end);
      if (!hello) {
        this.malformed++;
        dir.reader.stopHandshake();
        if (this.state === STATE_CLIENT_HELLO) this.finish(undefined, now, 'malformed');
        return;
      }
      if (hello.helloRetryRequest) {
        this.helloRetry = true;
        return;
      }
      if (this.clientDir < 0) this.clientDir = 1 - dir.index;
      this.finish(hello, now, undefined);
      return;
    }
    // Other messages before the ServerHello cannot come from a sane peer: the stream started
    // like a handshake and is not one. After the ServerHello, we are done.
    if (this.state === STATE_WAITING) {
      this.malformed++;
      this.state = STATE_DONE;
      for (const d of this.dirs) d.reader.stopHandshake();
    }
  }

  /** @internal */
  onRecord(dir: TlsDirection, contentType: number, _length: number, first2: number): void {
    if (this.state !== STATE_CLIENT_HELLO) return;
    const now = this.current ? this.current.timeUs : 0;
    if (contentType === CONTENT_ALERT && first2 >= 0) {
      if (first2 >> 8 === ALERT_FATAL) this.finish(undefined, now, `alert:${alertName(first2 & 0xff)}`);
      return;
    }
    // The server's first encrypted record: its ServerHello went by unseen (cut by the capture).
    // The client's records are not evidence: TLS 1.3 early data precedes the ServerHello.
    if (contentType === CONTENT_APPLICATION_DATA && dir.index !== this.clientDir) this.finish(undefined, now, undefined);
  }

  private awaitsHandshakeFrom(dir: TlsDirection): boolean {
    if (this.state === STATE_WAITING) return true;
    return this.state === STATE_CLIENT_HELLO && dir.index !== this.clientDir;
  }

  private finish(server: ServerHello | undefined, endUs: number, errorType: string | undefined): void {
    const started = this.state === STATE_CLIENT_HELLO;
    this.state = STATE_DONE;
    for (const d of this.dirs) d.reader.stopHandshake();
    const emit = this.emitFn;
    const current = this.current;
    const header = this.header ?? (current ? snapshotOf(current) : undefined);
    if (!emit || !header) return;
    const client = this.clientHello;
    const startUs = started ? this.startUs : endUs;
    const event: TlsHandshakeEvent = {
      kind: 'l7.tls',
      timeUs: startUs,
      process: header.process,
      transport: header.transport,
      networkType: header.networkType,
      localAddress: header.localAddress,
      localPort: header.localPort,
      remoteAddress: header.remoteAddress,
      remotePort: header.remotePort,
      direction: header.direction,
      socketCookie: header.socketCookie,
      netnsId: header.netnsId,
      side: this.clientDir === RECV ? 'server' : 'client',
      startUs,
      endUs: Math.max(endUs, startUs),
      offeredVersions: client ? offeredVersions(client) : [],
      offeredAlpn: client ? client.alpn : [],
      version: server ? tlsVersionName(server.selectedVersion !== 0 ? server.selectedVersion : server.legacyVersion) : '',
    };
    withOptionalHeader(event, header);
    if (client?.serverName !== undefined) event.serverName = client.serverName;
    if (client) event.ja4 = ja4(client);
    if (server) {
      event.cipher = cipherSuiteName(server.cipherSuite);
      if (server.alpn !== undefined) event.alpn = server.alpn;
    }
    if (this.helloRetry) event.helloRetry = true;
    if (errorType !== undefined) event.errorType = errorType;
    emit(event);
  }
}

/** The chunk starts with a handshake record whose first message is a ClientHello. */
function startsClientHello(data: Uint8Array): boolean {
  return data.length > 5 && data[0] === 22 && data[5] === HANDSHAKE_CLIENT_HELLO;
}

function offeredVersions(hello: ClientHello): string[] {
  if (hello.supportedVersions.length === 0) return [tlsVersionName(hello.legacyVersion)];
  const out: string[] = [];
  for (const v of hello.supportedVersions) if (!isGrease(v)) out.push(tlsVersionName(v));
  return out;
}
