/**
 * Byte layout of everything shared with the kernel (bpf/net_events.h). The decoder reads
 * records only through these numbers, and test/bpf/layout-btf.test.ts checks every field
 * here against the BTF of the compiled bpf/net.bpf.o, so the two cannot drift silently.
 */

export interface StructLayout {
  readonly size: number;
  /** Field name -> byte offset, exactly as named in the C struct. */
  readonly fields: Readonly<Record<string, number>>;
}

export const STRUCTS = {
  ne_header: {
    size: 56,
    fields: { ts_ns: 0, cookie: 8, cgroup_id: 16, pid: 24, tid: 28, netns: 32, type: 36, size: 38, comm: 40 },
  },
  ne_tuple: {
    size: 40,
    fields: { laddr: 0, raddr: 16, lport: 32, rport: 34, family: 36, proto: 37, direction: 38, flags: 39 },
  },
  ne_tcp_open: { size: 96, fields: { h: 0, t: 56 } },
  ne_tcp_close: {
    size: 144,
    fields: {
      h: 0, t: 56, duration_ns: 96, bytes_sent: 104, bytes_received: 112, segs_out: 120, segs_in: 124,
      srtt_us: 128, retransmits: 132, reason: 136, old_state: 137,
    },
  },
  ne_tcp_fail: { size: 104, fields: { h: 0, t: 56, error: 96 } },
  ne_udp_pkt: { size: 104, fields: { h: 0, t: 56, bytes: 96 } },
  ne_sock_owner: { size: 56, fields: { h: 0 } },
  ne_icmp: {
    size: 112,
    fields: { h: 0, t: 56, icmp_type: 96, icmp_code: 97, echo_id: 98, echo_seq: 100, bytes: 104 },
  },
  ne_payload: {
    size: 112,
    fields: { h: 0, t: 56, fd: 96, orig_len: 100, cap_len: 104, data_dir: 108, truncated: 109, flags: 110 },
  },
  ne_config: {
    size: 240,
    fields: {
      exclude_tgid: 0, sampling_pct: 4, max_events_per_sec_per_cpu: 8, wakeup_threshold: 12, capture_bytes: 16,
      enable_ipv4: 20, enable_ipv6: 21, enable_tcp: 22, enable_udp: 23, enable_icmp: 24, enable_payload: 25,
      n_ports: 26, n_exclude_ports: 27, ports: 28, exclude_ports: 60, bench_tid: 92, bench_burst: 96, bench_syscall: 100,
      wakeup_interval_us: 104, enable_live_tcp: 108, n_exclude_comm: 109, enable_tls_plain: 110, exclude_comm: 112,
    },
  },
  ne_stats: {
    size: 128,
    fields: {
      records: 0, ring_lost: 8, truncated: 16, sampled_out: 24, rate_limited: 32, map_full: 40, read_errors: 48,
      skipped_opaque: 56, skipped_opaque_bytes: 64, skipped_encrypted: 72, skipped_encrypted_bytes: 80, self_peer_skipped: 88,
      closed_at_destroy: 96, skipped_decrypted: 104, skipped_decrypted_bytes: 112, tls_unbound: 120,
    },
  },
} as const satisfies Record<string, StructLayout>;

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
