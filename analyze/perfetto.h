/* perfetto.h - a finished analysis database as a Chrome trace-event JSON
 * file (`beyla analyze --perfetto OUT.json`; docs/perfetto.md), the JSON
 * Object Format of the Trace Event Format, which ui.perfetto.dev and
 * chrome://tracing open.
 *
 * What is written, streamed in the order of the spans' start times:
 *   - every server and client span as a complete ("X") slice, a server
 *     span with its "in queue" and "processing" children, a client span
 *     nested in the "processing" of the server span it was made for;
 *   - each slice on a thread track of its process: the thread that read
 *     the request (server) or wrote it (client), with extra lanes for the
 *     requests it had in flight at once (analyze/perfetto_lanes.h), so that
 *     slices on one track nest strictly, never partially overlap;
 *   - a flow ("s" -> "f", bound to the enclosing slices) from each client
 *     span to the server span it called (a server span whose parent is a
 *     client span: across processes);
 *   - process and thread names ("M" events) for every track used.
 * Times are microseconds since the capture began (otherData gives that
 * instant as Unix nanoseconds): small numbers keep nanoseconds exact
 * through a viewer's double-precision arithmetic.
 */
#ifndef BEYLA_PERFETTO_H
#define BEYLA_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

struct sqlite3;

struct bz_perfetto_stats {
	uint64_t server_spans, client_spans;
	uint64_t slices;           /* X events: server + client + 2 per server span */
	uint64_t flows;            /* s/f pairs */
	uint64_t nested_clients;   /* client spans drawn inside their server span */
	uint64_t processes, threads, lanes; /* lanes: tracks beyond the first of each thread */
	uint64_t bytes;
	double seconds, cpu_seconds;
};

/* Writes the JSON for the database db (open), or the one at path (db NULL),
 * to out (left open, flushed).  0, or -1 with one line in err. */
int bz_perfetto_export(struct sqlite3 *db, const char *path, FILE *out, struct bz_perfetto_stats *st, char *err,
		       size_t errlen);

#endif
