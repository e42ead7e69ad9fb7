/* db.c - the SQLite writer of the analysis database (db.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "db_int.h"
#include "schema_sql.h"

/* The attributes nearly every span has are columns of span_rows (the view
 * span_attributes shows them as rows, under these keys and in this order);
 * any other attribute is a row of span_attribute_rows.  A row each would
 * be most of the rows to write. */
static const char *const attr_columns[] = {
	"url.scheme",
	"http.request.header.content-type",
	"http.response.header.content-type",
	"error.type",
	"network.peer.address",
	"network.peer.port",
};
#define N_ATTR_COLUMNS (sizeof(attr_columns) / sizeof(attr_columns[0]))
#define ATTR_BIND0 39 /* bind position of the first attribute column */
#define ROUTE_KEY_BIND (ATTR_BIND0 + (int)N_ATTR_COLUMNS) /* after the attribute columns */
#define SPAN_NCOLS ROUTE_KEY_BIND
#define SPAN_INSERT \
	"INSERT INTO span_rows (span_id, trace_id, parent_id, kind, name, start_ns, end_ns," \
	" duration_ns, queue_ns, accept_queue_ns, recv_queue_ns, processing_ns, connect_ns," \
	" rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns," \
	" status, incomplete, http_method, url_path, url_query, http_route," \
	" http_status_code, server_address, server_port, client_address, client_port," \
	" protocol_version, user_agent, request_body_size, response_body_size," \
	" service_name, pid, tid, conn_id, request_index," \
	" url_scheme, request_content_type, response_content_type, error_type," \
	" peer_address, peer_port, route_key) VALUES "
#define SPAN_VALUES "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_Static_assert(BZ_DB_SPAN_BATCH == 8, "ST_SPAN_BATCH lists 8 rows");

static const char *const stmt_sql[ST_MAX] = {
	[ST_SPAN] = SPAN_INSERT SPAN_VALUES,
	/* BZ_DB_SPAN_BATCH spans in one statement: the per-statement cost
	 * shared (the writer thread groups the spans it is handed) */
	[ST_SPAN_BATCH] = SPAN_INSERT SPAN_VALUES "," SPAN_VALUES "," SPAN_VALUES "," SPAN_VALUES ","
				SPAN_VALUES "," SPAN_VALUES "," SPAN_VALUES "," SPAN_VALUES,
	[ST_ATTR] = "INSERT INTO span_attribute_rows (span_id, key, value) VALUES (?,?,?)",
	[ST_PROC] = "INSERT INTO processes (pid, ppid, exe, comm, cmdline, service_name,"
		    " resource_attributes, flags, forked_from, first_seen_ns, exit_ns, exit_code,"
		    " tls_libraries) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_CONN] = "INSERT OR REPLACE INTO connections (conn_id, pid, role, family, local_address,"
		    " local_port, remote_address, remote_port, fd, syscall_start_ns, established_ns,"
		    " opened_ns, closed_ns, bytes_in, bytes_out, protocol, http_role, requests,"
		    " responses, skipped_bytes, ignored_bytes, guessed_ends, lost_bytes, detected,"
		    " unix_path, local_inode, peer_inode, peer_pid)"
		    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_CAPTURE] = "INSERT OR REPLACE INTO capture (id, source, format_major, format_minor,"
		       " beyla_version, analyzer_version, hostname, kernel, arch, ncpus, boot_id,"
		       " target, snaplen, redacted, clock_mono_ns, clock_real_ns, start_ns, end_ns,"
		       " complete, truncated, corrupt, error, stop_reason, events_recorded,"
		       " events_read, drops, user_drops)"
		       " VALUES (1,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_DROP] = "INSERT OR REPLACE INTO drops (probe, emitted, lost, missed) VALUES (?,?,?,?)",
	[ST_STAT] = "INSERT OR REPLACE INTO parse_stats (name, value) VALUES (?,?)",
	[ST_PROBE] = "INSERT INTO probes (id, name, kind, category, required, status, reason, path, pid)"
		     " VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_RELINK_PARENT] = "UPDATE span_rows SET parent_id = ?2 WHERE span_id = ?1",
	[ST_RELINK_TRACE] = "UPDATE span_rows SET trace_id = ?2 WHERE trace_id = ?1",
};

void bz_span_init(struct bz_span *s)
{
	memset(s, 0, sizeof(*s));
	s->queue_ns = s->accept_queue_ns = s->recv_queue_ns = s->processing_ns = BZ_DB_NULL;
	for (int k = 0; k < BZ_PART_MAX; k++)
		s->part_ns[k] = BZ_DB_NULL;
	s->connect_ns = s->status_code = s->server_port = s->client_port = BZ_DB_NULL;
	s->req_body = s->resp_body = s->pid = s->tid = s->conn_id = s->request_index = BZ_DB_NULL;
	s->start_ns = s->end_ns = 0;
}

int bz_db_column(sqlite3_stmt *st, const char *name)
{
	int found = -1, n = sqlite3_column_count(st);

	for (int i = 0; i < n; i++)
		if (!strcmp(sqlite3_column_name(st, i), name))
			found = i;
	return found;
}

void bz_span_add_attr(struct bz_span *s, const char *k, const char *v)
{
	if (v && *v && s->nattrs < BZ_SPAN_ATTRS_MAX) {
		s->attrs[s->nattrs].key = k;
		s->attrs[s->nattrs].value = v;
		s->nattrs++;
	}
}

static int db_fail(struct bz_db *db, const char *what)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", what, sqlite3_errmsg(db->h));
	return -EIO;
}

static int exec_sql(struct bz_db *db, const char *sql, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(db->err, sizeof(db->err), "%s: %s", what, msg ? msg : "error");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* Binding helpers: position i counts from 1. */
static void b_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static void b_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v == BZ_DB_NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

static int step_reset(struct bz_db *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s); /* every statement rebinds all its parameters */
	return rc == SQLITE_DONE ? 0 : db_fail(db, what);
}

double bz_db_clock(int thread_cpu)
{
	struct timespec ts;

	if (clock_gettime(thread_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts))
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bz_db_close(struct bz_db **dbp)
{
	struct bz_db *db;

	if (!dbp || !*dbp)
		return;
	db = *dbp;
	if (db->q)
		bz_db_queue_stop(db, 1); /* what is still queued would be rolled back */
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(db->st[i]);
	if (db->in_tx)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db->h);
	bz_route_stats_free(&db->routes);
	free(db);
	*dbp = NULL;
}

int bz_db_create(struct bz_db **out, const char *path, char *err, size_t errlen)
{
	struct bz_db *db;
	const char *split = strstr(bz_schema_sql, BZ_SCHEMA_AFTER_LOAD);
	char *pre = NULL;
	int rc = -EIO;

	db = calloc(1, sizeof(*db));
	if (!db || bz_route_stats_new(&db->routes, BZ_ROUTE_STATS_KEEP_MAX)) {
		free(db);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	db->t_created = bz_db_clock(0);
	db->cpu_created = bz_db_clock(1);
	/* One thread uses the handle: no SQLite mutexes. */
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "cannot open");
		goto fail;
	}
	/* Bounded memory: a 64 MiB page cache (which also bounds the sorter
	 * of CREATE INDEX; temporary files go to disk).  64 KiB pages: fewer
	 * pages to balance while loading and to walk when the indexes are
	 * built at the end (measured: ~15 % less time than 4 KiB).  threads=2:
	 * once an index's keys outgrow the sorter's memory (1M requests) its
	 * sorted runs are made by two threads (6.9-7.5 s -> 6.6 s there). */
	if (exec_sql(db, "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
			 " PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536; PRAGMA threads=2;",
		     "pragmas"))
		goto fail_msg;
	pre = strndup(bz_schema_sql, split ? (size_t)(split - bz_schema_sql) : strlen(bz_schema_sql));
	if (!pre) {
		rc = -ENOMEM;
		snprintf(db->err, sizeof(db->err), "out of memory");
		goto fail_msg;
	}
	if (exec_sql(db, pre, "schema") || exec_sql(db, "BEGIN", "begin"))
		goto fail_msg;
	db->in_tx = 1;
	for (int i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v2(db->h, stmt_sql[i], -1, &db->st[i], NULL) != SQLITE_OK) {
			db_fail(db, "prepare");
			goto fail_msg;
		}
	}
	free(pre);
	*out = db;
	return 0;
fail_msg:
	snprintf(err, errlen, "%s", db->err);
fail:
	free(pre);
	bz_db_close(&db);
	return rc;
}

/* The trace id's 16 bytes, big-endian (as OpenTelemetry writes it). */
static void trace_bytes(struct bz_trace_id t, uint8_t out[16])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(t.hi >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(t.lo >> (56 - 8 * i));
	}
}

/* The column of an attribute key, or N_ATTR_COLUMNS: a row of its own. */
static unsigned attr_column(const char *key)
{
	for (unsigned c = 0; c < N_ATTR_COLUMNS; c++)
		if (!strcmp(key, attr_columns[c]))
			return c;
	return N_ATTR_COLUMNS;
}

/* span_rows.route_key: FNV-1a over the four texts that make a route_stats
 * group, each with its terminating NUL (NULL hashed as "", as both are
 * stored as NULL): the fields cannot run into each other, so two groups
 * share a key only if 64-bit hashes collide. */
static int64_t route_key(const char *service, const char *kind, const char *route, const char *method)
{
	const char *f[4] = { service, kind, route, method };
	uint64_t h = BZ_ID_SEED0;

	for (int i = 0; i < 4; i++) {
		const char *t = f[i] ? f[i] : "";
		h = bz_id_hash(h, t, strlen(t) + 1);
	}
	return (int64_t)h;
}

static const char *const span_kinds[] = { "server", "client" };

/* Binds s, attribute columns included, to the span_rows insert at bind
 * positions base+1 ..; the trace id is written into trace, which must live
 * until the step.  rkey: its route_key. */
static int bind_span(sqlite3_stmt *st, int base, const struct bz_span *s, int64_t rkey, uint8_t trace[16])
{
	static const char *const statuses[] = { "unset", "ok", "error" };
	int i = base + 1;

	if (s->kind < 0 || s->kind > 1 || s->status < 0 || s->status > 2 || !s->name)
		return -EINVAL;
	trace_bytes(s->trace, trace);
	sqlite3_bind_int64(st, i++, (int64_t)s->span_id);
	sqlite3_bind_blob(st, i++, trace, 16, SQLITE_STATIC);
	if (s->parent_id)
		sqlite3_bind_int64(st, i++, (int64_t)s->parent_id);
	else
		sqlite3_bind_null(st, i++);
	sqlite3_bind_text(st, i++, span_kinds[s->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, s->start_ns);
	sqlite3_bind_int64(st, i++, s->end_ns);
	sqlite3_bind_int64(st, i++, (int64_t)((uint64_t)s->end_ns - (uint64_t)s->start_ns)); /* no signed overflow */
	b_int(st, i++, s->queue_ns);
	b_int(st, i++, s->accept_queue_ns);
	b_int(st, i++, s->recv_queue_ns);
	b_int(st, i++, s->processing_ns);
	b_int(st, i++, s->connect_ns);
	for (int k = 0; k < BZ_PART_MAX; k++) /* in span_parts.h's order, as in SPAN_INSERT */
		b_int(st, i++, s->part_ns[k]);
	sqlite3_bind_text(st, i++, statuses[s->status], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, !!s->incomplete);
	b_text(st, i++, s->method);
	b_text(st, i++, s->url_path);
	b_text(st, i++, s->url_query);
	b_text(st, i++, s->route);
	b_int(st, i++, s->status_code);
	b_text(st, i++, s->server_address);
	b_int(st, i++, s->server_port);
	b_text(st, i++, s->client_address);
	b_int(st, i++, s->client_port);
	b_text(st, i++, s->protocol_version);
	b_text(st, i++, s->user_agent);
	b_int(st, i++, s->req_body);
	b_int(st, i++, s->resp_body);
	b_text(st, i++, s->service_name);
	b_int(st, i++, s->pid);
	b_int(st, i++, s->tid);
	b_int(st, i++, s->conn_id);
	b_int(st, i++, s->request_index);
	if (i != base + ATTR_BIND0)
		return -EINVAL;
	sqlite3_bind_int64(st, base + ROUTE_KEY_BIND, rkey);
	for (unsigned c = 0; c < N_ATTR_COLUMNS; c++)
		sqlite3_bind_null(st, base + ATTR_BIND0 + (int)c);
	for (unsigned a = 0; a < s->nattrs && a < BZ_SPAN_ATTRS_MAX; a++) {
		unsigned c = s->attrs[a].key ? attr_column(s->attrs[a].key) : N_ATTR_COLUMNS;
		if (c < N_ATTR_COLUMNS)
			b_text(st, base + ATTR_BIND0 + (int)c, s->attrs[a].value);
	}
	return 0;
}

/* The attributes of s that have no column, as rows of their own. */
static int span_attr_rows(struct bz_db *db, const struct bz_span *s)
{
	sqlite3_stmt *at = db->st[ST_ATTR];
	int rc;

	for (unsigned a = 0; a < s->nattrs && a < BZ_SPAN_ATTRS_MAX; a++) {
		if (!s->attrs[a].key || attr_column(s->attrs[a].key) < N_ATTR_COLUMNS)
			continue;
		sqlite3_bind_int64(at, 1, (int64_t)s->span_id);
		b_text(at, 2, s->attrs[a].key);
		b_text(at, 3, s->attrs[a].value);
		if ((rc = step_reset(db, at, "insert span attribute")))
			return rc;
	}
	return 0;
}

/* A complete span counts in route_stats (route_stats.h). */
static int count_route(struct bz_db *db, const struct bz_span *s, int64_t rkey)
{
	if (s->incomplete)
		return 0;
	if (bz_route_stats_add(db->routes, rkey, s->service_name, span_kinds[s->kind],
			       s->route ? s->route : s->stats_route, s->method,
			       s->status == BZ_STATUS_ERROR,
			       (int64_t)((uint64_t)s->end_ns - (uint64_t)s->start_ns),
			       s->queue_ns != BZ_DB_NULL, s->queue_ns, s->part_ns)) {
		snprintf(db->err, sizeof(db->err), "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int bz_db_run_spans(struct bz_db *db, const struct bz_span *s, unsigned n)
{
	uint8_t trace[BZ_DB_SPAN_BATCH][16];
	int64_t rkey[BZ_DB_SPAN_BATCH];
	int rc;

	if (n > BZ_DB_SPAN_BATCH)
		return -EINVAL;
	for (unsigned k = 0; k < n; k++)
		rkey[k] = s[k].kind == 0 || s[k].kind == 1
				  ? route_key(s[k].service_name, span_kinds[s[k].kind],
					      s[k].route ? s[k].route : s[k].stats_route, s[k].method)
				  : 0; /* bind_span refuses it */
	if (n == BZ_DB_SPAN_BATCH) {
		sqlite3_stmt *st = db->st[ST_SPAN_BATCH];
		for (unsigned k = 0; k < n; k++) {
			if ((rc = bind_span(st, (int)k * SPAN_NCOLS, &s[k], rkey[k], trace[k]))) {
				sqlite3_clear_bindings(st);
				return rc;
			}
		}
		if ((rc = step_reset(db, st, "insert spans")))
			return rc;
	} else {
		for (unsigned k = 0; k < n; k++) {
			if ((rc = bind_span(db->st[ST_SPAN], 0, &s[k], rkey[k], trace[0])) ||
			    (rc = step_reset(db, db->st[ST_SPAN], "insert span")))
				return rc;
		}
	}
	for (unsigned k = 0; k < n; k++)
		if ((rc = span_attr_rows(db, &s[k])) || (rc = count_route(db, &s[k], rkey[k])))
			return rc;
	return 0;
}

static int db_process_now(struct bz_db *db, const struct bz_db_process *p)
{
	sqlite3_stmt *st = db->st[ST_PROC];
	int i = 1;

	b_int(st, i++, p->pid);
	b_int(st, i++, p->ppid);
	b_text(st, i++, p->exe);
	b_text(st, i++, p->comm);
	b_text(st, i++, p->cmdline);
	b_text(st, i++, p->service_name);
	b_text(st, i++, p->resource_attributes);
	b_int(st, i++, p->flags);
	b_int(st, i++, p->forked_from);
	b_int(st, i++, p->first_seen_ns);
	b_int(st, i++, p->exit_ns);
	b_int(st, i++, p->exit_code);
	b_text(st, i++, p->tls_libraries);
	return step_reset(db, st, "insert process");
}

static int db_conn_now(struct bz_db *db, const struct bz_db_conn *c)
{
	sqlite3_stmt *st = db->st[ST_CONN];
	int i = 1;

	b_int(st, i++, c->conn_id);
	b_int(st, i++, c->pid);
	b_text(st, i++, c->role);
	b_text(st, i++, c->family);
	b_text(st, i++, c->local_address);
	b_int(st, i++, c->local_port);
	b_text(st, i++, c->remote_address);
	b_int(st, i++, c->remote_port);
	b_int(st, i++, c->fd);
	b_int(st, i++, c->syscall_start_ns);
	b_int(st, i++, c->established_ns);
	b_int(st, i++, c->opened_ns);
	b_int(st, i++, c->closed_ns);
	b_int(st, i++, c->bytes_in);
	b_int(st, i++, c->bytes_out);
	b_text(st, i++, c->protocol);
	b_text(st, i++, c->http_role);
	b_int(st, i++, c->requests);
	b_int(st, i++, c->responses);
	b_int(st, i++, c->skipped_bytes);
	b_int(st, i++, c->ignored_bytes);
	b_int(st, i++, c->guessed_ends);
	b_int(st, i++, c->lost_bytes);
	b_text(st, i++, c->detected);
	b_text(st, i++, c->unix_path);
	b_int(st, i++, c->local_inode);
	b_int(st, i++, c->peer_inode);
	b_int(st, i++, c->peer_pid);
	return step_reset(db, st, "insert connection");
}

static int db_capture_now(struct bz_db *db, const struct bz_db_capture *c)
{
	sqlite3_stmt *st = db->st[ST_CAPTURE];
	int i = 1;

	b_text(st, i++, c->source);
	b_int(st, i++, c->format_major);
	b_int(st, i++, c->format_minor);
	b_text(st, i++, c->beyla_version);
	b_text(st, i++, c->analyzer_version);
	b_text(st, i++, c->hostname);
	b_text(st, i++, c->kernel);
	b_text(st, i++, c->arch);
	b_int(st, i++, c->ncpus);
	b_text(st, i++, c->boot_id);
	b_text(st, i++, c->target);
	b_int(st, i++, c->snaplen);
	b_int(st, i++, c->redacted);
	b_int(st, i++, c->clock_mono_ns);
	b_int(st, i++, c->clock_real_ns);
	b_int(st, i++, c->start_ns);
	b_int(st, i++, c->end_ns);
	b_int(st, i++, c->complete);
	b_int(st, i++, c->truncated);
	b_int(st, i++, c->corrupt);
	b_text(st, i++, c->error);
	b_text(st, i++, c->stop_reason);
	b_int(st, i++, c->events_recorded);
	b_int(st, i++, c->events_read);
	b_int(st, i++, c->drops);
	b_int(st, i++, c->user_drops);
	return step_reset(db, st, "insert capture");
}

static int db_drop_now(struct bz_db *db, const char *probe, uint64_t emitted, uint64_t lost, uint64_t missed)
{
	sqlite3_stmt *st = db->st[ST_DROP];

	b_text(st, 1, probe);
	sqlite3_bind_int64(st, 2, (int64_t)emitted);
	sqlite3_bind_int64(st, 3, (int64_t)lost);
	sqlite3_bind_int64(st, 4, (int64_t)missed);
	return step_reset(db, st, "insert drops");
}

static int db_stat_now(struct bz_db *db, const char *name, int64_t value)
{
	sqlite3_stmt *st = db->st[ST_STAT];

	b_text(st, 1, name);
	sqlite3_bind_int64(st, 2, value);
	return step_reset(db, st, "insert parse_stats");
}

static int db_probe_now(struct bz_db *db, const struct bz_db_probe *p)
{
	sqlite3_stmt *st = db->st[ST_PROBE];
	int i = 1;

	b_int(st, i++, p->id);
	b_text(st, i++, p->name);
	b_text(st, i++, p->kind);
	b_text(st, i++, p->category);
	b_int(st, i++, p->required);
	b_text(st, i++, p->status);
	b_text(st, i++, p->reason);
	b_text(st, i++, p->path);
	b_int(st, i++, p->pid);
	return step_reset(db, st, "insert probes");
}

static int db_relink_now(struct bz_db *db, const struct bz_db_relink_row *r)
{
	sqlite3_stmt *st = db->st[ST_RELINK_PARENT];
	uint8_t from[16], to[16];
	int rc;

	sqlite3_bind_int64(st, 1, (int64_t)r->span_id);
	sqlite3_bind_int64(st, 2, (int64_t)r->parent_id);
	if ((rc = step_reset(db, st, "relink a span")))
		return rc;
	st = db->st[ST_RELINK_TRACE];
	trace_bytes(r->old_trace, from);
	trace_bytes(r->new_trace, to);
	sqlite3_bind_blob(st, 1, from, 16, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, to, 16, SQLITE_STATIC);
	return step_reset(db, st, "move a trace");
}

int bz_db_run_op(struct bz_db *db, enum bz_db_op op, const void *rec)
{
	const struct bz_db_drop_row *d = rec;
	const struct bz_db_stat_row *t = rec;

	switch (op) {
	case OP_SPAN: return bz_db_run_spans(db, rec, 1);
	case OP_PROC: return db_process_now(db, rec);
	case OP_CONN: return db_conn_now(db, rec);
	case OP_CAPTURE: return db_capture_now(db, rec);
	case OP_DROP: return db_drop_now(db, d->probe, d->emitted, d->lost, d->missed);
	case OP_STAT: return db_stat_now(db, t->name, t->value);
	case OP_PROBE: return db_probe_now(db, rec);
	case OP_RELINK: return db_relink_now(db, rec);
	default: return -EINVAL;
	}
}

/* Runs op now, or hands it to the writer thread when there is one. */
static int db_op(struct bz_db *db, enum bz_db_op op, const void *rec)
{
	return db->q ? bz_db_queue_put(db, op, rec) : bz_db_run_op(db, op, rec);
}

int bz_db_span(struct bz_db *db, const struct bz_span *s)
{
	if (s->kind != BZ_SPAN_SERVER && s->kind != BZ_SPAN_CLIENT)
		return -EINVAL;
	db->spans += s->kind == BZ_SPAN_SERVER ? 3 : 1; /* rows of the view spans */
	return db_op(db, OP_SPAN, s);
}

int bz_db_relink(struct bz_db *db, uint64_t span_id, uint64_t parent_id, struct bz_trace_id old_trace,
		 struct bz_trace_id new_trace)
{
	struct bz_db_relink_row r = { span_id, parent_id, old_trace, new_trace };

	return db_op(db, OP_RELINK, &r);
}

int bz_db_process(struct bz_db *db, const struct bz_db_process *p) { return db_op(db, OP_PROC, p); }

int bz_db_conn(struct bz_db *db, const struct bz_db_conn *c) { return db_op(db, OP_CONN, c); }

int bz_db_capture(struct bz_db *db, const struct bz_db_capture *c) { return db_op(db, OP_CAPTURE, c); }

int bz_db_drop(struct bz_db *db, const char *probe, uint64_t emitted, uint64_t lost, uint64_t missed)
{
	struct bz_db_drop_row d = { probe, emitted, lost, missed };
	return db_op(db, OP_DROP, &d);
}

int bz_db_stat(struct bz_db *db, const char *name, int64_t value)
{
	struct bz_db_stat_row t = { name, value };
	return db_op(db, OP_STAT, &t);
}

int bz_db_probe(struct bz_db *db, const struct bz_db_probe *p) { return db_op(db, OP_PROBE, p); }

int bz_db_finish(struct bz_db *db)
{
	const char *split = strstr(bz_schema_sql, BZ_SCHEMA_AFTER_LOAD);
	struct bz_db_timings *t = &db->timings;
	double at;
	int rc;

	t->analysis_cpu = bz_db_clock(1) - db->cpu_created;
	if (db->q && (rc = bz_db_queue_stop(db, 0))) /* sets t->writer_cpu */
		return rc;
	if (!db->in_tx)
		return -EINVAL;
	if ((rc = exec_sql(db, "COMMIT", "commit")))
		return rc;
	db->in_tx = 0;
	at = bz_db_clock(0);
	t->load = at - db->t_created;
	if (split && (rc = exec_sql(db, split, "indexes and views")))
		return rc;
	t->indexes = bz_db_clock(0) - at;
	at += t->indexes;
	/* route_stats's rows, once the spans are all in span_rows */
	if ((rc = exec_sql(db, "BEGIN", "begin")))
		return rc;
	db->in_tx = 1;
	if ((rc = bz_route_stats_write(db->routes, db->h, db->err, sizeof(db->err))) ||
	    (rc = exec_sql(db, "COMMIT", "commit")))
		return rc;
	db->in_tx = 0;
	t->stats = bz_db_clock(0) - at;
	return 0;
}

const struct bz_db_timings *bz_db_timings(const struct bz_db *db) { return &db->timings; }

int bz_db_route_stats_keep(struct bz_db *db, size_t keep_max)
{
	struct bz_route_stats *rs;

	if (db->spans || db->q)
		return -EBUSY;
	if (bz_route_stats_new(&rs, keep_max))
		return -ENOMEM;
	bz_route_stats_free(&db->routes);
	db->routes = rs;
	return 0;
}

uint64_t bz_db_span_count(const struct bz_db *db) { return db ? db->spans : 0; }

const char *bz_db_errmsg(struct bz_db *db)
{
	if (!db)
		return "no database";
	if (db->q) /* the writer may still be writing the message: end it first */
		bz_db_queue_stop(db, 1);
	return db->err;
}

struct sqlite3 *bz_db_handle(struct bz_db *db) { return db ? db->h : NULL; }
