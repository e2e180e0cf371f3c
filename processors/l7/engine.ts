/**
 * The l7 processor's core, independent of the component API (so benchmarks and tests drive it
 * directly): protocol detection per connection, the bounded session table, transaction
 * timeouts, and the hand-off of `payload` chunks to protocol sessions.
 */
import type { ConnectionClosedEvent, L7Event, NetworkEvent, PayloadEvent } from '../../core/events';
import { isObserverUserAgent } from '../../core/identity';
import * as connections from './connections';
import type { Connection } from './connections';
import { PROTOCOL_NAMES, type ProtocolName } from './modules';
import type { Emit, L7Options, ProtocolModule } from './protocol';
import { TlsHandshakes } from './tls-join';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { Connection: ConnectionEntry, ConnectionTable, connectionKey, plaintextKey, socketKey } = connections;

export type PortMode = 'hint' | 'restrict';

export interface L7EngineOptions extends L7Options {
  /** Enabled protocols; modules not listed are never tried. */
  protocols: readonly ProtocolName[];
  httpPorts: readonly number[];
  /** 0: no DNS port hint. */
  dnsPort: number;
  httpsPorts: readonly number[];
  grpcPorts: readonly number[];
  /** hint: ports order detection and keep it going; restrict: protocols only on their ports. */
  portMode: PortMode;
  maxSessions: number;
  /** A connection not seen for this long is forgotten (its pending exchanges flushed). */
  sessionIdleTimeoutMs: number;
  forwardPayload: boolean;
  /** Drop (and count) transactions whose request carries the observer's own User-Agent. */
  dropSelfTraffic: boolean;
}

/** Chunks sniffed on an unhinted connection before giving up on it. */
export const MAX_SNIFF_CHUNKS = 16;
/**
 * Reads shorter than this that match nothing are kept and sniffed again joined with the next
 * read in the same direction: clients that write a DNS-over-TCP length prefix on its own, or
 * a request line in pieces, are still recognised.
 */
const HOLD_BELOW_BYTES = 32;
const MAX_HELD = 4;
/** Bit in the candidate-order cache key separating UDP orders from TCP ones. */
const UDP_ORDER = 1 << 16;
/** Bit in the candidate-order cache key for decrypted TLS payload (no TLS inside; HTTP on HTTPS ports). */
const DECRYPTED_ORDER = 1 << 17;

const TRANSACTION_COUNTER: Record<L7Event['kind'], string> = {
  'l7.http': 'transactions_http',
  'l7.dns': 'transactions_dns',
  'l7.grpc': 'transactions_grpc',
  'l7.tls': 'transactions_tls',
};

/** Ports on which each protocol is hinted (or, in restrict mode, allowed). */
function portsByProtocol(o: L7EngineOptions): Record<ProtocolName, ReadonlySet<number>> {
  const dns = o.dnsPort > 0 ? [o.dnsPort] : [];
  return {
    http1: new Set(o.httpPorts),
    // h2c shares HTTP ports; gRPC is HTTP/2.
    http2: new Set([...o.grpcPorts, ...o.httpPorts]),
    // gRPC is usually TLS-wrapped in production.
    tls: new Set([...o.httpsPorts, ...o.grpcPorts]),
    dns: new Set(dns),
  };
}

export class L7Engine {
  /** Cumulative counters, read by the processor's telemetry. */
  readonly counters: Record<string, number> = {};
  private readonly table = new ConnectionTable();
  private readonly modules: readonly ProtocolModule[];
  private readonly http1Active: boolean;
  private readonly ports: Record<ProtocolName, ReadonlySet<number>>;
  /** Candidate lists by bitmask of hinted modules, built on first use. */
  private readonly orders = new Map<number, { candidates: ProtocolModule[]; hinted: boolean }>();
  private readonly malformedCounter = new Map<ProtocolModule, string>();
  /** Handshakes per socket, for the HTTPS transactions parsed from its decrypted payload. */
  private readonly handshakes: TlsHandshakes;
  private out: NetworkEvent[] = [];
  private renameErrorsTo: string | undefined;
  private lastEventUs = 0;
  private lastEventWallMs = 0;
  private lastTickUs = 0;
  /** A session is taking a summarised exchange (its transaction is marked measuredOnly). */
  private summarising = false;
  private readonly tickIntervalUs: number;
  private readonly emitFn: Emit = (event) => {
    if (this.options.dropSelfTraffic && (event.kind === 'l7.http' || event.kind === 'l7.grpc') && event.userAgent !== undefined && isObserverUserAgent(event.userAgent)) {
      this.counters.self_transactions_dropped++;
      return;
    }
    if (this.renameErrorsTo !== undefined && event.errorType !== undefined) event.errorType = this.renameErrorsTo;
    if (event.kind === 'l7.tls') this.handshakes.remember(socketKey(event), event);
    this.counters[TRANSACTION_COUNTER[event.kind]]++;
    // The marker is read only while a summary is fed: a property most events lack costs a
    // megamorphic lookup per transaction.
    if (this.summarising && event.kind === 'l7.http' && event.measuredOnly === true) this.counters.transactions_summarised++;
    this.out.push(event);
  };

  constructor(
    private readonly options: L7EngineOptions,
    available: readonly ProtocolModule[],
    private readonly onSessionError: (message: string) => void = () => undefined,
  ) {
    this.modules = available.filter((m) => options.protocols.includes(m.name));
    this.http1Active = this.modules.some((m) => m.name === 'http1');
    this.ports = portsByProtocol(options);
    for (const name of PROTOCOL_NAMES) {
      this.counters[`detected_${name}`] = 0;
      this.counters[`malformed_${name}`] = 0;
    }
    for (const name of Object.values(TRANSACTION_COUNTER)) this.counters[name] = 0;
    this.counters.transactions_summarised = 0;
    this.counters.payload_consumed = 0;
    this.counters.sessions_evicted = 0;
    this.counters.sessions_idle_closed = 0;
    this.counters.session_errors = 0;
    this.counters.self_transactions_dropped = 0;
    this.counters.tls_without_plaintext = 0;
    this.handshakes = new TlsHandshakes(options.maxSessions);
    for (const m of this.modules) {
      this.malformedCounter.set(m, `malformed_${m.name}`);
      for (const name of m.counterNames ?? []) this.counters[name] = 0;
    }
    this.tickIntervalUs = Math.max(1000, Math.min(1_000_000, (options.transactionTimeoutMs * 1000) / 4));
  }

  get sessionCount(): number {
    return this.table.size;
  }

  /** The protocols this engine runs (enabled and available), in detection order. */
  get activeProtocols(): ProtocolName[] {
    return this.modules.map((m) => m.name);
  }

  /** Passes `batch` through; payload chunks become L7 transactions. */
  process(batch: readonly NetworkEvent[]): NetworkEvent[] {
    const out: NetworkEvent[] = [];
    this.out = out;
    let latest = this.lastEventUs;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      if (event.timeUs > latest) latest = event.timeUs;
      switch (event.kind) {
        case 'payload':
          if (event.h1Exchanges !== undefined) {
            this.countSummarised(event.h1Exchanges);
            break;
          }
          if (this.options.forwardPayload) out.push(event);
          else this.counters.payload_consumed++;
          this.onPayload(event);
          break;
        case 'connection.closed':
          // Transactions the close completes come before the close itself.
          this.onClosed(event);
          out.push(event);
          break;
        default:
          out.push(event);
      }
    }
    if (batch.length > 0) {
      this.lastEventUs = latest;
      this.lastEventWallMs = performance.now();
    }
    if (latest - this.lastTickUs >= this.tickIntervalUs) this.expireInto(latest);
    return out;
  }

  /**
   * Now on the events' clock: the latest event time plus the wall time since it was seen, so
   * timeouts work both for live traffic and for replayed or synthetic timestamps.
   */
  now(): number {
    if (this.lastEventUs === 0) return Date.now() * 1000;
    return this.lastEventUs + (performance.now() - this.lastEventWallMs) * 1000;
  }

  /** Timeouts and idle connections up to `nowUs`; returns what they emit. */
  tick(nowUs: number): L7Event[] {
    const out: NetworkEvent[] = [];
    this.out = out;
    this.expireInto(nowUs);
    return out as L7Event[];
  }

  /** Shutdown: every session is closed and its pending exchanges emitted. */
  flush(nowUs: number): L7Event[] {
    const out: NetworkEvent[] = [];
    this.out = out;
    for (let conn = this.table.oldest(); conn !== undefined; conn = this.table.oldest()) {
      this.closeConnection(conn, nowUs, undefined);
    }
    return out as L7Event[];
  }

  /**
   * HTTP/1 exchanges the kernel framed and only counted: transactions like any other, though no
   * session sees them (the kernel counts only whole exchanges that leave the stream between
   * exchanges, where its session, if it has one, already is).
   */
  private countSummarised(exchanges: number): void {
    if (!this.http1Active) return;
    this.counters.transactions_http += exchanges;
    this.counters.transactions_summarised += exchanges;
  }

  private onPayload(event: PayloadEvent): void {
    const key = connectionKey(event);
    let conn = this.table.get(key);
    if (conn === undefined) {
      const order = this.orderFor(event);
      if (order.candidates.length === 0) return; // restrict mode: nothing to look for here
      if (this.table.size >= this.options.maxSessions) {
        const oldest = this.table.oldest();
        if (oldest !== undefined) {
          this.counters.sessions_evicted++;
          this.closeConnection(oldest, event.timeUs, 'session_evicted');
        }
      }
      conn = new ConnectionEntry(key, order.candidates, order.hinted, event.timeUs);
      if (event.decrypted === true) conn.emit = this.httpsEmitter(socketKey(event));
      this.table.add(conn);
    } else {
      this.table.touch(conn);
      conn.lastSeenUs = event.timeUs;
    }
    if (event.decrypted === true) this.handshakes.notePlaintext(socketKey(event));
    if (conn.opaque) return;
    try {
      if (conn.session === undefined) {
        if (!this.detect(conn, event)) return;
        if (conn.held !== undefined) {
          const held = conn.held;
          conn.held = undefined;
          for (const earlier of held) if (!this.feed(conn, earlier)) return;
        }
      }
      this.feed(conn, event);
    } catch (error) {
      // A module broke its never-throw promise: lose this connection's state, not the batch.
      this.counters.session_errors++;
      this.onSessionError(`${conn.module?.name ?? 'detection'} on connection ${String(key)}: ${(error as Error).message}`);
      this.dropSession(conn);
      conn.opaque = true;
    }
  }

  /**
   * Feeds one chunk to the connection's session; false when the session gave the stream up. A
   * summarised HTTP/1 exchange goes to a session that takes summaries, and is ignored by others.
   */
  private feed(conn: Connection, event: PayloadEvent): boolean {
    const session = conn.session;
    if (session === undefined) return false;
    const summary = event.h1Response;
    let ok: boolean;
    if (summary === undefined) ok = session.onPayload(event, conn.emit ?? this.emitFn);
    else if (session.onH1Summary !== undefined) {
      this.summarising = true;
      ok = session.onH1Summary(event, summary, conn.emit ?? this.emitFn);
      this.summarising = false;
    } else {
      return true;
    }
    this.countMalformed(conn);
    if (!ok) this.dropSession(conn);
    return ok;
  }

  private detect(conn: Connection, event: PayloadEvent): boolean {
    const data = event.data;
    if (data.length > 0 && this.tryModules(conn, data, event)) {
      // The stream starts here: held reads of this direction are not part of it (or were a
      // peek at these very bytes).
      if (conn.held !== undefined) conn.held = conn.held.filter((h) => h.dataDirection !== event.dataDirection);
      return true;
    }
    // A summary's request is whole: never the rest of a start split over earlier reads, nor the
    // first piece of one.
    const whole = event.h1Response !== undefined;
    if (!whole && data.length > 0 && this.tryWithHeld(conn, event)) return true;
    if (!whole && data.length > 0 && data.length < HOLD_BELOW_BYTES && data.length === event.originalLength) {
      const held = (conn.held ??= []);
      if (held.length >= MAX_HELD) held.shift();
      held.push({ ...event, data: data.slice() });
    }
    conn.attempts++;
    if (!conn.hinted && conn.attempts >= MAX_SNIFF_CHUNKS) {
      conn.opaque = true;
      conn.held = undefined;
    }
    return false;
  }

  private tryModules(conn: Connection, data: Uint8Array, event: PayloadEvent): boolean {
    for (const module of conn.candidates) {
      if (!module.detect(data, event)) continue;
      conn.module = module;
      conn.session = module.createSession(this.options, this.counters);
      conn.malformedSeen = 0;
      this.counters[`detected_${module.name}`]++;
      return true;
    }
    return false;
  }

  /**
   * The held reads of this direction joined with this one, sniffed as one stream start; then
   * without the oldest held read, and so on: a read with MSG_PEEK (nginx peeks at the first byte
   * of a TLS connection) is followed by a read of the same bytes. The held reads that were not
   * part of the detected start are dropped.
   */
  private tryWithHeld(conn: Connection, event: PayloadEvent): boolean {
    const held = conn.held;
    if (held === undefined) return false;
    for (let first = 0; first < held.length; first++) {
      if (held[first].dataDirection !== event.dataDirection) continue;
      let length = event.data.length;
      for (let i = first; i < held.length; i++) if (held[i].dataDirection === event.dataDirection) length += held[i].data.length;
      const joined = new Uint8Array(length);
      let offset = 0;
      for (let i = first; i < held.length; i++) {
        if (held[i].dataDirection !== event.dataDirection) continue;
        joined.set(held[i].data, offset);
        offset += held[i].data.length;
      }
      joined.set(event.data, offset);
      if (this.tryModules(conn, joined, event)) {
        conn.held = held.filter((h, i) => i >= first || h.dataDirection !== event.dataDirection);
        return true;
      }
    }
    return false;
  }

  /** Back to detection: the stream changed protocol (upgrade, tunnel) or was not the one guessed. */
  private dropSession(conn: Connection): void {
    conn.held = undefined;
    conn.session = undefined;
    conn.module = undefined;
    conn.malformedSeen = 0;
    conn.attempts = 0;
  }

  private countMalformed(conn: Connection): void {
    const session = conn.session;
    if (session === undefined || conn.module === undefined) return;
    const m = session.malformed;
    if (m !== conn.malformedSeen) {
      this.counters[this.malformedCounter.get(conn.module)!] += m - conn.malformedSeen;
      conn.malformedSeen = m;
    }
  }

  private onClosed(event: ConnectionClosedEvent): void {
    const key = socketKey(event);
    const conn = this.table.get(key);
    if (conn !== undefined) this.closeConnection(conn, event.timeUs, undefined);
    const plaintext = this.table.get(plaintextKey(key));
    if (plaintext !== undefined) this.closeConnection(plaintext, event.timeUs, undefined);
    if (this.handshakes.closed(key)) this.counters.tls_without_plaintext++;
  }

  /**
   * Where the transactions of a decrypted stream go: marked as HTTPS, with the handshake of
   * their socket when it was seen.
   */
  private httpsEmitter(socket: connections.ConnectionKey): Emit {
    return (event) => {
      if (event.kind === 'l7.http' || event.kind === 'l7.grpc') event.tls = this.handshakes.infoOf(socket);
      this.emitFn(event);
    };
  }

  private closeConnection(conn: Connection, nowUs: number, errorType: string | undefined): void {
    this.table.delete(conn);
    const session = conn.session;
    if (session === undefined) return;
    this.renameErrorsTo = errorType;
    try {
      session.close(nowUs, conn.emit ?? this.emitFn);
      this.countMalformed(conn);
    } catch (error) {
      this.counters.session_errors++;
      this.onSessionError(`${conn.module?.name} closing connection ${String(conn.key)}: ${(error as Error).message}`);
    } finally {
      this.renameErrorsTo = undefined;
    }
    conn.session = undefined;
  }

  private expireInto(nowUs: number): void {
    this.lastTickUs = nowUs;
    const idleCutoff = nowUs - this.options.sessionIdleTimeoutMs * 1000;
    for (let conn = this.table.oldest(); conn !== undefined && conn.lastSeenUs < idleCutoff; conn = this.table.oldest()) {
      this.counters.sessions_idle_closed++;
      this.closeConnection(conn, nowUs, undefined);
    }
    for (const conn of this.table.values()) {
      const session = conn.session;
      if (session === undefined) continue;
      try {
        session.expire(nowUs, conn.emit ?? this.emitFn);
      } catch (error) {
        this.counters.session_errors++;
        this.onSessionError(`${conn.module?.name} expiring on connection ${String(conn.key)}: ${(error as Error).message}`);
        this.dropSession(conn);
      }
    }
  }

  private orderFor(event: PayloadEvent): { candidates: ProtocolModule[]; hinted: boolean } {
    // Of the protocols here only DNS runs over UDP; other modules never see datagrams, which
    // also keeps a datagram from passing for, say, a run of HTTP/2 frames. Decrypted TLS
    // payload holds no TLS, and HTTP is what HTTPS ports carry.
    const udp = event.transport === 'udp';
    const decrypted = event.decrypted === true;
    let mask = udp ? UDP_ORDER : decrypted ? DECRYPTED_ORDER : 0;
    for (let i = 0; i < this.modules.length; i++) {
      const name = this.modules[i].name;
      if ((udp && name !== 'dns') || (decrypted && name === 'tls')) continue;
      const ports = this.ports[name];
      const tlsPorts = decrypted && (name === 'http1' || name === 'http2') ? this.ports.tls : undefined;
      if (ports.has(event.localPort) || ports.has(event.remotePort) || tlsPorts?.has(event.localPort) || tlsPorts?.has(event.remotePort)) mask |= 1 << i;
    }
    let order = this.orders.get(mask);
    if (order === undefined) {
      const usable = this.modules.filter((m) => (!udp || m.name === 'dns') && (!decrypted || m.name !== 'tls'));
      const hinted = usable.filter((m) => (mask & (1 << this.modules.indexOf(m))) !== 0);
      const rest = usable.filter((m) => (mask & (1 << this.modules.indexOf(m))) === 0);
      order = {
        candidates: this.options.portMode === 'restrict' ? hinted : [...hinted, ...rest],
        hinted: (mask & ~(UDP_ORDER | DECRYPTED_ORDER)) !== 0,
      };
      this.orders.set(mask, order);
    }
    return order;
  }
}
