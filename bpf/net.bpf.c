// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network observer kernel side, one object built from one header per program family:
 *   common.bpf.h        configuration, rate cap, socket table, tuples; includes
 *   ring.bpf.h          the ring, its wake-ups and counters, record headers (shared with bench.bpf.c)
 *   tcp_lifecycle.bpf.h TCP open/close/failure from inet_sock_set_state (no kprobes)
 *   owner.bpf.h         who owns a socket (creation, and the process moving its data)
 *   udp_peers.bpf.h     the sender of each DNS datagram an unconnected UDP socket will read
 *   packets.bpf.h       UDP and ICMP at the packet level (cgroup_skb)
 *   payload.bpf.h       L7 payload capture, classified per stream
 *   h1_summary.bpf.h    HTTP/1 exchanges framed in the kernel and sent as one summary each
 *   tls_uprobes.bpf.h   HTTPS plaintext from uprobes on OpenSSL, joined to its socket
 *   live_scan.bpf.h     the on-demand scan of live TCP connections
 * Works without kprobes and fentry, neither of which the kernels we target offer, and without
 * syscall tracepoints, which slow every syscall on the host down once one is attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "net_events.h"

char LICENSE[] SEC("license") = "GPL";

#include "common.bpf.h"
#include "tcp_lifecycle.bpf.h"
#include "owner.bpf.h"
#include "udp_peers.bpf.h"
#include "packets.bpf.h"
#include "payload.bpf.h"
#include "tls_uprobes.bpf.h"
#include "live_scan.bpf.h"

/*
 * Socket I/O, after the data moved: the owner is learned, an OpenSSL call in progress on the
 * thread is bound to the socket, then the payload is captured. `h1` (a constant in each program)
 * adds the HTTP/1 summaries: only the _h1 programs carry that code, so a kernel that cannot
 * verify it (no bpf_loop, no trusted arguments) still loads the others.
 */
static __always_inline void socket_io(struct sock *sk, int ret, int flags, __u8 dir, bool h1)
{
	if (ret <= 0)
		return;
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct sock_info *o = learn_owner(sk, cookie);
	/* The stream's class, in the socket's entry or else in its storage (a lookup costs ~100 ns). */
	struct stream_state *st = NULL;
	if (cfg.enable_payload && sk->sk_protocol == IPPROTO_TCP)
		st = o ? &o->stream : bpf_sk_storage_get(&l7_streams, sk, 0, 0);
	if (cfg.enable_tls_plain) /* set only with enable_payload */
		tls_socket_io(sk, cookie, o, dir, st);
	if (cfg.enable_payload)
		capture_io(sk, cookie, o, ret, dir, flags, st, h1);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(on_sock_send, struct sock *sk, int ret, int flags)
{
	socket_io(sk, ret, flags, NE_DATA_SEND, false);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_sock_recv, struct sock *sk, int ret, int flags)
{
	socket_io(sk, ret, flags, NE_DATA_RECV, false);
	return 0;
}

/* The same with HTTP/1 summaries (http1_summary_above > 0), loaded instead of the two above. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(on_sock_send_h1, struct sock *sk, int ret, int flags)
{
	socket_io(sk, ret, flags, NE_DATA_SEND, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_sock_recv_h1, struct sock *sk, int ret, int flags)
{
	socket_io(sk, ret, flags, NE_DATA_RECV, true);
	return 0;
}
