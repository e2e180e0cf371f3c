/**
 * The connection-tracking state machine on top of ConnTable.
 *
 * Input contract (what the receiver sends, what this makes of it):
 * - `connection.opened`: a TCP connect (outbound) or accept (inbound). Creates the entry and is
 *   passed on. A second open for a live entry with the same socket (or no cookie) is a duplicate
 *   and is dropped; one with a different socket cookie means the old socket's close was missed:
 *   the old entry is closed with reason `unknown` first.
 * - `connection.updated`: cumulative counters of a live connection. Updates (or, for a connection
 *   opened before we started, creates) the entry; passed on with peerProcess filled in.
 * - `connection.closed`: cumulative counters at close. Ends the entry; a new closed event is
 *   emitted with the table's view merged in (start time, peerProcess, counters = max of both).
 *   A close without an open is emitted too (counted `closed_without_open`); a repeated close of
 *   a connection already closed (or evicted / timed out) is dropped (counted `duplicate`/`late`).
 * - `connection.failed`: passed on; ends the entry its connect() may have opened with reason
 *   refused/timeout/reset/unknown so opened and closed stay balanced.
 * - `flow.updated` (UDP, ICMP): an OBSERVATION. By default (flow_counters: cumulative, what
 *   ebpf_network sends) its counts are totals since the flow began and the growth is taken; with
 *   flow_counters: delta they are DELTAS since the receiver's previous event for that flow (per
 *   packet, per call or per report — any grouping works). The table keeps the cumulative totals either way. Input flow events
 *   are absorbed; the table emits cumulative `flow.updated` every flush interval and a final one
 *   when the flow ends (idle timeout, eviction, shutdown, or an input event with final=true).
 * - `icmp`: passed on. Echo requests/replies also build an ICMP flow per echo id (localPort =
 *   echo id, as the kernel's ping sockets use it) — until the receiver sends ICMP flow.updated
 *   events itself; from then on those are the ICMP flows, so nothing is counted twice.
 * - `payload` on TCP: passed on; marks the connection active so long-lived busy connections do
 *   not time out. Everything else passes through untouched.
 *
 * Output: one closed event per observed ENDPOINT (socket). A loopback connection has two
 * endpoints in one network namespace — the client's outbound socket and the server's inbound
 * socket, with mirrored tuples — so it produces two closed events, each with `process` = its own
 * side and `peerProcess` = the other side. Metrics count each endpoint under its own direction.
 */
import type {
  ConnectionClosedEvent,
  ConnectionCounters,
  ConnectionFailedEvent,
  ConnectionOpenedEvent,
  ConnectionUpdatedEvent,
  EventHeader,
  FlowUpdatedEvent,
  IcmpEvent,
  K8sMetadata,
  NetworkEvent,
  PayloadEvent,
  ProcessInfo,
} from '../../core/events';
import type { ComponentTelemetry } from '../../core/telemetry';
import * as codes from './codes';
import type { ConntrackMetrics } from './metrics';
import { AMBIGUOUS_NETNS, StringPool } from './string-pool';
import * as layout from './table';
import { ConnTable } from './table';

// Module-local copies: the CommonJS output tsx/esbuild produce turns every use of an imported
// binding into a getter call, which showed up in the hot path's profile.
const {
  NIL, LIST_TCP, LIST_UDP, LIST_ICMP, LIST_CLOSED, TRANSPORT_TCP, TRANSPORT_UDP, TRANSPORT_ICMP,
  F_STRIDE, F_BYTES_SENT, F_BYTES_RECEIVED, F_PACKETS_SENT, F_PACKETS_RECEIVED, F_RETRANSMITS, F_SRTT_US,
  F_START_US, F_LAST_EVENT_US, F_COOKIE, F_CGROUP, F_PEER_CGROUP,
  I_STRIDE, I_PID, I_TID, I_COMM, I_PEER_PID, I_PEER_TID, I_PEER_COMM, I_SERIES,
  FLAG_SAW_OPEN, FLAG_START_KNOWN, FLAG_HAS_PEER, FLAG_K8S, FLAG_PID_KNOWN,
} = layout;
const {
  CLOSE_REASONS, CLOSE_EVICTED, CLOSE_TIMEOUT, CLOSE_UNKNOWN, DIRECTIONS, NETWORK_TYPES,
  closeReasonCode, closeReasonForFailure, directionCode, failureReasonCode, networkTypeCode,
} = codes;

export interface TrackerOptions {
  /** Live entries (TCP connections + UDP and ICMP flows) before the least recently used is evicted. */
  maxConnections: number;
  connectionTimeoutMs: number;
  udpIdleTimeoutMs: number;
  icmpIdleTimeoutMs: number;
  /** How long a closed connection is remembered (duplicate closes, late events, peer pairing). */
  closedRetentionMs: number;
  /** Most closed connections remembered at once. */
  maxClosed: number;
  /** Minimum age before an entry gets periodic updates; 0 disables them. */
  flushIntervalMs: number;
  emitLifecycleEvents: boolean;
  /** How incoming flow.updated counts are read. */
  flowCounters: 'delta' | 'cumulative';
}

/** Counts kept on the hot path as plain numbers and handed to telemetry once per batch. */
export interface TrackerCounts {
  aggregated: number;
  dropped: number;
}

/** Non-negative finite number or 0: receivers and plugins may send garbage; the table must not. */
function num(x: number): number {
  return x > 0 && x < Infinity ? x : 0;
}

function str(x: string): string {
  return typeof x === 'string' ? x : '';
}

function tuplePorts(h: EventHeader): number {
  return (((h.localPort & 0xffff) << 16) | (h.remotePort & 0xffff)) >>> 0;
}

/** 127.0.0.0/8, ::1 and their v4-mapped forms: the same address in every namespace. */
function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

function mirrorPorts(ports: number): number {
  return (((ports & 0xffff) << 16) | (ports >>> 16)) >>> 0;
}

export class ConnTracker {
  readonly table: ConnTable;
  readonly pool = new StringPool();
  private readonly k8s = new Map<number, K8sMetadata>();
  private metrics: ConntrackMetrics | undefined;
  private nowMs = 0;
  /** Sockets whose connection was touched by a payload record at nowMs. */
  private readonly touchedAtNow = new Set<number>();
  private nowUs = 0;
  /** Set once the receiver reports ICMP flows itself; icmp events then stop building them. */
  private icmpFlowsFromReceiver = false;
  readonly counts: TrackerCounts = { aggregated: 0, dropped: 0 };

  constructor(
    private readonly options: TrackerOptions,
    private readonly telemetry: ComponentTelemetry,
  ) {
    this.table = new ConnTable(options.maxConnections + options.maxClosed);
    for (const name of ['evicted', 'timed_out', 'duplicate', 'late', 'closed_without_open']) telemetry.add(name, 0);
  }

  attachMetrics(metrics: ConntrackMetrics | undefined): void {
    this.metrics = metrics;
  }

  /** The table's clock for the events that follow: read once per batch, not per event. */
  setNow(ms: number): void {
    if (ms !== this.nowMs) this.touchedAtNow.clear();
    this.nowMs = ms;
    this.nowUs = ms * 1000;
  }

  get liveCount(): number {
    return this.table.liveCount;
  }

  /** Handles one input event, pushing what goes downstream onto `out` in order. */
  handle(ev: NetworkEvent, out: NetworkEvent[]): void {
    switch (ev.kind) {
      case 'connection.opened': this.onOpened(ev, out); return;
      case 'connection.closed': this.onClosed(ev, out); return;
      case 'connection.updated': this.onUpdated(ev, out); return;
      case 'connection.failed': this.onFailed(ev, out); return;
      case 'flow.updated': this.onFlow(ev, out); return;
      case 'icmp': out.push(ev); this.onIcmp(ev, out); return;
      case 'payload': out.push(ev); this.onPayload(ev); return;
      default: out.push(ev);
    }
  }

  // ---- TCP --------------------------------------------------------------------------------

  private onOpened(ev: ConnectionOpenedEvent, out: NetworkEvent[]): void {
    const t = this.table;
    let s = this.lookup(ev, tuplePorts(ev), TRANSPORT_TCP);
    if (s !== NIL) {
      if (!t.isLive(s)) {
        // The tuple was used by a connection that has closed since; this is a new one.
        this.releaseSlot(s);
      } else if (this.cookieConflicts(s, ev.socketCookie)) {
        // A new socket on a live tuple: the old socket's close never reached us.
        this.finishTcp(s, CLOSE_UNKNOWN, out, this.nowUs, undefined, false);
      } else {
        this.setProcess(s, ev.process);
        t.touch(s, this.nowMs);
        this.telemetry.add('duplicate');
        this.counts.dropped++;
        return;
      }
    }
    s = this.create(ev, tuplePorts(ev), TRANSPORT_TCP, LIST_TCP, out);
    t.addFlags(s, FLAG_SAW_OPEN | FLAG_START_KNOWN);
    this.linkPeer(s);
    if (this.metrics) this.metrics.opened(t.i32[s * I_STRIDE + I_SERIES]);
    this.forward(ev, out);
  }

  private onUpdated(ev: ConnectionUpdatedEvent, out: NetworkEvent[]): void {
    const t = this.table;
    let s = this.lookup(ev, tuplePorts(ev), TRANSPORT_TCP);
    if (s !== NIL && !t.isLive(s)) {
      if (!this.cookieConflicts(s, ev.socketCookie)) {
        this.telemetry.add('late');
        this.counts.dropped++;
        return;
      }
      this.releaseSlot(s);
      s = NIL;
    }
    if (s !== NIL && this.cookieConflicts(s, ev.socketCookie)) {
      this.finishTcp(s, CLOSE_UNKNOWN, out, this.nowUs, undefined, false);
      s = NIL;
    }
    if (s === NIL) {
      // Opened before we were watching (or after an eviction): track it from here on.
      s = this.create(ev, tuplePorts(ev), TRANSPORT_TCP, LIST_TCP, out);
      this.setStartFromAge(s, ev.timeUs, ev.durationNs);
      this.linkPeer(s);
    } else {
      this.setProcess(s, ev.process);
      t.touch(s, this.nowMs);
    }
    this.mergeTcp(s, ev);
    const f = t.f64;
    if (ev.timeUs > f[s * F_STRIDE + F_LAST_EVENT_US]) f[s * F_STRIDE + F_LAST_EVENT_US] = ev.timeUs;
    if (this.options.emitLifecycleEvents) out.push(this.buildUpdated(s, num(ev.timeUs)));
    else this.counts.dropped++;
  }

  private onClosed(ev: ConnectionClosedEvent, out: NetworkEvent[]): void {
    const t = this.table;
    const reason = closeReasonCode(ev.closeReason);
    let s = this.lookup(ev, tuplePorts(ev), TRANSPORT_TCP);
    if (s !== NIL && !t.isLive(s)) {
      if (!this.cookieConflicts(s, ev.socketCookie)) {
        // Already reported: a repeated close, or the real close of an entry we evicted or timed out.
        const ended = t.reason(s);
        this.telemetry.add(ended === CLOSE_EVICTED || ended === CLOSE_TIMEOUT ? 'late' : 'duplicate');
        this.counts.dropped++;
        return;
      }
      this.releaseSlot(s);
      s = NIL;
    }
    if (s !== NIL && this.cookieConflicts(s, ev.socketCookie)) {
      // An older socket on this tuple closing after a newer one opened (events out of order):
      // report it on its own and leave the newer connection alone.
      this.telemetry.add('closed_without_open');
      this.closeDetached(ev, reason, out);
      return;
    }
    if (s === NIL) {
      this.telemetry.add('closed_without_open');
      s = this.create(ev, tuplePorts(ev), TRANSPORT_TCP, LIST_CLOSED, out);
      this.setStartFromAge(s, ev.timeUs, ev.durationNs);
    } else {
      this.setProcess(s, ev.process);
    }
    this.mergeTcp(s, ev);
    this.finishTcp(s, reason, out, num(ev.timeUs), ev, true);
  }

  private onFailed(ev: ConnectionFailedEvent, out: NetworkEvent[]): void {
    const t = this.table;
    const failure = failureReasonCode(ev.reason);
    const s = this.lookup(ev, tuplePorts(ev), TRANSPORT_TCP);
    const tracked = s !== NIL && t.isLive(s) && !this.cookieConflicts(s, ev.socketCookie);
    if (this.metrics) this.metrics.failed(tracked ? t.i32[s * I_STRIDE + I_SERIES] : this.metrics.seriesFor(ev), failure);
    this.forward(ev, out);
    if (tracked) {
      this.setProcess(s, ev.process);
      this.finishTcp(s, closeReasonForFailure(ev.reason), out, num(ev.timeUs), undefined, true);
    }
  }

  private onPayload(ev: PayloadEvent): void {
    if (ev.transport !== 'tcp') return;
    // A busy connection sends many payload records within one millisecond: one touch will do.
    const cookie = ev.socketCookie;
    if (cookie !== 0) {
      if (this.touchedAtNow.has(cookie)) return;
      this.touchedAtNow.add(cookie);
    }
    const s = this.lookup(ev, tuplePorts(ev), TRANSPORT_TCP);
    if (s !== NIL && this.table.isLive(s)) this.table.touch(s, this.nowMs);
  }

  /** Counters in TCP events are cumulative (read from tcp_sock): keep the highest, count the growth. */
  private mergeTcp(s: number, c: ConnectionCounters): void {
    const f = this.table.f64;
    const o = s * F_STRIDE;
    const sent = num(c.bytesSent) - f[o + F_BYTES_SENT];
    const received = num(c.bytesReceived) - f[o + F_BYTES_RECEIVED];
    const segSent = num(c.segmentsSent) - f[o + F_PACKETS_SENT];
    const segReceived = num(c.segmentsReceived) - f[o + F_PACKETS_RECEIVED];
    const retransmits = num(c.retransmits) - f[o + F_RETRANSMITS];
    if (sent > 0) f[o + F_BYTES_SENT] += sent;
    if (received > 0) f[o + F_BYTES_RECEIVED] += received;
    if (segSent > 0) f[o + F_PACKETS_SENT] += segSent;
    if (segReceived > 0) f[o + F_PACKETS_RECEIVED] += segReceived;
    if (retransmits > 0) f[o + F_RETRANSMITS] += retransmits;
    if (c.srttUs > 0) f[o + F_SRTT_US] = num(c.srttUs);
    const metrics = this.metrics;
    if (metrics) {
      const series = this.table.i32[s * I_STRIDE + I_SERIES];
      if (sent > 0 || received > 0 || segSent > 0 || segReceived > 0) {
        metrics.io(series, sent > 0 ? sent : 0, received > 0 ? received : 0, segSent > 0 ? segSent : 0, segReceived > 0 ? segReceived : 0);
      }
      if (retransmits > 0) metrics.retransmits(series, retransmits);
    }
  }

  /**
   * Ends a TCP entry: emits its closed event and records close metrics, then keeps it as a
   * tombstone for closed_retention (keep = true) or frees it.
   */
  private finishTcp(s: number, reason: number, out: NetworkEvent[], atUs: number, ev: ConnectionClosedEvent | undefined, keep: boolean): void {
    const t = this.table;
    this.linkPeer(s);
    const f = t.f64;
    const o = s * F_STRIDE;
    const known = (t.flags(s) & FLAG_START_KNOWN) !== 0;
    const durationNs = ev && ev.durationNs > 0 ? num(ev.durationNs) : known ? Math.max(0, atUs - f[o + F_START_US]) * 1000 : -1;
    if (this.metrics) {
      this.metrics.closed(t.i32[s * I_STRIDE + I_SERIES], reason, durationNs >= 0 ? durationNs / 1e9 : -1, f[o + F_SRTT_US] / 1e6);
    }
    if (this.options.emitLifecycleEvents) out.push(this.buildClosed(s, reason, atUs, durationNs > 0 ? durationNs : 0, ev));
    else if (ev) this.counts.dropped++;
    if (!keep) {
      this.releaseSlot(s);
      return;
    }
    t.setReason(s, reason);
    // A slot created as a tombstone (close without open) is already at the CLOSED tail.
    if (t.list(s) !== LIST_CLOSED) {
      this.makeRoomClosed();
      t.moveTo(s, LIST_CLOSED, this.nowMs);
    }
  }

  /** A close that cannot own a table slot (its tuple belongs to a newer socket). */
  private closeDetached(ev: ConnectionClosedEvent, reason: number, out: NetworkEvent[]): void {
    const metrics = this.metrics;
    if (metrics) {
      const series = metrics.seriesFor(ev);
      metrics.io(series, num(ev.bytesSent), num(ev.bytesReceived), num(ev.segmentsSent), num(ev.segmentsReceived));
      if (ev.retransmits > 0) metrics.retransmits(series, num(ev.retransmits));
      metrics.closed(series, reason, ev.durationNs > 0 ? ev.durationNs / 1e9 : -1, num(ev.srttUs) / 1e6);
    }
    if (!this.options.emitLifecycleEvents) {
      this.counts.dropped++;
      return;
    }
    const m = this.findMirror(ev, TRANSPORT_TCP);
    out.push(m !== NIL && this.table.i32[m * I_STRIDE + I_PID] > 0 ? { ...ev, peerProcess: this.processOf(m) } : ev);
  }

  // ---- UDP and ICMP flows ------------------------------------------------------------------

  private onFlow(ev: FlowUpdatedEvent, out: NetworkEvent[]): void {
    const t = this.table;
    const icmp = ev.transport === 'icmp';
    if (icmp) this.icmpFlowsFromReceiver = true;
    const transport = icmp ? TRANSPORT_ICMP : TRANSPORT_UDP;
    const ports = tuplePorts(ev);
    let s = this.lookup(ev, ports, transport);
    if (s === NIL) {
      s = this.create(ev, ports, transport, icmp ? LIST_ICMP : LIST_UDP, out);
      this.setStartFromAge(s, ev.timeUs, ev.durationNs);
      if (!icmp) this.linkPeer(s);
    } else {
      this.setProcess(s, ev.process);
      t.touch(s, this.nowMs);
    }
    const f = t.f64;
    const o = s * F_STRIDE;
    let sent = num(ev.bytesSent);
    let received = num(ev.bytesReceived);
    let packetsSent = num(ev.packetsSent);
    let packetsReceived = num(ev.packetsReceived);
    if (this.options.flowCounters === 'cumulative') {
      // Totals: take the growth. A total below ours (the receiver restarted the flow) adds nothing
      // until it passes what we have, so nothing is counted twice.
      sent = Math.max(0, sent - f[o + F_BYTES_SENT]);
      received = Math.max(0, received - f[o + F_BYTES_RECEIVED]);
      packetsSent = Math.max(0, packetsSent - f[o + F_PACKETS_SENT]);
      packetsReceived = Math.max(0, packetsReceived - f[o + F_PACKETS_RECEIVED]);
    }
    f[o + F_BYTES_SENT] += sent;
    f[o + F_BYTES_RECEIVED] += received;
    f[o + F_PACKETS_SENT] += packetsSent;
    f[o + F_PACKETS_RECEIVED] += packetsReceived;
    if (ev.timeUs > f[o + F_LAST_EVENT_US]) f[o + F_LAST_EVENT_US] = ev.timeUs;
    if (this.metrics) this.metrics.io(t.i32[s * I_STRIDE + I_SERIES], sent, received, packetsSent, packetsReceived);
    this.counts.aggregated++;
    if (ev.final === true) this.finishFlow(s, out, num(ev.timeUs));
  }

  private onIcmp(ev: IcmpEvent, out: NetworkEvent[]): void {
    const type = ev.icmpType;
    const isRequest = type === 8 || type === 128;
    if (this.icmpFlowsFromReceiver || !(isRequest || type === 0 || type === 129) || !(ev.echoId! >= 0)) return;
    const t = this.table;
    const ports = ((ev.echoId! & 0xffff) << 16) >>> 0;
    let s = this.lookup(ev, ports, TRANSPORT_ICMP);
    if (s === NIL) {
      s = this.create(ev, ports, TRANSPORT_ICMP, LIST_ICMP, out);
      t.addFlags(s, FLAG_START_KNOWN);
    } else {
      t.touch(s, this.nowMs);
    }
    // `direction` says who started the exchange: a request we send or a reply we receive
    // belongs to an outbound ping; an inbound ping is a request received and a reply sent.
    const sent = isRequest !== (ev.direction === 'inbound');
    const bytes = num(ev.bytes);
    const f = t.f64;
    const o = s * F_STRIDE;
    if (sent) {
      f[o + F_BYTES_SENT] += bytes;
      f[o + F_PACKETS_SENT]++;
    } else {
      f[o + F_BYTES_RECEIVED] += bytes;
      f[o + F_PACKETS_RECEIVED]++;
    }
    if (ev.timeUs > f[o + F_LAST_EVENT_US]) f[o + F_LAST_EVENT_US] = ev.timeUs;
    if (this.metrics) this.metrics.io(t.i32[s * I_STRIDE + I_SERIES], sent ? bytes : 0, sent ? 0 : bytes, sent ? 1 : 0, sent ? 0 : 1);
  }

  /** Emits a flow's final cumulative update and frees it. */
  private finishFlow(s: number, out: NetworkEvent[], atUs: number): void {
    if (this.table.transport(s) === TRANSPORT_UDP) this.linkPeer(s);
    if (this.options.emitLifecycleEvents) out.push(this.buildFlow(s, atUs, true));
    this.releaseSlot(s);
  }

  // ---- timers -------------------------------------------------------------------------------

  /**
   * Expires idle entries and old tombstones (the cleanup_interval timer). Live lists are not in
   * last-activity order (touches do not reorder them), so each is scanned whole: 65,536 entries
   * take about a millisecond, once per cleanup interval. Tombstones are in close order.
   */
  sweep(out: NetworkEvent[]): void {
    const t = this.table;
    const now = this.nowMs;
    const o = this.options;
    for (let list = LIST_TCP; list <= LIST_ICMP; list++) {
      const timeout = list === LIST_TCP ? o.connectionTimeoutMs : list === LIST_UDP ? o.udpIdleTimeoutMs : o.icmpIdleTimeoutMs;
      let s = t.heads[list];
      while (s !== NIL) {
        const following = t.next(s);
        const lastSeen = t.lastSeenMs(s);
        if (now - lastSeen >= timeout) {
          this.telemetry.add('timed_out');
          if (list === LIST_TCP) this.finishTcp(s, CLOSE_TIMEOUT, out, lastSeen * 1000, undefined, true);
          else this.finishFlow(s, out, this.nowUs);
        }
        s = following;
      }
    }
    let s: number;
    while ((s = t.heads[LIST_CLOSED]) !== NIL && now - t.lastSeenMs(s) >= o.closedRetentionMs) this.releaseSlot(s);
  }

  /**
   * Periodic updates (the flush_interval timer): every live entry at least one interval old gets
   * one, NetFlow "active timeout" style, so long-lived connections show up before they close. A
   * connection whose own connection.updated came in (and went on) within the interval, as the
   * ebpf_network receiver's live scan sends them, is skipped: it would be the same news twice.
   */
  flush(out: NetworkEvent[]): void {
    if (!this.options.emitLifecycleEvents || this.options.flushIntervalMs <= 0) return;
    const t = this.table;
    const oldestStartUs = this.nowUs - this.options.flushIntervalMs * 1000;
    for (let list = LIST_TCP; list <= LIST_ICMP; list++) {
      for (let s = t.heads[list]; s !== NIL; s = t.next(s)) {
        if (t.f64[s * F_STRIDE + F_START_US] > oldestStartUs) continue;
        if (list === LIST_TCP && t.f64[s * F_STRIDE + F_LAST_EVENT_US] > oldestStartUs) continue;
        if (list !== LIST_ICMP) this.linkPeer(s);
        out.push(list === LIST_TCP ? this.buildUpdated(s, this.nowUs) : this.buildFlow(s, this.nowUs, false));
      }
    }
  }

  /**
   * Shutdown: flows get their final update, open connections a last `connection.updated` (they
   * did not close; we stopped watching), then the table is emptied.
   */
  drain(out: NetworkEvent[]): void {
    const t = this.table;
    const emit = this.options.emitLifecycleEvents;
    let s: number;
    while ((s = t.heads[LIST_TCP]) !== NIL) {
      if (emit) {
        this.linkPeer(s);
        out.push(this.buildUpdated(s, this.nowUs));
      }
      this.releaseSlot(s);
    }
    while ((s = t.heads[LIST_UDP]) !== NIL) this.finishFlow(s, out, this.nowUs);
    while ((s = t.heads[LIST_ICMP]) !== NIL) this.finishFlow(s, out, this.nowUs);
    while ((s = t.heads[LIST_CLOSED]) !== NIL) this.releaseSlot(s);
  }

  // ---- table helpers ------------------------------------------------------------------------

  private lookup(h: EventHeader, ports: number, transport: number): number {
    const local = this.pool.find(str(h.localAddress));
    if (local < 0) return NIL;
    const remote = this.pool.find(str(h.remoteAddress));
    if (remote < 0) return NIL;
    return this.table.find(h.netnsId >>> 0, local, remote, ports, transport);
  }

  /** The other endpoint of the same connection on this host: mirrored tuple. */
  private findMirror(h: EventHeader, transport: number): number {
    const local = this.pool.find(str(h.localAddress));
    const remote = this.pool.find(str(h.remoteAddress));
    if (local < 0 || remote < 0) return NIL;
    return this.mirrorOf(h.netnsId >>> 0, local, remote, mirrorPorts(tuplePorts(h)), transport);
  }

  /**
   * The entry with the mirrored tuple: in the same namespace (loopback, same-namespace traffic),
   * else in the namespace where the remote address is local — the other pod, when two pods on
   * this host talk pod IP to pod IP over their veths. Loopback addresses exist in every
   * namespace, so they are paired only within one; so is an address local in several.
   */
  private mirrorOf(netns: number, local: number, remote: number, mirrored: number, transport: number): number {
    const pool = this.pool;
    if (!pool.usedAsLocal(remote)) return NIL;
    const m = this.table.find(netns, remote, local, mirrored, transport);
    if (m !== NIL) return m;
    const other = pool.localNetnsOf(remote);
    if (other === netns || isLoopback(pool.value(remote))) return NIL;
    // Overlapping private networks: an address local in several namespaces pairs with nothing there.
    if (other === AMBIGUOUS_NETNS || pool.localNetnsOf(local) === AMBIGUOUS_NETNS) return NIL;
    return this.table.find(other, remote, local, mirrored, transport);
  }

  /**
   * Pairs a slot with its mirror (the other endpoint of a connection on this host: loopback,
   * same namespace, or pod to pod; see mirrorOf), copying each side's process into the other's
   * peer fields. Called whenever an
   * endpoint appears or reports, so whichever side arrives second completes the pair, and a
   * side that closes first leaves its process behind in the survivor.
   */
  private linkPeer(s: number): void {
    const t = this.table;
    const m = this.mirrorOf(t.netns(s), t.localId(s), t.remoteId(s), mirrorPorts(t.ports(s)), t.transport(s));
    if (m === NIL || m === s) return;
    this.copyPeer(s, m);
    if (t.isLive(m)) this.copyPeer(m, s);
  }

  private copyPeer(dst: number, src: number): void {
    const t = this.table;
    const i32 = t.i32;
    const d = dst * I_STRIDE;
    const r = src * I_STRIDE;
    if (i32[r + I_PID] === 0) return;
    i32[d + I_PEER_PID] = i32[r + I_PID];
    i32[d + I_PEER_TID] = i32[r + I_TID];
    t.f64[dst * F_STRIDE + F_PEER_CGROUP] = t.f64[src * F_STRIDE + F_CGROUP];
    const comm = i32[r + I_COMM];
    const old = i32[d + I_PEER_COMM];
    if (comm !== old) {
      if (comm !== NIL) this.pool.retain(comm);
      if (old !== NIL) this.pool.release(old);
      i32[d + I_PEER_COMM] = comm;
    }
    t.addFlags(dst, FLAG_HAS_PEER);
  }

  private create(h: EventHeader, ports: number, transport: number, list: number, out: NetworkEvent[]): number {
    if (list === LIST_CLOSED) this.makeRoomClosed();
    else while (this.table.liveCount >= this.options.maxConnections) this.evictOldest(out);
    const t = this.table;
    const local = this.pool.acquire(str(h.localAddress));
    this.pool.addLocalUse(local, 1, h.netnsId >>> 0);
    const remote = this.pool.acquire(str(h.remoteAddress));
    const s = t.insert(h.netnsId >>> 0, local, remote, ports, transport, list, this.nowMs);
    t.setNetworkTypeAndDirection(s, networkTypeCode(h.networkType), directionCode(h.direction));
    const f = t.f64;
    const o = s * F_STRIDE;
    f[o + F_COOKIE] = num(h.socketCookie);
    f[o + F_START_US] = num(h.timeUs);
    f[o + F_LAST_EVENT_US] = num(h.timeUs);
    this.setProcess(s, h.process);
    if (h.k8s) {
      this.k8s.set(s, h.k8s);
      t.addFlags(s, FLAG_K8S);
    }
    if (this.metrics) t.i32[s * I_STRIDE + I_SERIES] = this.metrics.seriesFor(h);
    return s;
  }

  /** The receiver may tell an entry's age (durationNs) when we first hear of it mid-life. */
  private setStartFromAge(s: number, timeUs: number, durationNs: number): void {
    if (durationNs > 0 && durationNs < Infinity) {
      this.table.f64[s * F_STRIDE + F_START_US] = Math.max(0, num(timeUs) - durationNs / 1000);
      this.table.addFlags(s, FLAG_START_KNOWN);
    }
  }

  /** Fills in the owning process when the slot does not know it yet (pid 0 = softirq context). */
  private setProcess(s: number, p: ProcessInfo | undefined): void {
    const t = this.table;
    if ((t.flags(s) & FLAG_PID_KNOWN) !== 0 || !p || !(p.pid > 0)) return;
    const i = s * I_STRIDE;
    t.addFlags(s, FLAG_PID_KNOWN);
    t.i32[i + I_PID] = p.pid;
    t.i32[i + I_TID] = num(p.tid);
    t.f64[s * F_STRIDE + F_CGROUP] = num(p.cgroupId);
    if (typeof p.comm === 'string' && p.comm.length > 0) {
      const old = t.i32[i + I_COMM];
      t.i32[i + I_COMM] = this.pool.acquire(p.comm);
      if (old !== NIL) this.pool.release(old);
    }
  }

  private cookieConflicts(s: number, cookie: number): boolean {
    const known = this.table.f64[s * F_STRIDE + F_COOKIE];
    return cookie > 0 && known > 0 && cookie !== known;
  }

  /** Evicts the least recently used live entry: the stalest of the three lists' candidates. */
  private evictOldest(out: NetworkEvent[]): void {
    const t = this.table;
    let victim = NIL;
    for (let list = LIST_TCP; list <= LIST_ICMP; list++) {
      const candidate = t.evictionCandidate(list);
      if (candidate !== NIL && (victim === NIL || t.lastSeenMs(candidate) < t.lastSeenMs(victim))) victim = candidate;
    }
    if (victim === NIL) throw new Error('connection table is full but has no live entry to evict');
    this.telemetry.add('evicted');
    if (t.transport(victim) === TRANSPORT_TCP) this.finishTcp(victim, CLOSE_EVICTED, out, this.nowUs, undefined, true);
    else this.finishFlow(victim, out, this.nowUs);
  }

  private makeRoomClosed(): void {
    const t = this.table;
    while (t.counts[LIST_CLOSED] >= this.options.maxClosed && t.heads[LIST_CLOSED] !== NIL) this.releaseSlot(t.heads[LIST_CLOSED]);
  }

  private releaseSlot(s: number): void {
    const t = this.table;
    const i32 = t.i32;
    const i = s * I_STRIDE;
    this.pool.addLocalUse(t.localId(s), -1);
    this.pool.release(t.localId(s));
    this.pool.release(t.remoteId(s));
    if (i32[i + I_COMM] !== NIL) this.pool.release(i32[i + I_COMM]);
    if (i32[i + I_PEER_COMM] !== NIL) this.pool.release(i32[i + I_PEER_COMM]);
    if (t.flags(s) & FLAG_K8S) this.k8s.delete(s);
    t.remove(s);
  }

  private forward(ev: NetworkEvent, out: NetworkEvent[]): void {
    if (this.options.emitLifecycleEvents) out.push(ev);
    else this.counts.dropped++;
  }

  // ---- output events ------------------------------------------------------------------------
  // Written as full object literals: on V8 an object spread followed by more properties
  // (`{ ...header, kind, ... }`) measured about 100 times slower than a literal.

  private processOf(s: number): ProcessInfo {
    const i32 = this.table.i32;
    const i = s * I_STRIDE;
    const comm = i32[i + I_COMM];
    return { pid: i32[i + I_PID], tid: i32[i + I_TID], comm: comm === NIL ? '' : this.pool.value(comm), cgroupId: this.table.f64[s * F_STRIDE + F_CGROUP] };
  }

  private peerOf(s: number): ProcessInfo | undefined {
    if ((this.table.flags(s) & FLAG_HAS_PEER) === 0) return undefined;
    const i32 = this.table.i32;
    const i = s * I_STRIDE;
    const comm = i32[i + I_PEER_COMM];
    return { pid: i32[i + I_PEER_PID], tid: i32[i + I_PEER_TID], comm: comm === NIL ? '' : this.pool.value(comm), cgroupId: this.table.f64[s * F_STRIDE + F_PEER_CGROUP] };
  }

  private k8sOf(s: number): K8sMetadata | undefined {
    return (this.table.flags(s) & FLAG_K8S) !== 0 ? this.k8s.get(s) : undefined;
  }

  private buildClosed(s: number, reason: number, atUs: number, durationNs: number, ev: ConnectionClosedEvent | undefined): ConnectionClosedEvent {
    const t = this.table;
    const f = t.f64;
    const o = s * F_STRIDE;
    const ports = t.ports(s);
    return {
      kind: 'connection.closed',
      timeUs: atUs,
      process: ev && ev.process && ev.process.pid > 0 ? ev.process : this.processOf(s),
      transport: 'tcp',
      networkType: NETWORK_TYPES[t.networkType(s)],
      localAddress: this.pool.value(t.localId(s)),
      localPort: ports >>> 16,
      remoteAddress: this.pool.value(t.remoteId(s)),
      remotePort: ports & 0xffff,
      direction: DIRECTIONS[t.direction(s)],
      socketCookie: f[o + F_COOKIE],
      netnsId: t.netns(s),
      k8s: this.k8sOf(s),
      bytesSent: f[o + F_BYTES_SENT],
      bytesReceived: f[o + F_BYTES_RECEIVED],
      segmentsSent: f[o + F_PACKETS_SENT],
      segmentsReceived: f[o + F_PACKETS_RECEIVED],
      srttUs: f[o + F_SRTT_US],
      retransmits: f[o + F_RETRANSMITS],
      durationNs,
      closeReason: CLOSE_REASONS[reason],
      peerProcess: this.peerOf(s),
      sampleRatio: ev ? ev.sampleRatio : undefined,
    };
  }

  private buildUpdated(s: number, atUs: number): ConnectionUpdatedEvent {
    const t = this.table;
    const f = t.f64;
    const o = s * F_STRIDE;
    const ports = t.ports(s);
    return {
      kind: 'connection.updated',
      timeUs: atUs,
      process: this.processOf(s),
      transport: 'tcp',
      networkType: NETWORK_TYPES[t.networkType(s)],
      localAddress: this.pool.value(t.localId(s)),
      localPort: ports >>> 16,
      remoteAddress: this.pool.value(t.remoteId(s)),
      remotePort: ports & 0xffff,
      direction: DIRECTIONS[t.direction(s)],
      socketCookie: f[o + F_COOKIE],
      netnsId: t.netns(s),
      k8s: this.k8sOf(s),
      bytesSent: f[o + F_BYTES_SENT],
      bytesReceived: f[o + F_BYTES_RECEIVED],
      segmentsSent: f[o + F_PACKETS_SENT],
      segmentsReceived: f[o + F_PACKETS_RECEIVED],
      srttUs: f[o + F_SRTT_US],
      retransmits: f[o + F_RETRANSMITS],
      durationNs: Math.max(0, atUs - f[o + F_START_US]) * 1000,
      peerProcess: this.peerOf(s),
    };
  }

  private buildFlow(s: number, atUs: number, final: boolean): FlowUpdatedEvent {
    const t = this.table;
    const f = t.f64;
    const o = s * F_STRIDE;
    const ports = t.ports(s);
    return {
      kind: 'flow.updated',
      timeUs: atUs,
      process: this.processOf(s),
      transport: t.transport(s) === TRANSPORT_ICMP ? 'icmp' : 'udp',
      networkType: NETWORK_TYPES[t.networkType(s)],
      localAddress: this.pool.value(t.localId(s)),
      localPort: ports >>> 16,
      remoteAddress: this.pool.value(t.remoteId(s)),
      remotePort: ports & 0xffff,
      direction: DIRECTIONS[t.direction(s)],
      socketCookie: f[o + F_COOKIE],
      netnsId: t.netns(s),
      k8s: this.k8sOf(s),
      bytesSent: f[o + F_BYTES_SENT],
      bytesReceived: f[o + F_BYTES_RECEIVED],
      packetsSent: f[o + F_PACKETS_SENT],
      packetsReceived: f[o + F_PACKETS_RECEIVED],
      durationNs: Math.max(0, f[o + F_LAST_EVENT_US] - f[o + F_START_US]) * 1000,
      final,
      peerProcess: this.peerOf(s),
    };
  }
}
