/* otlp_export.h - exports a finished analysis database over OTLP
 * (`beyla analyze --otlp [URL]`, `--otlp-file FILE`; docs/otlp.md).
 *
 * Spans are read from the database (schema/spans.sql) and sent in batches
 * of bounded size as ExportTraceServiceRequest, one Resource per process;
 * RED histograms computed from the same spans are sent as
 * ExportMetricsServiceRequest (cumulative temporality, one data point per
 * series per --metrics-interval over the capture's time span).
 *
 * The batch model below is shared by the protobuf encoder (otlp_export.c),
 * the OTLP/JSON encoder (otlp_json.c) and the HTTP sender (otlp_http.c).
 */
#ifndef BEYLA_OTLP_EXPORT_H
#define BEYLA_OTLP_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "otlp_proto.h"

#ifndef BEYLA_VERSION /* the Makefile defines it; fuzz builds do not */
#define BEYLA_VERSION "unknown"
#endif

struct sqlite3;

enum otlp_attr_type { OTLP_ATTR_STR, OTLP_ATTR_INT, OTLP_ATTR_DOUBLE, OTLP_ATTR_BOOL };

struct otlp_attr {
	const char *key;
	int type;
	const char *s; /* OTLP_ATTR_STR: s[0..n) */
	size_t n;
	int64_t i;     /* INT, BOOL */
	double d;
};

struct otlp_resource {
	int64_t pid;
	struct otlp_attr *attrs;
	unsigned nattrs;
};

struct otlp_span {
	const struct otlp_resource *res;
	uint8_t trace_id[16], span_id[8], parent_id[8];
	int has_parent;
	const char *name;
	int kind;   /* enum otlp_span_kind */
	int status; /* enum otlp_status_code */
	uint64_t start_ns, end_ns;
	struct otlp_attr *attrs;
	unsigned nattrs;
};

#define OTLP_NBOUNDS 14
extern const double bz_otlp_bounds[OTLP_NBOUNDS]; /* seconds */

enum otlp_metric_id {
	OTLP_M_SERVER_DURATION, OTLP_M_CLIENT_DURATION, OTLP_M_QUEUE_DURATION,
	OTLP_M_RPC_SERVER_DURATION, OTLP_M_RPC_CLIENT_DURATION, OTLP_M_DB_CLIENT_DURATION, OTLP_M_COUNT
};
struct otlp_metric_desc {
	const char *name, *unit, *description;
};
extern const struct otlp_metric_desc bz_otlp_metrics[OTLP_M_COUNT];

struct otlp_point {
	const struct otlp_resource *res;
	int metric; /* enum otlp_metric_id */
	const struct otlp_attr *attrs;
	unsigned nattrs;
	uint64_t start_ns, time_ns, count;
	double sum, min, max;
	uint64_t buckets[OTLP_NBOUNDS + 1];
};

/* Encoders: append one whole request to b.  Spans/points must be grouped by
 * resource (and points by metric within a resource): consecutive entries
 * with the same res (and metric) share a ResourceSpans/Metric. */
void bz_otlp_traces_pb(struct bz_pb *b, const struct otlp_span *s, size_t n);
void bz_otlp_metrics_pb(struct bz_pb *b, const struct otlp_point *p, size_t n);
/* OTLP/JSON (otlp_json.c): one request, no newline. */
void bz_otlp_traces_json(struct bz_pb *b, const struct otlp_span *s, size_t n);
void bz_otlp_metrics_json(struct bz_pb *b, const struct otlp_point *p, size_t n);

/* ---- HTTP (otlp_http.c) ---------------------------------------------------- */

struct bz_otlp_http;
struct bz_otlp_http_opts {
	const char *headers;  /* "k=v,k2=v2" (OTEL_EXPORTER_OTLP_HEADERS syntax), or NULL */
	int gzip;
	long timeout_ms;      /* per attempt */
	int max_attempts;     /* >= 1 */
	long backoff_ms;      /* first wait; doubles, capped at 5 s */
};
int bz_otlp_http_new(struct bz_otlp_http **out, const struct bz_otlp_http_opts *o);
/* POSTs body to url as application/x-protobuf, retrying on 429/502/503/504
 * and on connection errors.  0 on a 2xx; else -1 with err set to one line
 * naming the url and the HTTP status (or the connection error). */
int bz_otlp_http_post(struct bz_otlp_http *h, const char *url, const void *body, size_t len, char *err,
		      size_t errlen);
void bz_otlp_http_free(struct bz_otlp_http **h);

/* ---- the export ---------------------------------------------------------------- */

struct bz_otlp_opts {
	int enabled;              /* --otlp given */
	const char *url;          /* --otlp URL (base: /v1/traces and /v1/metrics appended), or NULL */
	const char *file;         /* --otlp-file FILE, or NULL */
	int64_t interval_ns;      /* --metrics-interval; 0: 10 s */
	size_t batch_spans;       /* 0: 2048 */
	int quiet;
};

/* Export from an open database (db) or the database at path (db NULL).
 * Reads the OTEL_* variables.  0 on success, -1 with a one-line message in
 * err (naming the endpoint and HTTP status when the peer failed).  stats, if
 * not NULL, receives what was sent. */
struct bz_otlp_stats {
	uint64_t spans, points, requests, bytes;
	uint64_t series_skipped; /* metric series left out: too many intervals */
	double seconds, cpu_seconds; /* wall clock, this process's CPU time */
};
int bz_otlp_export(struct sqlite3 *db, const char *path, const struct bz_otlp_opts *o, struct bz_otlp_stats *st,
		   char *err, size_t errlen);

/* What `beyla analyze` calls: bz_otlp_export, then one line on stderr:
 * what was sent (unless o->quiet) or "beyla analyze: <error>".  0 or -1. */
int bz_otlp_run(const struct bz_otlp_opts *o, struct sqlite3 *db, const char *path);

/* "10s", "500ms", "1m", "2h", "250us", or plain seconds; -1 if invalid. */
int64_t bz_otlp_parse_duration(const char *s);
/* Copy of a command line with secrets replaced by REDACTED (caller frees). */
char *bz_otlp_redact_cmdline(const char *cmdline);
/* Signal URL: explicit base url + path, else OTEL_EXPORTER_OTLP_{SIGNAL}_ENDPOINT
 * as is, else OTEL_EXPORTER_OTLP_ENDPOINT + path, else http://localhost:4318 + path.
 * signal: "traces" / "metrics".  Caller frees. */
char *bz_otlp_signal_url(const char *base, const char *signal);

#endif
