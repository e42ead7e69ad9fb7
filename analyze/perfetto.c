/* perfetto.c - writes a finished analysis database as Chrome trace-event
 * JSON (see perfetto.h, docs/perfetto.md).
 *
 * One pass over span_rows in start order, each row written as it is read:
 * memory holds the threads' lanes, the server span now on each lane (for
 * nesting client spans), and the client -> server links of which only one
 * end has been read (for flows), never the spans.  Columns are found by
 * name, as the OTLP export does, so new columns do not break it.
 */
#include "perfetto.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_writer.h"
#include "perfetto_lanes.h"
#include "db.h"
#include "u64map.h"

#ifndef BEYLA_VERSION
#define BEYLA_VERSION "unknown"
#endif

/* Tracks beyond a thread's first get tids from here up: PID_MAX_LIMIT, so
 * no real tid is ever one of them. */
#define LANE_TID_BASE 4194304u
#define NO_TID 0xffffffffu

struct thread;

struct lane { /* one thread track of the JSON */
	struct thread *th;
	uint32_t number; /* 0: the thread's own track */
	uint32_t tid;    /* its "tid" in the JSON */
	int has_server;  /* a server span is the last top slice here */
	uint64_t server_id;
	int64_t proc_start, end, last_child_end; /* its "processing", its end, its last nested client's end */
};

struct thread {
	int64_t pid;
	uint32_t tid; /* NO_TID: unknown */
	uint32_t ordinal; /* in its process, in order of appearance */
	struct bz_lanes lanes;
	struct lane **lane;
	uint32_t nlane, cap;
};

struct process {
	int64_t pid;
	uint32_t nthreads;
	char *comm;
};

struct waiting_server { /* a flow's end, read before its start */
	int64_t pid, ts;
	uint32_t tid;
	uint64_t server_id;
};

struct link { /* a client span that server spans of the capture answered */
	int have_client;
	int64_t pid, ts;
	uint32_t tid;
	int64_t remaining; /* server spans still to link to it */
	struct waiting_server *wait;
	size_t nwait;
};

struct exporter {
	sqlite3 *db;
	struct bz_jw *w;
	char *err;
	size_t errlen;
	int64_t origin; /* Unix ns of ts 0 */
	struct bz_u64map procs, threads, servers, links;
	sqlite3_stmt *proc_stmt, *attr_stmt;
	uint32_t next_tid;
	uint64_t next_flow;
	uint64_t nevents;
	struct bz_perfetto_stats st;
};

/* ---- the columns read, by name --------------------------------------------------- */

enum {
	C_SPAN_ID, C_TRACE_ID, C_PARENT_ID, C_KIND, C_NAME, C_START, C_END, C_QUEUE, C_PID, C_TID, C_SERVICE,
	C_PARENT_KIND, C_SERVER_CHILDREN, C_TX_QUEUE, C_NCOLS
};
/* (tx_queue_ns: schema 8; an older database has none, read as 0) */
static const char *const core_cols[C_NCOLS] = {
	"span_id", "trace_id", "parent_id", "kind", "name", "start_ns", "end_ns", "queue_ns", "pid", "tid",
	"service_name", "bz_parent_kind", "bz_server_children", "tx_queue_ns",
};

/* The args of a span's slice: columns of span_rows under their
 * OpenTelemetry names (or the schema's, for beyla's own numbers). */
static const struct {
	const char *col, *key;
} arg_cols[] = {
	{ "status", "status" },
	{ "incomplete", "incomplete" },
	{ "duration_ns", "duration_ns" },
	{ "queue_ns", "queue_ns" },
	{ "accept_queue_ns", "accept_queue_ns" },
	{ "recv_queue_ns", "recv_queue_ns" },
	{ "processing_ns", "processing_ns" },
	{ "connect_ns", "connect_ns" },
	{ "rx_backlog_ns", "rx_backlog_ns" },
	{ "tx_queue_ns", "tx_queue_ns" },
	{ "on_cpu_ns", "on_cpu_ns" },   /* --sched */
	{ "runq_ns", "runq_ns" },
	{ "blocked_ns", "blocked_ns" },
	{ "http_method", "http.request.method" },
	{ "http_route", "http.route" },
	{ "http_status_code", "http.response.status_code" },
	{ "url_path", "url.path" },
	{ "url_query", "url.query" },
	{ "url_scheme", "url.scheme" },
	{ "server_address", "server.address" },
	{ "server_port", "server.port" },
	{ "client_address", "client.address" },
	{ "client_port", "client.port" },
	{ "peer_address", "network.peer.address" },
	{ "peer_port", "network.peer.port" },
	{ "protocol_version", "network.protocol.version" },
	{ "user_agent", "user_agent.original" },
	{ "request_body_size", "http.request.body.size" },
	{ "response_body_size", "http.response.body.size" },
	{ "request_content_type", "http.request.header.content-type" },
	{ "response_content_type", "http.response.header.content-type" },
	{ "error_type", "error.type" },
	{ "service_name", "service.name" },
	{ "pid", "process.pid" },
	{ "tid", "thread.id" },
	{ "conn_id", "conn_id" },
	{ "request_index", "request_index" },
};
#define N_ARG_COLS (sizeof(arg_cols) / sizeof(arg_cols[0]))

/* Spans in start order, a server span before a client span starting with
 * it (a client can only nest in a server slice already written); with each
 * the kind of its parent and how many server spans have it as parent (the
 * two ends of a flow), both found through indexes. */
#define SPANS_SQL                                                                                   \
	"SELECT s.*,"                                                                               \
	" (SELECT p.kind FROM span_rows p WHERE p.span_id = s.parent_id) AS bz_parent_kind,"        \
	" (SELECT count(*) FROM span_rows c WHERE c.parent_id = s.span_id AND c.kind = 'server')"   \
	" AS bz_server_children"                                                                    \
	" FROM span_rows s ORDER BY s.start_ns, s.kind DESC, s.span_id"

static int fail(struct exporter *x, const char *what)
{
	snprintf(x->err, x->errlen, "Perfetto export: reading the database (%s): %s", what, sqlite3_errmsg(x->db));
	return -1;
}

static int oom(struct exporter *x)
{
	snprintf(x->err, x->errlen, "Perfetto export: out of memory");
	return -1;
}

static int is_null(sqlite3_stmt *s, int i)
{
	return i < 0 || sqlite3_column_type(s, i) == SQLITE_NULL;
}

static int64_t col_i64(sqlite3_stmt *s, int i, int64_t dflt)
{
	return is_null(s, i) ? dflt : sqlite3_column_int64(s, i);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return is_null(s, i) ? NULL : (const char *)sqlite3_column_text(s, i);
}

/* ---- JSON pieces ------------------------------------------------------------------- */

static void hex_id(struct bz_jw *w, uint64_t v)
{
	char t[19];
	snprintf(t, sizeof(t), "\"%016" PRIx64 "\"", v);
	bz_jw_raw(w, t, 18);
}

static void hex_blob(struct bz_jw *w, const unsigned char *p, int n)
{
	static const char hx[] = "0123456789abcdef";
	bz_jw_char(w, '"');
	for (int i = 0; i < n; i++) {
		bz_jw_char(w, hx[p[i] >> 4]);
		bz_jw_char(w, hx[p[i] & 15]);
	}
	bz_jw_char(w, '"');
}

/* Starts an event: {"ph":"P","pid":..,"tid":..[,"ts":..] -- the caller
 * adds its fields and the closing brace. */
static void event(struct exporter *x, const char *ph, int64_t pid, uint32_t tid, int64_t ts_ns, int with_ts)
{
	struct bz_jw *w = x->w;
	bz_jw_lit(w, x->nevents++ ? ",\n{\"ph\":\"" : "\n{\"ph\":\"");
	bz_jw_lit(w, ph);
	bz_jw_lit(w, "\",\"pid\":");
	bz_jw_i64(w, pid);
	bz_jw_lit(w, ",\"tid\":");
	bz_jw_i64(w, tid);
	if (with_ts) {
		bz_jw_lit(w, ",\"ts\":");
		bz_jw_us(w, ts_ns - x->origin);
	}
}

static void key(struct bz_jw *w, const char *k, int first)
{
	if (!first)
		bz_jw_char(w, ',');
	bz_jw_cstr(w, k);
	bz_jw_char(w, ':');
}

/* A metadata event: {"ph":"M","name":NAME,"args":{"name"|"sort_index"|"labels":..}} */
static void meta_str(struct exporter *x, const char *name, int64_t pid, uint32_t tid, const char *argk,
		     const char *v)
{
	event(x, "M", pid, tid, 0, 0);
	bz_jw_lit(x->w, ",\"name\":");
	bz_jw_cstr(x->w, name);
	bz_jw_lit(x->w, ",\"args\":{");
	key(x->w, argk, 1);
	bz_jw_cstr(x->w, v);
	bz_jw_lit(x->w, "}}");
}

static void meta_int(struct exporter *x, const char *name, int64_t pid, uint32_t tid, int64_t v)
{
	event(x, "M", pid, tid, 0, 0);
	bz_jw_lit(x->w, ",\"name\":");
	bz_jw_cstr(x->w, name);
	bz_jw_lit(x->w, ",\"args\":{\"sort_index\":");
	bz_jw_i64(x->w, v);
	bz_jw_lit(x->w, "}}");
}

/* A text that is a plain decimal integer (no sign, no leading zero) is
 * written as a number: the attributes table stores every value as text. */
static int plain_int(const char *v, size_t n)
{
	if (!n || n > 18 || (v[0] == '0' && n > 1))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	return 1;
}

static void value(struct bz_jw *w, sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		bz_jw_i64(w, sqlite3_column_int64(s, i));
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(s, i);
		char t[32];
		if (isfinite(d)) {
			snprintf(t, sizeof(t), "%.17g", d);
			bz_jw_lit(w, t);
		} else {
			bz_jw_lit(w, "null");
		}
		break;
	}
	case SQLITE_BLOB:
		hex_blob(w, sqlite3_column_blob(s, i), sqlite3_column_bytes(s, i));
		break;
	default: {
		const char *t = (const char *)sqlite3_column_text(s, i);
		bz_jw_str(w, t, (size_t)sqlite3_column_bytes(s, i));
	}
	}
}

/* ---- processes, threads, lanes ----------------------------------------------------- */

static struct process *process_for(struct exporter *x, int64_t pid, const char *service)
{
	struct process *p = bz_u64map_get(&x->procs, (uint64_t)pid);
	const char *exe = NULL, *comm = NULL, *psvc = NULL;
	char name[512];

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p || bz_u64map_put(&x->procs, (uint64_t)pid, p)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	if (x->proc_stmt) {
		sqlite3_reset(x->proc_stmt);
		sqlite3_bind_int64(x->proc_stmt, 1, pid);
		if (sqlite3_step(x->proc_stmt) == SQLITE_ROW) {
			exe = col_text(x->proc_stmt, 0);
			comm = col_text(x->proc_stmt, 1);
			psvc = col_text(x->proc_stmt, 2);
		}
	}
	if (comm)
		p->comm = strdup(comm);
	/* the name Perfetto shows ("NAME PID"): the service, and the command
	 * when the service name is not simply the command's */
	const char *svc = service && *service ? service : psvc && *psvc ? psvc : comm ? comm : "unknown";
	if (comm && strcmp(comm, svc))
		snprintf(name, sizeof(name), "%s (%s)", svc, comm);
	else
		snprintf(name, sizeof(name), "%s", svc);
	meta_str(x, "process_name", pid, (uint32_t)pid, "name", name);
	if (exe)
		meta_str(x, "process_labels", pid, (uint32_t)pid, "labels", exe);
	meta_int(x, "process_sort_index", pid, (uint32_t)pid, (int64_t)x->st.processes);
	if (x->proc_stmt)
		sqlite3_reset(x->proc_stmt);
	x->st.processes++;
	return p;
}

static struct thread *thread_for(struct exporter *x, int64_t pid, uint32_t tid, const char *service)
{
	uint64_t k = (uint64_t)pid << 32 | tid;
	struct thread *t = bz_u64map_get(&x->threads, k);

	if (t)
		return t;
	struct process *p = process_for(x, pid, service);
	if (!p)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t || bz_u64map_put(&x->threads, k, t)) {
		free(t);
		return NULL;
	}
	t->pid = pid;
	t->tid = tid;
	t->ordinal = p->nthreads++;
	x->st.threads++;
	return t;
}

static struct lane *lane_new(struct exporter *x, struct thread *t, const char *comm)
{
	struct lane *l = calloc(1, sizeof(*l));
	char name[256];

	if (!l)
		return NULL;
	if (t->nlane == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 2;
		struct lane **a = realloc(t->lane, cap * sizeof(*a));
		if (!a) {
			free(l);
			return NULL;
		}
		t->lane = a;
		t->cap = cap;
	}
	l->th = t;
	l->number = t->nlane;
	t->lane[t->nlane++] = l;
	/* the thread's own tid for its first track; the tracks for requests
	 * in flight at once are threads of their own in the JSON */
	l->tid = l->number == 0 && t->tid != NO_TID && t->tid > 0 && t->tid < LANE_TID_BASE ? t->tid : x->next_tid++;
	if (!comm)
		comm = "thread";
	if (t->tid == NO_TID)
		snprintf(name, sizeof(name), "unknown thread");
	else if (l->tid == t->tid)
		snprintf(name, sizeof(name), "%s", comm);
	else
		snprintf(name, sizeof(name), "%s %" PRIu32, comm, t->tid);
	if (l->number) {
		size_t n = strlen(name);
		snprintf(name + n, sizeof(name) - n, ", concurrent %" PRIu32, l->number);
	}
	meta_str(x, "thread_name", t->pid, l->tid, "name", name);
	/* a thread's lanes together, in order, under it */
	meta_int(x, "thread_sort_index", t->pid, l->tid, (int64_t)t->ordinal * 4096 + (l->number < 4095 ? l->number : 4095));
	if (l->number)
		x->st.lanes++;
	return l;
}

/* A lane of thread (pid, tid) free at start, for a top-level slice
 * [start, end): the server span it held is no longer a parent to nest in. */
static struct lane *lane_at(struct exporter *x, int64_t pid, uint32_t tid, const char *service, int64_t start,
			    int64_t end)
{
	struct thread *t = thread_for(x, pid, tid, service);
	uint32_t k;
	int made;

	if (!t || bz_lanes_take(&t->lanes, start, end, &k, &made))
		return NULL;
	if (made) {
		struct process *p = bz_u64map_get(&x->procs, (uint64_t)pid);
		if (!lane_new(x, t, p ? p->comm : NULL))
			return NULL;
	}
	struct lane *l = t->lane[k];
	if (l->has_server && bz_u64map_get(&x->servers, l->server_id) == l)
		bz_u64map_del(&x->servers, l->server_id);
	l->has_server = 0;
	return l;
}

/* ---- flows --------------------------------------------------------------------------- */

static void flow(struct exporter *x, int64_t spid, uint32_t stid, int64_t sts, int64_t fpid, uint32_t ftid,
		 int64_t fts, uint64_t from, uint64_t to)
{
	uint64_t id = ++x->next_flow;
	for (int end = 0; end < 2; end++) {
		event(x, end ? "f" : "s", end ? fpid : spid, end ? ftid : stid, end ? fts : sts, 1);
		bz_jw_lit(x->w, end ? ",\"bp\":\"e\",\"cat\":\"call\",\"name\":\"call\",\"id\":"
				    : ",\"cat\":\"call\",\"name\":\"call\",\"id\":");
		bz_jw_i64(x->w, (int64_t)id);
		bz_jw_lit(x->w, ",\"args\":{\"from\":");
		hex_id(x->w, from);
		bz_jw_lit(x->w, ",\"to\":");
		hex_id(x->w, to);
		bz_jw_lit(x->w, "}}");
	}
	x->st.flows++;
}

static void link_free(struct link *k)
{
	free(k->wait);
	free(k);
}

/* The client end of flows: client span id, where its slice is. */
static int link_client(struct exporter *x, uint64_t id, int64_t pid, uint32_t tid, int64_t ts, int64_t servers)
{
	struct link *k = bz_u64map_get(&x->links, id);

	if (!k) {
		if (!(k = calloc(1, sizeof(*k))) || bz_u64map_put(&x->links, id, k)) {
			free(k);
			return oom(x);
		}
		k->remaining = servers;
	}
	k->have_client = 1;
	k->pid = pid, k->tid = tid, k->ts = ts;
	for (size_t i = 0; i < k->nwait; i++, k->remaining--)
		flow(x, pid, tid, ts, k->wait[i].pid, k->wait[i].tid, k->wait[i].ts, id, k->wait[i].server_id);
	k->nwait = 0;
	if (k->remaining <= 0)
		link_free(bz_u64map_del(&x->links, id));
	return 0;
}

/* The server end: a server span whose parent is the client span id. */
static int link_server(struct exporter *x, uint64_t id, int64_t pid, uint32_t tid, int64_t ts, uint64_t server_id)
{
	struct link *k = bz_u64map_get(&x->links, id);

	if (k && k->have_client) {
		flow(x, k->pid, k->tid, k->ts, pid, tid, ts, id, server_id);
		if (--k->remaining <= 0)
			link_free(bz_u64map_del(&x->links, id));
		return 0;
	}
	if (!k) {
		if (!(k = calloc(1, sizeof(*k))) || bz_u64map_put(&x->links, id, k)) {
			free(k);
			return oom(x);
		}
		k->remaining = 1; /* until the client's row says how many */
	}
	struct waiting_server *a = realloc(k->wait, (k->nwait + 1) * sizeof(*a));
	if (!a)
		return oom(x);
	k->wait = a;
	a[k->nwait++] = (struct waiting_server){ pid, ts, tid, server_id };
	return 0;
}

/* ---- slices ----------------------------------------------------------------------------- */

struct row {
	uint64_t span_id, parent_id;
	int has_parent, server;
	int64_t start, end, queue, pid;
	uint32_t tid;
	const char *name, *service;
};

static void slice_head(struct exporter *x, const struct lane *l, const char *cat, const char *name,
		       int64_t start, int64_t dur)
{
	event(x, "X", l->th->pid, l->tid, start, 1);
	bz_jw_lit(x->w, ",\"dur\":");
	bz_jw_us(x->w, dur);
	bz_jw_lit(x->w, ",\"cat\":\"");
	bz_jw_lit(x->w, cat);
	bz_jw_lit(x->w, "\",\"name\":");
	bz_jw_cstr(x->w, name);
	x->st.slices++;
}

/* Whether key k was written from a column of this row (or is one of the
 * fixed args). */
static int written_col(const int *acol, sqlite3_stmt *s, const char *k)
{
	static const char *const fixed[] = { "name", "kind", "span_id", "trace_id", "parent_id" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(k, fixed[i]))
			return 1;
	for (size_t c = 0; c < N_ARG_COLS; c++)
		if (!is_null(s, acol[c]) && !strcmp(k, arg_cols[c].key))
			return 1;
	return 0;
}

/* The slice of a span as stored, with every attribute it has in args. */
static void span_slice(struct exporter *x, sqlite3_stmt *s, const int *col, const int *acol, const struct row *r,
		       const struct lane *l)
{
	struct bz_jw *w = x->w;

	slice_head(x, l, r->server ? "server" : "client", r->name, r->start, r->end - r->start);
	bz_jw_lit(w, ",\"args\":{\"name\":");
	bz_jw_cstr(w, r->name);
	bz_jw_lit(w, r->server ? ",\"kind\":\"server\",\"span_id\":" : ",\"kind\":\"client\",\"span_id\":");
	hex_id(w, r->span_id);
	if (!is_null(s, col[C_TRACE_ID])) {
		bz_jw_lit(w, ",\"trace_id\":");
		if (sqlite3_column_type(s, col[C_TRACE_ID]) == SQLITE_BLOB)
			hex_blob(w, sqlite3_column_blob(s, col[C_TRACE_ID]), sqlite3_column_bytes(s, col[C_TRACE_ID]));
		else
			value(w, s, col[C_TRACE_ID]);
	}
	if (r->has_parent) {
		bz_jw_lit(w, ",\"parent_id\":");
		hex_id(w, r->parent_id);
	}
	for (size_t c = 0; c < N_ARG_COLS; c++) {
		if (is_null(s, acol[c]))
			continue;
		key(w, arg_cols[c].key, 0);
		value(w, s, acol[c]);
	}
	/* the rarer attributes (gRPC, database, beyla.*): rows of their own,
	 * sorted by key (the index), so a repeated key follows itself; a key
	 * that is also a column's is left out (JSON names are unique) */
	if (x->attr_stmt) {
		char prev[128] = "";
		sqlite3_reset(x->attr_stmt);
		sqlite3_bind_int64(x->attr_stmt, 1, (int64_t)r->span_id);
		while (sqlite3_step(x->attr_stmt) == SQLITE_ROW) {
			const char *k = col_text(x->attr_stmt, 0), *v = col_text(x->attr_stmt, 1);
			if (!k || !v || !strcmp(k, prev) || written_col(acol, s, k))
				continue;
			snprintf(prev, sizeof(prev), "%s", k);
			key(w, k, 0);
			size_t n = (size_t)sqlite3_column_bytes(x->attr_stmt, 1);
			if (plain_int(v, n))
				bz_jw_raw(w, v, n);
			else
				bz_jw_str(w, v, n);
		}
		sqlite3_reset(x->attr_stmt);
	}
	bz_jw_lit(w, "}}");
}

/* "in queue", "processing" and, when the response waited in the kernel
 * after the last write (tx > 0), "in send queue": the children that tile a
 * server span, as the view `spans` has them. */
static void child_slices(struct exporter *x, const struct row *r, const struct lane *l, int64_t q, int64_t tx)
{
	static const char *const names[3] = { "in queue", "processing", "in send queue" };
	struct bz_jw *w = x->w;
	int64_t dur = r->end - r->start;

	for (int k = 0; k < (tx > 0 ? 3 : 2); k++) {
		int64_t st = k == 0 ? r->start : k == 1 ? r->start + q : r->end - tx;
		int64_t d = k == 0 ? q : k == 1 ? dur - q - tx : tx;
		slice_head(x, l, "internal", names[k], st, d);
		bz_jw_lit(w, ",\"args\":{\"name\":");
		bz_jw_str(w, names[k], strlen(names[k]));
		bz_jw_lit(w, ",\"kind\":\"internal\",\"span_id\":");
		hex_id(w, r->span_id | (uint64_t)(k + 1));
		bz_jw_lit(w, ",\"parent_id\":");
		hex_id(w, r->span_id);
		bz_jw_lit(w, ",\"duration_ns\":");
		bz_jw_i64(w, d);
		bz_jw_lit(w, "}}");
	}
}

static int one_span(struct exporter *x, sqlite3_stmt *s, const int *col, const int *acol)
{
	struct row r = { 0 };
	const char *pk = col_text(s, col[C_PARENT_KIND]);
	int64_t tid = col_i64(s, col[C_TID], -1);
	struct lane *l = NULL;

	r.span_id = (uint64_t)sqlite3_column_int64(s, col[C_SPAN_ID]);
	r.has_parent = !is_null(s, col[C_PARENT_ID]);
	r.parent_id = (uint64_t)col_i64(s, col[C_PARENT_ID], 0);
	const char *kind = col_text(s, col[C_KIND]);
	r.server = kind && !strcmp(kind, "server");
	r.name = col_text(s, col[C_NAME]);
	if (!r.name)
		r.name = "";
	r.service = col_text(s, col[C_SERVICE]);
	r.start = col_i64(s, col[C_START], x->origin);
	r.end = col_i64(s, col[C_END], r.start);
	if (r.end < r.start) /* damaged capture: a point, not a negative duration */
		r.end = r.start;
	r.pid = col_i64(s, col[C_PID], 0);
	r.tid = tid > 0 && tid < NO_TID ? (uint32_t)tid : NO_TID;

	if (r.server) {
		int64_t q = col_i64(s, col[C_QUEUE], 0), tx = col_i64(s, col[C_TX_QUEUE], 0);
		if (q < 0)
			q = 0;
		if (q > r.end - r.start)
			q = r.end - r.start;
		if (tx < 0 || tx > r.end - r.start - q)
			tx = 0;
		if (!(l = lane_at(x, r.pid, r.tid, r.service, r.start, r.end)))
			return oom(x);
		span_slice(x, s, col, acol, &r, l);
		child_slices(x, &r, l, q, tx);
		l->has_server = 1;
		l->server_id = r.span_id;
		l->proc_start = r.start + q;
		l->end = r.end;
		l->last_child_end = l->proc_start;
		if (bz_u64map_put(&x->servers, r.span_id, l))
			return oom(x);
		x->st.server_spans++;
		/* a flow ends inside it: in "in queue" when that has a middle, else in "processing" */
		if (pk && !strcmp(pk, "client") && r.has_parent) {
			int64_t ts = q >= 2 ? r.start + q / 2 : r.start + q + (r.end - r.start - q) / 2;
			if (link_server(x, r.parent_id, l->th->pid, l->tid, ts, r.span_id))
				return -1;
		}
		return 0;
	}
	/* a client span: inside its server span's "processing" when it fits
	 * there after the calls nested before it, else on its own thread */
	struct lane *p = r.has_parent ? bz_u64map_get(&x->servers, r.parent_id) : NULL;
	/* (a slice that starts where its parent ends is not inside it for a
	 * viewer, which closes a slice at its end before opening the next) */
	if (p && p->has_server && p->server_id == r.parent_id && p->th->pid == r.pid && r.start >= p->proc_start &&
	    r.start >= p->last_child_end && r.end <= p->end && r.start < p->end) {
		l = p;
		l->last_child_end = r.end;
		x->st.nested_clients++;
	} else if (!(l = lane_at(x, r.pid, r.tid, r.service, r.start, r.end))) {
		return oom(x);
	}
	span_slice(x, s, col, acol, &r, l);
	x->st.client_spans++;
	int64_t servers = col_i64(s, col[C_SERVER_CHILDREN], 0);
	if (servers > 0 && link_client(x, r.span_id, l->th->pid, l->tid, r.start + (r.end - r.start) / 2, servers))
		return -1;
	return 0;
}

/* ---- the export ----------------------------------------------------------------------------- */

static int64_t query_i64(sqlite3 *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *s;
	int64_t v = dflt;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(s) == SQLITE_ROW && !is_null(s, 0))
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void other_data(struct exporter *x)
{
	struct bz_jw *w = x->w;
	sqlite3_stmt *s;
	char t[32];

	bz_jw_lit(w, "\"otherData\":{\"generator\":\"beyla analyze --perfetto\",\"beyla_version\":");
	bz_jw_cstr(w, BEYLA_VERSION);
	/* as text: a Unix time in ns is beyond a double's exact integers */
	snprintf(t, sizeof(t), "%" PRId64, x->origin);
	bz_jw_lit(w, ",\"ts_origin_unix_ns\":");
	bz_jw_cstr(w, t);
	if (sqlite3_prepare_v2(x->db, "SELECT source, hostname FROM capture LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW) {
			if (col_text(s, 0)) {
				bz_jw_lit(w, ",\"capture\":");
				bz_jw_cstr(w, col_text(s, 0));
			}
			if (col_text(s, 1)) {
				bz_jw_lit(w, ",\"hostname\":");
				bz_jw_cstr(w, col_text(s, 1));
			}
		}
		sqlite3_finalize(s);
	}
	bz_jw_char(w, '}');
}

static int write_spans(struct exporter *x)
{
	sqlite3_stmt *s = NULL;
	int col[C_NCOLS], acol[N_ARG_COLS], rc = 0, step;

	if (sqlite3_prepare_v2(x->db, SPANS_SQL, -1, &s, NULL) != SQLITE_OK)
		return fail(x, "span_rows");
	for (int c = 0; c < C_NCOLS; c++)
		col[c] = bz_db_column(s, core_cols[c]);
	for (size_t c = 0; c < N_ARG_COLS; c++)
		acol[c] = bz_db_column(s, arg_cols[c].col);
	if (col[C_SPAN_ID] < 0 || col[C_KIND] < 0 || col[C_START] < 0) {
		sqlite3_finalize(s);
		snprintf(x->err, x->errlen, "Perfetto export: span_rows has no span_id, kind or start_ns");
		return -1;
	}
	while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = one_span(x, s, col, acol);
	if (!rc && step != SQLITE_DONE)
		rc = fail(x, "span_rows");
	sqlite3_finalize(s);
	return rc;
}

static void free_all(struct exporter *x)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&x->threads, &pos, &k, &v)) {
		struct thread *t = v;
		for (uint32_t i = 0; i < t->nlane; i++)
			free(t->lane[i]);
		free(t->lane);
		bz_lanes_free(&t->lanes);
		free(t);
	}
	for (pos = 0; bz_u64map_next(&x->procs, &pos, &k, &v);) {
		free(((struct process *)v)->comm);
		free(v);
	}
	for (pos = 0; bz_u64map_next(&x->links, &pos, &k, &v);)
		link_free(v);
	bz_u64map_free(&x->threads);
	bz_u64map_free(&x->procs);
	bz_u64map_free(&x->links);
	bz_u64map_free(&x->servers);
}

int bz_perfetto_export(sqlite3 *db, const char *path, FILE *out, struct bz_perfetto_stats *stp, char *err,
		       size_t errlen)
{
	struct exporter x;
	struct timespec t0, t1, c0, c1;
	int rc = -1, own = 0;

	memset(&x, 0, sizeof(x));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	x.err = err;
	x.errlen = errlen;
	err[0] = 0;
	x.next_tid = LANE_TID_BASE + 1;
	x.w = malloc(sizeof(*x.w));
	if (!x.w)
		return oom(&x);
	bz_jw_init(x.w, out);
	if (!db) {
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "Perfetto export: cannot open %s: %s", path,
				 db ? sqlite3_errmsg(db) : "no memory");
			sqlite3_close(db);
			free(x.w);
			return -1;
		}
		own = 1;
	}
	x.db = db;
	/* ts 0: the capture's start, or the earliest span if one began before
	 * (a request waiting in the accept queue when recording started) */
	int64_t cap0 = query_i64(db, "SELECT start_ns FROM capture LIMIT 1", INT64_MAX);
	int64_t span0 = query_i64(db, "SELECT min(start_ns) FROM span_rows", INT64_MAX);
	x.origin = cap0 < span0 ? cap0 : span0;
	if (x.origin == INT64_MAX)
		x.origin = 0;
	if (sqlite3_prepare_v2(db, "SELECT exe, comm, service_name FROM processes WHERE pid = ?1 "
				   "ORDER BY first_seen_ns LIMIT 1", -1, &x.proc_stmt, NULL) != SQLITE_OK)
		x.proc_stmt = NULL;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM span_attribute_rows WHERE span_id = ?1 ORDER BY key",
			       -1, &x.attr_stmt, NULL) != SQLITE_OK)
		x.attr_stmt = NULL;

	bz_jw_lit(x.w, "{\"traceEvents\":[");
	if (write_spans(&x))
		goto out;
	bz_jw_lit(x.w, "\n],\n\"displayTimeUnit\":\"ms\",\n");
	other_data(&x);
	bz_jw_lit(x.w, "}\n");
	if (x.links.len) {
		snprintf(err, errlen, "Perfetto export: %zu client spans' flows left unmatched (inconsistent database)",
			 x.links.len);
		goto out;
	}
	x.st.bytes = x.w->bytes;
	if (bz_jw_flush(x.w)) {
		snprintf(err, errlen, "Perfetto export: writing: %s", strerror(x.w->err));
		goto out;
	}
	rc = 0;
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	x.st.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	x.st.cpu_seconds = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	if (stp)
		*stp = x.st;
	free_all(&x);
	sqlite3_finalize(x.proc_stmt);
	sqlite3_finalize(x.attr_stmt);
	free(x.w);
	if (own)
		sqlite3_close(db);
	return rc;
}
