/* report_stats.h - the numbers of the HTML report (report_html.h), read
 * from a finished analysis database in one pass over span_rows.
 *
 * Per route group (route_stat_rows' service, kind, route and method) and
 * per service and kind, over complete spans: requests, errors, the
 * nearest-rank p50/p90/p99 (the rank route_stats uses: ceil(p * n)) and the
 * maximum of duration_ns, the time in queue (accept queue, receive queue)
 * as a share of the total, and a latency histogram on log-scale buckets
 * (1-2-5 steps from 1 us to 1000 s) whose bars say how much of their
 * requests' time was in queue.  Over the capture, in at most
 * BZ_SERIES_MAX buckets of a round width: requests, errors, p99, the
 * in-queue share (spans counted in the bucket they start in) and the mean
 * concurrency (requests in flight: the time spans overlap the bucket, over
 * its width).  The series is of server spans, or of client spans when the
 * capture has no server span.  And the slowest complete server spans (for
 * the waterfalls), found in the same pass rather than by a second one.
 *
 * Memory: 24 bytes per complete span while loading (the durations are
 * sorted to get exact percentiles), then a fixed amount per group.
 */
#ifndef BEYLA_REPORT_STATS_H
#define BEYLA_REPORT_STATS_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

#define BZ_HIST_BUCKETS 29 /* upper edges 1us 2us 5us 10us ... 1000s, then "longer" */
#define BZ_SERIES_MAX 120

struct bz_hist {
	uint64_t count[BZ_HIST_BUCKETS];
	double total_ns[BZ_HIST_BUCKETS]; /* sum of duration_ns of the bucket's spans */
	double queue_ns[BZ_HIST_BUCKETS]; /* ... and of their queue_ns */
};

struct bz_rgroup {
	char *service, *kind, *route, *method; /* NULL: SQL NULL (route, method NULL for a service) */
	int server;                            /* kind is 'server' */
	uint64_t requests, errors;
	int64_t p50, p90, p99, max;            /* ns */
	double total_ns, queue_ns, accept_ns, recv_ns; /* sums; queue sums over spans that have one */
	uint64_t with_queue;                   /* spans with a queue_ns */
	/* schema 8: the response's wait in the send queue (spans with a
	 * tx_queue_ns), and --sched's split of processing (spans with one:
	 * their processing, on CPU, run queue, blocked) */
	double tx_ns, sched_proc_ns, on_cpu_ns, runq_ns, blocked_ns;
	uint64_t with_tx, with_sched;
	size_t service_index;                  /* routes: its row in bz_rstats.services */
	struct bz_hist hist;
};

struct bz_rbucket {
	uint64_t requests, errors;
	int64_t p99;                /* ns; 0 when the bucket has no request */
	double total_ns, queue_ns;  /* sums over the requests that started in it */
	double busy_ns;             /* time all spans of the series overlapped it */
};

struct bz_rstats {
	struct bz_rgroup *routes;   /* sorted: service, server first, requests descending, route, method */
	size_t nroutes;
	struct bz_rgroup *services; /* sorted: service, server first */
	size_t nservices;
	uint64_t spans;             /* complete spans read */
	int has_tx, has_sched;      /* some span has a tx_queue_ns > 0 / an on_cpu_ns: their columns are shown */
	/* the series */
	const char *series_kind;    /* "server", "client", or NULL: no span */
	int64_t t0_ns, width_ns;    /* first bucket's start (Unix ns), bucket width */
	unsigned nbuckets;
	struct bz_rbucket buckets[BZ_SERIES_MAX];
	/* the slowest complete server spans: duration descending, then span_id */
	struct bz_slow { int64_t dur, span_id; } *slow;
	size_t nslow;
};

/* Fills st from the database h, keeping the `slowest` slowest server
 * spans.  0, or a negative errno (-EIO: SQLite, message in err; -ENOMEM).
 * st is freed with bz_rstats_free in any case. */
int bz_rstats_load(struct sqlite3 *h, struct bz_rstats *st, unsigned slowest, char *err, size_t errlen);
void bz_rstats_free(struct bz_rstats *st);

/* The upper edge of histogram bucket i in ns (INT64_MAX for the last). */
int64_t bz_hist_edge(unsigned i);
/* The bucket of a duration: the first whose upper edge is >= d. */
unsigned bz_hist_bucket(int64_t d);
/* A round bucket width (1-2-5 steps from 1 ms to 20 s, then minutes) giving at most
 * BZ_SERIES_MAX buckets over span_ns. */
int64_t bz_series_width(int64_t span_ns);
/* Nearest-rank rank (1-based) of p among n, as route_stats: ceil(p * n). */
int64_t bz_rank_of(double p, int64_t n);

#endif
