/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who sent each DNS datagram an unconnected UDP socket will read. The receive is captured at
 * sock_recv_length, before the kernel copies the sender's address out to the caller, and a
 * program at the syscall's exit to read it from there would put every syscall of every process
 * on the host on the traced slow path (an empty sys_exit_recvfrom tracepoint alone cost nginx
 * 5-8 % of its keep-alive throughput here). So the sender is taken where the datagram arrives:
 * cgroup_skb/ingress notes it in the socket's storage, the receive takes it back by what it
 * read (the DNS id and flags, the length), oldest first, as the socket's queue hands them out.
 */
#ifndef NE_UDP_PEERS_BPF_H
#define NE_UDP_PEERS_BPF_H

/* A DNS header at d: a known opcode, the Z bit clear and one question. */
static __always_inline bool looks_dns_header(const __u8 *d)
{
	__u8 opcode = (d[2] >> 3) & 0xf;
	return opcode != 3 && opcode <= 6 && !(d[3] & 0x40) && d[4] == 0 && d[5] == 1;
}

/* How many arrivals a socket remembers: a deeper queue of DNS datagrams loses the oldest senders. */
#define NE_UDP_PEERS 16

struct udp_peer {
	__u8 addr[16];
	__u16 port;
	__u8 family; /* 4 or 6: a dual-stack socket is also sent IPv4 datagrams */
	__u8 _pad;
	__u32 head;  /* the first four bytes: DNS id and flags */
	__u32 len;   /* the datagram's payload length; 0 = taken or never filled */
	__u32 _pad2;
};

struct udp_peers {
	__u32 next; /* arrivals so far: the slot of the next one is next % NE_UDP_PEERS */
	__u32 _pad;
	struct udp_peer e[NE_UDP_PEERS];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct udp_peers);
} udp_peers SEC(".maps");

/*
 * At ingress: notes the sender of a DNS datagram arriving at an unconnected socket (`sk`, the
 * receiving socket's full view). Only when payload capture is on; a connected socket's peer is
 * in the socket itself.
 */
static __always_inline void udp_peer_note(struct __sk_buff *skb, struct bpf_sock *sk, const struct ne_tuple *t, __u32 payload_off,
					  __u32 payload_len)
{
	if (!cfg.enable_payload || payload_len < 12 || !sk || sk->state == BPF_TCP_ESTABLISHED)
		return;
	__u8 head[12];
	if (bpf_skb_load_bytes(skb, payload_off, head, sizeof(head)) || !looks_dns_header(head))
		return;
	struct udp_peers *p = bpf_sk_storage_get(&udp_peers, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!p) {
		STAT_INC(map_full);
		return;
	}
	struct udp_peer *e = &p->e[p->next & (NE_UDP_PEERS - 1)];
	__builtin_memcpy(e->addr, t->raddr, 16);
	e->port = t->rport;
	e->family = t->family;
	__builtin_memcpy(&e->head, head, 4);
	e->len = payload_len;
	p->next++;
}

/*
 * At the receive: fills the sender of the datagram just read (its first bytes at d, `moved`
 * read) into t, taking the oldest arrival that matches, and says whether one did. A datagram
 * that arrived before the receiver started, or behind NE_UDP_PEERS newer ones, has none.
 * Arrivals are written on the CPU that delivers them while this one reads: a slot is only
 * rewritten once NE_UDP_PEERS newer datagrams came, and a torn one does not match.
 */
static __always_inline bool udp_peer_take(struct sock *sk, const __u8 *d, __u64 moved, struct ne_tuple *t)
{
	struct udp_peers *p = bpf_sk_storage_get(&udp_peers, sk, 0, 0);
	if (!p)
		return false;
	__u32 head;
	__builtin_memcpy(&head, d, 4);
	__u32 first = p->next - NE_UDP_PEERS;
#pragma unroll
	for (int i = 0; i < NE_UDP_PEERS; i++) {
		struct udp_peer *e = &p->e[(first + i) & (NE_UDP_PEERS - 1)];
		/* A reader's buffer shorter than the datagram gets its first `moved` bytes. */
		if (e->len == 0 || e->head != head || e->len < moved)
			continue;
		__builtin_memcpy(t->raddr, e->addr, 16);
		t->rport = e->port;
		if (e->family == 4 && t->family == 6) {
			unmap_v4(t->laddr);
			t->family = 4;
			t->flags |= NE_TUPLE_V4_MAPPED;
		}
		e->len = 0;
		return true;
	}
	return false;
}

#endif /* NE_UDP_PEERS_BPF_H */
