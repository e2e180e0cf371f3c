// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ring benchmark's load generator (bench/ring-generator.ts, run by bench/ebpf-ring.bench.ts),
 * an object of its own: the production object carries nothing of it. Each entry of one syscall
 * by one thread emits a burst of realistic TCP close records, so user-space reading and decoding
 * can be driven far beyond what real connections on two cores produce.
 *
 * Its `events` and `stats` are a running receiver's maps, reused by fd before load: the records
 * go into the production ring, counted in the production counters, and the receiver reads them
 * exactly as it reads the programs' records. Only ring.bpf.h is shared with net.bpf.c, so this
 * object creates no map of its own besides its .rodata and .bss.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "net_events.h"

char LICENSE[] SEC("license") = "GPL";

#include "ring.bpf.h"

/* Bounds the burst loop for the verifier; bench/ring-generator.ts refuses larger bursts. */
#define NE_BENCH_MAX_BURST 256

/* Written by bench/ring-generator.ts between open and load, each by its name. */
const volatile __u32 trigger_tid;       /* the thread whose syscalls emit bursts */
const volatile __u32 trigger_syscall;   /* the syscall number that emits a burst */
const volatile __u32 records_per_burst; /* at most NE_BENCH_MAX_BURST */
/*
 * The receiver's own cfg.wakeup_threshold and cfg.wakeup_interval_us, so these records wake the
 * reader as the programs' records do. This object keeps its own stamp of the last forced
 * wake-up (ring.bpf.h), so with production records flowing too the interval may force one
 * wake-up more per interval.
 */
const volatile __u32 wakeup_threshold;
const volatile __u32 wakeup_interval_us;

SEC("tp_btf/sys_enter")
int BPF_PROG(bench_burst, struct pt_regs *regs, long id)
{
	if (!trigger_tid || id != trigger_syscall || (__u32)bpf_get_current_pid_tgid() != trigger_tid)
		return 0;
	struct sock_info o = {};
	owner_from_current(&o);
	o.direction = NE_DIR_OUTBOUND;
	for (__u32 i = 0; i < NE_BENCH_MAX_BURST && i < records_per_burst; i++) {
		struct ne_tcp_close *r = ring_reserve(sizeof(*r));
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
		ring_submit(r, sizeof(*r), wakeup_threshold, wakeup_interval_us);
	}
	return 0;
}
