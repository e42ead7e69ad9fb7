/* route_stats.c - the rows of the route_stats and service_stats views (route_stats.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "route_stats.h"
#include "span_ids.h"
#include "u64map.h"

/* The percentiles both views report, nearest rank. */
static const double pct_of[3] = { 0.50, 0.95, 0.99 };

/* One row of route_stats or service_stats, being computed. */
struct stat_sums {
	int64_t requests, errors;
	int64_t dur_sum, queue_sum;
	int queue_known;       /* some span had a queue_ns: else queue_share is NULL */
	int64_t part_sum[BZ_PART_MAX]; /* sums of the spans' part_ns (span_parts.h) ... */
	unsigned part_known;   /* ... bit k: some span had part k, else its column is NULL */
	int64_t seen;          /* spans met by the ordered walk */
	int64_t pct[3];
};

struct svc_group;

struct route_group {
	int64_t key;
	char *text[4];         /* service, kind, route, method; NULL: SQL NULL */
	struct stat_sums st;
	struct svc_group *svc; /* its service and kind (set at the end) */
	int64_t *durs;         /* the durations, while they are kept */
	size_t ndurs, cap_durs;
};

/* A service and kind: the route groups rs->by_svc[first .. first + n). */
struct svc_group {
	const char *service, *kind; /* its first route group's texts */
	struct stat_sums st;
	size_t first, n;
};

struct bz_route_stats {
	struct bz_u64map by_key;     /* route_key -> struct route_group */
	struct route_group **groups; /* in order of first span */
	size_t n, cap;
	size_t kept, keep_max;       /* durations kept in memory, and their bound */
	int walk;                    /* over the bound: percentiles from span_rows */
	struct svc_group *svcs;      /* made at the end */
	size_t nsvcs;
	struct route_group **by_svc; /* the route groups, ordered by service group */
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
	free(rs->svcs);
	free(rs->by_svc);
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
		       int queue_known, int64_t queue_ns, const int64_t part_ns[BZ_PART_MAX])
{
	struct route_group *g = bz_u64map_get(&rs->by_key, (uint64_t)key);

	if (!g) {
		const char *text[4] = { service, kind, route, method };
		if (!(g = new_group(rs, key, text)))
			return -ENOMEM;
	}
	g->st.requests++;
	g->st.errors += !!error;
	g->st.dur_sum = add_sat(g->st.dur_sum, duration_ns);
	if (queue_known) {
		g->st.queue_sum = add_sat(g->st.queue_sum, queue_ns);
		g->st.queue_known = 1;
	}
	for (int k = 0; part_ns && k < BZ_PART_MAX; k++)
		if (part_ns[k] != INT64_MIN) {
			g->st.part_sum[k] = add_sat(g->st.part_sum[k], part_ns[k]);
			g->st.part_known |= 1u << k;
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

static int same_text(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* Groups the route groups by service and kind (service_stats's rows): sums
 * added up, rs->by_svc ordered so each service's routes are together. */
static int make_services(struct bz_route_stats *rs)
{
	struct bz_u64map by_hash = { 0 }; /* hash of service and kind -> svc index + 1 */
	size_t *svc_of = calloc(rs->n ? rs->n : 1, sizeof(*svc_of));
	int rc = 0;

	rs->svcs = calloc(rs->n ? rs->n : 1, sizeof(*rs->svcs));
	rs->by_svc = calloc(rs->n ? rs->n : 1, sizeof(*rs->by_svc));
	if (!svc_of || !rs->svcs || !rs->by_svc) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rs->n; i++) {
		struct route_group *g = rs->groups[i];
		const char *sv = g->text[0] ? g->text[0] : "", *kd = g->text[1] ? g->text[1] : "";
		uint64_t h = bz_id_hash(bz_id_hash(BZ_ID_SEED0, sv, strlen(sv) + 1), kd, strlen(kd) + 1);
		uintptr_t v = (uintptr_t)bz_u64map_get(&by_hash, h);
		size_t k = v ? v - 1 : rs->nsvcs;
		/* a 64-bit collision between two services: search them all */
		if (v && !(same_text(rs->svcs[k].service, g->text[0]) && same_text(rs->svcs[k].kind, g->text[1])))
			for (k = 0; k < rs->nsvcs; k++)
				if (same_text(rs->svcs[k].service, g->text[0]) && same_text(rs->svcs[k].kind, g->text[1]))
					break;
		if (k == rs->nsvcs) {
			rs->svcs[k].service = g->text[0];
			rs->svcs[k].kind = g->text[1];
			rs->nsvcs++;
			if (!v && bz_u64map_put(&by_hash, h, (void *)(uintptr_t)(k + 1))) {
				rc = -ENOMEM;
				goto out;
			}
		}
		struct stat_sums *t = &rs->svcs[k].st;
		t->requests += g->st.requests;
		t->errors += g->st.errors;
		t->dur_sum = add_sat(t->dur_sum, g->st.dur_sum);
		t->queue_sum = add_sat(t->queue_sum, g->st.queue_sum);
		t->queue_known |= g->st.queue_known;
		for (int p = 0; p < BZ_PART_MAX; p++)
			t->part_sum[p] = add_sat(t->part_sum[p], g->st.part_sum[p]);
		t->part_known |= g->st.part_known;
		rs->svcs[k].n++;
		svc_of[i] = k;
	}
	for (size_t k = 0, first = 0; k < rs->nsvcs; k++) {
		rs->svcs[k].first = first;
		first += rs->svcs[k].n;
		rs->svcs[k].n = 0;
	}
	for (size_t i = 0; i < rs->n; i++) {
		struct svc_group *sg = &rs->svcs[svc_of[i]];
		rs->by_svc[sg->first + sg->n++] = rs->groups[i];
		rs->groups[i]->svc = sg;
	}
out:
	bz_u64map_free(&by_hash);
	free(svc_of);
	return rc;
}

/* The nearest-rank rank (1-based) of percentile p among n: the first r
 * with r >= p * n, i.e. ceil(p * n), as the window queries computed it. */
static int64_t rank_of(double p, int64_t n)
{
	int64_t r = (int64_t)ceil(p * (double)n);
	return r < 1 ? 1 : r > n ? n : r;
}

/* Kept durations <= v in a sorted array. */
static size_t count_le(const int64_t *d, size_t n, int64_t v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The r-th smallest duration (1-based) of a service's routes, whose arrays
 * are sorted: the smallest v with r durations <= v, found by bisecting the
 * value range (no merged copy of the arrays). */
static int64_t svc_rank(const struct bz_route_stats *rs, const struct svc_group *sg, int64_t r)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	for (size_t j = 0; j < sg->n; j++) {
		const struct route_group *g = rs->by_svc[sg->first + j];
		if (g->ndurs && g->durs[0] < lo)
			lo = g->durs[0];
		if (g->ndurs && g->durs[g->ndurs - 1] > hi)
			hi = g->durs[g->ndurs - 1];
	}
	while (lo < hi) {
		int64_t mid = (int64_t)((uint64_t)lo + ((uint64_t)hi - (uint64_t)lo) / 2);
		size_t c = 0;
		for (size_t j = 0; j < sg->n; j++) {
			const struct route_group *g = rs->by_svc[sg->first + j];
			c += count_le(g->durs, g->ndurs, mid);
		}
		if ((int64_t)c >= r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The percentiles from the kept durations: each route's sorted. */
static void sort_percentiles(struct bz_route_stats *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct route_group *g = rs->groups[i];
		if (g->ndurs)
			qsort(g->durs, g->ndurs, sizeof(*g->durs), cmp_i64);
		for (int k = 0; k < 3; k++)
			g->st.pct[k] = g->ndurs ? g->durs[rank_of(pct_of[k], (int64_t)g->ndurs) - 1] : 0;
	}
	for (size_t k = 0; k < rs->nsvcs; k++)
		for (int p = 0; p < 3; p++)
			rs->svcs[k].st.pct[p] = svc_rank(rs, &rs->svcs[k], rank_of(pct_of[p], rs->svcs[k].st.requests));
}

static int sql_err(sqlite3 *h, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "route_stats: %s: %s", what, sqlite3_errmsg(h));
	return -EIO;
}

/* One more span of the row t, of duration d, in ascending order. */
static int walk_step(struct stat_sums *t, int64_t d)
{
	if (t->seen == t->requests)
		return -1;
	int64_t r = ++t->seen;
	for (int k = 0; k < 3; k++)
		if (r == rank_of(pct_of[k], t->requests))
			t->pct[k] = d;
	return 0;
}

/* Without kept durations: the complete spans of span_rows in ascending
 * duration, each counted in its route's and its service's row. */
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
		int64_t d = sqlite3_column_int64(st, 1);
		if (!g || walk_step(&g->st, d) || walk_step(&g->svc->st, d)) {
			snprintf(err, errlen, "route_stats: span_rows holds spans the analysis did not count");
			rc = -EIO;
			break;
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = sql_err(h, err, errlen, "walk");
	sqlite3_finalize(st);
	for (size_t i = 0; !rc && i < rs->n; i++) {
		if (rs->groups[i]->st.seen != rs->groups[i]->st.requests) {
			snprintf(err, errlen, "route_stats: span_rows lacks spans the analysis counted");
			rc = -EIO;
		}
	}
	return rc;
}

/* The columns both tables share, from bind position i: requests, errors,
 * error_rate, the percentiles, queue_share (the rounding is SQLite's, as
 * the window queries did it: see the statements). */
static void bind_sums(sqlite3_stmt *st, int i, const struct stat_sums *t)
{
	sqlite3_bind_int64(st, i, t->requests);
	sqlite3_bind_int64(st, i + 1, t->errors);
	for (int k = 0; k < 3; k++)
		sqlite3_bind_int64(st, i + 2 + k, t->pct[k]);
	if (t->queue_known)
		sqlite3_bind_int64(st, i + 5, t->queue_sum);
	else
		sqlite3_bind_null(st, i + 5);
	sqlite3_bind_int64(st, i + 6, t->dur_sum);
	for (int k = 0; k < BZ_PART_MAX; k++)
		if (t->part_known & (1u << k))
			sqlite3_bind_int64(st, i + 7 + k, t->part_sum[k]);
		else
			sqlite3_bind_null(st, i + 7 + k);
}

static int insert_rows(struct bz_route_stats *rs, sqlite3 *h, char *err, size_t errlen)
{
	static const char route_sql[] =
		"INSERT INTO route_stat_rows (route_key, service_name, kind, http_route, http_method,"
		" requests, errors, error_rate, p50_ns, p95_ns, p99_ns, queue_share,"
		" rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ROUND(1.0 * ?7 / ?6, 4), ?8, ?9, ?10,"
		" ROUND(1.0 * ?11 / NULLIF(?12, 0), 4), ?13, ?14, ?15, ?16, ?17)";
	static const char svc_sql[] =
		"INSERT INTO service_stat_rows (service_name, kind,"
		" requests, errors, error_rate, p50_ns, p95_ns, p99_ns, queue_share,"
		" rx_backlog_ns, tx_queue_ns, on_cpu_ns, runq_ns, blocked_ns)"
		" VALUES (?1, ?2, ?3, ?4, ROUND(1.0 * ?4 / ?3, 4), ?5, ?6, ?7,"
		" ROUND(1.0 * ?8 / NULLIF(?9, 0), 4), ?10, ?11, ?12, ?13, ?14)";
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(h, route_sql, -1, &st, NULL) != SQLITE_OK)
		return sql_err(h, err, errlen, "insert");
	for (size_t i = 0; i < rs->n && !rc; i++) {
		const struct route_group *g = rs->groups[i];
		sqlite3_bind_int64(st, 1, g->key);
		for (int k = 0; k < 4; k++)
			sqlite3_bind_text(st, 2 + k, g->text[k], -1, SQLITE_STATIC); /* NULL binds NULL */
		bind_sums(st, 6, &g->st);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_err(h, err, errlen, "insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(h, svc_sql, -1, &st, NULL) != SQLITE_OK)
		return sql_err(h, err, errlen, "insert");
	for (size_t k = 0; k < rs->nsvcs && !rc; k++) {
		sqlite3_bind_text(st, 1, rs->svcs[k].service, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, rs->svcs[k].kind, -1, SQLITE_STATIC);
		bind_sums(st, 3, &rs->svcs[k].st);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sql_err(h, err, errlen, "insert");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int bz_route_stats_write(struct bz_route_stats *rs, sqlite3 *h, char *err, size_t errlen)
{
	int rc;

	if (!rs->n)
		return 0;
	if ((rc = make_services(rs))) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	if (!rs->walk)
		sort_percentiles(rs);
	else if ((rc = walk_percentiles(rs, h, err, errlen)))
		return rc;
	return insert_rows(rs, h, err, errlen);
}
