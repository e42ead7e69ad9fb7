/* route_stats.c - the rows of the route_stats view (route_stats.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "route_stats.h"
#include "u64map.h"

/* The percentiles route_stats reports, nearest rank. */
static const double pct_of[3] = { 0.50, 0.95, 0.99 };

struct route_group {
	int64_t key;
	char *text[4];         /* service, kind, route, method; NULL: SQL NULL */
	int64_t requests, errors;
	int64_t dur_sum, queue_sum;
	int queue_known;       /* some span had a queue_ns: else queue_share is NULL */
	int64_t seen;          /* spans met by the ordered walk */
	int64_t pct[3];
	int64_t *durs;         /* the durations, while they are kept */
	size_t ndurs, cap_durs;
};

struct bz_route_stats {
	struct bz_u64map by_key;     /* route_key -> struct route_group */
	struct route_group **groups; /* in order of first span */
	size_t n, cap;
	size_t kept, keep_max;       /* durations kept in memory, and their bound */
	int walk;                    /* over the bound: percentiles from span_rows */
};

int bz_route_stats_new(struct bz_route_stats **out, size_t keep_max)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->keep_max = keep_max;
	(*out)->walk = keep_max == 0;
	return 0;
}

/* Past the bound, or out of memory: no duration is kept any more. */
static void stop_keeping(struct bz_route_stats *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->groups[i]->durs);
		rs->groups[i]->durs = NULL;
		rs->groups[i]->ndurs = rs->groups[i]->cap_durs = 0;
	}
	rs->kept = 0;
	rs->walk = 1;
}

static void keep_duration(struct bz_route_stats *rs, struct route_group *g, int64_t d)
{
	if (rs->kept == rs->keep_max) {
		stop_keeping(rs);
		return;
	}
	if (g->ndurs == g->cap_durs) {
		size_t nc = g->cap_durs ? g->cap_durs * 2 : 64;
		int64_t *v = realloc(g->durs, nc * sizeof(*v));
		if (!v) {
			stop_keeping(rs);
			return;
		}
		g->durs = v;
		g->cap_durs = nc;
	}
	g->durs[g->ndurs++] = d;
	rs->kept++;
}

void bz_route_stats_free(struct bz_route_stats **rsp)
{
	struct bz_route_stats *rs = *rsp;

	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		for (int k = 0; k < 4; k++)
			free(rs->groups[i]->text[k]);
		free(rs->groups[i]->durs);
		free(rs->groups[i]);
	}
	free(rs->groups);
	bz_u64map_free(&rs->by_key);
	free(rs);
	*rsp = NULL;
}

/* Sums saturate rather than wrap: SQLite's SUM() would have failed there
 * (292 years of nanoseconds), a share computed from a saturated sum is
 * merely off. */
static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static struct route_group *new_group(struct bz_route_stats *rs, int64_t key, const char *const text[4])
{
	struct route_group *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->key = key;
	for (int k = 0; k < 4; k++) {
		if (text[k] && *text[k] && !(g->text[k] = strdup(text[k])))
			goto fail;
	}
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 16;
		struct route_group **v = realloc(rs->groups, nc * sizeof(*v));
		if (!v)
			goto fail;
		rs->groups = v;
		rs->cap = nc;
	}
	if (bz_u64map_put(&rs->by_key, (uint64_t)key, g))
		goto fail;
	rs->groups[rs->n++] = g;
	return g;
fail:
	for (int k = 0; k < 4; k++)
		free(g->text[k]);
	free(g);
	return NULL;
}

int bz_route_stats_add(struct bz_route_stats *rs, int64_t key, const char *service, const char *kind,
		       const char *route, const char *method, int error, int64_t duration_ns,
		       int queue_known, int64_t queue_ns)
{
	struct route_group *g = bz_u64map_get(&rs->by_key, (uint64_t)key);

	if (!g) {
		const char *text[4] = { service, kind, route, method };
		if (!(g = new_group(rs, key, text)))
			return -ENOMEM;
	}
	g->requests++;
	g->errors += !!error;
	g->dur_sum = add_sat(g->dur_sum, duration_ns);
	if (queue_known) {
		g->queue_sum = add_sat(g->queue_sum, queue_ns);
		g->queue_known = 1;
	}
	if (!rs->walk)
		keep_duration(rs, g, duration_ns);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The nearest-rank percentiles of each group from its kept durations,
 * sorted: the rank r (1-based) of percentile p is the first with
 * r >= p * requests, i.e. ceil(p * requests). */
static void sort_percentiles(struct bz_route_stats *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct route_group *g = rs->groups[i];
		if (g->ndurs)
			qsort(g->durs, g->ndurs, sizeof(*g->durs), cmp_i64);
		for (int k = 0; k < 3; k++) {
			int64_t r = (int64_t)ceil(pct_of[k] * (double)g->requests);
			if (r < 1)
				r = 1;
			if (r > (int64_t)g->ndurs)
				r = (int64_t)g->ndurs;
			g->pct[k] = r ? g->durs[r - 1] : 0;
		}
	}
}

static int sql_err(sqlite3 *h, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "route_stats: %s: %s", what, sqlite3_errmsg(h));
	return -EIO;
}

/* A group's durations arrive in ascending order: its nearest-rank
 * percentile p is the duration of its first span whose rank r (1-based)
 * has r >= p * requests, as route_stats always computed it. */
static int walk_percentiles(struct bz_route_stats *rs, sqlite3 *h, char *err, size_t errlen)
{
	static const char sql[] =
		"SELECT route_key, duration_ns FROM span_rows WHERE incomplete = 0 ORDER BY duration_ns";
	sqlite3_stmt *st = NULL;
	int s, rc = 0;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_err(h, err, errlen, "walk");
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct route_group *g = bz_u64map_get(&rs->by_key, (uint64_t)sqlite3_column_int64(st, 0));
		if (!g || g->seen == g->requests) {
			snprintf(err, errlen, "route_stats: span_rows holds spans the analysis did not count");
			rc = -EIO;
			break;
		}
		int64_t r = ++g->seen, d = sqlite3_column_int64(st, 1);
		for (int k = 0; k < 3; k++) {
			double at = pct_of[k] * (double)g->requests;
			if ((double)r >= at && (double)(r - 1) < at)
				g->pct[k] = d;
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = sql_err(h, err, errlen, "walk");
	sqlite3_finalize(st);
	for (size_t i = 0; !rc && i < rs->n; i++) {
		if (rs->groups[i]->seen != rs->groups[i]->requests) {
			snprintf(err, errlen, "route_stats: span_rows lacks spans the analysis counted");
			rc = -EIO;
		}
	}
	return rc;
}

int bz_route_stats_write(struct bz_route_stats *rs, sqlite3 *h, char *err, size_t errlen)
{
	/* the rounding is SQLite's, as the window query did it */
	static const char sql[] =
		"INSERT INTO route_stat_rows (route_key, service_name, kind, http_route, http_method,"
		" requests, errors, error_rate, p50_ns, p95_ns, p99_ns, queue_share)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ROUND(1.0 * ?7 / ?6, 4), ?8, ?9, ?10,"
		" ROUND(1.0 * ?11 / NULLIF(?12, 0), 4))";
	sqlite3_stmt *st = NULL;
	int rc;

	if (!rs->n)
		return 0;
	if (!rs->walk)
		sort_percentiles(rs);
	else if ((rc = walk_percentiles(rs, h, err, errlen)))
		return rc;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_err(h, err, errlen, "insert");
	for (size_t i = 0; i < rs->n && !rc; i++) {
		const struct route_group *g = rs->groups[i];
		sqlite3_bind_int64(st, 1, g->key);
		for (int k = 0; k < 4; k++)
			sqlite3_bind_text(st, 2 + k, g->text[k], -1, SQLITE_STATIC); /* NULL binds NULL */
		sqlite3_bind_int64(st, 6, g->requests);
		sqlite3_bind_int64(st, 7, g->errors);
		for (int k = 0; k < 3; k++)
			sqlite3_bind_int64(st, 8 + k, g->pct[k]);
		if (g->queue_known)
			sqlite3_bind_int64(st, 11, g->queue_sum);
		else
			sqlite3_bind_null(st, 11);
		sqlite3_bind_int64(st, 12, g->dur_sum);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_err(h, err, errlen, "insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}
