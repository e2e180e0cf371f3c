/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TCP lifecycle from tp_btf/inet_sock_set_state, following bcc tcplife / Coroot: the owning
 * process is captured at the transitions that run in process context (CLOSE->SYN_SENT on
 * connect, ->LISTEN on listen, ESTABLISHED->FIN_WAIT1 / CLOSE_WAIT->LAST_ACK on close) and
 * kept in a cookie-keyed map for the transitions that run in softirq (SYN_SENT->ESTABLISHED,
 * SYN_RECV->ESTABLISHED, ->CLOSE). Counters are read from tcp_sock at close.
 */
#ifndef NE_TCP_LIFECYCLE_BPF_H
#define NE_TCP_LIFECYCLE_BPF_H

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
	r->error = sk->sk_err;
	submit(r, sizeof(*r));
}

/* Cumulative counters of a TCP socket, for its close or live record. */
static __always_inline void fill_tcp_counters(struct ne_tcp_close *r, const struct tcp_sock *tp)
{
	/*
	 * Application bytes, as the process wrote and read them: bytes_acked and bytes_received
	 * also count the SYN/FIN sequence numbers, so use payload sent minus retransmitted, and
	 * received minus the peer's FIN (tcp_fin() sets SOCK_DONE when it consumed one).
	 */
	__u64 sent = tp->bytes_sent;
	__u64 resent = tp->bytes_retrans;
	r->bytes_sent = sent > resent ? sent - resent : 0;
	__u64 received = tp->bytes_received;
	unsigned long sk_flags = tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags;
	if ((sk_flags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) && received > 0)
		received--;
	r->bytes_received = received;
	r->segs_out = tp->segs_out;
	r->segs_in = tp->segs_in;
	r->srtt_us = tp->srtt_us >> 3;
	r->retransmits = tp->total_retrans;
}

static void h1_flush_at_close(const struct sock *sk, struct sock_info *o);
static __u32 h1_take_counted(struct sock_info *o);

static __always_inline void emit_tcp_close(const struct sock *sk, __u64 cookie, struct sock_info *o, int oldstate)
{
	/* A request held for a summary goes out before the close that ends its exchange. */
	if (o && o->h1_held)
		h1_flush_at_close(sk, o);
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
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	if (tp)
		fill_tcp_counters(r, tp);
	int err = sk->sk_err;
	if ((o && o->reset) || err == ECONNRESET_ || err == EPIPE_)
		r->reason = NE_CLOSE_RESET;
	else if (oldstate == S_ESTABLISHED || oldstate == S_SYN_RECV)
		/* Straight to CLOSE without a FIN exchange is an abort. */
		r->reason = NE_CLOSE_RESET;
	else
		r->reason = NE_CLOSE_FIN;
	r->old_state = oldstate;
	/* HTTP/1 exchanges counted at this socket and not yet sent go with its close. */
	if (o)
		r->h1_exchanges = h1_take_counted(o);
	submit(r, sizeof(*r));
}

/*
 * Marks a reported TCP socket for the live scan and notes its namespace. The mark is a flag in
 * the socket's entry: a mark in socket-local storage cost ~1 µs a socket to create (in softirq,
 * at the open), measured as on_tcp_state 590 -> 384 ns a transition under short connections.
 */
static __always_inline void mark_live(const struct sock *sk, struct sock_info *o)
{
	o->live = 1;
	__u32 ns = sock_netns(sk);
	if (!bpf_map_lookup_elem(&live_netns, &ns)) {
		__u8 one = 1;
		if (bpf_map_update_elem(&live_netns, &ns, &one, BPF_ANY))
			STAT_INC(map_full);
	}
}

static __always_inline void note_peer_of_excluded(const struct sock *sk)
{
	struct ne_tuple t = {};
	if (tuple_from_sock(&t, sk, IPPROTO_TCP))
		note_self_flow(&t);
}

/*
 * An entry for a TCP socket that has none (older than us, or evicted), owned by the current
 * process: the one moving its data (adopt_tcp) or closing it. True when this call made it;
 * NOEXIST leaves an entry a racing state change or data path made meanwhile, which knows more.
 */
static __always_inline bool adopt_entry(const struct sock *sk, __u64 cookie)
{
	struct sock_info n = { .netns = sock_netns(sk) };
	owner_from_current(&n);
	decide_skip(&n, cookie);
	return !bpf_map_update_elem(&socks, &cookie, &n, BPF_NOEXIST);
}

static __always_inline bool is_peer_of_excluded(const struct sock *sk)
{
	struct ne_tuple t = {};
	return tuple_from_sock(&t, sk, IPPROTO_TCP) && is_self_flow(&t);
}

static void h1_follow_from_start(const struct sock *sk, struct sock_info *o);

/*
 * Reports the open and marks the socket for the live scan; with HTTP/1 summaries, its streams
 * are followed from their first byte (only a stream followed so can be summarised).
 */
static __always_inline void open_and_mark(const struct sock *sk, __u64 cookie, struct sock_info *o)
{
	emit_tcp_open(sk, cookie, o);
	if (cfg.enable_live_tcp && o->opened)
		mark_live(sk, o);
	if (cfg.h1_full_per_cpu && cfg.enable_payload)
		h1_follow_from_start(sk, o);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (!cfg.enable_tcp)
		return 0;
	if (sk->sk_protocol != IPPROTO_TCP)
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
		n.skip = excluded_owner(&n);
		struct listen_key k = { .netns = n.netns, .port = sk->__sk_common.skc_num };
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
			else if (excluded_owner(o))
				note_peer_of_excluded(sk);
			return 0;
		}
		if (oldstate == S_SYN_RECV) {
			/* Accepted child socket, softirq: owner is the listener's process. */
			struct sock_info n = {};
			n.netns = sock_netns(sk);
			struct listen_key k = { .netns = n.netns, .port = sk->__sk_common.skc_num };
			struct sock_info *l = bpf_map_lookup_elem(&listeners, &k);
			if (l) {
				n = *l;
				n.tid = 0;
			}
			n.start_ns = bpf_ktime_get_boot_ns();
			n.direction = NE_DIR_INBOUND;
			n.opened = 0;
			if (!n.skip && is_peer_of_excluded(sk))
				n.skip = 1;
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
		/*
		 * close()/shutdown(): process context, the best owner for an accepted socket, and for
		 * one older than us that moved no data since (so its close does not say pid 0, and the
		 * observer's own API watches, opened before its programs loaded, are not reported).
		 * Not marked for the live scan: it is on its way out.
		 */
		o = bpf_map_lookup_elem(&socks, &cookie);
		if (!o)
			adopt_entry(sk, cookie);
		else if (o->pid == 0 && !o->skip)
			claim_unowned_tcp(sk, o);
		return 0;
	}

	if (newstate == S_CLOSE) {
		if (oldstate == S_LISTEN) {
			struct listen_key k = { .netns = sock_netns(sk), .port = sk->__sk_common.skc_num };
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
	if (sk->__sk_common.skc_state != S_ESTABLISHED &&
	    sk->__sk_common.skc_state != S_CLOSE_WAIT &&
	    sk->__sk_common.skc_state != S_FIN_WAIT1)
		return 0;
	mark_reset(sk);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_tcp_destroy, struct sock *sk)
{
	/*
	 * Safety net: ->CLOSE deletes the entry after reporting the close, so an entry still here
	 * belongs to a socket that is going away without that transition. Its connection ends
	 * now, so conntrack never holds it active.
	 */
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (!o)
		return 0;
	if (cfg.enable_tcp && o->opened && !o->skip) {
		emit_tcp_close(sk, cookie, o, sk->__sk_common.skc_state);
		STAT_INC(closed_at_destroy);
	}
	bpf_map_delete_elem(&socks, &cookie);
	return 0;
}

#endif /* NE_TCP_LIFECYCLE_BPF_H */
