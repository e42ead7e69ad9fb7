/* db_int.h - inside the database writer: db.c (the SQLite statements) and
 * db_queue.c (the writer thread that runs them while analysis goes on).
 * Not for other files: they use db.h. */
#ifndef BEYLA_DB_INT_H
#define BEYLA_DB_INT_H

#include <sqlite3.h>

#include "db.h"
#include "route_stats.h"

enum {
	ST_SPAN, ST_SPAN_BATCH, ST_ATTR, ST_PROC, ST_CONN, ST_CAPTURE, ST_DROP, ST_STAT, ST_PROBE, ST_RELINK_PARENT, ST_RELINK_TRACE, ST_MAX
};

/* The rows db.h's functions write, one kind per operation. */
enum bz_db_op { OP_SPAN, OP_PROC, OP_CONN, OP_CAPTURE, OP_DROP, OP_STAT, OP_PROBE, OP_RELINK, OP_MAX };

struct bz_db_drop_row {
	const char *probe;
	uint64_t emitted, lost, missed;
};

struct bz_db_stat_row {
	const char *name;
	int64_t value;
};

struct bz_db_relink_row {
	uint64_t span_id, parent_id;
	struct bz_trace_id old_trace, new_trace;
};

struct bz_db_queue;

struct bz_db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_MAX];
	int in_tx;
	uint64_t spans;          /* rows of the view spans, as handed in */
	char err[256];           /* written by whichever thread runs the statements */
	struct bz_db_queue *q;   /* NULL: statements run in the caller's thread */
	struct bz_route_stats *routes; /* counted by the thread that inserts the spans */
	double t_created, cpu_created; /* clocks at bz_db_create (analysis thread) */
	struct bz_db_timings timings;
};

/* CLOCK_MONOTONIC, or the calling thread's CPU clock, in seconds. */
double bz_db_clock(int thread_cpu);

#define BZ_DB_SPAN_BATCH 8 /* spans one statement inserts (ST_SPAN_BATCH) */

/* Inserts n spans now: BZ_DB_SPAN_BATCH of them in one statement, else one
 * by one; then their attributes that have no column. */
int bz_db_run_spans(struct bz_db *db, const struct bz_span *s, unsigned n);

/* Runs the statement of one operation now (rec points to the struct of
 * its kind: struct bz_span, bz_db_process, ...). */
int bz_db_run_op(struct bz_db *db, enum bz_db_op op, const void *rec);

/* db_queue.c */
int bz_db_queue_put(struct bz_db *db, enum bz_db_op op, const void *rec);
/* Waits until every operation handed in has run (discard: drops those not
 * yet begun), ends the thread and frees the queue; returns the first error
 * the writer met (its message in db->err), else 0. */
int bz_db_queue_stop(struct bz_db *db, int discard);

#endif
