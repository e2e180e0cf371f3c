import assert from 'node:assert/strict';
import type {
  ConnectionClosedEvent, ConnectionFailedEvent, ConnectionOpenedEvent, ConnectionUpdatedEvent, FlowUpdatedEvent, IcmpEvent, NetworkEvent, PayloadEvent,
} from '../../../core/events';
import { EventDecoder } from '../../../receivers/ebpf_network/decoder';
import { FlowTable } from '../../../receivers/ebpf_network/flows';
import { RecordType, STRUCTS, h1ResponseOffset } from '../../../receivers/ebpf_network/layout';
import { buildRecord, type RecordSpec } from './records';

const clock = { toEpochUs: (ns: number) => 1_700_000_000_000_000 + Math.round(ns / 1000) };
const LOOP4 = [127, 0, 0, 1];
const LOOP6 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

function setup() {
  const events: NetworkEvent[] = [];
  const flows = new FlowTable(100, 60e9, (ns) => clock.toEpochUs(ns));
  const decoder = new EventDecoder(clock, flows, (e) => events.push(e));
  const feed = (spec: RecordSpec) => {
    // Place the record at an odd 8-byte offset of a larger buffer, as in the ring.
    const rec = buildRecord(spec);
    const ring = new Uint8Array(rec.length + 64);
    ring.set(rec, 40);
    decoder.record(new DataView(ring.buffer), ring, 40, rec.length);
  };
  return { events, flows, decoder, feed };
}

const C = STRUCTS.ne_tcp_close.fields;

describe('ebpf_network decoder', () => {
  it('decodes a TCP open with process, tuple, direction, cookie and wall-clock time', () => {
    const { events, feed } = setup();
    feed({
      type: RecordType.TCP_OPEN, size: 96, tsNs: 5_000_000_123, cookie: 2 ** 40 + 7, cgroupId: 4242, pid: 77, tid: 78,
      netns: 4026531840, comm: 'curl', laddr: LOOP4, raddr: [10, 1, 2, 3], lport: 40000, rport: 443, direction: 2,
    });
    const e = events[0] as ConnectionOpenedEvent;
    assert.equal(e.kind, 'connection.opened');
    assert.equal(e.timeUs, 1_700_000_000_000_000 + 5_000_000);
    assert.deepEqual(e.process, { pid: 77, tid: 78, comm: 'curl', cgroupId: 4242 });
    assert.equal(e.socketCookie, 2 ** 40 + 7);
    assert.equal(e.netnsId, 4026531840);
    assert.equal(e.localAddress, '127.0.0.1');
    assert.equal(e.remoteAddress, '10.1.2.3');
    assert.equal(e.localPort, 40000);
    assert.equal(e.remotePort, 443);
    assert.equal(e.direction, 'outbound');
    assert.equal(e.networkType, 'ipv4');
    assert.equal(e.transport, 'tcp');
  });

  it('decodes a TCP close with counters beyond 2^32 and the close reason', () => {
    const { events, feed } = setup();
    feed({
      type: RecordType.TCP_CLOSE, size: 144, family: 6, laddr: LOOP6, raddr: LOOP6, direction: 1, pid: 9, comm: 'srv',
      fields: [
        [C.duration_ns, 8, 1_500_000], [C.bytes_sent, 8, 5 * 2 ** 32 + 3], [C.bytes_received, 8, 1234],
        [C.segs_out, 4, 10], [C.segs_in, 4, 11], [C.srtt_us, 4, 55], [C.retransmits, 4, 2], [C.reason, 1, 2],
      ],
    });
    const e = events[0] as ConnectionClosedEvent;
    assert.equal(e.kind, 'connection.closed');
    assert.equal(e.networkType, 'ipv6');
    assert.equal(e.localAddress, '::1');
    assert.equal(e.direction, 'inbound');
    assert.equal(e.durationNs, 1_500_000);
    assert.equal(e.bytesSent, 5 * 2 ** 32 + 3);
    assert.equal(e.bytesReceived, 1234);
    assert.equal(e.segmentsSent, 10);
    assert.equal(e.segmentsReceived, 11);
    assert.equal(e.srttUs, 55);
    assert.equal(e.retransmits, 2);
    assert.equal(e.closeReason, 'reset');
  });

  it('decodes a live-scan record (close layout) into a connection.updated with the counters so far', () => {
    const { events, feed } = setup();
    feed({
      type: RecordType.TCP_LIVE, size: 144, family: 4, laddr: LOOP4, raddr: LOOP4, lport: 40000, rport: 443, direction: 2,
      pid: 9, comm: 'client', cookie: 77,
      fields: [[C.duration_ns, 8, 7e9], [C.bytes_sent, 8, 1234], [C.bytes_received, 8, 99], [C.segs_out, 4, 3], [C.srtt_us, 4, 40], [C.old_state, 1, 1]],
    });
    const e = events[0] as ConnectionUpdatedEvent;
    assert.equal(e.kind, 'connection.updated');
    assert.equal(e.transport, 'tcp');
    assert.equal(e.direction, 'outbound');
    assert.equal(e.socketCookie, 77);
    assert.equal(e.process.comm, 'client');
    assert.deepEqual([e.localPort, e.remotePort, e.durationNs, e.bytesSent, e.bytesReceived, e.segmentsSent, e.srttUs], [40000, 443, 7e9, 1234, 99, 3, 40]);
    assert.equal('closeReason' in e, false);
  });

  it('puts the HTTP/1 exchanges a close or live record counted before its connection event, as a count of its socket', () => {
    const { events, feed } = setup();
    const common = { size: 144, family: 4 as const, laddr: LOOP4, raddr: LOOP4, lport: 8080, rport: 40000, direction: 1, pid: 9, comm: 'nginx', cookie: 77 };
    feed({ ...common, type: RecordType.TCP_LIVE, fields: [[C.h1_exchanges, 4, 17]] });
    feed({ ...common, type: RecordType.TCP_CLOSE, fields: [[C.h1_exchanges, 4, 63], [C.reason, 1, 1]] });
    feed({ ...common, type: RecordType.TCP_CLOSE, cookie: 78, fields: [[C.reason, 1, 1]] }); // none counted: no count event
    assert.deepEqual(
      events.map((e) => [e.kind, e.socketCookie, e.kind === 'payload' ? e.h1Exchanges : undefined]),
      [['payload', 77, 17], ['connection.updated', 77, undefined], ['payload', 77, 63], ['connection.closed', 77, undefined], ['connection.closed', 78, undefined]],
    );
    const count = events[0] as PayloadEvent;
    assert.deepEqual([count.localPort, count.remotePort, count.direction, count.process.pid, count.data.length, count.originalLength], [8080, 40000, 'inbound', 9, 0, 0]);
  });

  it('decodes 64-bit fields between 2^31 and 2^32 and just above 2^32 exactly', () => {
    const { events, feed } = setup();
    feed({
      type: RecordType.TCP_CLOSE, size: 144, cookie: 2 ** 31 + 5, pid: 9, comm: 'srv',
      fields: [[C.duration_ns, 8, 2 ** 32 - 1], [C.bytes_sent, 8, 2 ** 32], [C.bytes_received, 8, 3_000_000_000]],
    });
    const e = events[0] as ConnectionClosedEvent;
    assert.equal(e.socketCookie, 2 ** 31 + 5);
    assert.equal(e.durationNs, 2 ** 32 - 1);
    assert.equal(e.bytesSent, 2 ** 32);
    assert.equal(e.bytesReceived, 3_000_000_000);
  });

  it('shares one frozen process object per thread identity and builds a new one when any part changes', () => {
    const { events, feed } = setup();
    const rec = (pid: number, tid: number, comm: string, cgroupId: number) =>
      feed({ type: RecordType.TCP_OPEN, size: 96, pid, tid, comm, cgroupId, laddr: LOOP4, raddr: LOOP4 });
    rec(10, 11, 'curl', 7);
    rec(10, 11, 'curl', 7);
    rec(10, 12, 'curl', 7); // another thread
    rec(10, 11, 'curl', 7); // back to the first: still cached
    rec(10, 11, 'wget', 7); // exec changed the name
    rec(10, 11, 'wget', 8); // moved to another cgroup
    rec(20, 11, 'wget', 8); // tid reused by another process
    rec(0, 11, 'wget', 8); // kernel context: no comm
    const p = events.map((e) => (e as ConnectionOpenedEvent).process);
    assert.equal(p[0], p[1]);
    assert.equal(p[0], p[3]);
    assert.notEqual(p[0], p[2]);
    assert.deepEqual(p[2], { pid: 10, tid: 12, comm: 'curl', cgroupId: 7 });
    assert.deepEqual(p[4], { pid: 10, tid: 11, comm: 'wget', cgroupId: 7 });
    assert.deepEqual(p[5], { pid: 10, tid: 11, comm: 'wget', cgroupId: 8 });
    assert.deepEqual(p[6], { pid: 20, tid: 11, comm: 'wget', cgroupId: 8 });
    assert.deepEqual(p[7], { pid: 0, tid: 11, comm: '', cgroupId: 8 });
    assert.deepEqual(p[0], { pid: 10, tid: 11, comm: 'curl', cgroupId: 7 });
    assert.ok(Object.isFrozen(p[0]), 'shared between events, so it must not be modifiable through one of them');
  });

  it('maps connect errors to reasons', () => {
    const { events, feed } = setup();
    for (const errno of [111, 110, 104, 113, 0]) {
      feed({ type: RecordType.TCP_FAIL, size: 104, direction: 2, fields: [[STRUCTS.ne_tcp_fail.fields.error, 4, errno]] });
    }
    assert.deepEqual(
      events.map((e) => [(e as ConnectionFailedEvent).reason, (e as ConnectionFailedEvent).errorName]),
      [['refused', 'ECONNREFUSED'], ['timeout', 'ETIMEDOUT'], ['reset', 'ECONNRESET'], ['unreachable', 'EHOSTUNREACH'], ['unknown', undefined]],
    );
  });

  it('decodes ICMP with names, echo id/sequence, and counts it in an ICMP flow', () => {
    const { events, feed, flows } = setup();
    const I = STRUCTS.ne_icmp.fields;
    feed({ type: RecordType.ICMP, size: 112, proto: 1, direction: 2, pid: 5, comm: 'ping', laddr: LOOP4, raddr: LOOP4, cookie: 3,
      fields: [[I.icmp_type, 1, 8], [I.echo_id, 2, 4660], [I.echo_seq, 2, 1], [I.bytes, 4, 64]] });
    feed({ type: RecordType.ICMP, size: 112, proto: 1, direction: 2, laddr: LOOP4, raddr: LOOP4,
      fields: [[I.icmp_type, 1, 3], [I.icmp_code, 1, 3], [I.bytes, 4, 36]] });
    feed({ type: RecordType.ICMP, size: 112, family: 6, proto: 58, direction: 1, laddr: LOOP6, raddr: LOOP6,
      fields: [[I.icmp_type, 1, 129], [I.echo_seq, 2, 9], [I.bytes, 4, 64]] });
    const icmp = events.filter((e): e is IcmpEvent => e.kind === 'icmp');
    assert.equal(icmp[0].icmpName, 'echo-request');
    assert.equal(icmp[0].echoId, 4660);
    assert.equal(icmp[0].echoSequence, 1);
    assert.equal(icmp[0].bytes, 64);
    assert.equal(icmp[1].icmpName, 'port-unreachable');
    assert.equal(icmp[1].echoId, undefined);
    assert.equal(icmp[2].icmpName, 'echo-reply');
    assert.equal(icmp[2].networkType, 'ipv6');
    assert.equal(flows.size, 3);
  });

  it('aggregates UDP datagrams into flows and attributes flows seen before their owner', () => {
    const { events, feed, flows } = setup();
    const U = STRUCTS.ne_udp_pkt.fields;
    const pkt = (dir: number, bytes: number, tsNs: number, pid = 0) =>
      feed({ type: RecordType.UDP_PKT, size: 104, proto: 17, cookie: 99, direction: dir, laddr: LOOP4, raddr: LOOP4, lport: 5353,
        rport: 40000, tsNs, pid, comm: pid ? 'dnsd' : '', fields: [[U.bytes, 4, bytes]] });
    pkt(1, 40, 1000);
    pkt(2, 120, 2000);
    feed({ type: RecordType.SOCK_OWNER, size: 56, cookie: 99, pid: 31, tid: 31, comm: 'dnsd', cgroupId: 7 });
    pkt(1, 41, 3000);
    assert.equal(events.length, 0, 'packets are aggregated, not emitted one by one');
    flows.report(4000, (e) => events.push(e));
    const f = events[0] as FlowUpdatedEvent;
    assert.equal(f.kind, 'flow.updated');
    assert.equal(f.direction, 'inbound');
    assert.deepEqual([f.bytesSent, f.bytesReceived, f.packetsSent, f.packetsReceived], [120, 81, 1, 2]);
    assert.deepEqual(f.process, { pid: 31, tid: 31, comm: 'dnsd', cgroupId: 7 });
    assert.equal(f.durationNs, 2000);
    assert.equal(f.final, false);
    events.length = 0;
    flows.report(5000, (e) => events.push(e));
    assert.equal(events.length, 0, 'unchanged flows are not reported again');
  });

  it('copies payload bytes out of the ring and reports truncation', () => {
    const { events, feed } = setup();
    const P = STRUCTS.ne_payload.fields;
    const data = new TextEncoder().encode('GET / HTTP/1.1\r\n');
    const padded = new Uint8Array(Math.ceil(data.length / 8) * 8);
    padded.set(data);
    feed({ type: RecordType.PAYLOAD, size: 112, proto: 6, direction: 2, pid: 3, comm: 'curl', tail: padded,
      fields: [[P.fd, 4, 7], [P.orig_len, 4, 5000], [P.cap_len, 4, data.length], [P.data_dir, 1, 1], [P.truncated, 1, 1]] });
    const e = events[0] as PayloadEvent;
    assert.equal(e.kind, 'payload');
    assert.equal(e.transport, 'tcp');
    assert.equal(e.dataDirection, 'send');
    assert.equal(e.fd, 7);
    assert.equal(new TextDecoder().decode(e.data), 'GET / HTTP/1.1\r\n');
    assert.equal(e.originalLength, 5000);
    assert.equal(e.truncated, true);
  });

  /** An NE_H1_SUMMARY record's tail: the request's bytes padded to 8, then its ne_h1_response. */
  function summaryTail(request: Uint8Array, response: Array<[keyof typeof STRUCTS.ne_h1_response.fields, 1 | 2 | 4 | 8, number]>): Uint8Array {
    const R = STRUCTS.ne_h1_response;
    const at = h1ResponseOffset(request.length) - STRUCTS.ne_payload.size;
    const tail = new Uint8Array(at + R.size);
    tail.set(request);
    const v = new DataView(tail.buffer);
    for (const [field, width, value] of response) {
      const o = at + R.fields[field];
      if (width === 1) v.setUint8(o, value);
      else if (width === 2) v.setUint16(o, value, true);
      else if (width === 4) v.setUint32(o, value, true);
      else v.setBigUint64(o, BigInt(value), true);
    }
    return tail;
  }

  it('decodes an HTTP/1 summary as the request\'s payload event plus its response', () => {
    const { events, feed, decoder } = setup();
    const P = STRUCTS.ne_payload.fields;
    const request = new TextEncoder().encode('GET /odd HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.equal(request.length % 8 !== 0, true, 'an odd length exercises the padding');
    const tail = summaryTail(request, [
      ['ts_ns', 8, 3_000_250_000], ['len', 4, 1234], ['body_len', 4, 1190], ['pid', 4, 77], ['tid', 4, 78],
      ['status', 2, 404], ['data_dir', 1, 2], ['version_minor', 1, 0],
    ]);
    assert.equal(tail.length, Math.ceil(request.length / 8) * 8 + STRUCTS.ne_h1_response.size);
    const common: RecordSpec = {
      type: RecordType.PAYLOAD, size: STRUCTS.ne_payload.size, tsNs: 3_000_000_000, proto: 6, direction: 2, pid: 3, tid: 4, comm: 'curl', cookie: 9,
      laddr: LOOP4, raddr: LOOP4, lport: 40000, rport: 8080,
      fields: [[P.fd, 4, 7], [P.orig_len, 4, request.length], [P.cap_len, 4, request.length], [P.data_dir, 1, 1]],
    };
    const padded = new Uint8Array(Math.ceil(request.length / 8) * 8);
    padded.set(request);
    feed({ ...common, tail: padded });
    feed({ ...common, type: RecordType.H1_SUMMARY, tail });
    const [plain, summary] = events as PayloadEvent[];
    assert.equal(events.length, 2);
    assert.equal(decoder.stats.malformed, 0);
    assert.equal(plain.h1Response, undefined, 'ordinary payload carries no summary');
    // Everything but the summary decodes as the request's own payload record would.
    const { h1Response, ...asPayload } = summary;
    assert.deepEqual({ ...asPayload, data: Array.from(asPayload.data) }, { ...plain, data: Array.from(plain.data) });
    assert.equal(new TextDecoder().decode(summary.data), 'GET /odd HTTP/1.1\r\nHost: h\r\n\r\n');
    assert.equal(summary.dataDirection, 'send');
    assert.equal(summary.timeUs, clock.toEpochUs(3_000_000_000));
    assert.deepEqual(h1Response, {
      timeUs: clock.toEpochUs(3_000_250_000), length: 1234, bodyLength: 1190, status: 404, versionMinor: 0, pid: 77, tid: 78, dataDirection: 'recv',
    });
  });

  it('decodes an HTTP/1 count as a payload event of the socket with no data and the count', () => {
    const { events, feed, decoder } = setup();
    const P = STRUCTS.ne_payload.fields;
    const tail = new Uint8Array(STRUCTS.ne_h1_count.size - STRUCTS.ne_payload.size);
    new DataView(tail.buffer).setUint32(STRUCTS.ne_h1_count.fields.exchanges - STRUCTS.ne_payload.size, 64, true);
    feed({
      type: RecordType.H1_COUNT, size: STRUCTS.ne_payload.size, tsNs: 3_000_000_000, proto: 6, direction: 1, pid: 3, tid: 4, comm: 'nginx', cookie: 9,
      laddr: LOOP4, raddr: LOOP4, lport: 8080, rport: 40000, fields: [[P.fd, 4, -1], [P.data_dir, 1, 1]], tail,
    });
    feed({ type: RecordType.H1_COUNT, size: STRUCTS.ne_payload.size, tail: tail.subarray(0, 4) }); // the count cut off
    assert.equal(decoder.stats.malformed, 1);
    assert.equal(events.length, 1);
    const e = events[0] as PayloadEvent;
    assert.equal(e.kind, 'payload');
    assert.equal(e.h1Exchanges, 64);
    assert.equal(e.data.length, 0);
    assert.equal(e.originalLength, 0);
    assert.deepEqual([e.localPort, e.remotePort, e.socketCookie, e.process.pid, e.direction], [8080, 40000, 9, 3, 'inbound']);
  });

  it('counts a summary too short for its request or its response half as malformed', () => {
    const { events, feed, decoder } = setup();
    const P = STRUCTS.ne_payload.fields;
    const request = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n');
    const tail = summaryTail(request, [['status', 2, 200]]);
    const spec = (t: Uint8Array, capLen = request.length): RecordSpec => ({
      type: RecordType.H1_SUMMARY, size: STRUCTS.ne_payload.size, fields: [[P.cap_len, 4, capLen], [P.orig_len, 4, capLen]], tail: t,
    });
    feed(spec(tail.subarray(0, tail.length - 8))); // the response half cut short
    feed(spec(tail.subarray(0, 8))); // the request cut short
    feed(spec(tail, 2 ** 32 - 1)); // claims bytes it lacks
    feed({ type: RecordType.H1_SUMMARY, size: 96 }); // not even the payload header
    assert.equal(events.length, 0);
    assert.equal(decoder.stats.malformed, 4);
    feed(spec(tail));
    assert.equal((events[0] as PayloadEvent).h1Response?.status, 200, 'the whole record still decodes');
  });

  it('counts and skips malformed and unknown records instead of throwing', () => {
    const { events, feed, decoder } = setup();
    feed({ type: RecordType.TCP_CLOSE, size: 96 }); // too short for a close
    feed({ type: RecordType.TCP_LIVE, size: 96 }); // too short for a live record
    feed({ type: 250, size: 56 });
    const P = STRUCTS.ne_payload.fields;
    feed({ type: RecordType.PAYLOAD, size: 112, fields: [[P.cap_len, 4, 4096]] }); // claims bytes it lacks
    const tiny = new Uint8Array(16);
    decoder.record(new DataView(tiny.buffer), tiny, 0, 16);
    assert.equal(events.length, 0);
    assert.equal(decoder.stats.malformed, 4);
    assert.equal(decoder.stats.unknownType, 1);
  });
});
