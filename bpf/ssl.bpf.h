/* ssl.bpf.h - OpenSSL's plaintext, where the library hands it over.
 *
 * SSL_read / SSL_read_ex return plaintext into the caller's buffer;
 * SSL_write / SSL_write_ex take it from there.  Each gets an entry probe,
 * which notes the call by thread (ssl_calls: the SSL object, the buffer,
 * an _ex call's byte count pointer), and a return probe, which emits what
 * moved (tls.bpf.h) on the TCP connection the call belongs to.  BoringSSL
 * and LibreSSL export the same functions with the same arguments.
 *
 * A write's plaintext is recorded at the call's first socket write
 * (ssl_write_early), a read's at its return.
 *
 * Which connection: the rule, in this order,
 *   1. the socket the library read or wrote inside the call, on the same
 *      thread (the socket hooks note it: data.bpf.h ssl_note_sock).  A
 *      socket BIO, blocking or not (nginx's event loop, curl, Python,
 *      threads): an SSL_read that returns data read the socket for it,
 *      unless the data was in OpenSSL's buffer already, and an SSL_write
 *      writes its records before it returns;
 *   2. the socket this SSL object was last tied to (ssl_socks), for a call
 *      with no I/O of its own (records read ahead into OpenSSL's buffer);
 *      forgotten at SSL_free, since malloc gives the address out again;
 *   3. for a read only, the socket the thread read last (ssl_last_read): a
 *      program that reads the socket itself and feeds OpenSSL through a
 *      memory BIO (Node) calls SSL_read right after, on the same thread.
 * A call tied by none (a memory-BIO client's first write) is counted as
 * missed on the ssl probe, its bytes lost.
 *
 * The probes are attached per library file, not per process (pid -1):
 * every process that maps the file enters them; all but targets return at
 * once. */

static __always_inline int ssl_enter(struct pt_regs *ctx, __u8 dir, int ex)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct ssl_key key = { .tgid = pid_tgid >> 32 };
	struct ssl_rewrite *rw;
	struct ssl_call c = {};

	EMPTY_HOOK_RETURN();
	if (!is_target(key.tgid))
		return 0;
	if (!pid_bit(ssl_user_bits, key.tgid))
		pid_bit_set(ssl_user_bits, key.tgid);
	c.ssl = key.ssl = PT_REGS_PARM1(ctx);
	c.buf = PT_REGS_PARM2(ctx);
	c.num = ex ? PT_REGS_PARM3(ctx) : (__u64)(__s64)(int)PT_REGS_PARM3(ctx);
	c.lenp = ex ? PT_REGS_PARM4(ctx) : 0;
	c.dir = dir;
	if (dir == BZ_DIR_OUT && (rw = bpf_map_lookup_elem(&ssl_rewrites, &key))) {
		/* the same bytes again, recorded whole by an earlier call */
		c.skip = rw->buf == c.buf && rw->num == c.num;
		bpf_map_delete_elem(&ssl_rewrites, &key);
	}
	if (bpf_map_update_elem(&ssl_calls, &tid, &c, BPF_ANY))
		count_missed(BZ_P_SSL);
	return 0;
}

/* The socket the call belongs to (the rule above), learning it for the
 * object; 0 when none. */
static __always_inline __u64 ssl_sock_of(const struct ssl_call *c, struct ssl_key *key, __u32 tid)
{
	__u64 *known, sk = c->sk;

	if (sk) {
		bpf_map_update_elem(&ssl_socks, key, &sk, BPF_ANY);
	} else if ((known = bpf_map_lookup_elem(&ssl_socks, key))) {
		sk = *known;
	} else if (c->dir == BZ_DIR_IN && (known = bpf_map_lookup_elem(&ssl_last_read, &tid))) {
		sk = *known;
		bpf_map_update_elem(&ssl_socks, key, &sk, BPF_ANY);
	}
	return sk;
}

/* An SSL_write's first socket write (data.bpf.h ssl_note_sock): its whole
 * plaintext on that socket's connection, timed as a plain socket write is
 * (its end: a response ends when its bytes went to the socket, not when
 * the library was handed them).
 * Recorded here rather than at the return so that it comes before the
 * peer's read of it: a client's request after its server's answer would
 * find the server span ended and could not be its parent.  What the call
 * then does not write (a partial write, WANT_WRITE) is noted at the return
 * so that the call that writes it is not recorded again. */
static __noinline int ssl_write_early(struct ssl_call *c, struct sock_state *st)
{
	__s64 n;

	if (!c || !st)
		return 0;
	n = (__s64)c->num;
	if (n <= 0)
		return 0;
	return tls_plain_emit(st, c->buf, n, BZ_DIR_OUT, BZ_P_SSL, BZ_SYS_SSL, 0);
}

static __always_inline int ssl_return(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct ssl_key key = { .tgid = pid_tgid >> 32 };
	struct ssl_call *cp, c;
	struct sock_state *st;
	__u64 sk;
	__s64 n;

	EMPTY_HOOK_RETURN();
	cp = bpf_map_lookup_elem(&ssl_calls, &tid);
	if (!cp)
		return 0; /* not a target's, or entered before the probes were attached */
	c = *cp;
	bpf_map_delete_elem(&ssl_calls, &tid);
	key.ssl = c.ssl;
	n = (__s64)(int)PT_REGS_RC(ctx);
	if (c.lenp) {
		/* _ex: 1 on success, the byte count through the pointer */
		__u64 got = 0;
		if (n != 1 || bpf_probe_read_user(&got, sizeof(got), (void *)c.lenp))
			got = 0;
		n = (__s64)got;
	}
	if (c.emitted || c.skip) {
		/* recorded whole already: what is still to be written comes
		 * in a call of its own, not to be recorded again */
		__u64 done = n > 0 ? (__u64)n : 0;
		if (done < c.num) {
			struct ssl_rewrite rw = { .buf = c.buf + done, .num = c.num - done };
			bpf_map_update_elem(&ssl_rewrites, &key, &rw, BPF_ANY);
		}
		if (c.sk)
			bpf_map_update_elem(&ssl_socks, &key, &c.sk, BPF_ANY);
		return 0;
	}
	if (n <= 0)
		return 0;
	sk = ssl_sock_of(&c, &key, tid);
	st = sk ? bpf_map_lookup_elem(&socks, &sk) : NULL;
	if (!st) {
		count_missed(BZ_P_SSL);
		return 0;
	}
	/* (a write with no socket write of its own, a memory BIO: at its
	 * return, as near as can be to the socket write that follows) */
	return tls_plain_emit(st, c.buf, n, c.dir, BZ_P_SSL, BZ_SYS_SSL, 0);
}

/* int SSL_read(SSL *ssl, void *buf, int num) */
SEC("uprobe")
int bz_ssl_read_enter(struct pt_regs *ctx) { return ssl_enter(ctx, BZ_DIR_IN, 0); }
/* int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *readbytes) */
SEC("uprobe")
int bz_ssl_read_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, BZ_DIR_IN, 1); }
/* int SSL_write(SSL *ssl, const void *buf, int num) */
SEC("uprobe")
int bz_ssl_write_enter(struct pt_regs *ctx) { return ssl_enter(ctx, BZ_DIR_OUT, 0); }
/* int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written) */
SEC("uprobe")
int bz_ssl_write_ex_enter(struct pt_regs *ctx) { return ssl_enter(ctx, BZ_DIR_OUT, 1); }
/* every one of them: the call's return */
SEC("uretprobe")
int bz_ssl_return(struct pt_regs *ctx) { return ssl_return(ctx); }

/* void SSL_free(SSL *ssl): the address is free for another object */
SEC("uprobe")
int bz_ssl_free(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct ssl_key key = { .ssl = PT_REGS_PARM1(ctx), .tgid = pid_tgid >> 32 };

	EMPTY_HOOK_RETURN();
	if (is_target(key.tgid))
		bpf_map_delete_elem(&ssl_socks, &key);
	return 0;
}

/* A target maps a file executable (a library it loads now: Python maps
 * libssl when it first imports ssl): the recorder looks at its maps again
 * for a TLS library to probe.  Rare; a map of pids, not an event, and a
 * wake-up of the recorder on a ring of its own (the events ring is read
 * every 100 ms, and the library may be used within a few). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} maps_changed SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} maps_wakeup SEC(".maps");

#define BZ_PROT_EXEC 0x4

SEC("tracepoint/syscalls/sys_enter_mmap")
int bz_enter_mmap(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 now;

	EMPTY_HOOK_RETURN();
	if (!cfg_ssl || !(ctx->args[2] & BZ_PROT_EXEC) || (__s64)ctx->args[4] < 0 || !is_target(tgid))
		return 0;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&maps_changed, &tgid, &now, BPF_ANY);
	/* (a full wake-up ring: the recorder is awake already) */
	bpf_ringbuf_output(&maps_wakeup, &tgid, sizeof(tgid), BPF_RB_FORCE_WAKEUP);
	return 0;
}
