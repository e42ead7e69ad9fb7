/* otlp_proto.c - protocol buffers encoding for OTLP (see otlp_proto.h). */
#include "otlp_proto.h"

#include <stdlib.h>
#include <string.h>

void bz_pb_init(struct bz_pb *b)
{
	memset(b, 0, sizeof(*b));
}

void bz_pb_reset(struct bz_pb *b)
{
	b->len = 0;
	b->depth = 0;
	b->oom = 0;
}

void bz_pb_free(struct bz_pb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int bz_pb_reserve(struct bz_pb *b, size_t n)
{
	if (b->oom)
		return -1;
	if (b->cap - b->len >= n)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void bz_pb_raw(struct bz_pb *b, const void *p, size_t n)
{
	if (!n || bz_pb_reserve(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

size_t bz_pb_varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void bz_pb_varint(struct bz_pb *b, uint64_t v)
{
	if (bz_pb_reserve(b, 10))
		return;
	b->len += put_varint(b->p + b->len, v);
}

void bz_pb_tag(struct bz_pb *b, unsigned field, unsigned wire)
{
	bz_pb_varint(b, ((uint64_t)field << 3) | wire);
}

void bz_pb_uint(struct bz_pb *b, unsigned field, uint64_t v)
{
	bz_pb_tag(b, field, BZ_PB_VARINT);
	bz_pb_varint(b, v);
}

void bz_pb_int(struct bz_pb *b, unsigned field, int64_t v)
{
	bz_pb_uint(b, field, (uint64_t)v);
}

void bz_pb_bool(struct bz_pb *b, unsigned field, int v)
{
	bz_pb_uint(b, field, v ? 1 : 0);
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void bz_pb_fixed64(struct bz_pb *b, unsigned field, uint64_t v)
{
	bz_pb_tag(b, field, BZ_PB_I64);
	if (bz_pb_reserve(b, 8))
		return;
	put_le64(b->p + b->len, v);
	b->len += 8;
}

void bz_pb_fixed32(struct bz_pb *b, unsigned field, uint32_t v)
{
	bz_pb_tag(b, field, BZ_PB_I32);
	if (bz_pb_reserve(b, 4))
		return;
	for (int i = 0; i < 4; i++)
		b->p[b->len + i] = (uint8_t)(v >> (8 * i));
	b->len += 4;
}

static uint64_t double_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

void bz_pb_double(struct bz_pb *b, unsigned field, double v)
{
	bz_pb_fixed64(b, field, double_bits(v));
}

void bz_pb_bytes(struct bz_pb *b, unsigned field, const void *p, size_t n)
{
	bz_pb_tag(b, field, BZ_PB_LEN);
	bz_pb_varint(b, n);
	bz_pb_raw(b, p, n);
}

size_t bz_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, min = 0x80, cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, min = 0x800, cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

size_t bz_utf8_sanitized_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t out = 0, i = 0;

	while (i < n) {
		if (u[i] < 0x80) {
			i++, out++;
			continue;
		}
		size_t k = bz_utf8_seq(u + i, n - i);
		if (k) {
			i += k, out += k;
		} else {
			i++, out += 3;
		}
	}
	return out;
}

size_t bz_utf8_sanitize(char *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, i = 0;

	while (i < n) {
		if (u[i] < 0x80) {
			out[o++] = s[i++];
			continue;
		}
		size_t k = bz_utf8_seq(u + i, n - i);
		if (k) {
			memcpy(out + o, s + i, k);
			i += k, o += k;
		} else {
			out[o++] = (char)0xEF, out[o++] = (char)0xBF, out[o++] = (char)0xBD;
			i++;
		}
	}
	return o;
}

void bz_pb_string(struct bz_pb *b, unsigned field, const char *s, size_t n)
{
	size_t m;
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	/* Fast path: ASCII. */
	for (i = 0; i < n && u[i] < 0x80; i++)
		;
	if (i == n) {
		bz_pb_bytes(b, field, s, n);
		return;
	}
	m = bz_utf8_sanitized_len(s, n);
	bz_pb_tag(b, field, BZ_PB_LEN);
	bz_pb_varint(b, m);
	if (bz_pb_reserve(b, m))
		return;
	b->len += bz_utf8_sanitize((char *)b->p + b->len, s, n);
}

void bz_pb_cstring(struct bz_pb *b, unsigned field, const char *s)
{
	bz_pb_string(b, field, s ? s : "", s ? strlen(s) : 0);
}

void bz_pb_packed_fixed64(struct bz_pb *b, unsigned field, const uint64_t *v, size_t n)
{
	bz_pb_tag(b, field, BZ_PB_LEN);
	bz_pb_varint(b, 8 * n);
	if (bz_pb_reserve(b, 8 * n))
		return;
	for (size_t i = 0; i < n; i++)
		put_le64(b->p + b->len + 8 * i, v[i]);
	b->len += 8 * n;
}

void bz_pb_packed_double(struct bz_pb *b, unsigned field, const double *v, size_t n)
{
	bz_pb_tag(b, field, BZ_PB_LEN);
	bz_pb_varint(b, 8 * n);
	if (bz_pb_reserve(b, 8 * n))
		return;
	for (size_t i = 0; i < n; i++)
		put_le64(b->p + b->len + 8 * i, double_bits(v[i]));
	b->len += 8 * n;
}

void bz_pb_begin(struct bz_pb *b, unsigned field)
{
	bz_pb_tag(b, field, BZ_PB_LEN);
	if (b->oom)
		return;
	if (b->depth >= sizeof(b->stack) / sizeof(b->stack[0])) {
		b->oom = 1; /* deeper than any OTLP message */
		return;
	}
	if (bz_pb_reserve(b, 1))
		return;
	b->stack[b->depth++] = b->len;
	b->p[b->len++] = 0; /* one length byte; grown in bz_pb_end if needed */
}

void bz_pb_end(struct bz_pb *b)
{
	if (b->oom || !b->depth)
		return;
	size_t at = b->stack[--b->depth];
	size_t body = b->len - at - 1;
	size_t k = bz_pb_varint_size(body);

	if (k > 1) {
		if (bz_pb_reserve(b, k - 1))
			return;
		memmove(b->p + at + k, b->p + at + 1, body);
		b->len += k - 1;
	}
	put_varint(b->p + at, body);
}

/* ---- attributes ------------------------------------------------------------ */

void bz_otlp_attr_str(struct bz_pb *b, unsigned field, const char *key, const char *v, size_t n)
{
	bz_pb_begin(b, field);
	bz_pb_cstring(b, OTLP_KV_KEY, key);
	bz_pb_begin(b, OTLP_KV_VALUE);
	bz_pb_string(b, OTLP_ANY_STRING, v, n);
	bz_pb_end(b);
	bz_pb_end(b);
}

void bz_otlp_attr_cstr(struct bz_pb *b, unsigned field, const char *key, const char *v)
{
	bz_otlp_attr_str(b, field, key, v ? v : "", v ? strlen(v) : 0);
}

void bz_otlp_attr_int(struct bz_pb *b, unsigned field, const char *key, int64_t v)
{
	bz_pb_begin(b, field);
	bz_pb_cstring(b, OTLP_KV_KEY, key);
	bz_pb_begin(b, OTLP_KV_VALUE);
	bz_pb_int(b, OTLP_ANY_INT, v);
	bz_pb_end(b);
	bz_pb_end(b);
}

void bz_otlp_attr_double(struct bz_pb *b, unsigned field, const char *key, double v)
{
	bz_pb_begin(b, field);
	bz_pb_cstring(b, OTLP_KV_KEY, key);
	bz_pb_begin(b, OTLP_KV_VALUE);
	bz_pb_double(b, OTLP_ANY_DOUBLE, v);
	bz_pb_end(b);
	bz_pb_end(b);
}

void bz_otlp_attr_bool(struct bz_pb *b, unsigned field, const char *key, int v)
{
	bz_pb_begin(b, field);
	bz_pb_cstring(b, OTLP_KV_KEY, key);
	bz_pb_begin(b, OTLP_KV_VALUE);
	bz_pb_bool(b, OTLP_ANY_BOOL, v);
	bz_pb_end(b);
	bz_pb_end(b);
}
