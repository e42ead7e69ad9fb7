/* span_db.c - database spans' names and attributes (span_db.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "span_db.h"

static const char *system_of(const struct bz_http_msg *q)
{
	if (q->db.system[0])
		return q->db.system;
	switch (q->proto) {
	case BZ_PROTO_PGSQL: return "postgresql";
	case BZ_PROTO_MYSQL: return "mysql";
	case BZ_PROTO_REDIS: return "redis";
	default: return "other_sql";
	}
}

void bz_span_db_describe(struct bz_span *s, const struct bz_http_msg *q, const struct bz_http_msg *r, int incomplete,
			 struct bz_span_db_text *t)
{
	const struct bz_db_call *d = &q->db;
	const char *sys = system_of(q);
	/* the namespace may be learnt from either half (MySQL's handshake
	 * answer, PostgreSQL's startup) */
	const char *ns = d->namespace_[0] ? d->namespace_ : r && r->db.namespace_[0] ? r->db.namespace_ : NULL;

	/* {db.operation.name} {target}, target the table, else the namespace;
	 * the operation alone; else the system (the conventions' fallbacks) */
	if (d->operation[0] && d->collection[0])
		snprintf(t->name, sizeof(t->name), "%s %s", d->operation, d->collection);
	else if (d->operation[0] && ns)
		snprintf(t->name, sizeof(t->name), "%s %s", d->operation, ns);
	else
		snprintf(t->name, sizeof(t->name), "%s", d->operation[0] ? d->operation : sys);
	s->name = t->name;
	s->route = NULL; /* (not an HTTP route: route_stats groups calls by name) */
	s->stats_route = t->name;
	s->method = s->url_path = s->url_query = NULL;
	s->protocol_version = s->user_agent = NULL;
	s->status_code = BZ_DB_NULL;
	bz_span_add_attr(s, "db.system.name", sys);
	bz_span_add_attr(s, "db.operation.name", d->operation);
	bz_span_add_attr(s, "db.collection.name", d->collection);
	bz_span_add_attr(s, "db.namespace", ns);
	bz_span_add_attr(s, "db.query.text", d->query);
	if (d->batch && d->batch_size > 1) {
		snprintf(t->batch, sizeof(t->batch), "%" PRIu32, d->batch_size);
		bz_span_add_attr(s, "db.operation.batch.size", t->batch);
	}
	if (r && r->db.rows >= 0) {
		snprintf(t->rows, sizeof(t->rows), "%" PRId64, r->db.rows);
		bz_span_add_attr(s, "db.response.returned_rows", t->rows);
	}
	if (incomplete || !r) {
		s->status = BZ_STATUS_UNSET;
		return;
	}
	bz_span_add_attr(s, "db.response.status_code", r->db.status);
	if (r->db.error) {
		s->status = BZ_STATUS_ERROR;
		bz_span_add_attr(s, "error.type", r->db.status[0] ? r->db.status : "_OTHER");
	} else {
		s->status = BZ_STATUS_OK; /* (as HTTP spans are here) */
	}
}
