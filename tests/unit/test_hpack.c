/* test_hpack.c - the HPACK decoder (analyze/proto/hpack.h): every example
 * of RFC 7541 Appendix C with the decoded fields and the dynamic table the
 * RFC lists after each block; every malformed input the decoder must
 * refuse (and the context it must then give up); the places of literal
 * strings in the block; and masking (bz_hpack_mask_string): exhaustively
 * over small lengths, on random strings Huffman-coded by an encoder typed
 * apart from the decoder (tests/tools/hpack_enc.h), and on whole blocks,
 * whose masked copy must leave the dynamic table exactly as the original
 * did. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/hpack.h"
#include "analyze/proto/hpack_int.h"
#include "tests/tools/hpack_enc.h"

/* --- helpers ----------------------------------------------------------------- */

#define MAXF 256

struct got {
	int n;
	struct bz_hpack_field f[MAXF]; /* name/value copied into the buffers below */
	uint8_t *name[MAXF], *value[MAXF];
	int stop_at;                   /* return non-zero at this field (-1: never) */
};

static int collect(void *u, const struct bz_hpack_field *f)
{
	struct got *g = u;
	assert_true(g->n < MAXF);
	assert_non_null(f->name);
	assert_non_null(f->value);
	g->f[g->n] = *f;
	g->name[g->n] = malloc(f->name_len + 1);
	g->value[g->n] = malloc(f->value_len + 1);
	assert_non_null(g->name[g->n]);
	assert_non_null(g->value[g->n]);
	memcpy(g->name[g->n], f->name, f->name_len);
	memcpy(g->value[g->n], f->value, f->value_len);
	g->name[g->n][f->name_len] = g->value[g->n][f->value_len] = 0;
	return g->n++ == g->stop_at;
}

static void got_reset(struct got *g)
{
	for (int i = 0; i < g->n; i++) {
		free(g->name[i]);
		free(g->value[i]);
	}
	memset(g, 0, sizeof(*g));
	g->stop_at = -1;
}

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	while (*s) {
		unsigned v;
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static int decode_hex(struct bz_hpack *h, const char *hex, struct got *g)
{
	uint8_t b[512];
	size_t n = unhex(hex, b);
	got_reset(g);
	return bz_hpack_decode(h, b, n, collect, g);
}

static struct bz_hpack *ctx(uint32_t max)
{
	struct bz_hpack *h = NULL;
	assert_int_equal(bz_hpack_new(&h, max), 0);
	assert_non_null(h);
	assert_true(bz_hpack_usable(h));
	return h;
}

/* "name: value" lines, one per field */
static void want_fields(const struct got *g, const char *const *want)
{
	int n = 0;
	for (; want[n]; n++) {
		char line[512];
		assert_true(n < g->n);
		snprintf(line, sizeof(line), "%s: %s", (const char *)g->name[n], (const char *)g->value[n]);
		assert_string_equal(line, want[n]);
		assert_int_equal(strlen((const char *)g->name[n]), g->f[n].name_len);
	}
	assert_int_equal(g->n, n);
}

/* The dynamic table holds exactly want (newest first) and has this size:
 * read back by indexed representations 62, 63, ... (which change nothing),
 * and no more entries than listed, since the size counts them all. */
static void want_table(struct bz_hpack *h, const char *const *want, uint32_t size)
{
	uint8_t probe[128];
	struct got g = { .stop_at = -1 };
	size_t n = 0;
	uint32_t sum = 0;

	assert_int_equal(bz_hpack_table_size(h), size);
	for (; want[n]; n++) {
		probe[n] = (uint8_t)(0x80 | (62 + n));
		sum += (uint32_t)strlen(want[n]) - 2 + 32; /* "name: value" */
	}
	assert_int_equal(sum, size);
	assert_int_equal(bz_hpack_decode(h, probe, n, collect, &g), 0);
	want_fields(&g, want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g.f[i].repr, BZ_HPACK_INDEXED);
	got_reset(&g);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* --- C.1 integers ------------------------------------------------------------- */

static void test_c1_integers(void **state)
{
	static const uint8_t c11[] = { 0xea }, c12[] = { 0xff, 0x9a, 0x0a }, c13[] = { 0x2a };
	uint32_t v = 0;
	size_t pos = 0;

	/* C.1.1: 10, 5-bit prefix (the 3 high bits are not the integer's) */
	assert_int_equal(bz_hpack_int_get(c11, 1, &pos, 5, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(pos, 1);
	/* C.1.2: 1337, 5-bit prefix */
	pos = 0;
	assert_int_equal(bz_hpack_int_get(c12, 3, &pos, 5, &v), 0);
	assert_int_equal(v, 1337);
	assert_int_equal(pos, 3);
	/* C.1.3: 42 at an octet boundary (8-bit prefix) */
	pos = 0;
	assert_int_equal(bz_hpack_int_get(c13, 1, &pos, 8, &v), 0);
	assert_int_equal(v, 42);

	/* the limits: UINT32_MAX is read, one more is not; 5 continuation
	 * octets (padding zeros) are, 6 are not; a cut integer is not */
	static const uint8_t umax[] = { 0x1f, 0xe0, 0xff, 0xff, 0xff, 0x0f };  /* 31 + 0xffffffe0 */
	static const uint8_t over[] = { 0x1f, 0xe1, 0xff, 0xff, 0xff, 0x0f };
	static const uint8_t pad5[] = { 0x1f, 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t pad6[] = { 0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t big[] = { 0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f };
	pos = 0;
	assert_int_equal(bz_hpack_int_get(umax, sizeof(umax), &pos, 5, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	pos = 0;
	assert_int_equal(bz_hpack_int_get(over, sizeof(over), &pos, 5, &v), -EINVAL);
	pos = 0;
	assert_int_equal(bz_hpack_int_get(big, sizeof(big), &pos, 5, &v), -EINVAL);
	pos = 0;
	assert_int_equal(bz_hpack_int_get(pad5, sizeof(pad5), &pos, 5, &v), 0);
	assert_int_equal(v, 31);
	pos = 0;
	assert_int_equal(bz_hpack_int_get(pad6, sizeof(pad6), &pos, 5, &v), -EINVAL);
	for (size_t cut = 0; cut < sizeof(c12); cut++) {
		pos = 0;
		assert_int_equal(bz_hpack_int_get(c12, cut, &pos, 5, &v), -EINVAL);
	}

	/* C.1.2 through a block: a size update to 1337, seen by what fits:
	 * an entry of exactly 1337 stays, one of 1338 empties the table */
	struct bz_hpack *h = ctx(4096);
	struct hbuf b = { 0 };
	char name[1400];
	memset(name, 'n', sizeof(name));
	hbuf_put(&b, c12, sizeof(c12));
	b.p[0] = 0x3f; /* 001 11111: size update */
	hbuf_byte(&b, 0x40);
	henc_str(&b, name, 1337 - 32 - 1, 0);
	henc_str(&b, "v", 1, 0);
	assert_int_equal(bz_hpack_decode(h, b.p, b.len, NULL, NULL), 0);
	assert_int_equal(bz_hpack_table_size(h), 1337);
	b.len = 0;
	hbuf_byte(&b, 0x40);
	henc_str(&b, name, 1337 - 32, 0);
	henc_str(&b, "v", 1, 0);
	assert_int_equal(bz_hpack_decode(h, b.p, b.len, NULL, NULL), 0);
	assert_int_equal(bz_hpack_table_size(h), 0);
	assert_true(bz_hpack_usable(h));
	free(b.p);
	bz_hpack_free(&h);
	assert_null(h);
}

/* --- C.2 single representations ----------------------------------------------- */

static void test_c2_representations(void **state)
{
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h;

	/* C.2.1 literal with indexing */
	h = ctx(4096);
	assert_int_equal(decode_hex(h, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", &g), 0);
	want_fields(&g, (const char *[]){ "custom-key: custom-header", NULL });
	assert_int_equal(g.f[0].repr, BZ_HPACK_INCREMENTAL);
	want_table(h, (const char *[]){ "custom-key: custom-header", NULL }, 55);
	bz_hpack_free(&h);

	/* C.2.2 literal without indexing */
	h = ctx(4096);
	assert_int_equal(decode_hex(h, "040c 2f73 616d 706c 652f 7061 7468", &g), 0);
	want_fields(&g, (const char *[]){ ":path: /sample/path", NULL });
	assert_int_equal(g.f[0].repr, BZ_HPACK_WITHOUT);
	want_table(h, (const char *[]){ NULL }, 0);
	bz_hpack_free(&h);

	/* C.2.3 literal never indexed */
	h = ctx(4096);
	assert_int_equal(decode_hex(h, "1008 7061 7373 776f 7264 0673 6563 7265 74", &g), 0);
	want_fields(&g, (const char *[]){ "password: secret", NULL });
	assert_int_equal(g.f[0].repr, BZ_HPACK_NEVER);
	want_table(h, (const char *[]){ NULL }, 0);
	bz_hpack_free(&h);

	/* C.2.4 indexed */
	h = ctx(4096);
	assert_int_equal(decode_hex(h, "82", &g), 0);
	want_fields(&g, (const char *[]){ ":method: GET", NULL });
	assert_int_equal(g.f[0].repr, BZ_HPACK_INDEXED);
	assert_int_equal(g.f[0].name_enc_len, 0);
	assert_int_equal(g.f[0].value_enc_len, 0);
	want_table(h, (const char *[]){ NULL }, 0);
	got_reset(&g);
	bz_hpack_free(&h);
}

/* --- C.3 to C.6: sequences over one context ------------------------------------- */

static const char *const req1[] = { ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com", NULL };
static const char *const req2[] = { ":method: GET", ":scheme: http", ":path: /", ":authority: www.example.com",
				    "cache-control: no-cache", NULL };
static const char *const req3[] = { ":method: GET", ":scheme: https", ":path: /index.html",
				    ":authority: www.example.com", "custom-key: custom-value", NULL };
static const char *const req_t1[] = { ":authority: www.example.com", NULL };
static const char *const req_t2[] = { "cache-control: no-cache", ":authority: www.example.com", NULL };
static const char *const req_t3[] = { "custom-key: custom-value", "cache-control: no-cache",
				      ":authority: www.example.com", NULL };

static void requests(const char *b1, const char *b2, const char *b3, int huffman)
{
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h = ctx(4096);

	assert_int_equal(decode_hex(h, b1, &g), 0);
	want_fields(&g, req1);
	assert_int_equal(g.f[3].value_huffman, huffman);
	want_table(h, req_t1, 57);
	assert_int_equal(decode_hex(h, b2, &g), 0);
	want_fields(&g, req2);
	want_table(h, req_t2, 110);
	assert_int_equal(decode_hex(h, b3, &g), 0);
	want_fields(&g, req3);
	assert_int_equal(g.f[4].name_huffman, huffman);
	want_table(h, req_t3, 164);
	got_reset(&g);
	bz_hpack_free(&h);
}

static void test_c3_requests(void **state)
{
	requests("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
		 "8286 84be 5808 6e6f 2d63 6163 6865",
		 "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", 0);
}

static void test_c4_requests_huffman(void **state)
{
	requests("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
		 "8286 84be 5886 a8eb 1064 9cbf",
		 "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", 1);
}

#define DATE1 "date: Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2 "date: Mon, 21 Oct 2013 20:13:22 GMT"
#define LOC "location: https://www.example.com"
#define COOKIE "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"

static void responses(const char *b1, const char *b2, const char *b3)
{
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h = ctx(256);

	assert_int_equal(decode_hex(h, b1, &g), 0);
	want_fields(&g, (const char *[]){ ":status: 302", "cache-control: private", DATE1, LOC, NULL });
	want_table(h, (const char *[]){ LOC, DATE1, "cache-control: private", ":status: 302", NULL }, 222);
	/* ":status: 302" goes, evicted by ":status: 307" */
	assert_int_equal(decode_hex(h, b2, &g), 0);
	want_fields(&g, (const char *[]){ ":status: 307", "cache-control: private", DATE1, LOC, NULL });
	want_table(h, (const char *[]){ ":status: 307", LOC, DATE1, "cache-control: private", NULL }, 222);
	/* three entries in, five out */
	assert_int_equal(decode_hex(h, b3, &g), 0);
	want_fields(&g, (const char *[]){ ":status: 200", "cache-control: private", DATE2, LOC,
					  "content-encoding: gzip", COOKIE, NULL });
	want_table(h, (const char *[]){ COOKIE, "content-encoding: gzip", DATE2, NULL }, 215);
	got_reset(&g);
	bz_hpack_free(&h);
}

static void test_c5_responses(void **state)
{
	responses("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a "
		  "3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
		  "4803 3330 37c1 c0bf",
		  "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 "
		  "677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 "
		  "553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31");
}

static void test_c6_responses_huffman(void **state)
{
	responses("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e "
		  "919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
		  "4883 640e ffc1 c0bf",
		  "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 "
		  "821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed "
		  "4ee5 b106 3d50 07");
}

/* --- where literals are ---------------------------------------------------------- */

static void test_literal_offsets(void **state)
{
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h = ctx(4096);

	/* C.3.1: ":authority" by index (41), the value's 15 octets at 5 */
	assert_int_equal(decode_hex(h, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &g), 0);
	assert_int_equal(g.f[3].name_enc_len, 0);
	assert_int_equal(g.f[3].value_off, 5);
	assert_int_equal(g.f[3].value_enc_len, 15);
	assert_int_equal(g.f[3].value_huffman, 0);
	assert_int_equal(g.f[3].masked, 0);
	bz_hpack_free(&h);

	/* C.4.3: "custom-key" Huffman in 8 octets at 6, its value in 9 at 15 */
	h = ctx(4096);
	assert_int_equal(decode_hex(h, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", &g), 0);
	assert_int_equal(g.f[3].value_off, 5);
	assert_int_equal(g.f[3].value_enc_len, 12);
	assert_int_equal(g.f[3].value_huffman, 1);
	assert_int_equal(g.f[3].value_len, 15);
	assert_int_equal(decode_hex(h, "8286 84be 5886 a8eb 1064 9cbf", &g), 0);
	assert_int_equal(g.f[4].value_off, 6);
	assert_int_equal(g.f[4].value_enc_len, 6);
	assert_int_equal(decode_hex(h, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", &g), 0);
	assert_int_equal(g.f[4].name_off, 6);
	assert_int_equal(g.f[4].name_enc_len, 8);
	assert_int_equal(g.f[4].name_huffman, 1);
	assert_int_equal(g.f[4].value_off, 15);
	assert_int_equal(g.f[4].value_enc_len, 9);
	assert_int_equal(g.f[4].value_huffman, 1);
	got_reset(&g);
	bz_hpack_free(&h);

	/* empty strings, raw and Huffman: empty but never NULL */
	h = ctx(4096);
	assert_int_equal(decode_hex(h, "0080 80 0000 00 4080 00", &g), 0);
	assert_int_equal(g.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g.f[i].name_len, 0);
		assert_int_equal(g.f[i].value_len, 0);
		assert_int_equal(g.f[i].masked, 0);
	}
	assert_int_equal(g.f[0].name_huffman, 1);
	assert_int_equal(g.f[0].value_off, 3);
	want_table(h, (const char *[]){ ": ", NULL }, 32);
	bz_hpack_free(&h);

	/* a length with continuation octets: the offset is after all of them */
	struct hbuf b = { 0 };
	char v[300];
	memset(v, 'x', sizeof(v));
	h = ctx(4096);
	hbuf_byte(&b, 0x00);
	henc_str(&b, "k", 1, 0);
	size_t off = henc_str(&b, v, sizeof(v), 0);
	assert_int_equal(off, 6); /* 00 01 6b 7f ad 01 */
	got_reset(&g);
	assert_int_equal(bz_hpack_decode(h, b.p, b.len, collect, &g), 0);
	assert_int_equal(g.f[0].name_off, 2);
	assert_int_equal(g.f[0].value_off, 6);
	assert_int_equal(g.f[0].value_enc_len, 300);
	got_reset(&g);
	free(b.p);
	bz_hpack_free(&h);
}

/* --- malformed blocks --------------------------------------------------------------- */

/* hex must be refused, and the context stay refused. */
static void refused(uint32_t max, const char *setup, const char *hex, int want)
{
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h = ctx(max);

	if (setup)
		assert_int_equal(decode_hex(h, setup, &g), 0);
	assert_int_equal(decode_hex(h, hex, &g), want);
	assert_false(bz_hpack_usable(h));
	assert_int_equal(decode_hex(h, "82", &g), -EPIPE);
	assert_int_equal(g.n, 0); /* cb not called */
	assert_false(bz_hpack_usable(h));
	got_reset(&g);
	bz_hpack_free(&h);
}

static void test_malformed(void **state)
{
	/* Huffman: EOS (30 ones) in a string, padding of 11 bits, padding not all ones */
	refused(4096, NULL, "0001 6184 ffff ffff", -EINVAL);
	refused(4096, NULL, "0001 6185 1fff ffff ff", -EINVAL);  /* 'a' then EOS and padding */
	refused(4096, NULL, "0001 6182 1fff", -EINVAL);           /* 'a' + 11 one bits */
	refused(4096, NULL, "0001 6181 18", -EINVAL);             /* 'a' + 000 */
	refused(4096, NULL, "0001 6181 1e", -EINVAL);             /* 'a' + 110 */
	/* index 0, beyond the static table, beyond the dynamic one */
	refused(4096, NULL, "80", -EINVAL);
	refused(4096, NULL, "be", -EINVAL);
	refused(4096, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", "bf", -EINVAL);
	refused(4096, NULL, "7e01 61", -EINVAL);  /* literal with indexing, name 62 */
	refused(4096, NULL, "0f2f 0161", -EINVAL); /* without indexing, name 15 + 47 = 62 */
	refused(4096, NULL, "1f2f 0161", -EINVAL); /* never indexed, same */
	/* integers too large or too long */
	refused(4096, NULL, "ffff ffff ff0f", -EINVAL);
	refused(4096, NULL, "ff80 8080 8080 00", -EINVAL);
	refused(4096, NULL, "007f ffff ffff 0f", -EINVAL);
	/* a size update after a field, above the max (4097 > 4096), above a lowered max */
	refused(4096, NULL, "82 20", -EINVAL);
	refused(4096, NULL, "20 82 3f e11f", -EINVAL);
	refused(4096, NULL, "3fe2 1f", -EINVAL);
	refused(256, NULL, "3fe2 01", -EINVAL); /* 257 */
	/* cut anywhere: a string longer than the block, an integer, a name without its value */
	refused(4096, NULL, "0005 6162", -EINVAL);
	refused(4096, NULL, "00", -EINVAL);
	refused(4096, NULL, "0001 61", -EINVAL);
	refused(4096, NULL, "40", -EINVAL);
	refused(4096, NULL, "41", -EINVAL);
	refused(4096, NULL, "82 ff", -EINVAL);
	refused(4096, NULL, "3f", -EINVAL);

	/* a size update at exactly the max is fine, also two of them */
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h = ctx(4096);
	assert_int_equal(decode_hex(h, "20 3fe1 1f 82", &g), 0);
	assert_int_equal(g.n, 1);
	assert_true(bz_hpack_usable(h));
	got_reset(&g);
	bz_hpack_free(&h);
}

/* Strings longer than BZ_HPACK_STRING_MAX, raw or decoded. */
static void test_string_max(void **state)
{
	struct hbuf b = { 0 };
	struct bz_hpack *h;
	uint8_t *s = malloc(BZ_HPACK_STRING_MAX + 1);

	assert_non_null(s);
	memset(s, 'a', BZ_HPACK_STRING_MAX + 1);
	/* exactly the max: fine, raw and Huffman */
	for (int huff = 0; huff < 2; huff++) {
		h = ctx(4096);
		b.len = 0;
		hbuf_byte(&b, 0x00);
		henc_str(&b, s, BZ_HPACK_STRING_MAX, huff);
		henc_str(&b, "v", 1, huff);
		assert_int_equal(bz_hpack_decode(h, b.p, b.len, NULL, NULL), 0);
		bz_hpack_free(&h);
	}
	/* one more: refused */
	for (int huff = 0; huff < 2; huff++) {
		h = ctx(4096);
		b.len = 0;
		hbuf_byte(&b, 0x00);
		henc_str(&b, "k", 1, huff);
		henc_str(&b, s, BZ_HPACK_STRING_MAX + 1, huff);
		assert_int_equal(bz_hpack_decode(h, b.p, b.len, NULL, NULL), -EINVAL);
		assert_false(bz_hpack_usable(h));
		bz_hpack_free(&h);
	}
	/* a raw length above the max with the octets there */
	h = ctx(4096);
	b.len = 0;
	hbuf_byte(&b, 0x00);
	henc_int(&b, 0x80, 7, BZ_HPACK_STRING_MAX + 1);
	hbuf_put(&b, s, BZ_HPACK_STRING_MAX + 1);
	assert_int_equal(bz_hpack_decode(h, b.p, b.len, NULL, NULL), -EINVAL);
	bz_hpack_free(&h);
	free(s);
	free(b.p);
}

static void test_cancel_and_lose(void **state)
{
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h = ctx(4096);

	assert_int_equal(decode_hex(h, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", &g), 0);
	bz_hpack_lose(h);
	assert_false(bz_hpack_usable(h));
	assert_int_equal(decode_hex(h, "82", &g), -EPIPE);
	assert_int_equal(g.n, 0);
	bz_hpack_free(&h);

	h = ctx(4096);
	got_reset(&g);
	g.stop_at = 1;
	uint8_t b[] = { 0x82, 0x86, 0x84 };
	assert_int_equal(bz_hpack_decode(h, b, sizeof(b), collect, &g), -ECANCELED);
	assert_int_equal(g.n, 2);
	assert_false(bz_hpack_usable(h));
	got_reset(&g);
	bz_hpack_free(&h);
	bz_hpack_free(&h); /* NULL is fine */
	bz_hpack_free(NULL);
}

/* --- the table's edges ------------------------------------------------------------- */

static void test_table_edges(void **state)
{
	struct got g = { .stop_at = -1 };
	struct bz_hpack *h = ctx(4096);

	/* an entry larger than the table empties it and is not added (4.4) */
	assert_int_equal(decode_hex(h, "20 3f19 4001 6101 62", &g), 0); /* max 56, a: b (34) */
	want_table(h, (const char *[]){ "a: b", NULL }, 34);
	assert_int_equal(decode_hex(h, "4002 6363 0264 64", &g), 0); /* cc: dd (36): a goes */
	want_table(h, (const char *[]){ "cc: dd", NULL }, 36);
	assert_int_equal(decode_hex(h, "400a 3031 3233 3435 3637 3839 0f30 3132 3334 3536 3738 3930 3132 3334", &g), 0);
	want_fields(&g, (const char *[]){ "0123456789: 012345678901234", NULL }); /* 57 > 56 */
	want_table(h, (const char *[]){ NULL }, 0);

	/* an indexed name whose entry the insertion itself evicts: the name survives */
	assert_int_equal(decode_hex(h, "4002 6363 0264 64", &g), 0);
	assert_int_equal(decode_hex(h, "7e02 6565", &g), 0); /* name 62 (cc), value ee */
	want_fields(&g, (const char *[]){ "cc: ee", NULL });
	want_table(h, (const char *[]){ "cc: ee", NULL }, 36);

	/* a size update to 0 empties the table; back up works */
	assert_int_equal(decode_hex(h, "20", &g), 0);
	want_table(h, (const char *[]){ NULL }, 0);
	assert_int_equal(decode_hex(h, "3fe1 1f 4001 6101 62", &g), 0);
	want_table(h, (const char *[]){ "a: b", NULL }, 34);

	/* a lowered SETTINGS max evicts at once and bounds later updates */
	assert_int_equal(decode_hex(h, "4002 6363 0264 64", &g), 0);
	want_table(h, (const char *[]){ "cc: dd", "a: b", NULL }, 70);
	bz_hpack_set_max(h, 40);
	want_table(h, (const char *[]){ "cc: dd", NULL }, 36);
	bz_hpack_set_max(h, 4096); /* raised: the table keeps its size until an update */
	assert_int_equal(decode_hex(h, "4001 6101 62", &g), 0);
	want_table(h, (const char *[]){ "a: b", NULL }, 34);
	bz_hpack_set_max(h, 100);
	assert_int_equal(decode_hex(h, "3f45", &g), 0); /* 100 */
	assert_int_equal(decode_hex(h, "3f46", &g), -EINVAL); /* 101 */
	got_reset(&g);
	bz_hpack_free(&h);

	/* a table of 0 from the start */
	h = ctx(0);
	assert_int_equal(decode_hex(h, "4001 6101 62 be", &g), -EINVAL);
	got_reset(&g);
	bz_hpack_free(&h);
}

/* Random header lists through the test encoder, with size updates and
 * names indexed from the dynamic table: fields and the table size as the
 * encoder's mirror of the table says (arena compaction, ring growth). */
static void test_random_round_trip(void **state)
{
	static const char *const names[] = { ":path", "cookie", "x-a", "x-b", "user-agent", "accept", "x-long-name-here" };
	struct henc e = { .limit = 4096 };
	struct bz_hpack *h = ctx(4096);
	struct hbuf b = { 0 };
	char vals[16][80], nms[16][80];

	for (int round = 0; round < 3000; round++) {
		struct got d = { .stop_at = -1 };
		int n = 1 + (int)(rnd() % 12);
		b.len = 0;
		e.huffman = (int)(rnd() & 1);
		if (rnd() % 20 == 0)
			henc_size_update(&e, &b, (uint32_t)(rnd() % 4097));
		for (int i = 0; i < n; i++) {
			int vl = (int)(rnd() % 79);
			unsigned r = (unsigned)(rnd() % 10);
			for (int k = 0; k < vl; k++)
				vals[i][k] = (char)(32 + rnd() % 95);
			vals[i][vl] = 0;
			if (rnd() % 3 == 0 && e.count) /* a table entry's value again */
				snprintf(vals[i], sizeof(vals[i]), "%s", e.value[rnd() % e.count]);
			/* a table entry's name: a literal with a dynamic name index */
			snprintf(nms[i], sizeof(nms[i]), "%s", e.count && r < 3 ? e.name[rnd() % e.count] : names[rnd() % 7]);
			henc_field(&e, &b, nms[i], vals[i], r < 8, r == 9);
		}
		assert_int_equal(bz_hpack_decode(h, b.p, b.len, collect, &d), 0);
		assert_int_equal(d.n, n);
		for (int i = 0; i < n; i++) {
			assert_string_equal((char *)d.name[i], nms[i]);
			assert_string_equal((char *)d.value[i], vals[i]);
		}
		assert_int_equal(bz_hpack_table_size(h), e.size);
		got_reset(&d);
	}
	free(b.p);
	henc_free(&e);
	bz_hpack_free(&h);
}

/* --- Huffman decoding alone --------------------------------------------------------- */

static void test_huffman_decode(void **state)
{
	uint8_t src[64], dst[64];
	size_t n = unhex("f1e3 c2e5 f23a 6ba0 ab90 f4ff", src);

	assert_int_equal(bz_hpack_huffman_decode(src, n, dst, sizeof(dst)), 15);
	assert_memory_equal(dst, "www.example.com", 15);
	assert_int_equal(bz_hpack_huffman_decode(src, n, dst, 15), 15);
	assert_int_equal(bz_hpack_huffman_decode(src, n, dst, 14), -EINVAL); /* cap too small */
	assert_int_equal(bz_hpack_huffman_decode(src, 0, dst, 0), 0);
	n = unhex("a8eb 1064 9cbf", src);
	assert_int_equal(bz_hpack_huffman_decode(src, n, dst, sizeof(dst)), 8);
	assert_memory_equal(dst, "no-cache", 8);

	/* every symbol alone, and every pair, against the encoder's table */
	for (int a = 0; a < 256; a++) {
		for (int c = -1; c < 256; c++) {
			uint8_t in[2] = { (uint8_t)a, (uint8_t)c };
			size_t len = c < 0 ? 1 : 2;
			struct hbuf b = { 0 };
			henc_huffman(&b, in, len);
			assert_int_equal(bz_hpack_huffman_decode(b.p, b.len, dst, sizeof(dst)), (long)len);
			assert_memory_equal(dst, in, len);
			free(b.p);
		}
	}
	/* a code cut short (no padding left to fill it) is refused: '\n' is 30 bits */
	struct hbuf b = { 0 };
	henc_huffman(&b, (const uint8_t *)"\n", 1);
	assert_int_equal(b.len, 4);
	assert_int_equal(bz_hpack_huffman_decode(b.p, 3, dst, sizeof(dst)), -EINVAL);
	free(b.p);
	/* the encoder's codes are the RFC's, for a few listed in Appendix B */
	henc_init();
	assert_int_equal(henc_code['*'], 0xf9);
	assert_int_equal(henc_code['0'], 0x0);
	assert_int_equal(henc_code['a'], 0x3);
	assert_int_equal(henc_code[0], 0x1ff8);
	assert_int_equal(henc_code[255], 0x3ffffee);
	assert_int_equal(henc_code[256], 0x3fffffff);
	assert_int_equal(henc_clen[256], 30);
}

/* --- masking ------------------------------------------------------------------------ */

/* The mask for (enc_len, n) decodes to n octets in exactly enc_len, and
 * is recognised; or, when no n symbols fill enc_len octets, -EINVAL. */
static void check_mask(uint32_t enc_len, uint32_t n, uint8_t *buf, uint8_t *dec, size_t cap)
{
	int feasible = 5ull * n <= 8ull * enc_len && 8ull * enc_len <= 30ull * n + 7;
	int rc = bz_hpack_mask_string(buf, enc_len, n, 1);

	if (!feasible) {
		assert_int_equal(rc, -EINVAL);
		for (uint32_t i = 0; i < enc_len; i++)
			assert_int_equal(buf[i], '*');
		return;
	}
	assert_int_equal(rc, 0);
	long got = bz_hpack_huffman_decode(buf, enc_len, dec, cap);
	assert_int_equal(got, (long)n);
	assert_true(bz_hpack_is_masked(dec, n, enc_len, 1) || n == 0);
	if (n > 1) { /* one octet changed is not the mask */
		dec[n / 2] ^= 1;
		assert_false(bz_hpack_is_masked(dec, n, enc_len, 1));
	}
}

static void test_mask_exhaustive(void **state)
{
	uint8_t buf[4096], dec[8192];

	for (uint32_t e = 0; e <= 100; e++)
		for (uint32_t n = 0; n <= 170; n++)
			check_mask(e, n, buf, dec, sizeof(dec));
	/* large ones, near both bounds */
	for (uint32_t e = 4000; e < 4096; e += 7) {
		uint32_t lo = (8 * e - 7 + 29) / 30, hi = 8 * e / 5;
		for (uint32_t n = lo - 2; n <= lo + 2; n++)
			check_mask(e, n, buf, dec, sizeof(dec));
		for (uint32_t n = hi - 2; n <= hi + 2; n++)
			check_mask(e, n, buf, dec, sizeof(dec));
		check_mask(e, e, buf, dec, sizeof(dec));
	}
	/* raw: '*' octet for octet; a length that differs is refused */
	memset(buf, 'x', 10);
	assert_int_equal(bz_hpack_mask_string(buf, 10, 10, 0), 0);
	assert_memory_equal(buf, "**********", 10);
	assert_true(bz_hpack_is_masked(buf, 10, 10, 0));
	assert_false(bz_hpack_is_masked(buf, 9, 10, 0));
	assert_false(bz_hpack_is_masked(buf, 0, 0, 0)); /* empty: nothing masked */
	buf[3] = 'a';
	assert_false(bz_hpack_is_masked(buf, 10, 10, 0));
	assert_int_equal(bz_hpack_mask_string(buf, 10, 9, 0), -EINVAL);
	assert_memory_equal(buf, "**********", 10);
	assert_int_equal(bz_hpack_mask_string(buf, 0, 0, 1), 0);
	assert_int_equal(bz_hpack_mask_string(buf, 3, 1, 1), 0); /* 1 symbol, 17..24 bits */
	assert_int_equal(bz_hpack_mask_string(buf, 5, 1, 1), -EINVAL); /* 33 bits min */
	assert_int_equal(bz_hpack_mask_string(buf, 1, 2, 1), -EINVAL); /* 10 bits min */
	/* hostile lengths: refused, nothing computed past the buffer */
	assert_false(bz_hpack_is_masked(buf, 1, 0xffffffffu, 1));
	assert_false(bz_hpack_is_masked(buf, 0xffffffffu, 1, 1));
}

/* Random strings of random octets, Huffman-coded, masked: the mask fills
 * the same octets, decodes to as many, and is recognised. */
static void test_mask_random_strings(void **state)
{
	uint8_t *s = malloc(20000), *dec = malloc(40000);
	struct hbuf b = { 0 };

	assert_non_null(s);
	assert_non_null(dec);
	for (int round = 0; round < 20000; round++) {
		size_t n = round < 100 ? 5000 + rnd() % 15000 : rnd() % (round % 10 ? 64 : 600);
		unsigned kind = (unsigned)(rnd() % 4);
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rnd();
			s[i] = kind == 0 ? (uint8_t)r                     /* any octet */
			       : kind == 1 ? (uint8_t)(128 + r % 128)     /* long codes */
			       : kind == 2 ? (uint8_t)"0123456789aeiost"[r % 16] /* short codes */
			       : (uint8_t)(r % 3 ? 32 + r % 95 : r);     /* text */
		}
		b.len = 0;
		henc_huffman(&b, s, n);
		assert_int_equal(bz_hpack_huffman_decode(b.p, b.len, dec, 40000), (long)n);
		assert_memory_equal(dec, s, n);
		assert_int_equal(bz_hpack_mask_string(b.p, (uint32_t)b.len, (uint32_t)n, 1), 0);
		assert_int_equal(bz_hpack_huffman_decode(b.p, b.len, dec, 40000), (long)n);
		assert_true(n == 0 || bz_hpack_is_masked(dec, (uint32_t)n, (uint32_t)b.len, 1));
	}
	/* every octet value, one string each */
	for (int c = 0; c < 256; c++) {
		memset(s, c, 37);
		b.len = 0;
		henc_huffman(&b, s, 37);
		assert_int_equal(bz_hpack_mask_string(b.p, (uint32_t)b.len, 37, 1), 0);
		assert_int_equal(bz_hpack_huffman_decode(b.p, b.len, dec, 40000), 37);
		assert_true(bz_hpack_is_masked(dec, 37, (uint32_t)b.len, 1));
	}
	free(b.p);
	free(s);
	free(dec);
}

/* Blocks whose literal values are masked in a copy decode, over a second
 * context, to the same names and value lengths, masked values, and the
 * same table size after every block: what keeps the rest of a connection
 * decodable after the recorder masked a credential. */
static void test_mask_blocks(void **state)
{
	static const char *const names[] = { "authorization", "cookie", "x-api-key", ":path", "set-cookie", "x-token" };
	struct henc e = { .limit = 4096 };
	struct bz_hpack *a = ctx(4096), *m = ctx(4096);
	struct hbuf b = { 0 };

	for (int round = 0; round < 2000; round++) {
		int n = 1 + (int)(rnd() % 8);
		char v[200];
		b.len = 0;
		e.huffman = (int)(rnd() & 1);
		if (rnd() % 25 == 0)
			henc_size_update(&e, &b, (uint32_t)(200 + rnd() % 3897));
		for (int i = 0; i < n; i++) {
			int vl = (int)(rnd() % 199);
			for (int k = 0; k < vl; k++)
				v[k] = (char)(rnd() % 4 ? 32 + rnd() % 95 : 1 + rnd() % 255);
			v[vl] = 0;
			if (rnd() % 4 == 0 && e.count)
				snprintf(v, sizeof(v), "%s", e.value[rnd() % e.count]);
			unsigned r = (unsigned)(rnd() % 10);
			henc_field(&e, &b, names[rnd() % 6], v, r < 7, r == 9);
		}
		struct got ga = { .stop_at = -1 }, gm = { .stop_at = -1 };
		assert_int_equal(bz_hpack_decode(a, b.p, b.len, collect, &ga), 0);
		uint8_t *copy = malloc(b.len);
		assert_non_null(copy);
		memcpy(copy, b.p, b.len);
		for (int i = 0; i < ga.n; i++) {
			const struct bz_hpack_field *f = &ga.f[i];
			if (f->repr != BZ_HPACK_INDEXED)
				assert_int_equal(bz_hpack_mask_string(copy + f->value_off, f->value_enc_len,
								      f->value_len, f->value_huffman), 0);
		}
		assert_int_equal(bz_hpack_decode(m, copy, b.len, collect, &gm), 0);
		assert_int_equal(gm.n, ga.n);
		for (int i = 0; i < ga.n; i++) {
			assert_int_equal(gm.f[i].name_len, ga.f[i].name_len);
			assert_memory_equal(gm.name[i], ga.name[i], ga.f[i].name_len);
			assert_int_equal(gm.f[i].value_len, ga.f[i].value_len);
			assert_int_equal(gm.f[i].value_enc_len, ga.f[i].value_enc_len);
			if (ga.f[i].repr != BZ_HPACK_INDEXED && ga.f[i].value_len)
				assert_true(gm.f[i].masked);
			/* an indexed value is the static table's, or a masked entry's */
			if (ga.f[i].repr == BZ_HPACK_INDEXED && ga.f[i].value_len && !gm.f[i].masked)
				assert_memory_equal(gm.value[i], ga.value[i], ga.f[i].value_len);
		}
		assert_int_equal(bz_hpack_table_size(m), bz_hpack_table_size(a));
		assert_int_equal(bz_hpack_table_size(a), e.size);
		got_reset(&ga);
		got_reset(&gm);
		free(copy);
	}
	free(b.p);
	henc_free(&e);
	bz_hpack_free(&a);
	bz_hpack_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c1_integers),
		cmocka_unit_test(test_c2_representations),
		cmocka_unit_test(test_c3_requests),
		cmocka_unit_test(test_c4_requests_huffman),
		cmocka_unit_test(test_c5_responses),
		cmocka_unit_test(test_c6_responses_huffman),
		cmocka_unit_test(test_literal_offsets),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_string_max),
		cmocka_unit_test(test_cancel_and_lose),
		cmocka_unit_test(test_table_edges),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_huffman_decode),
		cmocka_unit_test(test_mask_exhaustive),
		cmocka_unit_test(test_mask_random_strings),
		cmocka_unit_test(test_mask_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
