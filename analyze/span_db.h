/* span_db.h - a database call's span described by OpenTelemetry's database
 * semantic conventions (v1.37.0: db.system.name, db.operation.name,
 * db.collection.name, db.namespace, db.query.text, db.response.status_code,
 * db.operation.batch.size, db.response.returned_rows, error.type; docs/otlp.md).
 *
 * spans.c times a database call as it times an HTTP request (a client span
 * from the write carrying the call to the read carrying its answer's end;
 * a server span, with in queue and processing, when the database process
 * is recorded); this file gives it its name and attributes instead of
 * HTTP's. */
#ifndef BEYLA_SPAN_DB_H
#define BEYLA_SPAN_DB_H

#include "db.h"
#include "proto/proto.h"

/* The texts the attributes point to: they live as long as the span row. */
struct bz_span_db_text {
	char name[BZ_DB_OP_MAX + BZ_DB_NAME_MAX + 2];
	char batch[12], rows[24];
};

/* Names s and adds its database attributes, from request q and response r
 * (NULL: none seen), and sets its status: an error when the response says
 * so (error.type = db.response.status_code), unset when incomplete.  s
 * has no http.route; route_stats groups calls by their name instead
 * (statement kind and table). */
void bz_span_db_describe(struct bz_span *s, const struct bz_http_msg *q, const struct bz_http_msg *r, int incomplete,
			 struct bz_span_db_text *t);

#endif
