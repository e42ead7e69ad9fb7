/* report_stats.c - the HTML report's numbers from one pass over span_rows
 * (report_stats.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "report_stats.h"
#include "report.h"
#include "u64map.h"

int64_t bz_hist_edge(unsigned i)
{
	static const int64_t mant[3] = { 1, 2, 5 };
	int64_t e = 1000; /* 1 us */

	if (i >= BZ_HIST_BUCKETS - 1)
		return INT64_MAX;
	for (unsigned k = 0; k < i / 3; k++)
		e *= 10;
	return e * mant[i % 3];
}

unsigned bz_hist_bucket(int64_t d)
{
	unsigned i = 0;

	while (i < BZ_HIST_BUCKETS - 1 && d > bz_hist_edge(i))
		i++;
	return i;
}

int64_t bz_series_width(int64_t span_ns)
{
	static const int64_t steps[] = { 1, 2, 5 };
	int64_t w = 1000000; /* 1 ms */

	if (span_ns <= 0)
		return w;
	for (int64_t dec = 1000000; dec <= 10000000000LL; dec *= 10)
		for (int k = 0; k < 3 && dec * steps[k] <= 20000000000LL; k++) {
			w = dec * steps[k];
			if (span_ns / w < BZ_SERIES_MAX)
				return w;
		}
	/* beyond 20 s: whole minutes (1, 2, 5, 10, 15, 30, 60, ... minutes) */
	static const int64_t minutes[] = { 1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440 };
	for (size_t k = 0; k < sizeof(minutes) / sizeof(minutes[0]); k++) {
		w = minutes[k] * 60000000000LL;
		if (span_ns / w < BZ_SERIES_MAX)
			return w;
	}
	return span_ns / (BZ_SERIES_MAX - 1) + 1;
}

int64_t bz_rank_of(double p, int64_t n)
{
	int64_t r = (int64_t)ceil(p * (double)n);
	return r < 1 ? 1 : r > n ? n : r;
}

/* One complete span, as the sorts need it. */
struct sample {
	uint32_t group;   /* index in the route table */
	uint32_t bucket;  /* series bucket, UINT32_MAX: not in the series */
	int64_t dur;
	int64_t queue;    /* -1: no queue_ns */
};

static int err_sql(sqlite3 *h, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "report: %s: %s", what, sqlite3_errmsg(h));
	return -EIO;
}

static char *col_dup(sqlite3_stmt *st, int col, int *oom)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	char *d;

	if (!t)
		return NULL;
	if (!(d = strdup((const char *)t)))
		*oom = 1;
	return d;
}

static void group_free(struct bz_rgroup *g)
{
	free(g->service);
	free(g->kind);
	free(g->route);
	free(g->method);
}

void bz_rstats_free(struct bz_rstats *st)
{
	for (size_t i = 0; i < st->nroutes; i++)
		group_free(&st->routes[i]);
	for (size_t i = 0; i < st->nservices; i++)
		group_free(&st->services[i]);
	free(st->routes);
	free(st->services);
	free(st->slow);
	memset(st, 0, sizeof(*st));
}

/* ---- the groups ---------------------------------------------------------- */

static int cmp_text(const char *a, const char *b) { return bz_report_cmp_text(a, b); }

/* The summary's order (report.c's): service, server before client, the
 * most requested first, then route and method. */
static int cmp_group(const void *pa, const void *pb)
{
	const struct bz_rgroup *a = pa, *b = pb;
	int c;

	if ((c = cmp_text(a->service, b->service)) || (c = -cmp_text(a->kind, b->kind)))
		return c;
	if (a->requests != b->requests)
		return a->requests > b->requests ? -1 : 1;
	if ((c = cmp_text(a->route, b->route)))
		return c;
	return cmp_text(a->method, b->method);
}

/* Every row of route_stat_rows as a group, and key -> group index + 1 in
 * by_key (the value is stored as a pointer-sized integer). */
static int load_groups(sqlite3 *h, struct bz_rstats *st, struct bz_u64map *by_key, char *err, size_t errlen)
{
	static const char sql[] =
		"SELECT route_key, service_name, kind, http_route, http_method FROM route_stat_rows";
	sqlite3_stmt *q = NULL;
	size_t cap = 0;
	int s, rc = 0, oom = 0;

	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
		return err_sql(h, err, errlen, "route groups");
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		if (st->nroutes == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct bz_rgroup *g = realloc(st->routes, nc * sizeof(*g));
			if (!g) {
				rc = -ENOMEM;
				break;
			}
			st->routes = g;
			cap = nc;
		}
		struct bz_rgroup *g = &st->routes[st->nroutes++];
		memset(g, 0, sizeof(*g));
		g->service = col_dup(q, 1, &oom);
		g->kind = col_dup(q, 2, &oom);
		g->route = col_dup(q, 3, &oom);
		g->method = col_dup(q, 4, &oom);
		g->server = g->kind && !strcmp(g->kind, "server");
		if (oom || bz_u64map_put(by_key, (uint64_t)sqlite3_column_int64(q, 0), (void *)(uintptr_t)st->nroutes)) {
			rc = -ENOMEM;
			break;
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = err_sql(h, err, errlen, "route groups");
	sqlite3_finalize(q);
	return rc;
}

/* ---- the series' time range ------------------------------------------------ */

static int64_t one_int(sqlite3 *h, const char *sql, int64_t dflt, int *rc)
{
	sqlite3_stmt *q = NULL;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK) {
		*rc = -EIO;
		return dflt;
	}
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* The series covers the capture (start_ns .. end_ns) and every span start
 * (spans_by_start makes min and max cheap). */
static int series_range(sqlite3 *h, struct bz_rstats *st, char *err, size_t errlen)
{
	int rc = 0;
	int64_t smin = one_int(h, "SELECT min(start_ns) FROM span_rows", INT64_MAX, &rc);
	int64_t smax = one_int(h, "SELECT max(start_ns) FROM span_rows", INT64_MIN, &rc);
	int64_t cstart = one_int(h, "SELECT start_ns FROM capture", INT64_MAX, &rc);
	int64_t cend = one_int(h, "SELECT end_ns FROM capture", INT64_MIN, &rc);
	int any_server = (int)one_int(h, "SELECT EXISTS (SELECT 1 FROM span_rows WHERE kind = 'server')", 0, &rc);

	if (rc)
		return err_sql(h, err, errlen, "time range");
	if (smin == INT64_MAX)
		return 0; /* no span: no series */
	int64_t t0 = smin < cstart ? smin : cstart;
	int64_t t1 = smax > cend ? smax : cend;
	st->series_kind = any_server ? "server" : "client";
	st->width_ns = bz_series_width(t1 - t0);
	st->t0_ns = t0 - t0 % st->width_ns; /* round edges: 12:00:01.000, not .437 */
	st->nbuckets = (unsigned)((t1 - st->t0_ns) / st->width_ns) + 1;
	if (st->nbuckets > BZ_SERIES_MAX)
		st->nbuckets = BZ_SERIES_MAX;
	return 0;
}

/* Adds the time [start, end) of one span to the buckets it overlaps. */
static void add_busy(struct bz_rstats *st, int64_t start, int64_t end)
{
	int64_t from = start - st->t0_ns, to = end - st->t0_ns;
	int64_t last_end = (int64_t)st->nbuckets * st->width_ns;

	if (from < 0)
		from = 0;
	if (to > last_end)
		to = last_end;
	for (int64_t b = from / st->width_ns; b < st->nbuckets && b * st->width_ns < to; b++) {
		int64_t lo = b * st->width_ns, hi = lo + st->width_ns;
		int64_t a = from > lo ? from : lo, z = to < hi ? to : hi;
		if (z > a)
			st->buckets[b].busy_ns += (double)(z - a);
	}
}

/* ---- the scan ---------------------------------------------------------------- */

/* Keeps span (dur, id) if it is among the `cap` slowest so far: the array
 * is sorted slowest first, and once full a span only goes in when it beats
 * the last, which after the first few thousand spans is rare. */
static void keep_slow(struct bz_rstats *st, size_t cap, int64_t dur, int64_t id)
{
	size_t i;

	if (!cap)
		return;
	if (st->nslow == cap) {
		const struct bz_slow *last = &st->slow[cap - 1];
		if (dur < last->dur || (dur == last->dur && id > last->span_id))
			return;
		st->nslow--;
	}
	for (i = st->nslow; i > 0; i--) {
		const struct bz_slow *p = &st->slow[i - 1];
		if (p->dur > dur || (p->dur == dur && p->span_id < id))
			break;
		st->slow[i] = *p;
	}
	st->slow[i].dur = dur;
	st->slow[i].span_id = id;
	st->nslow++;
}

static int scan(sqlite3 *h, struct bz_rstats *st, struct bz_u64map *by_key, unsigned slowest, struct sample **out,
		size_t *nout, char *err, size_t errlen)
{
#define SCAN_SQL(V8)                                                                          \
	"SELECT route_key, kind = 'server', status = 'error', start_ns, duration_ns, queue_ns,"    \
	" accept_queue_ns, recv_queue_ns, span_id, " V8 " FROM span_rows WHERE incomplete = 0"
	/* the columns of schema 8, NULL in an older database */
	static const char sql[] = SCAN_SQL("tx_queue_ns, processing_ns, on_cpu_ns, runq_ns, blocked_ns");
	static const char sql_v7[] = SCAN_SQL("NULL, NULL, NULL, NULL, NULL");
	sqlite3_stmt *q = NULL, *probe = NULL;
	int v8 = sqlite3_prepare_v2(h, "SELECT tx_queue_ns FROM span_rows LIMIT 0", -1, &probe, NULL) == SQLITE_OK;
	struct sample *sm = NULL;
	size_t n = 0, cap = 0;
	int s, rc = 0;
	int series_server = st->series_kind && !strcmp(st->series_kind, "server");

	sqlite3_finalize(probe);
	if (sqlite3_prepare_v2(h, v8 ? sql : sql_v7, -1, &q, NULL) != SQLITE_OK)
		return err_sql(h, err, errlen, "spans");
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		uintptr_t gi = (uintptr_t)bz_u64map_get(by_key, (uint64_t)sqlite3_column_int64(q, 0));
		int server = sqlite3_column_int(q, 1);
		int64_t start = sqlite3_column_int64(q, 3), dur = sqlite3_column_int64(q, 4);
		int has_queue = sqlite3_column_type(q, 5) != SQLITE_NULL;
		int64_t queue = has_queue ? sqlite3_column_int64(q, 5) : -1;

		if (server)
			keep_slow(st, slowest, dur, sqlite3_column_int64(q, 8));
		if (!gi)
			continue; /* route_stat_rows has every complete span's group */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 4096;
			struct sample *m = realloc(sm, nc * sizeof(*m));
			if (!m) {
				rc = -ENOMEM;
				break;
			}
			sm = m;
			cap = nc;
		}
		struct bz_rgroup *g = &st->routes[gi - 1];
		struct sample *x = &sm[n++];
		x->group = (uint32_t)(gi - 1);
		x->dur = dur;
		x->queue = queue;
		x->bucket = UINT32_MAX;
		g->requests++;
		g->errors += sqlite3_column_int(q, 2) != 0;
		g->total_ns += (double)dur;
		if (has_queue) {
			g->with_queue++;
			g->queue_ns += (double)queue;
			g->accept_ns += (double)sqlite3_column_int64(q, 6);
			g->recv_ns += (double)sqlite3_column_int64(q, 7);
		}
		if (sqlite3_column_type(q, 9) != SQLITE_NULL) {
			int64_t tx = sqlite3_column_int64(q, 9);
			g->with_tx++;
			g->tx_ns += (double)tx;
			st->has_tx |= tx > 0;
		}
		if (sqlite3_column_type(q, 11) != SQLITE_NULL) {
			g->with_sched++;
			g->sched_proc_ns += (double)sqlite3_column_int64(q, 10);
			g->on_cpu_ns += (double)sqlite3_column_int64(q, 11);
			g->runq_ns += (double)sqlite3_column_int64(q, 12);
			g->blocked_ns += (double)sqlite3_column_int64(q, 13);
			st->has_sched = 1;
		}
		unsigned hb = bz_hist_bucket(dur);
		g->hist.count[hb]++;
		g->hist.total_ns[hb] += (double)dur;
		if (has_queue)
			g->hist.queue_ns[hb] += (double)queue;
		if (st->nbuckets && server == series_server) {
			int64_t b = (start - st->t0_ns) / st->width_ns;
			if (b < 0)
				b = 0;
			if (b >= st->nbuckets)
				b = st->nbuckets - 1;
			struct bz_rbucket *rb = &st->buckets[b];
			x->bucket = (uint32_t)b;
			rb->requests++;
			rb->errors += sqlite3_column_int(q, 2) != 0;
			if (has_queue) {
				rb->total_ns += (double)dur;
				rb->queue_ns += (double)queue;
			}
			add_busy(st, start, start + dur);
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = err_sql(h, err, errlen, "spans");
	sqlite3_finalize(q);
	*out = sm;
	*nout = n;
	st->spans = n;
	return rc;
}

/* ---- percentiles ------------------------------------------------------------- */

/* The sort key of the pass in progress (qsort has no context argument). */
static const struct bz_rstats *sort_st;
static int sort_by; /* 0: route group, 1: service, 2: series bucket */

static uint64_t sample_key(const struct sample *s)
{
	if (sort_by == 0)
		return s->group;
	if (sort_by == 1)
		return sort_st->routes[s->group].service_index;
	return s->bucket;
}

static int cmp_sample(const void *pa, const void *pb)
{
	const struct sample *a = pa, *b = pb;
	uint64_t ka = sample_key(a), kb = sample_key(b);

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return a->dur < b->dur ? -1 : a->dur > b->dur;
}

/* p50/p90/p99/max of the run sm[0..n), sorted by duration. */
static void run_percentiles(const struct sample *sm, size_t n, struct bz_rgroup *g)
{
	g->p50 = sm[bz_rank_of(0.50, (int64_t)n) - 1].dur;
	g->p90 = sm[bz_rank_of(0.90, (int64_t)n) - 1].dur;
	g->p99 = sm[bz_rank_of(0.99, (int64_t)n) - 1].dur;
	g->max = sm[n - 1].dur;
}

/* Sorts by key `by`, then calls one of the three per run of equal keys. */
static void percentiles(struct bz_rstats *st, struct sample *sm, size_t n, int by)
{
	sort_st = st;
	sort_by = by;
	qsort(sm, n, sizeof(*sm), cmp_sample);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t k = sample_key(&sm[i]);
		while (j < n && sample_key(&sm[j]) == k)
			j++;
		if (by == 0)
			run_percentiles(sm + i, j - i, &st->routes[k]);
		else if (by == 1)
			run_percentiles(sm + i, j - i, &st->services[k]);
		else if (k < st->nbuckets)
			st->buckets[k].p99 = sm[i + bz_rank_of(0.99, (int64_t)(j - i)) - 1].dur;
		i = j;
	}
}

/* ---- services ----------------------------------------------------------------- */

/* One service row per (service, kind) of the sorted routes, summed. */
static int make_services(struct bz_rstats *st)
{
	st->services = calloc(st->nroutes ? st->nroutes : 1, sizeof(*st->services));
	if (!st->services)
		return -ENOMEM;
	for (size_t i = 0; i < st->nroutes; i++) {
		struct bz_rgroup *r = &st->routes[i];
		struct bz_rgroup *sv = st->nservices ? &st->services[st->nservices - 1] : NULL;
		if (!sv || cmp_text(sv->service, r->service) || cmp_text(sv->kind, r->kind)) {
			sv = &st->services[st->nservices++];
			if ((r->service && !(sv->service = strdup(r->service))) ||
			    (r->kind && !(sv->kind = strdup(r->kind))))
				return -ENOMEM;
			sv->server = r->server;
		}
		r->service_index = st->nservices - 1;
		sv->requests += r->requests;
		sv->errors += r->errors;
		sv->total_ns += r->total_ns;
		sv->queue_ns += r->queue_ns;
		sv->accept_ns += r->accept_ns;
		sv->recv_ns += r->recv_ns;
		sv->with_queue += r->with_queue;
		sv->tx_ns += r->tx_ns;
		sv->with_tx += r->with_tx;
		sv->sched_proc_ns += r->sched_proc_ns;
		sv->on_cpu_ns += r->on_cpu_ns;
		sv->runq_ns += r->runq_ns;
		sv->blocked_ns += r->blocked_ns;
		sv->with_sched += r->with_sched;
		for (unsigned b = 0; b < BZ_HIST_BUCKETS; b++) {
			sv->hist.count[b] += r->hist.count[b];
			sv->hist.total_ns[b] += r->hist.total_ns[b];
			sv->hist.queue_ns[b] += r->hist.queue_ns[b];
		}
	}
	return 0;
}

/* Drops the groups no complete span fell in (route_stat_rows has none, but
 * a database from another tool might). */
static void drop_empty(struct bz_rstats *st)
{
	size_t k = 0;

	for (size_t i = 0; i < st->nroutes; i++) {
		if (st->routes[i].requests)
			st->routes[k++] = st->routes[i];
		else
			group_free(&st->routes[i]);
	}
	st->nroutes = k;
}

int bz_rstats_load(sqlite3 *h, struct bz_rstats *st, unsigned slowest, char *err, size_t errlen)
{
	struct bz_u64map by_key = { 0 };
	struct sample *sm = NULL;
	size_t n = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if (slowest && !(st->slow = calloc(slowest, sizeof(*st->slow))))
		return -ENOMEM;
	if ((rc = load_groups(h, st, &by_key, err, errlen)) || (rc = series_range(h, st, err, errlen)) ||
	    (rc = scan(h, st, &by_key, slowest, &sm, &n, err, errlen)))
		goto out;
	/* The samples point at groups by index: percentiles first, in the
	 * load order, then the groups are sorted for display with their
	 * samples re-pointed. */
	percentiles(st, sm, n, 0);
	{
		uint32_t *order = malloc((st->nroutes ? st->nroutes : 1) * sizeof(*order));
		struct bz_rgroup *copy = malloc((st->nroutes ? st->nroutes : 1) * sizeof(*copy));
		if (!order || !copy) {
			free(order);
			free(copy);
			rc = -ENOMEM;
			goto out;
		}
		/* sort a copy tagged with its old index (kept in service_index
		 * for the moment), then map every sample's group */
		for (size_t i = 0; i < st->nroutes; i++) {
			copy[i] = st->routes[i];
			copy[i].service_index = i;
		}
		qsort(copy, st->nroutes, sizeof(*copy), cmp_group);
		for (size_t i = 0; i < st->nroutes; i++)
			order[copy[i].service_index] = (uint32_t)i;
		memcpy(st->routes, copy, st->nroutes * sizeof(*copy));
		for (size_t i = 0; i < n; i++)
			sm[i].group = order[sm[i].group];
		free(order);
		free(copy);
	}
	if ((rc = make_services(st)))
		goto out;
	percentiles(st, sm, n, 1);
	percentiles(st, sm, n, 2);
	drop_empty(st);
out:
	free(sm);
	bz_u64map_free(&by_key);
	return rc;
}
