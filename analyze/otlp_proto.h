/* otlp_proto.h - a small protocol buffers encoder for the OTLP messages that
 * `beyla analyze --otlp` sends (opentelemetry-proto: trace/v1, metrics/v1,
 * common/v1, resource/v1 and the collector's Export*ServiceRequest).
 *
 * Encoding is into a growable buffer.  A nested message is opened with
 * bz_pb_begin() and closed with bz_pb_end(): its length prefix is written
 * in its minimal varint form (the body is moved when the length needs more
 * than one byte), so the output is the canonical encoding a protobuf
 * library would produce for the same fields in field-number order.
 *
 * Strings must be UTF-8 in protobuf; bz_pb_string() replaces every byte
 * that is not part of a valid UTF-8 sequence with U+FFFD (EF BF BD), so
 * arbitrary captured bytes (header values, command lines) always give a
 * message that strict decoders accept.  An allocation failure sets
 * buf->oom; every later call is then a no-op.
 */
#ifndef BEYLA_OTLP_PROTO_H
#define BEYLA_OTLP_PROTO_H

#include <stddef.h>
#include <stdint.h>

struct bz_pb {
	uint8_t *p;
	size_t len, cap;
	int oom;
	unsigned depth;
	size_t stack[16]; /* offsets of the open messages' length bytes */
};

/* Wire types. */
enum { BZ_PB_VARINT = 0, BZ_PB_I64 = 1, BZ_PB_LEN = 2, BZ_PB_I32 = 5 };

void bz_pb_init(struct bz_pb *b);
void bz_pb_reset(struct bz_pb *b); /* length 0, memory kept */
void bz_pb_free(struct bz_pb *b);
int bz_pb_reserve(struct bz_pb *b, size_t n);

/* Raw pieces. */
void bz_pb_raw(struct bz_pb *b, const void *p, size_t n);
void bz_pb_varint(struct bz_pb *b, uint64_t v);
void bz_pb_tag(struct bz_pb *b, unsigned field, unsigned wire);
size_t bz_pb_varint_size(uint64_t v);

/* Fields.  Scalar fields are written even when zero (callers skip defaults
 * when they want proto3's "absent" encoding). */
void bz_pb_uint(struct bz_pb *b, unsigned field, uint64_t v);   /* uint32/uint64/enum */
void bz_pb_int(struct bz_pb *b, unsigned field, int64_t v);     /* int32/int64 (two's complement) */
void bz_pb_bool(struct bz_pb *b, unsigned field, int v);
void bz_pb_fixed64(struct bz_pb *b, unsigned field, uint64_t v);
void bz_pb_fixed32(struct bz_pb *b, unsigned field, uint32_t v);
void bz_pb_double(struct bz_pb *b, unsigned field, double v);
void bz_pb_bytes(struct bz_pb *b, unsigned field, const void *p, size_t n);
void bz_pb_string(struct bz_pb *b, unsigned field, const char *s, size_t n); /* UTF-8 sanitised */
void bz_pb_cstring(struct bz_pb *b, unsigned field, const char *s);         /* NULL: "" */
/* packed repeated fixed64 / double */
void bz_pb_packed_fixed64(struct bz_pb *b, unsigned field, const uint64_t *v, size_t n);
void bz_pb_packed_double(struct bz_pb *b, unsigned field, const double *v, size_t n);

/* Nested message: begin writes the tag, end the length. */
void bz_pb_begin(struct bz_pb *b, unsigned field);
void bz_pb_end(struct bz_pb *b);

/* Length of s[0..n) once made valid UTF-8, and the copy (out holds at least
 * that many bytes).  Every invalid byte becomes U+FFFD. */
size_t bz_utf8_sanitized_len(const char *s, size_t n);
size_t bz_utf8_sanitize(char *out, const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s[0] begins none. */
size_t bz_utf8_seq(const unsigned char *s, size_t n);

/* ---- OTLP field numbers (opentelemetry-proto) ---------------------------- */

/* collector/{trace,metrics}/v1: Export*ServiceRequest */
#define OTLP_REQ_RESOURCE_SPANS 1
#define OTLP_REQ_RESOURCE_METRICS 1
/* ResourceSpans / ResourceMetrics */
#define OTLP_RS_RESOURCE 1
#define OTLP_RS_SCOPE 2 /* scope_spans / scope_metrics */
#define OTLP_RS_SCHEMA_URL 3
/* Resource */
#define OTLP_RESOURCE_ATTRIBUTES 1
/* ScopeSpans / ScopeMetrics */
#define OTLP_SS_SCOPE 1
#define OTLP_SS_ITEMS 2 /* spans / metrics */
#define OTLP_SS_SCHEMA_URL 3
/* InstrumentationScope */
#define OTLP_SCOPE_NAME 1
#define OTLP_SCOPE_VERSION 2
/* KeyValue, AnyValue */
#define OTLP_KV_KEY 1
#define OTLP_KV_VALUE 2
#define OTLP_ANY_STRING 1
#define OTLP_ANY_BOOL 2
#define OTLP_ANY_INT 3
#define OTLP_ANY_DOUBLE 4
#define OTLP_ANY_BYTES 7
/* Span */
#define OTLP_SPAN_TRACE_ID 1
#define OTLP_SPAN_SPAN_ID 2
#define OTLP_SPAN_PARENT_SPAN_ID 4
#define OTLP_SPAN_NAME 5
#define OTLP_SPAN_KIND 6
#define OTLP_SPAN_START 7
#define OTLP_SPAN_END 8
#define OTLP_SPAN_ATTRIBUTES 9
#define OTLP_SPAN_STATUS 15
#define OTLP_SPAN_FLAGS 16
/* Status */
#define OTLP_STATUS_MESSAGE 2
#define OTLP_STATUS_CODE 3
/* Metric, Histogram, HistogramDataPoint */
#define OTLP_METRIC_NAME 1
#define OTLP_METRIC_DESCRIPTION 2
#define OTLP_METRIC_UNIT 3
#define OTLP_METRIC_HISTOGRAM 9
#define OTLP_HIST_DATA_POINTS 1
#define OTLP_HIST_TEMPORALITY 2
#define OTLP_HDP_START 2
#define OTLP_HDP_TIME 3
#define OTLP_HDP_COUNT 4
#define OTLP_HDP_SUM 5
#define OTLP_HDP_BUCKET_COUNTS 6
#define OTLP_HDP_EXPLICIT_BOUNDS 7
#define OTLP_HDP_ATTRIBUTES 9
#define OTLP_HDP_MIN 11
#define OTLP_HDP_MAX 12

enum otlp_span_kind {
	OTLP_KIND_UNSPECIFIED = 0, OTLP_KIND_INTERNAL = 1, OTLP_KIND_SERVER = 2, OTLP_KIND_CLIENT = 3,
};
enum otlp_status_code { OTLP_STATUS_UNSET = 0, OTLP_STATUS_OK = 1, OTLP_STATUS_ERROR = 2 };
enum otlp_temporality { OTLP_TEMPORALITY_DELTA = 1, OTLP_TEMPORALITY_CUMULATIVE = 2 };

/* ---- OTLP building blocks ------------------------------------------------- */

/* KeyValue{key, AnyValue{string_value|int_value|double_value|bool_value}} as
 * repeated field `field` of the enclosing message. */
void bz_otlp_attr_str(struct bz_pb *b, unsigned field, const char *key, const char *v, size_t n);
void bz_otlp_attr_cstr(struct bz_pb *b, unsigned field, const char *key, const char *v);
void bz_otlp_attr_int(struct bz_pb *b, unsigned field, const char *key, int64_t v);
void bz_otlp_attr_double(struct bz_pb *b, unsigned field, const char *key, double v);
void bz_otlp_attr_bool(struct bz_pb *b, unsigned field, const char *key, int v);

#endif
