/* conn.bpf.h - connection life of targets, TCP and UNIX stream: accept,
 * connect, handshake completion (TCP), close, and data arrival
 * (data_ready).  Included once, by beyla.bpf.c. */
#ifndef BEYLA_CONN_BPF_H
#define BEYLA_CONN_BPF_H

#define BZ_TCP_ESTABLISHED 1
#define BZ_TCP_SYN_SENT 2
#define BZ_TCP_SYN_RECV 3
#define BZ_S_IFMT 00170000
#define BZ_S_IFSOCK 0140000

/* The TCP socket behind a file descriptor of the current process, or NULL. */
/* The socket file of descriptor fd of the current process, or NULL. */
static __always_inline struct file *fd_to_sock_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	__u16 mode;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & BZ_S_IFMT) != BZ_S_IFSOCK)
		return NULL;
	return f;
}

static __always_inline struct sock *file_sock(struct file *f)
{
	struct socket *so = f ? BPF_CORE_READ(f, private_data) : NULL;
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

static __always_inline struct sock *fd_to_sock(int fd) { return file_sock(fd_to_sock_file(fd)); }

/* Kernels before 6.13 count a file's references in f_count. */
struct file___old {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* References to file f: descriptors in every process's table (a fork
 * copies them) and calls in progress on it.  file_ref_t (6.13) stores
 * one reference as 0. */
static __always_inline long file_refs(struct file *f)
{
	if (bpf_core_field_exists(f->f_ref))
		return BPF_CORE_READ(f, f_ref.refcnt.counter) + 1;
	return BPF_CORE_READ((struct file___old *)f, f_count.counter);
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

static __always_inline int sock_is_unix(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_family) == BZ_AF_UNIX;
}

/* The inode of sk's socket, as sock_i_ino() reads it: struct socket lives
 * in a struct socket_alloc next to its inode.  0 for a socket not grafted
 * on a file yet (a connection still in its listener's accept queue). */
static __always_inline __u64 sock_ino(struct sock *sk)
{
	struct socket *so = BPF_CORE_READ(sk, sk_socket);
	struct socket_alloc *sa;

	if (!so)
		return 0;
	sa = (struct socket_alloc *)((void *)so - bpf_core_field_offset(struct socket_alloc, socket));
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* The bytes of a UNIX address's path: its len counts sun_family (2
 * bytes), then the path (with its NUL for a pathname socket) or the
 * abstract name.  At most BZ_UNIX_PATH_MAX, and masked below 128 where
 * the verifier can see it (it would test a copy of the register). */
static __always_inline __u32 unix_addr_len(struct unix_address *ua)
{
	__u32 len = (__u32)BPF_CORE_READ(ua, len);

	if (len <= 2)
		return 0;
	len -= 2;
	if (len > BZ_UNIX_PATH_MAX)
		len = BZ_UNIX_PATH_MAX;
	asm volatile("%[n] &= 127" : [n] "+r"(len));
	return len;
}

static __always_inline void *unix_addr_path(struct unix_address *ua)
{
	return (void *)ua + bpf_core_field_offset(struct unix_address, name) + 2;
}

/* The bound address of a UNIX socket into ev->path; 0 if it has none. */
static __always_inline int unix_path(struct bz_ev_conn_open *ev, struct unix_address *ua)
{
	__u32 len;

	if (!ua || !(len = unix_addr_len(ua)))
		return 0;
	if (bpf_probe_read_kernel(ev->path, len, unix_addr_path(ua)))
		return 0;
	ev->path_len = len;
	return 1;
}

/* The UNIX part of a CONN_OPEN: both ends' inodes, the peer's pid from the
 * credentials the kernel keeps for SO_PEERCRED, and the path.  The path of
 * a client is its peer's (a client is rarely bound), that of any other
 * socket its own: an accepted socket shares its listener's address. */
static __always_inline void unix_fill(struct bz_ev_conn_open *ev, struct sock *sk, __u8 role)
{
	struct unix_sock *u = (struct unix_sock *)sk;
	struct sock *peer = BPF_CORE_READ(u, peer);
	struct unix_address *own = BPF_CORE_READ(u, addr);
	struct unix_address *pa = peer ? BPF_CORE_READ((struct unix_sock *)peer, addr) : NULL;

	ev->sock_type = (__u8)BPF_CORE_READ(sk, sk_type);
	ev->local_ino = sock_ino(sk);
	ev->peer_ino = peer ? sock_ino(peer) : 0;
	ev->peer_pid = BPF_CORE_READ(sk, sk_peer_pid, numbers[0].nr);
	if (role == BZ_ROLE_CONNECTED && unix_path(ev, pa))
		ev->path_from = BZ_UNIX_PATH_PEER;
	else if (unix_path(ev, own))
		ev->path_from = BZ_UNIX_PATH_OWN;
	else if (unix_path(ev, pa))
		ev->path_from = BZ_UNIX_PATH_PEER;
}

/* Makes sk a tracked socket of the current target and reports it.  Returns
 * its state, or NULL when the map is full (counted). */
static __always_inline struct sock_state *track_sock(struct sock *sk, __u8 role, int fd,
						      __u64 call_start, __u32 probe)
{
	__u64 key = (__u64)sk;
	struct sock_state st = {}, *stp;
	struct bz_ev_conn_open *ev;
	struct estab_info *es;
	__u16 family;
	__u32 zero = 0, local_peer = 0;
	/* accepted or connected now: no byte written yet (kw_track counts
	 * the bytes written from here) */
	int fresh = role == BZ_ROLE_ACCEPTED || role == BZ_ROLE_CONNECTED;
	__u64 *seq;

	stp = bpf_map_lookup_elem(&socks, &key);
	if (stp && (role == BZ_ROLE_ACCEPTED || (role == BZ_ROLE_CONNECTED && (stp->flags & SOCK_UNIX)))) {
		/* A socket accepted now (or a UNIX one connected: its connect()
		 * is done in one call, never repeated) is new: an entry at its
		 * address is an old socket's whose end was missed, and it ends
		 * here.  A UNIX socket closed without close() (its process
		 * exited, or passed it on); a TCP socket tracked again by a last
		 * write that raced its close on another CPU (a TLS close_notify
		 * as the peer resets: the state read said open, the entry went
		 * in after the close removed it).  Without this the new
		 * connection's bytes would land on the old one. */
		struct bz_ev_conn_close cl = {};
		fill_hdr(&cl.h, BZ_EV_CONN_CLOSE, sizeof(cl), (__u64)stp->pid << 32);
		cl.conn_id = stp->conn_id;
		cl.bytes_in = stp->bytes_in;
		cl.bytes_out = stp->bytes_out;
		emit((stp->flags & SOCK_UNIX) ? BZ_P_UNIX_CLOSE : BZ_P_STATE, &cl, sizeof(cl));
		bpf_map_delete_elem(&socks, &key);
		stp = NULL;
	}
	if (stp)
		return stp;
	/* A last write on a socket that already reached TCP_CLOSE (a TLS
	 * close_notify after the peer's reset) is not a new connection. */
	if (role == BZ_ROLE_PREEXISTING && BPF_CORE_READ(sk, __sk_common.skc_state) == BZ_TCP_CLOSE)
		return NULL;
	seq = bpf_map_lookup_elem(&conn_seq, &zero);
	if (!seq)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	st.conn_id = __sync_fetch_and_add(seq, 1) + 1;
	st.pid = bpf_get_current_pid_tgid() >> 32;
	st.flags = family == BZ_AF_UNIX ? SOCK_UNIX : 0;
	if (bpf_map_update_elem(&socks, &key, &st, BPF_NOEXIST)) {
		count_missed(probe);
		return NULL;
	}
	/* ... nor one whose close ran on another CPU between that read and
	 * the insert (the state tracepoint fires before the state is stored:
	 * by now it says closed), which would leave the entry for good */
	if (role == BZ_ROLE_PREEXISTING && family != BZ_AF_UNIX &&
	    BPF_CORE_READ(sk, __sk_common.skc_state) == BZ_TCP_CLOSE) {
		bpf_map_delete_elem(&socks, &key);
		return NULL;
	}
	if (family == BZ_AF_UNIX && !have_unix_socks)
		have_unix_socks = 1;
	/* built in the scratch buffer (the UNIX record is 232 bytes): every
	 * caller takes the buffer for its own event only after this returns */
	ev = scratch_buf();
	if (!ev)
		goto out;
	__builtin_memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->h, BZ_EV_CONN_OPEN, BZ_CONN_OPEN_INET_SIZE, bpf_get_current_pid_tgid());
	ev->conn_id = st.conn_id;
	ev->syscall_start_ns = call_start;
	ev->fd = fd;
	es = bpf_map_lookup_elem(&estab, &key);
	if (es) {
		ev->established_ns = es->ts_ns;
		if (role == BZ_ROLE_UNKNOWN || role == BZ_ROLE_PREEXISTING)
			role = es->passive ? BZ_ROLE_ACCEPTED : BZ_ROLE_CONNECTED;
	}
	ev->role = role;
	ev->family = family;
	if (family == BZ_AF_UNIX) {
		/* connect() on a UNIX stream socket completes inside the call:
		 * it returned, so it is established */
		if (role == BZ_ROLE_CONNECTED)
			ev->established_ns = bpf_ktime_get_ns();
		unix_fill(ev, sk, role);
		ev->h.size = sizeof(*ev);
		emit(probe, ev, sizeof(*ev));
		goto out;
	}
	ev->local_port = sock_local_port(sk);
	ev->remote_port = sock_remote_port(sk);
	if (family == BZ_AF_INET) {
		BPF_CORE_READ_INTO(&ev->local_addr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&ev->remote_addr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&ev->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&ev->remote_addr, sk, __sk_common.skc_v6_daddr);
	}
	if (fresh && (local_peer = kw_track(sk, st.conn_id, st.pid)))
		ev->flags |= BZ_CONN_F_PEER_LOCAL;
	emit(probe, ev, BZ_CONN_OPEN_INET_SIZE);
out:
	stp = bpf_map_lookup_elem(&socks, &key);
	if (stp && role == BZ_ROLE_PREEXISTING)
		stp->flags |= SOCK_JOINED;
	if (stp)
		stp->flags |= local_peer;
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

/* --unix: the path of UNIX socket sk is one of cfg_unix_paths.  The path
 * is the one its CONN_OPEN would carry: a client's peer's (the listener's
 * path, inherited by the socket queued for it), else its own.  Not inlined:
 * the path's copy stays off the callers' stacks. */
static __noinline int unix_selected(struct sock *sk, int client)
{
	struct unix_sock *u = (struct unix_sock *)sk;
	struct unix_address *ua = NULL;
	char buf[128]; /* unix_addr_len's mask */
	__u32 len;

	if (client) {
		struct sock *peer = BPF_CORE_READ(u, peer);
		if (peer)
			ua = BPF_CORE_READ((struct unix_sock *)peer, addr);
	}
	if (!ua)
		ua = BPF_CORE_READ(u, addr);
	if (!ua || !(len = unix_addr_len(ua)))
		return 0;
	if (bpf_probe_read_kernel(buf, len, unix_addr_path(ua)))
		return 0;
	for (int i = 0; i < BZ_MAX_UNIX_PATHS; i++) {
		__u32 n = cfg_unix_lens[i], j;

		if (!n)
			break;
		/* a pathname's length counts its NUL, an abstract name's not */
		if (n > len || n > BZ_UNIX_PATH_MAX)
			continue;
		if (n < len && (n >= BZ_UNIX_PATH_MAX || buf[n] != 0))
			continue;
		for (j = 0; j < BZ_UNIX_PATH_MAX; j++) {
			if (j >= n || buf[j] != cfg_unix_paths[i][j])
				break;
		}
		if (j == n)
			return 1;
	}
	return 0;
}

/* --unix: a process that accepts on, or connects to, a selected path
 * becomes a target (adopt_by_port's rule for UNIX sockets). */
static __always_inline int adopt_by_unix(__u32 tgid, struct sock *sk, int client)
{
	if (!cfg_any_unix || tgid == cfg_self_pid || !unix_selected(sk, client))
		return 0;
	if (target_add_new(tgid))
		emit_adopt();
	return is_target(tgid);
}

/* adopt_tentative for a UNIX socket at accept or connect. */
static __always_inline void adopt_tentative_unix(__u32 tgid, struct sock *sk, int client)
{
	if (!cfg_exe_and_port || !cfg_any_unix || !is_tentative(tgid) || !unix_selected(sk, client))
		return;
	if (tentative_take(tgid))
		emit_adopt();
}

/* A stream socket of a family beyla records: TCP over IPv4/6 (the
 * protocol is checked where it matters), or UNIX. */
static __always_inline int sock_recorded(struct sock *sk, int *is_unix)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	*is_unix = fam == BZ_AF_UNIX;
	if (*is_unix)
		return BPF_CORE_READ(sk, sk_type) == BZ_SOCK_STREAM;
	return fam == BZ_AF_INET || fam == BZ_AF_INET6;
}

static __always_inline int call_enter(__s32 fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct call_stash cs = { .start_ns = bpf_ktime_get_ns(), .fd = fd };

	if (!cfg_any_port && !cfg_any_unix && !is_target(pid_tgid >> 32))
		return 0;
	bpf_map_update_elem(&call_stash, &tid, &cs, BPF_ANY);
	return 0;
}

/* Set once a UNIX listener is in unix_listen: until then data_ready need
 * not look there. */
__u8 have_unix_listen;

/* A UNIX listener of a target (or one with a --unix path) on fd lfd is
 * noted, so that the connections queued on it from now on get their
 * queueing time (bz_data_ready).  Called at listen() and accept() entry:
 * a connection queued before either was seen has none (0: unknown). */
static __always_inline int note_unix_listener(__s32 lfd)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	int target = is_target(tgid);
	struct sock *sk;
	__u64 key;

	if (!target && !cfg_any_unix)
		return 0;
	sk = fd_to_sock(lfd);
	if (!sk || !sock_is_unix(sk))
		return 0;
	if (!target && (tgid == cfg_self_pid || !unix_selected(sk, 0)))
		return 0;
	key = (__u64)sk;
	if (bpf_map_update_elem(&unix_listen, &key, &tgid, BPF_ANY) == 0)
		have_unix_listen = 1;
	return 0;
}

static __always_inline int accept_enter(__s32 lfd)
{
	call_enter(-1);
	return note_unix_listener(lfd);
}

/* (a server that starts while recording: its listener is known before
 * its first connection queues) */
SEC("tracepoint/syscalls/sys_enter_listen")
int bz_listen_enter(struct trace_event_raw_sys_enter *ctx) { return note_unix_listener((__s32)ctx->args[0]); }

static __always_inline int accept_exit(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct call_stash *cs = bpf_map_lookup_elem(&call_stash, &tid);
	__u64 start = cs ? cs->start_ns : 0;
	struct sock *sk;
	int un;

	if (cs)
		bpf_map_delete_elem(&call_stash, &tid);
	if (ret < 0 || (!cfg_any_port && !cfg_any_unix && !is_target(tgid)))
		return 0;
	sk = fd_to_sock(ret);
	if (!sk || !sock_recorded(sk, &un))
		return 0;
	if (is_target(tgid)) {
		if (un)
			adopt_tentative_unix(tgid, sk, 0);
		else
			adopt_tentative(tgid, sk);
	} else if (!(un ? adopt_by_unix(tgid, sk, 0) : adopt_by_port(tgid, sk))) {
		return 0;
	}
	track_sock(sk, BZ_ROLE_ACCEPTED, ret, start, BZ_P_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int bz_accept_enter(struct trace_event_raw_sys_enter *ctx) { return accept_enter((__s32)ctx->args[0]); }
SEC("tracepoint/syscalls/sys_enter_accept4")
int bz_accept4_enter(struct trace_event_raw_sys_enter *ctx) { return accept_enter((__s32)ctx->args[0]); }
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
	int un;

	if (!cs)
		return 0;
	start = cs->start_ns;
	fd = cs->fd;
	bpf_map_delete_elem(&call_stash, &tid);
	/* Non-blocking connects return -EINPROGRESS; the handshake ends later. */
	if (ctx->ret < 0 && ctx->ret != -115)
		return 0;
	sk = fd_to_sock(fd);
	if (!sk || !sock_recorded(sk, &un))
		return 0;
	/* (a UNIX connect() never returns EINPROGRESS: it is done or failed) */
	if (un && ctx->ret < 0)
		return 0;
	if (is_target(tgid)) {
		if (un)
			adopt_tentative_unix(tgid, sk, 1);
		else
			adopt_tentative(tgid, sk);
	} else if (!(un ? adopt_by_unix(tgid, sk, 1) : adopt_by_port(tgid, sk))) {
		return 0;
	}
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
	if (st->flags & SOCK_LOCAL_PEER)
		kw_untrack(sk);
	bpf_map_delete_elem(&socks, &key);
	return 0;
}

/* Data reached a tracked socket's receive queue: from now on a request (or
 * response) is waiting for its process.  No event: the time rides on the
 * next read's DATA event.  Only tracked sockets are in the map, so the
 * lookup is the filter. */
/* A UNIX listener of a target was woken: connect() queued a new socket on
 * it (an skb whose ->sk is the server's end of the connection, at the tail
 * of its receive queue) and called sk_data_ready.  Its accept-queue wait
 * begins now: noted in estab, which its accept reads as for TCP.  The walk
 * goes back from the tail over sockets not noted yet (two connects may
 * queue before either wakes the listener). */
static __noinline int unix_queued(__u64 key)
{
	struct sock *sk = (struct sock *)key;
	struct estab_info es = { .ts_ns = bpf_ktime_get_ns(), .passive = 1 };
	void *head = (void *)sk + bpf_core_field_offset(struct sock, sk_receive_queue);
	struct sk_buff *skb;

	if (!bpf_map_lookup_elem(&unix_listen, &key))
		return 0;
	skb = BPF_CORE_READ(sk, sk_receive_queue.prev);
	for (int i = 0; i < 8; i++) {
		__u64 nkey;

		if (!skb || (void *)skb == head)
			break;
		nkey = (__u64)BPF_CORE_READ(skb, sk);
		if (nkey && bpf_map_update_elem(&estab, &nkey, &es, BPF_NOEXIST))
			break;
		skb = BPF_CORE_READ(skb, prev);
	}
	return 0;
}

SEC("raw_tracepoint/sk_data_ready")
int bz_data_ready(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	struct sock_state *st;
	__u64 now;

	EMPTY_HOOK_RETURN();
	st = bpf_map_lookup_elem(&socks, &key);
	if (!st) {
		if (have_unix_listen)
			unix_queued(key);
		/* the other end of a tracked loopback connection? */
		if (have_peers)
			kw_peer_ready((struct sock *)key, bpf_ktime_get_ns());
		/* ... or of a tracked UNIX one, written to now? */
		if (cfg_kwaits && have_unix_socks &&
		    BPF_CORE_READ((struct sock *)key, __sk_common.skc_family) == BZ_AF_UNIX)
			kw_unix_delivered((struct sock *)key, bpf_ktime_get_ns());
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (!st->first_ready_ns) {
		st->first_ready_ns = now;
		if (cfg_kwaits && !(st->flags & SOCK_UNIX))
			kw_rx_arrival((struct sock *)key, st->conn_id, st->pid, now, st->last_ready_ns);
	}
	st->last_ready_ns = now;
	/* both ends tracked (a proxy and its backend): this one is a peer too */
	if (st->peer_tracked)
		kw_peer_ready((struct sock *)key, now);
	else if (cfg_kwaits && (st->flags & SOCK_UNIX))
		kw_unix_delivered((struct sock *)key, now);
	return 0;
}

/* close() of a tracked UNIX socket's last descriptor ends its record:
 * such sockets have no state tracepoint.  A descriptor duplicated (dup,
 * fork: a forking server's parent closes its copy of each accepted socket,
 * PostgreSQL's postmaster does) leaves the record open while another
 * reference lives; the process that uses the socket next owns it
 * (data.bpf.h).  A socket its process leaves open is closed at that
 * process's exit (bz_exit), or, passed to another process, with the next
 * accept or connect that reuses its address. */
SEC("tracepoint/syscalls/sys_enter_close")
int bz_close_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_ev_conn_close ev = {};
	struct sock_state *st;
	struct sock *sk;
	__u64 key;

	struct file *f;

	if (!is_target(pid_tgid >> 32))
		return 0;
	f = fd_to_sock_file((int)ctx->args[0]);
	sk = file_sock(f);
	if (!sk)
		return 0;
	key = (__u64)sk;
	st = bpf_map_lookup_elem(&socks, &key);
	if (!st || !(st->flags & SOCK_UNIX))
		return 0;
	if (file_refs(f) > 1)
		return 0; /* another descriptor (a forked child's) keeps it open */
	fill_hdr(&ev.h, BZ_EV_CONN_CLOSE, sizeof(ev), (__u64)st->pid << 32);
	ev.conn_id = st->conn_id;
	ev.bytes_in = st->bytes_in;
	ev.bytes_out = st->bytes_out;
	emit(BZ_P_UNIX_CLOSE, &ev, sizeof(ev));
	bpf_map_delete_elem(&socks, &key);
	bpf_map_delete_elem(&estab, &key);
	return 0;
}

#endif
