/* tls.bpf.h - plaintext handed over by a TLS library (Go crypto/tls:
 * go.bpf.h; OpenSSL: ssl.bpf.h), recorded on the TCP connection under it.
 *
 * The record is a DATA record like a socket's, with syscall BZ_SYS_GO_TLS
 * or BZ_SYS_SSL: the first --snaplen bytes of the plaintext, or, for
 * HTTP/2 inside TLS (h2 by ALPN), frame by frame as on a plain socket
 * (h2.bpf.h) from the plaintext's first bytes on.  Its times are the
 * library call's; when the ciphertext arrived is the socket's own records'
 * business. */

/* n plaintext bytes at buf (user memory), read (BZ_DIR_IN) or written on
 * the connection of st; ts: the record's time (0: now). */
static __always_inline int tls_plain_emit(struct sock_state *st, __u64 buf, __s64 n, __u8 dir, __u32 probe,
					  __u8 sys, __u64 ts)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_ev_data *ev;
	__u32 want;

	if (!st || n <= 0 || !(ev = scratch_buf()))
		return 0;
	st->flags |= SOCK_TLS_PLAIN;
	fill_hdr(&ev->h, BZ_EV_DATA, 0, pid_tgid);
	if (ts)
		ev->h.ts_ns = ts;
	ev->conn_id = st->conn_id;
	ev->start_ns = 0;
	ev->arrival_ns = 0;
	ev->ret = n > 0x7fffffff ? 0x7fffffff : (__s32)n;
	ev->dir = dir;
	ev->syscall = sys;
	want = snap_want((__u64)n);
	struct io_stash *io = want ? h2_src_buf() : NULL;
	if (io) {
		/* HTTP/2 in TLS (h2 by ALPN): frame by frame, as on a socket
		 * (data.bpf.h), from the plaintext's first bytes on */
		__u32 seen = dir == BZ_DIR_IN ? SOCK_TLS_IN_SEEN : SOCK_TLS_OUT_SEEN, skip = 0;
		__u32 first = !(st->flags & seen);

		__builtin_memset(io, 0, sizeof(*io));
		io->ptr = buf;
		io->kind = IO_BUF;

		st->flags |= seen;
		/* also when SOCK_H2 is set already: a Go server writes its
		 * SETTINGS before it reads the client's preface, which must
		 * still be skipped, not walked as a frame (whose length, "PRI",
		 * would swallow the connection's next 5 MB) */
		if (first) {
			int kind = h2_first_bytes(io, (__u32)ev->ret,
						  dir == BZ_DIR_OUT && !(st->flags & SOCK_TLS_IN_SEEN));
			if (kind)
				st->flags |= SOCK_H2;
			if (kind == H2_FIRST_PREFACE)
				skip = 24;
		}
		if (st->flags & SOCK_H2) {
			h2_emit(st, io, (__u32)ev->ret, dir, skip, probe);
			return 0;
		}
	}
	if (want && bpf_probe_read_user(ev->payload, bound_len(want), (void *)buf))
		want = 0;
	ev->caplen = want;
	ev->h.size = sizeof(*ev) + want;
	emit(probe, ev, sizeof(*ev) + bound_len(want));
	return 0;
}
