/* kwait.bpf.h - the kernel's own waits around a tracked TCP socket
 * (docs/accuracy.md, "Kernel waits"), called from the data_ready hook
 * (conn.bpf.h) and from track_sock.
 *
 *  - Before the socket is told: a request's bytes enter the host (the skb's
 *    receive timestamp) and may wait for the kernel's receive path, in the
 *    softirq backlog of a busy CPU or behind the socket's lock, before
 *    sk_data_ready.  The first data_ready since the socket's last read
 *    reads its newest skb's timestamp: BZ_EV_RX_ARRIVAL.
 *  - After the last write: the response can stay in the send queue after
 *    write() returned (Nagle's algorithm holding a small last write for the
 *    client's delayed ACK, ~40 ms: what issue 20's server lost; a congestion
 *    window), and on loopback it is delivered in the softirq of the writing
 *    CPU, which a saturated CPU may leave to ksoftirqd.  When the other end
 *    is a socket of this host, its data_ready (a socket that is not a
 *    target: the peers map says whose peer it is) is the moment it has the
 *    bytes: BZ_EV_PEER_RX once it has every byte the tracked socket wrote.
 * Both are on unless the recorder says --no-kernel-waits (cfg_kwaits). */
#ifndef BEYLA_KWAIT_BPF_H
#define BEYLA_KWAIT_BPF_H

const volatile __u8 cfg_kwaits = 0;
/* RX_ARRIVAL only for a wait of at least this: on an idle loopback the
 * receive path takes a few microseconds, and a record per request for that
 * would cost more than it tells (the analyzer reads a missing one as 0) */
const volatile __u64 cfg_kw_rx_min_ns = 20000;
/* CLOCK_REALTIME - CLOCK_MONOTONIC when the recorder loaded the programs:
 * skb timestamps are real time, events are monotonic */
const volatile __s64 cfg_real_minus_mono_ns = 0;

/* The other end of a tracked loopback connection, keyed by its own view:
 * its local address and port are the tracked socket's remote ones. */
struct peer_key {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport, rport; /* host byte order */
	__u32 family;
};
struct peer_val {
	__u64 sk;        /* the tracked socket (never leaves the kernel) */
	__u64 conn_id;
	__u64 delivered; /* its bytes the peer had at the last catch-up, since tracked */
	__u32 pid;       /* its target */
	__u32 last_rcv;  /* the peer's rcv_nxt then (at first: our write_seq when tracked) */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* an entry whose close was missed ages out */
	__uint(max_entries, 16384);
	__type(key, struct peer_key);
	__type(value, struct peer_val);
} peers SEC(".maps");
/* Set with the first peers entry: until then no other socket's data_ready
 * pays for the lookup. */
__u8 have_peers;

#define KW_MAX_AGE_NS (10ull * 1000000000ull) /* an skb timestamp older than this is not this request's */

/* The socket's own addresses and ports into k (swap: as its peer sees them).
 * It runs in every data_ready of a socket that might be a tracked one's
 * other end, so it reads the front of sock_common (the IPv4 addresses, the
 * ports and the family sit within its first 20 bytes on every kernel
 * since 2.6) in one helper call, and the IPv6 pair in a second, instead
 * of a call per field (~37 ns each, docs/performance.md).  A kernel whose
 * layout puts them further apart takes the per-field reads: the offsets
 * are CO-RE constants, so the verifier keeps only one of the two paths. */
#define KW_FRONT 24
static __always_inline int kw_tuple(struct sock *sk, struct peer_key *k, int swap)
{
	__u32 o_d = bpf_core_field_offset(struct sock, __sk_common.skc_daddr);
	__u32 o_s = bpf_core_field_offset(struct sock, __sk_common.skc_rcv_saddr);
	__u32 o_n = bpf_core_field_offset(struct sock, __sk_common.skc_num);
	__u32 o_p = bpf_core_field_offset(struct sock, __sk_common.skc_dport);
	__u32 o_f = bpf_core_field_offset(struct sock, __sk_common.skc_family);
	__u8 *l = swap ? k->raddr : k->laddr, *r = swap ? k->laddr : k->raddr;
	__u16 family, lport, rport;

	if (o_s >= o_d && o_s - o_d <= KW_FRONT - 4 && o_n >= o_d && o_n - o_d <= KW_FRONT - 2 &&
	    o_p >= o_d && o_p - o_d <= KW_FRONT - 2 && o_f >= o_d && o_f - o_d <= KW_FRONT - 2) {
		__u8 front[KW_FRONT];

		if (bpf_probe_read_kernel(front, sizeof(front), (void *)sk + o_d))
			return -1;
		family = *(__u16 *)(front + (o_f - o_d));
		lport = *(__u16 *)(front + (o_n - o_d));
		rport = bpf_ntohs(*(__u16 *)(front + (o_p - o_d)));
		if (family == BZ_AF_INET) {
			__builtin_memcpy(l, front + (o_s - o_d), 4);
			__builtin_memcpy(r, front, 4);
		}
	} else {
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
		lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		if (family == BZ_AF_INET) {
			BPF_CORE_READ_INTO((__u32 *)l, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO((__u32 *)r, sk, __sk_common.skc_daddr);
		}
	}
	if (family == BZ_AF_INET6) {
		BPF_CORE_READ_INTO((struct in6_addr *)l, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)r, sk, __sk_common.skc_v6_daddr);
	} else if (family != BZ_AF_INET) {
		return -1;
	}
	k->lport = swap ? rport : lport;
	k->rport = swap ? lport : rport;
	k->family = family;
	return 0;
}

/* The remote end is on this host: 127/8, ::1, ::ffff:127/104, or the
 * socket's own address. */
static __always_inline int kw_remote_is_local(const struct peer_key *own)
{
	const __u8 *l = own->laddr, *r = own->raddr;
	int same = 1, v6lo = 1;

	if (own->family == BZ_AF_INET)
		return r[0] == 127 || *(const __u32 *)l == *(const __u32 *)r;
	for (int i = 0; i < 16; i++) {
		same &= l[i] == r[i];
		v6lo &= r[i] == (i == 15);
	}
	if (same || v6lo)
		return 1;
	/* v4-mapped loopback */
	for (int i = 0; i < 10; i++)
		if (r[i])
			return 0;
	return r[10] == 0xff && r[11] == 0xff && r[12] == 127;
}

/* track_sock: a TCP socket of a target, just tracked.  When its other end
 * is on this host, that socket's data_ready will find it in peers.
 * Returns SOCK_LOCAL_PEER for the state's flags, or 0. */
static __always_inline __u32 kw_track(struct sock *sk, __u64 conn_id, __u32 pid)
{
	struct peer_key own = {}, pk = {};
	struct peer_val v = { .sk = (__u64)sk, .conn_id = conn_id, .pid = pid };
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct peer_val *other;

	if (!cfg_kwaits || kw_tuple(sk, &own, 0) || !kw_remote_is_local(&own))
		return 0;
	kw_tuple(sk, &pk, 1);
	/* bytes written from now on are counted, as DATA records count them */
	v.last_rcv = BPF_CORE_READ(tp, write_seq);
	if (bpf_map_update_elem(&peers, &pk, &v, BPF_ANY)) {
		count_missed(BZ_P_PEER_RX);
		return 0;
	}
	if (!have_peers)
		have_peers = 1;
	/* Its other end tracked already (a proxy and its backend, both
	 * targets)?  Then each end's data_ready is the other's delivery: both
	 * get peer_tracked, and a tracked socket without it skips the lookup
	 * that would miss.  Each end adds its entry before it looks for the
	 * other's, so of two ends tracked at once on two CPUs, the later
	 * lookup finds the other. */
	other = bpf_map_lookup_elem(&peers, &own);
	if (other) {
		__u64 okey = other->sk;
		struct sock_state *os = bpf_map_lookup_elem(&socks, &okey);
		__u64 key = (__u64)sk;
		struct sock_state *ms = bpf_map_lookup_elem(&socks, &key);

		if (os)
			os->peer_tracked = 1;
		if (ms)
			ms->peer_tracked = 1;
	}
	return SOCK_LOCAL_PEER;
}

/* The tracked socket sk reached TCP_CLOSE: its peer's entry goes. */
static __always_inline void kw_untrack(struct sock *sk)
{
	struct peer_key pk = {};

	if (!kw_tuple(sk, &pk, 1))
		bpf_map_delete_elem(&peers, &pk);
}

/* data_ready of sk at now, which may be the other end of a tracked
 * loopback connection: has it every byte the tracked socket wrote?  (now:
 * the time sk's own state notes, when it is tracked too, so that a
 * request's arrival on one end is never before its delivery by the other.) */
static __noinline int kw_peer_ready(struct sock *sk, __u64 now)
{
	struct peer_key k = {};
	struct peer_val *v;
	struct bz_ev_peer_rx ev = {};
	struct tcp_sock *ptp, *ttp;
	__u32 rcv, wseq;

	if (kw_tuple(sk, &k, 0))
		return 0;
	v = bpf_map_lookup_elem(&peers, &k);
	if (!v || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != BZ_IPPROTO_TCP)
		return 0;
	ptp = (struct tcp_sock *)sk;
	ttp = (struct tcp_sock *)v->sk;
	rcv = BPF_CORE_READ(ptp, rcv_nxt);
	wseq = BPF_CORE_READ(ttp, write_seq);
	/* not caught up, or caught up already: nothing new */
	if ((__s32)(rcv - wseq) < 0 || (__s32)(rcv - v->last_rcv) <= 0)
		return 0;
	v->delivered += rcv - v->last_rcv; /* 32-bit sequence arithmetic: wraps */
	v->last_rcv = rcv;
	/* Delivered inside the tracked process's own syscall (its write's
	 * softirq, on loopback: the common case): by the time that write
	 * returned.  Not written (the analyzer reads no record as that),
	 * except on HTTP/2, where no next request on the connection tells the
	 * analyzer that the client had a stream's response. */
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) == v->pid) {
		__u64 tkey = v->sk;
		struct sock_state *ts = bpf_map_lookup_elem(&socks, &tkey);
		if (!ts)
			return 0;
		/* the write's DATA record says when (on_sock_io) */
		ts->delivered_ns = now;
		ts->delivered_seq = rcv;
		if (!(ts->flags & (SOCK_H2 | SOCK_H2C)))
			return 0;
	}
	fill_hdr(&ev.h, BZ_EV_PEER_RX, sizeof(ev), (__u64)v->pid << 32);
	ev.conn_id = v->conn_id;
	ev.bytes_out = v->delivered;
	emit(BZ_P_PEER_RX, &ev, sizeof(ev));
	return 0;
}

/* data_ready of sk, a UNIX stream socket: its peer's write queued bytes on
 * it, and this runs inside that write.  When the writer is a target's
 * tracked socket, its bytes were delivered now (the write's DATA record
 * says so, on_sock_io): a UNIX write has no queue of its own, but its
 * return may come well after, when the reader it woke ran first. */
static __noinline int kw_unix_delivered(struct sock *sk, __u64 now)
{
	__u64 wkey = (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
	struct sock_state *w;

	if (!wkey)
		return 0;
	w = bpf_map_lookup_elem(&socks, &wkey);
	if (!w || !(w->flags & SOCK_UNIX) || w->pid != (__u32)(bpf_get_current_pid_tgid() >> 32))
		return 0;
	w->delivered_ns = now;
	return 0;
}

/* The first data_ready on tracked socket sk since its last read, at now:
 * when did the newest skb enter the host?  prev_ready: the socket's
 * previous data_ready (an skb from before it holds older bytes: a read
 * that left bytes behind, the new ones coalesced into it). */
static __noinline int kw_rx_arrival(struct sock *sk, __u64 conn_id, __u32 pid, __u64 now, __u64 prev_ready)
{
	void *head = (void *)sk + bpf_core_field_offset(struct sock, sk_receive_queue);
	struct bz_ev_rx_arrival ev = {};
	struct sk_buff *skb;
	__s64 real;
	__u64 host;

	skb = BPF_CORE_READ(sk, sk_receive_queue.prev);
	if (!skb || (void *)skb == head)
		return 0;
	real = BPF_CORE_READ(skb, tstamp);
	if (real <= 0)
		return 0;
	host = (__u64)(real - cfg_real_minus_mono_ns);
	if (host > now || now - host > KW_MAX_AGE_NS || host <= prev_ready || now - host < cfg_kw_rx_min_ns)
		return 0;
	fill_hdr(&ev.h, BZ_EV_RX_ARRIVAL, sizeof(ev), (__u64)pid << 32);
	ev.h.ts_ns = now; /* the arrival_ns the read will carry */
	ev.conn_id = conn_id;
	ev.host_ns = host;
	emit(BZ_P_RX_ARRIVAL, &ev, sizeof(ev));
	return 0;
}

#endif
