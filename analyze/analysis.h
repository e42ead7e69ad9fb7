/* analysis.h - `beyla analyze` as a library: replays a capture (session.h)
 * through the analyzer's handlers and writes the database (db.h).
 *
 * The handlers keep per-connection state (conn.h) from CONN_OPEN to
 * CONN_CLOSE, feed each connection's HTTP/1 parser with its DATA events, and
 * let the span builder (spans.h) write a span as soon as a response ends.
 * Processes come from PROC blocks and EXEC/FORK/EXIT events (procs.h).  At
 * the end of the input (clean or not) the connections still open are
 * flushed (their pending requests become incomplete spans), and the
 * processes, connections, drop counts, counters and capture metadata are
 * written; then the database's indexes and views are created.
 */
#ifndef BEYLA_ANALYSIS_H
#define BEYLA_ANALYSIS_H

#include <stdint.h>

#include "capture_reader.h"
#include "db.h"
#include "explain.h"
#include "session.h"
#include "spans.h"

typedef void (*bz_progress_fn)(void *u, uint64_t compressed_bytes);

struct bz_analysis_summary {
	struct bz_session_result session; /* read_status tells truncated/corrupt input */
	struct bz_span_counts spans;
	uint64_t conns, conns_http, conns_non_http;
	uint64_t conns_db;                /* PostgreSQL, MySQL, Redis connections parsed */
	uint64_t processes;
	struct bz_explain explain;        /* connections no parser recognised, TLS without plaintext */
	char err[256];                    /* when bz_analyze() fails */
};

/* Analyses everything r yields into db and finishes db (bz_db_finish).
 * source: the capture's name for the capture table (may be NULL).  A
 * truncated or corrupt capture is not a failure: every complete part is
 * analysed and out->session.read_status says what happened.  Returns 0, or
 * a negative errno when the database could not be written (out->err). */
int bz_analyze(struct bz_reader *r, struct bz_db *db, const char *source, bz_progress_fn progress,
	       void *progress_user, struct bz_analysis_summary *out);
/* The same with flags: BZ_ANALYZE_GO_FROM_STRUCTS builds Go HTTPS servers'
 * requests from their handlers' struct reads even where the capture holds
 * their plaintext (--go=full), as a --go=fast capture is analysed: the
 * two ways can be compared on one capture. */
#define BZ_ANALYZE_GO_FROM_STRUCTS 0x1u
int bz_analyze_flags(struct bz_reader *r, struct bz_db *db, const char *source, bz_progress_fn progress,
		     void *progress_user, unsigned flags, struct bz_analysis_summary *out);

#endif
