/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who owns a socket: learned at socket creation (cgroup/sock_create) for datagram sockets, and
 * from the process moving data (sock_send_length / sock_recv_length) for sockets made before
 * the observer started and for accepted TCP sockets served by another process.
 */
#ifndef NE_OWNER_BPF_H
#define NE_OWNER_BPF_H

static __always_inline bool is_dgram_proto(__u16 proto)
{
	return proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE || proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6_;
}

/*
 * A connected TCP socket moving data without an entry: it connected before we were loaded (or
 * its entry was evicted). Its open is long past, so it gets no open event; the process moving
 * data now becomes its owner, and it is marked for the live scan, so it is reported every
 * tcp_update_interval and at close with that process instead of pid 0.
 */
static __always_inline struct sock_info *adopt_tcp(struct sock *sk, __u64 cookie)
{
	if (!cfg.enable_tcp)
		return NULL;
	int state = sk->__sk_common.skc_state;
	if (state != S_ESTABLISHED && state != S_CLOSE_WAIT)
		return NULL;
	bool adopted = adopt_entry(sk, cookie);
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (o && adopted && cfg.enable_live_tcp && !o->skip)
		mark_live(sk, o);
	return o;
}

/*
 * Process context for every send/recv on any socket. Learns the owner of UDP/ICMP sockets
 * created before the observer started, and of accepted TCP sockets (whose listener may be
 * a different process than the worker that serves them). Returns the socket's entry (NULL
 * when it has none), which the payload capture reuses.
 */
static __always_inline struct sock_info *learn_owner(struct sock *sk, __u64 cookie)
{
	__u16 proto = sk->sk_protocol;
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (proto == IPPROTO_TCP) {
		if (!o)
			return adopt_tcp(sk, cookie);
		if (o->pid == 0 && !o->skip)
			claim_unowned_tcp(sk, o);
		return o;
	}
	if (!is_dgram_proto(proto))
		return o;
	if (o && o->pid != 0) {
		/* cgroup/sock_create cannot see the namespace; fill it in once. */
		if (o->netns == 0)
			o->netns = sock_netns(sk);
		return o;
	}
	struct sock_info n = {};
	owner_from_current(&n);
	n.netns = sock_netns(sk);
	n.start_ns = bpf_ktime_get_boot_ns();
	decide_skip(&n, cookie);
	if (bpf_map_update_elem(&socks, &cookie, &n, BPF_ANY)) {
		STAT_INC(map_full);
		return NULL;
	}
	o = bpf_map_lookup_elem(&socks, &cookie);
	if (n.skip)
		return o;
	if ((proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE) ? !cfg.enable_udp : !cfg.enable_icmp)
		return o;
	struct ne_sock_owner *r = reserve(sizeof(*r));
	if (!r)
		return o;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, NE_SOCK_OWNER, sizeof(*r), cookie, &n);
	submit(r, sizeof(*r));
	return o;
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

#endif /* NE_OWNER_BPF_H */
