/* report_sched.c - on CPU / run queue / blocked per server route
 * (report_sched.h), from span_rows: complete server spans that have the
 * split, grouped as route_stats groups them (route_key). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "report_sched.h"

/* A route waits for a CPU "mostly" from this share of its processing on:
 * then it is CPU-starved, not slow in its own code or blocked. */
#define RUNQ_MOSTLY 0.5

static const char *text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t && *t ? (const char *)t : "-";
}

int bz_report_sched(sqlite3 *h, FILE *out)
{
	static const char sql[] =
		"SELECT service_name, http_route, http_method, count(*), sum(on_cpu_ns), sum(runq_ns),"
		" sum(blocked_ns) FROM span_rows"
		" WHERE kind = 'server' AND incomplete = 0 AND on_cpu_ns IS NOT NULL"
		" GROUP BY route_key ORDER BY sum(processing_ns) DESC, 1, 2, 3";
	sqlite3_stmt *st;
	int s, n = 0, notes = 0;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "beyla analyze: scheduler summary: %s\n", sqlite3_errmsg(h));
		return -EIO;
	}
	/* two passes over a few rows: the table, then its notes */
	for (int pass = 0; pass < 2; pass++) {
		while ((s = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t reqs = sqlite3_column_int64(st, 3);
			double on = (double)sqlite3_column_int64(st, 4), rq = (double)sqlite3_column_int64(st, 5);
			double bl = (double)sqlite3_column_int64(st, 6), all = on + rq + bl;
			if (all <= 0 || reqs <= 0)
				continue;
			if (pass == 0) {
				if (!n++)
					fprintf(out, "\nprocessing (--sched): on CPU, waiting for a CPU (run queue), blocked\n"
						     "%-20s  %-24s  %-6s  %8s  %7s  %7s  %8s  %10s\n", "SERVICE", "ROUTE",
						"METHOD", "REQUESTS", "ON_CPU%", "RUNQ%", "BLOCKED%", "CPU_MS/REQ");
				fprintf(out, "%-20.20s  %-24.24s  %-6.6s  %8" PRId64 "  %7.1f  %7.1f  %8.1f  %10.3f\n",
					text(st, 0), text(st, 1), text(st, 2), reqs, 100 * on / all, 100 * rq / all,
					100 * bl / all, on / 1e6 / (double)reqs);
			} else if (rq / all >= RUNQ_MOSTLY) {
				if (!notes++)
					fputc('\n', out);
				fprintf(out, "%s %s %s: %.0f %% of processing was spent waiting for a CPU (runnable, "
					     "on the run queue): more busy threads than CPUs; give it CPUs, run fewer "
					     "workers, or move what else runs there\n",
					text(st, 0), text(st, 2), text(st, 1), 100 * rq / all);
			}
		}
		if (s != SQLITE_DONE)
			break;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE) {
		fprintf(stderr, "beyla analyze: scheduler summary: %s\n", sqlite3_errmsg(h));
		return -EIO;
	}
	return 0;
}
