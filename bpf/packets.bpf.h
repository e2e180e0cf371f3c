/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * UDP and ICMP at the packet level with cgroup_skb: the only place that sees the remote
 * address of an unconnected sendto and every ICMP message, and where the sender of a datagram
 * an unconnected socket will read is noted (udp_peers.bpf.h).
 */
#ifndef NE_PACKETS_BPF_H
#define NE_PACKETS_BPF_H

struct icmp_head {
	__u8 type;
	__u8 code;
	__u16 csum;
	__u16 id;
	__u16 seq;
};

static __always_inline bool icmp_interesting(__u8 family, __u8 type)
{
	if (family == 4)
		/* echo reply, unreachable, echo request, time exceeded */
		return type == 0 || type == 3 || type == 8 || type == 11;
	/* unreachable, packet too big, time exceeded, echo request, echo reply (not ND/MLD) */
	return type == 1 || type == 2 || type == 3 || type == 128 || type == 129;
}

/* The socket the packet belongs to, as a full socket, or NULL (a request or time-wait socket). */
static __always_inline struct bpf_sock *full_socket_of(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	return sk ? bpf_sk_fullsock(sk) : NULL;
}

static __always_inline void handle_skb(struct __sk_buff *skb, __u8 dir)
{
	struct bpf_sock *sk = full_socket_of(skb);
	/*
	 * A packet of a TCP socket: most packets are, and nothing here is for them (the TCP lifecycle
	 * and the capture see TCP). Told by the socket, before any header is loaded: a TCP socket
	 * sends and is delivered only TCP segments, and ICMP errors about TCP reach no socket's filter.
	 */
	if (sk && sk->protocol == IPPROTO_TCP)
		return;
	struct ne_tuple t = {};
	__u8 proto;
	__u32 l4off, l4len;
	__u8 src[16] = {}, dst[16] = {};

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (!cfg.enable_ipv4)
			return;
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return;
		if (ip.frag_off & bpf_htons(0x1fff))
			return; /* later fragments carry no L4 header */
		proto = ip.protocol;
		l4off = ip.ihl * 4;
		l4len = bpf_ntohs(ip.tot_len) - l4off;
		__builtin_memcpy(src, &ip.saddr, 4);
		__builtin_memcpy(dst, &ip.daddr, 4);
		t.family = 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (!cfg.enable_ipv6)
			return;
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return;
		proto = ip6.nexthdr;
		l4off = sizeof(ip6);
		l4len = bpf_ntohs(ip6.payload_len);
		__builtin_memcpy(src, &ip6.saddr, 16);
		__builtin_memcpy(dst, &ip6.daddr, 16);
		t.family = 6;
	} else {
		return;
	}

	__u16 sport = 0, dport = 0;
	struct icmp_head ih = {};
	if (proto == IPPROTO_UDP) {
		if (!cfg.enable_udp)
			return;
		struct udphdr uh;
		if (bpf_skb_load_bytes(skb, l4off, &uh, sizeof(uh)))
			return;
		sport = bpf_ntohs(uh.source);
		dport = bpf_ntohs(uh.dest);
		if (!ports_ok(sport, dport))
			return;
	} else if ((proto == IPPROTO_ICMP && t.family == 4) || (proto == IPPROTO_ICMPV6_ && t.family == 6)) {
		if (!cfg.enable_icmp)
			return;
		if (bpf_skb_load_bytes(skb, l4off, &ih, sizeof(ih)))
			return;
		if (!icmp_interesting(t.family, ih.type))
			return;
	} else {
		return;
	}

	t.proto = proto;
	t.direction = dir;
	if (dir == NE_DIR_OUTBOUND) {
		__builtin_memcpy(t.laddr, src, 16);
		__builtin_memcpy(t.raddr, dst, 16);
		t.lport = sport;
		t.rport = dport;
	} else {
		__builtin_memcpy(t.laddr, dst, 16);
		__builtin_memcpy(t.raddr, src, 16);
		t.lport = dport;
		t.rport = sport;
	}

	__u64 cookie = bpf_get_socket_cookie(skb);
	struct sock_info *o = NULL;
	if (cookie) {
		o = bpf_map_lookup_elem(&socks, &cookie);
		if (o && o->skip) {
			/* Noted as it leaves, before loopback delivers it to the far end's hooks. */
			if (proto == IPPROTO_UDP && dir == NE_DIR_OUTBOUND && excluded_owner(o))
				note_self_flow(&t);
			return;
		}
		if (!o && !sampled_in(cookie)) {
			STAT_INC(sampled_out);
			return;
		}
	}

	if (proto == IPPROTO_UDP) {
		/* Noted even from an excluded peer, so the receive can tell that it is one. */
		if (dir == NE_DIR_INBOUND && l4len > 8)
			udp_peer_note(skb, sk, &t, l4off + 8, l4len - 8);
		if (is_self_flow(&t))
			return;
		struct ne_udp_pkt *r = reserve(sizeof(*r));
		if (!r)
			return;
		__builtin_memset(r, 0, sizeof(*r));
		fill_header(&r->h, NE_UDP_PKT, sizeof(*r), cookie, o);
		r->t = t;
		r->bytes = l4len > 8 ? l4len - 8 : 0;
		submit(r, sizeof(*r));
		return;
	}
	struct ne_icmp *r = reserve(sizeof(*r));
	if (!r)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	fill_header(&r->h, NE_ICMP, sizeof(*r), cookie, o);
	r->t = t;
	r->icmp_type = ih.type;
	r->icmp_code = ih.code;
	r->echo_id = bpf_ntohs(ih.id);
	r->echo_seq = bpf_ntohs(ih.seq);
	r->bytes = l4len;
	submit(r, sizeof(*r));
}

SEC("cgroup_skb/egress")
int on_egress(struct __sk_buff *skb)
{
	handle_skb(skb, NE_DIR_OUTBOUND);
	return 1;
}

SEC("cgroup_skb/ingress")
int on_ingress(struct __sk_buff *skb)
{
	handle_skb(skb, NE_DIR_INBOUND);
	return 1;
}

#endif /* NE_PACKETS_BPF_H */
