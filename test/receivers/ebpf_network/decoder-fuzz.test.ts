/**
 * The ring record decoder under random and mutated records (deterministic seed): it never
 * throws, what it cannot use is counted as malformed or unknown, the events it makes keep their
 * invariants, and its caches and flow table stay bounded.
 */
import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../../core/events';
import { EventDecoder } from '../../../receivers/ebpf_network/decoder';
import { FlowTable } from '../../../receivers/ebpf_network/flows';
import { OFF, RecordType, STRUCTS, h1ResponseOffset } from '../../../receivers/ebpf_network/layout';
import { Fuzzer, heapUsed } from '../../helpers/fuzz';
import { buildRecord, type RecordSpec } from './records';

const INPUTS = 150_000;
const MAX_FLOWS = 256;
const clock = { toEpochUs: (ns: number) => 1_700_000_000_000_000 + Math.round(ns / 1000) };

function corpus(): Uint8Array[] {
  const C = STRUCTS.ne_tcp_close.fields;
  const P = STRUCTS.ne_payload.fields;
  const I = STRUCTS.ne_icmp.fields;
  const base: Partial<RecordSpec> = { pid: 42, tid: 43, comm: 'curl', cgroupId: 7, cookie: 99, laddr: [127, 0, 0, 1], raddr: [10, 0, 0, 2], lport: 40000, rport: 443, direction: 2 };
  const v6: Partial<RecordSpec> = { family: 6, laddr: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], raddr: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] };
  const specs: RecordSpec[] = [
    { ...base, type: RecordType.TCP_OPEN, size: STRUCTS.ne_tcp_open.size },
    { ...base, ...v6, type: RecordType.TCP_CLOSE, size: STRUCTS.ne_tcp_close.size, fields: [[C.bytes_sent, 8, 2 ** 40], [C.reason, 1, 2]] },
    { ...base, type: RecordType.TCP_LIVE, size: STRUCTS.ne_tcp_close.size, fields: [[C.duration_ns, 8, 5e9]] },
    { ...base, type: RecordType.TCP_FAIL, size: STRUCTS.ne_tcp_fail.size, fields: [[STRUCTS.ne_tcp_fail.fields.error, 4, 111]] },
    { ...base, proto: 17, type: RecordType.UDP_PKT, size: STRUCTS.ne_udp_pkt.size, fields: [[STRUCTS.ne_udp_pkt.fields.bytes, 4, 512]] },
    { ...base, type: RecordType.SOCK_OWNER, size: STRUCTS.ne_sock_owner.size },
    { ...base, proto: 1, type: RecordType.ICMP, size: STRUCTS.ne_icmp.size, fields: [[I.icmp_type, 1, 8], [I.echo_id, 2, 7], [I.bytes, 4, 64]] },
    { ...base, type: RecordType.PAYLOAD, size: STRUCTS.ne_payload.size, fields: [[P.cap_len, 4, 18], [P.orig_len, 4, 18], [P.data_dir, 1, 1]], tail: new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n') },
    { ...base, type: RecordType.H1_SUMMARY, size: STRUCTS.ne_payload.size, fields: [[P.cap_len, 4, 18], [P.orig_len, 4, 18], [P.data_dir, 1, 1]], tail: summaryTail('GET / HTTP/1.1\r\n\r\n') },
    { ...base, type: RecordType.H1_COUNT, size: STRUCTS.ne_payload.size, fields: [[P.data_dir, 1, 1]], tail: new Uint8Array([64, 0, 0, 0, 0, 0, 0, 0]) },
  ];
  return specs.map(buildRecord);
}

/** An NE_H1_SUMMARY record's tail: the request padded to 8, then a 200 response of 5 body bytes. */
function summaryTail(request: string): Uint8Array {
  const R = STRUCTS.ne_h1_response;
  const bytes = new TextEncoder().encode(request);
  const at = h1ResponseOffset(bytes.length) - STRUCTS.ne_payload.size;
  const tail = new Uint8Array(at + R.size);
  tail.set(bytes);
  const v = new DataView(tail.buffer);
  v.setUint32(at + R.fields.ts_ns, 1_000_500_000, true);
  v.setUint32(at + R.fields.len, 43, true);
  v.setUint32(at + R.fields.body_len, 5, true);
  v.setUint16(at + R.fields.status, 200, true);
  v.setUint8(at + R.fields.data_dir, 2);
  v.setUint8(at + R.fields.version_minor, 1);
  return tail;
}

function checkEvent(e: NetworkEvent): void {
  assert.equal(typeof e.kind, 'string');
  assert.ok(Number.isFinite(e.timeUs), 'timeUs is a number');
  assert.ok(Object.isFrozen(e.process), 'the shared process block is frozen');
  assert.ok(e.localPort >= 0 && e.localPort <= 65535 && e.remotePort >= 0 && e.remotePort <= 65535);
  assert.equal(typeof e.localAddress, 'string');
  // Above 2^53 a u64 loses precision as a number; it must still be one (real cookies count up from 1).
  assert.ok(Number.isFinite(e.socketCookie) && e.socketCookie >= 0, 'a 64-bit cookie as a non-negative number');
  if (e.kind === 'payload') {
    assert.ok(e.data.length <= 16 * 1024, 'the captured bytes fit in the record they came from');
    if (e.h1Response !== undefined) assert.ok(Number.isFinite(e.h1Response.timeUs) && e.h1Response.status <= 65535, 'a summary\'s response half is read in bounds');
  }
}

describe('ebpf_network decoder under fuzzed records', function () {
  this.timeout(60_000);

  it(`never throws on ${INPUTS.toLocaleString('en-US')} hostile records, counts what it cannot use, and stays bounded`, () => {
    const f = new Fuzzer(0x5eed3);
    const seeds = corpus();
    const events: NetworkEvent[] = [];
    const flows = new FlowTable(MAX_FLOWS, 60e9, (ns) => clock.toEpochUs(ns));
    const decoder = new EventDecoder(clock, flows, (e) => {
      checkEvent(e);
      // A copy: the ring memory is reused for the next record.
      if (e.kind === 'payload') assert.notEqual(e.data.buffer, ring.buffer, 'payload bytes are copied out of the ring');
      if (events.length < 1000) events.push(e);
    });
    const ring = new Uint8Array(16 * 1024);
    const view = new DataView(ring.buffer);
    const before = heapUsed();
    for (let i = 0; i < INPUTS; i++) {
      let rec: Uint8Array;
      if (f.bool(0.1)) rec = f.bytes(256);
      else {
        rec = f.mutate(f.pick(seeds));
        // Vary identities so the process and comm caches and the flow table are pushed past their bounds.
        if (rec.length >= STRUCTS.ne_header.size && f.bool(0.5)) {
          const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
          v.setUint32(OFF.tid, f.int(20_000), true);
          v.setUint32(OFF.pid, f.int(20_000), true);
          v.setUint32(OFF.cookie, f.int(1_000_000), true);
          if (rec.length >= OFF.rport + 2) v.setUint16(OFF.rport, f.int(65536), true);
        }
      }
      // The reader hands a record at an 8-byte aligned offset with the length from its header.
      const at = 8 * f.int(64);
      ring.set(rec.subarray(0, ring.length - at), at);
      const len = Math.min(rec.length, ring.length - at);
      decoder.record(view, ring, at, len);
    }
    const s = decoder.stats;
    assert.ok(s.malformed > 1000 && s.unknownType > 1000, `hostile input was counted: ${s.malformed} malformed, ${s.unknownType} of unknown type`);
    assert.ok(events.length > 0, 'mutations of valid records still decode');
    assert.ok(flows.size <= MAX_FLOWS, `flow table bounded: ${flows.size}`);
    const grown = heapUsed() - before;
    assert.ok(grown < 32 * 1024 * 1024, `state stays bounded: heap grew ${(grown / 1048576).toFixed(1)} MiB`);
  });
});
