/* report_svg.h - the HTML report's charts, drawn here as inline SVG (no
 * script needed to see them; colours come from the page's CSS classes, so
 * they follow its light or dark scheme):
 *   .q in queue   .p processing   .c a client call   .e errors   .line a series
 * Every bar and point has a <title> (the browser shows it on hover) with
 * its exact numbers.  Text given here is already HTML-safe. */
#ifndef BEYLA_REPORT_SVG_H
#define BEYLA_REPORT_SVG_H

#include <stdint.h>
#include <stdio.h>

#include "report_stats.h"

enum bz_unit {
	BZ_UNIT_COUNT, /* "12.5" */
	BZ_UNIT_RATE,  /* "12.5/s" */
	BZ_UNIT_NS,    /* a duration */
	BZ_UNIT_SHARE, /* 0..1 as a percentage */
};

/* A value in a unit, short: the axis labels and titles. */
void bz_fmt_unit(char *buf, size_t cap, double v, enum bz_unit u);

/* A chart over the capture's time buckets. */
struct bz_series_chart {
	const char *label;     /* what v is: "requests/s" (HTML-safe) */
	const double *v;       /* n values; NAN: no value in that bucket (a gap) */
	const double *v2;      /* NULL, or a second series drawn over the first (errors) */
	const char *label2;
	unsigned n;
	int64_t width_ns;      /* bucket width: the x axis says time since the first bucket */
	enum bz_unit unit;
	int bars;              /* bars (counts) rather than a line */
};
void bz_svg_series(FILE *out, const struct bz_series_chart *c);

/* A latency histogram on the log-scale buckets of report_stats.h: one bar
 * per bucket, its height the requests in it; for server spans split into
 * the share of their time in queue (below) and processing (above). */
void bz_svg_hist(FILE *out, const struct bz_hist *h, int server);

/* A "nice" number >= v for an axis: 1, 2 or 5 times a power of ten. */
double bz_nice_ceil(double v);

#endif
