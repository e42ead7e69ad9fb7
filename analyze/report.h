/* report.h - text reports over a finished analysis database: the summary
 * table `beyla analyze` prints, and the stable span dump golden tests diff.
 * Both return 0 or -EIO (SQLite error, message on stderr). */
#ifndef BEYLA_REPORT_H
#define BEYLA_REPORT_H

#include <stdio.h>

struct sqlite3;

/* Per service, kind and route: requests, errors, p50/p95/p99 total in ms,
 * and the share of the total spent in queue (server spans). */
int bz_report_summary(struct sqlite3 *h, FILE *out);

/* One line per span, sorted by start time then kind, connection and request
 * number.  Times are relative to the capture start; ids are replaced by
 * labels (#n for spans in output order, Tn for traces in order of first
 * appearance), so the text is the same for the same capture whatever the
 * ids and wall-clock dates:
 *   #1 server "GET /a/{id}" t=+1.000ms dur=2.500ms queue=0.500ms (accept=0.000ms recv=0.500ms)
 *      proc=2.000ms status=ok code=200 method=GET route=/a/{id} req=0 resp=12
 *      svc=shop pid=10 tid=10 conn=3/0 trace=T1 parent=-
 * (on one line; fields that are NULL print as "-"). */
int bz_report_dump_spans(struct sqlite3 *h, FILE *out);

/* Texts in SQLite's ORDER BY order, NULL first (the summary's and the
 * HTML report's orders of routes). */
int bz_report_cmp_text(const char *a, const char *b);

#endif
