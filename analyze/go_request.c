/* go_request.c - a Go server's request as its protocol would have carried
 * it, written from what net/http parsed (the handler start's struct reads);
 * see go_request.h. */
#include <stdio.h>
#include <string.h>

#include "go_request.h"

/* HPACK (RFC 7541 5.1): an integer with an n-bit prefix, the prefix's
 * other bits in `first`.  Returns the bytes written, 0 if out of room. */
static size_t hpack_int(uint8_t *p, size_t room, uint8_t first, unsigned nbits, size_t v)
{
	size_t max = (1u << nbits) - 1, n = 0;

	if (!room)
		return 0;
	if (v < max) {
		p[n++] = (uint8_t)(first | v);
		return n;
	}
	p[n++] = (uint8_t)(first | max);
	v -= max;
	while (v >= 128) {
		if (n >= room)
			return 0;
		p[n++] = (uint8_t)(v % 128 + 128);
		v /= 128;
	}
	if (n >= room)
		return 0;
	p[n++] = (uint8_t)v;
	return n;
}

/* A string literal, not Huffman-coded (RFC 7541 5.2). */
static size_t hpack_str(uint8_t *p, size_t room, const char *s)
{
	size_t len = strlen(s), n = hpack_int(p, room, 0x00, 7, len);

	if (!n || n + len > room)
		return 0;
	memcpy(p + n, s, len);
	return n + len;
}

/* "Literal Header Field without Indexing -- New Name" (RFC 7541 6.2.2):
 * leaves the decoder's dynamic table as it was. */
static size_t hpack_field(uint8_t *p, size_t room, const char *name, const char *value)
{
	size_t n, m;

	if (room < 1)
		return 0;
	p[0] = 0x00;
	if (!(n = hpack_str(p + 1, room - 1, name)))
		return 0;
	if (!(m = hpack_str(p + 1 + n, room - 1 - n, value)))
		return 0;
	return 1 + n + m;
}

static size_t h2_headers(const struct bz_go_event *e, const char *target, uint8_t *out, size_t cap)
{
	const char *names[4] = { ":method", ":scheme", ":path", ":authority" };
	const char *values[4] = { e->method, "https", target, e->host };
	size_t len = 9, n;

	if (cap < 9)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (i == 3 && !e->host[0])
			break;
		if (!(n = hpack_field(out + len, cap - len, names[i], values[i])))
			return 0;
		len += n;
	}
	/* frame header (RFC 9113 4.1): length, HEADERS, END_STREAM | END_HEADERS, stream */
	size_t plen = len - 9;
	out[0] = (uint8_t)(plen >> 16);
	out[1] = (uint8_t)(plen >> 8);
	out[2] = (uint8_t)plen;
	out[3] = 0x1;
	out[4] = 0x1 | 0x4;
	out[5] = (uint8_t)(e->stream >> 24 & 0x7f);
	out[6] = (uint8_t)(e->stream >> 16);
	out[7] = (uint8_t)(e->stream >> 8);
	out[8] = (uint8_t)e->stream;
	return len;
}

int bz_go_request_bytes(const struct bz_go_event *e, uint8_t *out, size_t cap, size_t *head_len,
			uint64_t *moved)
{
	const char *target = e->uri[0] ? e->uri : e->path[0] ? e->path : "/";
	int n;

	if (!e->has_req || !e->method[0])
		return -1;
	if (e->proto_major == 2 || e->stream) {
		if (!e->stream || !(*head_len = h2_headers(e, target, out, cap)))
			return -1;
		*moved = *head_len;
		return 2;
	}
	if (e->content_length > 0)
		n = snprintf((char *)out, cap, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %lld\r\n\r\n",
			     e->method, target, e->host, (long long)e->content_length);
	else
		n = snprintf((char *)out, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", e->method, target, e->host);
	if (n <= 0 || (size_t)n >= cap)
		return -1;
	*head_len = (size_t)n;
	/* the body moved, its bytes unknown (as past a snap length) */
	*moved = (uint64_t)n + (e->content_length > 0 ? (uint64_t)e->content_length : 0);
	return 1;
}
