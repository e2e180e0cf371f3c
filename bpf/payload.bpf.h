/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Payload capture for the l7 processor, at the cost of the calls that matter only.
 *
 * Where: tp_btf/sock_send_length and sock_recv_length run for socket I/O alone, after the data
 * moved, with the socket in hand (no fd-table walk, no map keyed by thread). The user buffer is
 * found in the syscall's own arguments, read from the task's saved user registers
 * (bpf_task_pt_regs), so no program runs at syscall entry or exit. The sender of a datagram an
 * unconnected UDP socket reads reaches user memory only after the socket layer returns: it is
 * taken from where the datagram arrived instead (udp_peers.bpf.h).
 *
 * What: each TCP stream is classified once, in its socket's entry. A stream that starts like
 * HTTP/1, HTTP/2 (preface or frame header), DNS over TCP or a TLS handshake keeps being
 * copied; one that shows none of them within NE_SNIFF_CHUNKS reads/writes is not copied again,
 * and a TLS stream stops being copied once application data follows a handshake seen in both
 * directions (everything after it is ciphertext). UDP datagrams are copied when they look like
 * DNS. Whatever is not copied is counted (ne_stats.skipped_*).
 */
#ifndef NE_PAYLOAD_BPF_H
#define NE_PAYLOAD_BPF_H

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
#define SYSCALL_NR(regs) ((regs)->orig_ax)
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

#define NE_MAX_IOV 8
/* Reads/writes of an unrecognised TCP stream copied before it is given up on. */
#define NE_SNIFF_CHUNKS 32
#define PF_IO_WORKER_ 0x00000010
#define PF_KTHREAD_ 0x00200000
#define MSG_PEEK_ 2
#define NE_MAX_MMSG 8
/*
 * The end of a read or write larger than capture_bytes on an L7 stream is copied too, as a
 * record of its own: HTTP/2 peers read a large DATA frame and the trailers after it (the gRPC
 * status) in one call, and chunked HTTP/1 bodies end with their last chunk. A power of two.
 */
#define NE_TAIL_BYTES 256

/* How the user buffer of a call is described. */
enum buf_kind {
	BUF_PLAIN = 1,  /* buf, len */
	BUF_IOVEC = 2,  /* struct iovec *, count */
	BUF_MSGHDR = 3, /* struct user_msghdr * (iovecs and optional peer address) */
	BUF_MMSG = 4,   /* struct mmsghdr *: the message being moved, see mmsg_index */
};

/* The user side of the socket call in progress. */
struct syscall_io {
	__u64 buf;     /* user pointer: data, iovec array, msghdr or mmsghdr */
	__u64 count;   /* bytes or iovec count */
	__u64 addr;    /* user sockaddr naming the peer (sendto), or 0 */
	__s32 fd;
	__u8 kind;     /* enum buf_kind */
	__u8 dir;      /* NE_DATA_SEND / NE_DATA_RECV */
	__u8 _pad[2];
};

/* enum ne_stream_class */
#define NE_CLS_UNKNOWN 0
#define NE_CLS_L7 1       /* HTTP/1, HTTP/2, DNS: copied */
#define NE_CLS_TLS 2      /* TLS handshake in progress: copied */
#define NE_CLS_OPAQUE 3   /* nothing we parse: no longer copied */
#define NE_CLS_TLS_DONE 4 /* TLS past its handshake: no longer copied */
#define NE_CLS_TLS_PLAIN 5 /* TLS whose plaintext the library uprobes take (tls_uprobes.bpf.h) */

/*
 * The class of a TCP stream lives in its socket's entry (sock_info.stream), made with the entry
 * at the open; only a socket without an entry (enable_tcp off, or its entry gone at the close
 * with bytes still to read) gets socket-local storage for it, which costs ~1 µs to make.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stream_state);
} l7_streams SEC(".maps");

/*
 * The buffer of the socket syscall this task is in, from its saved user registers. False for
 * kernel threads and io_uring workers (their registers are not a syscall's) and for calls
 * that move data without a user buffer of their own (sendfile, splice).
 */
static __always_inline bool syscall_io_of_current(struct syscall_io *io, __u8 dir)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (task->flags & (PF_KTHREAD_ | PF_IO_WORKER_))
		return false;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long nr = SYSCALL_NR(regs);
	bool send = dir == NE_DATA_SEND;
	if (nr == (send ? NR_WRITE : NR_READ) || nr == (send ? NR_SENDTO : NR_RECVFROM))
		io->kind = BUF_PLAIN;
	else if (nr == (send ? NR_WRITEV : NR_READV))
		io->kind = BUF_IOVEC;
	else if (nr == (send ? NR_SENDMSG : NR_RECVMSG))
		io->kind = BUF_MSGHDR;
	else if (nr == (send ? NR_SENDMMSG : NR_RECVMMSG))
		io->kind = BUF_MMSG;
	else
		return false;
	/* Direct loads from the trusted pointer where the architecture allows (x86): no helper calls. */
	io->fd = (int)PT_REGS_PARM1_SYSCALL(regs);
	io->buf = PT_REGS_PARM2_SYSCALL(regs);
	io->count = PT_REGS_PARM3_SYSCALL(regs);
	/* A receive's address is written to user memory after this hook; udp_peer_take has it. */
	io->addr = nr == NR_SENDTO ? PT_REGS_PARM5_SYSCALL(regs) : 0;
	io->dir = dir;
	return true;
}

/*
 * Which message of a sendmmsg/recvmmsg is moving now: the kernel writes each message's msg_len
 * once it has moved, so it is the first one still at 0 (callers zero the array, as glibc's
 * resolver does for its parallel A and AAAA queries). An array reused without zeroing reads as
 * message 0.
 */
static __always_inline __u64 mmsg_index(__u64 vec, __u64 count)
{
#pragma unroll
	for (int i = 0; i < NE_MAX_MMSG; i++) {
		__u32 len = 0;
		if (i >= count - 1)
			return i;
		if (bpf_probe_read_user(&len, sizeof(len), (const void *)(vec + i * sizeof(struct mmsghdr) + offsetof(struct mmsghdr, msg_len))))
			return 0;
		if (len == 0)
			return i;
	}
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

/*
 * Copies from an iovec array until `total` bytes are taken or `max_iov` (at most NE_MAX_IOV)
 * entries are used. The entries that can be used are read in one go: a read of user memory
 * costs ~150 ns however small (the helper and the kernel's hardened-usercopy check), and nginx
 * writes every response from two buffers, which took four reads and now take three (two when
 * only the head is framed, see emit_payload).
 */
static __always_inline void copy_iov(struct ne_scratch *s, __u32 *off, __u64 iov_ptr, __u64 iov_count, __u64 total, __u32 max_iov)
{
	struct iovec iov[NE_MAX_IOV];
	__u32 n = iov_count < max_iov ? (__u32)iov_count : max_iov;
	if (n == 0)
		return;
	if (bpf_probe_read_user(iov, n * sizeof(iov[0]), (const void *)iov_ptr)) {
		STAT_INC(read_errors);
		return;
	}
	__u64 left = total;
#pragma unroll
	for (int i = 0; i < NE_MAX_IOV; i++) {
		if (i >= n || left == 0 || *off >= cfg.capture_bytes)
			break;
		__u64 want = iov[i].iov_len < left ? iov[i].iov_len : left;
		__u64 room = cfg.capture_bytes - *off;
		copy_chunk(s, off, (__u64)iov[i].iov_base, want < room ? want : room);
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


/*
 * Copies the call's data (at most `moved` bytes, capture_bytes in all; with `first_buffer_only`,
 * only from the first buffer of a vectored call) into this CPU's scratch and the peer it names
 * into the record's tuple: the bytes copied, or -1. A global function, so the verifier walks its
 * buffer kinds and iovec rounds once, on their own, instead of once for every path of the
 * capture that reaches them (with it inline the capture programs came within 1 % of the
 * verifier's limit of 1 M instructions).
 */
__noinline long copy_call(struct ne_scratch *s, const struct syscall_io *io, __u64 moved, int first_buffer_only)
{
	if (!s || !io)
		return -1;
	struct ne_tuple *t = &s->rec.t;
	__u32 off = 0;
	__u64 cap = moved < cfg.capture_bytes ? moved : cfg.capture_bytes;
	if (io->kind == BUF_PLAIN) {
		copy_chunk(s, &off, io->buf, cap);
		peer_from_sockaddr(t, io->addr);
		return off;
	}
	__u32 max_iov = first_buffer_only ? 1 : NE_MAX_IOV;
	if (io->kind == BUF_IOVEC) {
		copy_iov(s, &off, io->buf, io->count, cap, max_iov);
		return off;
	}
	__u64 msghdr = io->buf;
	if (io->kind == BUF_MMSG)
		msghdr += mmsg_index(io->buf, io->count) * sizeof(struct mmsghdr);
	struct user_msghdr msg;
	if (bpf_probe_read_user(&msg, sizeof(msg), (const void *)msghdr))
		return -1;
	if (msg.msg_name && io->dir == NE_DATA_SEND)
		peer_from_sockaddr(t, (__u64)msg.msg_name);
	copy_iov(s, &off, (__u64)msg.msg_iov, msg.msg_iovlen, cap, max_iov);
	return off;
}

/* A registered HTTP/1 method or "HTTP" (a status line), or the HTTP/2 preface's "PRI ". */
static __always_inline bool looks_http1(__u32 w)
{
#define W(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)
	return w == W('G', 'E', 'T', ' ') || w == W('P', 'O', 'S', 'T') || w == W('P', 'U', 'T', ' ') ||
	       w == W('H', 'E', 'A', 'D') || w == W('D', 'E', 'L', 'E') || w == W('O', 'P', 'T', 'I') ||
	       w == W('P', 'A', 'T', 'C') || w == W('C', 'O', 'N', 'N') || w == W('T', 'R', 'A', 'C') ||
	       w == W('P', 'R', 'O', 'P') || w == W('M', 'K', 'C', 'O') || w == W('C', 'O', 'P', 'Y') ||
	       w == W('M', 'O', 'V', 'E') || w == W('L', 'O', 'C', 'K') || w == W('U', 'N', 'L', 'O') ||
	       w == W('R', 'E', 'P', 'O') || w == W('S', 'E', 'A', 'R') || w == W('P', 'U', 'R', 'G') ||
	       w == W('Q', 'U', 'E', 'R') || w == W('H', 'T', 'T', 'P') || w == W('P', 'R', 'I', ' ');
#undef W
}

/* An HTTP/2 frame header: a known type, a length within the default maximum, R bit clear. */
static __always_inline bool looks_h2_frame(const __u8 *d)
{
	__u32 len = (__u32)d[0] << 16 | (__u32)d[1] << 8 | d[2];
	return d[3] <= 9 && len <= 16384 && !(d[5] & 0x80);
}

/* A TLS handshake record header (the start of a ClientHello or ServerHello flight). */
static __always_inline bool looks_tls_handshake(const __u8 *d)
{
	return d[0] == 0x16 && d[1] == 0x03 && d[2] <= 0x04;
}

/*
 * Updates the stream's class with this chunk (its first `len` bytes at d) and says
 * whether to send it. Short chunks do not count against the sniffing budget: a request line
 * written in pieces or a DNS length prefix on its own is not evidence against the stream.
 */
static __always_inline bool classify(struct stream_state *st, const __u8 *d, __u32 len, __u8 dir)
{
	if (st->cls == NE_CLS_L7)
		return true;
	if (st->cls == NE_CLS_TLS) {
		if (len >= 1 && d[0] == 0x16)
			st->tls_dirs |= dir;
		else if (len >= 1 && d[0] == 0x17 && st->tls_dirs == (NE_DATA_SEND | NE_DATA_RECV)) {
			st->cls = NE_CLS_TLS_DONE;
			return false;
		}
		return true;
	}
	if (len >= 3 && looks_tls_handshake(d)) {
		st->cls = NE_CLS_TLS;
		st->tls_dirs |= dir;
		return true;
	}
	if (len < 4)
		return true;
	if (looks_http1(*(const __u32 *)d) || (len >= 9 && looks_h2_frame(d)) ||
	    (len >= 14 && ((__u32)d[0] << 8 | d[1]) >= 17 && looks_dns_header(d + 2))) {
		st->cls = NE_CLS_L7;
		return true;
	}
	if (++st->sniffed < NE_SNIFF_CHUNKS)
		return true;
	st->cls = NE_CLS_OPAQUE;
	return false;
}

static __always_inline void count_skipped(__u8 cls, __u64 bytes)
{
	struct ne_stats *s = stats_slot();
	if (!s)
		return;
	if (cls == NE_CLS_TLS_DONE) {
		s->skipped_encrypted++;
		s->skipped_encrypted_bytes += bytes;
	} else if (cls == NE_CLS_TLS_PLAIN) {
		s->skipped_decrypted++;
		s->skipped_decrypted_bytes += bytes;
	} else {
		s->skipped_opaque++;
		s->skipped_opaque_bytes += bytes;
	}
}

/*
 * Sockets whose data is never copied: the observer's own, sampled out, or excluded by port.
 * A socket without an entry is one whose entry went at its close while bytes were still
 * queued (read after FIN both ways), was evicted, or is not tracked: the reading or writing
 * process decides then, as it would have at the socket's open.
 */
static __always_inline bool payload_wanted(__u64 cookie, const struct sock_info *o)
{
	if (o)
		return !o->skip;
	if (excluded_current())
		return false;
	if (sampled_in(cookie))
		return true;
	STAT_INC(sampled_out);
	return false;
}

/* Completes a payload record whose header, tuple and fd are filled and `off` bytes copied, and sends it. */
static __always_inline void send_payload(struct ne_payload *r, __u32 off, __u64 moved, __u8 dir)
{
	r->orig_len = moved > 0xffffffffULL ? 0xffffffff : (__u32)moved;
	r->cap_len = off;
	r->data_dir = dir;
	r->truncated = moved > off;
	if (r->truncated)
		STAT_INC(truncated);
	__u32 size = (sizeof(*r) + off + 7) & ~7U;
	if (size > sizeof(*r) + NE_MAX_CAPTURE)
		return;
	r->h.size = size;
	output_record(r, size);
}

/* This CPU's scratch with its payload record zeroed, or NULL. */
static __always_inline struct ne_scratch *payload_scratch(void)
{
	__u32 k = 0;
	struct ne_scratch *s = bpf_map_lookup_elem(&scratch, &k);
	if (s)
		__builtin_memset(&s->rec, 0, sizeof(s->rec));
	return s;
}

/* The last `tail` bytes of a call, at `src`, as a record of their own after the head's. */
static __always_inline void emit_tail(struct ne_scratch *s, __u64 src, __u64 tail, __u8 dir)
{
	struct ne_payload *r = &s->rec;
	__u32 n = tail & (NE_TAIL_BYTES * 2 - 1);
	if (n == 0 || n > NE_TAIL_BYTES)
		return;
	if (bpf_probe_read_user(s->data, n, (const void *)src)) {
		STAT_INC(read_errors);
		return;
	}
	r->h.ts_ns = bpf_ktime_get_boot_ns();
	send_payload(r, n, n, dir);
}

#include "h1_summary.bpf.h"

/*
 * Builds and sends one NE_PAYLOAD record from the call's buffer. `t` holds the socket's side
 * of the tuple (the peer a send names, or the sender of an unconnected receive, is filled in
 * here); `st` is NULL for UDP.
 */
static __always_inline void emit_payload(struct sock *sk, struct sock_info *o, __u64 cookie, const struct ne_tuple *t, __u32 netns, struct stream_state *st,
					 const struct syscall_io *io, __u64 moved, __u8 dir, bool h1)
{
	struct ne_scratch *s = payload_scratch();
	if (!s)
		return;
	struct ne_payload *r = &s->rec;
	r->t = *t;
	bool h1_here = h1 && cfg.h1_full_per_cpu && sk && o && st;
	/*
	 * A response that may end an exchange counted here is framed from its head alone: its first
	 * H1_HEAD_BYTES, and only its first buffer when it is written from several (nginx writes
	 * the head and the body from two: a read of user memory saved). A head that is not all
	 * there is copied again, whole (H1_TAKE_AGAIN_WHOLE).
	 */
	bool head_only = h1_here && st->cls == NE_CLS_L7 && h1_awaits_counted_response(st->h1) &&
			 (moved > H1_HEAD_BYTES || io->kind != BUF_PLAIN);
	long copied = copy_call(s, io, head_only && moved > H1_HEAD_BYTES ? H1_HEAD_BYTES : moved, head_only);
	if (copied < 0 || copied > NE_MAX_CAPTURE)
		return;
	__u32 off = copied;
	/* Of UDP, only DNS is parsed: other datagrams are counted, not copied. */
	bool dns = !st && off >= 12 && looks_dns_header(s->data);
	/* An unconnected socket's receive: its sender was noted as the datagram arrived. */
	if (dns && dir == NE_DATA_RECV && sk->__sk_common.skc_state != S_ESTABLISHED && !udp_peer_take(sk, s->data, moved, &r->t))
		STAT_INC(udp_peer_unknown);
	if (!ports_ok(r->t.lport, r->t.rport) || (!st && is_self_flow(&r->t)))
		return;
	bool send = st ? classify(st, s->data, off, dir) : dns;
	if (!send) {
		count_skipped(st ? st->cls : NE_CLS_OPAQUE, moved);
		return;
	}
	fill_header(&r->h, NE_PAYLOAD, 0, cookie, NULL);
	r->h.netns = netns;
	r->fd = io->fd;
	if (h1_here && st->cls == NE_CLS_L7) {
		r->cap_len = off;
		r->orig_len = moved > 0xffffffffULL ? 0xffffffff : (__u32)moved;
		r->data_dir = dir;
		int taken = h1_take_call(sk, st, s, o, head_only);
		if (taken == H1_TAKE_AGAIN_WHOLE) {
			copied = copy_call(s, io, moved, 0);
			if (copied < 0 || copied > NE_MAX_CAPTURE)
				return;
			off = copied;
			r->cap_len = off;
			taken = h1_take_call(sk, st, s, o, 0);
		}
		if (taken == H1_TAKEN)
			return;
	}
	/*
	 * A long plain buffer on an L7 stream: the head record stands for the call up to its last
	 * NE_TAIL_BYTES (so the bytes skipped between them are known exactly), the tail record
	 * for those, as if the call had been two.
	 */
	__u64 tail = 0;
	if (st && st->cls == NE_CLS_L7 && io->kind == BUF_PLAIN && moved > off)
		tail = moved - off < NE_TAIL_BYTES ? moved - off : NE_TAIL_BYTES;
	header_owner_from_current(&r->h);
	send_payload(r, off, moved - tail, dir);
	if (tail > 0)
		emit_tail(s, io->buf + moved - tail, tail, dir);
}

/*
 * sock_send_length / sock_recv_length of a TCP or UDP socket, data already moved. `st` is the
 * TCP stream's class when the caller found one (it is created here otherwise).
 */
static __always_inline void capture_io(struct sock *sk, __u64 cookie, const struct sock_info *o, __u64 moved, __u8 dir, int flags,
				       struct stream_state *st, bool h1)
{
	__u16 family = sk->__sk_common.skc_family;
	__u8 proto = sk->sk_protocol;
	if ((family != AF_INET && family != AF_INET6) || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return;
	if (dir == NE_DATA_RECV && (flags & MSG_PEEK_))
		return; /* the same bytes come again with the read that consumes them */
	if (!payload_wanted(cookie, o))
		return;
	if (proto == IPPROTO_TCP) {
		if (!st)
			st = bpf_sk_storage_get(&l7_streams, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (st && st->cls >= NE_CLS_OPAQUE) {
			count_skipped(st->cls, moved);
			return;
		}
		if (!st)
			STAT_INC(map_full);
	} else {
		st = NULL;
	}
	struct syscall_io io = {};
	if (!syscall_io_of_current(&io, dir))
		return;
	struct ne_tuple t = {};
	if (!tuple_from_bound_sock(&t, sk, proto))
		return;
	/* Without an entry nothing remembers that this is the far end of an excluded process's connection. */
	if (!o && proto == IPPROTO_TCP && is_self_flow(&t))
		return;
	t.direction = o ? o->direction : NE_DIR_UNKNOWN;
	__u32 netns = sock_netns(sk);
	emit_payload(sk, (struct sock_info *)o, cookie, &t, netns, st, &io, moved, dir, h1);
}

#endif /* NE_PAYLOAD_BPF_H */
