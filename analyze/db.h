/* db.h - writes the analysis database (schema/spans.sql) with SQLite.
 *
 * Rows go through prepared statements inside one transaction; the database
 * is written with journalling and syncing off, because `beyla analyze`
 * writes to a temporary file and renames it into place only when
 * bz_db_finish() succeeded: an interrupted run leaves nothing half-written
 * under the final name.  Indexes and views (the part of the schema after
 * "-- @after-load") are created by bz_db_finish(), after the bulk insert.
 *
 * Functions return 0 or a negative value (-EIO for an SQLite error, whose
 * text bz_db_errmsg() gives, -ENOMEM, -EINVAL).
 */
#ifndef BEYLA_DB_H
#define BEYLA_DB_H

#include <stddef.h>
#include <stdint.h>

#include "span_ids.h"
#include "span_parts.h"

#define BZ_DB_NULL INT64_MIN /* an integer column's NULL */
#define BZ_SPAN_ATTRS_MAX 24

/* What is stored; the internal children exist only in the view spans. */
enum bz_span_kind { BZ_SPAN_SERVER = 0, BZ_SPAN_CLIENT = 1 };
enum bz_span_status { BZ_STATUS_UNSET = 0, BZ_STATUS_OK = 1, BZ_STATUS_ERROR = 2 };

struct bz_span_attr {
	const char *key, *value;
};

/* One server or client span (+ its span_attributes).  Strings: NULL or ""
 * store NULL. */
struct bz_span {
	uint64_t span_id;
	uint64_t parent_id;        /* 0: root */
	struct bz_trace_id trace;
	int kind, status, incomplete;
	const char *name;
	int64_t start_ns, end_ns;  /* Unix ns */
	int64_t queue_ns, accept_queue_ns, recv_queue_ns, processing_ns, connect_ns;
	/* enum bz_span_part (span_parts.h); BZ_DB_NULL: unknown */
	int64_t part_ns[BZ_PART_MAX];
	const char *method, *url_path, *url_query, *route;
	/* route_stats's route for a span without an http.route (a database
	 * call: its name); NULL otherwise */
	const char *stats_route;
	int64_t status_code;
	const char *server_address;
	int64_t server_port;
	const char *client_address;
	int64_t client_port;
	const char *protocol_version, *user_agent;
	int64_t req_body, resp_body;
	const char *service_name;
	int64_t pid, tid, conn_id, request_index;
	unsigned nattrs;
	struct bz_span_attr attrs[BZ_SPAN_ATTRS_MAX];
};

/* Resets a span: every integer column NULL, every string NULL. */
void bz_span_init(struct bz_span *s);
/* Adds attribute k = v (kept by pointer: both must outlive the span's
 * writing); nothing when v is NULL or "", or the span has
 * BZ_SPAN_ATTRS_MAX already. */
void bz_span_add_attr(struct bz_span *s, const char *k, const char *v);

struct bz_db_capture {
	const char *source;
	int64_t format_major, format_minor;
	const char *beyla_version, *analyzer_version, *hostname, *kernel, *arch, *boot_id, *target;
	int64_t ncpus, snaplen, redacted;
	int64_t clock_mono_ns, clock_real_ns, start_ns, end_ns;
	int64_t complete, truncated, corrupt;
	const char *error, *stop_reason;
	int64_t events_recorded, events_read, drops, user_drops;
};

struct bz_db_process {
	int64_t pid, ppid;
	const char *exe, *comm, *cmdline, *service_name, *resource_attributes;
	int64_t flags, forked_from, first_seen_ns, exit_ns, exit_code;
	const char *tls_libraries; /* NULL: the capture does not say */
};

struct bz_db_conn {
	int64_t conn_id, pid;
	const char *role, *family, *local_address;
	int64_t local_port;
	const char *remote_address;
	int64_t remote_port, fd;
	int64_t syscall_start_ns, established_ns, opened_ns, closed_ns;
	int64_t bytes_in, bytes_out;
	const char *protocol, *http_role;
	int64_t requests, responses, skipped_bytes, ignored_bytes, guessed_ends;
	int64_t lost_bytes; /* BZ_DB_NULL: unknown */
	const char *detected; /* detect.c's class when no parser recognised it, else NULL */
	const char *unix_path; /* UNIX connections: the path; NULL for TCP */
	int64_t local_inode, peer_inode, peer_pid; /* UNIX: BZ_DB_NULL unknown */
};

/* One row of the table probes (the capture's probe report). */
struct bz_db_probe {
	int64_t id;          /* order in the capture, from 1 */
	const char *name, *kind, *category, *status, *reason, *path;
	int64_t required, pid; /* pid: BZ_DB_NULL for kernel probes */
};

struct bz_db;

/* Creates the database at path (which must not exist or be empty; ":memory:"
 * works), creates the tables and begins the transaction.  On failure *out is
 * untouched and err holds a message. */
int bz_db_create(struct bz_db **out, const char *path, char *err, size_t errlen);

/* Where an analysis's time went, in seconds (bz_db_finish fills it; `beyla
 * analyze --timings` prints it).  Loading runs from bz_db_create until the
 * last row is in; the analysis thread is the one that created the
 * database and calls bz_db_finish. */
struct bz_db_timings {
	double load;        /* wall clock */
	double analysis_cpu; /* CPU of the analysis thread while loading */
	double writer_cpu;  /* CPU of the writer thread (0 without one) */
	double indexes;     /* the schema's after-load statements */
	double stats;       /* route_stats's and service_stats's rows */
};
const struct bz_db_timings *bz_db_timings(const struct bz_db *db);
/* How many span durations route_stats may keep in memory for its
 * percentiles (default BZ_ROUTE_STATS_KEEP_MAX; past it, or with 0, they
 * come from a walk of span_rows: analyze/route_stats.h).  Before any span;
 * 0 or -EBUSY/-ENOMEM. */
int bz_db_route_stats_keep(struct bz_db *db, size_t keep_max);
/* From now on the statements run in a thread of their own, while the
 * caller goes on analysing: the functions below copy what they are given
 * and return at once (an SQLite error surfaces on a later call, or from
 * bz_db_finish).  Returns 0, or a negative errno and the database stays
 * synchronous.  Without it, every function runs its statement before
 * returning. */
int bz_db_start_writer(struct bz_db *db);
/* Stores a server or client span and its attributes.  A server span's two
 * internal children ("in queue", "processing") are not stored: the view
 * `spans` derives them from its columns (schema/spans.sql). */
int bz_db_span(struct bz_db *db, const struct bz_span *s);
int bz_db_process(struct bz_db *db, const struct bz_db_process *p);
int bz_db_conn(struct bz_db *db, const struct bz_db_conn *c);
int bz_db_capture(struct bz_db *db, const struct bz_db_capture *c);
int bz_db_drop(struct bz_db *db, const char *probe, uint64_t emitted, uint64_t lost, uint64_t missed);
int bz_db_stat(struct bz_db *db, const char *name, int64_t value);
int bz_db_probe(struct bz_db *db, const struct bz_db_probe *p);
/* A root server span stored already gets a parent after all: span_id's
 * parent becomes parent_id, and every span of its trace old_trace (its
 * own, of which it was the root) moves to new_trace. */
int bz_db_relink(struct bz_db *db, uint64_t span_id, uint64_t parent_id, struct bz_trace_id old_trace,
		 struct bz_trace_id new_trace);
/* Commits, then creates indexes and views. */
int bz_db_finish(struct bz_db *db);
/* Rows of the view spans handed in so far (a server span counts 3). */
uint64_t bz_db_span_count(const struct bz_db *db);
/* The last error's message (ends the writer thread, if any: call it once
 * the database has failed). */
const char *bz_db_errmsg(struct bz_db *db);
/* The SQLite handle, for reports over a finished database. */
struct sqlite3 *bz_db_handle(struct bz_db *db);
/* The index of statement st's result column called name (the last of
 * that name), -1 if none: the readers of a finished database find
 * columns by name, so they follow schema changes. */
struct sqlite3_stmt;
int bz_db_column(struct sqlite3_stmt *st, const char *name);
/* Closes (rolling back an unfinished transaction); accepts NULL, clears *dbp. */
void bz_db_close(struct bz_db **dbp);

#endif
