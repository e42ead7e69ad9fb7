/* report_waterfall.c - the slowest requests as waterfalls (report_waterfall.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "html_escape.h"
#include "report_fmt.h"
#include "report_svg.h"
#include "report_waterfall.h"

/* A request and what it called, depth first: each row's path is its
 * parent's with its own start time and id appended, so sorting by path puts
 * every call right under its caller, calls in start order. */
/* KW: the kernel's waits, columns of schema 8 ("NULL, NULL" before) */
#define TREE_SQL(KW) \
	"WITH RECURSIVE tree(id, depth, path) AS (" \
	"  VALUES (?1, 0, '')" \
	"  UNION ALL" \
	"  SELECT s.span_id, t.depth + 1, t.path || printf('%019d%016x/', s.start_ns, s.span_id)" \
	"  FROM span_rows s JOIN tree t ON s.parent_id = t.id" \
	"  WHERE t.depth < ?3 AND s.trace_id = (SELECT trace_id FROM span_rows WHERE span_id = ?1))" \
	" SELECT t.depth, s.kind, s.name, s.start_ns, s.end_ns, s.duration_ns, s.queue_ns," \
	"  s.accept_queue_ns, s.recv_queue_ns, s.processing_ns, s.connect_ns, s.status, s.incomplete," \
	"  s.http_method, s.url_path, s.url_query, s.http_status_code, s.error_type," \
	"  s.server_address, s.server_port, s.client_address, s.client_port, s.peer_address, s.peer_port," \
	"  s.protocol_version, s.url_scheme, s.user_agent, s.request_body_size, s.response_body_size," \
	"  s.request_content_type, s.response_content_type, s.service_name, s.pid, s.tid, s.conn_id," \
	"  s.request_index, lower(hex(s.trace_id)), printf('%016x', s.span_id), s.span_id, " KW \
	" FROM tree t JOIN span_rows s ON s.span_id = t.id" \
	" ORDER BY t.path LIMIT ?4"
static const char tree_sql[] = TREE_SQL("s.rx_backlog_ns, s.tx_queue_ns");
static const char tree_sql_v7[] = TREE_SQL("NULL, NULL");

enum {
	C_DEPTH, C_KIND, C_NAME, C_START, C_END, C_DUR, C_QUEUE, C_ACCEPT, C_RECV, C_PROC, C_CONNECT, C_STATUS,
	C_INCOMPLETE, C_METHOD, C_PATH, C_QUERY, C_CODE, C_ERRTYPE, C_SADDR, C_SPORT, C_CADDR, C_CPORT,
	C_PADDR, C_PPORT, C_PROTO, C_SCHEME, C_UA, C_REQ_BODY, C_RESP_BODY, C_REQ_CT, C_RESP_CT, C_SERVICE,
	C_PID, C_TID, C_CONN, C_REQ_INDEX, C_TRACE_HEX, C_SPAN_HEX, C_SPAN_ID, C_RX, C_TX
};

#define TEXT_MAX 300 /* bytes of one value shown in a title */

static int is_null(sqlite3_stmt *q, int c)
{
	return sqlite3_column_type(q, c) == SQLITE_NULL;
}

/* "\nKEY: VALUE" for a column that is not NULL, the value escaped. */
static void title_col(FILE *out, const char *key, sqlite3_stmt *q, int c)
{
	const char *v = (const char *)sqlite3_column_text(q, c);

	if (!v)
		return;
	fprintf(out, "\n%s: ", key);
	bz_html_escape(out, v, (size_t)sqlite3_column_bytes(q, c), TEXT_MAX);
}

static void title_ns(FILE *out, const char *key, sqlite3_stmt *q, int c)
{
	char t[32];

	if (is_null(q, c))
		return;
	bz_rfmt_ns(t, sizeof(t), (double)sqlite3_column_int64(q, c));
	fprintf(out, "\n%s: %s", key, t);
}

/* "\nKEY: ADDR:PORT" */
static void title_addr(FILE *out, const char *key, sqlite3_stmt *q, int ca, int cp)
{
	if (is_null(q, ca))
		return;
	title_col(out, key, q, ca);
	if (!is_null(q, cp)) {
		fputc(':', out);
		bz_html_text(out, (const char *)sqlite3_column_text(q, cp));
	}
}

/* The span's <title>: every column a reader may want, then its attributes. */
static void span_title(FILE *out, sqlite3_stmt *q, sqlite3_stmt *attrs, int64_t t0)
{
	char t[40];

	fputs("<title>", out);
	bz_html_escape(out, (const char *)sqlite3_column_text(q, C_NAME), (size_t)sqlite3_column_bytes(q, C_NAME),
		       TEXT_MAX);
	fputs(" (", out);
	bz_html_text(out, (const char *)sqlite3_column_text(q, C_KIND));
	fputs(")", out);
	bz_rfmt_ns(t, sizeof(t), (double)(sqlite3_column_int64(q, C_START) - t0));
	fprintf(out, "\nstarts: +%s", t);
	title_ns(out, "duration", q, C_DUR);
	title_ns(out, "in queue", q, C_QUEUE);
	title_ns(out, "  accept queue", q, C_ACCEPT);
	title_ns(out, "  receive queue", q, C_RECV);
	title_ns(out, "  kernel receive path", q, C_RX);
	title_ns(out, "processing", q, C_PROC);
	title_ns(out, "in send queue", q, C_TX);
	title_ns(out, "connect", q, C_CONNECT);
	title_col(out, "status", q, C_STATUS);
	if (sqlite3_column_int(q, C_INCOMPLETE))
		fputs(" (incomplete: no response seen)", out);
	title_col(out, "service.name", q, C_SERVICE);
	title_col(out, "process.pid", q, C_PID);
	title_col(out, "thread.id", q, C_TID);
	title_col(out, "http.request.method", q, C_METHOD);
	title_col(out, "url.path", q, C_PATH);
	title_col(out, "url.query", q, C_QUERY);
	title_col(out, "http.response.status_code", q, C_CODE);
	title_col(out, "error.type", q, C_ERRTYPE);
	title_addr(out, "server", q, C_SADDR, C_SPORT);
	title_addr(out, "client", q, C_CADDR, C_CPORT);
	title_addr(out, "network.peer", q, C_PADDR, C_PPORT);
	title_col(out, "network.protocol.version", q, C_PROTO);
	title_col(out, "url.scheme", q, C_SCHEME);
	title_col(out, "user_agent.original", q, C_UA);
	title_col(out, "http.request.body.size", q, C_REQ_BODY);
	title_col(out, "http.response.body.size", q, C_RESP_BODY);
	title_col(out, "request content-type", q, C_REQ_CT);
	title_col(out, "response content-type", q, C_RESP_CT);
	title_col(out, "connection", q, C_CONN);
	title_col(out, "request on it", q, C_REQ_INDEX);
	title_col(out, "trace_id", q, C_TRACE_HEX);
	title_col(out, "span_id", q, C_SPAN_HEX);
	sqlite3_reset(attrs);
	sqlite3_bind_int64(attrs, 1, sqlite3_column_int64(q, C_SPAN_ID));
	while (sqlite3_step(attrs) == SQLITE_ROW) {
		fputc('\n', out);
		bz_html_escape(out, (const char *)sqlite3_column_text(attrs, 0), (size_t)sqlite3_column_bytes(attrs, 0),
			       80);
		fputs(": ", out);
		bz_html_escape(out, (const char *)sqlite3_column_text(attrs, 1), (size_t)sqlite3_column_bytes(attrs, 1),
			       TEXT_MAX);
	}
	fputs("</title>", out);
}

enum { WW = 960, WLABEL = 300, WMR = 16, WROW = 18, WAXIS = 22 };

static double xpos(int64_t t, int64_t t0, int64_t range)
{
	return WLABEL + (double)(WW - WLABEL - WMR) * (double)(t - t0) / (double)range;
}

static void bar(FILE *out, const char *cls, double x0, double x1, double y)
{
	double w = x1 - x0;
	fprintf(out, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"/>", cls, x0, y,
		w < 1 ? 1 : w, WROW - 5);
}

/* One row: label, bar(s) and title in a focusable group. */
static void span_row(FILE *out, sqlite3_stmt *q, sqlite3_stmt *attrs, int row, int64_t t0, int64_t range)
{
	int depth = sqlite3_column_int(q, C_DEPTH);
	int server = !strcmp((const char *)sqlite3_column_text(q, C_KIND), "server");
	int err = !strcmp((const char *)sqlite3_column_text(q, C_STATUS), "error");
	int64_t s = sqlite3_column_int64(q, C_START), e = sqlite3_column_int64(q, C_END);
	double y = WAXIS + row * WROW + 2;
	char d[32];

	fprintf(out, "<g class=\"span%s%s\" tabindex=\"0\">", err ? " err" : "",
		sqlite3_column_int(q, C_INCOMPLETE) ? " inc" : "");
	span_title(out, q, attrs, t0);
	fprintf(out, "<text class=\"lbl\" x=\"%d\" y=\"%.1f\">", 4 + 12 * (depth < 8 ? depth : 8), y + 10);
	bz_html_escape(out, (const char *)sqlite3_column_text(q, C_NAME), (size_t)sqlite3_column_bytes(q, C_NAME),
		       36 - 3 * (depth < 8 ? depth : 8));
	if (!is_null(q, C_SERVICE)) {
		fputs(" <tspan class=\"svc\">", out);
		bz_html_escape(out, (const char *)sqlite3_column_text(q, C_SERVICE),
			       (size_t)sqlite3_column_bytes(q, C_SERVICE), 16);
		fputs("</tspan>", out);
	}
	fputs("</text>", out);
	if (server && !is_null(q, C_QUEUE)) {
		int64_t qend = s + sqlite3_column_int64(q, C_QUEUE);
		int64_t tx = is_null(q, C_TX) ? 0 : sqlite3_column_int64(q, C_TX);
		if (tx < 0 || tx > e - qend)
			tx = 0;
		bar(out, "q", xpos(s, t0, range), xpos(qend, t0, range), y);
		bar(out, "p", xpos(qend, t0, range), xpos(e - tx, t0, range), y);
		if (tx > 0) /* the response waiting in the kernel after the last write: a queue too */
			bar(out, "q", xpos(e - tx, t0, range), xpos(e, t0, range), y);
	} else {
		bar(out, server ? "p" : "c", xpos(s, t0, range), xpos(e, t0, range), y);
	}
	bz_rfmt_ns(d, sizeof(d), (double)(e - s));
	double xe = xpos(e, t0, range);
	/* the duration after the bar, or before it when the bar ends at the right */
	if (xe > WW - 70)
		fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
			xpos(s, t0, range) - 3, y + 10, d);
	else
		fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%.1f\">%s</text>", xe + 3, y + 10, d);
	fputs("</g>", out);
}

/* The caption: what, where, how long and why. */
static void caption(FILE *out, sqlite3_stmt *q, unsigned n, unsigned drawn, unsigned more)
{
	char d[32], qd[32], a[32], r[32], p[32], when[48];

	bz_rfmt_ns(d, sizeof(d), (double)sqlite3_column_int64(q, C_DUR));
	bz_rfmt_ns(qd, sizeof(qd), (double)sqlite3_column_int64(q, C_QUEUE));
	bz_rfmt_ns(a, sizeof(a), (double)sqlite3_column_int64(q, C_ACCEPT));
	bz_rfmt_ns(r, sizeof(r), (double)sqlite3_column_int64(q, C_RECV));
	bz_rfmt_ns(p, sizeof(p), (double)sqlite3_column_int64(q, C_PROC));
	bz_rfmt_utc(when, sizeof(when), sqlite3_column_int64(q, C_START));
	fprintf(out, "<figcaption><b>#%u</b> <span class=\"name\">", n);
	bz_html_escape(out, (const char *)sqlite3_column_text(q, C_NAME), (size_t)sqlite3_column_bytes(q, C_NAME),
		       TEXT_MAX);
	fputs("</span>", out);
	if (!is_null(q, C_PATH)) {
		fputs(" <code>", out);
		bz_html_escape(out, (const char *)sqlite3_column_text(q, C_PATH), (size_t)sqlite3_column_bytes(q, C_PATH),
			       120);
		fputs("</code>", out);
	}
	fputs(" · ", out);
	bz_html_text(out, (const char *)sqlite3_column_text(q, C_SERVICE));
	fprintf(out, " (pid %" PRId64 ") · <b class=\"total\" data-v=\"%" PRId64 "\">%s</b>",
		(int64_t)sqlite3_column_int64(q, C_PID), (int64_t)sqlite3_column_int64(q, C_DUR), d);
	fprintf(out, ": <span class=\"kq\">in queue %s</span> (accept %s, receive %s), <span class=\"kp\">processing %s</span>",
		qd, a, r, p);
	if (!is_null(q, C_CODE))
		fprintf(out, " · HTTP %d", sqlite3_column_int(q, C_CODE));
	fprintf(out, " · %s", when);
	if (drawn > 1 || more)
		fprintf(out, " · %u call%s under it", drawn - 1 + more, drawn - 1 + more == 1 ? "" : "s");
	if (more)
		fprintf(out, " (%u not drawn)", more);
	fputs("</figcaption>\n", out);
}

static void time_axis(FILE *out, int64_t t0, int64_t range, int height)
{
	double step = bz_nice_ceil((double)range / 6);
	char t[32];

	for (double v = 0; v <= (double)range * 1.0001; v += step) {
		double x = xpos(t0 + (int64_t)v, t0, range);
		bz_rfmt_ns(t, sizeof(t), v);
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", x, x, WAXIS - 6, height);
		fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", x, WAXIS - 9,
			v == 0 ? "0" : t);
	}
}

/* One request's figure. */
static int waterfall(sqlite3 *h, FILE *out, sqlite3_stmt *tree, sqlite3_stmt *attrs, sqlite3_stmt *count,
		     sqlite3_int64 span_id, unsigned n)
{
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	unsigned rows = 0, total = 0;
	int s;

	sqlite3_reset(tree);
	sqlite3_bind_int64(tree, 1, span_id);
	sqlite3_bind_int(tree, 3, BZ_WATERFALL_DEPTH);
	sqlite3_bind_int(tree, 4, BZ_WATERFALL_ROWS);
	while ((s = sqlite3_step(tree)) == SQLITE_ROW) {
		int64_t a = sqlite3_column_int64(tree, C_START), b = sqlite3_column_int64(tree, C_END);
		t0 = a < t0 ? a : t0;
		t1 = b > t1 ? b : t1;
		rows++;
	}
	if (s != SQLITE_DONE)
		return -EIO;
	if (!rows)
		return 0;
	/* how many spans are under it in all (the drawing stops at BZ_WATERFALL_ROWS) */
	sqlite3_reset(count);
	sqlite3_bind_int64(count, 1, span_id);
	sqlite3_bind_int(count, 3, BZ_WATERFALL_DEPTH);
	total = sqlite3_step(count) == SQLITE_ROW ? (unsigned)sqlite3_column_int(count, 0) : rows;

	int64_t range = t1 > t0 ? t1 - t0 : 1;
	int height = WAXIS + (int)rows * WROW + 6;
	sqlite3_reset(tree);
	fprintf(out, "<figure class=\"wf\" id=\"slow-%u\">", n);
	for (unsigned r = 0; (s = sqlite3_step(tree)) == SQLITE_ROW; r++) {
		if (r == 0) {
			caption(out, tree, n, rows, total > rows ? total - rows : 0);
			fprintf(out, "<svg class=\"chart waterfall\" viewBox=\"0 0 %d %d\" role=\"img\" "
				"aria-label=\"waterfall\">", WW, height);
			time_axis(out, t0, range, height);
		}
		span_row(out, tree, attrs, (int)r, t0, range);
	}
	fputs("</svg><pre class=\"detail\" hidden></pre></figure>\n", out);
	return s == SQLITE_DONE ? 0 : -EIO;
}

int bz_report_waterfalls(sqlite3 *h, FILE *out, const int64_t *span_ids, size_t n, char *err, size_t errlen)
{
	static const char count_sql[] =
		"WITH RECURSIVE tree(id, depth) AS (VALUES (?1, 0) UNION ALL"
		" SELECT s.span_id, t.depth + 1 FROM span_rows s JOIN tree t ON s.parent_id = t.id"
		" WHERE t.depth < ?3 AND s.trace_id = (SELECT trace_id FROM span_rows WHERE span_id = ?1))"
		" SELECT count(*) FROM tree";
	static const char attrs_sql[] =
		"SELECT key, value FROM span_attribute_rows WHERE span_id = ?1 ORDER BY key LIMIT 40";
	sqlite3_stmt *tree = NULL, *attrs = NULL, *count = NULL;
	int rc = 0;
	size_t i;

	/* a database of schema 7 or older has no kernel-wait columns */
	sqlite3_stmt *probe = NULL;
	int v8 = sqlite3_prepare_v2(h, "SELECT tx_queue_ns FROM span_rows LIMIT 0", -1, &probe, NULL) == SQLITE_OK;
	sqlite3_finalize(probe);
	if (sqlite3_prepare_v2(h, v8 ? tree_sql : tree_sql_v7, -1, &tree, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, count_sql, -1, &count, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, attrs_sql, -1, &attrs, NULL) != SQLITE_OK) {
		rc = -EIO;
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((rc = waterfall(h, out, tree, attrs, count, span_ids[i], (unsigned)i + 1)))
			goto out;
out:
	if (rc)
		snprintf(err, errlen, "report: the slowest requests: %s", sqlite3_errmsg(h));
	sqlite3_finalize(tree);
	sqlite3_finalize(count);
	sqlite3_finalize(attrs);
	return rc ? rc : (int)n;
}
