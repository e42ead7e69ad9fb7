/* spans.c - HTTP messages to spans (spans.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spans.h"
#include "http_url.h"
#include "sched_split.h"
#include "span_db.h"
#include "../bpf/beyla_events.h"

/* dst = the texts of parts joined, cut to cap - 1 bytes.  Every span
 * formats a few of these: snprintf was a tenth of the analysis thread. */
static void join_text(char *dst, size_t cap, const char *const *parts, int n)
{
	size_t len = 0;

	for (int k = 0; k < n && len + 1 < cap; k++) {
		size_t l = strlen(parts[k]);
		if (l > cap - 1 - len)
			l = cap - 1 - len;
		memcpy(dst + len, parts[k], l);
		len += l;
	}
	dst[len] = 0;
}

static void copy_text(char *dst, size_t cap, const char *src) { join_text(dst, cap, &src, 1); }

/* Ids.  A request gets a number in the order its head was seen (seq, from
 * 1); its ids are
 *   span id  = prefix << 40 | seq << 2 | role   (role: 0 the server or
 *              client span, 1 "in queue", 2 "processing")
 *   trace id = trace_hi : span id of the trace's root
 * where prefix (24 bits) and trace_hi (64 bits) are hashes of the capture's
 * identity.  So ids are deterministic for a capture and differ between
 * captures, and they grow with the requests: the spans are inserted nearly
 * in id order, which keeps SQLite's id, trace and parent indexes cheap to
 * maintain while loading (random ids made index building most of the
 * analysis time). */
enum { SALT_PREFIX = 1, SALT_TRACE_HI = 2 };
/* The low two bits of a span id: 0 for a server or client span; 1 and 2
 * are a server span's children "in queue" and "processing", which exist
 * only in the database's view `spans`, which derives them there
 * (schema/spans.sql). */
enum { ROLE_SPAN = 0 };
#define SEQ_BITS 38

static uint64_t span_id_of(const struct bz_spanner *sp, uint64_t seq, unsigned role)
{
	uint64_t prefix = bz_id_mix(sp->seed, 0, 0, SALT_PREFIX) >> 40;
	return prefix << 40 | (seq & ((1ull << SEQ_BITS) - 1)) << 2 | role;
}

static struct bz_trace_id root_trace(const struct bz_spanner *sp, uint64_t span_id)
{
	return (struct bz_trace_id){ bz_id_mix(sp->seed, 0, 0, SALT_TRACE_HI), span_id };
}

struct active {
	uint64_t conn_id, index, span_id;
	struct bz_trace_id trace;
	const struct bz_pending *p; /* the request (unregistered before it is freed) */
};

/* A thread's server requests in progress, and its last reads and writes
 * since it has had any (bz_spanner_io): the connection of the last one,
 * its direction and when the run of reads and writes on that connection
 * began (run_ts), and the last one on another connection before that run
 * (has_prev: there was one). */
struct thread_active {
	unsigned n, cap;
	struct active *v;
	uint64_t io_conn, prev_conn, run_ts;
	uint8_t has_io, io_dir, has_prev, prev_dir;
};

void bz_spanner_init(struct bz_spanner *sp, struct bz_db *db, struct bz_procs *procs)
{
	memset(sp, 0, sizeof(*sp));
	sp->db = db;
	sp->procs = procs;
}

void bz_spanner_free(struct bz_spanner *sp)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&sp->threads, &pos, &k, &v)) {
		struct thread_active *t = v;
		free(t->v);
		free(t);
	}
	bz_u64map_free(&sp->threads);
}

static uint64_t thread_key(uint32_t pid, uint32_t tid) { return (uint64_t)pid << 32 | tid; }

/* ---- server spans in progress, per thread ----------------------------- */

static void thread_register(struct bz_spanner *sp, const struct bz_conn *c, struct bz_pending *p)
{
	uint64_t key = thread_key(p->req.first.pid, p->req.first.tid);
	struct thread_active *t = bz_u64map_get(&sp->threads, key);

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || bz_u64map_put(&sp->threads, key, t)) {
			free(t);
			return; /* out of memory: no parent links, spans still right */
		}
	}
	if (t->n == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 4;
		struct active *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = (struct active){ c->id, p->index, p->span_id, p->trace, p };
	p->registered = 1;
}

static void thread_unregister(struct bz_spanner *sp, const struct bz_conn *c, struct bz_pending *p)
{
	uint64_t key = thread_key(p->req.first.pid, p->req.first.tid);
	struct thread_active *t = bz_u64map_get(&sp->threads, key);

	if (!p->registered || !t)
		return;
	p->registered = 0;
	for (unsigned i = 0; i < t->n; i++) {
		if (t->v[i].conn_id == c->id && t->v[i].index == p->index) {
			memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof(*t->v));
			t->n--;
			break;
		}
	}
	if (!t->n) {
		bz_u64map_del(&sp->threads, key);
		free(t->v);
		free(t);
	}
}

/* p (a server request, registered) has a new trace: so do the client calls
 * its thread makes from now on. */
static void thread_retrace(struct bz_spanner *sp, const struct bz_pending *p)
{
	struct thread_active *t = bz_u64map_get(&sp->threads, thread_key(p->req.first.pid, p->req.first.tid));

	if (!p->registered || !t)
		return;
	for (unsigned i = 0; i < t->n; i++)
		if (t->v[i].span_id == p->span_id)
			t->v[i].trace = p->trace;
}

/* The server span the thread is working on: the only one in progress, or
 * the oldest if all are pipelined on one connection. NULL if none or
 * ambiguous (*ambiguous set: requests of several connections). */
static const struct active *thread_current(struct bz_spanner *sp, uint32_t pid, uint32_t tid, int *ambiguous)
{
	struct thread_active *t = bz_u64map_get(&sp->threads, thread_key(pid, tid));

	*ambiguous = 0;
	if (!t || !t->n)
		return NULL;
	for (unsigned i = 1; i < t->n; i++) {
		if (t->v[i].conn_id != t->v[0].conn_id) {
			*ambiguous = 1;
			return NULL;
		}
	}
	return &t->v[0];
}

/* The oldest server request of t in progress on connection conn_id. */
static const struct active *active_on(const struct thread_active *t, uint64_t conn_id)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->v[i].conn_id == conn_id)
			return &t->v[i];
	return NULL;
}

void bz_spanner_io(struct bz_spanner *sp, const struct bz_conn *c, uint32_t pid, uint32_t tid, int dir,
		   uint64_t ts)
{
	struct thread_active *t = bz_u64map_get(&sp->threads, thread_key(pid, tid));

	if (!t)
		return;
	if (t->has_io && t->io_conn != c->id) {
		t->prev_conn = t->io_conn;
		t->prev_dir = t->io_dir;
		t->has_prev = 1;
	}
	if (!t->has_io || t->io_conn != c->id)
		t->run_ts = ts;
	t->io_conn = c->id;
	t->io_dir = (uint8_t)dir;
	t->has_io = 1;
}

void bz_spanner_connected(struct bz_spanner *sp, struct bz_conn *c, uint32_t pid, uint32_t tid)
{
	struct thread_active *t = bz_u64map_get(&sp->threads, thread_key(pid, tid));
	const struct active *a;

	c->opened_for = 0;
	if (t && t->has_io && t->io_dir == BZ_DIR_IN && t->io_conn != c->id && (a = active_on(t, t->io_conn)))
		c->opened_for = a->span_id;
}

/* Does client request m forward server request q, as a proxy does: the
 * same method, and m's path q's or a tail of it that begins with '/'
 * (nginx's proxy_pass without a URI passes the path on; with one, the
 * location's prefix is replaced, /app/users/1 -> /users/1)? */
static int forwards(const struct bz_http_msg *q, const struct bz_http_msg *m)
{
	char qpath[BZ_HTTP_TARGET_MAX], mpath[BZ_HTTP_TARGET_MAX], query[2];
	size_t ql, ml;

	if (strcmp(q->method, m->method))
		return 0;
	bz_url_split(q->target, qpath, sizeof(qpath), query, sizeof(query));
	bz_url_split(m->target, mpath, sizeof(mpath), query, sizeof(query));
	ql = strlen(qpath);
	ml = strlen(mpath);
	return ml && mpath[0] == '/' && ml <= ql && !memcmp(qpath + ql - ml, mpath, ml);
}

/* Client request m on c, written by a thread with server requests of
 * several connections in progress (an event loop: a proxy such as nginx
 * reads a request, connects to its upstream and writes the request there
 * in one go, while other requests wait for their upstreams): the request
 * whose read came just before c's connect() (c->opened_for; that holds
 * when the connect completes later, as a TCP one does), else the one whose
 * read came just before m's write (a connection kept from an earlier
 * call) -- if m forwards it.  NULL if none; *how: 1 by the connect, 2 by
 * the read before the write. */
static const struct active *proxy_parent(struct bz_spanner *sp, const struct bz_conn *c,
					 const struct bz_http_msg *m, int *how)
{
	struct thread_active *t = bz_u64map_get(&sp->threads, thread_key(m->first.pid, m->first.tid));
	const struct active *a = NULL;

	*how = 0;
	if (!t)
		return NULL;
	if (c->opened_for) {
		for (unsigned i = 0; i < t->n && !a; i++)
			if (t->v[i].span_id == c->opened_for)
				a = &t->v[i];
		*how = 1;
	}
	if (!a && t->has_io) {
		/* the thread's last read or write before this one; a head
		 * written in several writes: the last before the first of them
		 * (and not one before earlier traffic on c) */
		int last = t->io_conn != c->id;
		uint64_t conn = last ? t->io_conn : t->prev_conn;
		uint8_t dir = last ? t->io_dir : t->prev_dir;

		if ((last || (t->has_prev && t->run_ts >= m->first.ts_ns)) && dir == BZ_DIR_IN)
			a = active_on(t, conn);
		*how = 2;
	}
	if (!a || !forwards(&a->p->req, m)) {
		*how = 0;
		return NULL;
	}
	return a;
}

/* ---- pending requests ------------------------------------------------- */

static struct bz_pending *find_pending(struct bz_conn *c, uint64_t index)
{
	for (struct bz_pending *p = c->head; p; p = p->next)
		if (p->index == index)
			return p;
	return NULL;
}

struct bz_pending *bz_spanner_pending(struct bz_conn *c, uint64_t index)
{
	return find_pending(c, index);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Is gopath (Go's URL.Path: percent-decoded, cut at BZ_GO_STR_MAX bytes by
 * the probe) the path of request target?  Compared as far as both go when
 * either was cut. */
static int same_path(const struct bz_http_msg *q, const char *gopath)
{
	char path[BZ_HTTP_TARGET_MAX], query[2];
	size_t i = 0, j = 0, glen = strlen(gopath);
	int cut = glen >= BZ_GO_STR_MAX || (q->flags & BZ_HTTP_F_TARGET_CUT);

	bz_url_split(q->target, path, sizeof(path), query, sizeof(query));
	while (path[i] && gopath[j]) {
		int c = (unsigned char)path[i], h, l;

		if (c == '%' && (h = hexval(path[i + 1])) >= 0 && (l = hexval(path[i + 2])) >= 0) {
			c = h << 4 | l;
			i += 3;
		} else {
			i++;
		}
		if (c != (unsigned char)gopath[j++])
			return 0;
	}
	return (!path[i] && !gopath[j]) || cut;
}

static int same_request(const struct bz_pending *p, const char *method, const char *path)
{
	return !strcmp(p->req.method, method) && same_path(&p->req, path);
}

struct bz_pending *bz_spanner_go_handler(struct bz_spanner *sp, struct bz_conn *c, uint64_t ts,
					 uint32_t stream, const char *method, const char *path,
					 enum bz_go_pairing *how)
{
	struct bz_pending *p, *first = NULL, *got = NULL;

	*how = BZ_GO_PAIR_NONE;
	for (p = c->head; p; p = p->next) {
		if (!p->server || p->go_handled)
			continue;
		if (!first)
			first = p;
		/* HTTP/1 serves one request after another: the oldest is it */
		if (!c->proto || !c->proto->multiplexed)
			break;
		/* HTTP/2: the stream the handler named, if it asks for what the
		 * handler was given (a stream id read through a layout that was
		 * not the one expected names a stream at random) */
		if (stream && p->req.stream == stream &&
		    ((p->req.flags & BZ_HTTP_F_HEADERS_LOST) || same_request(p, method, path))) {
			got = p;
			*how = BZ_GO_PAIR_STREAM;
			break;
		}
		/* else the oldest asking for the same method and path */
		if (!got && same_request(p, method, path)) {
			got = p;
			*how = BZ_GO_PAIR_PATH;
			if (!stream)
				break;
		}
	}
	if (!got && (got = first))
		*how = BZ_GO_PAIR_ORDER;
	if (got) {
		got->go_handled = 1;
		got->go_start = ts;
	}
	return got;
}

static void unlink_pending(struct bz_conn *c, struct bz_pending *p)
{
	struct bz_pending **pp = &c->head, *prev = NULL;

	while (*pp && *pp != p) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = p->next;
	if (c->tail == p)
		c->tail = prev;
}

/* ---- links between the two ends of a connection (bz_peer_fn) -------- */

/* On peer, the other end of c, the oldest request of the other kind than
 * p not linked yet; on a multiplexed connection (HTTP/2), the one of p's
 * stream, whatever the order its streams were read in. */
static struct bz_pending *peer_pending(const struct bz_conn *c, struct bz_conn *peer, const struct bz_pending *p)
{
	int mux = c->proto && c->proto->multiplexed;

	for (struct bz_pending *q = peer->head; q; q = q->next) {
		if (q->server == p->server || q->peer_linked)
			continue;
		if (mux && q->req.stream != p->req.stream)
			continue;
		return q;
	}
	return NULL;
}

/* A server span p on c was written with no client span for a parent:
 * kept a while on c's other end, if recorded (its client's request may
 * reach the capture only now: late_link; kept there, it outlives c's
 * close). */
static void note_unlinked(struct bz_spanner *sp, struct bz_conn *c, const struct bz_pending *p,
			  uint64_t start, uint64_t end)
{
	struct bz_conn *pc = sp->peer_link ? sp->peer_link(sp->peer_link_user, c) : NULL;

	if (!pc)
		return;
	if (pc->n_unlinked == BZ_UNLINKED_MAX) {
		memmove(pc->unlinked, pc->unlinked + 1, sizeof(pc->unlinked) - sizeof(pc->unlinked[0]));
		pc->n_unlinked--;
	}
	pc->unlinked[pc->n_unlinked++] = (struct bz_unlinked){
		.span_id = p->span_id, .trace = p->trace, .start_ns = start, .end_ns = end, .stream = p->req.stream,
	};
}

/* Client request p just opened on c, and no server request on the other
 * end is waiting for it: was its server span written already (c's
 * unlinked list)?  A write's record is written at its return, which may
 * come after the reader it woke read the request and answered.  Taken only
 * when the recorder said when the request's bytes reached the server's
 * socket (the write's delivered_ns, with kernel waits on) and that was
 * while the server span ran; the span and everything in its trace move
 * under p.  1 if linked. */
static int late_link(struct bz_spanner *sp, struct bz_conn *c, struct bz_pending *p)
{
	uint64_t at = p->req.first.delivered_ns;
	int mux = c->proto && c->proto->multiplexed;

	if (!at)
		return 0;
	for (unsigned i = 0; i < c->n_unlinked; i++) {
		const struct bz_unlinked *u = &c->unlinked[i];
		int rc;

		if ((mux && u->stream != p->req.stream) || at < u->start_ns || at > u->end_ns)
			continue;
		if (!sp->err && (rc = bz_db_relink(sp->db, u->span_id, p->span_id, u->trace, p->trace)))
			sp->err = rc;
		memmove(&c->unlinked[i], &c->unlinked[i + 1], (c->n_unlinked - i - 1) * sizeof(*u));
		c->n_unlinked--;
		return 1;
	}
	return 0;
}

static void release_undelivered(struct bz_spanner *sp, struct bz_conn *c, struct bz_pending *p);
static void release_stale(struct bz_spanner *sp, struct bz_conn *c, uint64_t now);

static void open_request(struct bz_spanner *sp, struct bz_conn *c, const struct bz_http_msg *m)
{
	struct bz_pending *p, *peer;
	struct bz_conn *pc;
	const struct bz_proc *proc;

	/* HTTP/1: a client asks again only once it has the answer, so a span
	 * still waiting for its delivery will not hear of it (lost, or the
	 * peer's socket was not seen) */
	if (m->dir == BZ_HTTP_IN && !(c->proto && c->proto->multiplexed))
		for (struct bz_pending *o = c->head, *next; o; o = next) {
			next = o->next;
			if (o->held)
				release_undelivered(sp, c, o);
		}
	else if (m->dir == BZ_HTTP_IN)
		release_stale(sp, c, m->first.ts_ns);
	p = malloc(sizeof(*p));
	if (!p) {
		sp->err = sp->err ? sp->err : -ENOMEM;
		return;
	}
	memset(p, 0, offsetof(struct bz_pending, req));
	p->req = *m;
	p->index = m->index;
	p->server = m->dir == BZ_HTTP_IN;
	p->trace.hi = p->trace.lo = 0;
	p->parent_id = 0;
	p->has_resp = p->req_done = p->registered = 0;
	p->interim = 0;
	p->prev_resp_end = 0;
	p->go_handled = 0;
	p->peer_linked = 0;
	p->go_start = p->go_end = 0;
	p->tx_bytes = p->tx_done_ns = 0;
	p->held = p->tx_inline = 0;
	proc = bz_procs_touch(sp->procs, m->first.pid, m->first.ts_ns);
	copy_text(p->service, sizeof(p->service), proc ? proc->service : "unknown_service");
	p->span_id = span_id_of(sp, ++sp->seq, ROLE_SPAN);
	if (p->server) {
		p->trace = root_trace(sp, p->span_id);
		if (sp->peer_link && (pc = sp->peer_link(sp->peer_link_user, c)) && (peer = peer_pending(c, pc, p))) {
			/* its client opened first: its child */
			p->parent_id = peer->span_id;
			p->trace = peer->trace;
			p->peer_linked = peer->peer_linked = 1;
			sp->n.peer_links++;
		}
		thread_register(sp, c, p);
	} else {
		char path[BZ_HTTP_TARGET_MAX], query[BZ_HTTP_TARGET_MAX];
		int by = 0;
		const struct active *parent = NULL;

		if (sp->client_parent) {
			bz_url_split(m->target, path, sizeof(path), query, sizeof(query));
			by = sp->client_parent(sp->client_parent_user, m->first.pid, m->method, path,
					       m->first.ts_ns, &p->parent_id, &p->trace);
		}
		if (by == 0) {
			int ambiguous, how;

			parent = thread_current(sp, m->first.pid, m->first.tid, &ambiguous);
			if (!parent && ambiguous) {
				parent = proxy_parent(sp, c, m, &how);
				sp->n.parent_by_connect += how == 1;
				sp->n.parent_by_last_read += how == 2;
				sp->n.parent_ambiguous += !parent;
			}
		}
		if (by == 1) {
			sp->n.parent_links++;
		} else if (parent) {
			p->parent_id = parent->span_id;
			p->trace = parent->trace;
			sp->n.parent_links++;
		} else {
			p->trace = root_trace(sp, p->span_id);
		}
		pc = sp->peer_link ? sp->peer_link(sp->peer_link_user, c) : NULL;
		if (pc && (peer = peer_pending(c, pc, p))) {
			/* the server read it before the write reached the capture:
			 * the server span becomes this one's child now (it is
			 * written at its end) */
			peer->parent_id = p->span_id;
			peer->trace = p->trace;
			thread_retrace(sp, peer);
			p->peer_linked = peer->peer_linked = 1;
			sp->n.peer_links++;
		} else if (c->n_unlinked && late_link(sp, c, p)) {
			p->peer_linked = 1;
			sp->n.peer_links++;
			sp->n.peer_links_late++;
		}
	}
	p->next = NULL;
	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	c->requests++;
}

/* ---- building the span row -------------------------------------------- */

static const char *const otel_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", NULL,
};

static int otel_method(const char *m)
{
	for (int i = 0; otel_methods[i]; i++)
		if (!strcmp(m, otel_methods[i]))
			return 1;
	return 0;
}

/* Host header without its port: "a.b:80" -> "a.b", "[::1]:80" -> "::1". */
static void host_only(const char *h, char *out, size_t cap)
{
	size_t n;

	if (h[0] == '[') {
		const char *e = strchr(h, ']');
		n = e ? (size_t)(e - h - 1) : strlen(h + 1);
		h++;
	} else {
		const char *colon = strchr(h, ':');
		n = colon && !strchr(colon + 1, ':') ? (size_t)(colon - h) : strlen(h);
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, h, n);
	out[n] = 0;
}

static uint64_t u64max(uint64_t a, uint64_t b) { return a > b ? a : b; }

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static void add_attr(struct bz_span *s, const char *k, const char *v) { bz_span_add_attr(s, k, v); }

/* The analyzer's facts about how a message was framed, as a short list. */
static void flags_text(uint32_t f, char *out, size_t cap)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ BZ_HTTP_F_HEAD_CUT, "head_cut" }, { BZ_HTTP_F_TARGET_CUT, "target_cut" },
		{ BZ_HTTP_F_GUESSED_END, "guessed_end" }, { BZ_HTTP_F_CLOSE_END, "close_end" },
		{ BZ_HTTP_F_RESYNC, "resync" }, { BZ_HTTP_F_UPGRADE, "upgrade" },
		{ BZ_HTTP_F_CHUNKED, "chunked" }, { BZ_HTTP_F_EXPECT_100, "expect_100" },
		{ BZ_HTTP_F_HEADERS_LOST, "headers_lost" }, { BZ_HTTP_F_RESET, "reset" },
	};
	out[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len = strlen(out);
		if (f & names[i].bit)
			join_text(out + len, cap - len, (const char *const[]){ len ? "," : "", names[i].name }, 2);
	}
}

static int64_t to_unix(const struct bz_spanner *sp, uint64_t mono) { return bz_mono_to_unix(mono, sp->mono_to_unix); }

/* gRPC status codes by number (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) */
static const char *const grpc_codes[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
	"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

/* Is a gRPC status an error for this side?  The semantic conventions (RPC,
 * gRPC): a server's span is an error for UNKNOWN, DEADLINE_EXCEEDED,
 * UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS (the others are the
 * caller's doing); a client's for any status but OK. */
static int grpc_error(int code, int server)
{
	if (!server)
		return code != 0;
	return code == 2 || code == 4 || code == 12 || code == 13 || code == 14 || code == 15;
}

/* "/package.Service/Method" -> "package.Service" and "Method"; 0 if the
 * path is not of that form. */
static int grpc_names(const char *path, char *svc, size_t scap, char *meth, size_t mcap)
{
	const char *slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
	size_t sl, ml;

	if (!slash || slash == path + 1 || !slash[1] || strchr(slash + 1, '/'))
		return 0;
	sl = (size_t)(slash - path - 1);
	ml = strlen(slash + 1);
	if (sl >= scap || ml >= mcap)
		return 0;
	memcpy(svc, path + 1, sl);
	svc[sl] = 0;
	memcpy(meth, slash + 1, ml + 1);
	return 1;
}

static void write_span(struct bz_spanner *sp, const struct bz_span *s)
{
	int rc;

	if (sp->err)
		return;
	if ((rc = bz_db_span(sp->db, s)))
		sp->err = rc;
}

/* The kernel's waits (conn.h: kw_*).  When the request whose first bytes
 * the socket was told of at ready (a read's arrival_ns) entered the host,
 * or 0 if no RX_ARRIVAL said. */
static uint64_t kw_host_arrival(const struct bz_conn *c, uint64_t ready)
{
	uint32_t n = c->kw_rx_n < BZ_KW_RING ? c->kw_rx_n : BZ_KW_RING;

	for (uint32_t i = 0; ready && i < n; i++)
		if (c->kw_rx[i].ready_ns == ready)
			return c->kw_rx[i].host_ns;
	return 0;
}

/* When c's peer had its first `bytes` bytes: the earliest delivery in the
 * ring that covers them (the ring is in delivery order, bytes growing), or
 * 0 if none does yet. */
static uint64_t kw_delivered(const struct bz_conn *c, uint64_t bytes)
{
	uint32_t n = c->kw_tx_n < BZ_KW_RING ? c->kw_tx_n : BZ_KW_RING;
	uint32_t first = c->kw_tx_n - n;

	for (uint32_t k = first; k < c->kw_tx_n; k++) {
		const struct bz_kw_tx *t = &c->kw_tx[k % BZ_KW_RING];
		if (t->bytes >= bytes)
			return t->ts_ns;
	}
	return 0;
}

/* Emits the span(s) of p; incomplete: no (complete) final response. */
static void emit(struct bz_spanner *sp, struct bz_conn *c, struct bz_pending *p, int incomplete,
		 const char *reason)
{
	const struct bz_http_msg *q = &p->req, *r = p->has_resp ? &p->resp : NULL;
	char path[BZ_HTTP_TARGET_MAX], query[BZ_HTTP_TARGET_MAX], rquery[2 * BZ_HTTP_TARGET_MAX];
	char route[BZ_HTTP_TARGET_MAX], name[BZ_HTTP_METHOD_MAX + BZ_HTTP_TARGET_MAX + 8];
	char host[BZ_HTTP_HOST_MAX], laddr[64], raddr[64], flags[160], err_type[8], interim[16];
	char peer_port[8], handler_ns[24], grpc_code[8], msgs_in[16], msgs_out[16], bytes_in[24], bytes_out[24];
	char rpc_service[BZ_HTTP_TARGET_MAX], rpc_method[BZ_HTTP_TARGET_MAX];
	int known = otel_method(q->method);
	int lost = (q->flags & BZ_HTTP_F_HEADERS_LOST) != 0;
	int grpc = q->grpc && grpc_names(q->target, rpc_service, sizeof(rpc_service), rpc_method, sizeof(rpc_method));
	int gstatus = r && r->grpc_status >= 0 ? r->grpc_status : -1;
	int dbcall = BZ_PROTO_IS_DB(q->proto);
	struct bz_span_db_text dbt;
	struct bz_span s;
	uint64_t start, end, proc_start, proc_end;

	bz_url_split(q->target, path, sizeof(path), query, sizeof(query));
	bz_url_redact_query(query, rquery, sizeof(rquery));
	if (grpc)
		copy_text(route, sizeof(route), path); /* a method, not a resource: no {id} */
	else if (path[0])
		bz_url_route(path, route, sizeof(route));
	else
		copy_text(route, sizeof(route), q->target[0] ? q->target : "/");
	if (grpc)
		/* the RPC conventions' name: {rpc.service}/{rpc.method} */
		join_text(name, sizeof(name), (const char *const[]){ rpc_service, "/", rpc_method }, 3);
	else if (lost)
		/* HTTP/2 headers that could not be decoded: method and path unknown */
		copy_text(name, sizeof(name), "HTTP");
	else
		join_text(name, sizeof(name), (const char *const[]){ known ? q->method : "HTTP", " ", route }, 3);
	bz_conn_addr(c, 0, laddr, sizeof(laddr));
	bz_conn_addr(c, 1, raddr, sizeof(raddr));
	/* (TCP spans carry no network.transport: their rows stay as they were) */
	int unix_conn = c->opened && c->family == BZ_AF_UNIX && c->unix_path;
	host_only(q->host, host, sizeof(host));
	flags_text(q->flags | (r ? r->flags : 0), flags, sizeof(flags));

	bz_span_init(&s);
	s.span_id = p->span_id;
	s.parent_id = p->parent_id;
	s.trace = p->trace;
	s.incomplete = incomplete;
	s.name = name;
	s.method = lost ? NULL : known ? q->method : "_OTHER";
	s.url_path = lost ? NULL : path;
	s.url_query = rquery;
	s.route = lost ? NULL : route;
	s.protocol_version = q->proto == BZ_PROTO_HTTP2 ? "2" : q->version ? "1.1" : "1.0";
	s.user_agent = q->user_agent;
	if (unix_conn)
		add_attr(&s, "network.transport", "unix");
	/* A server may answer before reading the body (nginx's `return`): the
	 * span is written at the response's end, so trust the declared length
	 * when more was promised than read so far. */
	s.req_body = q->content_length > (int64_t)q->body_bytes ? q->content_length
								: (int64_t)q->body_bytes;
	s.service_name = p->service;
	s.pid = q->first.pid;
	s.tid = q->first.tid;
	s.conn_id = (int64_t)c->id;
	s.request_index = (int64_t)p->index;
	if (r) {
		/* (0: an HTTP/2 response whose header block could not be
		 * decoded: its status is unknown, not shown as a number) */
		s.status_code = r->status ? r->status : BZ_DB_NULL;
		s.resp_body = (int64_t)r->body_bytes;
	}
	if (!known && !lost && !dbcall)
		add_attr(&s, "http.request.method_original", q->method);
	if (grpc && !dbcall) {
		/* RPC semantic conventions as of v1.37.0 (rpc.system, rpc.service,
		 * rpc.method, rpc.grpc.status_code: docs/otlp.md) */
		add_attr(&s, "rpc.system", "grpc");
		add_attr(&s, "rpc.service", rpc_service);
		add_attr(&s, "rpc.method", rpc_method);
		if (gstatus >= 0) {
			snprintf(grpc_code, sizeof(grpc_code), "%d", gstatus);
			add_attr(&s, "rpc.grpc.status_code", grpc_code);
		}
		/* counts only when no prefix was lost (a lower bound would read
		 * as a fact) */
		if (q->grpc_counted) {
			snprintf(msgs_out, sizeof(msgs_out), "%u", q->grpc_messages);
			add_attr(&s, "beyla.grpc.request.messages", msgs_out);
			snprintf(bytes_out, sizeof(bytes_out), "%" PRIu64, q->grpc_bytes);
			add_attr(&s, "beyla.grpc.request.message_bytes", bytes_out);
		}
		if (r && r->grpc_counted) {
			snprintf(msgs_in, sizeof(msgs_in), "%u", r->grpc_messages);
			add_attr(&s, "beyla.grpc.response.messages", msgs_in);
			snprintf(bytes_in, sizeof(bytes_in), "%" PRIu64, r->grpc_bytes);
			add_attr(&s, "beyla.grpc.response.message_bytes", bytes_in);
		}
	}
	if (!dbcall) {
		add_attr(&s, "http.request.header.content-type", q->content_type);
		if (r)
			add_attr(&s, "http.response.header.content-type", r->content_type);
		add_attr(&s, "url.scheme", q->scheme[0] ? q->scheme : c->tls ? "https" : "http");
	}
	add_attr(&s, "beyla.framing", flags);
	if (incomplete)
		add_attr(&s, "beyla.incomplete_reason", reason);
	if (p->go_start && p->go_end >= p->go_start) {
		snprintf(handler_ns, sizeof(handler_ns), "%llu", (unsigned long long)(p->go_end - p->go_start));
		add_attr(&s, "beyla.go.handler_ns", handler_ns);
	}
	if (p->interim) {
		snprintf(interim, sizeof(interim), "%u", p->interim);
		add_attr(&s, "beyla.interim_responses", interim);
	}

	/* End: the last byte of the response, else the last byte seen; a
	 * server span on to when the peer's socket had that byte (kwait). */
	end = incomplete || !r ? u64max(q->last.ts_ns, r ? r->last.ts_ns : 0) : r->last.ts_ns;
	/* A server's response handed over inside its last write (a UNIX
	 * socket, loopback TCP): done then.  The write's return can be much
	 * later, when the client it woke ran first and read it. */
	if (p->server && !incomplete && r && r->last.delivered_ns && r->last.delivered_ns < end)
		end = r->last.delivered_ns;
	proc_end = end;
	if (p->server && p->tx_done_ns) {
		s.part_ns[BZ_PART_TX_QUEUE] = 0;
		if (p->tx_done_ns > end)
			end = p->tx_done_ns;
		sp->n.kw_tx_found++;
	} else if (p->server && p->tx_inline) {
		s.part_ns[BZ_PART_TX_QUEUE] = 0;
		sp->n.kw_tx_inline++;
	}

	if (p->server) {
		const struct bz_http_point *f = &q->first;
		uint64_t arrival = f->arrival_ns ? f->arrival_ns : f->ts_ns;
		uint64_t entered = f->start_ns ? f->start_ns : f->ts_ns;
		uint64_t host_in = kw_host_arrival(c, f->arrival_ns);
		int first_of_conn = c->role == BZ_ROLE_ACCEPTED && c->opened &&
				    c->established_ns && p->index == 0 && !(q->flags & BZ_HTTP_F_RESYNC);
		/* The first request may have waited in the accept queue since
		 * the handshake, unless its bytes provably arrived after the
		 * accept (the recorder only sees arrivals on accepted sockets,
		 * so arrival_ns is 0 when the bytes came before). */
		if (first_of_conn && f->arrival_ns && c->open_ts && f->arrival_ns >= c->open_ts)
			first_of_conn = 0;
		start = first_of_conn && c->established_ns < arrival ? c->established_ns : arrival;
		/* the request entered the host before its socket was told: it
		 * waited in the kernel's receive path (part of queue_ns) */
		if (host_in && !first_of_conn) {
			s.part_ns[BZ_PART_RX_BACKLOG] = 0;
			if (host_in < start) {
				s.part_ns[BZ_PART_RX_BACKLOG] = to_unix(sp, start) - to_unix(sp, host_in);
				start = host_in;
			}
			sp->n.kw_rx_found++;
		} else if (sp->kw_rx_min_ns && f->arrival_ns && !first_of_conn && c->family != BZ_AF_UNIX) {
			/* timestamps were on and the socket was told: a wait the
			 * recorder found too short to write */
			s.part_ns[BZ_PART_RX_BACKLOG] = 0;
			sp->n.kw_rx_short++;
		}
		if (end < start)
			end = start;
		if (proc_end < start)
			proc_end = start;
		if (proc_end > end)
			proc_end = end;
		proc_start = clamp(u64max(u64max(arrival, entered), p->prev_resp_end), start, proc_end);
		/* Go: processing is the handler's run */
		if (p->go_start)
			proc_start = clamp(p->go_start, start, proc_end);
		uint64_t accept_end = first_of_conn ? clamp(c->open_ts, start, proc_start) : start;
		/* Waiting in the receive queue began when the bytes arrived, or, when
		 * they came before the accept (arrival unknown), when it returned. */
		uint64_t recv_from = clamp(u64max(u64max(f->arrival_ns, accept_end), p->prev_resp_end),
					   start, proc_start);
		s.kind = BZ_SPAN_SERVER;
		/* differences of the Unix times, as stored: they then tile the span
		 * even where a hostile capture's times had to be clamped */
		s.queue_ns = to_unix(sp, proc_start) - to_unix(sp, start);
		s.processing_ns = to_unix(sp, proc_end) - to_unix(sp, proc_start);
		if (s.part_ns[BZ_PART_TX_QUEUE] != BZ_DB_NULL)
			s.part_ns[BZ_PART_TX_QUEUE] = to_unix(sp, end) - to_unix(sp, proc_end);
		s.accept_queue_ns = to_unix(sp, accept_end) - to_unix(sp, start);
		s.recv_queue_ns = to_unix(sp, proc_start) - to_unix(sp, recv_from);
		s.server_address = host[0] ? host : laddr;
		s.server_port = c->local_port ? c->local_port : BZ_DB_NULL;
		s.client_address = raddr;
		s.client_port = c->remote_port ? c->remote_port : BZ_DB_NULL;
		if (unix_conn) {
			/* OpenTelemetry: server.address is the socket's path; a
			 * client on a UNIX socket is rarely bound: no client.address */
			s.server_address = c->unix_path;
			s.client_address = NULL;
		}
		s.status = incomplete || !r->status ? BZ_STATUS_UNSET : r->status >= 500 ? BZ_STATUS_ERROR : BZ_STATUS_OK;
		if (!incomplete && grpc && gstatus >= 0)
			s.status = grpc_error(gstatus, 1) ? BZ_STATUS_ERROR : BZ_STATUS_OK;
		sp->n.server++;
	} else {
		/* the request's first write began (--syscall-start), else the
		 * server's socket had its bytes (inside that write), else the
		 * write returned */
		start = q->first.start_ns     ? q->first.start_ns
			: q->first.delivered_ns ? q->first.delivered_ns
						: q->first.ts_ns;
		if (end < start)
			end = start;
		if (c->role == BZ_ROLE_CONNECTED && c->opened && p->index == 0 &&
		    c->syscall_start_ns && c->established_ns >= c->syscall_start_ns)
			s.connect_ns = (int64_t)(c->established_ns - c->syscall_start_ns);
		s.kind = BZ_SPAN_CLIENT;
		s.server_address = unix_conn ? c->unix_path : host[0] ? host : raddr;
		s.server_port = c->remote_port ? c->remote_port : BZ_DB_NULL;
		add_attr(&s, "network.peer.address", unix_conn ? c->unix_path : raddr);
		if (c->remote_port) {
			snprintf(peer_port, sizeof(peer_port), "%u", c->remote_port);
			add_attr(&s, "network.peer.port", peer_port);
		}
		s.status = incomplete || !r->status ? BZ_STATUS_UNSET : r->status >= 400 ? BZ_STATUS_ERROR : BZ_STATUS_OK;
		if (!incomplete && grpc && gstatus >= 0)
			s.status = grpc_error(gstatus, 0) ? BZ_STATUS_ERROR : BZ_STATUS_OK;
		sp->n.client++;
	}
	if (dbcall) {
		/* a database call: its name, attributes and status (span_db.h) */
		bz_span_db_describe(&s, q, r, incomplete, &dbt);
	} else if (s.status == BZ_STATUS_ERROR) {
		/* error.type: the gRPC status's name, else the HTTP status code */
		if (grpc && gstatus >= 0)
			add_attr(&s, "error.type", gstatus < (int)(sizeof(grpc_codes) / sizeof(grpc_codes[0]))
							   ? grpc_codes[gstatus] : grpc_code);
		else {
			snprintf(err_type, sizeof(err_type), "%u", r->status);
			add_attr(&s, "error.type", err_type);
		}
	}
	s.start_ns = to_unix(sp, start);
	s.end_ns = to_unix(sp, end);
	sp->n.incomplete += !!incomplete;
	/* --sched: on CPU / run queue / blocked, from the final times.  Not
	 * for a Go handler's run: its goroutine moves between threads, whose
	 * states are then not the request's (left unknown, counted). */
	if (p->server && sp->sched && r && p->go_start)
		sp->sched->n.spans_go++;
	else if (p->server && sp->sched && r) {
		struct bz_sched_span_in si = { .pid = q->first.pid, .reader_tid = q->last.tid,
					       .writer_tid = r->first.tid, .write_ts = r->first.ts_ns,
					       .mono_to_unix = sp->mono_to_unix };
		bz_sched_span(sp->sched, &s, &si);
		if (!incomplete && bz_sched_response_done(sp->sched, r->last.pid, r->last.tid, r->last.ts_ns) &&
		    !sp->err)
			sp->err = -ENOMEM;
	}
	/* A server span's children, "in queue" [start, proc_start),
	 * "processing" [proc_start, proc_end) and, when the response waited
	 * in the kernel, "in send queue" [proc_end, end), are derived from its
	 * start_ns, queue_ns and tx_queue_ns by the database's view (ids:
	 * span_id | 1, | 2, | 3). */
	write_span(sp, &s);
	if (p->server && !p->peer_linked)
		note_unlinked(sp, c, p, start, end);
	if (p->server)
		sp->n.internal += 2 + (s.part_ns[BZ_PART_TX_QUEUE] != BZ_DB_NULL && s.part_ns[BZ_PART_TX_QUEUE] > 0);
}

/* Writes p's span(s) and frees it. */
static void release_pending(struct bz_spanner *sp, struct bz_conn *c, struct bz_pending *p,
			    int incomplete, const char *reason)
{
	emit(sp, c, p, incomplete, reason);
	unlink_pending(c, p);
	free(p);
}

/* A held server span whose delivery no PEER_RX reported by the client's
 * next request, or the connection's end: the recorder writes none for a
 * delivery inside the server's own write, so it was delivered by then
 * (tx_queue_ns 0). */
static void release_undelivered(struct bz_spanner *sp, struct bz_conn *c, struct bz_pending *p)
{
	p->tx_inline = 1;
	release_pending(sp, c, p, 0, NULL);
}

/* Held server spans per connection, at most: an HTTP/2 connection holds
 * one per stream answered since the last PEER_RX (its deliveries inside
 * the server's writes are not written); past this the oldest is written
 * with tx_queue_ns unknown, so memory stays bounded. */
#define BZ_KW_HELD_MAX 64
/* ... and for this long at most: a delivery that was not inside the write
 * is reported within milliseconds (Nagle's hold is the client's ~40 ms
 * delayed ACK); an HTTP/2 connection has no "next request" that would say
 * the client had its response. */
#define BZ_KW_HOLD_NS 1000000000ull

/* The spans held on c whose response ended before now - BZ_KW_HOLD_NS. */
static void release_stale(struct bz_spanner *sp, struct bz_conn *c, uint64_t now)
{
	for (struct bz_pending *o = c->head, *next; o; o = next) {
		next = o->next;
		if (o->held && o->resp.last.ts_ns + BZ_KW_HOLD_NS < now)
			release_undelivered(sp, c, o);
	}
}

static void close_pending(struct bz_spanner *sp, struct bz_conn *c, struct bz_pending *p,
			  int incomplete, const char *reason)
{
	uint64_t end;

	/* One request after another (HTTP/1): the process could not work on
	 * this one before it answered the last.  Streams of a multiplexed
	 * connection (HTTP/2) overlap: no such bound. */
	p->prev_resp_end = c->proto && c->proto->multiplexed ? 0 : c->last_resp_end;
	if (p->has_resp && !incomplete) {
		end = p->resp.last.ts_ns;
		if (end > c->last_resp_end)
			c->last_resp_end = end;
	}
	if (p->server)
		thread_unregister(sp, c, p);
	/* A complete response to a peer on this host: its span ends when the
	 * peer's socket had its last byte (kwait), which may be now, in the
	 * ring, or later: then the pending waits, done with on its thread. */
	if (p->server && c->kw_peer && p->has_resp && !incomplete) {
		unsigned held = 0;
		release_stale(sp, c, p->resp.last.ts_ns);
		p->tx_bytes = c->data_out;
		p->tx_done_ns = kw_delivered(c, p->tx_bytes);
		if (!p->tx_done_ns) {
			struct bz_pending *oldest = NULL;
			for (struct bz_pending *o = c->head; o; o = o->next)
				if (o->held) {
					held++;
					oldest = oldest ? oldest : o;
				}
			if (held >= BZ_KW_HELD_MAX && oldest) {
				sp->n.kw_tx_unknown++;
				release_pending(sp, c, oldest, 0, NULL);
			}
			p->held = 1;
			return;
		}
	}
	release_pending(sp, c, p, incomplete, reason);
}

void bz_spanner_peer_rx(struct bz_spanner *sp, struct bz_conn *c, uint64_t bytes, uint64_t ts)
{
	struct bz_pending *p, *next;

	c->kw_tx[c->kw_tx_n % BZ_KW_RING] = (struct bz_kw_tx){ .bytes = bytes, .ts_ns = ts };
	c->kw_tx_n++;
	for (p = c->head; p; p = next) {
		next = p->next;
		if (p->held && p->tx_bytes <= bytes) {
			p->tx_done_ns = ts;
			release_pending(sp, c, p, 0, NULL);
		}
	}
}

void bz_spanner_msg(struct bz_spanner *sp, struct bz_conn *c, enum bz_http_event ev,
		    const struct bz_http_msg *m)
{
	struct bz_pending *p;

	if (m->is_request) {
		if (ev == BZ_HTTP_HEAD) {
			open_request(sp, c, m);
		} else if ((p = find_pending(c, m->index))) {
			p->req = *m;
			p->req_done = 1;
		}
		return;
	}
	if (m->flags & BZ_HTTP_F_INTERIM) {
		if (ev == BZ_HTTP_HEAD) {
			sp->n.interim++;
			if ((p = find_pending(c, m->index)))
				p->interim++;
		}
		return;
	}
	p = m->index == BZ_HTTP_NO_INDEX ? NULL : find_pending(c, m->index);
	if (!p) {
		if (ev == BZ_HTTP_HEAD)
			sp->n.orphan_responses++;
		return;
	}
	p->resp = *m;
	p->has_resp = 1;
	if (ev == BZ_HTTP_END) {
		c->responses++;
		if (m->flags & BZ_HTTP_F_INCOMPLETE)
			close_pending(sp, c, p, 1, "response did not end");
		else
			close_pending(sp, c, p, 0, NULL);
	}
}

void bz_spanner_conn_end(struct bz_spanner *sp, struct bz_conn *c, int closed)
{
	while (c->head) {
		if (c->head->held)
			release_undelivered(sp, c, c->head);
		else
			close_pending(sp, c, c->head, 1,
				      closed ? "connection closed without a response" : "capture ended");
	}
}
