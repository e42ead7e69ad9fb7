/* test_redact_h2.c - HTTP/2 credentials masked at record time
 * (record/redact_h2.c, through bz_redact_event_in_place on ranges records):
 * secret header values literal or Huffman-coded, names indexed or literal,
 * values indexed later from the table, a token in :path, a masked value
 * that comes back in another header; header blocks split across records
 * (held, or settled in the middle), cut by bytes not captured, after the
 * state was lost; DATA masked but for gRPC's prefixes; the peers' SETTINGS
 * table size taking effect at the ACK.  Each case decodes the masked
 * stream again with a fresh decoder, as the analyzer will, and checks that
 * the dynamic table stays the peers'. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/hpack.h"
#include "bpf/beyla_events.h"
#include "record/redact.h"
#include "tests/tools/hpack_enc.h"

#define CONN 7
#define H2_LOST_FILL 0x80 /* what an undecodable block is filled with (redact_h2.c) */

/* ---- frames and records ----------------------------------------------------- */

static void frame(struct hbuf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };
	hbuf_put(b, h, 9);
	hbuf_put(b, p, n);
}

/* One read (dir BZ_DIR_IN) or write of b[0..n) as the recorder gets it: a
 * ranges record whose pieces are [off, off + len) of b (none given: all of
 * it), redacted in place.  As the recorder's batch does, the records stay
 * until settle(): then the redactor settles and their pieces' bytes are
 * written back into b. */
struct held {
	struct bz_ev_data *ev;
	uint8_t *b;
	struct bz_ev_range pieces[BZ_RANGES_MAX];
	uint32_t np;
};
static struct held held[64];
static int nheld;

static void record_io(struct bz_redact *r, int dir, uint8_t *b, uint32_t n, const struct bz_ev_range *pieces,
		      uint32_t np)
{
	struct bz_ev_range whole = { 0, (uint16_t)n, 0 };
	size_t cap = sizeof(struct bz_ev_ranges), size;
	struct bz_ev_data *ev;
	struct bz_ev_ranges *rg;
	uint8_t *data;

	if (!pieces) {
		pieces = &whole;
		np = 1;
	}
	assert_true(np <= BZ_RANGES_MAX && nheld < 64);
	for (uint32_t i = 0; i < np; i++)
		cap += pieces[i].len;
	size = sizeof(*ev) + cap;
	ev = calloc(1, size);
	assert_non_null(ev);
	ev->h.kind = BZ_EV_DATA;
	ev->h.size = (uint16_t)size;
	ev->h.ts_ns = 1000;
	ev->conn_id = CONN;
	ev->ret = (int32_t)n;
	ev->caplen = (uint16_t)cap;
	ev->dir = (uint8_t)dir;
	ev->syscall = BZ_SYS_F_RANGES | (dir == BZ_DIR_IN ? BZ_SYS_READ : BZ_SYS_WRITE);
	rg = (struct bz_ev_ranges *)ev->payload;
	rg->n = (uint8_t)np;
	data = ev->payload + sizeof(*rg);
	for (uint32_t i = 0; i < np; i++) {
		rg->r[i] = pieces[i];
		memcpy(data, b + pieces[i].off, pieces[i].len);
		data += pieces[i].len;
	}
	bz_redact_event_in_place(r, ev, size);
	held[nheld].ev = ev;
	held[nheld].b = b;
	memcpy(held[nheld].pieces, pieces, np * sizeof(*pieces));
	held[nheld].np = np;
	nheld++;
}

/* The recorder's flush: settle, then the records go (to b here). */
static void settle(struct bz_redact *r)
{
	bz_redact_settle(r);
	for (int k = 0; k < nheld; k++) {
		const uint8_t *data = held[k].ev->payload + sizeof(struct bz_ev_ranges);
		for (uint32_t i = 0; i < held[k].np; i++) {
			memcpy(held[k].b + held[k].pieces[i].off, data, held[k].pieces[i].len);
			data += held[k].pieces[i].len;
		}
		free(held[k].ev);
	}
	nheld = 0;
}

static void record_all(struct bz_redact *r, int dir, struct hbuf *b) { record_io(r, dir, b->p, (uint32_t)b->len, NULL, 0); }

static int has(const uint8_t *p, size_t n, const void *s, size_t l)
{
	return l && memmem(p, n, s, l) != NULL;
}

/* Neither the secret's octets nor its Huffman code (as a whole value) are
 * in p[0..n). */
static void assert_hidden(const uint8_t *p, size_t n, const char *secret)
{
	struct hbuf h = { 0 };

	assert_false(has(p, n, secret, strlen(secret)));
	henc_huffman(&h, (const uint8_t *)secret, strlen(secret));
	assert_false(has(p, n, h.p, h.len));
	free(h.p);
}

/* ---- decoding the masked stream again ----------------------------------------- */

struct field {
	char name[64], value[256];
	uint32_t value_len;
	uint8_t masked;
};
struct fields {
	struct field f[32];
	int n;
};

static int collect(void *u, const struct bz_hpack_field *f)
{
	struct fields *fs = u;
	struct field *d = &fs->f[fs->n++];

	assert_true(fs->n <= 32);
	assert_true(f->name_len < sizeof(d->name) && f->value_len < sizeof(d->value));
	memcpy(d->name, f->name, f->name_len);
	d->name[f->name_len] = 0;
	memcpy(d->value, f->value, f->value_len);
	d->value[f->value_len] = 0;
	d->value_len = f->value_len;
	d->masked = f->masked;
	return 0;
}

static const struct field *field(const struct fields *fs, const char *name)
{
	for (int i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].name, name))
			return &fs->f[i];
	fail_msg("no field %s", name);
	return NULL;
}

/* The header block of a one-frame HEADERS at b + off (the frame's header
 * included), decoded by h. */
static void decode_at(struct bz_hpack *h, const uint8_t *b, size_t off, struct fields *fs)
{
	uint32_t len = (uint32_t)b[off] << 16 | (uint32_t)b[off + 1] << 8 | b[off + 2];

	memset(fs, 0, sizeof(*fs));
	assert_int_equal(bz_hpack_decode(h, b + off + 9, len, collect, fs), 0);
}

/* A value masked whole: its length kept, nothing of it left. */
static void assert_masked(const struct field *f, const char *orig)
{
	assert_int_equal(f->value_len, strlen(orig));
	assert_true(f->masked);
	assert_null(strstr(f->value, orig));
}

/* ---- the cases ---------------------------------------------------------------------- */

#define TOKEN "TOKSECRET1234"
#define BEARER "BEARERSECRET4242"
#define COOKIE "COOKIESECRET7777"
#define APIKEY "APIKEYSECRET8888"
#define SETCK "SETCOOKIESECRET9"

static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* The client's first flight: preface, SETTINGS, and a request whose
 * secrets use every representation; then two more requests that refer to
 * the first by index and repeat a token elsewhere; the server's answer
 * with a set-cookie.  Raw and Huffman literals both. */
static void run_headers(int huffman)
{
	struct bz_redact *r = NULL;
	struct henc ce = { .limit = 4096, .huffman = huffman }, se = { .limit = 4096, .huffman = huffman };
	struct hbuf in = { 0 }, out = { 0 }, blk = { 0 };
	size_t off1, off2, off3, offr;
	struct bz_hpack *orig_dec = NULL, *dec = NULL;
	struct fields fs;
	struct bz_redact_stats st;

	assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
	hbuf_put(&in, preface, 24);
	frame(&in, 4, 0, 0, NULL, 0);
	/* request 1 */
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":scheme", "http", 1, 0);
	henc_field(&ce, &blk, ":path", "/a?access_token=" TOKEN "&x=1", 1, 0);
	henc_field(&ce, &blk, ":authority", "shop", 1, 0);
	henc_field(&ce, &blk, "authorization", "Bearer " BEARER, 1, 0); /* indexed name, added */
	henc_field(&ce, &blk, "cookie", "session=" COOKIE, 0, 1);         /* never indexed */
	henc_field(&ce, &blk, "x-api-key", APIKEY, 1, 0);                /* literal name, added */
	henc_field(&ce, &blk, "user-agent", "curl/8.0", 1, 0);
	off1 = in.len;
	frame(&in, 1, 0x05, 1, blk.p, blk.len);
	/* request 2: authorization and x-api-key from the table, a token echoed */
	blk.len = 0;
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/b", 1, 0);
	henc_field(&ce, &blk, "authorization", "Bearer " BEARER, 1, 0);
	henc_field(&ce, &blk, "x-api-key", APIKEY, 1, 0);
	henc_field(&ce, &blk, "x-debug", "seen " BEARER " here", 0, 0);
	off2 = in.len;
	frame(&in, 1, 0x05, 3, blk.p, blk.len);
	/* request 3: nothing secret, after the others (the table must be right) */
	blk.len = 0;
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/c?page=2", 1, 0);
	henc_field(&ce, &blk, "accept", "text/html", 1, 0);
	off3 = in.len;
	frame(&in, 1, 0x05, 5, blk.p, blk.len);

	/* the server: SETTINGS, then a response with a cookie */
	frame(&out, 4, 0, 0, NULL, 0);
	frame(&out, 4, 1, 0, NULL, 0);
	blk.len = 0;
	henc_field(&se, &blk, ":status", "200", 1, 0);
	henc_field(&se, &blk, "set-cookie", "sid=" SETCK "; Path=/", 1, 0);
	henc_field(&se, &blk, "content-type", "text/plain", 1, 0);
	offr = out.len;
	frame(&out, 1, 0x04, 1, blk.p, blk.len);

	/* the tables of the original stream, for the sizes */
	assert_int_equal(bz_hpack_new(&orig_dec, 4096), 0);
	decode_at(orig_dec, in.p, off1, &fs);
	uint32_t size1 = bz_hpack_table_size(orig_dec);
	decode_at(orig_dec, in.p, off2, &fs);
	uint32_t size2 = bz_hpack_table_size(orig_dec);
	decode_at(orig_dec, in.p, off3, &fs);
	uint32_t size3 = bz_hpack_table_size(orig_dec);
	assert_string_equal(field(&fs, ":path")->value, "/c?page=2");

	record_all(r, BZ_DIR_IN, &in);
	record_all(r, BZ_DIR_OUT, &out);
	settle(r);

	/* no secret in any encoding */
	const char *secrets[] = { TOKEN, BEARER, "Bearer " BEARER, COOKIE, "session=" COOKIE, APIKEY, SETCK, NULL };
	for (int i = 0; secrets[i]; i++) {
		assert_hidden(in.p, in.len, secrets[i]);
		assert_hidden(out.p, out.len, secrets[i]);
	}
	/* the masked stream decodes as the original did, but for the secrets */
	assert_int_equal(bz_hpack_new(&dec, 4096), 0);
	decode_at(dec, in.p, off1, &fs);
	assert_int_equal(bz_hpack_table_size(dec), size1);
	assert_string_equal(field(&fs, ":method")->value, "GET");
	assert_string_equal(field(&fs, ":authority")->value, "shop");
	assert_string_equal(field(&fs, "user-agent")->value, "curl/8.0");
	assert_masked(field(&fs, "authorization"), "Bearer " BEARER);
	assert_masked(field(&fs, "cookie"), "session=" COOKIE);
	assert_masked(field(&fs, "x-api-key"), APIKEY);
	{
		const struct field *p = field(&fs, ":path");
		assert_int_equal(p->value_len, strlen("/a?access_token=" TOKEN "&x=1"));
		assert_memory_equal(p->value, "/a?access_token=", 16);
		assert_string_equal(p->value + p->value_len - 4, "&x=1");
		assert_null(strstr(p->value, "TOK"));
	}
	decode_at(dec, in.p, off2, &fs);
	assert_int_equal(bz_hpack_table_size(dec), size2);
	assert_string_equal(field(&fs, ":path")->value, "/b");
	assert_masked(field(&fs, "authorization"), "Bearer " BEARER); /* from the table */
	assert_masked(field(&fs, "x-api-key"), APIKEY);
	{
		const struct field *d = field(&fs, "x-debug");
		assert_int_equal(d->value_len, strlen("seen " BEARER " here"));
		assert_memory_equal(d->value, "seen ", 5);
		assert_string_equal(d->value + d->value_len - 5, " here");
	}
	decode_at(dec, in.p, off3, &fs);
	assert_int_equal(bz_hpack_table_size(dec), size3);
	assert_string_equal(field(&fs, ":path")->value, "/c?page=2");
	assert_string_equal(field(&fs, "accept")->value, "text/html");
	bz_hpack_free(&dec);
	assert_int_equal(bz_hpack_new(&dec, 4096), 0);
	decode_at(dec, out.p, offr, &fs);
	assert_string_equal(field(&fs, ":status")->value, "200");
	assert_string_equal(field(&fs, "content-type")->value, "text/plain");
	assert_masked(field(&fs, "set-cookie"), "sid=" SETCK "; Path=/");

	bz_redact_get_stats(r, &st);
	assert_int_equal(st.h2_blocks, 4);
	assert_int_equal(st.h2_blocks_whole, 0);
	assert_true(st.h2_fields >= 6);
	bz_hpack_free(&dec);
	bz_hpack_free(&orig_dec);
	henc_free(&ce);
	henc_free(&se);
	free(in.p);
	free(out.p);
	free(blk.p);
	bz_redact_free(&r);
}

static void test_headers_raw(void **state)
{
	(void)state;
	run_headers(0);
}

static void test_headers_huffman(void **state)
{
	(void)state;
	run_headers(1);
}

/* A request block cut over three records (the HEADERS frame's payload
 * split, then a CONTINUATION), with and without a settle in the middle. */
static void run_split(int settle_between)
{
	struct bz_redact *r = NULL;
	struct henc ce = { .limit = 4096, .huffman = 1 };
	struct hbuf in = { 0 }, blk = { 0 };
	size_t h1, half, cont, after;
	struct bz_redact_stats st;

	assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
	hbuf_put(&in, preface, 24);
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/split", 1, 0);
	henc_field(&ce, &blk, "authorization", "Bearer " BEARER, 1, 0);
	henc_field(&ce, &blk, "cookie", "session=" COOKIE, 1, 0);
	half = blk.len / 2;
	h1 = in.len;
	frame(&in, 1, 0x01, 1, blk.p, half);                 /* HEADERS, no END_HEADERS */
	cont = in.len;
	frame(&in, 9, 0x04, 1, blk.p + half, blk.len - half); /* CONTINUATION, END_HEADERS */
	after = in.len;
	/* and a later request that refers to the table */
	blk.len = 0;
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/later", 1, 0);
	henc_field(&ce, &blk, "authorization", "Bearer " BEARER, 1, 0);
	frame(&in, 1, 0x05, 3, blk.p, blk.len);

	/* record 1: preface and the HEADERS frame's first half; record 2: the
	 * rest of it; record 3: the CONTINUATION and the later request */
	size_t cut = h1 + 9 + half / 2;
	record_io(r, BZ_DIR_IN, in.p, (uint32_t)cut, NULL, 0);
	if (settle_between)
		settle(r);
	record_io(r, BZ_DIR_IN, in.p + cut, (uint32_t)(cont - cut), NULL, 0);
	record_io(r, BZ_DIR_IN, in.p + cont, (uint32_t)(in.len - cont), NULL, 0);
	settle(r);
	assert_hidden(in.p, in.len, "Bearer " BEARER);
	assert_hidden(in.p, in.len, "session=" COOKIE);
	assert_false(has(in.p, in.len, BEARER, strlen(BEARER)));
	bz_redact_get_stats(r, &st);
	if (!settle_between) {
		struct bz_hpack *dec = NULL;
		struct fields fs;
		uint8_t *joined = malloc(in.len);
		size_t l1 = cont - h1 - 9, l2 = after - cont - 9;
		/* the block, joined, decodes with the secrets masked */
		assert_non_null(joined);
		memcpy(joined, in.p + h1 + 9, l1);
		memcpy(joined + l1, in.p + cont + 9, l2);
		assert_int_equal(bz_hpack_new(&dec, 4096), 0);
		memset(&fs, 0, sizeof(fs));
		assert_int_equal(bz_hpack_decode(dec, joined, l1 + l2, collect, &fs), 0);
		assert_string_equal(field(&fs, ":path")->value, "/split");
		assert_masked(field(&fs, "authorization"), "Bearer " BEARER);
		decode_at(dec, in.p, after, &fs);
		assert_string_equal(field(&fs, ":path")->value, "/later");
		assert_masked(field(&fs, "authorization"), "Bearer " BEARER);
		assert_int_equal(st.h2_blocks_whole, 0);
		bz_hpack_free(&dec);
		free(joined);
	} else {
		/* the part written out before the block ended cannot be
		 * masked in place later: the whole block is filled, and the
		 * later one too (its table is not known any more) */
		for (size_t i = h1 + 9 + 0; i < cut; i++)
			assert_int_equal(in.p[i], H2_LOST_FILL);
		for (size_t i = after + 9; i < in.len; i++)
			assert_int_equal(in.p[i], H2_LOST_FILL);
		assert_int_equal(st.h2_blocks_whole, 2);
	}
	henc_free(&ce);
	free(in.p);
	free(blk.p);
	bz_redact_free(&r);
}

static void test_split_held(void **state)
{
	(void)state;
	run_split(0);
}

static void test_split_settled(void **state)
{
	(void)state;
	run_split(1);
}

/* A plain DATA record (not frame by frame) of b[0..n), redacted in place,
 * its bytes written back to b at once. */
static void record_plain(struct bz_redact *r, int dir, uint8_t *b, uint32_t n)
{
	size_t size = sizeof(struct bz_ev_data) + n;
	struct bz_ev_data *ev = calloc(1, size);

	assert_non_null(ev);
	ev->h.kind = BZ_EV_DATA;
	ev->h.size = (uint16_t)size;
	ev->h.ts_ns = 1000;
	ev->conn_id = CONN;
	ev->ret = (int32_t)n;
	ev->caplen = (uint16_t)n;
	ev->dir = (uint8_t)dir;
	ev->syscall = dir == BZ_DIR_IN ? BZ_SYS_READ : BZ_SYS_WRITE;
	memcpy(ev->payload, b, n);
	bz_redact_event_in_place(r, ev, size);
	memcpy(b, ev->payload, n);
	free(ev);
}

/* The client preface read in pieces, as Go's h2c server reads it ("PRI *
 * HTTP/2.0", then the rest), or one byte at a time: the kernel records the
 * first pieces as plain data and goes frame by frame only from the piece
 * that completes the preface (bpf/h2.bpf.h).  Then each frame header and
 * payload comes in a read of its own.  The redactor must read the frames
 * from the right byte: the credentials in the request's block masked. */
static void run_preface_pieces(uint32_t first_piece)
{
	struct bz_redact *r = NULL;
	struct henc ce = { .limit = 4096, .huffman = 1 };
	struct hbuf in = { 0 }, blk = { 0 };
	size_t hdrs;

	assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
	hbuf_put(&in, preface, 24);
	frame(&in, 4, 0, 0, "", 0); /* SETTINGS */
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/pieces", 1, 0);
	henc_field(&ce, &blk, "authorization", "Bearer " BEARER, 1, 0);
	henc_field(&ce, &blk, "cookie", "session=" COOKIE, 1, 0);
	hdrs = in.len;
	frame(&in, 1, 0x05, 1, blk.p, blk.len);
	/* the preface's pieces of first_piece bytes, plain; its last piece
	 * (what completes it) frame by frame */
	uint32_t at = 0;
	while (24 - at > first_piece) {
		record_plain(r, BZ_DIR_IN, in.p + at, first_piece);
		at += first_piece;
	}
	record_io(r, BZ_DIR_IN, in.p + at, 24 - at, NULL, 0);
	record_io(r, BZ_DIR_IN, in.p + 24, 9, NULL, 0);                     /* SETTINGS */
	record_io(r, BZ_DIR_IN, in.p + hdrs, 9, NULL, 0);                   /* HEADERS' header */
	record_io(r, BZ_DIR_IN, in.p + hdrs + 9, (uint32_t)blk.len, NULL, 0); /* its block */
	settle(r);
	assert_memory_equal(in.p, preface, 24);
	assert_hidden(in.p, in.len, "Bearer " BEARER);
	assert_hidden(in.p, in.len, "session=" COOKIE);
	struct bz_hpack *dec = NULL;
	struct fields fs;
	assert_int_equal(bz_hpack_new(&dec, 4096), 0);
	decode_at(dec, in.p, hdrs, &fs);
	assert_string_equal(field(&fs, ":path")->value, "/pieces");
	assert_masked(field(&fs, "authorization"), "Bearer " BEARER);
	bz_hpack_free(&dec);
	henc_free(&ce);
	free(in.p);
	free(blk.p);
	bz_redact_free(&r);
}

static void test_preface_in_two_pieces(void **state)
{
	(void)state;
	run_preface_pieces(14);
}

static void test_preface_byte_by_byte(void **state)
{
	(void)state;
	run_preface_pieces(1);
}

/* Bytes not captured inside a header block: that block and every later
 * one of the direction are filled whole (their fields cannot be found),
 * while the frames around them and the other direction go on. */
static void test_gap_loses_blocks(void **state)
{
	struct bz_redact *r = NULL;
	struct henc ce = { .limit = 4096, .huffman = 1 }, se = { .limit = 4096, .huffman = 1 };
	struct hbuf in = { 0 }, out = { 0 }, blk = { 0 };
	size_t b1, b2;
	struct bz_redact_stats st;
	struct bz_hpack *dec = NULL;
	struct fields fs;

	(void)state;
	assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
	hbuf_put(&in, preface, 24);
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/one", 1, 0);
	henc_field(&ce, &blk, "authorization", "Bearer " BEARER, 1, 0);
	b1 = in.len;
	frame(&in, 1, 0x05, 1, blk.p, blk.len);
	blk.len = 0;
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/two", 1, 0);
	henc_field(&ce, &blk, "cookie", "session=" COOKIE, 1, 0);
	b2 = in.len;
	frame(&in, 1, 0x05, 3, blk.p, blk.len);
	/* the first block's middle 4 bytes were not captured */
	struct bz_ev_range pieces[2] = {
		{ 0, (uint16_t)(b1 + 9 + 3), 0 },
		{ (uint32_t)(b1 + 9 + 7), (uint16_t)(in.len - (b1 + 9 + 7)), 0 },
	};
	record_io(r, BZ_DIR_IN, in.p, (uint32_t)in.len, pieces, 2);
	/* the server's direction is its own table: decoded as usual */
	blk.len = 0;
	henc_field(&se, &blk, ":status", "200", 1, 0);
	henc_field(&se, &blk, "set-cookie", "sid=" SETCK, 1, 0);
	frame(&out, 1, 0x04, 1, blk.p, blk.len);
	record_all(r, BZ_DIR_OUT, &out);
	settle(r);

	for (size_t i = b1 + 9; i < b1 + 9 + 3; i++)
		assert_int_equal(in.p[i], H2_LOST_FILL);
	for (size_t i = b1 + 9 + 7; i < b2; i++)
		assert_int_equal(in.p[i], H2_LOST_FILL);
	for (size_t i = b2 + 9; i < in.len; i++)
		assert_int_equal(in.p[i], H2_LOST_FILL);
	assert_hidden(in.p, in.len, "session=" COOKIE);
	/* a decoder refuses the fill at once, without touching its table */
	assert_int_equal(bz_hpack_new(&dec, 4096), 0);
	memset(&fs, 0, sizeof(fs));
	assert_int_not_equal(bz_hpack_decode(dec, in.p + b2 + 9, in.len - b2 - 9, collect, &fs), 0);
	assert_int_equal(fs.n, 0);
	bz_hpack_free(&dec);
	assert_int_equal(bz_hpack_new(&dec, 4096), 0);
	decode_at(dec, out.p, 0, &fs);
	assert_string_equal(field(&fs, ":status")->value, "200");
	assert_masked(field(&fs, "set-cookie"), "sid=" SETCK);
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.h2_blocks_whole, 2);
	assert_int_equal(st.h2_blocks, 3);
	bz_hpack_free(&dec);
	henc_free(&ce);
	henc_free(&se);
	free(in.p);
	free(out.p);
	free(blk.p);
	bz_redact_free(&r);
}

/* DATA: a form body masked whole; gRPC messages keep their 5-byte
 * prefixes (what the analyzer counts) and lose their bytes, across frames
 * and with two messages in one frame. */
static void test_data(void **state)
{
	static const uint8_t m1[] = "\x00\x00\x00\x00\x07" "hunter2" "\x00\x00\x00\x00\x03" "abc";
	static const uint8_t m2[] = "\x01\x00\x00\x00\x04" "pw42";
	struct bz_redact *r = NULL;
	struct henc ce = { .limit = 4096, .huffman = 1 }, se = { .limit = 4096, .huffman = 1 };
	struct hbuf in = { 0 }, out = { 0 }, blk = { 0 };
	size_t form, g1, g2;

	(void)state;
	assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
	hbuf_put(&in, preface, 24);
	henc_field(&ce, &blk, ":method", "POST", 1, 0);
	henc_field(&ce, &blk, ":path", "/login", 1, 0);
	henc_field(&ce, &blk, "content-type", "application/x-www-form-urlencoded", 1, 0);
	frame(&in, 1, 0x04, 1, blk.p, blk.len);
	form = in.len;
	frame(&in, 0, 0x01, 1, "pass=hunter2", 12);
	blk.len = 0;
	henc_field(&ce, &blk, ":method", "POST", 1, 0);
	henc_field(&ce, &blk, ":path", "/pkg.Auth/Login", 1, 0);
	henc_field(&ce, &blk, "content-type", "application/grpc", 1, 0);
	frame(&in, 1, 0x04, 3, blk.p, blk.len);
	g1 = in.len;
	frame(&in, 0, 0, 3, m1, 3);                   /* a prefix cut by the frame */
	frame(&in, 0, 0x01, 3, m1 + 3, sizeof(m1) - 1 - 3);
	/* the response has no content-type of its own: gRPC for its request */
	blk.len = 0;
	henc_field(&se, &blk, ":status", "200", 1, 0);
	frame(&out, 1, 0x04, 3, blk.p, blk.len);
	g2 = out.len;
	frame(&out, 0, 0, 3, m2, sizeof(m2) - 1);
	record_all(r, BZ_DIR_IN, &in);
	record_all(r, BZ_DIR_OUT, &out);
	settle(r);

	assert_false(has(in.p, in.len, "hunter2", 7));
	assert_false(has(in.p, in.len, "abc", 3));
	assert_false(has(out.p, out.len, "pw42", 4));
	for (size_t i = 0; i < 12; i++)
		assert_int_equal(in.p[form + 9 + i], BZ_REDACT_FILL);
	/* prefixes where they were */
	assert_memory_equal(in.p + g1 + 9, m1, 3);
	assert_memory_equal(in.p + g1 + 9 + 3 + 9, m1 + 3, 2);
	assert_memory_equal(in.p + g1 + 9 + 3 + 9 + 2 + 7, m1 + 12, 5);
	assert_memory_equal(out.p + g2 + 9, m2, 5);
	henc_free(&ce);
	henc_free(&se);
	free(in.p);
	free(out.p);
	free(blk.p);
	bz_redact_free(&r);
}

/* The server allows a larger table (SETTINGS_HEADER_TABLE_SIZE 8192); once
 * the client acknowledged, its encoder announces and uses it: the
 * redactor must follow (a decoder that kept 4096 would refuse the size
 * update, lose the block and fill it). */
static void test_table_size_at_ack(void **state)
{
	static const uint8_t set8k[6] = { 0, 1, 0, 0, 0x20, 0 };
	struct bz_redact *r = NULL;
	struct henc ce = { .limit = 4096, .huffman = 1 };
	struct hbuf in = { 0 }, out = { 0 }, blk = { 0 };
	struct bz_redact_stats st;
	struct bz_hpack *dec = NULL;
	struct fields fs;
	size_t b;

	(void)state;
	assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
	frame(&out, 4, 0, 0, set8k, 6);
	record_all(r, BZ_DIR_OUT, &out);
	hbuf_put(&in, preface, 24);
	frame(&in, 4, 0, 0, NULL, 0);
	frame(&in, 4, 1, 0, NULL, 0); /* the ACK */
	henc_size_update(&ce, &blk, 8192);
	henc_field(&ce, &blk, ":method", "GET", 1, 0);
	henc_field(&ce, &blk, ":path", "/big", 1, 0);
	henc_field(&ce, &blk, "authorization", "Bearer " BEARER, 1, 0);
	b = in.len;
	frame(&in, 1, 0x05, 1, blk.p, blk.len);
	record_all(r, BZ_DIR_IN, &in);
	settle(r);
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.h2_blocks_whole, 0);
	assert_int_equal(bz_hpack_new(&dec, 8192), 0);
	decode_at(dec, in.p, b, &fs);
	assert_string_equal(field(&fs, ":path")->value, "/big");
	assert_masked(field(&fs, "authorization"), "Bearer " BEARER);
	bz_hpack_free(&dec);
	henc_free(&ce);
	free(in.p);
	free(out.p);
	free(blk.p);
	bz_redact_free(&r);
}

/* ---- command lines ------------------------------------------------------------------- */

/* argv as the kernel has it (NUL-separated), masked; compared with want,
 * where '*' stands for each masked byte. */
static void argv_case(const char *const *args, const char *const *want)
{
	struct bz_redact *r = NULL;
	char buf[1024];
	size_t n = 0;

	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	for (int i = 0; args[i]; i++) {
		size_t l = strlen(args[i]) + 1;
		memcpy(buf + n, args[i], l);
		n += l;
	}
	n--; /* as /proc/PID/cmdline without its last NUL */
	bz_redact_argv(r, buf, n);
	for (int i = 0, o = 0; want[i]; i++) {
		assert_string_equal(buf + o, want[i]);
		o += (int)strlen(want[i]) + 1;
	}
	bz_redact_free(&r);
}

static void test_argv(void **state)
{
	(void)state;
	{
		const char *a[] = { "curl", "-H", "Authorization: Bearer abc123", "-H", "Accept: */*",
				    "https://x/y?access_token=tok99&page=2", NULL };
		const char *w[] = { "curl", "-H", "Authorization: *************", "-H", "Accept: */*",
				    "https://x/y?access_token=*****&page=2", NULL };
		argv_case(a, w);
	}
	{
		const char *a[] = { "app", "--password=hunter2", "--port=8080", "--api-key", "k3y", "--verbose",
				    "DB_TOKEN=zz", NULL };
		const char *w[] = { "app", "--password=*******", "--port=8080", "--api-key", "***", "--verbose",
				    "DB_TOKEN=**", NULL };
		argv_case(a, w);
	}
	{
		const char *a[] = { "curl", "-u", "bob:pa55", "postgres://app:s3cret@db:5432/x", "--cookie",
				    "sid=1", NULL };
		const char *w[] = { "curl", "-u", "bob:****", "postgres://app:******@db:5432/x", "--cookie",
				    "*****", NULL };
		argv_case(a, w);
	}
	{
		/* an option that is not secret keeps its value, a path keeps its '=' */
		const char *a[] = { "python3", "app.py", "--token-file", "/run/t", "/srv/a=b", NULL };
		const char *w[] = { "python3", "app.py", "--token-file", "******", "/srv/a=b", NULL };
		argv_case(a, w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_raw),
		cmocka_unit_test(test_headers_huffman),
		cmocka_unit_test(test_split_held),
		cmocka_unit_test(test_split_settled),
		cmocka_unit_test(test_preface_in_two_pieces),
		cmocka_unit_test(test_preface_byte_by_byte),
		cmocka_unit_test(test_gap_loses_blocks),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_table_size_at_ack),
		cmocka_unit_test(test_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
