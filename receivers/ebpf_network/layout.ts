/**
 * Byte layout of everything shared with the kernel (bpf/net_events.h). The decoder reads
 * records only through these numbers. The struct layouts are generated from the BTF of the
 * compiled bpf/net.bpf.o (layout.generated.ts); the constants below are checked against the
 * header by test/bpf/layout-btf.test.ts.
 */
import { STRUCTS, type StructLayout } from './layout.generated';

// Sizes and offsets come from the compiled object's BTF (npm run gen:layout), never by hand.
export { STRUCTS, type StructLayout };

/** enum ne_record_type */
export const RecordType = {
  TCP_OPEN: 1,
  TCP_CLOSE: 2,
  TCP_FAIL: 3,
  UDP_PKT: 4,
  SOCK_OWNER: 5,
  ICMP: 6,
  PAYLOAD: 7,
  /** ne_tcp_close layout; from the live-connection iterator, never the ring. */
  TCP_LIVE: 8,
  /** ne_payload and the request's bytes (padded to 8), then ne_h1_response: one whole HTTP/1 exchange. */
  H1_SUMMARY: 9,
  /** ne_h1_count: exchanges at one socket summarised and only counted. */
  H1_COUNT: 10,
} as const;

/** enum ne_direction */
export const DIR_INBOUND = 1;
export const DIR_OUTBOUND = 2;
/** enum ne_close_reason */
export const CLOSE_FIN = 1;
export const CLOSE_RESET = 2;
/** enum ne_data_dir */
export const DATA_SEND = 1;
export const DATA_RECV = 2;
/** struct ne_payload.flags */
export const PAYLOAD_DECRYPTED = 1;

export const MAX_PORTS = 16;
export const MAX_CAPTURE = 8192;
export const COMM_LEN = 16;
/** NE_MAX_EXCLUDED_COMM: entries of ne_config.exclude_comm. */
export const MAX_EXCLUDED_PROCESSES = 8;

const H = STRUCTS.ne_header.fields;
const T = STRUCTS.ne_tuple.fields;
const TUPLE = STRUCTS.ne_tcp_open.fields.t;

/** Absolute offsets inside a record, for the decoder's hot path. */
export const OFF = {
  tsNs: H.ts_ns,
  cookie: H.cookie,
  cgroupId: H.cgroup_id,
  pid: H.pid,
  tid: H.tid,
  netns: H.netns,
  type: H.type,
  size: H.size,
  comm: H.comm,
  laddr: TUPLE + T.laddr,
  raddr: TUPLE + T.raddr,
  lport: TUPLE + T.lport,
  rport: TUPLE + T.rport,
  family: TUPLE + T.family,
  proto: TUPLE + T.proto,
  direction: TUPLE + T.direction,
  tupleFlags: TUPLE + T.flags,
} as const;

export const TUPLE_OFFSET = TUPLE;

const R = STRUCTS.ne_h1_response.fields;

/** Where an NE_H1_COUNT record holds its count. */
export const H1_COUNT_EXCHANGES = STRUCTS.ne_h1_count.fields.exchanges;

/** Offsets inside the ne_h1_response that ends an NE_H1_SUMMARY record (at h1ResponseOffset). */
export const H1_RESPONSE_OFF = {
  tsNs: R.ts_ns,
  length: R.len,
  bodyLength: R.body_len,
  pid: R.pid,
  tid: R.tid,
  status: R.status,
  dataDir: R.data_dir,
  versionMinor: R.version_minor,
} as const;

/**
 * Where the ne_h1_response of an NE_H1_SUMMARY record starts, from the record's start: after its
 * ne_payload and the request's `capLen` bytes, padded to 8.
 */
export function h1ResponseOffset(capLen: number): number {
  return STRUCTS.ne_payload.size + capLen + ((8 - (capLen & 7)) & 7);
}
