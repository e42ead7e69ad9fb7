/* report.c - summary table and stable span dump (report.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "report.h"
#include "u64map.h"

static int sql_fail(sqlite3 *h, const char *what)
{
	fprintf(stderr, "beyla analyze: %s: %s\n", what, sqlite3_errmsg(h));
	return -EIO;
}

/* ns -> "12.345" (milliseconds, 3 decimals, exact integer arithmetic). */
static void fmt_ms(char *buf, size_t cap, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		snprintf(buf, cap, "-");
		return;
	}
	int64_t ns = sqlite3_column_int64(st, col);
	int64_t us = (ns < 0 ? -ns : ns) / 1000;
	snprintf(buf, cap, "%s%" PRId64 ".%03" PRId64 "ms", ns < 0 ? "-" : "", us / 1000, us % 1000);
}

static void fmt_int(char *buf, size_t cap, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%" PRId64, (int64_t)sqlite3_column_int64(st, col));
}

static const char *text_or_dash(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "-";
}

/* ---- summary ------------------------------------------------------------- */

struct srow {
	char *service, *kind, *route, *method; /* NULL: SQL NULL */
	int64_t requests, errors;
	int64_t pct[3];   /* p50, p95, p99 in ns */
	double queue;     /* queue share in %, < 0 if NULL */
};

static char *dup_or_null(sqlite3_stmt *st, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	char *d;

	if (!t)
		return NULL;
	if (!(d = strdup((const char *)t)))
		*oom = 1;
	return d;
}

int bz_report_cmp_text(const char *a, const char *b)
{
	if (!a || !b)
		return !a && !b ? 0 : !a ? -1 : 1;
	return strcmp(a, b);
}

static int cmp_text(const char *a, const char *b) { return bz_report_cmp_text(a, b); }

/* The summary's order: service, kind DESC (server first), requests DESC,
 * route, method. */
static int cmp_srow(const void *pa, const void *pb)
{
	const struct srow *a = pa, *b = pb;
	int c;

	if ((c = cmp_text(a->service, b->service)) || (c = -cmp_text(a->kind, b->kind)))
		return c;
	if (a->requests != b->requests)
		return a->requests > b->requests ? -1 : 1;
	if ((c = cmp_text(a->route, b->route)))
		return c;
	return cmp_text(a->method, b->method);
}

static void free_srows(struct srow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].service);
		free(rows[i].kind);
		free(rows[i].route);
		free(rows[i].method);
	}
	free(rows);
}

/* The rows of route_stats (the analyzer computed them: route_stats.h). */
static int summary_rows(sqlite3 *h, struct srow **out, size_t *nout)
{
	static const char sql[] =
		"SELECT service, kind, route, method, requests, errors, p50_ns, p95_ns, p99_ns, queue_share"
		" FROM route_stats";
	sqlite3_stmt *st = NULL;
	struct srow *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = 0, s, oom = 0;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(h, "summary");
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			struct srow *r = realloc(rows, nc * sizeof(*r));
			if (!r) {
				rc = -ENOMEM;
				break;
			}
			rows = r;
			cap = nc;
		}
		struct srow *r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->service = dup_or_null(st, 0, &oom);
		r->kind = dup_or_null(st, 1, &oom);
		r->route = dup_or_null(st, 2, &oom);
		r->method = dup_or_null(st, 3, &oom);
		r->requests = sqlite3_column_int64(st, 4);
		r->errors = sqlite3_column_int64(st, 5);
		for (int k = 0; k < 3; k++)
			r->pct[k] = sqlite3_column_int64(st, 6 + k);
		r->queue = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 9) * 100;
		if (oom) {
			rc = -ENOMEM;
			break;
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = sql_fail(h, "summary");
	sqlite3_finalize(st);
	if (rc) {
		free_srows(rows, n);
		return rc;
	}
	*out = rows;
	*nout = n;
	return 0;
}

int bz_report_summary(sqlite3 *h, FILE *out)
{
	struct srow *rows = NULL;
	size_t n = 0;
	int w[4] = { 7, 4, 5, 6 }, rc;

	if ((rc = summary_rows(h, &rows, &n)))
		return rc;
	if (n) /* rows is NULL when there are none */
		qsort(rows, n, sizeof(*rows), cmp_srow);
	for (size_t i = 0; i < n; i++) {
		const char *f[4] = { rows[i].service, rows[i].kind, rows[i].route, rows[i].method };
		for (int k = 0; k < 4; k++) {
			int l = f[k] ? (int)strlen(f[k]) : 1;
			if (l > w[k])
				w[k] = l > 60 ? 60 : l;
		}
	}
	if (!n)
		fprintf(out, "no HTTP requests found\n");
	else
		fprintf(out, "%-*s  %-*s  %-*s  %-*s  %8s  %6s  %9s  %9s  %9s  %6s\n", w[0], "SERVICE", w[1],
			"KIND", w[2], "ROUTE", w[3], "METHOD", "REQUESTS", "ERRORS", "P50_MS", "P95_MS", "P99_MS",
			"QUEUE%");
	for (size_t i = 0; i < n; i++) {
		struct srow *r = &rows[i];
		char q[16];
		if (r->queue < 0)
			snprintf(q, sizeof(q), "-");
		else
			snprintf(q, sizeof(q), "%.1f", r->queue);
		fprintf(out, "%-*.*s  %-*s  %-*.*s  %-*s  %8" PRId64 "  %6" PRId64 "  %9.3f  %9.3f  %9.3f  %6s\n",
			w[0], w[0], r->service ? r->service : "-", w[1], r->kind ? r->kind : "-", w[2], w[2],
			r->route ? r->route : "-", w[3], r->method ? r->method : "-", r->requests, r->errors,
			(double)r->pct[0] / 1e6, (double)r->pct[1] / 1e6, (double)r->pct[2] / 1e6, q);
	}
	free_srows(rows, n);
	return 0;
}

/* ---- span dump ----------------------------------------------------------- */

static uint64_t span_key(sqlite3_stmt *st, int col)
{
	return (uint64_t)sqlite3_column_int64(st, col);
}

/* A 128-bit trace id (16-byte blob) folded to 64 bits for the label map. */
static uint64_t trace_key(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_blob(st, col);
	uint64_t hi = 0, lo = 0;

	if (!t || sqlite3_column_bytes(st, col) != 16)
		return 0;
	for (int i = 0; i < 8; i++) {
		hi = hi << 8 | t[i];
		lo = lo << 8 | t[8 + i];
	}
	return hi ^ (lo * 0x9e3779b97f4a7c15ull);
}

#define DUMP_ORDER \
	" ORDER BY start_ns, CASE kind WHEN 'server' THEN 0 WHEN 'internal' THEN 1 ELSE 2 END," \
	" conn_id, request_index, name, span_id"

int bz_report_dump_spans(sqlite3 *h, FILE *out)
{
	static const char ids_sql[] = "SELECT span_id FROM spans" DUMP_ORDER;
	static const char sql[] =
		"SELECT span_id, parent_id, trace_id, kind, name,"
		" start_ns - COALESCE((SELECT start_ns FROM capture WHERE id = 1),"
		"                     (SELECT MIN(start_ns) FROM spans)),"
		" duration_ns, queue_ns, accept_queue_ns, recv_queue_ns, processing_ns, connect_ns,"
		" status, incomplete, http_method, http_route, http_status_code, request_body_size,"
		" response_body_size, service_name, pid, tid, conn_id, request_index,"
		/* a gRPC span's status code and messages (analyze/spans.c), which
		 * its HTTP fields do not tell: " grpc=CODE msgs=REQ/RESP
		 * msg_bytes=REQ/RESP" ('-': not known), nothing for other spans */
		" (SELECT ' grpc=' || coalesce(max(CASE key WHEN 'rpc.grpc.status_code' THEN value END), '-')"
		"   || ' msgs=' || coalesce(max(CASE key WHEN 'beyla.grpc.request.messages' THEN value END), '-')"
		"   || '/' || coalesce(max(CASE key WHEN 'beyla.grpc.response.messages' THEN value END), '-')"
		"   || ' msg_bytes=' || coalesce(max(CASE key WHEN 'beyla.grpc.request.message_bytes' THEN value END), '-')"
		"   || '/' || coalesce(max(CASE key WHEN 'beyla.grpc.response.message_bytes' THEN value END), '-')"
		"  FROM span_attribute_rows a WHERE a.span_id = spans.span_id"
		"  HAVING max(key = 'rpc.system' AND value = 'grpc')),"
		/* the kernel's waits (schema 8): printed only when known */
		" rx_backlog_ns, tx_queue_ns"
		" FROM spans" DUMP_ORDER;
	struct bz_u64map labels = { 0 }, traces = { 0 };
	sqlite3_stmt *st = NULL;
	uintptr_t next = 1, next_trace = 1;
	int rc = 0, s;

	/* Pass 1: a label per span, in output order (parents may print later). */
	if (sqlite3_prepare_v2(h, ids_sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(h, "dump");
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		if (bz_u64map_put(&labels, span_key(st, 0), (void *)next++)) {
			rc = -ENOMEM;
			break;
		}
	if (!rc && s != SQLITE_DONE)
		rc = sql_fail(h, "dump");
	sqlite3_finalize(st);
	st = NULL;
	if (!rc && sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		rc = sql_fail(h, "dump");
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		char t[32], dur[32], q[32], aq[32], rq[32], pr[32], cn[32], code[16], reqb[24], respb[24];
		char pid[16], tid[16], conn[24], idx[24], parent[24], rx[40] = "", tx[40] = "";
		uintptr_t label = (uintptr_t)bz_u64map_get(&labels, span_key(st, 0));
		uint64_t tk = trace_key(st, 2);
		uintptr_t tl = (uintptr_t)bz_u64map_get(&traces, tk);
		if (!tl) {
			tl = next_trace++;
			if (bz_u64map_put(&traces, tk, (void *)tl)) {
				rc = -ENOMEM;
				break;
			}
		}
		if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
			snprintf(parent, sizeof(parent), "-");
		} else {
			uintptr_t pl = (uintptr_t)bz_u64map_get(&labels, span_key(st, 1));
			if (pl)
				snprintf(parent, sizeof(parent), "#%zu", (size_t)pl);
			else
				snprintf(parent, sizeof(parent), "?");
		}
		fmt_ms(t, sizeof(t), st, 5);
		fmt_ms(dur, sizeof(dur), st, 6);
		fmt_ms(q, sizeof(q), st, 7);
		fmt_ms(aq, sizeof(aq), st, 8);
		fmt_ms(rq, sizeof(rq), st, 9);
		fmt_ms(pr, sizeof(pr), st, 10);
		fmt_ms(cn, sizeof(cn), st, 11);
		fmt_int(code, sizeof(code), st, 16);
		fmt_int(reqb, sizeof(reqb), st, 17);
		fmt_int(respb, sizeof(respb), st, 18);
		fmt_int(pid, sizeof(pid), st, 20);
		fmt_int(tid, sizeof(tid), st, 21);
		fmt_int(conn, sizeof(conn), st, 22);
		fmt_int(idx, sizeof(idx), st, 23);
		if (sqlite3_column_type(st, 25) != SQLITE_NULL) {
			char v[32];
			fmt_ms(v, sizeof(v), st, 25);
			snprintf(rx, sizeof(rx), " rx=%s", v);
		}
		if (sqlite3_column_type(st, 26) != SQLITE_NULL) {
			char v[32];
			fmt_ms(v, sizeof(v), st, 26);
			snprintf(tx, sizeof(tx), " tx=%s", v);
		}
		fprintf(out,
			"#%zu %s \"%s\" t=+%s dur=%s queue=%s (accept=%s recv=%s%s) proc=%s%s connect=%s"
			" status=%s code=%s method=%s route=%s req=%s resp=%s%s svc=%s pid=%s tid=%s"
			" conn=%s/%s trace=T%zu parent=%s%s\n",
			(size_t)label, text_or_dash(st, 3), text_or_dash(st, 4), t, dur, q, aq, rq, rx, pr, tx, cn,
			text_or_dash(st, 12), code, text_or_dash(st, 14), text_or_dash(st, 15), reqb, respb,
			sqlite3_column_type(st, 24) == SQLITE_TEXT ? (const char *)sqlite3_column_text(st, 24) : "",
			text_or_dash(st, 19), pid, tid, conn, idx, (size_t)tl, parent,
			sqlite3_column_int(st, 13) ? " incomplete" : "");
	}
	if (!rc && st && s != SQLITE_DONE)
		rc = sql_fail(h, "dump");
	sqlite3_finalize(st);
	bz_u64map_free(&labels);
	bz_u64map_free(&traces);
	return rc;
}
