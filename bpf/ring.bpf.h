/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ring every record goes through and how records are written into it: the ring map, the
 * per-CPU counters, batched wake-ups, and the record header filled from its owner.
 * Included by common.bpf.h (net.bpf.o) and by bench.bpf.c, the ring benchmark's load generator,
 * whose `events` and `stats` are the receiver's own maps (reused by fd before load), so the
 * generator's records reach the receiver exactly as the programs' do. Reads no configuration:
 * the wake-up settings are arguments, from each object's own .rodata.
 */
#ifndef NE_RING_BPF_H
#define NE_RING_BPF_H

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

/* How payload capture sees a TCP stream (payload.bpf.h, h1_summary.bpf.h). */
struct stream_state {
	__u8 cls;
	__u8 sniffed;  /* chunks seen while NE_CLS_UNKNOWN */
	__u8 tls_dirs; /* NE_DATA_SEND | NE_DATA_RECV bits that carried a handshake record */
	__u8 h1;       /* H1_* bits of h1_summary.bpf.h */
	/* Where each direction stood after the last call h1_take_call followed (TCP sequence numbers). */
	__u32 send_next;
	__u32 recv_next;
	__u32 body_left; /* bytes of a message body still to come in later calls (H1_BODY) */
};

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
	__u8 live;    /* reported by the live scan (see live_scan.bpf.h) */
	__u8 h1_held; /* a request waits in h1_stashes (h1_summary.bpf.h) */
	char comm[NE_COMM_LEN];
	struct stream_state stream; /* TCP: what the capture knows of its bytes */
	__u32 h1_counted; /* HTTP/1 exchanges summarised and counted, not yet sent (h1_summary.bpf.h) */
};

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

/* A fixed-size record in the ring, or NULL (counted as ring_lost: the consumer was too slow). */
static __always_inline void *ring_reserve(__u32 size)
{
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
 * Batched wake-ups: the reader is woken when a record crosses `threshold` bytes pending
 * (so the ring never fills unnoticed; again every NE_REWAKE_NS while it stays above), or when
 * it is the first record `interval_us` after
 * the last forced wake-up (so records that trickle in below the threshold wait at most that
 * long). Traffic itself carries the clock: a quiet ring wakes nobody and the reader needs no
 * polling timer. Waking on every record costs ~10x more CPU; forcing a wake-up on every
 * record while the reader is behind would cost an irq_work per record for nothing.
 */
/*
 * Above the threshold, a wake-up at least this often: records submitted on two CPUs at once can
 * step over the crossing (each read `pending` before the other's record landed), and a missed
 * crossing would otherwise wait for the interval while the ring fills. The reader that is
 * already draining loses nothing by it: edge-triggered wake-ups coalesce.
 */
#define NE_REWAKE_NS 1000000ULL

static __always_inline __u64 ring_wakeup_flag(__u64 pending, __u64 size, __u64 now_ns, __u32 threshold, __u32 interval_us)
{
	__u64 since = now_ns - last_wakeup_ns;
	bool over = pending >= threshold;
	bool crossed = over && pending < (__u64)threshold + size + 8;
	__u64 interval_ns = (__u64)interval_us * 1000;
	if (crossed || (over && since >= NE_REWAKE_NS) || (interval_ns && since >= interval_ns)) {
		last_wakeup_ns = now_ns;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/* `rec` (from ring_reserve) starts with its ne_header, filled in, whose stamp is the record's time. */
static __always_inline void ring_submit(void *rec, __u32 size, __u32 threshold, __u32 interval_us)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(rec, ring_wakeup_flag(pending, size, ((struct ne_header *)rec)->ts_ns, threshold, interval_us));
	STAT_INC(records);
}

static __always_inline void owner_from_current(struct sock_info *o)
{
	__u64 id = bpf_get_current_pid_tgid();
	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/*
 * The task in this call as the owner in a record's header. Payload records take it only once
 * they are sent or held (~100 ns of helpers): an exchange counted in the kernel never needs it.
 */
static __always_inline void header_owner_from_current(struct ne_header *h)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
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

#endif /* NE_RING_BPF_H */
