/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ring benchmark's load generator; loaded only when a benchmark asks for it.
 */
#ifndef NE_BENCH_BPF_H
#define NE_BENCH_BPF_H

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

#endif /* NE_BENCH_BPF_H */
