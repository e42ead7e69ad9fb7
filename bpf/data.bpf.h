/* data.bpf.h - socket reads and writes of targets.
 *
 * The socket tracepoints (sock_recv_length / sock_send_length) fire inside
 * every socket read and write, only for sockets, with the sock pointer and
 * the byte count.  The user buffer is found from the syscall's arguments in
 * the thread's saved registers; the payload prefix is in it by then.  With
 * --syscall-start, syscall-enter hooks also note when each call began (at a
 * measured cost, see docs).  Included once, by beyla.bpf.c. */
#ifndef BEYLA_DATA_BPF_H
#define BEYLA_DATA_BPF_H

#define BZ_MSG_PEEK 2
#define BZ_IOV_MAX_READ 6

static __always_inline int io_enter(__u8 sys, __u8 dir, __u8 kind, __u64 ptr, __u64 iovcnt)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct io_stash s;

	if (!cfg_syscall_start || !is_target(pid_tgid >> 32))
		return 0;
	s.start_ns = bpf_ktime_get_ns();
	s.ptr = ptr;
	s.iovcnt = iovcnt;
	s.kind = kind;
	s.sys = sys;
	s.dir = dir;
	s.live = 1;
	if (bpf_map_update_elem(&io_stash, &tid, &s, BPF_ANY))
		count_missed(BZ_P_SYSENTER);
	return 0;
}

#define ENTER_BUF(name, sys, dir) \
	SEC("tracepoint/syscalls/sys_enter_" #name) \
	int bz_enter_##name(struct trace_event_raw_sys_enter *ctx) \
	{ return io_enter(sys, dir, IO_BUF, ctx->args[1], 0); }
#define ENTER_IOV(name, sys, dir) \
	SEC("tracepoint/syscalls/sys_enter_" #name) \
	int bz_enter_##name(struct trace_event_raw_sys_enter *ctx) \
	{ return io_enter(sys, dir, IO_IOV, ctx->args[1], ctx->args[2]); }
#define ENTER_MSG(name, sys, dir) \
	SEC("tracepoint/syscalls/sys_enter_" #name) \
	int bz_enter_##name(struct trace_event_raw_sys_enter *ctx) \
	{ return io_enter(sys, dir, IO_MSG, ctx->args[1], 0); }

ENTER_BUF(read, BZ_SYS_READ, BZ_DIR_IN)
ENTER_BUF(recvfrom, BZ_SYS_RECVFROM, BZ_DIR_IN)
ENTER_IOV(readv, BZ_SYS_READV, BZ_DIR_IN)
ENTER_MSG(recvmsg, BZ_SYS_RECVMSG, BZ_DIR_IN)
ENTER_BUF(write, BZ_SYS_WRITE, BZ_DIR_OUT)
ENTER_BUF(sendto, BZ_SYS_SENDTO, BZ_DIR_OUT)
ENTER_IOV(writev, BZ_SYS_WRITEV, BZ_DIR_OUT)
ENTER_MSG(sendmsg, BZ_SYS_SENDMSG, BZ_DIR_OUT)

SEC("tracepoint/syscalls/sys_enter_sendfile64")
int bz_enter_sendfile64(struct trace_event_raw_sys_enter *ctx)
{
	return io_enter(BZ_SYS_SENDFILE, BZ_DIR_OUT, IO_NONE, 0, 0);
}

/* Masks a length so the verifier sees it bounded: without the asm barrier
 * the compiler proves the mask redundant and drops it. */
static __always_inline __u64 bound_len(__u64 n)
{
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(BZ_SNAPLEN_MAX * 2 - 1));
	return n;
}

/* Copies up to `want` bytes from an iovec array into dst.  Bounded loop;
 * offsets are masked so the verifier can see every access in bounds. */
static __always_inline __u32 copy_iov(__u8 *dst, __u64 iov_ptr, __u32 iovcnt, __u32 want)
{
	struct iovec iov[BZ_IOV_MAX_READ];
	__u32 off = 0, cnt = iovcnt < BZ_IOV_MAX_READ ? iovcnt : BZ_IOV_MAX_READ;

	/* one read for the iovec array: each user read costs ~50-100 ns */
	__u64 sz = (__u64)cnt * sizeof(iov[0]);

	asm volatile("%[n] &= 127" : [n] "+r"(sz));
	if (sz > sizeof(iov))
		sz = sizeof(iov);
	if (cnt == 0 || bpf_probe_read_user(iov, sz, (void *)iov_ptr))
		return 0;
	for (int i = 0; i < BZ_IOV_MAX_READ; i++) {
		__u64 n;

		if (i >= cnt || off >= want)
			break;
		n = iov[i].iov_len;
		if (n > want - off)
			n = want - off;
		if (n == 0)
			continue;
		if (bpf_probe_read_user(dst + (bound_len(off) & (BZ_SNAPLEN_MAX - 1)), bound_len(n),
					iov[i].iov_base))
			break;
		off += n;
	}
	return off;
}

/* The syscall the current thread is in, and its buffer argument, read
 * from the thread's saved user registers.  This replaces syscall-enter
 * hooks on the hot path: they fire for every read and write of every
 * process and cost a fifth of a busy server's throughput (KERNEL.md). */
static __always_inline int io_from_regs(struct io_stash *io, __u8 dir)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long nr;

	if (!regs)
		return -1;
#if defined(__TARGET_ARCH_x86)
	/* regs is a BTF pointer: direct (CO-RE relocated) loads, no probe reads */
	nr = regs->orig_ax;
	io->ptr = regs->si;
	io->iovcnt = regs->dx; /* for a plain buffer: its length */
#define NR_READ 0
#define NR_WRITE 1
#define NR_READV 19
#define NR_WRITEV 20
#define NR_SENDFILE 40
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#elif defined(__TARGET_ARCH_arm64)
	nr = regs->syscallno;
	io->ptr = regs->regs[1];
	io->iovcnt = regs->regs[2];
#define NR_READ 63
#define NR_WRITE 64
#define NR_READV 65
#define NR_WRITEV 66
#define NR_SENDFILE 71
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#else
	return -1;
#endif
	io->start_ns = 0;
	io->live = 1;
	io->dir = dir;
	switch (nr) {
	case NR_READ: io->sys = BZ_SYS_READ; io->kind = IO_BUF; break;
	case NR_RECVFROM: io->sys = BZ_SYS_RECVFROM; io->kind = IO_BUF; break;
	case NR_READV: io->sys = BZ_SYS_READV; io->kind = IO_IOV; break;
	case NR_RECVMSG: io->sys = BZ_SYS_RECVMSG; io->kind = IO_MSG; break;
	case NR_WRITE: io->sys = BZ_SYS_WRITE; io->kind = IO_BUF; break;
	case NR_SENDTO: io->sys = BZ_SYS_SENDTO; io->kind = IO_BUF; break;
	case NR_WRITEV: io->sys = BZ_SYS_WRITEV; io->kind = IO_IOV; break;
	case NR_SENDMSG: io->sys = BZ_SYS_SENDMSG; io->kind = IO_MSG; break;
	case NR_SENDFILE: io->sys = BZ_SYS_SENDFILE; io->kind = IO_NONE; break;
	default: return -1;
	}
	/* reads into, and writes from, the buffer: the direction must agree */
	if ((dir == BZ_DIR_IN) != (io->sys <= BZ_SYS_RECVMSG))
		return -1;
	return 0;
}

/* Payload bytes to keep of a read or write of n bytes. */
static __always_inline __u32 snap_want(__u64 n)
{
	__u32 want = cfg_snaplen;

	if (want > n)
		want = n;
	return want > BZ_SNAPLEN_MAX ? BZ_SNAPLEN_MAX : want;
}

/* ssl.bpf.h: an SSL_write's plaintext, recorded at its first socket write */
static __noinline int ssl_write_early(struct ssl_call *c, struct sock_state *st);

/* An OpenSSL call in progress on this thread that reads or writes a
 * socket reads or writes this one: its plaintext is this connection's,
 * and the socket's own bytes are ciphertext from now on (not kept).  A
 * write's plaintext is recorded now, before the peer can have read it (at
 * the call's return it would come after the peer's answer). */
static __always_inline void ssl_note_sock(__u32 tgid, __u32 tid, __u64 skey, struct sock_state *st, __u8 dir)
{
	struct ssl_call *c;

	if (!pid_bit(ssl_user_bits, tgid))
		return; /* (a target that never called OpenSSL) */
	c = bpf_map_lookup_elem(&ssl_calls, &tid);
	if (c) {
		c->sk = skey;
		st->flags |= SOCK_TLS_PLAIN;
		if (dir == BZ_DIR_OUT && c->dir == BZ_DIR_OUT && !c->emitted && !c->skip) {
			c->emitted = 1;
			ssl_write_early(c, st);
		}
	}
	if (dir == BZ_DIR_IN)
		bpf_map_update_elem(&ssl_last_read, &tid, &skey, BPF_ANY);
}

static __always_inline int on_sock_io(void *skp, int ret, int flags, __u8 dir, __u32 probe)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct sock *sk = skp;
	__u64 skey = (__u64)skp;
	struct sock_state *st;
	struct io_stash *io, regs_io;
	struct bz_ev_data *ev;
	__u32 want, got = 0;

	EMPTY_HOOK_RETURN();
	if (ret <= 0 || (dir == BZ_DIR_IN && (flags & BZ_MSG_PEEK)))
		return 0;
	if (is_target(tgid))
		adopt_tentative(tgid, sk);
	else if (!cfg_any_port || !adopt_by_port(tgid, sk))
		return 0;
	/* A socket in the map is a TCP one of a target: only a socket seen for
	 * the first time needs its family and protocol read. */
	st = bpf_map_lookup_elem(&socks, &skey);
	if (!st) {
		int un;

		if (!sock_recorded(sk, &un)) {
			/* datagram and seqpacket UNIX sockets: counted, not recorded */
			if (un)
				count_missed(BZ_P_UNIX_OTHER);
			return 0;
		}
		if (!un && !sock_is_tcp(sk))
			return 0;
		st = track_sock(sk, BZ_ROLE_PREEXISTING, -1, 0, probe);
		if (!st)
			return 0;
	}
	/* a UNIX socket handed to a forked child (its parent closed its copy)
	 * belongs to the process using it: its exit closes the record */
	if ((st->flags & SOCK_UNIX) && st->pid != tgid)
		st->pid = tgid;
	if (cfg_ssl)
		ssl_note_sock(tgid, tid, skey, st, dir);
	ev = scratch_buf();
	if (!ev)
		return 0;

	io = NULL;
	if (cfg_syscall_start) {
		/* opt-in: the enter hooks noted the start time and arguments */
		io = bpf_map_lookup_elem(&io_stash, &tid);
		if (io && (!io->live || io->dir != dir))
			io = NULL;
	}
	if (!io && cfg_snaplen && io_from_regs(&regs_io, dir) == 0)
		io = &regs_io;
	fill_hdr(&ev->h, BZ_EV_DATA, sizeof(*ev), pid_tgid);
	ev->conn_id = st->conn_id;
	ev->start_ns = io ? io->start_ns : 0;
	ev->ret = ret;
	ev->dir = dir;
	ev->syscall = io ? io->sys : BZ_SYS_UNKNOWN;
	if (dir == BZ_DIR_IN) {
		ev->arrival_ns = st->first_ready_ns;
		st->bytes_in += ret;
		/* Bytes still queued arrived no later than the last data_ready.  A
		 * read shorter than its buffer drained the queue: no need for the
		 * two kernel reads of the TCP sequence numbers. */
		if (io && io->kind == IO_BUF && (__u32)ret < io->iovcnt) {
			st->first_ready_ns = 0;
		} else if (st->flags & SOCK_UNIX) {
			/* a UNIX socket's queue is its list of skbs */
			st->first_ready_ns = BPF_CORE_READ(sk, sk_receive_queue.qlen) ? st->last_ready_ns : 0;
		} else {
			struct tcp_sock *tp = (struct tcp_sock *)sk;
			__u32 rcv_nxt = BPF_CORE_READ(tp, rcv_nxt), copied = BPF_CORE_READ(tp, copied_seq);
			st->first_ready_ns = rcv_nxt != copied ? st->last_ready_ns : 0;
		}
	} else {
		/* writes: when the peer's socket had this write's last byte, if
		 * inside the write (its return may come much later: the reader it
		 * woke may run first).  For TCP only if nothing written since is
		 * still on its way. */
		ev->arrival_ns = 0;
		if (st->delivered_ns) {
			if ((st->flags & SOCK_UNIX) ||
			    st->delivered_seq == BPF_CORE_READ((struct tcp_sock *)sk, write_seq))
				ev->arrival_ns = st->delivered_ns;
			st->delivered_ns = 0;
		}
		st->bytes_out += ret;
	}

	want = (st->flags & SOCK_TLS_PLAIN) ? 0 : snap_want(ret);
	if (io && want && io->kind != IO_NONE) {
		__u32 skip = 0;

		/* a connection whose client's first bytes are the HTTP/2 preface
		 * is captured frame by frame from them on (h2.bpf.h), both ways:
		 * the first read of a server, the first write of a client, or a
		 * server's SETTINGS written before it read anything */
		if ((dir == BZ_DIR_IN ? st->bytes_in : st->bytes_out) == (__u64)ret) {
			/* (a server that speaks first: its SETTINGS, where HPACK's
			 * table size may be; then SOCK_H2 is set before the
			 * client's preface arrives, which is still skipped) */
			int first = h2_first_bytes(io, ret, dir == BZ_DIR_OUT && !st->bytes_in);
			if (first)
				st->flags |= SOCK_H2;
			if (first == H2_FIRST_PREFACE)
				skip = 24;
			else if (!first && ret < 24)
				/* perhaps the preface's first piece */
				st->h2_pre[dir & 1] = (__u8)h2_preface_more(io, ret, 0);
		} else if (st->h2_pre[dir & 1] && !(st->flags & SOCK_H2) &&
			   (dir == BZ_DIR_IN ? st->bytes_in : st->bytes_out) - ret == st->h2_pre[dir & 1]) {
			/* the preface's next piece: HTTP/2 once all 24 bytes came,
			 * frame by frame from the first byte after them */
			__u32 had = st->h2_pre[dir & 1];
			int now = h2_preface_more(io, ret, had);

			st->h2_pre[dir & 1] = now < 24 ? (__u8)now : 0;
			if (now == 24) {
				st->flags |= SOCK_H2;
				skip = 24 - had;
			}
		} else if ((st->flags & SOCK_H2C) && h2_first_bytes(io, ret, 0) == H2_FIRST_PREFACE) {
			/* upgraded to h2c: the client's preface follows the 101 */
			st->flags &= ~SOCK_H2C;
			skip = 24;
		}
		if (st->flags & SOCK_H2) {
			h2_emit(st, io, (__u32)ret, dir, skip, probe);
			if (io != &regs_io)
				io->live = 0;
			return 0;
		}
	}
	if (io && want) {
		if (io->kind == IO_BUF) {
			if (bpf_probe_read_user(ev->payload, bound_len(want), (void *)io->ptr) == 0)
				got = want;
		} else if (io->kind == IO_IOV) {
			got = copy_iov(ev->payload, io->ptr, io->iovcnt, want);
		} else if (io->kind == IO_MSG) {
			struct user_msghdr msg;
			if (bpf_probe_read_user(&msg, sizeof(msg), (void *)io->ptr) == 0)
				got = copy_iov(ev->payload, (__u64)msg.msg_iov, msg.msg_iovlen, want);
		}
	}
	/* HTTP/2 that did not begin the connection (h2_later): captured
	 * frame by frame from here on, this read or write too */
	if (got >= H2_HDR && io && io->kind != IO_NONE && !(st->flags & (SOCK_H2 | SOCK_TLS_PLAIN))) {
		/* (any read or write of a joined socket: its first one seen may
		 * begin inside a frame, a DATA frame in flight when recording
		 * began, and its HPACK blocks would then go on raw) */
		__u32 joined = (st->flags & SOCK_JOINED) != 0;
		__u32 head = 0;
		int later = h2_later(ev->payload, got, (__u32)ret, joined);
		if (!later && (head = h2_upgrade_head(ev->payload, got))) {
			/* a 101 to h2c: its head as the first piece, frames after it
			 * (a server may write its SETTINGS and even stream 1's
			 * response with it, before it read the client's preface) */
			later = H2_FIRST_PREFACE;
			st->flags |= SOCK_H2C;
		}
		if (later) {
			st->flags |= SOCK_H2;
			h2_emit(st, io, (__u32)ret, dir, head ? head : later == H2_FIRST_PREFACE ? 24 : 0, probe);
			if (io != &regs_io)
				io->live = 0;
			return 0;
		}
	}
	/* sendfile may reach the socket several times in one call. */
	if (io && io != &regs_io && io->kind != IO_NONE)
		io->live = 0;
	if (got > BZ_SNAPLEN_MAX)
		got = BZ_SNAPLEN_MAX;
	ev->caplen = got;
	ev->h.size = sizeof(*ev) + got;
	emit(probe, ev, sizeof(*ev) + bound_len(got));
	return 0;
}

/* trace_sock_recv_length(sk, ret, flags), raw: no perf-buffer copy */
SEC("raw_tracepoint/sock_recv_length")
int bz_recv(struct bpf_raw_tracepoint_args *ctx)
{
	return on_sock_io((void *)ctx->args[0], (int)ctx->args[1], (int)ctx->args[2], BZ_DIR_IN, BZ_P_RECV);
}

SEC("raw_tracepoint/sock_send_length")
int bz_send(struct bpf_raw_tracepoint_args *ctx)
{
	return on_sock_io((void *)ctx->args[0], (int)ctx->args[1], (int)ctx->args[2], BZ_DIR_OUT, BZ_P_SEND);
}

#endif
