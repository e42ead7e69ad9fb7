/* otlp_json.c - the OTLP/JSON encoding (--otlp-file): the protobuf JSON
 * mapping with OTLP's rules: field names in lowerCamelCase, trace and span
 * ids as lowercase hex (not base64), 64-bit integers as decimal strings,
 * enums as integers, default values left out. */
#include "otlp_export.h"
#include "json_writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lit(struct bz_pb *b, const char *s)
{
	bz_pb_raw(b, s, strlen(s));
}

/* s[0..n) as a JSON string (json_writer.h's escaping: at most 6 bytes per
 * input byte, and the quotes). */
static void jstr(struct bz_pb *b, const char *s, size_t n)
{
	if (bz_pb_reserve(b, n * 6 + 2))
		return;
	b->len += bz_json_escape((char *)b->p + b->len, s, n);
}

static void jcstr(struct bz_pb *b, const char *s)
{
	jstr(b, s ? s : "", s ? strlen(s) : 0);
}

static void jhex(struct bz_pb *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (bz_pb_reserve(b, 2 * n + 2))
		return;
	uint8_t *o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		*o++ = (uint8_t)hex[p[i] >> 4];
		*o++ = (uint8_t)hex[p[i] & 15];
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

/* Decimal, without printf (it is most of the numbers of a span). */
static void jnum(struct bz_pb *b, uint64_t v, int neg, int quoted)
{
	char tmp[24], *e = tmp + sizeof(tmp), *p = e;
	if (bz_pb_reserve(b, 24))
		return;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	uint8_t *o = b->p + b->len;
	if (quoted)
		*o++ = '"';
	if (neg)
		*o++ = '-';
	memcpy(o, p, (size_t)(e - p));
	o += e - p;
	if (quoted)
		*o++ = '"';
	b->len = (size_t)(o - b->p);
}

static void jfmt_u64(struct bz_pb *b, uint64_t v, int quoted)
{
	jnum(b, v, 0, quoted);
}

static void jfmt_i64q(struct bz_pb *b, int64_t v)
{
	jnum(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 1);
}

/* Shortest text that reads back as the same double. */
static void jdouble(struct bz_pb *b, double d)
{
	char tmp[40];
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	bz_pb_raw(b, tmp, (size_t)n);
}

static void jattrs(struct bz_pb *b, const char *name, const struct otlp_attr *a, unsigned n)
{
	if (!n)
		return;
	bz_pb_raw(b, ",\"", 2);
	lit(b, name);
	lit(b, "\":[");
	for (unsigned i = 0; i < n; i++) {
		if (i)
			lit(b, ",");
		lit(b, "{\"key\":");
		jcstr(b, a[i].key);
		lit(b, ",\"value\":{");
		switch (a[i].type) {
		case OTLP_ATTR_STR:
			lit(b, "\"stringValue\":");
			jstr(b, a[i].s, a[i].n);
			break;
		case OTLP_ATTR_INT:
			lit(b, "\"intValue\":");
			jfmt_i64q(b, a[i].i);
			break;
		case OTLP_ATTR_DOUBLE:
			lit(b, "\"doubleValue\":");
			jdouble(b, a[i].d);
			break;
		default:
			lit(b, a[i].i ? "\"boolValue\":true" : "\"boolValue\":false");
			break;
		}
		lit(b, "}}");
	}
	lit(b, "]");
}

static void jresource(struct bz_pb *b, const struct otlp_resource *r)
{
	lit(b, "\"resource\":{");
	if (r && r->nattrs) {
		struct bz_pb *bb = b;
		size_t mark = bb->len;
		jattrs(b, "attributes", r->attrs, r->nattrs);
		/* jattrs starts with a comma: drop it, it is the first member */
		memmove(b->p + mark, b->p + mark + 1, b->len - mark - 1);
		b->len--;
	}
	lit(b, "}");
}

static void jscope(struct bz_pb *b)
{
	lit(b, "\"scope\":{\"name\":\"beyla\",\"version\":");
	jcstr(b, BEYLA_VERSION);
	lit(b, "}");
}

void bz_otlp_traces_json(struct bz_pb *b, const struct otlp_span *s, size_t n)
{
	lit(b, "{\"resourceSpans\":[");
	for (size_t i = 0; i < n;) {
		const struct otlp_resource *r = s[i].res;
		if (i)
			lit(b, ",");
		lit(b, "{");
		jresource(b, r);
		lit(b, ",\"scopeSpans\":[{");
		jscope(b);
		lit(b, ",\"spans\":[");
		for (size_t j = i; i < n && s[i].res == r; i++) {
			const struct otlp_span *x = &s[i];
			if (i != j)
				lit(b, ",");
			lit(b, "{\"traceId\":");
			jhex(b, x->trace_id, 16);
			lit(b, ",\"spanId\":");
			jhex(b, x->span_id, 8);
			if (x->has_parent) {
				lit(b, ",\"parentSpanId\":");
				jhex(b, x->parent_id, 8);
			}
			lit(b, ",\"name\":");
			jcstr(b, x->name);
			if (x->kind) {
				lit(b, ",\"kind\":");
				jfmt_u64(b, (uint64_t)x->kind, 0);
			}
			lit(b, ",\"startTimeUnixNano\":");
			jfmt_u64(b, x->start_ns, 1);
			lit(b, ",\"endTimeUnixNano\":");
			jfmt_u64(b, x->end_ns, 1);
			jattrs(b, "attributes", x->attrs, x->nattrs);
			lit(b, ",\"status\":{");
			if (x->status) {
				lit(b, "\"code\":");
				jfmt_u64(b, (uint64_t)x->status, 0);
			}
			lit(b, "}}");
		}
		lit(b, "]}]}");
	}
	lit(b, "]}");
}

void bz_otlp_metrics_json(struct bz_pb *b, const struct otlp_point *p, size_t n)
{
	lit(b, "{\"resourceMetrics\":[");
	for (size_t i = 0; i < n;) {
		const struct otlp_resource *r = p[i].res;
		if (i)
			lit(b, ",");
		lit(b, "{");
		jresource(b, r);
		lit(b, ",\"scopeMetrics\":[{");
		jscope(b);
		lit(b, ",\"metrics\":[");
		for (size_t j = i; i < n && p[i].res == r;) {
			int m = p[i].metric;
			const struct otlp_metric_desc *d = &bz_otlp_metrics[m];
			if (i != j)
				lit(b, ",");
			lit(b, "{\"name\":");
			jcstr(b, d->name);
			lit(b, ",\"description\":");
			jcstr(b, d->description);
			lit(b, ",\"unit\":");
			jcstr(b, d->unit);
			lit(b, ",\"histogram\":{\"dataPoints\":[");
			for (size_t k = i; i < n && p[i].res == r && p[i].metric == m; i++) {
				const struct otlp_point *x = &p[i];
				if (i != k)
					lit(b, ",");
				lit(b, "{\"startTimeUnixNano\":");
				jfmt_u64(b, x->start_ns, 1);
				lit(b, ",\"timeUnixNano\":");
				jfmt_u64(b, x->time_ns, 1);
				lit(b, ",\"count\":");
				jfmt_u64(b, x->count, 1);
				lit(b, ",\"sum\":");
				jdouble(b, x->sum);
				lit(b, ",\"bucketCounts\":[");
				for (int q = 0; q <= OTLP_NBOUNDS; q++) {
					if (q)
						lit(b, ",");
					jfmt_u64(b, x->buckets[q], 1);
				}
				lit(b, "],\"explicitBounds\":[");
				for (int q = 0; q < OTLP_NBOUNDS; q++) {
					if (q)
						lit(b, ",");
					jdouble(b, bz_otlp_bounds[q]);
				}
				lit(b, "]");
				jattrs(b, "attributes", x->attrs, x->nattrs);
				if (x->count) {
					lit(b, ",\"min\":");
					jdouble(b, x->min);
					lit(b, ",\"max\":");
					jdouble(b, x->max);
				}
				lit(b, "}");
			}
			lit(b, "],\"aggregationTemporality\":2}}");
		}
		lit(b, "]}]}");
	}
	lit(b, "]}");
}
