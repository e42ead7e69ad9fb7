/* report_waterfall.h - the report's slowest requests, each as a waterfall:
 * the server span split into its "in queue" and "processing" parts, then
 * the spans under it in the same trace (children by parent_id: its client
 * calls, HTTP, gRPC or database, and the server spans they reached in
 * other recorded processes, and so on), one row each on a shared time
 * axis.  Every row's <title> holds the span's columns and attributes; the
 * page's script also shows it below the chart on click. */
#ifndef BEYLA_REPORT_WATERFALL_H
#define BEYLA_REPORT_WATERFALL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sqlite3;

#define BZ_WATERFALL_ROWS 60  /* spans drawn per request, the request included */
#define BZ_WATERFALL_DEPTH 8  /* levels of children followed */

/* Writes the server spans span_ids[0..n) (the slowest: bz_rstats) as
 * <figure>s.  Returns the number written (>= 0), or -EIO with a message in
 * err. */
int bz_report_waterfalls(struct sqlite3 *h, FILE *out, const int64_t *span_ids, size_t n, char *err, size_t errlen);

#endif
