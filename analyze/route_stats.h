/* route_stats.h - the rows of the route_stats view: per service, kind,
 * route and method, over complete spans, the requests, errors, nearest-rank
 * p50/p95/p99 of the duration and the share of time in queue.
 *
 * Counts and sums are gathered while the spans are inserted (one call per
 * span, in the thread that inserts them); the percentiles need the spans
 * in duration order, which one sorted walk of span_rows gives at the end.
 * A window query over span_rows (what route_stats used to be) sorted by
 * group, and an index to serve it took a third of an analysis to build:
 * most keys share their group, so nearly every comparison went past it. */
#ifndef BEYLA_ROUTE_STATS_H
#define BEYLA_ROUTE_STATS_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct bz_route_stats;

int bz_route_stats_new(struct bz_route_stats **out);
void bz_route_stats_free(struct bz_route_stats **rs);

/* One complete span of the group `key` (span_rows.route_key; the texts are
 * kept from the first span of the key, NULL or "" as NULL); queue_known:
 * its queue_ns is not NULL.  0 or -ENOMEM. */
int bz_route_stats_add(struct bz_route_stats *rs, int64_t key, const char *service, const char *kind,
		       const char *route, const char *method, int error, int64_t duration_ns,
		       int queue_known, int64_t queue_ns);

/* Walks span_rows's complete spans in duration order for the percentiles
 * and writes one route_stat_rows row per group.  0, or -EIO with the
 * message in err, or -ENOMEM. */
int bz_route_stats_write(struct bz_route_stats *rs, struct sqlite3 *h, char *err, size_t errlen);

#endif
