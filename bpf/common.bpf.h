/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every program family shares: the load-time configuration, the ring with its wake-ups
 * and counters bound to it (ring.bpf.h), the per-second cap, the socket-ownership table and
 * the helpers that fill address tuples.
 */
#ifndef NE_COMMON_BPF_H
#define NE_COMMON_BPF_H

#include "ring.bpf.h"

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
	struct ne_h1_response h1_response;
	struct ne_h1_count h1_count;
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

/* Network namespaces (inode numbers) holding sockets marked live (sock_info.live): where the scan goes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} live_netns SEC(".maps");


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

/* A record in the ring within the per-second cap, or NULL (counted as rate_limited or ring_lost). */
static __always_inline void *reserve(__u32 size)
{
	if (!rate_ok())
		return NULL;
	return ring_reserve(size);
}

/* The ring's wake-up policy (ring.bpf.h) with the receiver's settings. */
static __always_inline __u64 wakeup_flag(__u64 pending, __u64 size, __u64 now_ns)
{
	return ring_wakeup_flag(pending, size, now_ns, cfg.wakeup_threshold, cfg.wakeup_interval_us);
}

/* `rec` (from reserve) starts with its ne_header, filled in, whose stamp is the record's time. */
static __always_inline void submit(void *rec, __u32 size)
{
	ring_submit(rec, size, cfg.wakeup_threshold, cfg.wakeup_interval_us);
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

/*
 * Fills the tuple from a socket but its local port; false when the family is not observed. `sk`
 * must be a BTF pointer (a tp_btf argument, or from a bpf_skc_to_* helper): fields are read
 * directly, which costs a load each where a probe read costs a helper call.
 */
static __always_inline bool tuple_addrs_from_sock(struct ne_tuple *t, const struct sock *sk, __u8 proto)
{
	__u16 family = sk->__sk_common.skc_family;
	t->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	t->proto = proto;
	if (family == AF_INET) {
		__u32 l = sk->__sk_common.skc_rcv_saddr;
		__u32 r = sk->__sk_common.skc_daddr;
		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
		t->family = 4;
		return cfg.enable_ipv4;
	}
	if (family != AF_INET6)
		return false;
	__builtin_memcpy(t->laddr, sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
	__builtin_memcpy(t->raddr, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
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

/* The tuple of a socket in any state. */
static __always_inline bool tuple_from_sock(struct ne_tuple *t, const struct sock *sk, __u8 proto)
{
	/* inet_sport, not skc_num: TCP releases the port (skc_num = 0) before the ->CLOSE trace.
	 * It lies past struct sock, so the verifier wants a probe read for it. */
	t->lport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	return tuple_addrs_from_sock(t, sk, proto);
}

/*
 * The tuple of a TCP or UDP socket moving data: bound, so its local port is skc_num, a direct
 * load instead of tuple_from_sock's probe read (~30 ns on every captured call); only a TCP
 * socket read after its close (bytes still queued) has released the port and needs the read.
 */
static __always_inline bool tuple_from_bound_sock(struct ne_tuple *t, const struct sock *sk, __u8 proto)
{
	__u16 port = sk->__sk_common.skc_num;
	if (port == 0)
		return tuple_from_sock(t, sk, proto);
	t->lport = port;
	return tuple_addrs_from_sock(t, sk, proto);
}

/* `sk` as for tuple_from_sock. */
static __always_inline __u32 sock_netns(const struct sock *sk)
{
	return sk->__sk_common.skc_net.net->ns.inum;
}

/* A task name against an exclude_processes entry: equal, or equal up to the entry's '*'. */
static __always_inline bool comm_matches(const char *comm, const volatile char *pattern)
{
#pragma unroll
	for (int j = 0; j < NE_COMM_LEN; j++) {
		char p = pattern[j];
		if (p == '*')
			return true;
		if (p != comm[j])
			return false;
		if (p == 0)
			return true;
	}
	return true;
}

/* The observer itself, or a process excluded by name: none of its sockets is reported. */
static __always_inline bool excluded_owner(const struct sock_info *o)
{
	if (cfg.exclude_tgid && o->pid == cfg.exclude_tgid)
		return true;
#pragma unroll
	for (int i = 0; i < NE_MAX_EXCLUDED_COMM; i++) {
		if (i >= cfg.n_exclude_comm)
			break;
		if (comm_matches(o->comm, cfg.exclude_comm[i]))
			return true;
	}
	return false;
}

/* The current task belongs to an excluded process (uprobes, which have no socket entry yet). */
static __always_inline bool excluded_current(void)
{
	struct sock_info me = {};
	me.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(me.comm, sizeof(me.comm));
	return excluded_owner(&me);
}

/*
 * The far end of an excluded process's connection on this host (a collector on loopback, or
 * in another network namespace reached without address translation) is not reported either:
 * its tuple, as that end sees it, is kept here when the excluded end connects or sends.
 */
struct self_flow_key {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u8 proto;
	__u8 _pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct self_flow_key);
	__type(value, __u8);
} self_flows SEC(".maps");

/* Remembers `t` (an excluded socket's tuple) as its peer will see it. */
static __always_inline void note_self_flow(const struct ne_tuple *t)
{
	struct self_flow_key k = { .lport = t->rport, .rport = t->lport, .proto = t->proto };
	__builtin_memcpy(k.laddr, t->raddr, 16);
	__builtin_memcpy(k.raddr, t->laddr, 16);
	__u8 one = 1;
	bpf_map_update_elem(&self_flows, &k, &one, BPF_ANY);
}

/* True when `t` is the far end of an excluded process's connection; counted. */
static __always_inline bool is_self_flow(const struct ne_tuple *t)
{
	struct self_flow_key k = { .lport = t->lport, .rport = t->rport, .proto = t->proto };
	__builtin_memcpy(k.laddr, t->laddr, 16);
	__builtin_memcpy(k.raddr, t->raddr, 16);
	if (!bpf_map_lookup_elem(&self_flows, &k))
		return false;
	STAT_INC(self_peer_skipped);
	return true;
}

/* Every later event of the socket shares this: an excluded owner's, or sampled out. */
static __always_inline void decide_skip(struct sock_info *n, __u64 cookie)
{
	if (excluded_owner(n))
		n->skip = 1;
	else if (!sampled_in(cookie)) {
		n->skip = 1;
		STAT_INC(sampled_out);
	}
}

/*
 * A TCP socket without an owner yet (accepted from a listener that predates us) takes the
 * process that reads, writes or closes it. When that process is excluded (the observer's own
 * health or metrics endpoint, say), the listener is remembered as excluded, so the connections
 * it accepts next are skipped from their open instead of reported with pid 0.
 */
static __always_inline void claim_unowned_tcp(const struct sock *sk, struct sock_info *o)
{
	owner_from_current(o);
	if (!excluded_owner(o))
		return;
	o->skip = 1;
	if (o->direction != NE_DIR_INBOUND)
		return;
	struct listen_key k = { .netns = o->netns, .port = sk->__sk_common.skc_num };
	/* As on_tcp_state builds it at listen(): the owner, and nothing of this one connection. */
	struct sock_info l = { .cgroup_id = o->cgroup_id, .pid = o->pid, .netns = o->netns, .direction = NE_DIR_INBOUND, .skip = 1 };
	__builtin_memcpy(l.comm, o->comm, NE_COMM_LEN);
	/* NOEXIST: a listen() seen by us knows its owner better than a guess from one connection. */
	bpf_map_update_elem(&listeners, &k, &l, BPF_NOEXIST);
}

#endif /* NE_COMMON_BPF_H */
