/* go.bpf.h - Go runtime uprobes: handler runs, crypto/tls plaintext, client
 * round trips and (old runtimes) goroutine creation.
 *
 * Every program here is a plain uprobe, at a function's entry or on one of
 * its RET instructions: never a uretprobe, which would rewrite a return
 * address on a goroutine stack that the Go runtime may move.  The recorder
 * attaches them per Go binary with the binary's slot in go_offsets as the
 * attach cookie, so one program serves binaries of different Go versions.
 *
 * Go's register ABI (amd64): arguments in RAX, RBX, RCX, RDI, RSI, R8...,
 * results in RAX, RBX...; R14 holds the running goroutine's g.  Included
 * once, by beyla.bpf.c (x86-64 only: the offsets and registers are). */
#ifndef BEYLA_GO_BPF_H
#define BEYLA_GO_BPF_H

#if defined(__TARGET_ARCH_x86)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BZ_GO_BINARIES_MAX);
	__type(key, __u32);
	__type(value, struct bz_go_offsets);
} go_offsets SEC(".maps");

/* A goroutine of a process: what entry probes leave for return probes.
 * Goroutine ids are never reused within a process. */
struct go_key {
	__u32 pid;
	__u32 _pad;
	__u64 goid;
};

/* crypto/tls.(*Conn).Read in progress: the Conn and the caller's buffer.
 * LRU: a Read left without its return (a panic unwinding through it) must
 * not hold its slot for ever; when the map is full the oldest Read waiting
 * (an idle keep-alive connection) loses its entry, and its plaintext is
 * counted missed, rather than every new Read. */
struct go_tls_read {
	__u64 conn;
	__u64 buf;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_key);
	__type(value, struct go_tls_read);
} go_tls_reads SEC(".maps");

/* runtime.newproc1 in progress, by thread (it runs on the system stack,
 * start to end on one thread): the creating goroutine's id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} go_spawning SEC(".maps");

struct go_string {
	__u64 ptr;
	__s64 len;
};

static __always_inline struct bz_go_offsets *go_offs(void *ctx)
{
	__u32 slot = (__u32)bpf_get_attach_cookie(ctx) & BZ_GO_COOKIE_SLOT;
	return bpf_map_lookup_elem(&go_offsets, &slot);
}

#define BZ_EFLAGS_CF 0x1
#define BZ_EFLAGS_ZF 0x40

/* An entry probe on the stack check's JBE sees a call that must grow its
 * stack twice: now, about to jump to morestack (CF or ZF set by the CMP),
 * and again when morestack re-enters the function.  Only the second counts. */
static __always_inline int go_entry_again_later(struct pt_regs *ctx)
{
	return (bpf_get_attach_cookie(ctx) & BZ_GO_COOKIE_JBE) &&
	       (ctx->flags & (BZ_EFLAGS_CF | BZ_EFLAGS_ZF));
}

/* Reads a field of a user-space Go struct; 0 on failure or unknown offset. */
static __always_inline __u64 go_read_u64(__u64 base, __s64 off)
{
	__u64 v = 0;

	if (base && off >= 0)
		bpf_probe_read_user(&v, sizeof(v), (void *)(base + off));
	return v;
}

/* Go's registers, read once at the top of each program: the verifier
 * refuses a context access through a pointer the compiler moved. */
struct go_regs {
	__u64 ax, bx, cx, di, g;
};

static __always_inline void go_regs(struct pt_regs *ctx, struct go_regs *r)
{
	r->ax = ctx->ax;
	r->bx = ctx->bx;
	r->cx = ctx->cx;
	r->di = ctx->di;
	r->g = ctx->r14;
	barrier_var(r->g);
}

/* The Go string header at base+off: empty on failure or unknown offset. */
static __always_inline struct go_string go_string_at(__u64 base, __s64 off)
{
	struct go_string s = {};

	if (base && off >= 0)
		bpf_probe_read_user(&s, sizeof(s), (void *)(base + off));
	return s;
}

/* Copies the bytes of Go string s into dst (at most max bytes, max a power
 * of two); returns the bytes copied. */
static __always_inline __u32 go_copy_string(__u8 *dst, struct go_string s, __u32 max)
{
	__u64 n;

	if (s.len <= 0 || !s.ptr)
		return 0;
	n = s.len < max ? s.len : max;
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(BZ_GO_STR_MAX * 2 - 1));
	if (n > max || bpf_probe_read_user(dst, n, (void *)s.ptr))
		return 0;
	return n;
}

/* The strings of a GO_HANDLER or GO_CLIENT record: a method, then two
 * more, packed one after the other into dst.  Fills len[3]; returns the
 * bytes written (at most 16 + 2 * 128). */
static __always_inline __u32 go_pack_method_and_2(__u8 *dst, __u32 len[3], struct go_string s0,
						  struct go_string s1, struct go_string s2)
{
	__u32 off;

	len[0] = go_copy_string(dst, s0, BZ_GO_METHOD_MAX);
	off = len[0] & (BZ_GO_METHOD_MAX * 2 - 1);
	len[1] = go_copy_string(dst + off, s1, BZ_GO_STR_MAX);
	off = (off + len[1]) & 255;
	len[2] = go_copy_string(dst + off, s2, BZ_GO_STR_MAX);
	return len[0] + len[1] + len[2];
}

/* A handler's *http.Request, with its front copied in one call.  Every
 * field a START record reads (Method, URL, ProtoMajor, ContentLength,
 * Host, RemoteAddr, RequestURI) lies in its first 208 bytes in every Go
 * release the offsets table knows, so one user-memory read (~80 ns here,
 * docs/performance.md) stands for nine; a field beyond GO_REQ_FRONT, or
 * every field when the copy failed, is read on its own.  The copy goes in
 * the scratch buffer past the event being built (GO_REQ_AT). */
#define GO_REQ_FRONT 256
#define GO_REQ_AT 1024
_Static_assert(SCRATCH_SIZE >= GO_REQ_AT + GO_REQ_FRONT + 16, "scratch holds the request's front");
struct go_req {
	const __u8 *front; /* NULL: not copied */
	__u64 base;
	__s64 end;         /* the bytes copied */
};

static __always_inline __s64 go_max_end(__s64 end, __s64 off, __s64 size)
{
	return off >= 0 && off + size > end ? off + size : end;
}

static __always_inline void go_req_load(struct go_req *q, __u64 req, __u8 *scratch,
					const struct bz_go_offsets *o)
{
	__s64 end = 0;

	q->base = req;
	q->front = NULL;
	q->end = 0;
	end = go_max_end(end, o->req_method, 16);
	end = go_max_end(end, o->req_url, 8);
	end = go_max_end(end, o->req_proto_major, 8);
	end = go_max_end(end, o->req_content_length, 8);
	end = go_max_end(end, o->req_host, 16);
	end = go_max_end(end, o->req_remote_addr, 16);
	end = go_max_end(end, o->req_request_uri, 16);
	if (end > GO_REQ_FRONT)
		end = GO_REQ_FRONT;
	if (!req || end <= 0)
		return;
	if (!bpf_probe_read_user(scratch + GO_REQ_AT, end & (GO_REQ_FRONT * 2 - 1), (void *)req))
		q->front = scratch + GO_REQ_AT;
	q->end = end;
}

static __always_inline int go_req_has(const struct go_req *q, __s64 off, __s64 size)
{
	return q->front && off >= 0 && off + size <= q->end;
}

static __always_inline __u64 go_req_u64(const struct go_req *q, __s64 off)
{
	if (go_req_has(q, off, 8))
		return *(const __u64 *)(q->front + (off & (GO_REQ_FRONT - 1)));
	return go_read_u64(q->base, off);
}

static __always_inline struct go_string go_req_string(const struct go_req *q, __s64 off)
{
	if (go_req_has(q, off, 16))
		return *(const struct go_string *)(q->front + (off & (GO_REQ_FRONT - 1)));
	return go_string_at(q->base, off);
}

/* The HTTP/2 stream a handler serves, 0 for HTTP/1 or unknown.  rw is the
 * data word of the handler's ResponseWriter: for HTTP/2 (req.ProtoMajor 2)
 * a *http2responseWriter, whose rws.stream.id is the stream (Go 1.27's
 * http2ResponseWriter wraps one pointer, so its data word is that pointer
 * too).  A wrong guess costs nothing: the analyzer takes a stream id only
 * when a request of that method and path is waiting on that stream. */
static __always_inline __u32 go_h2_stream(__u64 proto_major, __u64 rw, struct bz_go_offsets *o)
{
	__u64 rws, stream;

	if (proto_major != 2)
		return 0;
	rws = go_read_u64(rw, o->h2rw_rws);
	stream = go_read_u64(rws, o->h2rws_stream);
	return (__u32)go_read_u64(stream, o->h2stream_id);
}

/* The request extension of a START record (struct bz_go_req_ext, then
 * Request.Host and Request.RequestURI) at dst + n; returns the new n.
 * Read in every mode: --go=fast builds HTTPS spans from it, and the same
 * capture made with --go=full can be analyzed both ways (analyze
 * --go-from-structs) to check that they agree. */
static __always_inline __u32 go_req_ext(__u8 *dst, __u32 n, const struct go_req *q, __u64 proto_major,
					__u32 stream, struct bz_go_offsets *o)
{
	struct bz_go_req_ext x = {};
	__u32 off;

	x.stream = stream;
	x.proto_major = (__u8)proto_major;
	x.content_length = -1;
	if (o->req_content_length >= 0) {
		x.content_length = (__s64)go_req_u64(q, o->req_content_length);
		x.flags |= BZ_GOX_CL_KNOWN;
	}
	n &= 511;
	off = n + sizeof(x);
	x.host_len = go_copy_string(dst + off, go_req_string(q, o->req_host), BZ_GO_STR_MAX);
	off = (off + x.host_len) & 1023;
	if (off > 512 + sizeof(x) + BZ_GO_STR_MAX)
		return n;
	x.uri_len = go_copy_string(dst + off, go_req_string(q, o->req_request_uri), BZ_GO_STR_MAX);
	__builtin_memcpy(dst + n, &x, sizeof(x));
	return n + sizeof(x) + x.host_len + x.uri_len;
}

/* --- handler: net/http.serverHandler.ServeHTTP(sh, rw ResponseWriter, req) ---
 * RAX = sh.srv, RBX/RCX = rw (itab, data: *response or *http2responseWriter),
 * RDI = req. */
SEC("uprobe")
int bz_go_handler_enter(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_go_offsets *o;
	struct bz_ev_go_handler *ev;
	struct go_req q;
	__u32 len[3], n, stream;
	__u64 proto_major;

	EMPTY_HOOK_RETURN();
	if (go_entry_again_later(ctx))
		return 0;
	go_regs(ctx, &rg);
	if (!is_target(pid_tgid >> 32) || !(o = go_offs(ctx)) || !(ev = scratch_buf()))
		return 0;
	go_req_load(&q, rg.di, (__u8 *)ev, o);
	fill_hdr(&ev->h, BZ_EV_GO_HANDLER, 0, pid_tgid);
	ev->goid = go_read_u64(rg.g, o->g_goid);
	ev->phase = BZ_GO_START;
	ev->status = 0;
	n = go_pack_method_and_2(ev->strings, len, go_req_string(&q, o->req_method),
				 go_req_string(&q, o->req_remote_addr),
				 go_string_at(go_req_u64(&q, o->req_url), o->url_path));
	ev->method_len = len[0];
	ev->remote_len = len[1];
	ev->path_len = len[2];
	n &= 511;
	proto_major = o->req_proto_major >= 0 ? go_req_u64(&q, o->req_proto_major) : 0;
	stream = go_h2_stream(proto_major, rg.cx, o);
	n = go_req_ext(ev->strings, n, &q, proto_major, stream, o);
	ev->h.size = sizeof(*ev) + n;
	emit(BZ_P_GO_HANDLER, ev, (sizeof(*ev) + n) & 1023);
	return 0;
}

/* --- net/http.(*response).finishRequest(): RAX = w ---
 * conn.serve calls it right after ServeHTTP returns (not for a hijacked
 * connection): the handler's end, with the status it wrote.  An entry probe
 * here replaces probes on ServeHTTP's RETs, which the kernel would have to
 * single-step (go.md: what probes cost). */
SEC("uprobe")
int bz_go_handler_end(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_go_offsets *o;
	struct bz_ev_go_handler ev = {};

	EMPTY_HOOK_RETURN();
	if (go_entry_again_later(ctx))
		return 0;
	go_regs(ctx, &rg);
	if (!is_target(pid_tgid >> 32) || !(o = go_offs(ctx)))
		return 0;
	fill_hdr(&ev.h, BZ_EV_GO_HANDLER, sizeof(ev), pid_tgid);
	ev.goid = go_read_u64(rg.g, o->g_goid);
	ev.phase = BZ_GO_END;
	ev.status = (__u16)go_read_u64(rg.ax, o->response_status);
	emit(BZ_P_GO_HANDLER, &ev, sizeof(ev));
	return 0;
}

/* --- net/http.(*http2responseWriter).handlerDone(): RAX = w ---
 * The HTTP/2 server runs each handler on a goroutine of its own
 * (http2serverConn.runHandler), which calls this once the handler returned
 * (not after a panic), before flushing what the handler left buffered: the
 * handler's end, on the goroutine that started it, with the status from
 * w.rws.status (0 if none written yet: sent as 200). */
SEC("uprobe")
int bz_go_h2_handler_end(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_go_offsets *o;
	struct bz_ev_go_handler ev = {};

	EMPTY_HOOK_RETURN();
	if (go_entry_again_later(ctx))
		return 0;
	go_regs(ctx, &rg);
	if (!is_target(pid_tgid >> 32) || !(o = go_offs(ctx)))
		return 0;
	fill_hdr(&ev.h, BZ_EV_GO_HANDLER, sizeof(ev), pid_tgid);
	ev.goid = go_read_u64(rg.g, o->g_goid);
	ev.phase = BZ_GO_END;
	ev.status = (__u16)go_read_u64(go_read_u64(rg.ax, o->h2rw_rws), o->h2rws_status);
	emit(BZ_P_GO_HANDLER, &ev, sizeof(ev));
	return 0;
}

/* --- crypto/tls.(*Conn).Read / Write(b []byte) (int, error) ---
 * RAX = c, RBX/RCX = b's pointer and length; returns n in RAX. */

/* The TCP socket under a tls.Conn whose net.Conn is a *net.TCPConn:
 * c.conn -> TCPConn.conn.fd (*netFD) -> pfd.Sysfd -> the fd table.
 * Not inlined: track_sock's two structs (~200 bytes) would stay in the
 * frame of the TLS programs, whose stack with h2_capture's and its
 * callback's must fit the verifier's 512 bytes (they took 488 of them;
 * now 312). */
static __noinline struct sock_state *go_tls_sock(__u64 c, struct bz_go_offsets *o)
{
	__u64 iface_data = go_read_u64(c, o->tls_conn_conn >= 0 ? o->tls_conn_conn + 8 : -1);
	__u64 netfd = go_read_u64(iface_data, o->net_conn_fd);
	__s64 fd_off = o->netfd_pfd >= 0 && o->poll_fd_sysfd >= 0 ? o->netfd_pfd + o->poll_fd_sysfd : -1;
	__s64 fd = (__s64)go_read_u64(netfd, fd_off);
	struct sock *sk;

	if (!netfd || fd <= 0 || fd > 0x7fffffff)
		return NULL;
	sk = fd_to_sock((int)fd);
	if (!sk || !sock_is_inet(sk) || !sock_is_tcp(sk))
		return NULL;
	return track_sock(sk, BZ_ROLE_PREEXISTING, (int)fd, 0, BZ_P_GO_TLS);
}

static __always_inline int go_tls_emit(struct pt_regs *ctx, struct bz_go_offsets *o, __u64 c,
				       __u64 buf, __s64 n, __u8 dir)
{
	struct sock_state *st = go_tls_sock(c, o);

	if (!st || n <= 0)
		return 0;
	return tls_plain_emit(st, buf, n, dir, BZ_P_GO_TLS, BZ_SYS_GO_TLS, 0);
}

SEC("uprobe")
int bz_go_tls_read_enter(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_key k = { .pid = pid_tgid >> 32 };
	struct go_tls_read r;
	struct bz_go_offsets *o;

	EMPTY_HOOK_RETURN();
	if (go_entry_again_later(ctx))
		return 0;
	go_regs(ctx, &rg);

	if (!is_target(k.pid) || !(o = go_offs(ctx)))
		return 0;
	r.conn = rg.ax;
	r.buf = rg.bx;
	k.goid = go_read_u64(rg.g, o->g_goid);
	if (k.goid && bpf_map_update_elem(&go_tls_reads, &k, &r, BPF_ANY))
		count_missed(BZ_P_GO_TLS);
	return 0;
}

SEC("uprobe")
int bz_go_tls_read_ret(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_key k = { .pid = pid_tgid >> 32 };
	struct bz_go_offsets *o;
	struct go_tls_read *r, rr;
	__s64 n;

	EMPTY_HOOK_RETURN();
	go_regs(ctx, &rg);

	if (!is_target(k.pid) || !(o = go_offs(ctx)))
		return 0;
	k.goid = go_read_u64(rg.g, o->g_goid);
	r = bpf_map_lookup_elem(&go_tls_reads, &k);
	if (!r) {
		/* entered before the probes were attached: these bytes are lost */
		if ((__s64)rg.ax > 0)
			count_missed(BZ_P_GO_TLS);
		return 0;
	}
	n = (__s64)rg.ax;
	rr = *r;
	bpf_map_delete_elem(&go_tls_reads, &k);
	return go_tls_emit(ctx, o, rr.conn, rr.buf, n, BZ_DIR_IN);
}

/* --go=fast: the copy at the end of crypto/tls.(*Conn).Read, an inlined
 * bytes.Reader.Read: CALL runtime.memmove(to=RAX, from=RBX, n=RCX), which
 * the kernel emulates.  RBX holds the plaintext the caller gets; the
 * receiver c is in its ABI spill slot at RBP+16 (record/goelf_copy.c checks
 * the function's prologue before placing this probe).  One hit a read,
 * instead of an entry and a single-stepped RET. */
SEC("uprobe")
int bz_go_tls_read_copy(struct pt_regs *ctx)
{
	struct go_regs rg;
	struct bz_go_offsets *o;
	__u64 c = 0, bp;

	EMPTY_HOOK_RETURN();
	go_regs(ctx, &rg);
	bp = ctx->bp;
	barrier_var(bp);

	if (!is_target(bpf_get_current_pid_tgid() >> 32) || !(o = go_offs(ctx)))
		return 0;
	if (bpf_probe_read_user(&c, sizeof(c), (void *)(bp + 16)) || !c) {
		count_missed(BZ_P_GO_TLS);
		return 0;
	}
	return go_tls_emit(ctx, o, c, rg.bx, (__s64)rg.cx, BZ_DIR_IN);
}

SEC("uprobe")
int bz_go_tls_write_enter(struct pt_regs *ctx)
{
	struct go_regs rg;
	struct bz_go_offsets *o;

	EMPTY_HOOK_RETURN();
	if (go_entry_again_later(ctx))
		return 0;
	go_regs(ctx, &rg);

	if (!is_target(bpf_get_current_pid_tgid() >> 32) || !(o = go_offs(ctx)))
		return 0;
	return go_tls_emit(ctx, o, rg.ax, rg.bx, (__s64)rg.cx, BZ_DIR_OUT);
}

/* --- client: net/http.(*Transport).roundTrip(req) (*Response, error) ---
 * RAX = t, RBX = req; returns the *Response in RAX (nil on error). */
SEC("uprobe")
int bz_go_client_enter(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_go_offsets *o;
	struct bz_ev_go_client *ev;
	__u64 req, url;
	__u32 len[3], n;

	EMPTY_HOOK_RETURN();
	if (go_entry_again_later(ctx))
		return 0;
	go_regs(ctx, &rg);

	if (!is_target(pid_tgid >> 32) || !(o = go_offs(ctx)) || !(ev = scratch_buf()))
		return 0;
	req = rg.bx;
	fill_hdr(&ev->h, BZ_EV_GO_CLIENT, 0, pid_tgid);
	ev->goid = go_read_u64(rg.g, o->g_goid);
	ev->parent_goid = go_read_u64(rg.g, o->g_parent_goid);
	ev->phase = BZ_GO_START;
	ev->status = 0;
	url = go_read_u64(req, o->req_url);
	n = go_pack_method_and_2(ev->strings, len, go_string_at(req, o->req_method), go_string_at(url, o->url_host),
				 go_string_at(url, o->url_path));
	ev->method_len = len[0];
	ev->host_len = len[1];
	ev->path_len = len[2];
	ev->h.size = sizeof(*ev) + n;
	emit(BZ_P_GO_CLIENT, ev, (sizeof(*ev) + n) & 511);
	return 0;
}

SEC("uprobe")
int bz_go_client_ret(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_go_offsets *o;
	struct bz_ev_go_client ev = {};

	EMPTY_HOOK_RETURN();
	go_regs(ctx, &rg);

	if (!is_target(pid_tgid >> 32) || !(o = go_offs(ctx)))
		return 0;
	fill_hdr(&ev.h, BZ_EV_GO_CLIENT, sizeof(ev), pid_tgid);
	ev.goid = go_read_u64(rg.g, o->g_goid);
	ev.parent_goid = go_read_u64(rg.g, o->g_parent_goid);
	ev.phase = BZ_GO_END;
	ev.status = (__u16)go_read_u64(rg.ax, o->http_response_status_code);
	emit(BZ_P_GO_CLIENT, &ev, sizeof(ev));
	return 0;
}

/* --- runtime.newproc1(fn, callergp *g, callerpc, ...) *g ---
 * Runs on the system stack (R14 = g0): the creator is the callergp
 * argument (RBX), the new goroutine the result (RAX). */
SEC("uprobe")
int bz_go_spawn_enter(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_go_offsets *o;
	__u64 parent;

	EMPTY_HOOK_RETURN();
	if (go_entry_again_later(ctx))
		return 0;
	go_regs(ctx, &rg);

	if (!is_target(pid_tgid >> 32) || !(o = go_offs(ctx)))
		return 0;
	parent = go_read_u64(rg.bx, o->g_goid);
	if (parent && bpf_map_update_elem(&go_spawning, &pid_tgid, &parent, BPF_ANY))
		count_missed(BZ_P_GO_SPAWN);
	return 0;
}

SEC("uprobe")
int bz_go_spawn_ret(struct pt_regs *ctx)
{
	struct go_regs rg;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct bz_go_offsets *o;
	struct bz_ev_go_spawn ev = {};
	__u64 *parent;

	EMPTY_HOOK_RETURN();
	go_regs(ctx, &rg);

	if (!(parent = bpf_map_lookup_elem(&go_spawning, &pid_tgid)))
		return 0;
	ev.parent_goid = *parent;
	bpf_map_delete_elem(&go_spawning, &pid_tgid);
	if (!(o = go_offs(ctx)))
		return 0;
	ev.goid = go_read_u64(rg.ax, o->g_goid);
	fill_hdr(&ev.h, BZ_EV_GO_SPAWN, sizeof(ev), pid_tgid);
	emit(BZ_P_GO_SPAWN, &ev, sizeof(ev));
	return 0;
}

#endif /* __TARGET_ARCH_x86 */
#endif
