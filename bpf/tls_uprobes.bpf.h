/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTPS plaintext at the TLS library: uprobes on OpenSSL's SSL_read, SSL_read_ex, SSL_write and
 * SSL_write_ex (attached by user space to every libssl and every executable that exports them).
 *
 * Entry remembers the call (SSL *, buffer, the _ex forms' size_t *) in task storage; return copies
 * the plaintext that moved as an NE_PAYLOAD record flagged NE_PAYLOAD_DECRYPTED, through the same
 * classification and record path as socket payload (payload.bpf.h).
 *
 * Which connection an SSL object serves is learned from the sockets, with no OpenSSL struct
 * offsets:
 *  - A library that does its socket I/O inside SSL_read/SSL_write (a socket BIO: curl, nginx and
 *    most C programs) touches the socket on the same thread during the call: tls_socket_io, run
 *    from sock_send_length/sock_recv_length, binds the call in progress to that socket.
 *  - A library fed through memory BIOs (node) reads the ciphertext first and calls SSL_read right
 *    after on the same thread: the last TLS socket the thread received on outside an SSL call is
 *    bound to an SSL_read that touched no socket (and to a first SSL_write of an SSL object
 *    never seen before, a client's request written right after the handshake it just read).
 * The binding is kept per (process, SSL *) in tls_conns, for calls that touch no socket (a read
 * served from the library's buffer, a write into a memory BIO), and renewed whenever a call
 * shows a socket again (SSL objects are freed and their addresses reused).
 *
 * Once a socket's TLS stream is seen inside an SSL call past its handshake, its ciphertext is no
 * longer copied (NE_CLS_TLS_PLAIN, counted as skipped_decrypted).
 */
#ifndef NE_TLS_UPROBES_BPF_H
#define NE_TLS_UPROBES_BPF_H

/* struct tls_call.fn */
#define TLS_FN_READ 1
#define TLS_FN_READ_EX 2
#define TLS_FN_WRITE 3
#define TLS_FN_WRITE_EX 4

/* A TCP connection as the plaintext records carry it. */
struct tls_sock {
	struct ne_tuple t;
	__u64 cookie;
	__u32 netns;
	__s32 fd;
};

/* What an SSL object is known to serve. */
struct tls_conn {
	struct tls_sock sock;
	struct stream_state st; /* classification of the plaintext stream */
	__u8 direct;            /* the library touched the socket inside its calls */
	__u8 _pad[7];
};

struct tls_conn_key {
	__u64 ssl;
	__u32 tgid;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tls_conn_key);
	__type(value, struct tls_conn);
} tls_conns SEC(".maps");

/* The SSL call a thread is in, and the sockets it touched. */
struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 out_len; /* size_t * of the _ex forms, else 0 */
	__u8 fn;       /* TLS_FN_* */
	__u8 active;
	__u8 bound;    /* `sock` was touched during this call */
	__u8 has_last_recv;
	__u32 _pad;
	struct tls_sock sock;
	struct tls_sock last_recv; /* last TLS socket received on outside an SSL call (memory BIOs) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

static __always_inline void tls_sock_from(struct tls_sock *ts, struct sock *sk, __u64 cookie, const struct sock_info *o, __u8 dir)
{
	__builtin_memset(&ts->t, 0, sizeof(ts->t));
	tuple_from_sock(&ts->t, sk, IPPROTO_TCP);
	ts->t.direction = o ? o->direction : NE_DIR_UNKNOWN;
	ts->cookie = cookie;
	ts->netns = sock_netns(sk);
	struct syscall_io io = {};
	ts->fd = syscall_io_of_current(&io, dir) ? io.fd : -1;
}

/*
 * sock_send_length / sock_recv_length of any socket, before capture_io (`st` is the TCP stream's
 * class, NULL when it has none yet): binds the SSL call this
 * thread is in to the socket, stops copying the ciphertext of a stream whose plaintext is taken,
 * and remembers the TLS socket a memory-BIO library is about to decrypt.
 */
static __always_inline void tls_socket_io(struct sock *sk, __u64 cookie, const struct sock_info *o, __u8 dir,
					 struct stream_state *st)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return;
	if (st && st->cls == NE_CLS_L7)
		return; /* a cleartext protocol: the common case costs one lookup */
	struct task_struct *task = bpf_get_current_task_btf();
	struct tls_call *c = bpf_task_storage_get(&tls_calls, task, 0, 0);
	if (c && c->active) {
		if (!c->bound || c->sock.cookie != cookie)
			tls_sock_from(&c->sock, sk, cookie, o, dir);
		c->bound = 1;
		/* Inside SSL_read/SSL_write past the handshake (or joined mid-stream, where the
		 * ciphertext may have been taken for nothing we parse): only ciphertext of data the
		 * uprobes take from here on. A handshake record still goes to the l7 processor. */
		if (st && (st->cls == NE_CLS_TLS_DONE || st->cls == NE_CLS_OPAQUE ||
			   (st->cls == NE_CLS_TLS && st->tls_dirs == (NE_DATA_SEND | NE_DATA_RECV)) ||
			   (st->cls == NE_CLS_UNKNOWN && st->sniffed > 0)))
			st->cls = NE_CLS_TLS_PLAIN;
		return;
	}
	if (dir != NE_DATA_RECV)
		return;
	if (!c)
		c = bpf_task_storage_get(&tls_calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return;
	if (!c->has_last_recv || c->last_recv.cookie != cookie)
		tls_sock_from(&c->last_recv, sk, cookie, o, dir);
	c->has_last_recv = 1;
}

static __always_inline int tls_enter(struct pt_regs *ctx, __u8 fn)
{
	if (excluded_current())
		return 0;
	struct tls_call *c = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c) {
		STAT_INC(map_full);
		return 0;
	}
	/* A nested call (a library whose SSL_read_ex calls SSL_read) replaces the outer one: the
	 * inner return reports the bytes, the outer return then finds nothing active. */
	c->ssl = PT_REGS_PARM1(ctx);
	c->buf = PT_REGS_PARM2(ctx);
	c->out_len = (fn == TLS_FN_READ_EX || fn == TLS_FN_WRITE_EX) ? PT_REGS_PARM4(ctx) : 0;
	c->fn = fn;
	c->bound = 0;
	c->active = 1;
	return 0;
}

/*
 * Bytes the call moved: SSL_read/SSL_write return them, the _ex forms return 1 and store them.
 * All four return an int: the upper half of the return register is not part of it.
 */
static __always_inline __u64 tls_moved(const struct tls_call *c, int ret)
{
	if (c->fn == TLS_FN_READ || c->fn == TLS_FN_WRITE)
		return ret > 0 ? (__u64)ret : 0;
	__u64 n = 0;
	if (ret != 1 || !c->out_len || bpf_probe_read_user(&n, sizeof(n), (const void *)c->out_len))
		return 0;
	return n;
}

/* The connection of the call's SSL object, renewed from the sockets the thread touched. */
static __always_inline struct tls_conn *tls_conn_of(struct tls_call *c, struct tls_conn_key *key)
{
	struct tls_conn *conn = bpf_map_lookup_elem(&tls_conns, key);
	const struct tls_sock *seen = NULL;
	__u8 direct = 0;
	if (c->bound) {
		seen = &c->sock;
		direct = 1;
	} else if (c->has_last_recv && !(conn && conn->direct) && (c->fn == TLS_FN_READ || c->fn == TLS_FN_READ_EX || !conn)) {
		/* Memory BIOs: a read decrypts what the thread just received; a first write with no
		 * read before it (a client's request right after its handshake) goes out on the
		 * connection whose handshake the thread just finished reading. */
		seen = &c->last_recv;
	}
	if (!seen)
		return conn;
	if (conn && conn->sock.cookie == seen->cookie) {
		conn->direct |= direct;
		return conn;
	}
	struct tls_conn fresh = {};
	fresh.sock = *seen;
	fresh.direct = direct;
	if (bpf_map_update_elem(&tls_conns, key, &fresh, BPF_ANY)) {
		STAT_INC(map_full);
		return NULL;
	}
	return bpf_map_lookup_elem(&tls_conns, key);
}

/* Sends the plaintext of one call as a decrypted NE_PAYLOAD record of its connection. */
static __always_inline void emit_plaintext(struct tls_conn *conn, __u64 buf, __u64 moved, __u8 dir)
{
	__u64 cookie = conn->sock.cookie;
	if (!payload_wanted(cookie, bpf_map_lookup_elem(&socks, &cookie)))
		return;
	if (!ports_ok(conn->sock.t.lport, conn->sock.t.rport))
		return;
	struct ne_scratch *s = payload_scratch();
	if (!s)
		return;
	struct ne_payload *r = &s->rec;
	r->t = conn->sock.t;
	__u32 off = 0;
	copy_chunk(s, &off, buf, moved < cfg.capture_bytes ? moved : cfg.capture_bytes);
	if (conn->st.cls >= NE_CLS_OPAQUE || !classify(&conn->st, s->data, off, dir)) {
		count_skipped(NE_CLS_OPAQUE, moved);
		return;
	}
	struct sock_info me = {};
	owner_from_current(&me);
	me.netns = conn->sock.netns;
	fill_header(&r->h, NE_PAYLOAD, 0, cookie, &me);
	r->fd = conn->sock.fd;
	r->flags = NE_PAYLOAD_DECRYPTED;
	send_payload(r, off, moved, dir);
}

static __always_inline int tls_return(struct pt_regs *ctx)
{
	struct tls_call *c = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (!c || !c->active)
		return 0;
	c->active = 0;
	__u64 moved = tls_moved(c, (int)PT_REGS_RC(ctx));
	struct tls_conn_key key = { .ssl = c->ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct tls_conn *conn = tls_conn_of(c, &key);
	if (moved == 0)
		return 0;
	if (!conn) {
		STAT_INC(tls_unbound);
		return 0;
	}
	__u8 dir = (c->fn == TLS_FN_READ || c->fn == TLS_FN_READ_EX) ? NE_DATA_RECV : NE_DATA_SEND;
	emit_plaintext(conn, c->buf, moved, dir);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_read, void *ssl, void *buf)
{
	return tls_enter(ctx, TLS_FN_READ);
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_read_ex, void *ssl, void *buf)
{
	return tls_enter(ctx, TLS_FN_READ_EX);
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_write, void *ssl, void *buf)
{
	return tls_enter(ctx, TLS_FN_WRITE);
}

SEC("uprobe")
int BPF_KPROBE(on_ssl_write_ex, void *ssl, void *buf)
{
	return tls_enter(ctx, TLS_FN_WRITE_EX);
}

/* One return program for the four functions: the entry recorded which one it was. */
SEC("uretprobe")
int BPF_KRETPROBE(on_ssl_return)
{
	return tls_return(ctx);
}

#endif /* NE_TLS_UPROBES_BPF_H */
