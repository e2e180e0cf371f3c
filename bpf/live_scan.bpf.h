/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live-connection scan (tcp_update_interval), run on demand by the receiver.
 */
#ifndef NE_LIVE_SCAN_BPF_H
#define NE_LIVE_SCAN_BPF_H

/*
 * Live TCP connections, walked on demand by the receiver (tcp_update_interval): the kernel sends
 * nothing between a connection's open and close, so without this a long-idle connection looks
 * gone and its counters stay unknown until it closes. A TCP socket iterator visits the sockets
 * of one network namespace (the one user space was in when it created the iterator fd; it
 * enters each namespace listed in live_netns in turn) and reports those marked live in socks
 * (sock_info.live, set when their open was reported or they were adopted; a socket whose entry
 * the table evicted under pressure, above max_tracked_sockets, is no longer reported live):
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
	int state = sk->__sk_common.skc_state;
	if (state == S_CLOSE || state == S_LISTEN)
		return 0;
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct sock_info *o = bpf_map_lookup_elem(&socks, &cookie);
	if (!o || !o->live || o->skip)
		return 0;
	struct ne_tcp_close r = {};
	if (!tuple_from_sock(&r.t, sk, IPPROTO_TCP) || !ports_ok(r.t.lport, r.t.rport))
		return 0;
	fill_header(&r.h, NE_TCP_LIVE, sizeof(r), cookie, o);
	r.t.direction = o->direction;
	if (o->start_ns)
		r.duration_ns = r.h.ts_ns - o->start_ns;
	fill_tcp_counters(&r, tp);
	r.old_state = state;
	/* So a quiet connection's counted HTTP/1 exchanges wait no longer than one scan interval. */
	r.h1_exchanges = h1_take_counted(o);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

#endif /* NE_LIVE_SCAN_BPF_H */
