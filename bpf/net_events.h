/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every record that crosses the ring buffer, the load-time configuration block and the per-CPU
 * counters. Shared by the BPF programs and (through the offsets test against the compiled
 * object's BTF) by the TypeScript decoder in receivers/ebpf_network/layout.ts.
 *
 * Rules: natural alignment, explicit padding (no implicit holes, so the layout is the same for
 * every compiler), sizes multiple of 8 (the ring buffer aligns records to 8 anyway).
 * This header is included after vmlinux.h on the BPF side, so it uses only __u8.. __u64.
 */
#ifndef NET_EVENTS_H
#define NET_EVENTS_H

#define NE_COMM_LEN 16
#define NE_MAX_PORTS 16
#define NE_MAX_EXCLUDED_COMM 8
/* Largest payload capture; a power of two so the verifier can bound the copy with a mask. */
#define NE_MAX_CAPTURE 8192

/* Record types (struct ne_header.type). */
enum ne_record_type {
	NE_TCP_OPEN = 1,   /* struct ne_tcp_open */
	NE_TCP_CLOSE = 2,  /* struct ne_tcp_close */
	NE_TCP_FAIL = 3,   /* struct ne_tcp_fail */
	NE_UDP_PKT = 4,    /* struct ne_udp_pkt: one datagram seen at the cgroup hook */
	NE_SOCK_OWNER = 5, /* struct ne_sock_owner: process that owns a UDP/ICMP socket */
	NE_ICMP = 6,       /* struct ne_icmp */
	NE_PAYLOAD = 7,    /* struct ne_payload + captured bytes */
	NE_TCP_LIVE = 8,   /* struct ne_tcp_close layout (reason 0, old_state = current state): a live
	                    * connection's counters so far, from the dump_live_tcp iterator, never the ring */
	NE_H1_SUMMARY = 9, /* struct ne_payload + the request's bytes (padded to 8) + struct ne_h1_response:
	                    * one whole HTTP/1 exchange at one socket, framed exactly by the kernel */
	NE_H1_COUNT = 10,  /* struct ne_h1_count: whole HTTP/1 exchanges at one socket, framed exactly by
	                    * the kernel and only counted (ne_config.h1_counts_only) */
};

/* struct ne_tuple.direction */
enum ne_direction {
	NE_DIR_UNKNOWN = 0,
	NE_DIR_INBOUND = 1,  /* TCP: accepted; packets: received */
	NE_DIR_OUTBOUND = 2, /* TCP: connected; packets: sent */
};

/* struct ne_tuple.flags */
#define NE_TUPLE_V4_MAPPED 1 /* IPv6 socket carrying IPv4 (::ffff:a.b.c.d), reported as IPv4 */

/* struct ne_tcp_close.reason */
enum ne_close_reason {
	NE_CLOSE_FIN = 1,
	NE_CLOSE_RESET = 2,
	NE_CLOSE_UNKNOWN = 3,
};

/* Header of every record. */
struct ne_header {
	__u64 ts_ns;     /* bpf_ktime_get_boot_ns() */
	__u64 cookie;    /* bpf_get_socket_cookie(); 0 when unknown */
	__u64 cgroup_id; /* cgroup v2 id of the owning process; 0 when unknown */
	__u32 pid;       /* tgid of the owning process; 0 when unknown */
	__u32 tid;
	__u32 netns;     /* network namespace inode; 0 when unknown */
	__u16 type;      /* enum ne_record_type */
	__u16 size;      /* bytes of this record including captured data */
	char comm[NE_COMM_LEN];
}; /* 56 */

/* Addresses as seen by the observed socket. IPv4 uses the first 4 bytes of each address. */
struct ne_tuple {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;   /* host byte order */
	__u16 rport;   /* host byte order */
	__u8 family;   /* 4 or 6 */
	__u8 proto;    /* IPPROTO_TCP / _UDP / _ICMP / _ICMPV6 */
	__u8 direction; /* enum ne_direction */
	__u8 flags;    /* NE_TUPLE_* */
}; /* 40 */

struct ne_tcp_open {
	struct ne_header h;
	struct ne_tuple t;
}; /* 96 */

struct ne_tcp_close {
	struct ne_header h;
	struct ne_tuple t;
	__u64 duration_ns;   /* 0 when the connection predates the observer */
	__u64 bytes_sent;    /* payload bytes sent, retransmissions not counted twice */
	__u64 bytes_received; /* payload bytes received (the peer's FIN not counted) */
	__u32 segs_out;
	__u32 segs_in;
	__u32 srtt_us;
	__u32 retransmits;   /* tcp_sock.total_retrans */
	__u8 reason;         /* enum ne_close_reason */
	__u8 old_state;      /* TCP state the socket left for CLOSE */
	__u8 _pad[2];
	__u32 h1_exchanges;  /* HTTP/1 exchanges counted at this socket since its last count (h1_counts_only) */
}; /* 144 */

struct ne_tcp_fail {
	struct ne_header h;
	struct ne_tuple t;
	__u32 error;   /* sk_err: ECONNREFUSED, ETIMEDOUT, ... 0 when the caller gave up */
	__u32 _pad;
}; /* 104 */

struct ne_udp_pkt {
	struct ne_header h;
	struct ne_tuple t;   /* direction: NE_DIR_OUTBOUND sent, NE_DIR_INBOUND received */
	__u32 bytes;         /* UDP payload bytes */
	__u32 _pad;
}; /* 104 */

struct ne_sock_owner {
	struct ne_header h;
}; /* 56 */

struct ne_icmp {
	struct ne_header h;
	struct ne_tuple t;   /* direction as for ne_udp_pkt */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 echo_id;       /* host byte order */
	__u16 echo_seq;      /* host byte order */
	__u16 _pad;
	__u32 bytes;         /* ICMP message bytes including its header */
	__u32 _pad2;
}; /* 112 */

/* struct ne_payload.data_dir */
enum ne_data_dir {
	NE_DATA_SEND = 1,
	NE_DATA_RECV = 2,
};

/* struct ne_payload.flags */
#define NE_PAYLOAD_DECRYPTED 1 /* plaintext taken at the TLS library (SSL_read/SSL_write), not the socket */

struct ne_payload {
	struct ne_header h;
	struct ne_tuple t;
	__s32 fd;
	__u32 orig_len;   /* bytes the syscall moved */
	__u32 cap_len;    /* bytes of data[] that follow */
	__u8 data_dir;    /* enum ne_data_dir */
	__u8 truncated;
	__u8 flags;       /* NE_PAYLOAD_* */
	__u8 _pad;
	/* __u8 data[cap_len] follows, record size rounded up to 8 */
}; /* 112 */

/* NE_H1_SUMMARY: the largest request the kernel summarises (it is carried whole). */
#define NE_H1_MAX_REQUEST 512

/*
 * The response half of an NE_H1_SUMMARY record. The record starts as an NE_PAYLOAD record of the
 * request (its ne_payload header, then all cap_len == orig_len bytes of it, padded to 8) and ends
 * with this, for a response that one call moved whole: status line, headers and a body framed
 * by Content-Length (or none: HEAD, 204, 304).
 */
struct ne_h1_response {
	__u64 ts_ns;         /* when the response's call returned */
	__u32 len;           /* bytes the response's call moved: head and body */
	__u32 body_len;      /* bytes of the body */
	__u32 pid;           /* process and thread that moved the response */
	__u32 tid;
	__u16 status;
	__u8 data_dir;       /* enum ne_data_dir of the response's call */
	__u8 version_minor;  /* HTTP/1.x of its status line */
	__u8 _pad[4];
}; /* 32 */

/*
 * A socket's counted exchanges go out once this many have gathered (NE_H1_COUNT), and with its
 * live and close records (ne_tcp_close.h1_exchanges).
 */
#define NE_H1_COUNT_BATCH 64

/*
 * NE_H1_COUNT: exchanges a socket summarised without sending them, since its last count. Its
 * ne_payload header names the socket (cap_len 0, no data) as the summaries' would.
 */
struct ne_h1_count {
	struct ne_payload p;
	__u32 exchanges;
	__u32 _pad;
}; /* 120 */

/*
 * Load-time configuration: one `const volatile struct ne_config` in .rodata, written by the
 * loader between open and load so the verifier prunes disabled paths.
 */
struct ne_config {
	__u32 exclude_tgid;       /* drop everything owned by this process (the observer); 0 = none */
	__u32 sampling_pct;       /* keep this percentage of sockets, decided per socket cookie */
	__u32 max_events_per_sec_per_cpu; /* 0 = unlimited */
	__u32 wakeup_threshold;   /* bytes pending before the consumer is woken */
	__u32 capture_bytes;      /* payload capture per call, <= NE_MAX_CAPTURE */
	__u8 enable_ipv4;
	__u8 enable_ipv6;
	__u8 enable_tcp;
	__u8 enable_udp;
	__u8 enable_icmp;
	__u8 enable_payload;
	__u8 n_ports;             /* entries used in ports[] */
	__u8 n_exclude_ports;     /* entries used in exclude_ports[] */
	__u16 ports[NE_MAX_PORTS];         /* when n_ports > 0, only these (local or remote) */
	__u16 exclude_ports[NE_MAX_PORTS]; /* never these (local or remote) */
	/* Longest time records wait for a wake-up while they keep coming: a record submitted this
	 * long after the last forced wake-up forces the next one. 0 = threshold only. */
	__u32 wakeup_interval_us;
	__u8 enable_live_tcp;     /* mark reported TCP sockets for the live scan (tcp_update_interval > 0) */
	__u8 n_exclude_comm;      /* entries used in exclude_comm[] */
	__u8 enable_tls_plain;    /* OpenSSL uprobes are attached: join their calls to sockets */
	__u8 h1_counts_only;      /* summarised HTTP/1 exchanges are counted (NE_H1_COUNT), not sent */
	/* Processes whose sockets are never reported, by task name (comm); NUL-padded, and a
	 * trailing '*' matches any rest (exclude_processes). */
	char exclude_comm[NE_MAX_EXCLUDED_COMM][NE_COMM_LEN];
	/* HTTP/1 transactions per second and CPU whose bytes are copied in full; beyond that, exchanges
	 * the kernel frames exactly become NE_H1_SUMMARY records (or counts, h1_counts_only). 0 = always
	 * copied in full. */
	__u32 h1_full_per_cpu;
}; /* 232 */

/* Per-CPU counters (PERCPU_ARRAY "stats", key 0). Summed in user space. */
struct ne_stats {
	__u64 records;       /* records submitted */
	__u64 ring_lost;     /* bpf_ringbuf_reserve failed: the consumer was too slow */
	__u64 truncated;     /* payload captures cut at capture_bytes */
	__u64 sampled_out;   /* sockets dropped by kernel_sampling_percentage */
	__u64 rate_limited;  /* records dropped by the per-second cap */
	__u64 map_full;      /* socket/listener table updates that failed */
	__u64 read_errors;   /* bpf_probe_read_* failures while capturing */
	__u64 skipped_opaque;          /* reads/writes not copied: the stream is nothing we parse */
	__u64 skipped_opaque_bytes;
	__u64 skipped_encrypted;       /* reads/writes not copied: TLS past its handshake */
	__u64 skipped_encrypted_bytes;
	__u64 self_peer_skipped;       /* far ends of the observer's (or an excluded process's) own connections */
	__u64 closed_at_destroy;       /* TCP connections ended by tcp_destroy_sock, never having passed ->CLOSE */
	__u64 skipped_decrypted;       /* reads/writes not copied: TLS whose plaintext the uprobes take */
	__u64 skipped_decrypted_bytes;
	__u64 tls_unbound;             /* plaintext of an SSL object whose connection is unknown, dropped */
	__u64 h1_summarised;           /* HTTP/1 exchanges sent as NE_H1_SUMMARY records or counted */
	__u64 h1_unstashed;            /* requests held for a summary and then sent in full after all */
	__u64 udp_peer_unknown;        /* DNS datagrams read by an unconnected socket whose sender was not noted */
}; /* 152 */

/* The decoder reads these sizes; a change here must be a deliberate change there too. */
_Static_assert(sizeof(struct ne_header) == 56, "ne_header layout");
_Static_assert(sizeof(struct ne_tuple) == 40, "ne_tuple layout");
_Static_assert(sizeof(struct ne_tcp_open) == 96, "ne_tcp_open layout");
_Static_assert(sizeof(struct ne_tcp_close) == 144, "ne_tcp_close layout");
_Static_assert(sizeof(struct ne_tcp_fail) == 104, "ne_tcp_fail layout");
_Static_assert(sizeof(struct ne_udp_pkt) == 104, "ne_udp_pkt layout");
_Static_assert(sizeof(struct ne_sock_owner) == 56, "ne_sock_owner layout");
_Static_assert(sizeof(struct ne_icmp) == 112, "ne_icmp layout");
_Static_assert(sizeof(struct ne_payload) == 112, "ne_payload layout");
_Static_assert(sizeof(struct ne_h1_response) == 32, "ne_h1_response layout");
_Static_assert(sizeof(struct ne_h1_count) == 120, "ne_h1_count layout");
_Static_assert(sizeof(struct ne_config) == 232, "ne_config layout");
_Static_assert(sizeof(struct ne_stats) == 152, "ne_stats layout");

#endif /* NET_EVENTS_H */
