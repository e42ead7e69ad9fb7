/* fuzz_analyze.c - libFuzzer target for the whole analysis: a capture held
 * in memory (bz_reader_open_mem) replayed by bz_analyze() into an in-memory
 * SQLite database, like `beyla analyze` does.  fuzz-seeds: captures
 *
 * Input: if it begins with the zstd magic (28 b5 2f fd) it is a capture file
 * as written to disk, fed as is (the captures in samples/ seed it).
 * Otherwise it is a DECOMPRESSED block stream, compressed here into one
 * frame so the fuzzer can shape blocks and event records rather than zstd
 * bits.
 *
 * An input of odd length goes through the database's writer thread (rows
 * copied into batches and inserted by another thread, as `beyla analyze`
 * does), an even one through the synchronous writer: both see hostile rows.
 *
 * Invariants (abort on violation; ASan/UBSan catch the rest):
 *  - bz_analyze() succeeds whatever the input (bad input is a read status,
 *    never a database failure);
 *  - the spans table holds as many rows as the analysis counted, by kind;
 *  - every server span has two children, "in queue" and "processing", and
 *    a third, "in send queue", exactly when its tx_queue_ns > 0, of kind
 *    internal, in its trace, that tile it: queue.start = start, queue.end =
 *    processing.start, processing.end = end - tx_queue_ns, and
 *    queue_ns + processing_ns + tx_queue_ns = duration_ns, all >= 0
 *    (tx_queue_ns NULL counting as 0);
 *  - every span ends at or after its start; every parent_id names a span;
 *  - ids are unique (span_id is the table's key: an insert would fail);
 *  - every connection no parser recognised is classified once, every
 *    encrypted one without plaintext explained once (parse_stats' sums);
 *    the explanation prints.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <zstd.h>

#include "analyze/analysis.h"
#include "analyze/capture_reader.h"
#include "analyze/db.h"
#include "analyze/explain.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

static int64_t q_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	CHECK(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static FILE *devnull(void)
{
	static FILE *f;

	if (!f && !(f = fopen("/dev/null", "w")))
		abort();
	return f;
}

static void check_db(sqlite3 *h, const struct bz_analysis_summary *sum)
{
	CHECK(q_int(h, "SELECT count(*) FROM spans WHERE kind = 'server'") == (int64_t)sum->spans.server);
	CHECK(q_int(h, "SELECT count(*) FROM spans WHERE kind = 'client'") == (int64_t)sum->spans.client);
	CHECK(q_int(h, "SELECT count(*) FROM spans WHERE kind = 'internal'") == (int64_t)sum->spans.internal);
	CHECK(sum->spans.internal == 2 * sum->spans.server +
				     (uint64_t)q_int(h, "SELECT count(*) FROM span_rows WHERE tx_queue_ns > 0"));
	CHECK(q_int(h, "SELECT count(*) FROM spans WHERE end_ns < start_ns OR duration_ns <> end_ns - start_ns") == 0);
	/* every server span has its children and they tile it */
	CHECK(q_int(h,
		    "SELECT count(*) FROM spans s WHERE s.kind = 'server' AND NOT EXISTS ("
		    " SELECT 1 FROM spans q JOIN spans p"
		    " ON q.parent_id = s.span_id AND p.parent_id = s.span_id"
		    " WHERE q.kind = 'internal' AND q.name = 'in queue'"
		    " AND p.kind = 'internal' AND p.name = 'processing'"
		    " AND q.trace_id = s.trace_id AND p.trace_id = s.trace_id"
		    " AND q.start_ns = s.start_ns AND q.end_ns = p.start_ns"
		    " AND p.end_ns = s.end_ns - coalesce(s.tx_queue_ns, 0)"
		    " AND s.queue_ns >= 0 AND s.processing_ns >= 0 AND coalesce(s.tx_queue_ns, 0) >= 0"
		    " AND s.queue_ns + s.processing_ns + coalesce(s.tx_queue_ns, 0) = s.duration_ns"
		    " AND q.duration_ns = s.queue_ns AND p.duration_ns = s.processing_ns)") == 0);
	CHECK(q_int(h, "SELECT count(*) FROM spans s WHERE s.kind = 'server' AND coalesce(s.tx_queue_ns, 0) > 0"
		       " AND NOT EXISTS (SELECT 1 FROM spans t WHERE t.parent_id = s.span_id AND t.kind = 'internal'"
		       " AND t.name = 'in send queue' AND t.trace_id = s.trace_id AND t.end_ns = s.end_ns"
		       " AND t.duration_ns = s.tx_queue_ns)") == 0);
	CHECK(q_int(h, "SELECT count(*) FROM spans s WHERE s.kind = 'server' AND"
		       " (SELECT count(*) FROM spans c WHERE c.parent_id = s.span_id AND c.kind = 'internal')"
		       " <> 2 + (coalesce(s.tx_queue_ns, 0) > 0)") == 0);
	/* parents exist and share the trace; internal and client spans hang under
	 * server spans, a server span under the client span that sent its request
	 * (both ends of a connection recorded) */
	CHECK(q_int(h, "SELECT count(*) FROM spans c LEFT JOIN spans s ON s.span_id = c.parent_id"
		       " WHERE c.parent_id IS NOT NULL AND (s.span_id IS NULL OR c.trace_id <> s.trace_id"
		       " OR (c.kind = 'server') <> (s.kind = 'client') OR s.kind = 'internal')") == 0);
	CHECK(q_int(h, "SELECT count(*) FROM spans WHERE kind = 'internal' AND parent_id IS NULL") == 0);
	CHECK(q_int(h, "SELECT count(*) FROM spans WHERE length(trace_id) <> 16 OR span_id = 0") == 0);
	/* connections no parser recognised: each classified once (analyze/detect.c),
	 * each encrypted one without plaintext explained once (analyze/explain.c) */
	CHECK(q_int(h, "SELECT sum(value) FROM parse_stats WHERE name LIKE 'conns_detected_%'") ==
	      q_int(h, "SELECT sum(value) FROM parse_stats WHERE name IN"
		       " ('conns_non_http', 'conns_unparsed', 'tls_conns_opaque')"));
	CHECK(q_int(h, "SELECT sum(value) FROM parse_stats WHERE name LIKE 'tls_conns_opaque_%'") ==
	      q_int(h, "SELECT value FROM parse_stats WHERE name = 'tls_conns_opaque'"));
	CHECK(q_int(h, "SELECT value FROM parse_stats WHERE name = 'tls_conns_opaque'") ==
	      (int64_t)sum->explain.tls_opaque);
	CHECK(q_int(h, "SELECT value FROM parse_stats WHERE name = 'conns_detected_tls'") ==
	      (int64_t)sum->explain.tls_opaque);
	bz_explain_print(&sum->explain, sum->conns, 1, devnull());
	/* the views are valid SQL over whatever was written */
	CHECK(q_int(h, "SELECT count(*) FROM route_stats") >= 0);
	CHECK(q_int(h, "SELECT count(*) FROM spans_hex") == q_int(h, "SELECT count(*) FROM spans"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zmagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct bz_analysis_summary sum;
	struct bz_reader *r = NULL;
	struct bz_db *db = NULL;
	void *buf = NULL;
	const void *in = data;
	size_t len = size;
	char err[256];
	int rc;

	if (size > (1u << 20))
		return 0;
	if (size < 4 || memcmp(data, zmagic, 4)) {
		size_t cap = ZSTD_compressBound(size);
		buf = malloc(cap);
		if (!buf)
			return 0;
		len = ZSTD_compress(buf, cap, data, size, 1);
		CHECK(!ZSTD_isError(len));
		in = buf;
	}
	CHECK(bz_reader_open_mem(&r, in, len) == 0);
	CHECK(bz_db_create(&db, ":memory:", err, sizeof(err)) == 0);
	if (size & 1)
		CHECK(bz_db_start_writer(db) == 0);
	rc = bz_analyze(r, db, "fuzz", NULL, NULL, &sum);
	if (rc)
		fprintf(stderr, "bz_analyze: %d %s\n", rc, sum.err);
	CHECK(rc == 0);
	check_db(bz_db_handle(db), &sum);
	bz_db_close(&db);
	bz_reader_free(&r);
	free(buf);
	return 0;
}
