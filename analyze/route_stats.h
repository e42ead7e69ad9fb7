/* route_stats.h - the rows of the route_stats and service_stats views: per
 * service, kind, route and method (and per service and kind), over complete
 * spans, the requests, errors, nearest-rank p50/p95/p99 of the duration and
 * the share of time in queue.
 *
 * Counts and sums are gathered while the spans are inserted (one call per
 * span, in the thread that inserts them).  The percentiles need each
 * group's durations in order: they are kept in memory (8 bytes a span) up
 * to a bound and sorted at the end (a service's percentiles are found
 * among its routes' sorted arrays, without a merged copy); past the bound
 * they are dropped, and one walk of span_rows sorted by duration gives the
 * order instead (what bounds the memory; it costs a scan of the table and
 * a sort, ~0.6-1 s a million spans, against ~0.1 s).
 * Window queries over span_rows (what both views were up to schema
 * version 3) took seconds a query, and the index that served route_stats
 * a third of an analysis to build: most keys share their group, so nearly
 * every comparison went past it. */
#ifndef BEYLA_ROUTE_STATS_H
#define BEYLA_ROUTE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "span_parts.h"

struct sqlite3;
struct bz_route_stats;

/* keep_max: durations kept in memory at most (0: always walk span_rows). */
int bz_route_stats_new(struct bz_route_stats **out, size_t keep_max);
#define BZ_ROUTE_STATS_KEEP_MAX ((size_t)8 << 20) /* 64 MiB of durations (arrays grow by doubling) */
void bz_route_stats_free(struct bz_route_stats **rs);

/* One complete span of the group `key` (span_rows.route_key; the texts are
 * kept from the first span of the key, NULL or "" as NULL); queue_known:
 * its queue_ns is not NULL; part_ns: its span_parts.h parts (INT64_MIN:
 * unknown; NULL: none known), summed per group.  0 or -ENOMEM. */
int bz_route_stats_add(struct bz_route_stats *rs, int64_t key, const char *service, const char *kind,
		       const char *route, const char *method, int error, int64_t duration_ns,
		       int queue_known, int64_t queue_ns, const int64_t part_ns[BZ_PART_MAX]);

/* The percentiles (from the kept durations, else from a walk of
 * span_rows's complete spans in duration order); then one route_stat_rows
 * row per group.  0, or -EIO with the
 * message in err, or -ENOMEM. */
int bz_route_stats_write(struct bz_route_stats *rs, struct sqlite3 *h, char *err, size_t errlen);

#endif
