/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/1 exchanges summarised in the kernel, so that user space parses only the transactions it
 * will export (cfg.h1_full_per_cpu > 0).
 *
 * Every request and response is still seen here; what changes is what crosses the ring. Up to
 * cfg.h1_full_per_cpu exchanges a second (per CPU) are copied in full as ever. Beyond that, an
 * exchange the kernel can frame exactly, a whole request in one call answered by a whole
 * response in the next, becomes one NE_H1_SUMMARY record: the request's bytes and the response's
 * status, length and time. The l7 processor counts and measures it like any other transaction
 * and makes no span of it. When nothing downstream measures (cfg.h1_counts_only), not even that
 * record is sent: the exchange is counted in the socket's entry, and the count goes out as an
 * NE_H1_COUNT record every NE_H1_COUNT_BATCH exchanges, and with the socket's live-scan and
 * close records. Then a response is framed from its first H1_HEAD_BYTES (the rest of it is
 * copied only if its exchange goes to user space after all), and one longer than capture_bytes
 * is counted as well: nothing of it is sent.
 *
 * A summary pairs a request with the response that follows it, which is right only when nothing
 * else is in flight. So the kernel follows each stream exactly from its first byte: following
 * starts when the connection is established, in the socket's entry (a socket older than the
 * receiver, or one that moved data before, is never summarised), and every call must start
 * where the last one followed ended (TCP sequence numbers: a byte moved by sendfile, splice or
 * a call not seen here breaks it), start with a message whose head is captured whole (its
 * Content-Length body may go on in later calls, which are counted off exactly), and alternate:
 * a request when nothing is in flight, then its response. Only an exchange of one call each way
 * is summarised. Anything else (split heads, pipelined messages, chunked or close-delimited
 * bodies, 1xx, upgrades) is copied in full, and so is the rest of that stream: exactness once
 * lost is not regained, and user space, which parses everything it was sent, never meets a
 * summary with a message of its own in flight.
 *
 * Exactness rests on the framing rules of RFC 9112 section 6: a request's body is framed by
 * Content-Length or absent; a response's by Content-Length, or absent for HEAD, 204 and 304.
 * A Transfer-Encoding header, a repeated or unreadable Content-Length, a header block not ended
 * by CRLF CRLF, or a message that does not end exactly where its call ends: not summarised.
 */
#ifndef NE_H1_SUMMARY_BPF_H
#define NE_H1_SUMMARY_BPF_H

/* struct stream_state.h1 */
#define H1_EXACT 1     /* followed from the stream's first byte, every message whole: pairing is exact */
#define H1_REQ_OPEN 2  /* a whole request sent in full waits for its response */
#define H1_STASHED 4   /* a whole request waits in h1_stashes for its response */
#define H1_HEAD_REQ 8  /* that request was a HEAD: its response has no body */
#define H1_REQ_SENT 16 /* that request was sent from this socket (its response is received) */
#define H1_ANSWERED 32 /* an exchange has ended: from now on a request may be held */
#define H1_BODY 64     /* the body of the last message goes on in later calls (body_left bytes) */
#define H1_BODY_REQ 128 /* that body is the request's (else the response's) */

/*
 * h1_take_call's answers: the call was left to the caller to send, taken here, or judged on its
 * head alone and not counted, so it is to be copied whole and taken again.
 */
#define H1_SEND 0
#define H1_TAKEN 1
#define H1_TAKE_AGAIN_WHOLE 2

/*
 * What is copied first of a response that may end an exchange counted in the kernel: its head is
 * all the framing needs. A longer head makes the call be copied again, whole.
 */
#define H1_HEAD_BYTES 1024

/* Header lines scanned at most (a longer block is copied in full), and per bpf_loop round. */
#define H1_MAX_HEAD_LINES 64
#define H1_LINES_PER_ROUND 4

/* A whole request held back until the next call shows whether its exchange is summarised. */
struct h1_stash {
	struct ne_payload rec; /* the request's record, complete, as it would have been sent */
	__u8 data[NE_H1_MAX_REQUEST + sizeof(struct ne_h1_response)]; /* its bytes, then the response half */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct h1_stash);
} h1_stashes SEC(".maps");

/*
 * This CPU's budget of exchanges copied in full: cfg.h1_full_per_cpu a second, spread evenly.
 * A budget renewed each whole second was spent in its first tenth under load, and a burst of
 * full exchanges that size (2 KiB responses: ~40 MB at both ends) overflowed the ring.
 */
struct h1_budget {
	__u64 next_free_ns; /* a token is free once now + H1_BUDGET_BURST_NS reaches this */
};

/* How far ahead of its even pace the budget may run: tokens saved by a quiet moment, spent at once. */
#define H1_BUDGET_BURST_NS 20000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct h1_budget);
} h1_budgets SEC(".maps");

/* What a header block says about framing. */
struct h1_scan {
	__u64 content_length; /* valid when has_length */
	__u32 len;            /* bytes of the call in the scratch */
	__u32 pos;            /* where the search for the next line feed goes on */
	__u32 head_end;       /* offset just past CRLF CRLF, 0 until found */
	__u8 has_length;
	__u8 unframed;        /* Transfer-Encoding, a second Content-Length, or one that does not parse */
	__u8 _pad[2];
	__u32 scratch_at;     /* H1_FORGET's slot */
	__u32 verdict;        /* h1_take_call's decision values, forgotten through here */
};

/*
 * The scan's state lives in a map, not on the stack: the verifier does not follow values
 * through map memory, so the rounds of the scan converge to one verified state instead of one
 * per offset and length seen.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct h1_scan);
} h1_scans SEC(".maps");

#define H1_MASK (NE_MAX_CAPTURE - 1)

/* The 8 bytes at `at` of the scratch data, little-endian; `at` is masked into the buffer. */
static __always_inline __u64 h1_word(const __u8 *data, __u32 at)
{
	__u64 w;
	__builtin_memcpy(&w, &data[at & H1_MASK], sizeof(w));
	return w;
}

#define H1_LOWER 0x2020202020202020ULL
/* "content-" and "length:" as little-endian words (lower-cased: header names ignore case). */
#define H1_CONTENT_ 0x2d746e65746e6f63ULL
#define H1_LENGTH_ 0x003a6874676e656cULL
#define H1_7_BYTES 0x00ffffffffffffffULL
/* "transfer" and "-encodin" */
#define H1_TRANSFER 0x726566736e617274ULL
#define H1_ENCODIN 0x6e69646f636e652dULL

/*
 * A value the verifier forgets: written to the scan's map slot and read back. Paths that differ
 * only in it then merge, which keeps the scan's verification linear instead of one copy of the
 * rest of the scan per way of reaching a point.
 */
#define H1_FORGET(sc, field, value) ({ (sc)->field = (value); *(volatile typeof((sc)->field) *)&(sc)->field; })

/* The Content-Length value at `at` (just after the colon): up to two blanks, digits, CR. */
static __always_inline void h1_parse_length(struct h1_scan *sc, const __u8 *data, __u32 at)
{
	__u8 c = data[at & H1_MASK];
	if (c == ' ' || c == '\t')
		at++;
	c = data[at & H1_MASK];
	if (c == ' ' || c == '\t')
		at++;
	at = H1_FORGET(sc, scratch_at, at);
	__u64 value = 0;
	__u32 digits = 0;
#pragma unroll
	for (int i = 0; i < 10; i++) {
		__u8 d = data[(at + i) & H1_MASK] - '0';
		if (d > 9)
			break;
		value = value * 10 + d;
		digits = i + 1;
	}
	/* Stored before it is judged: a value that does not parse marks the head unframed anyway. */
	sc->content_length = value;
	digits = H1_FORGET(sc, scratch_at, digits);
	if (digits == 0 || data[(at + digits) & H1_MASK] != '\r' || sc->has_length) {
		sc->unframed = 1;
		return;
	}
	sc->has_length = 1;
}

/* A header line starting at `at`: Content-Length and Transfer-Encoding decide the framing. */
static __always_inline void h1_header_line(struct h1_scan *sc, const __u8 *data, __u32 at)
{
	if (at + 18 > sc->len)
		return;
	__u8 first = data[at & H1_MASK] | 0x20;
	if (first != 'c' && first != 't')
		return;
	__u64 a = h1_word(data, at) | H1_LOWER;
	__u64 b = h1_word(data, at + 8);
	/* The colon has the case bit already, so the 7 bytes "length:" compare lower-cased. */
	if (a == H1_CONTENT_ && ((b | H1_LOWER) & H1_7_BYTES) == H1_LENGTH_)
		h1_parse_length(sc, data, at + 15);
	else if (a == H1_TRANSFER && (b | H1_LOWER) == H1_ENCODIN)
		sc->unframed = 1;
}

/*
 * Finds the next line feed from sc->pos (within 64 bytes; a longer stretch is left to the next
 * round) and looks at the line after it. 1 when the scan is over (CRLF CRLF or the end).
 */
static __always_inline long h1_next_line(struct h1_scan *sc, const __u8 *data)
{
	__u32 pos = sc->pos;
	__u32 lf = 0xffffffff;
#pragma unroll
	for (int w = 0; w < 8; w++) {
		__u32 at = pos + w * 8;
		if (at >= sc->len)
			break;
		__u64 x = h1_word(data, at) ^ 0x0a0a0a0a0a0a0a0aULL;
		__u64 t = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
		if (t != 0) {
			/* The lowest flagged byte is a line feed (higher ones may be false): its index. */
			__u64 lowest = t & (~t + 1);
			lf = at + (__u32)(((lowest >> 7) * 0x0001020304050607ULL) >> 56);
			break;
		}
	}
	lf = H1_FORGET(sc, scratch_at, lf);
	if (lf == 0xffffffff) {
		if (pos + 64 >= sc->len)
			return 1;
		sc->pos = pos + 64;
		return 0;
	}
	if (lf >= sc->len)
		return 1;
	sc->pos = lf + 1;
	if (lf < 1 || data[(lf - 1) & H1_MASK] != '\r')
		return 0;
	if (lf >= 3 && data[(lf - 2) & H1_MASK] == '\n' && data[(lf - 3) & H1_MASK] == '\r') {
		sc->head_end = lf + 1;
		return 1;
	}
	h1_header_line(sc, data, lf + 1);
	return 0;
}

/* bpf_loop body: the next H1_LINES_PER_ROUND lines of the header block. */
static long h1_scan_lines(__u64 index, void *ctx)
{
	__u32 k = 0;
	struct h1_scan *sc = bpf_map_lookup_elem(&h1_scans, &k);
	struct ne_scratch *s = bpf_map_lookup_elem(&scratch, &k);
	if (!sc || !s)
		return 1;
#pragma unroll
	for (int i = 0; i < H1_LINES_PER_ROUND; i++)
		if (h1_next_line(sc, s->data))
			return 1;
	return 0;
}

/* Scans the header block of the message in this CPU's scratch data (`len` bytes); NULL if it cannot. */
static __always_inline struct h1_scan *h1_scan_head(__u32 len)
{
	__u32 k = 0;
	struct h1_scan *sc = bpf_map_lookup_elem(&h1_scans, &k);
	if (!sc)
		return NULL;
	__builtin_memset(sc, 0, sizeof(*sc));
	sc->len = len;
	bpf_loop(H1_MAX_HEAD_LINES / H1_LINES_PER_ROUND, h1_scan_lines, NULL, 0);
	return sc;
}

/* The final status of a status line "HTTP/1.x NNN" at d (`len` bytes), or 0 (1xx too). */
static __always_inline __u16 h1_final_status(const __u8 *d, __u32 len)
{
	if (len < 16 || d[4] != '/' || d[5] != '1' || d[6] != '.' || (d[7] != '0' && d[7] != '1') || d[8] != ' ')
		return 0;
	if (d[9] < '2' || d[9] > '5' || d[10] < '0' || d[10] > '9' || d[11] < '0' || d[11] > '9' || (d[12] != ' ' && d[12] != '\r'))
		return 0;
	return (d[9] - '0') * 100 + (d[10] - '0') * 10 + (d[11] - '0');
}

/*
 * The length of the message that starts the call, head and body, from its header block in this
 * CPU's scratch data (`len` bytes captured), or -1 when the head is not all there or does not
 * frame the message. A request without Content-Length has no body; a response without one ends
 * with the connection, unless it has no body at all (`bodiless`: the answer to a HEAD, 204,
 * 304). A global function: the verifier walks the scan once, whatever the state of the caller.
 */
__noinline long h1_message_length(__u32 len, int request, int bodiless)
{
	struct h1_scan *sc = h1_scan_head(len);
	if (!sc || sc->head_end == 0 || sc->unframed)
		return -1;
	__u64 body = 0;
	if (sc->has_length && !bodiless)
		body = sc->content_length;
	else if (!request && !bodiless)
		return -1;
	return (long)(sc->head_end + body);
}

/*
 * A token of this CPU's budget of exchanges copied in full, if one is free now (a generic cell
 * rate: each token moves the budget's clock on by one interval, which must not run more than
 * H1_BUDGET_BURST_NS ahead of now).
 */
static __always_inline bool h1_full_token(__u64 now)
{
	__u32 k = 0;
	struct h1_budget *b = bpf_map_lookup_elem(&h1_budgets, &k);
	if (!b || cfg.h1_full_per_cpu == 0)
		return true;
	__u64 next = b->next_free_ns > now ? b->next_free_ns : now;
	if (next - now > H1_BUDGET_BURST_NS)
		return false;
	b->next_free_ns = next + 1000000000ULL / cfg.h1_full_per_cpu;
	return true;
}

/* Sends the held request as the payload record it was, and forgets it. */
static __always_inline void h1_unstash(struct h1_stash *k)
{
	__u32 size = k->rec.h.size;
	if (size <= sizeof(*k))
		output_record(&k->rec, size);
	STAT_INC(h1_unstashed);
}

/* A socket going away with a request still held: the request is sent as it was. */
static __always_inline void h1_flush_at_close(const struct sock *sk, struct sock_info *o)
{
	o->h1_held = 0;
	if (!(o->stream.h1 & H1_STASHED))
		return;
	o->stream.h1 = 0;
	struct h1_stash *k = bpf_sk_storage_get(&h1_stashes, (void *)sk, 0, 0);
	if (k)
		h1_unstash(k);
}

/*
 * The socket's counted exchanges, taken: whoever takes them sends them. An atomic add, not a
 * plain store of 0, so that an exchange counted meanwhile on another CPU stays for the next.
 */
static __always_inline __u32 h1_take_counted(struct sock_info *o)
{
	__u32 n = o->h1_counted;
	if (n)
		__sync_fetch_and_add(&o->h1_counted, -n);
	return n;
}

/* `c` (its ne_payload header and tuple filled, as a record of the socket) carrying `n` exchanges. */
static __always_inline void h1_send_count(struct ne_h1_count *c, __u32 n)
{
	c->p.h.type = NE_H1_COUNT;
	c->p.h.size = sizeof(*c);
	c->p.orig_len = 0;
	c->p.cap_len = 0;
	c->p.truncated = 0;
	c->exchanges = n;
	c->_pad = 0;
	output_record(c, sizeof(*c));
}

/*
 * Holds the whole request in this CPU's scratch (its record complete, `n` bytes) in the socket's
 * stash until the next call; false if it cannot (it is then sent as usual).
 */
static __always_inline bool h1_hold(struct sock *sk, struct ne_scratch *s, __u32 n, __u8 dir)
{
	struct h1_stash *k = bpf_sk_storage_get(&h1_stashes, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!k) {
		STAT_INC(map_full);
		return false;
	}
	barrier_var(n);
	if (n == 0 || n > NE_H1_MAX_REQUEST || bpf_probe_read_kernel(k->data, n, s->data))
		return false;
	header_owner_from_current(&s->rec.h);
	k->rec = s->rec;
	k->rec.orig_len = n;
	k->rec.cap_len = n;
	k->rec.data_dir = dir;
	k->rec.truncated = 0;
	k->rec.h.size = (sizeof(k->rec) + n + 7) & ~7U;
	return true;
}

/*
 * A TCP connection just established: its streams are followed from here. One whose entry shows
 * data classified already moved bytes first (TCP Fast Open data read before the handshake
 * ended) and is not followed.
 */
static __always_inline void h1_follow_from_start(const struct sock *sk, struct sock_info *o)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp || o->stream.cls != NE_CLS_UNKNOWN || o->stream.sniffed)
		return;
	o->stream.send_next = tp->write_seq;
	o->stream.recv_next = tp->copied_seq;
	o->stream.h1 = H1_EXACT;
}

/*
 * Whether this call (`moved` bytes in `dir`, already moved) starts where the last call followed
 * in that direction ended; it is followed from here on either way. The socket layer has moved
 * write_seq or copied_seq past the call's bytes before the tracepoint runs.
 */
static __always_inline bool h1_contiguous(struct sock *sk, struct stream_state *st, __u8 dir, __u32 moved)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return false;
	bool send = dir == NE_DATA_SEND;
	__u32 end = send ? tp->write_seq : tp->copied_seq;
	__u32 expected = send ? st->send_next : st->recv_next;
	if (send)
		st->send_next = end;
	else
		st->recv_next = end;
	return end - moved == expected;
}

/*
 * The final response to the request in flight (`status`), sent in full: between exchanges again
 * when it was `whole`, or with its body still to come (`rest` bytes). Anything else loses the
 * stream's exactness (st->h1 stays 0). Returns H1_SEND: the call goes to user space.
 */
static __always_inline int h1_response_follows(struct stream_state *st, __u8 state, __u16 status, bool whole, bool goes_on, __u32 rest)
{
	if (status && goes_on) {
		st->body_left = rest;
		st->h1 = H1_EXACT | H1_ANSWERED | (state & H1_REQ_SENT) | H1_BODY;
	} else if (status && whole) {
		st->h1 = H1_EXACT | H1_ANSWERED;
	}
	return H1_SEND;
}

/*
 * Whether the next call on the stream may be the response that ends an exchange counted in the
 * kernel (a request held, no body going on), so that its head alone can decide.
 */
static __always_inline bool h1_awaits_counted_response(__u8 state)
{
	return cfg.h1_counts_only && (state & (H1_EXACT | H1_STASHED | H1_BODY)) == (H1_EXACT | H1_STASHED);
}

/* Tags a global function's socket argument as the kernel's own pointer (kernel 6.8+). */
#define __h1_arg_trusted __attribute__((btf_decl_tag("arg:trusted")))

/*
 * One call on an HTTP/1-capable stream whose record in this CPU's scratch (header but its owner,
 * tuple, fd, lengths and direction filled; cap_len bytes of data) is about to be sent; the owner
 * is filled here only where the record is held or sent, by the caller otherwise. H1_TAKEN when
 * the call was taken here: held as a request, or ended a summarised exchange. H1_SEND: send it as
 * usual (a held request that it does not answer has been sent first). With `head_only` (only the
 * first H1_HEAD_BYTES of a longer call copied, h1_awaits_counted_response) the call is taken
 * only if it ends a counted exchange; else nothing changes and the answer is H1_TAKE_AGAIN_WHOLE.
 */
__noinline int h1_take_call(struct sock *sk __h1_arg_trusted, struct stream_state *st, struct ne_scratch *s, struct sock_info *o, int head_only)
{
	/*
	 * A global function: the verifier checks it once, on its own, instead of once per path
	 * through the capture that reaches it (which exceeds its budget). So everything comes as
	 * the record's own fields, and st and s are checked here.
	 */
	if (!sk || !st || !s || !o)
		return H1_SEND;
	__u32 off = s->rec.cap_len;
	__u32 moved = s->rec.orig_len;
	__u8 dir = s->rec.data_dir;
	__u8 state = st->h1;
	if (head_only && !h1_awaits_counted_response(state))
		return H1_TAKE_AGAIN_WHOLE;
	__u32 send_next = st->send_next, recv_next = st->recv_next;
	bool followed = (state & H1_EXACT) && h1_contiguous(sk, st, dir, moved);
	/* Whatever does not keep the stream exact below loses it for good. */
	st->h1 = 0;
	if (state & H1_BODY) {
		/* The rest of a body whose head said how long it is, in the same direction. */
		bool req_sent = state & H1_REQ_SENT;
		bool body_dir_send = (state & H1_BODY_REQ) ? req_sent : !req_sent;
		if (!followed || body_dir_send != (dir == NE_DATA_SEND) || moved > st->body_left)
			return H1_SEND;
		st->body_left -= moved;
		if (st->body_left > 0)
			st->h1 = state;
		else if (state & H1_BODY_REQ)
			st->h1 = (state & (H1_EXACT | H1_ANSWERED | H1_HEAD_REQ | H1_REQ_SENT)) | H1_REQ_OPEN;
		else
			st->h1 = H1_EXACT | H1_ANSWERED;
		return H1_SEND;
	}
	bool whole_call = moved == off && off >= 16 && off <= NE_MAX_CAPTURE;
	__u32 word = off >= 16 && off <= NE_MAX_CAPTURE ? *(const __u32 *)s->data : 0;
#define W(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)
	bool request = word != W('H', 'T', 'T', 'P') && word != W('P', 'R', 'I', ' ') && word != W('C', 'O', 'N', 'N') && looks_http1(word);
	bool head = word == W('H', 'E', 'A', 'D');
#undef W
	/*
	 * The one message that keeps the stream exact: a request when nothing is in flight, or the
	 * final response to the one in flight, in the other direction. It starts the call; its body
	 * may go on in later calls, never beyond the call's end.
	 */
	bool in_flight = state & (H1_REQ_OPEN | H1_STASHED);
	bool req_sent = state & H1_REQ_SENT;
	__u16 status = in_flight && req_sent == (dir == NE_DATA_RECV) && word ? h1_final_status(s->data, off) : 0;
	bool asks = !in_flight && request;
	bool bodiless = !asks && ((state & H1_HEAD_REQ) || status == 204 || status == 304);
	long length = followed && (asks || status) ? h1_message_length(off, asks, bodiless) : -1;
	bool whole = length >= 0 && (__u64)length == moved;
	__u64 rest = length >= 0 && (__u64)length > moved ? (__u64)length - moved : 0;
	/* A body that goes on, in bytes the receiver can count. */
	bool goes_on = rest > 0 && rest <= 0xffffffffULL;
	/*
	 * What was decided, passed through map memory so that the verifier forgets how: the paths
	 * below then merge instead of multiplying by every way of reaching them.
	 */
	__u32 k1 = 0;
	struct h1_scan *v = bpf_map_lookup_elem(&h1_scans, &k1);
	if (!v)
		return H1_SEND;
	whole = H1_FORGET(v, verdict, whole);
	goes_on = H1_FORGET(v, verdict, goes_on);
	status = H1_FORGET(v, verdict, status);
	asks = H1_FORGET(v, verdict, asks);
	/* Counted needs the response whole, not the call captured whole: nothing of it is sent. */
	bool counted = (state & H1_STASHED) && whole && cfg.h1_counts_only;
	if (head_only && !counted) {
		st->send_next = send_next;
		st->recv_next = recv_next;
		st->h1 = state;
		return H1_TAKE_AGAIN_WHOLE;
	}
	if (state & H1_STASHED)
		o->h1_held = 0;
	if (counted) {
		/*
		 * Nothing crosses the ring but a count now and then; the held request is dropped
		 * without looking it up (the next hold overwrites it).
		 */
		STAT_INC(h1_summarised);
		st->h1 = H1_EXACT | H1_ANSWERED;
		__sync_fetch_and_add(&o->h1_counted, 1);
		if (o->h1_counted >= NE_H1_COUNT_BATCH) {
			/* The response's record in the scratch names the socket; its bytes are done with. */
			__u32 n = h1_take_counted(o);
			if (n) {
				header_owner_from_current(&s->rec.h);
				h1_send_count((struct ne_h1_count *)&s->rec, n);
			}
		}
		return H1_TAKEN;
	}
	if (state & H1_STASHED) {
		struct h1_stash *k = bpf_sk_storage_get(&h1_stashes, sk, 0, 0);
		if (!k)
			return H1_SEND;
		struct ne_payload *req = &k->rec;
		__u32 at = (req->cap_len + 7) & ~7U;
		if (whole && whole_call && at <= NE_H1_MAX_REQUEST) {
			/* Checked above; again after the barrier only so the verifier bounds the write. */
			barrier_var(at);
			if (at > NE_H1_MAX_REQUEST)
				return H1_SEND;
			header_owner_from_current(&s->rec.h);
			struct ne_h1_response resp = {
				.ts_ns = s->rec.h.ts_ns,
				.len = off,
				.body_len = off - v->head_end, /* the scan's, still in this CPU's slot */
				.pid = s->rec.h.pid,
				.tid = s->rec.h.tid,
				.status = status,
				.version_minor = s->data[7] - '0',
				.data_dir = dir,
			};
			__builtin_memcpy(&k->data[at], &resp, sizeof(resp));
			req->h.type = NE_H1_SUMMARY;
			req->h.size = sizeof(*req) + at + sizeof(resp);
			output_record(req, sizeof(*req) + at + sizeof(resp));
			STAT_INC(h1_summarised);
			st->h1 = H1_EXACT | H1_ANSWERED;
			return H1_TAKEN;
		}
		/* Not summarised: the request goes first, as it was; the stream may still be exact. */
		h1_unstash(k);
		return h1_response_follows(st, state, status, whole, goes_on, (__u32)rest);
	}
	if (asks && (whole || goes_on)) {
		__u8 next = H1_EXACT | (state & H1_ANSWERED) | (head ? H1_HEAD_REQ : 0) | (dir == NE_DATA_SEND ? H1_REQ_SENT : 0);
		if (goes_on) {
			st->body_left = (__u32)rest;
			st->h1 = next | H1_BODY | H1_BODY_REQ;
			return H1_SEND;
		}
		/*
		 * A connection's first request goes in full when summaries are sent: most connections
		 * that carry one exchange carry only that one (Connection: close), and holding it would
		 * cost them socket storage of ~660 bytes, made in the call, to save one record. When
		 * exchanges are only counted, holding it saves that connection's session in user space
		 * (its two records, their parse, its span), which costs more than the storage.
		 */
		if (((state & H1_ANSWERED) || cfg.h1_counts_only) && whole_call && off <= NE_H1_MAX_REQUEST && !h1_full_token(s->rec.h.ts_ns) &&
		    h1_hold(sk, s, off, dir)) {
			st->h1 = next | H1_STASHED;
			o->h1_held = 1;
			return H1_TAKEN;
		}
		st->h1 = next | H1_REQ_OPEN;
		return H1_SEND;
	}
	return h1_response_follows(st, state, status, whole, goes_on, (__u32)rest);
}

#endif /* NE_H1_SUMMARY_BPF_H */
