/* conn.bpf.h - TCP connection life of targets: accept, connect, handshake
 * completion, close, and data arrival (data_ready).  Included once, by
 * beyla.bpf.c. */
#ifndef BEYLA_CONN_BPF_H
#define BEYLA_CONN_BPF_H

#define BZ_TCP_ESTABLISHED 1
#define BZ_TCP_SYN_SENT 2
#define BZ_TCP_SYN_RECV 3
#define BZ_TCP_CLOSE 7
#define BZ_IPPROTO_TCP 6
#define BZ_S_IFMT 00170000
#define BZ_S_IFSOCK 0140000

/* The TCP socket behind a file descriptor of the current process, or NULL. */
static __always_inline struct sock *fd_to_sock(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	struct socket *so;
	__u16 mode;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & BZ_S_IFMT) != BZ_S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(so, sk);
}

static __always_inline __u16 sock_local_port(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_num);
}

static __always_inline __u16 sock_remote_port(struct sock *sk)
{
	return bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline int sock_is_inet(struct sock *sk)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	return fam == BZ_AF_INET || fam == BZ_AF_INET6;
}

/* Makes sk a tracked socket of the current target and reports it.  Returns
 * its state, or NULL when the map is full (counted). */
static __always_inline struct sock_state *track_sock(struct sock *sk, __u8 role, int fd,
						      __u64 call_start, __u32 probe)
{
	__u64 key = (__u64)sk;
	struct sock_state st = {}, *stp;
	struct bz_ev_conn_open ev = {};
	struct estab_info *es;
	__u32 zero = 0;
	__u64 *seq;

	stp = bpf_map_lookup_elem(&socks, &key);
	if (stp)
		return stp;
	/* A last write on a socket that already reached TCP_CLOSE (a TLS
	 * close_notify after the peer's reset) is not a new connection. */
	if (role == BZ_ROLE_PREEXISTING && BPF_CORE_READ(sk, __sk_common.skc_state) == BZ_TCP_CLOSE)
		return NULL;
	seq = bpf_map_lookup_elem(&conn_seq, &zero);
	if (!seq)
		return NULL;
	st.conn_id = __sync_fetch_and_add(seq, 1) + 1;
	st.pid = bpf_get_current_pid_tgid() >> 32;
	if (bpf_map_update_elem(&socks, &key, &st, BPF_NOEXIST)) {
		count_missed(probe);
		return NULL;
	}
	fill_hdr(&ev.h, BZ_EV_CONN_OPEN, sizeof(ev), bpf_get_current_pid_tgid());
	ev.conn_id = st.conn_id;
	ev.syscall_start_ns = call_start;
	ev.fd = fd;
	es = bpf_map_lookup_elem(&estab, &key);
	if (es) {
		ev.established_ns = es->ts_ns;
		if (role == BZ_ROLE_UNKNOWN || role == BZ_ROLE_PREEXISTING)
			role = es->passive ? BZ_ROLE_ACCEPTED : BZ_ROLE_CONNECTED;
	}
	ev.role = role;
	ev.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	ev.local_port = sock_local_port(sk);
	ev.remote_port = sock_remote_port(sk);
	if (ev.family == BZ_AF_INET) {
		BPF_CORE_READ_INTO(&ev.local_addr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&ev.remote_addr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&ev.local_addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&ev.remote_addr, sk, __sk_common.skc_v6_daddr);
	}
	emit(probe, &ev, sizeof(ev));
	stp = bpf_map_lookup_elem(&socks, &key);
	if (stp && role == BZ_ROLE_PREEXISTING)
		stp->flags |= SOCK_JOINED;
	return stp;
}

static __always_inline int sock_port_selected(struct sock *sk)
{
	return port_selected(sock_local_port(sk)) || port_selected(sock_remote_port(sk));
}

/* --port: a process that uses one of the ports becomes a target, and the
 * hook that made it one reports who it is. */
static __always_inline int adopt_by_port(__u32 tgid, struct sock *sk)
{
	if (!cfg_any_port || tgid == cfg_self_pid || !sock_port_selected(sk))
		return 0;
	if (target_add_new(tgid))
		emit_adopt();
	return is_target(tgid);
}

/* tgid is a target and sk its socket.  With --exe and --port together, a
 * tentative target (exec'd, not judged by the regexes yet) that uses a
 * --port port is a target by that rule: the first hook to see it says so. */
static __always_inline void adopt_tentative(__u32 tgid, struct sock *sk)
{
	if (!cfg_exe_and_port || !is_tentative(tgid) || !sock_port_selected(sk))
		return;
	if (tentative_take(tgid))
		emit_adopt();
}

static __always_inline int call_enter(__s32 fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct call_stash cs = { .start_ns = bpf_ktime_get_ns(), .fd = fd };

	if (!cfg_any_port && !is_target(pid_tgid >> 32))
		return 0;
	bpf_map_update_elem(&call_stash, &tid, &cs, BPF_ANY);
	return 0;
}

static __always_inline int accept_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct call_stash *cs = bpf_map_lookup_elem(&call_stash, &tid);
	__u64 start = cs ? cs->start_ns : 0;
	struct sock *sk;

	if (cs)
		bpf_map_delete_elem(&call_stash, &tid);
	if (ret < 0 || (!cfg_any_port && !is_target(tgid)))
		return 0;
	sk = fd_to_sock(ret);
	if (!sk || !sock_is_inet(sk))
		return 0;
	if (is_target(tgid))
		adopt_tentative(tgid, sk);
	else if (!adopt_by_port(tgid, sk))
		return 0;
	track_sock(sk, BZ_ROLE_ACCEPTED, ret, start, BZ_P_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int bz_accept_enter(struct trace_event_raw_sys_enter *ctx) { return call_enter(-1); }
SEC("tracepoint/syscalls/sys_enter_accept4")
int bz_accept4_enter(struct trace_event_raw_sys_enter *ctx) { return call_enter(-1); }
SEC("tracepoint/syscalls/sys_exit_accept")
int bz_accept_exit(struct trace_event_raw_sys_exit *ctx) { return accept_exit(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_accept4")
int bz_accept4_exit(struct trace_event_raw_sys_exit *ctx) { return accept_exit(ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_connect")
int bz_connect_enter(struct trace_event_raw_sys_enter *ctx) { return call_enter((__s32)ctx->args[0]); }

SEC("tracepoint/syscalls/sys_exit_connect")
int bz_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct call_stash *cs = bpf_map_lookup_elem(&call_stash, &tid);
	struct sock *sk;
	__u64 start;
	__s32 fd;

	if (!cs)
		return 0;
	start = cs->start_ns;
	fd = cs->fd;
	bpf_map_delete_elem(&call_stash, &tid);
	/* Non-blocking connects return -EINPROGRESS; the handshake ends later. */
	if (ctx->ret < 0 && ctx->ret != -115)
		return 0;
	sk = fd_to_sock(fd);
	if (!sk || !sock_is_inet(sk))
		return 0;
	if (is_target(tgid))
		adopt_tentative(tgid, sk);
	else if (!adopt_by_port(tgid, sk))
		return 0;
	track_sock(sk, BZ_ROLE_CONNECTED, fd, start, BZ_P_CONNECT);
	return 0;
}

static __always_inline int sock_is_tcp(struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) == BZ_IPPROTO_TCP;
}

/* Raw tracepoints on the hot paths: a classic tracepoint first copies
 * every field into a perf buffer; a raw one hands over the arguments. */
SEC("raw_tracepoint/inet_sock_set_state")
int bz_state(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	int oldstate = (int)ctx->args[1], newstate = (int)ctx->args[2];
	__u64 key = (__u64)sk;
	struct sock_state *st;

	if (newstate == BZ_TCP_ESTABLISHED) {
		struct estab_info es = { .ts_ns = bpf_ktime_get_ns(),
					 .passive = oldstate == BZ_TCP_SYN_RECV };
		if (!sock_is_tcp(sk))
			return 0;
		if (cfg_port_only && !sock_port_selected(sk))
			return 0;
		bpf_map_update_elem(&estab, &key, &es, BPF_ANY);
		st = bpf_map_lookup_elem(&socks, &key);
		if (st && oldstate == BZ_TCP_SYN_SENT) {
			struct bz_ev_conn_est ev = {};
			fill_hdr(&ev.h, BZ_EV_CONN_EST, sizeof(ev), (__u64)st->pid << 32);
			ev.conn_id = st->conn_id;
			emit(BZ_P_STATE, &ev, sizeof(ev));
		}
		return 0;
	}
	if (newstate != BZ_TCP_CLOSE)
		return 0;
	bpf_map_delete_elem(&estab, &key);
	st = bpf_map_lookup_elem(&socks, &key);
	if (!st)
		return 0;
	{
		struct bz_ev_conn_close ev = {};
		fill_hdr(&ev.h, BZ_EV_CONN_CLOSE, sizeof(ev), (__u64)st->pid << 32);
		ev.conn_id = st->conn_id;
		ev.bytes_in = st->bytes_in;
		ev.bytes_out = st->bytes_out;
		emit(BZ_P_STATE, &ev, sizeof(ev));
	}
	bpf_map_delete_elem(&socks, &key);
	return 0;
}

/* Data reached a tracked socket's receive queue: from now on a request (or
 * response) is waiting for its process.  No event: the time rides on the
 * next read's DATA event.  Only tracked sockets are in the map, so the
 * lookup is the filter. */
SEC("raw_tracepoint/sk_data_ready")
int bz_data_ready(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	struct sock_state *st;
	__u64 now;

	EMPTY_HOOK_RETURN();
	st = bpf_map_lookup_elem(&socks, &key);
	if (!st)
		return 0;
	now = bpf_ktime_get_ns();
	if (!st->first_ready_ns)
		st->first_ready_ns = now;
	st->last_ready_ns = now;
	return 0;
}

#endif
