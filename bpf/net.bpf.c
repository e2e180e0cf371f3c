// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network observer kernel side: TCP lifecycle, UDP datagrams, ICMP, socket ownership.
 *
 * Works without kprobes and fentry (neither is available on the kernels we target):
 * - TCP lifecycle from tp_btf/inet_sock_set_state, following bcc tcplife / Coroot: the owning
 *   process is captured at the transitions that run in process context (CLOSE->SYN_SENT on
 *   connect, ->LISTEN on listen, ESTABLISHED->FIN_WAIT1 / CLOSE_WAIT->LAST_ACK on close) and
 *   kept in a cookie-keyed map for the transitions that run in softirq (SYN_SENT->ESTABLISHED,
 *   SYN_RECV->ESTABLISHED, ->CLOSE). Counters are read from tcp_sock at close.
 * - UDP and ICMP at the packet level with cgroup_skb (the only place that sees the remote
 *   address of an unconnected sendto and every ICMP message), with the owner taken from the
 *   same map, filled at socket creation (cgroup/sock_create) and by sock_send/recv_length.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "net_events.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMPV6_ 58

/* TCP states (include/net/tcp_states.h); vmlinux.h carries them as an anonymous enum. */
#define S_ESTABLISHED 1
#define S_SYN_SENT 2
#define S_SYN_RECV 3
#define S_FIN_WAIT1 4
#define S_CLOSE 7
#define S_CLOSE_WAIT 8
#define S_LAST_ACK 9
#define S_LISTEN 10

#define ECONNRESET_ 104
#define EPIPE_ 32

const volatile struct ne_config cfg = {
	.sampling_pct = 100,
	.wakeup_threshold = 64 * 1024,
	.capture_bytes = 4096,
	.enable_ipv4 = 1,
	.enable_ipv6 = 1,
	.enable_tcp = 1,
	.enable_udp = 1,
	.enable_icmp = 1,
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* ring_buffer_size, set before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ne_stats);
} stats SEC(".maps");

/*
 * Per-CPU scratch where a payload record is assembled before bpf_ringbuf_output (its size
 * varies, which bpf_ringbuf_reserve cannot take). data[] is twice the largest capture so the
 * verifier can prove offset (< NE_MAX_CAPTURE) + length (<= NE_MAX_CAPTURE) stays inside.
 * `any` only names every record struct, so all of them are in the object's BTF for the
 * decoder's layout test.
 */
union ne_any_record {
	struct ne_tcp_open tcp_open;
	struct ne_tcp_close tcp_close;
	struct ne_tcp_fail tcp_fail;
	struct ne_udp_pkt udp_pkt;
	struct ne_sock_owner sock_owner;
	struct ne_icmp icmp;
	struct ne_payload payload;
};

struct ne_scratch {
	struct ne_payload rec;
	__u8 data[2 * NE_MAX_CAPTURE];
	union ne_any_record any;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ne_scratch);
} scratch SEC(".maps");

struct rate_state {
	__u64 window_start;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rate_state);
} rate SEC(".maps");

/* Who owns a socket, and what we decided about it. Private to the kernel side. */
struct sock_info {
	__u64 start_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__u32 netns;
	__u8 direction;
	__u8 skip;    /* sampled out or the observer's own: every later event shares this fate */
	__u8 reset;   /* an RST was sent or received */
	__u8 opened;  /* an open record was emitted */
	char comm[NE_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* max_tracked_sockets, set before load */
	__type(key, __u64);         /* socket cookie */
	__type(value, struct sock_info);
} socks SEC(".maps");

struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct listen_key);
	__type(value, struct sock_info);
} listeners SEC(".maps");

/*
 * Marks the TCP sockets whose connection.opened was reported, in socket-local storage: the
 * dump_live_tcp iterator walks exactly these, in every network namespace, and the mark goes
 * away with the socket. The value is only a presence flag.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} live_tcp SEC(".maps");

/* Network namespaces (inode numbers) holding sockets marked in live_tcp: where the scan goes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} live_netns SEC(".maps");


static __always_inline struct ne_stats *stats_slot(void)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&stats, &k);
}

#define STAT_INC(field)                                   \
	do {                                              \
		struct ne_stats *__s = stats_slot();      \
		if (__s)                                  \
			__s->field++;                     \
	} while (0)

static __always_inline bool rate_ok(void)
{
	if (!cfg.max_events_per_sec_per_cpu)
		return true;
	__u32 k = 0;
	struct rate_state *r = bpf_map_lookup_elem(&rate, &k);
	if (!r)
		return true;
	__u64 now = bpf_ktime_get_ns();
	if (now - r->window_start >= 1000000000ULL) {
		r->window_start = now;
		r->count = 0;
	}
	if (r->count >= cfg.max_events_per_sec_per_cpu) {
		STAT_INC(rate_limited);
		return false;
	}
	r->count++;
	return true;
}

static __always_inline void *reserve(__u32 size)
{
	if (!rate_ok())
		return NULL;
	void *rec = bpf_ringbuf_reserve(&events, size, 0);
	if (!rec)
		STAT_INC(ring_lost);
	return rec;
}

/*
 * Boot-time stamp of the last wake-up forced for the reader. Shared by every CPU without
 * locking: a lost update costs at most one extra wake-up.
 */
static __u64 last_wakeup_ns;

/*
 * Batched wake-ups: the reader is woken when a record crosses wakeup_threshold bytes pending
 * (so the ring never fills unnoticed), or when it is the first record wakeup_interval after
 * the last forced wake-up (so records that trickle in below the threshold wait at most that
 * long). Traffic itself carries the clock: a quiet ring wakes nobody and the reader needs no
 * polling timer. Waking on every record costs ~10x more CPU; forcing a wake-up on every
 * record while the reader is behind would cost an irq_work per record for nothing.
 */
static __always_inline __u64 wakeup_flag(__u64 pending, __u64 size, __u64 now_ns)
{
	bool crossed = pending >= cfg.wakeup_threshold && pending < (__u64)cfg.wakeup_threshold + size + 8;
	__u64 interval_ns = (__u64)cfg.wakeup_interval_us * 1000;
	if (crossed || (interval_ns && now_ns - last_wakeup_ns >= interval_ns)) {
		last_wakeup_ns = now_ns;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/* `rec` starts with its ne_header, filled in, whose stamp is the record's time. */
static __always_inline void submit(void *rec, __u32 size)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(rec, wakeup_flag(pending, size, ((struct ne_header *)rec)->ts_ns));
	STAT_INC(records);
}

/* Per-socket sampling so all events of one connection share fate. */
static __always_inline bool sampled_in(__u64 cookie)
{
	if (cfg.sampling_pct >= 100)
		return true;
	__u64 h = cookie * 0x9E3779B97F4A7C15ULL;
	return ((h >> 32) % 100) < cfg.sampling_pct;
}

static __always_inline bool ports_ok(__u16 a, __u16 b)
{
	int i;
#pragma unroll
	for (i = 0; i < NE_MAX_PORTS; i++) {
		if (i < cfg.n_exclude_ports && (cfg.exclude_ports[i] == a || cfg.exclude_ports[i] == b))
			return false;
	}
	if (cfg.n_ports == 0)
		return true;
#pragma unroll
	for (i = 0; i < NE_MAX_PORTS; i++) {
		if (i < cfg.n_ports && (cfg.ports[i] == a || cfg.ports[i] == b))
			return true;
	}
	return false;
}

static __always_inline void owner_from_current(struct sock_info *o)
{
	__u64 id = bpf_get_current_pid_tgid();
	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline void fill_header(struct ne_header *h, __u16 type, __u16 size, __u64 cookie,
					const struct sock_info *o)
{
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cookie = cookie;
	h->type = type;
	h->size = size;
	if (o) {
		h->cgroup_id = o->cgroup_id;
		h->pid = o->pid;
		h->tid = o->tid;
		h->netns = o->netns;
		__builtin_memcpy(h->comm, o->comm, NE_COMM_LEN);
	}
}

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

static __always_inline void unmap_v4(__u8 *a)
{
	__u32 *w = (__u32 *)a;
	w[0] = w[3];
	w[1] = 0;
	w[2] = 0;
	w[3] = 0;
}

/* Fills the tuple from a socket; false when the family is not observed. */
static __always_inline bool tuple_from_sock(struct ne_tuple *t, const struct sock *sk, __u8 proto)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	/* inet_sport, not skc_num: TCP releases the port (skc_num = 0) before the ->CLOSE trace. */
	t->lport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	t->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	t->proto = proto;
	if (family == AF_INET) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
		t->family = 4;
		return cfg.enable_ipv4;
	}
	if (family != AF_INET6)
		return false;
	BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	if (is_v4_mapped(t->raddr) || is_v4_mapped(t->laddr)) {
		unmap_v4(t->laddr);
		unmap_v4(t->raddr);
		t->family = 4;
		t->flags |= NE_TUPLE_V4_MAPPED;
		return cfg.enable_ipv4;
	}
	t->family = 6;
	return cfg.enable_ipv6;
}

static __always_inline __u32 sock_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline void emit_tcp_open(const struct sock *sk, __u64 cookie, struct sock_info *o)
{
	struct ne_tuple t = {};
	if (!tuple_from_sock(&t, sk, IPPROTO_TCP) || !ports_ok(t.lport, t.rport))
		return;
	t.direction = o->direction;
	struct ne_tcp_open *r = reserve(sizeof(*r));
	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, NE_TCP_OPEN, sizeof(*r), cookie, o);
	r->t = t;
	submit(r, sizeof(*r));
	o->opened = 1;
}

static __always_inline void emit_tcp_fail(const struct sock *sk, __u64 cookie, struct sock_info *o)
{
	struct ne_tuple t = {};
	if (!tuple_from_sock(&t, sk, IPPROTO_TCP) || !ports_ok(t.lport, t.rport))
		return;
	t.direction = NE_DIR_OUTBOUND;
	struct ne_tcp_fail *r = reserve(sizeof(*r));
	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, NE_TCP_FAIL, sizeof(*r), cookie, o);
	r->t = t;
	r->error = BPF_CORE_READ(sk, sk_err);
	submit(r, sizeof(*r));
}

/* Cumulative counters of a TCP socket, for its close or live record. */
static __always_inline void fill_tcp_counters(struct ne_tcp_close *r, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	/*
	 * Application bytes, as the process wrote and read them: bytes_acked and bytes_received
	 * also count the SYN/FIN sequence numbers, so use payload sent minus retransmitted, and
	 * received minus the peer's FIN (tcp_fin() sets SOCK_DONE when it consumed one).
	 */
	__u64 sent = BPF_CORE_READ(tp, bytes_sent);
	__u64 resent = BPF_CORE_READ(tp, bytes_retrans);
	r->bytes_sent = sent > resent ? sent - resent : 0;
	__u64 received = BPF_CORE_READ(tp, bytes_received);
	unsigned long sk_flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	if ((sk_flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) && received > 0)
		received--;
	r->bytes_received = received;
	r->segs_out = BPF_CORE_READ(tp, segs_out);
	r->segs_in = BPF_CORE_READ(tp, segs_in);
	r->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	r->retransmits = BPF_CORE_READ(tp, total_retrans);
}

static __always_inline void emit_tcp_close(const struct sock *sk, __u64 cookie, struct sock_info *o, int oldstate)
{
	struct ne_tuple t = {};
	if (!tuple_from_sock(&t, sk, IPPROTO_TCP) || !ports_ok(t.lport, t.rport))
		return;
	t.direction = o ? o->direction : NE_DIR_UNKNOWN;
	struct ne_tcp_close *r = reserve(sizeof(*r));
	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, NE_TCP_CLOSE, sizeof(*r), cookie, o);
	if (!o)
		r->h.netns = sock_netns(sk);
	r->t = t;
	if (o && o->start_ns)
		r->duration_ns = r->h.ts_ns - o->start_ns;
	fill_tcp_counters(r, sk);
	int err = BPF_CORE_READ(sk, sk_err);
	if ((o && o->reset) || err == ECONNRESET_ || err == EPIPE_)
		r->reason = NE_CLOSE_RESET;
	else if (oldstate == S_ESTABLISHED || oldstate == S_SYN_RECV)
		/* Straight to CLOSE without a FIN exchange is an abort. */
		r->reason = NE_CLOSE_RESET;
	else
		r->reason = NE_CLOSE_FIN;
	r->old_state = oldstate;
	submit(r, sizeof(*r));
}

/* Marks a reported TCP socket for the live scan and notes its namespace. */
static __always_inline void mark_live(struct sock *sk)
{
	if (!bpf_sk_storage_get(&live_tcp, sk, 0, BPF_SK_STORAGE_GET_F_CREATE)) {
		STAT_INC(map_full);
		return;
	}
	__u32 ns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (!bpf_map_lookup_elem(&live_netns, &ns)) {
		__u8 one = 1;
		if (bpf_map_update_elem(&live_netns, &ns, &one, BPF_ANY))
			STAT_INC(map_full);
	}
}

/* Reports the open and marks the socket for the live scan (see live_tcp). */
static __always_inline void open_and_mark(const struct sock *sk, __u64 cookie, struct sock_info *o)
{
	emit_tcp_open(sk, cookie, o);
	if (cfg.enable_live_tcp && o->opened)
		mark_live((struct sock *)sk);
}

static __always_inline bool excluded_pid(__u32 pid)
{
	return cfg.exclude_tgid && pid == cfg.exclude_tgid;
}

/* Every later event of the socket shares this: the observer's own, or sampled out. */
static __always_inline void decide_skip(struct sock_info *n, __u64 cookie)
{
	if (excluded_pid(n->pid))
		n->skip = 1;
	else if (!sampled_in(cookie)) {
		n->skip = 1;
		STAT_INC(sampled_out);
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (!cfg.enable_tcp)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct sock_info *o;

	if (newstate == S_SYN_SENT) {
		/* connect(): process context. */
		struct sock_info n = {};
		owner_from_current(&n);
		n.start_ns = bpf_ktime_get_boot_ns();
		n.netns = sock_netns(sk);
		n.direction = NE_DIR_OUTBOUND;
		decide_skip(&n, cookie);
		if (bpf_map_update_elem(&socks, &cookie, &n, BPF_ANY))
			STAT_INC(map_full);
		return 0;
	}

	if (newstate == S_LISTEN) {
		/* listen(): process context; inbound connections inherit this owner. */
		struct sock_info n = {};
		owner_from_current(&n);
		n.netns = sock_netns(sk);
		n.direction = NE_DIR_INBOUND;
		n.skip = excluded_pid(n.pid);
		struct listen_key k = { .netns = n.netns, .port = BPF_CORE_READ(sk, __sk_common.skc_num) };
		if (bpf_map_update_elem(&listeners, &k, &n, BPF_ANY))
			STAT_INC(map_full);
		return 0;
	}

	if (newstate == S_ESTABLISHED) {
		if (oldstate == S_SYN_SENT) {
			o = bpf_map_lookup_elem(&socks, &cookie);
			if (!o) {
				/* connect() started before we were loaded. */
				struct sock_info n = { .direction = NE_DIR_OUTBOUND, .netns = sock_netns(sk) };
				if (!sampled_in(cookie)) {
					n.skip = 1;
					STAT_INC(sampled_out);
				}
				bpf_map_update_elem(&socks, &cookie, &n, BPF_ANY);
				o = bpf_map_lookup_elem(&socks, &cookie);
				if (!o)
					return 0;
			}
			if (!o->skip)
				open_and_mark(sk, cookie, o);
			return 0;
		}
		if (oldstate == S_SYN_RECV) {
			/* Accepted child socket, softirq: owner is the listener's process. */
			struct sock_info n = {};
			n.netns = sock_netns(sk);
			struct listen_key k = { .netns = n.netns, .port = BPF_CORE_READ(sk, __sk_common.skc_num) };
			struct sock_info *l = bpf_map_lookup_elem(&listeners, &k);
			if (l) {
				n = *l;
				n.tid = 0;
			}
			n.start_ns = bpf_ktime_get_boot_ns();
			n.direction = NE_DIR_INBOUND;
			n.opened = 0;
			if (!n.skip && !sampled_in(cookie)) {
				n.skip = 1;
				STAT_INC(sampled_out);
			}
			if (bpf_map_update_elem(&socks, &cookie, &n, BPF_ANY)) {
				STAT_INC(map_full);
				return 0;
			}
			o = bpf_map_lookup_elem(&socks, &cookie);
			if (o && !o->skip)
				open_and_mark(sk, cookie, o);
		}
		return 0;
	}

	if ((oldstate == S_ESTABLISHED && newstate == S_FIN_WAIT1) ||
	    (oldstate == S_CLOSE_WAIT && newstate == S_LAST_ACK)) {
		/* close()/shutdown(): process context, the best owner for an accepted socket. */
		o = bpf_map_lookup_elem(&socks, &cookie);
		if (o && o->pid == 0 && !o->skip) {
			owner_from_current(o);
			if (excluded_pid(o->pid))
				o->skip = 1;
		}
		return 0;
	}

	if (newstate == S_CLOSE) {
		if (oldstate == S_LISTEN) {
			struct listen_key k = { .netns = sock_netns(sk), .port = BPF_CORE_READ(sk, __sk_common.skc_num) };
			bpf_map_delete_elem(&listeners, &k);
			return 0;
		}
		o = bpf_map_lookup_elem(&socks, &cookie);
		if (oldstate == S_SYN_SENT) {
			if (!o || !o->skip)
				emit_tcp_fail(sk, cookie, o);
		} else if (oldstate != S_CLOSE && oldstate != S_SYN_RECV) {
			if (!o) {
				/* Opened before we were loaded: report what the kernel still knows. */
				if (sampled_in(cookie))
					emit_tcp_close(sk, cookie, NULL, oldstate);
			} else if (!o->skip) {
				emit_tcp_close(sk, cookie, o, oldstate);
			}
		}
		if (o)
			bpf_map_delete_elem(&socks, &cookie);
	}
	return 0;
}

static __always_inline void mark_reset(const struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (o)
		o->reset = 1;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_tcp_receive_reset, struct sock *sk)
{
	if (!cfg.enable_tcp || !sk)
		return 0;
	mark_reset(sk);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_tcp_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	/* sk is NULL for resets answering packets that match no socket. */
	if (!cfg.enable_tcp || !sk)
		return 0;
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != S_ESTABLISHED &&
	    BPF_CORE_READ(sk, __sk_common.skc_state) != S_CLOSE_WAIT &&
	    BPF_CORE_READ(sk, __sk_common.skc_state) != S_FIN_WAIT1)
		return 0;
	mark_reset(sk);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_tcp_destroy, struct sock *sk)
{
	/* Safety net: a socket that never went through ->CLOSE must not keep its entry. */
	__u64 cookie = bpf_get_socket_cookie(sk);
	bpf_map_delete_elem(&socks, &cookie);
	return 0;
}

static __always_inline bool is_dgram_proto(__u16 proto)
{
	return proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE || proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6_;
}

/*
 * Process context for every send/recv on any socket. Learns the owner of UDP/ICMP sockets
 * created before the observer started, and of accepted TCP sockets (whose listener may be
 * a different process than the worker that serves them).
 */
/*
 * A connected TCP socket moving data without an entry: it connected before we were loaded (or
 * its entry was evicted). Its open is long past, so it gets no open event; the process moving
 * data now becomes its owner, and it is marked for the live scan, so it is reported every
 * tcp_update_interval and at close with that process instead of pid 0.
 */
static __always_inline void adopt_tcp(struct sock *sk, __u64 cookie)
{
	if (!cfg.enable_tcp)
		return;
	int state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state != S_ESTABLISHED && state != S_CLOSE_WAIT)
		return;
	struct sock_info n = {};
	owner_from_current(&n);
	n.netns = sock_netns(sk);
	decide_skip(&n, cookie);
	/* NOEXIST: a state change that created the entry meanwhile knows more than we do. */
	if (bpf_map_update_elem(&socks, &cookie, &n, BPF_NOEXIST))
		return;
	if (cfg.enable_live_tcp && !n.skip)
		mark_live(sk);
}

static __always_inline void learn_owner(struct sock *sk)
{
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (proto == IPPROTO_TCP) {
		if (!o) {
			adopt_tcp(sk, cookie);
			return;
		}
		if (o->pid == 0 && !o->skip) {
			owner_from_current(o);
			if (excluded_pid(o->pid))
				o->skip = 1;
		}
		return;
	}
	if (!is_dgram_proto(proto))
		return;
	if (o && o->pid != 0) {
		/* cgroup/sock_create cannot see the namespace; fill it in once. */
		if (o->netns == 0)
			o->netns = sock_netns(sk);
		return;
	}
	struct sock_info n = {};
	owner_from_current(&n);
	n.netns = sock_netns(sk);
	n.start_ns = bpf_ktime_get_boot_ns();
	decide_skip(&n, cookie);
	if (bpf_map_update_elem(&socks, &cookie, &n, BPF_ANY)) {
		STAT_INC(map_full);
		return;
	}
	if (n.skip)
		return;
	if ((proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE) ? !cfg.enable_udp : !cfg.enable_icmp)
		return;
	struct ne_sock_owner *r = reserve(sizeof(*r));
	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, NE_SOCK_OWNER, sizeof(*r), cookie, &n);
	submit(r, sizeof(*r));
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(on_sock_send, struct sock *sk, int ret, int flags)
{
	if (ret > 0)
		learn_owner(sk);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_sock_recv, struct sock *sk, int ret, int flags)
{
	if (ret > 0)
		learn_owner(sk);
	return 0;
}

/* Socket creation runs in the creating process: the owner is known before the first packet. */
SEC("cgroup/sock_create")
int on_sock_create(struct bpf_sock *ctx)
{
	__u32 proto = ctx->protocol;
	if (!is_dgram_proto(proto))
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct sock_info n = {};
	__u64 id = bpf_get_current_pid_tgid();
	n.pid = id >> 32;
	n.tid = (__u32)id;
	n.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(n.comm, sizeof(n.comm));
	n.start_ns = bpf_ktime_get_boot_ns();
	/* A new socket lives in its creator's network namespace. */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	n.netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	decide_skip(&n, cookie);
	if (bpf_map_update_elem(&socks, &cookie, &n, BPF_ANY))
		STAT_INC(map_full);
	return 1;
}

struct icmp_head {
	__u8 type;
	__u8 code;
	__u16 csum;
	__u16 id;
	__u16 seq;
};

static __always_inline bool icmp_interesting(__u8 family, __u8 type)
{
	if (family == 4)
		/* echo reply, unreachable, echo request, time exceeded */
		return type == 0 || type == 3 || type == 8 || type == 11;
	/* unreachable, packet too big, time exceeded, echo request, echo reply (not ND/MLD) */
	return type == 1 || type == 2 || type == 3 || type == 128 || type == 129;
}

static __always_inline void handle_skb(struct __sk_buff *skb, __u8 dir)
{
	struct ne_tuple t = {};
	__u8 proto;
	__u32 l4off, l4len;
	__u8 src[16] = {}, dst[16] = {};

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (!cfg.enable_ipv4)
			return;
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return;
		if (ip.frag_off & bpf_htons(0x1fff))
			return; /* later fragments carry no L4 header */
		proto = ip.protocol;
		l4off = ip.ihl * 4;
		l4len = bpf_ntohs(ip.tot_len) - l4off;
		__builtin_memcpy(src, &ip.saddr, 4);
		__builtin_memcpy(dst, &ip.daddr, 4);
		t.family = 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (!cfg.enable_ipv6)
			return;
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return;
		proto = ip6.nexthdr;
		l4off = sizeof(ip6);
		l4len = bpf_ntohs(ip6.payload_len);
		__builtin_memcpy(src, &ip6.saddr, 16);
		__builtin_memcpy(dst, &ip6.daddr, 16);
		t.family = 6;
	} else {
		return;
	}

	__u16 sport = 0, dport = 0;
	struct icmp_head ih = {};
	if (proto == IPPROTO_UDP) {
		if (!cfg.enable_udp)
			return;
		struct udphdr uh;
		if (bpf_skb_load_bytes(skb, l4off, &uh, sizeof(uh)))
			return;
		sport = bpf_ntohs(uh.source);
		dport = bpf_ntohs(uh.dest);
		if (!ports_ok(sport, dport))
			return;
	} else if ((proto == IPPROTO_ICMP && t.family == 4) || (proto == IPPROTO_ICMPV6_ && t.family == 6)) {
		if (!cfg.enable_icmp)
			return;
		if (bpf_skb_load_bytes(skb, l4off, &ih, sizeof(ih)))
			return;
		if (!icmp_interesting(t.family, ih.type))
			return;
	} else {
		return;
	}

	__u64 cookie = bpf_get_socket_cookie(skb);
	struct sock_info *o = NULL;
	if (cookie) {
		o = bpf_map_lookup_elem(&socks, &cookie);
		if (o && o->skip)
			return;
		if (!o && !sampled_in(cookie)) {
			STAT_INC(sampled_out);
			return;
		}
	}

	t.proto = proto;
	t.direction = dir;
	if (dir == NE_DIR_OUTBOUND) {
		__builtin_memcpy(t.laddr, src, 16);
		__builtin_memcpy(t.raddr, dst, 16);
		t.lport = sport;
		t.rport = dport;
	} else {
		__builtin_memcpy(t.laddr, dst, 16);
		__builtin_memcpy(t.raddr, src, 16);
		t.lport = dport;
		t.rport = sport;
	}

	if (proto == IPPROTO_UDP) {
		struct ne_udp_pkt *r = reserve(sizeof(*r));
		if (!r)
			return;
		__builtin_memset(r, 0, sizeof(*r));
		fill_header(&r->h, NE_UDP_PKT, sizeof(*r), cookie, o);
		r->t = t;
		r->bytes = l4len > 8 ? l4len - 8 : 0;
		submit(r, sizeof(*r));
		return;
	}
	struct ne_icmp *r = reserve(sizeof(*r));
	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, NE_ICMP, sizeof(*r), cookie, o);
	r->t = t;
	r->icmp_type = ih.type;
	r->icmp_code = ih.code;
	r->echo_id = bpf_ntohs(ih.id);
	r->echo_seq = bpf_ntohs(ih.seq);
	r->bytes = l4len;
	submit(r, sizeof(*r));
}

SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb)
{
	handle_skb(skb, NE_DIR_OUTBOUND);
	return 1;
}

SEC("cgroup_skb/ingress")
int on_ingress(struct __sk_buff *skb)
{
	handle_skb(skb, NE_DIR_INBOUND);
	return 1;
}

/*
 * Live TCP connections, walked on demand by the receiver (tcp_update_interval): the kernel sends
 * nothing between a connection's open and close, so without this a long-idle connection looks
 * gone and its counters stay unknown until it closes. A TCP socket iterator visits the sockets
 * of one network namespace (the one user space was in when it created the iterator fd; it
 * enters each namespace listed in live_netns in turn) and reports those marked in live_tcp:
 * one ne_tcp_close-shaped NE_TCP_LIVE record each, written to the iterator's seq_file and read
 * from the iterator fd (never through the ring). A socket-storage map iterator would walk every
 * namespace at once, but the kernels we run on refuse to load map iterators (EPERM) where the
 * TCP iterator loads.
 */
SEC("iter/tcp")
int dump_live_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	if (!skc)
		return 0;
	/* NULL for request and time-wait sockets: neither is a connection we report as live. */
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	struct sock *sk = (struct sock *)tp;
	if (!bpf_sk_storage_get(&live_tcp, sk, 0, 0))
		return 0;
	int state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == S_CLOSE || state == S_LISTEN)
		return 0;
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (o && o->skip)
		return 0;
	struct ne_tcp_close r = {};
	if (!tuple_from_sock(&r.t, sk, IPPROTO_TCP) || !ports_ok(r.t.lport, r.t.rport))
		return 0;
	fill_header(&r.h, NE_TCP_LIVE, sizeof(r), cookie, o);
	if (!o)
		r.h.netns = sock_netns(sk);
	r.t.direction = o ? o->direction : NE_DIR_UNKNOWN;
	if (o && o->start_ns)
		r.duration_ns = r.h.ts_ns - o->start_ns;
	fill_tcp_counters(&r, sk);
	r.old_state = state;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

#define NE_BENCH_MAX_BURST 256

/*
 * Load generator for the ring benchmark only (never loaded by the receiver unless a benchmark
 * asks): each entry of one syscall by one thread emits a burst of realistic TCP close records, so
 * user-space decoding can be driven far beyond what real connections on two cores produce.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(bench_burst, struct pt_regs *regs, long id)
{
	if (!cfg.bench_tid || id != cfg.bench_syscall || (__u32)bpf_get_current_pid_tgid() != cfg.bench_tid)
		return 0;
	struct sock_info o = {};
	owner_from_current(&o);
	o.direction = NE_DIR_OUTBOUND;
	for (__u32 i = 0; i < NE_BENCH_MAX_BURST && i < cfg.bench_burst; i++) {
		struct ne_tcp_close *r = reserve(sizeof(*r));
		if (!r)
			continue; /* counted as ring_lost; keep offering so the loss count is exact */
		__builtin_memset(r, 0, sizeof(*r));
		fill_header(&r->h, NE_TCP_CLOSE, sizeof(*r), 1000000 + i, &o);
		r->t.family = 4;
		r->t.proto = IPPROTO_TCP;
		r->t.direction = NE_DIR_OUTBOUND;
		r->t.laddr[0] = 127;
		r->t.laddr[3] = 1;
		r->t.raddr[0] = 10;
		r->t.raddr[3] = (__u8)i;
		r->t.lport = 40000 + i;
		r->t.rport = 443;
		r->duration_ns = 1000000;
		r->bytes_sent = 512;
		r->bytes_received = 4096;
		r->segs_out = 4;
		r->segs_in = 5;
		r->srtt_us = 50;
		r->reason = NE_CLOSE_FIN;
		submit(r, sizeof(*r));
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Payload capture: the first capture_bytes of every read/write on a TCP or UDP socket.      */
/* ---------------------------------------------------------------------------------------- */

#if defined(__TARGET_ARCH_x86)
#define NR_READ 0
#define NR_WRITE 1
#define NR_READV 19
#define NR_WRITEV 20
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define NR_RECVMMSG 299
#define NR_SENDMMSG 307
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_READ 63
#define NR_WRITE 64
#define NR_READV 65
#define NR_WRITEV 66
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#define NR_RECVMMSG 243
#define NR_SENDMMSG 269
#define SYSCALL_NR(regs) BPF_CORE_READ((struct user_pt_regs *)(regs), regs[8])
#else
#error "payload capture knows the syscall numbers of x86 and arm64 only"
#endif

#define S_IFMT_ 00170000
#define S_IFSOCK_ 0140000
#define NE_MAX_IOV 8

/* How the user buffer of a call is described. */
enum buf_kind {
	BUF_PLAIN = 1,  /* buf, len */
	BUF_IOVEC = 2,  /* struct iovec *, count */
	BUF_MSGHDR = 3, /* struct user_msghdr * (iovecs and optional peer address) */
	BUF_MMSG = 4,   /* struct mmsghdr *: the first message only */
};

/* A socket call in flight, from sys_enter to sys_exit of the same thread. */
struct pending_io {
	__u64 buf;      /* user pointer: data, iovec array, msghdr or mmsghdr */
	__u64 count;    /* bytes or iovec count */
	__u64 addr;     /* user sockaddr (sendto/recvfrom), or 0 */
	__u64 sk;       /* struct sock * */
	__s32 fd;
	__u8 kind;      /* enum buf_kind */
	__u8 data_dir;  /* enum ne_data_dir */
	__u8 _pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct pending_io);
} pending SEC(".maps");

/* The socket behind fd in the current task, or NULL when fd is not an inet TCP/UDP socket. */
static __always_inline struct sock *socket_of_fd(int fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT_) != S_IFSOCK_)
		return NULL;
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return NULL;
	return sk;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	__u8 kind, dir;
	switch (id) {
	case NR_READ: kind = BUF_PLAIN; dir = NE_DATA_RECV; break;
	case NR_WRITE: kind = BUF_PLAIN; dir = NE_DATA_SEND; break;
	case NR_RECVFROM: kind = BUF_PLAIN; dir = NE_DATA_RECV; break;
	case NR_SENDTO: kind = BUF_PLAIN; dir = NE_DATA_SEND; break;
	case NR_READV: kind = BUF_IOVEC; dir = NE_DATA_RECV; break;
	case NR_WRITEV: kind = BUF_IOVEC; dir = NE_DATA_SEND; break;
	case NR_RECVMSG: kind = BUF_MSGHDR; dir = NE_DATA_RECV; break;
	case NR_SENDMSG: kind = BUF_MSGHDR; dir = NE_DATA_SEND; break;
	case NR_RECVMMSG: kind = BUF_MMSG; dir = NE_DATA_RECV; break;
	case NR_SENDMMSG: kind = BUF_MMSG; dir = NE_DATA_SEND; break;
	default: return 0;
	}
	__u64 id_tgid = bpf_get_current_pid_tgid();
	if (excluded_pid(id_tgid >> 32))
		return 0;
	int fd = (int)PT_REGS_PARM1_CORE_SYSCALL(regs);
	struct sock *sk = socket_of_fd(fd);
	if (!sk)
		return 0;
	struct pending_io io = {
		.buf = PT_REGS_PARM2_CORE_SYSCALL(regs),
		.count = PT_REGS_PARM3_CORE_SYSCALL(regs),
		.sk = (__u64)sk,
		.fd = fd,
		.kind = kind,
		.data_dir = dir,
	};
	if (id == NR_SENDTO || id == NR_RECVFROM)
		io.addr = PT_REGS_PARM5_CORE_SYSCALL(regs);
	bpf_map_update_elem(&pending, &id_tgid, &io, BPF_ANY);
	return 0;
}

/* Copies up to `want` bytes from user memory into scratch data at *off. */
static __always_inline void copy_chunk(struct ne_scratch *s, __u32 *off, __u64 src, __u64 want)
{
	__u32 o = *off;
	if (o >= NE_MAX_CAPTURE || want == 0)
		return;
	__u32 n = want > NE_MAX_CAPTURE ? NE_MAX_CAPTURE : (__u32)want;
	/*
	 * No-ops at run time that the verifier needs to bound the destination: the compiler would
	 * drop a plain C mask after the comparison above, so it is written in asm, and n is
	 * re-clamped after a barrier that makes the compiler forget what it knows about it.
	 */
	asm volatile("%[o] &= %[mask]" : [o] "+r"(o) : [mask] "i"(NE_MAX_CAPTURE - 1));
	barrier_var(n);
	if (n > NE_MAX_CAPTURE)
		n = NE_MAX_CAPTURE;
	if (bpf_probe_read_user(&s->data[o], n, (const void *)src)) {
		STAT_INC(read_errors);
		return;
	}
	*off = o + n;
}

/* Copies from an iovec array until `total` bytes are taken or NE_MAX_IOV entries are used. */
static __always_inline void copy_iov(struct ne_scratch *s, __u32 *off, __u64 iov_ptr, __u64 iov_count, __u64 total)
{
	__u64 left = total;
#pragma unroll
	for (int i = 0; i < NE_MAX_IOV; i++) {
		if (i >= iov_count || left == 0 || *off >= cfg.capture_bytes)
			break;
		struct iovec iov;
		if (bpf_probe_read_user(&iov, sizeof(iov), (const void *)(iov_ptr + i * sizeof(iov)))) {
			STAT_INC(read_errors);
			break;
		}
		__u64 want = iov.iov_len < left ? iov.iov_len : left;
		__u64 room = cfg.capture_bytes - *off;
		copy_chunk(s, off, (__u64)iov.iov_base, want < room ? want : room);
		left -= want;
	}
}

/* Fills the remote address/port from a user sockaddr (unconnected UDP). */
static __always_inline void peer_from_sockaddr(struct ne_tuple *t, __u64 addr)
{
	if (!addr)
		return;
	struct {
		__u16 family;
		__u16 port;
		__u32 flowinfo_or_v4;
		__u8 v6[16];
	} sa;
	if (bpf_probe_read_user(&sa, sizeof(sa), (const void *)addr))
		return;
	if (sa.family == AF_INET && t->family == 4) {
		__builtin_memcpy(t->raddr, &sa.flowinfo_or_v4, 4);
		t->rport = bpf_ntohs(sa.port);
	} else if (sa.family == AF_INET6) {
		__builtin_memcpy(t->raddr, sa.v6, 16);
		t->rport = bpf_ntohs(sa.port);
		if (is_v4_mapped(t->raddr))
			unmap_v4(t->raddr);
	}
}

static __always_inline void output_record(void *rec, __u64 size)
{
	__u64 pending_bytes = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size + 8;
	if (bpf_ringbuf_output(&events, rec, size, wakeup_flag(pending_bytes, size, ((struct ne_header *)rec)->ts_ns)))
		STAT_INC(ring_lost);
	else
		STAT_INC(records);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);
	if (nr != NR_READ && nr != NR_WRITE && nr != NR_READV && nr != NR_WRITEV && nr != NR_SENDTO &&
	    nr != NR_RECVFROM && nr != NR_SENDMSG && nr != NR_RECVMSG && nr != NR_SENDMMSG && nr != NR_RECVMMSG)
		return 0;
	__u64 id_tgid = bpf_get_current_pid_tgid();
	struct pending_io *iop = bpf_map_lookup_elem(&pending, &id_tgid);
	if (!iop)
		return 0;
	struct pending_io io = *iop;
	bpf_map_delete_elem(&pending, &id_tgid);
	if (ret <= 0)
		return 0;
	/* sendmmsg/recvmmsg return a message count; the first message's length is in msg_len. */
	__u64 moved = ret;
	if (io.kind == BUF_MMSG) {
		__u32 len0 = 0;
		if (bpf_probe_read_user(&len0, sizeof(len0), (const void *)(io.buf + offsetof(struct mmsghdr, msg_len))))
			return 0;
		moved = len0;
		if (!moved)
			return 0;
	}

	struct sock *sk = (struct sock *)io.sk;
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	/* A pointer found by walking the fd table is not one bpf_get_socket_cookie() accepts; read
	 * the cookie the other hooks already assigned (0 for a socket none of them has seen). */
	__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (o && o->skip)
		return 0;
	if (!o && !sampled_in(cookie)) {
		STAT_INC(sampled_out);
		return 0;
	}
	__u32 k = 0;
	struct ne_scratch *s = bpf_map_lookup_elem(&scratch, &k);
	if (!s)
		return 0;
	struct ne_payload *r = &s->rec;
	__builtin_memset(r, 0, sizeof(*r));
	if (!tuple_from_sock(&r->t, sk, proto))
		return 0;
	if (io.addr)
		peer_from_sockaddr(&r->t, io.addr);
	if (!ports_ok(r->t.lport, r->t.rport))
		return 0;
	r->t.direction = o ? o->direction : NE_DIR_UNKNOWN;

	__u32 off = 0;
	__u64 cap = moved < cfg.capture_bytes ? moved : cfg.capture_bytes;
	if (io.kind == BUF_PLAIN) {
		copy_chunk(s, &off, io.buf, cap);
	} else if (io.kind == BUF_IOVEC) {
		copy_iov(s, &off, io.buf, io.count, cap);
	} else {
		struct user_msghdr msg;
		if (bpf_probe_read_user(&msg, sizeof(msg), (const void *)io.buf))
			return 0;
		if (msg.msg_name)
			peer_from_sockaddr(&r->t, (__u64)msg.msg_name);
		copy_iov(s, &off, (__u64)msg.msg_iov, msg.msg_iovlen, cap);
	}

	struct sock_info me = {};
	owner_from_current(&me);
	me.netns = sock_netns(sk);
	fill_header(&r->h, NE_PAYLOAD, 0, cookie, &me);
	r->fd = io.fd;
	r->orig_len = moved > 0xffffffffULL ? 0xffffffff : (__u32)moved;
	r->cap_len = off;
	r->data_dir = io.data_dir;
	r->truncated = moved > off;
	if (r->truncated)
		STAT_INC(truncated);
	__u32 size = (sizeof(*r) + off + 7) & ~7U;
	if (size > sizeof(*r) + NE_MAX_CAPTURE)
		return 0;
	r->h.size = size;
	output_record(r, size);
	return 0;
}
