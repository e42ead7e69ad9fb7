/* hpack_enc.h - a small HPACK encoder for the tests and tools only (the
 * library decodes; nothing in beyla encodes).  Header-only, every function
 * static inline (a user need not call them all): tests/unit/test_hpack.c
 * and tests/tools/hpack_bench.c include it.
 *
 * Its Huffman code is typed independently of the decoder's: here the RFC
 * 7541 Appendix B symbols are listed by code length (the decoder lists the
 * lengths by symbol), and the canonical codes are derived from that.  A
 * mistake in either copy shows up as a round trip that fails.
 *
 * The encoder (henc_field) keeps a mirror of the dynamic table: it indexes
 * a field both tables hold, else sends a literal with an indexed name when
 * one has the name, with or without indexing as asked.
 */
#ifndef BEYLA_HPACK_ENC_H
#define BEYLA_HPACK_ENC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hbuf {
	uint8_t *p;
	size_t len, cap;
};

static inline void hbuf_put(struct hbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static inline void hbuf_byte(struct hbuf *b, uint8_t c) { hbuf_put(b, &c, 1); }

/* --- Huffman: Appendix B by code length -------------------------------------- */

struct henc_len {
	unsigned len;
	const char *ascii;  /* printable symbols of this length */
	const int *others;  /* the other symbols, -1 ended */
};

static const int henc_o13[] = { 0, -1 }, henc_o19[] = { 195, 208, -1 };
static const int henc_o20[] = { 128, 130, 131, 162, 184, 194, 224, 226, -1 };
static const int henc_o21[] = { 153, 161, 167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230, -1 };
static const int henc_o22[] = { 129, 132, 133, 134, 136, 146, 154, 156, 160, 163, 164, 169, 170,
				173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232, 233, -1 };
static const int henc_o23[] = { 1, 135, 137, 138, 139, 140, 141, 143, 147, 149, 150, 151, 152, 155,
				157, 158, 165, 166, 168, 174, 175, 180, 182, 183, 188, 191, 197, 231, 239, -1 };
static const int henc_o24[] = { 9, 142, 144, 145, 148, 159, 171, 206, 215, 225, 236, 237, -1 };
static const int henc_o25[] = { 199, 207, 234, 235, -1 };
static const int henc_o26[] = { 192, 193, 200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243, 255, -1 };
static const int henc_o27[] = { 203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245, 246, 247, 248,
				250, 251, 252, 253, 254, -1 };
static const int henc_o28[] = { 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25,
				26, 27, 28, 29, 30, 31, 127, 220, 249, -1 };
static const int henc_o30[] = { 10, 13, 22, 256, -1 };
static const int henc_none[] = { -1 };

static const struct henc_len henc_lens[] = {
	{ 5, "012aceiost", henc_none },
	{ 6, " %-./3456789=A_bdfghlmnpru", henc_none },
	{ 7, ":BCDEFGHIJKLMNOPQRSTUVWYjkqvwxyz", henc_none },
	{ 8, "&*,;XZ", henc_none },
	{ 10, "!\"()?", henc_none },
	{ 11, "'+|", henc_none },
	{ 12, "#>", henc_none },
	{ 13, "$@[]~", henc_o13 },
	{ 14, "^}", henc_none },
	{ 15, "<`{", henc_none },
	{ 19, "\\", henc_o19 },
	{ 20, "", henc_o20 }, { 21, "", henc_o21 }, { 22, "", henc_o22 }, { 23, "", henc_o23 },
	{ 24, "", henc_o24 }, { 25, "", henc_o25 }, { 26, "", henc_o26 }, { 27, "", henc_o27 },
	{ 28, "", henc_o28 }, { 30, "", henc_o30 },
};

static uint32_t henc_code[257];
static uint8_t henc_clen[257];

/* Canonical codes: by length, then by symbol. */
static inline void henc_init(void)
{
	uint32_t c = 0;
	unsigned prev = 5;

	if (henc_clen['a'])
		return;
	for (size_t k = 0; k < sizeof(henc_lens) / sizeof(henc_lens[0]); k++) {
		const struct henc_len *l = &henc_lens[k];
		int syms[300], n = 0;
		for (const char *s = l->ascii; *s; s++)
			syms[n++] = (unsigned char)*s;
		for (const int *o = l->others; *o >= 0; o++)
			syms[n++] = *o;
		for (int i = 1; i < n; i++) /* insertion sort by symbol */
			for (int j = i; j > 0 && syms[j - 1] > syms[j]; j--) {
				int t = syms[j];
				syms[j] = syms[j - 1];
				syms[j - 1] = t;
			}
		c <<= l->len - prev;
		prev = l->len;
		for (int i = 0; i < n; i++) {
			if (henc_clen[syms[i]]) {
				fprintf(stderr, "hpack_enc.h: symbol %d listed twice\n", syms[i]);
				abort();
			}
			henc_code[syms[i]] = c++;
			henc_clen[syms[i]] = (uint8_t)l->len;
		}
	}
	for (int s = 0; s < 257; s++)
		if (!henc_clen[s]) {
			fprintf(stderr, "hpack_enc.h: symbol %d missing\n", s);
			abort();
		}
}

/* Octets of s[0..n) Huffman-coded, with EOS-prefix padding. */
static inline size_t henc_huffman_len(const uint8_t *s, size_t n)
{
	uint64_t bits = 0;
	henc_init();
	for (size_t i = 0; i < n; i++)
		bits += henc_clen[s[i]];
	return (size_t)((bits + 7) / 8);
}

static inline void henc_huffman(struct hbuf *b, const uint8_t *s, size_t n)
{
	uint64_t acc = 0;
	unsigned bits = 0;

	henc_init();
	for (size_t i = 0; i < n; i++) {
		acc = acc << henc_clen[s[i]] | henc_code[s[i]];
		bits += henc_clen[s[i]];
		while (bits >= 8) {
			bits -= 8;
			hbuf_byte(b, (uint8_t)(acc >> bits));
		}
	}
	if (bits)
		hbuf_byte(b, (uint8_t)(acc << (8 - bits) | 0xffu >> bits));
}

/* --- integers and strings ------------------------------------------------------ */

/* 5.1: v with an N-bit prefix, the octet's high bits being `first`. */
static inline void henc_int(struct hbuf *b, uint8_t first, unsigned prefix, uint64_t v)
{
	uint64_t max = (1u << prefix) - 1;

	if (v < max) {
		hbuf_byte(b, (uint8_t)(first | v));
		return;
	}
	hbuf_byte(b, (uint8_t)(first | max));
	v -= max;
	while (v >= 128) {
		hbuf_byte(b, (uint8_t)(0x80 | (v & 0x7f)));
		v >>= 7;
	}
	hbuf_byte(b, (uint8_t)v);
}

/* 5.2; returns the offset of its first octet after the length. */
static inline size_t henc_str(struct hbuf *b, const void *s, size_t n, int huffman)
{
	size_t off;

	if (huffman) {
		henc_int(b, 0x80, 7, henc_huffman_len(s, n));
		off = b->len;
		henc_huffman(b, s, n);
	} else {
		henc_int(b, 0, 7, n);
		off = b->len;
		hbuf_put(b, s, n);
	}
	return off;
}

/* --- an encoder with a dynamic table ------------------------------------------ */

static const char *const henc_static[61][2] = {
	{ ":authority", "" }, { ":method", "GET" }, { ":method", "POST" }, { ":path", "/" },
	{ ":path", "/index.html" }, { ":scheme", "http" }, { ":scheme", "https" }, { ":status", "200" },
	{ ":status", "204" }, { ":status", "206" }, { ":status", "304" }, { ":status", "400" },
	{ ":status", "404" }, { ":status", "500" }, { "accept-charset", "" },
	{ "accept-encoding", "gzip, deflate" }, { "accept-language", "" }, { "accept-ranges", "" },
	{ "accept", "" }, { "access-control-allow-origin", "" }, { "age", "" }, { "allow", "" },
	{ "authorization", "" }, { "cache-control", "" }, { "content-disposition", "" },
	{ "content-encoding", "" }, { "content-language", "" }, { "content-length", "" },
	{ "content-location", "" }, { "content-range", "" }, { "content-type", "" }, { "cookie", "" },
	{ "date", "" }, { "etag", "" }, { "expect", "" }, { "expires", "" }, { "from", "" },
	{ "host", "" }, { "if-match", "" }, { "if-modified-since", "" }, { "if-none-match", "" },
	{ "if-range", "" }, { "if-unmodified-since", "" }, { "last-modified", "" }, { "link", "" },
	{ "location", "" }, { "max-forwards", "" }, { "proxy-authenticate", "" },
	{ "proxy-authorization", "" }, { "range", "" }, { "referer", "" }, { "refresh", "" },
	{ "retry-after", "" }, { "server", "" }, { "set-cookie", "" },
	{ "strict-transport-security", "" }, { "transfer-encoding", "" }, { "user-agent", "" },
	{ "vary", "" }, { "via", "" }, { "www-authenticate", "" },
};

#define HENC_MAX_ENTRIES 512
struct henc {
	uint32_t limit, size, count;     /* count entries, [0] the newest */
	char *name[HENC_MAX_ENTRIES], *value[HENC_MAX_ENTRIES];
	int huffman;                     /* literals Huffman-coded */
};

static inline void henc_evict(struct henc *e, uint64_t room)
{
	while (e->count && e->size + room > e->limit) {
		e->count--;
		e->size -= (uint32_t)(strlen(e->name[e->count]) + strlen(e->value[e->count]) + 32);
		free(e->name[e->count]);
		free(e->value[e->count]);
	}
}

static inline void henc_add(struct henc *e, const char *n, const char *v)
{
	uint64_t s = strlen(n) + strlen(v) + 32;

	henc_evict(e, s > e->limit ? UINT32_MAX + 1ull : s);
	if (s > e->limit || e->count == HENC_MAX_ENTRIES)
		return;
	memmove(e->name + 1, e->name, e->count * sizeof(char *));
	memmove(e->value + 1, e->value, e->count * sizeof(char *));
	e->name[0] = strdup(n);
	e->value[0] = strdup(v);
	e->count++;
	e->size += (uint32_t)s;
}

static inline void henc_free(struct henc *e)
{
	e->limit = 0;
	henc_evict(e, 1);
}

/* 6.3 */
static inline void henc_size_update(struct henc *e, struct hbuf *b, uint32_t limit)
{
	e->limit = limit;
	henc_evict(e, 0);
	henc_int(b, 0x20, 5, limit);
}

/* One field; never_index: 6.2.3, index: add it to the table (6.2.1). */
static inline void henc_field(struct henc *e, struct hbuf *b, const char *n, const char *v, int index, int never_index)
{
	unsigned name_idx = 0;

	for (unsigned i = 0; i < 61 + e->count; i++) {
		const char *tn = i < 61 ? henc_static[i][0] : e->name[i - 61];
		const char *tv = i < 61 ? henc_static[i][1] : e->value[i - 61];
		if (strcmp(tn, n))
			continue;
		if (!strcmp(tv, v) && !never_index) {
			henc_int(b, 0x80, 7, i + 1);
			return;
		}
		if (!name_idx)
			name_idx = i + 1;
	}
	if (never_index)
		henc_int(b, 0x10, 4, name_idx);
	else if (index)
		henc_int(b, 0x40, 6, name_idx);
	else
		henc_int(b, 0x00, 4, name_idx);
	if (!name_idx)
		henc_str(b, n, strlen(n), e->huffman);
	henc_str(b, v, strlen(v), e->huffman);
	if (index && !never_index)
		henc_add(e, n, v);
}

#endif
