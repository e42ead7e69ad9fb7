/* test_report_stats.c - the HTML report's numbers (analyze/report_stats.c)
 * on a small database made here: nearest-rank percentiles, errors, queue
 * shares, histogram buckets, time buckets and concurrency, the slowest
 * spans in order; and the page (analyze/report_html.c) built from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "analyze/report_html.h"
#include "analyze/report_stats.h"
#include "analyze/schema_sql.h"

#define T0 1700000000000000000LL /* capture start, Unix ns */
#define MS 1000000LL

static void exec(sqlite3 *h, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* route A (server, key 1): 10 spans of 1..10 ms, the 10th an error, each
 * with a queue of a tenth of it (accept half of that); route B (client,
 * key 2): 2 spans of 5 ms.  One incomplete server span, left out. */
static sqlite3 *make_db(void)
{
	sqlite3 *h = NULL;
	char sql[1024];

	assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
	exec(h, bz_schema_sql);
	snprintf(sql, sizeof(sql), "INSERT INTO capture (id, source, hostname, start_ns, end_ns, complete, redacted)"
		 " VALUES (1, 'x.bz.zst', 'h<o>st', %lld, %lld, 1, 1)", T0, T0 + 1000 * MS);
	exec(h, sql);
	exec(h, "INSERT INTO route_stat_rows (route_key, service_name, kind, http_route, http_method, requests,"
		" errors, error_rate, p50_ns, p95_ns, p99_ns, queue_share)"
		" VALUES (1, 'shop', 'server', '/a/<b>', 'GET', 10, 1, 0.1, 0, 0, 0, 0.1),"
		" (2, 'shop', 'client', '/b', 'POST', 2, 0, 0, 0, 0, 0, NULL)");
	for (int i = 1; i <= 10; i++) {
		long long d = i * MS, q = d / 10;
		snprintf(sql, sizeof(sql), "INSERT INTO span_rows (span_id, trace_id, kind, name, start_ns, end_ns,"
			 " duration_ns, queue_ns, accept_queue_ns, recv_queue_ns, processing_ns, status, incomplete,"
			 " service_name, route_key) VALUES (%d, x'0%x', 'server', 'GET /a/<b>', %lld, %lld, %lld, %lld,"
			 " %lld, %lld, %lld, '%s', 0, 'shop', 1)", i * 4, i, T0 + i * 100 * MS, T0 + i * 100 * MS + d, d,
			 q, q / 2, q - q / 2, d - q, i == 10 ? "error" : "ok");
		exec(h, sql);
	}
	for (int i = 0; i < 2; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO span_rows (span_id, trace_id, parent_id, kind, name, start_ns,"
			 " end_ns, duration_ns, status, incomplete, service_name, route_key) VALUES (%d, x'0a', 40,"
			 " 'client', 'POST /b', %lld, %lld, %lld, 'ok', 0, 'shop', 2)", 100 + i * 4,
			 T0 + 1000 * MS + i * MS, T0 + 1000 * MS + i * MS + 5 * MS, 5 * MS);
		exec(h, sql);
	}
	snprintf(sql, sizeof(sql), "INSERT INTO span_rows (span_id, trace_id, kind, name, start_ns, end_ns, duration_ns,"
		 " queue_ns, status, incomplete, service_name, route_key) VALUES (200, x'ff', 'server', 'GET /a/<b>',"
		 " %lld, %lld, 900000000000, 0, 'unset', 1, 'shop', 1)", T0, T0 + 900000000000LL);
	exec(h, sql);
	exec(h, "INSERT INTO parse_stats VALUES ('spans_server', 11), ('spans_client', 2), ('spans_incomplete', 1)");
	return h;
}

static void test_helpers(void **state)
{
	assert_int_equal(bz_hist_edge(0), 1000);
	assert_int_equal(bz_hist_edge(1), 2000);
	assert_int_equal(bz_hist_edge(2), 5000);
	assert_int_equal(bz_hist_edge(3), 10000);
	assert_true(bz_hist_edge(BZ_HIST_BUCKETS - 1) == INT64_MAX);
	assert_int_equal(bz_hist_bucket(0), 0);
	assert_int_equal(bz_hist_bucket(1000), 0);   /* an edge is in the bucket it ends */
	assert_int_equal(bz_hist_bucket(1001), 1);
	assert_int_equal(bz_hist_bucket(3 * MS), 11); /* (2 ms, 5 ms] */
	assert_int_equal(bz_hist_bucket(INT64_MAX / 2), BZ_HIST_BUCKETS - 1);
	assert_int_equal(bz_series_width(1000 * MS), 10 * MS);    /* 1 s: 10 ms buckets, 100 of them */
	assert_int_equal(bz_series_width(60000 * MS), 1000 * MS); /* 60 s: 1 s */
	assert_true(bz_series_width(3600000 * MS) == 60000 * MS); /* 1 h: 1 min */
	for (int64_t span = 1; span < 100000000000000LL; span = span * 3 + 7)
		assert_true(span / bz_series_width(span) < BZ_SERIES_MAX);
	assert_int_equal(bz_rank_of(0.5, 10), 5);
	assert_int_equal(bz_rank_of(0.9, 10), 9);
	assert_int_equal(bz_rank_of(0.99, 10), 10);
	assert_int_equal(bz_rank_of(0.5, 1), 1);
}

static void test_stats(void **state)
{
	sqlite3 *h = make_db();
	struct bz_rstats st;
	char err[256];

	assert_int_equal(bz_rstats_load(h, &st, 3, err, sizeof(err)), 0);
	assert_int_equal(st.nroutes, 2);
	const struct bz_rgroup *a = &st.routes[0], *b = &st.routes[1]; /* server first */
	assert_string_equal(a->kind, "server");
	assert_string_equal(a->route, "/a/<b>");
	assert_int_equal(a->requests, 10); /* the incomplete span is left out */
	assert_int_equal(a->errors, 1);
	assert_int_equal(a->p50, 5 * MS);
	assert_int_equal(a->p90, 9 * MS);
	assert_int_equal(a->p99, 10 * MS);
	assert_int_equal(a->max, 10 * MS);
	assert_true(a->queue_ns / a->total_ns > 0.0999 && a->queue_ns / a->total_ns < 0.1001);
	assert_true(a->accept_ns / a->total_ns > 0.0499 && a->accept_ns / a->total_ns < 0.0501);
	assert_int_equal(a->hist.count[bz_hist_bucket(1 * MS)], 1);  /* (500 us, 1 ms] */
	assert_int_equal(a->hist.count[bz_hist_bucket(2 * MS)], 1);  /* (1, 2] */
	assert_int_equal(a->hist.count[bz_hist_bucket(5 * MS)], 3);  /* 3, 4, 5 */
	assert_int_equal(a->hist.count[bz_hist_bucket(10 * MS)], 5); /* 6 .. 10 */
	assert_int_equal(b->requests, 2);
	assert_int_equal(b->p50, 5 * MS);
	assert_int_equal(b->with_queue, 0);
	assert_int_equal(st.nservices, 2);
	assert_int_equal(st.services[0].requests, 10);
	assert_int_equal(st.services[1].requests, 2);

	/* the series: server spans, 10 ms buckets from T0 */
	assert_string_equal(st.series_kind, "server");
	assert_int_equal(st.width_ns, 10 * MS);
	assert_int_equal(st.t0_ns, T0);
	unsigned b3 = 30; /* span 3 starts at +300 ms and lasts 3 ms */
	assert_int_equal(st.buckets[b3].requests, 1);
	assert_int_equal(st.buckets[b3].p99, 3 * MS);
	assert_true(st.buckets[b3].busy_ns == 3 * MS);
	assert_int_equal(st.buckets[b3 + 1].requests, 0);
	assert_int_equal(st.buckets[100].errors, 1); /* span 10 at +1000 ms */
	uint64_t total = 0;
	for (unsigned i = 0; i < st.nbuckets; i++)
		total += st.buckets[i].requests;
	assert_int_equal(total, 10);

	/* the 3 slowest complete server spans, slowest first */
	assert_int_equal(st.nslow, 3);
	assert_int_equal(st.slow[0].span_id, 40);
	assert_int_equal(st.slow[1].span_id, 36);
	assert_int_equal(st.slow[2].span_id, 32);
	bz_rstats_free(&st);
	sqlite3_close(h);
}

static void test_page(void **state)
{
	sqlite3 *h = make_db();
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bz_html_opts o = { .source = "/x/<y>.db", .nonce = "abc123" };

	assert_non_null(f);
	assert_int_equal(bz_report_html(h, f, &o, err, sizeof(err)), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "<!DOCTYPE html>"));
	assert_non_null(strstr(buf, "script-src 'nonce-abc123'"));
	assert_non_null(strstr(buf, "<script nonce=\"abc123\">"));
	assert_null(strstr(buf, "@@")); /* every marker replaced */
	assert_non_null(strstr(buf, "beyla report: &lt;y&gt;.db"));
	assert_non_null(strstr(buf, "h&lt;o&gt;st"));
	assert_null(strstr(buf, "<b>st")); /* the raw host name never */
	assert_non_null(strstr(buf, "data-route=\"/a/&lt;b&gt;\""));
	assert_non_null(strstr(buf, "class=\"p90\" data-v=\"9000000\""));
	assert_non_null(strstr(buf, "id=\"warn-incomplete\""));
	/* the slowest span's waterfall has its client call (two spans under it) */
	char *wf = strstr(buf, "id=\"slow-1\"");
	assert_non_null(wf);
	char *end = strstr(wf, "</figure>");
	int rows = 0;
	for (char *p = wf; (p = strstr(p, "<g class=\"span")) && p < end; p++)
		rows++;
	assert_int_equal(rows, 3);
	free(buf);
	sqlite3_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
