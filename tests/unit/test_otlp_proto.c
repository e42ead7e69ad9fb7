/* test_otlp_proto.c - the OTLP protobuf and JSON encoders (analyze/otlp_proto.c,
 * otlp_export.c, otlp_json.c) against bytes derived by hand from the protobuf
 * encoding rules and the opentelemetry-proto field numbers; the e2e test
 * tests/e2e/otlp_file.sh also decodes real exports with the official classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/otlp_export.h"
#include "analyze/otlp_proto.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static void expect_bytes(const struct bz_pb *b, const uint8_t *want, size_t n)
{
	if (b->len != n || memcmp(b->p, want, n)) {
		fprintf(stderr, "got %zu bytes:", b->len);
		for (size_t i = 0; i < b->len && i < 200; i++)
			fprintf(stderr, " %02x", b->p[i]);
		fprintf(stderr, "\nwant %zu bytes:", n);
		for (size_t i = 0; i < n && i < 200; i++)
			fprintf(stderr, " %02x", want[i]);
		fprintf(stderr, "\n");
	}
	assert_int_equal(b->len, n);
	assert_memory_equal(b->p, want, n);
}

/* ---- a minimal decoder: walks a message, checking every length ------------ */

/* Finds field `f` (the nth occurrence, 0-based) in msg; returns its wire type
 * and sets *v (varint/fixed) or *p and *n (LEN); -1 if absent; asserts on
 * malformed input. */
static int pb_get(const uint8_t *m, size_t len, unsigned f, unsigned nth, uint64_t *v, const uint8_t **p, size_t *n)
{
	size_t i = 0;
	while (i < len) {
		uint64_t key = 0;
		int sh = 0;
		do {
			assert_true(i < len);
			key |= (uint64_t)(m[i] & 0x7f) << sh;
			sh += 7;
		} while (m[i++] & 0x80);
		unsigned wt = key & 7, fld = (unsigned)(key >> 3);
		uint64_t val = 0;
		const uint8_t *pp = NULL;
		size_t nn = 0;
		if (wt == 0) {
			sh = 0;
			do {
				assert_true(i < len);
				val |= (uint64_t)(m[i] & 0x7f) << sh;
				sh += 7;
			} while (m[i++] & 0x80);
		} else if (wt == 1) {
			assert_true(i + 8 <= len);
			for (int k = 0; k < 8; k++)
				val |= (uint64_t)m[i + k] << (8 * k);
			i += 8;
		} else if (wt == 5) {
			assert_true(i + 4 <= len);
			for (int k = 0; k < 4; k++)
				val |= (uint64_t)m[i + k] << (8 * k);
			i += 4;
		} else {
			assert_int_equal(wt, 2);
			sh = 0;
			do {
				assert_true(i < len);
				nn |= (size_t)(m[i] & 0x7f) << sh;
				sh += 7;
			} while (m[i++] & 0x80);
			assert_true(nn <= len - i);
			pp = m + i;
			i += nn;
		}
		if (fld == f && nth-- == 0) {
			if (v)
				*v = val;
			if (p)
				*p = pp;
			if (n)
				*n = nn;
			return (int)wt;
		}
	}
	assert_int_equal(i, len);
	return -1;
}

/* Follows a path of (field, occurrence) pairs through nested messages. */
static void pb_path(const uint8_t *m, size_t len, const unsigned *path, size_t depth, const uint8_t **p, size_t *n)
{
	const uint8_t *cur = m;
	size_t cl = len;
	for (size_t d = 0; d < depth; d++) {
		assert_int_equal(pb_get(cur, cl, path[2 * d], path[2 * d + 1], NULL, &cur, &cl), 2);
	}
	*p = cur;
	*n = cl;
}

/* ---- varints and scalars ------------------------------------------------------- */

static void test_varint_edges(void **state)
{
	struct bz_pb b;
	bz_pb_init(&b);
	bz_pb_varint(&b, 0);
	expect_bytes(&b, BYTES(0x00));
	bz_pb_reset(&b);
	bz_pb_varint(&b, 1);
	expect_bytes(&b, BYTES(0x01));
	bz_pb_reset(&b);
	bz_pb_varint(&b, 127);
	expect_bytes(&b, BYTES(0x7f));
	bz_pb_reset(&b);
	bz_pb_varint(&b, 128);
	expect_bytes(&b, BYTES(0x80, 0x01));
	bz_pb_reset(&b);
	bz_pb_varint(&b, 300);
	expect_bytes(&b, BYTES(0xac, 0x02));
	bz_pb_reset(&b);
	bz_pb_varint(&b, 16383);
	expect_bytes(&b, BYTES(0xff, 0x7f));
	bz_pb_reset(&b);
	bz_pb_varint(&b, 16384);
	expect_bytes(&b, BYTES(0x80, 0x80, 0x01));
	bz_pb_reset(&b);
	bz_pb_varint(&b, (uint64_t)1 << 63);
	expect_bytes(&b, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01));
	bz_pb_reset(&b);
	bz_pb_varint(&b, UINT64_MAX);
	expect_bytes(&b, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
	/* int64 -1: ten bytes (two's complement, not zigzag) */
	bz_pb_reset(&b);
	bz_pb_int(&b, 3, -1);
	expect_bytes(&b, BYTES(0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
	bz_pb_reset(&b);
	bz_pb_int(&b, 3, INT64_MIN);
	expect_bytes(&b, BYTES(0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01));
	for (uint64_t v = 1; v; v <<= 1)
		assert_int_equal(bz_pb_varint_size(v), (64 - __builtin_clzll(v) + 6) / 7);
	assert_int_equal(bz_pb_varint_size(0), 1);
	bz_pb_free(&b);
}

static void test_tags_and_fixed(void **state)
{
	struct bz_pb b;
	bz_pb_init(&b);
	bz_pb_fixed64(&b, 7, 0x0102030405060708ULL); /* Span.start_time_unix_nano */
	expect_bytes(&b, BYTES(0x39, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01));
	bz_pb_reset(&b);
	bz_pb_fixed32(&b, 16, 0x100); /* Span.flags: field 16 needs a 2-byte tag */
	expect_bytes(&b, BYTES(0x85, 0x01, 0x00, 0x01, 0x00, 0x00));
	bz_pb_reset(&b);
	bz_pb_double(&b, 4, 1.0); /* AnyValue.double_value */
	expect_bytes(&b, BYTES(0x21, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f));
	bz_pb_reset(&b);
	bz_pb_bool(&b, 2, 1);
	bz_pb_bool(&b, 2, 0);
	expect_bytes(&b, BYTES(0x10, 0x01, 0x10, 0x00));
	bz_pb_reset(&b);
	bz_pb_tag(&b, 536870911, BZ_PB_VARINT); /* the largest field number */
	expect_bytes(&b, BYTES(0xf8, 0xff, 0xff, 0xff, 0x0f));
	bz_pb_reset(&b);
	uint64_t v[2] = { 1, 2 };
	bz_pb_packed_fixed64(&b, 6, v, 2);
	expect_bytes(&b, BYTES(0x32, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0));
	bz_pb_free(&b);
}

/* ---- nested messages, empty and very large ------------------------------------ */

static void test_nested_lengths(void **state)
{
	struct bz_pb b;
	bz_pb_init(&b);
	/* empty nested message: tag + zero length */
	bz_pb_begin(&b, 15);
	bz_pb_end(&b);
	expect_bytes(&b, BYTES(0x7a, 0x00));

	/* bodies of 127, 128 and 16384 bytes: 1, 2 and 3 length bytes */
	size_t sizes[] = { 125, 126, 16381, 1 << 20 };
	size_t lens[] = { 1, 2, 3, 3 };
	char *big = malloc((1 << 20) + 1);
	assert_non_null(big);
	memset(big, 'x', 1 << 20);
	for (size_t k = 0; k < 4; k++) {
		bz_pb_reset(&b);
		bz_pb_begin(&b, 1);
		bz_pb_bytes(&b, 1, big, sizes[k]); /* tag + len + data */
		bz_pb_end(&b);
		size_t inner = 1 + bz_pb_varint_size(sizes[k]) + sizes[k];
		assert_int_equal(bz_pb_varint_size(inner), lens[k]);
		assert_int_equal(b.len, 1 + lens[k] + inner);
		const uint8_t *p;
		size_t n;
		assert_int_equal(pb_get(b.p, b.len, 1, 0, NULL, &p, &n), 2);
		assert_int_equal(n, inner);
		assert_int_equal(pb_get(p, n, 1, 0, NULL, &p, &n), 2);
		assert_int_equal(n, sizes[k]);
		assert_int_equal(p[0], 'x');
		assert_int_equal(p[n - 1], 'x');
	}
	/* 1 MiB string: length 0x100000 = 80 80 40 */
	bz_pb_reset(&b);
	bz_pb_string(&b, 1, big, 1 << 20);
	assert_int_equal(b.len, 1 + 3 + (1 << 20));
	assert_memory_equal(b.p, ((const uint8_t[]){ 0x0a, 0x80, 0x80, 0x40 }), 4);
	/* several levels deep, each growing */
	bz_pb_reset(&b);
	for (int d = 0; d < 5; d++)
		bz_pb_begin(&b, 1);
	bz_pb_bytes(&b, 2, big, 200);
	for (int d = 0; d < 5; d++)
		bz_pb_end(&b);
	const uint8_t *p = b.p;
	size_t n = b.len;
	for (int d = 0; d < 5; d++)
		assert_int_equal(pb_get(p, n, 1, 0, NULL, &p, &n), 2);
	assert_int_equal(pb_get(p, n, 2, 0, NULL, &p, &n), 2);
	assert_int_equal(n, 200);
	assert_false(b.oom);
	free(big);
	bz_pb_free(&b);
}

/* ---- strings: every byte 0..255 --------------------------------------------------- */

static void test_utf8_every_byte(void **state)
{
	char all[256], want[512];
	size_t w = 0;
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	/* 0..127 are ASCII; no byte 0x80..0xff followed by its successor starts a
	 * valid sequence, so each becomes U+FFFD */
	for (int i = 0; i < 128; i++)
		want[w++] = (char)i;
	for (int i = 128; i < 256; i++)
		want[w++] = (char)0xef, want[w++] = (char)0xbf, want[w++] = (char)0xbd;
	assert_int_equal(w, 512);

	struct bz_pb b;
	bz_pb_init(&b);
	bz_otlp_attr_str(&b, 9, "k", all, 256);
	/* KeyValue{1:"k", 2:AnyValue{1: 512 bytes}}: 0a 01 6b 12 83 04 0a 80 04 ... */
	const uint8_t head[] = { 0x4a, 0x89, 0x04, 0x0a, 0x01, 'k', 0x12, 0x83, 0x04, 0x0a, 0x80, 0x04 };
	assert_int_equal(b.len, sizeof(head) + 512);
	assert_memory_equal(b.p, head, sizeof(head));
	assert_memory_equal(b.p + sizeof(head), want, 512);

	/* valid sequences pass through, invalid ones are replaced byte by byte */
	struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
		{ "\xc3\xa9", 2, "\xc3\xa9" },                       /* é */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },       /* 4-byte */
		{ "\xc0\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd" },       /* overlong NUL */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "a\xe2\x82", 3, "a\xef\xbf\xbd\xef\xbf\xbd" },     /* cut at the end */
		{ "\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
		{ "", 0, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		size_t n = bz_utf8_sanitize(out, cases[i].in, cases[i].n);
		assert_int_equal(n, strlen(cases[i].out));
		assert_int_equal(bz_utf8_sanitized_len(cases[i].in, cases[i].n), n);
		assert_memory_equal(out, cases[i].out, n);
	}

	/* JSON: control characters escaped, quote and backslash too, the rest as UTF-8 */
	struct otlp_attr a = { .key = "k", .type = OTLP_ATTR_STR, .s = all, .n = 256 };
	struct otlp_resource r = { .pid = 1, .attrs = &a, .nattrs = 1 };
	struct otlp_span s = { .res = &r, .name = "n", .start_ns = 1, .end_ns = 2 };
	bz_pb_reset(&b);
	bz_otlp_traces_json(&b, &s, 1);
	bz_pb_raw(&b, "", 1);
	const char *js = (const char *)b.p;
	char exp[2048];
	size_t e = 0;
	e += (size_t)sprintf(exp + e, "{\"key\":\"k\",\"value\":{\"stringValue\":\"");
	for (int i = 0; i < 128; i++) {
		if (i == '"' || i == '\\')
			e += (size_t)sprintf(exp + e, "\\%c", i);
		else if (i == '\n')
			e += (size_t)sprintf(exp + e, "\\n");
		else if (i == '\t')
			e += (size_t)sprintf(exp + e, "\\t");
		else if (i == '\r')
			e += (size_t)sprintf(exp + e, "\\r");
		else if (i == '\b')
			e += (size_t)sprintf(exp + e, "\\b");
		else if (i == '\f')
			e += (size_t)sprintf(exp + e, "\\f");
		else if (i < 0x20)
			e += (size_t)sprintf(exp + e, "\\u%04x", i);
		else
			exp[e++] = (char)i;
	}
	for (int i = 128; i < 256; i++)
		e += (size_t)sprintf(exp + e, "\xef\xbf\xbd");
	e += (size_t)sprintf(exp + e, "\"}}");
	assert_non_null(strstr(js, exp));
	bz_pb_free(&b);
}

/* ---- whole OTLP messages --------------------------------------------------------- */

static void test_trace_request_bytes(void **state)
{
	struct otlp_attr ra = { .key = "service.name", .type = OTLP_ATTR_STR, .s = "svc", .n = 3 };
	struct otlp_resource r = { .pid = 7, .attrs = &ra, .nattrs = 1 };
	struct otlp_attr sa[2] = {
		{ .key = "a", .type = OTLP_ATTR_INT, .i = 200 },
		{ .key = "e", .type = OTLP_ATTR_STR, .s = "", .n = 0 },
	};
	struct otlp_span s = { .res = &r, .name = "GET /", .kind = OTLP_KIND_SERVER, .status = OTLP_STATUS_ERROR,
			       .start_ns = 1, .end_ns = 2, .attrs = sa, .nattrs = 2, .has_parent = 1 };
	for (int i = 0; i < 16; i++)
		s.trace_id[i] = (uint8_t)(i + 1);
	for (int i = 0; i < 8; i++)
		s.span_id[i] = (uint8_t)(0xa1 + i), s.parent_id[i] = (uint8_t)(0xb1 + i);

	/* Built by hand from trace.proto / common.proto / resource.proto: */
	const uint8_t span[] = {
		0x0a, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,  /* 1 trace_id */
		0x12, 0x08, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,         /* 2 span_id */
		0x22, 0x08, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8,         /* 4 parent_span_id */
		0x2a, 0x05, 'G', 'E', 'T', ' ', '/',                               /* 5 name */
		0x30, 0x02,                                                        /* 6 kind SERVER */
		0x39, 1, 0, 0, 0, 0, 0, 0, 0,                                      /* 7 start fixed64 */
		0x41, 2, 0, 0, 0, 0, 0, 0, 0,                                      /* 8 end fixed64 */
		0x4a, 0x08, 0x0a, 0x01, 'a', 0x12, 0x03, 0x18, 0xc8, 0x01,         /* 9 {a: int 200} */
		0x4a, 0x07, 0x0a, 0x01, 'e', 0x12, 0x02, 0x0a, 0x00,               /* 9 {e: ""} */
		0x7a, 0x02, 0x18, 0x02,                                            /* 15 status{code ERROR} */
	};
	const uint8_t resource[] = { 0x0a, 0x15, 0x0a, 0x0c, 's', 'e', 'r', 'v', 'i', 'c', 'e', '.', 'n', 'a', 'm', 'e',
				     0x12, 0x05, 0x0a, 0x03, 's', 'v', 'c' };
	size_t vl = strlen(BEYLA_VERSION);
	uint8_t want[512];
	size_t w = 0;
	size_t scope_len = 2 + 5 + 2 + vl;
	size_t ss_len = 2 + scope_len + 2 + sizeof(span);
	size_t rs_len = 2 + sizeof(resource) + 2 + ss_len;
	assert_true(rs_len >= 128 && rs_len < 16384); /* a two-byte length */
	want[w++] = 0x0a, want[w++] = (uint8_t)(rs_len | 0x80), want[w++] = (uint8_t)(rs_len >> 7); /* resource_spans */
	want[w++] = 0x0a, want[w++] = (uint8_t)sizeof(resource);             /* resource */
	memcpy(want + w, resource, sizeof(resource)), w += sizeof(resource);
	want[w++] = 0x12, want[w++] = (uint8_t)ss_len;                       /* scope_spans */
	want[w++] = 0x0a, want[w++] = (uint8_t)scope_len;                    /* scope */
	want[w++] = 0x0a, want[w++] = 5;
	memcpy(want + w, "beyla", 5), w += 5;
	want[w++] = 0x12, want[w++] = (uint8_t)vl;
	memcpy(want + w, BEYLA_VERSION, vl), w += vl;
	want[w++] = 0x12, want[w++] = (uint8_t)sizeof(span);                 /* spans */
	memcpy(want + w, span, sizeof(span)), w += sizeof(span);

	struct bz_pb b;
	bz_pb_init(&b);
	bz_otlp_traces_pb(&b, &s, 1);
	expect_bytes(&b, want, w);

	/* a root span (no parent), kind and status default: fields 4, 6 and status.code absent */
	s.has_parent = 0, s.kind = 0, s.status = 0, s.nattrs = 0;
	bz_pb_reset(&b);
	bz_otlp_traces_pb(&b, &s, 1);
	const unsigned path[] = { 1, 0, 2, 0, 2, 0 };
	const uint8_t *p;
	size_t n;
	pb_path(b.p, b.len, path, 3, &p, &n);
	assert_int_equal(pb_get(p, n, 4, 0, NULL, NULL, NULL), -1);
	assert_int_equal(pb_get(p, n, 6, 0, NULL, NULL, NULL), -1);
	const uint8_t *st;
	size_t stn;
	assert_int_equal(pb_get(p, n, 15, 0, NULL, &st, &stn), 2);
	assert_int_equal(stn, 0);

	/* no spans: an empty request */
	bz_pb_reset(&b);
	bz_otlp_traces_pb(&b, &s, 0);
	assert_int_equal(b.len, 0);

	/* two resources: two ResourceSpans, spans grouped */
	struct otlp_resource r2 = r;
	struct otlp_span two[3] = { s, s, s };
	two[2].res = &r2;
	bz_pb_reset(&b);
	bz_otlp_traces_pb(&b, two, 3);
	pb_path(b.p, b.len, (const unsigned[]){ 1, 0, 2, 0 }, 2, &p, &n);
	assert_int_equal(pb_get(p, n, 2, 1, NULL, NULL, NULL), 2);
	assert_int_equal(pb_get(p, n, 2, 2, NULL, NULL, NULL), -1);
	pb_path(b.p, b.len, (const unsigned[]){ 1, 1, 2, 0 }, 2, &p, &n);
	assert_int_equal(pb_get(p, n, 2, 0, NULL, NULL, NULL), 2);
	assert_int_equal(pb_get(p, n, 2, 1, NULL, NULL, NULL), -1);
	bz_pb_free(&b);
}

static void test_metrics_request(void **state)
{
	struct otlp_attr pa[2] = {
		{ .key = "http.request.method", .type = OTLP_ATTR_STR, .s = "GET", .n = 3 },
		{ .key = "http.response.status_code", .type = OTLP_ATTR_INT, .i = 200 },
	};
	struct otlp_resource r = { .pid = 7 };
	struct otlp_point pt[2] = {
		{ .res = &r, .metric = OTLP_M_SERVER_DURATION, .attrs = pa, .nattrs = 2, .start_ns = 10, .time_ns = 20,
		  .count = 3, .sum = 0.5, .min = 0.001, .max = 0.4 },
		{ .res = &r, .metric = OTLP_M_QUEUE_DURATION, .attrs = pa, .nattrs = 1, .start_ns = 10, .time_ns = 20,
		  .count = 1, .sum = 0.25, .min = 0.25, .max = 0.25 },
	};
	pt[0].buckets[0] = 1, pt[0].buckets[7] = 2;
	pt[1].buckets[6] = 1;

	struct bz_pb b;
	bz_pb_init(&b);
	bz_otlp_metrics_pb(&b, pt, 2);
	/* resource_metrics[0].scope_metrics[0].metrics[0] */
	const uint8_t *m, *p, *h, *dp;
	size_t mn, pn, hn, dn;
	uint64_t v;
	pb_path(b.p, b.len, (const unsigned[]){ 1, 0, 2, 0, 2, 0 }, 3, &m, &mn);
	assert_int_equal(pb_get(m, mn, 1, 0, NULL, &p, &pn), 2);
	assert_int_equal(pn, strlen("http.server.request.duration"));
	assert_memory_equal(p, "http.server.request.duration", pn);
	assert_int_equal(pb_get(m, mn, 3, 0, NULL, &p, &pn), 2);
	assert_int_equal(pn, 1);
	assert_int_equal(p[0], 's');
	assert_int_equal(pb_get(m, mn, 9, 0, NULL, &h, &hn), 2);             /* histogram */
	assert_int_equal(pb_get(h, hn, 2, 0, &v, NULL, NULL), 0);            /* temporality */
	assert_int_equal(v, OTLP_TEMPORALITY_CUMULATIVE);
	assert_int_equal(pb_get(h, hn, 1, 0, NULL, &dp, &dn), 2);
	assert_int_equal(pb_get(h, hn, 1, 1, NULL, NULL, NULL), -1);
	/* HistogramDataPoint fields by hand: 2 start, 3 time, 4 count (fixed64),
	 * 5 sum, 6 bucket_counts (packed fixed64), 7 explicit_bounds (packed
	 * double), 9 attributes, 11 min, 12 max */
	assert_int_equal(pb_get(dp, dn, 2, 0, &v, NULL, NULL), 1);
	assert_int_equal(v, 10);
	assert_int_equal(pb_get(dp, dn, 3, 0, &v, NULL, NULL), 1);
	assert_int_equal(v, 20);
	assert_int_equal(pb_get(dp, dn, 4, 0, &v, NULL, NULL), 1);
	assert_int_equal(v, 3);
	double d;
	assert_int_equal(pb_get(dp, dn, 5, 0, &v, NULL, NULL), 1);
	memcpy(&d, &v, 8);
	assert_true(d == 0.5);
	assert_int_equal(pb_get(dp, dn, 6, 0, NULL, &p, &pn), 2);
	assert_int_equal(pn, 15 * 8);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[7 * 8], 2);
	assert_int_equal(pb_get(dp, dn, 7, 0, NULL, &p, &pn), 2);
	assert_int_equal(pn, 14 * 8);
	for (int i = 0; i < 14; i++) {
		memcpy(&d, p + 8 * i, 8);
		assert_true(d == bz_otlp_bounds[i]);
	}
	assert_int_equal(pb_get(dp, dn, 9, 1, NULL, NULL, NULL), 2);
	assert_int_equal(pb_get(dp, dn, 11, 0, &v, NULL, NULL), 1);
	memcpy(&d, &v, 8);
	assert_true(d == 0.001);
	assert_int_equal(pb_get(dp, dn, 12, 0, &v, NULL, NULL), 1);
	/* the second metric of the same resource */
	pb_path(b.p, b.len, (const unsigned[]){ 1, 0, 2, 0, 2, 1 }, 3, &m, &mn);
	assert_int_equal(pb_get(m, mn, 1, 0, NULL, &p, &pn), 2);
	assert_memory_equal(p, "beyla.server.queue.duration", pn);
	/* semantic-convention bucket boundaries */
	const double sc[14] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10 };
	assert_memory_equal(bz_otlp_bounds, sc, sizeof(sc));

	/* JSON: int64 as strings, enums as integers, camelCase */
	bz_pb_reset(&b);
	bz_otlp_metrics_json(&b, pt, 1);
	bz_pb_raw(&b, "", 1);
	const char *js = (const char *)b.p;
	assert_non_null(strstr(js, "\"startTimeUnixNano\":\"10\",\"timeUnixNano\":\"20\",\"count\":\"3\",\"sum\":0.5,"
				   "\"bucketCounts\":[\"1\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"2\",\"0\",\"0\",\"0\","
				   "\"0\",\"0\",\"0\",\"0\"],\"explicitBounds\":[0.005,0.01,0.025,0.05,0.075,0.1,0.25,"
				   "0.5,0.75,1,2.5,5,7.5,10]"));
	assert_non_null(strstr(js, "{\"key\":\"http.response.status_code\",\"value\":{\"intValue\":\"200\"}}"));
	assert_non_null(strstr(js, "\"min\":0.001,\"max\":0.4"));
	assert_non_null(strstr(js, "\"aggregationTemporality\":2"));
	assert_non_null(strstr(js, "\"unit\":\"s\""));
	bz_pb_free(&b);
}

static void test_trace_json(void **state)
{
	struct otlp_attr ra = { .key = "service.name", .type = OTLP_ATTR_STR, .s = "svc", .n = 3 };
	struct otlp_resource r = { .pid = 7, .attrs = &ra, .nattrs = 1 };
	struct otlp_attr sa = { .key = "n", .type = OTLP_ATTR_INT, .i = -5 };
	struct otlp_span s = { .res = &r, .name = "a\"b", .kind = OTLP_KIND_CLIENT, .status = OTLP_STATUS_OK,
			       .start_ns = 1795612501012043204ULL, .end_ns = UINT64_MAX, .attrs = &sa, .nattrs = 1,
			       .has_parent = 1 };
	memset(s.trace_id, 0xab, 16);
	memset(s.span_id, 0x01, 8);
	memset(s.parent_id, 0xff, 8);
	struct bz_pb b;
	bz_pb_init(&b);
	bz_otlp_traces_json(&b, &s, 1);
	bz_pb_raw(&b, "", 1);
	char want[1024];
	snprintf(want, sizeof(want),
		 "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
		 "\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"beyla\",\"version\":\"%s\"},\"spans\":[{\"traceId\":"
		 "\"abababababababababababababababab\",\"spanId\":\"0101010101010101\",\"parentSpanId\":\"ffffffffffffffff\","
		 "\"name\":\"a\\\"b\",\"kind\":3,\"startTimeUnixNano\":\"1795612501012043204\",\"endTimeUnixNano\":"
		 "\"18446744073709551615\",\"attributes\":[{\"key\":\"n\",\"value\":{\"intValue\":\"-5\"}}],\"status\":"
		 "{\"code\":1}}]}]}]}",
		 BEYLA_VERSION);
	assert_string_equal((const char *)b.p, want);
	bz_pb_free(&b);
}

/* ---- helpers of the export --------------------------------------------------------- */

static void test_redact_cmdline(void **state)
{
	struct {
		const char *in, *out;
	} c[] = {
		{ "app --password=hunter2 --port=80", "app --password=REDACTED --port=80" },
		{ "mysql -u root -p s3cret db", "mysql -u root -p REDACTED db" },
		{ "run token=abc API_KEY=xyz name=ok", "run token=REDACTED API_KEY=REDACTED name=ok" },
		{ "cli --api-key k1 --secret-file /x next", "cli --api-key REDACTED --secret-file REDACTED next" },
		{ "psql postgres://bob:pw@db:5432/x", "psql postgres://bob:REDACTED@db:5432/x" },
		{ "curl http://host/a?b=1", "curl http://host/a?b=1" },
		{ "python3 app.py", "python3 app.py" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *r = bz_otlp_redact_cmdline(c[i].in);
		assert_string_equal(r, c[i].out);
		free(r);
	}
}

static void test_duration_and_urls(void **state)
{
	assert_int_equal(bz_otlp_parse_duration("10s"), 10000000000LL);
	assert_int_equal(bz_otlp_parse_duration("500ms"), 500000000LL);
	assert_int_equal(bz_otlp_parse_duration("2"), 2000000000LL);
	assert_int_equal(bz_otlp_parse_duration("1m"), 60000000000LL);
	assert_int_equal(bz_otlp_parse_duration("0.5h"), 1800000000000LL);
	assert_true(bz_otlp_parse_duration("x") < 0);
	assert_true(bz_otlp_parse_duration("-1s") < 0);
	assert_true(bz_otlp_parse_duration("10q") < 0);
	assert_true(bz_otlp_parse_duration("") < 0);

	unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
	unsetenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
	char *u = bz_otlp_signal_url(NULL, "traces");
	assert_string_equal(u, "http://localhost:4318/v1/traces");
	free(u);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/", 1);
	u = bz_otlp_signal_url(NULL, "metrics");
	assert_string_equal(u, "http://c:4318/v1/metrics");
	free(u);
	setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/custom", 1);
	u = bz_otlp_signal_url(NULL, "traces");
	assert_string_equal(u, "http://t:1/custom"); /* per-signal: used as is */
	free(u);
	u = bz_otlp_signal_url("http://x:9", "traces"); /* the command line wins */
	assert_string_equal(u, "http://x:9/v1/traces");
	free(u);
	unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_varint_edges),
		cmocka_unit_test(test_tags_and_fixed),
		cmocka_unit_test(test_nested_lengths),
		cmocka_unit_test(test_utf8_every_byte),
		cmocka_unit_test(test_trace_request_bytes),
		cmocka_unit_test(test_metrics_request),
		cmocka_unit_test(test_trace_json),
		cmocka_unit_test(test_redact_cmdline),
		cmocka_unit_test(test_duration_and_urls),
	};
	return cmocka_run_group_tests_name("otlp_proto", tests, NULL, NULL);
}
