/* test_http2.c - the HTTP/2 parser (analyze/proto/http2.c) on hand-built
 * frames: streams and their messages, interleaved streams on one
 * connection, frames cut across reads and across the snap length, padding,
 * CONTINUATION, trailers, RST_STREAM, gRPC messages and status, header
 * blocks lost (never guessed), framing lost and found again, a connection
 * joined mid-stream, and the detector.  Header blocks are encoded here as
 * literals without indexing (RFC 7541 6.2.2, raw strings) and with the
 * static table, so the frames are what a peer could send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/http2.h"

#define MAXREC 256

struct rec {
	enum bz_http_event ev;
	struct bz_http_msg m;
};

struct log {
	struct rec r[MAXREC];
	int n;
	uint64_t ts;
};

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct log *l = u;
	assert_true(l->n < MAXREC);
	l->r[l->n].ev = ev;
	l->r[l->n].m = *m;
	l->n++;
}

/* ---- building frames ---------------------------------------------------------- */

struct buf {
	uint8_t b[1 << 16];
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *payload, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };
	put(b, h, 9);
	if (n)
		put(b, payload, n);
}

/* A header block: "name:value" pairs as literals without indexing with
 * raw strings; ":status 200" as the static index 8, ":method GET" as 2. */
static size_t block(uint8_t *out, const char *const *fields)
{
	size_t n = 0;
	for (int i = 0; fields[i]; i++) {
		const char *f = fields[i], *c = strchr(f + 1, ':');
		size_t nl = (size_t)(c - f), vl = strlen(c + 1);
		if (!strcmp(f, ":status:200")) {
			out[n++] = 0x80 | 8;
			continue;
		}
		if (!strcmp(f, ":method:GET")) {
			out[n++] = 0x80 | 2;
			continue;
		}
		assert_true(nl < 127 && vl < 127);
		out[n++] = 0x00;
		out[n++] = (uint8_t)nl;
		memcpy(out + n, f, nl);
		n += nl;
		out[n++] = (uint8_t)vl;
		memcpy(out + n, c + 1, vl);
		n += vl;
	}
	return n;
}

static void headers(struct buf *b, uint32_t sid, int end_stream, const char *const *fields)
{
	uint8_t blk[4096];
	size_t n = block(blk, fields);
	frame(b, 1, 0x04 | (end_stream ? 0x01 : 0), sid, blk, n);
}

static void data(struct buf *b, uint32_t sid, int end_stream, const void *p, size_t n)
{
	frame(b, 0, end_stream ? 0x01 : 0, sid, p, n);
}

static void preface(struct buf *b)
{
	put(b, BZ_H2_PREFACE, BZ_H2_PREFACE_LEN);
	frame(b, 4, 0, 0, "\x00\x03\x00\x00\x00\x64", 6); /* SETTINGS_MAX_CONCURRENT_STREAMS 100 */
}

/* ---- feeding ------------------------------------------------------------------ */

static void feedr(void *p, struct log *l, int dir, const uint8_t *s, size_t caplen, size_t len,
		  const struct bz_range *r, uint32_t nr)
{
	struct bz_http_read rd = { 0 };
	l->ts += 1000;
	rd.at.ts_ns = l->ts;
	rd.at.arrival_ns = dir == BZ_HTTP_IN ? l->ts - 500 : 0;
	rd.at.tid = 7;
	rd.len = (uint32_t)len;
	rd.caplen = (uint32_t)caplen;
	rd.data = s;
	rd.ranges = r;
	rd.nranges = nr;
	bz_proto_http2.feed(p, dir, &rd);
}

static void feedb(void *p, struct log *l, int dir, const struct buf *b)
{
	feedr(p, l, dir, b->b, b->n, b->n, NULL, 0);
}

static void *mk(int req_dir, int fresh, struct log *l)
{
	void *p = NULL;
	struct bz_proto_cfg cfg = { .req_dir = req_dir, .fresh = fresh, .cb = on_msg, .user = l };
	memset(l, 0, sizeof(*l));
	l->ts = 1000000;
	assert_int_equal(bz_proto_http2.create(&p, &cfg), 0);
	return p;
}

static const struct bz_http_msg *nth(const struct log *l, enum bz_http_event ev, int is_req, int i)
{
	for (int k = 0; k < l->n; k++)
		if (l->r[k].ev == ev && l->r[k].m.is_request == is_req && i-- == 0)
			return &l->r[k].m;
	return NULL;
}

static int count(const struct log *l, enum bz_http_event ev)
{
	int c = 0;
	for (int k = 0; k < l->n; k++)
		c += l->r[k].ev == ev;
	return c;
}

/* Flushes; every HEAD has exactly one END. */
static void finish(void **pp, struct log *l)
{
	bz_proto_http2.flush(*pp, 1);
	assert_int_equal(count(l, BZ_HTTP_HEAD), count(l, BZ_HTTP_END));
	bz_proto_http2.destroy(pp);
	assert_null(*pp);
}

/* ---- tests ---------------------------------------------------------------------- */

static const char *const get_a[] = { ":method:GET", ":scheme:http", ":path:/a?x=1", ":authority:shop",
				     "user-agent:curl/8", NULL };
static const char *const ok_text[] = { ":status:200", "content-type:text/plain", NULL };

/* One request and its response, seen by the server. */
static void test_one_stream(void **state)
{
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);

	preface(&in);
	headers(&in, 1, 1, get_a);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&out, 1, 0, ok_text);
	data(&out, 1, 1, "hello", 5);
	feedb(p, &l, BZ_HTTP_OUT, &out);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 1, 0), *r = nth(&l, BZ_HTTP_END, 0, 0);
	assert_non_null(q);
	assert_non_null(r);
	assert_int_equal(q->proto, BZ_PROTO_HTTP2);
	assert_string_equal(q->method, "GET");
	assert_string_equal(q->target, "/a?x=1");
	assert_string_equal(q->host, "shop");
	assert_string_equal(q->scheme, "http");
	assert_string_equal(q->user_agent, "curl/8");
	assert_int_equal(q->stream, 1);
	assert_int_equal(q->index, 0);
	assert_int_equal(q->body_bytes, 0);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->index, 0);
	assert_int_equal(r->body_bytes, 5);
	assert_string_equal(r->content_type, "text/plain");
	assert_false(r->flags & (BZ_HTTP_F_INCOMPLETE | BZ_HTTP_F_HEADERS_LOST));
	assert_int_equal(bz_proto_http2.req_dir(p), BZ_HTTP_IN);
	assert_int_equal(bz_proto_http2.stats(p)->requests, 1);
	finish(&p, &l);
}

/* Three streams interleaved on one connection, answered out of order,
 * their DATA frames mixed in one write: each comes apart with its own. */
static void test_interleaved_streams(void **state)
{
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);
	static const char *const g1[] = { ":method:GET", ":path:/one", NULL };
	static const char *const g3[] = { ":method:POST", ":path:/three", "content-length:4", NULL };
	static const char *const g5[] = { ":method:GET", ":path:/five", NULL };
	static const char *const r404[] = { ":status:404", NULL };

	preface(&in);
	headers(&in, 1, 1, g1);
	headers(&in, 3, 0, g3);
	headers(&in, 5, 1, g5);
	data(&in, 3, 1, "body", 4);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&out, 5, 0, ok_text);
	headers(&out, 1, 0, r404);
	data(&out, 5, 0, "55555", 5);
	data(&out, 1, 1, "1", 1);
	data(&out, 5, 1, "55", 2);
	headers(&out, 3, 1, ok_text);
	feedb(p, &l, BZ_HTTP_OUT, &out);
	assert_int_equal(count(&l, BZ_HTTP_END), 6);
	for (int i = 0; i < 3; i++) {
		const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 0, i);
		if (r->stream == 1) {
			assert_int_equal(r->status, 404);
			assert_int_equal(r->body_bytes, 1);
			assert_int_equal(r->index, 0);
		} else if (r->stream == 3) {
			assert_int_equal(r->status, 200);
			assert_int_equal(r->body_bytes, 0);
			assert_int_equal(r->index, 1);
		} else {
			assert_int_equal(r->stream, 5);
			assert_int_equal(r->body_bytes, 7);
			assert_int_equal(r->index, 2);
		}
	}
	const struct bz_http_msg *q3 = nth(&l, BZ_HTTP_END, 1, 2);
	assert_int_equal(q3->stream, 3); /* its request ended with its DATA, after /five's */
	assert_string_equal(q3->method, "POST");
	assert_int_equal(q3->body_bytes, 4);
	assert_int_equal(q3->content_length, 4);
	finish(&p, &l);
}

/* Every frame cut at every byte into two reads, and a read of many frames
 * one byte at a time: the same messages. */
static void test_cut_anywhere(void **state)
{
	struct buf in = { .n = 0 };
	static const char *const big[] = { ":method:GET", ":path:/cut", "x-long:0123456789abcdef0123456789", NULL };

	preface(&in);
	headers(&in, 1, 0, big);
	data(&in, 1, 1, "abcdefgh", 8);
	for (size_t cut = 1; cut < in.n; cut++) {
		struct log l;
		void *p = mk(BZ_HTTP_IN, 1, &l);
		feedr(p, &l, BZ_HTTP_IN, in.b, cut, cut, NULL, 0);
		feedr(p, &l, BZ_HTTP_IN, in.b + cut, in.n - cut, in.n - cut, NULL, 0);
		const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 1, 0);
		if (!q || strcmp(q->target, "/cut") || q->body_bytes != 8)
			fail_msg("cut at %zu: %s", cut, q ? q->target : "no request");
		finish(&p, &l);
	}
	struct log l;
	void *p = mk(BZ_HTTP_IN, 1, &l);
	for (size_t i = 0; i < in.n; i++)
		feedr(p, &l, BZ_HTTP_IN, in.b + i, 1, 1, NULL, 0);
	assert_string_equal(nth(&l, BZ_HTTP_END, 1, 0)->target, "/cut");
	finish(&p, &l);
}

/* Padding, a priority field, CONTINUATION, trailers with a gRPC status,
 * and the gRPC messages counted from their prefixes across DATA frames. */
static void test_padding_continuation_grpc(void **state)
{
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);
	static const char *const call[] = { ":method:POST", ":path:/shop.Cart/Add", ":scheme:http",
					    "content-type:application/grpc", "te:trailers", NULL };
	static const char *const rh[] = { ":status:200", "content-type:application/grpc+proto", NULL };
	static const char *const tr[] = { "grpc-status:5", "grpc-message:no such cart", NULL };
	uint8_t blk[1024], pl[1100];
	size_t n = block(blk, call), k;

	preface(&in);
	/* HEADERS, PADDED | PRIORITY, the block's first 10 bytes; CONTINUATION the rest */
	pl[0] = 3;                        /* pad length */
	memcpy(pl + 1, "\x00\x00\x00\x00\x10", 5); /* dependency, weight */
	memcpy(pl + 6, blk, 10);
	memset(pl + 16, 0, 3);
	frame(&in, 1, 0x08 | 0x20, 1, pl, 19);
	frame(&in, 9, 0x04, 1, blk + 10, n - 10);
	/* two gRPC messages: 3 and 7 bytes, the second's prefix cut across DATA frames */
	k = 0;
	memcpy(pl + k, "\x00\x00\x00\x00\x03" "abc" "\x00\x00", 10);
	data(&in, 1, 0, pl, 10);
	data(&in, 1, 1, "\x00\x00\x07" "1234567", 10);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&out, 1, 0, rh);
	headers(&out, 1, 1, tr);
	feedb(p, &l, BZ_HTTP_OUT, &out);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 1, 0), *r = nth(&l, BZ_HTTP_END, 0, 0);
	assert_string_equal(q->target, "/shop.Cart/Add");
	assert_true(q->grpc);
	assert_int_equal(q->grpc_messages, 2);
	assert_int_equal(q->body_bytes, 20);
	assert_true(r->grpc);
	assert_int_equal(r->grpc_status, 5);
	assert_int_equal(r->grpc_messages, 0);
	finish(&p, &l);

	/* a trailers-only response: :status, grpc-status, END_STREAM in one block */
	static const char *const only[] = { ":status:200", "content-type:application/grpc", "grpc-status:13", NULL };
	struct buf o2 = { .n = 0 };
	in.n = 0;
	p = mk(BZ_HTTP_IN, 1, &l);
	preface(&in);
	headers(&in, 1, 0, call);
	data(&in, 1, 1, "\x00\x00\x00\x00\x00", 5);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&o2, 1, 1, only);
	feedb(p, &l, BZ_HTTP_OUT, &o2);
	r = nth(&l, BZ_HTTP_END, 0, 0);
	assert_int_equal(r->grpc_status, 13);
	assert_int_equal(nth(&l, BZ_HTTP_END, 1, 0)->grpc_messages, 1);
	finish(&p, &l);
}

/* A DATA payload cut by the snap length costs nothing but its bytes; a
 * header block cut loses it and every later block of that direction, and
 * says so; the other direction is unaffected. */
static void test_snaplen(void **state)
{
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);
	static uint8_t body[3000];
	static const char *const get2[] = { ":method:GET", ":path:/second", NULL };

	preface(&in);
	headers(&in, 1, 1, get_a);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&out, 1, 0, ok_text);
	data(&out, 1, 1, body, sizeof(body));
	size_t head = out.n - sizeof(body); /* up to the DATA payload */
	feedr(p, &l, BZ_HTTP_OUT, out.b, head + 100, out.n, NULL, 0);
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 0, 0);
	assert_non_null(r);
	assert_int_equal(r->body_bytes, sizeof(body));
	assert_int_equal(r->status, 200);
	assert_false(r->flags & BZ_HTTP_F_HEADERS_LOST);
	/* the next request's block cut: lost, and the one after it too */
	in.n = 0;
	headers(&in, 3, 1, get2);
	feedr(p, &l, BZ_HTTP_IN, in.b, 12, in.n, NULL, 0);
	in.n = 0;
	headers(&in, 5, 1, get2);
	feedb(p, &l, BZ_HTTP_IN, &in);
	const struct bz_http_msg *q3 = nth(&l, BZ_HTTP_HEAD, 1, 1), *q5 = nth(&l, BZ_HTTP_HEAD, 1, 2);
	assert_non_null(q3);
	assert_non_null(q5);
	assert_true(q3->flags & BZ_HTTP_F_HEADERS_LOST);
	assert_true(q5->flags & BZ_HTTP_F_HEADERS_LOST);
	assert_string_equal(q5->method, ""); /* unknown, never guessed */
	assert_int_equal(q5->stream, 5);
	assert_int_equal(bz_proto_http2.stats(p)->headers_lost, 2);
	finish(&p, &l);
}

/* Ranges: a recorder that walked the frames keeps headers and blocks whole
 * and only the start of DATA; the parser follows it exactly. */
static void test_ranges(void **state)
{
	struct log l;
	struct buf out = { .n = 0 }, kept = { .n = 0 };
	void *p = mk(BZ_HTTP_OUT, 1, &l);
	static uint8_t body[5000];
	struct buf in = { .n = 0 };

	preface(&in);
	headers(&in, 1, 1, get_a);
	feedb(p, &l, BZ_HTTP_OUT, &in); /* we are the client: requests are written */
	headers(&out, 1, 0, ok_text);
	size_t d1 = out.n;
	data(&out, 1, 0, body, sizeof(body));
	size_t d2 = out.n;
	headers(&out, 1, 1, (const char *const[]){ "x-trailer:t", NULL });
	/* kept: [0, d1 + 9 + 16) and the trailer frame whole */
	struct bz_range r[2] = { { 0, (uint32_t)(d1 + 9 + 16) }, { (uint32_t)d2, (uint32_t)(out.n - d2) } };
	put(&kept, out.b, r[0].len);
	put(&kept, out.b + d2, r[1].len);
	feedr(p, &l, BZ_HTTP_IN, kept.b, kept.n, out.n, r, 2);
	const struct bz_http_msg *rsp = nth(&l, BZ_HTTP_END, 0, 0);
	assert_non_null(rsp);
	assert_int_equal(rsp->body_bytes, sizeof(body));
	assert_false(rsp->flags & (BZ_HTTP_F_HEADERS_LOST | BZ_HTTP_F_INCOMPLETE));
	assert_int_equal(bz_proto_http2.stats(p)->headers_lost, 0);
	finish(&p, &l);
}

/* A frame header not captured loses the framing until a read or write
 * begins with a frame; what went by is counted. */
static void test_framing_lost(void **state)
{
	struct log l;
	struct buf in = { .n = 0 }, two = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);

	preface(&in);
	headers(&in, 1, 1, get_a);
	size_t cut = in.n;
	headers(&in, 3, 1, get_a);
	feedr(p, &l, BZ_HTTP_IN, in.b, cut, in.n, NULL, 0); /* stream 3's frame unseen */
	headers(&two, 5, 1, get_a);
	feedb(p, &l, BZ_HTTP_IN, &two);
	assert_int_equal(bz_proto_http2.stats(p)->resyncs, 1);
	const struct bz_http_msg *q5 = nth(&l, BZ_HTTP_HEAD, 1, 1);
	assert_non_null(q5);
	assert_int_equal(q5->stream, 5);
	assert_true(q5->flags & BZ_HTTP_F_HEADERS_LOST); /* stream 3's block might have changed the table */
	finish(&p, &l);
}

/* RST_STREAM ends a stream's messages at once; the close ends the rest. */
static void test_reset_and_close(void **state)
{
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);

	preface(&in);
	headers(&in, 1, 1, get_a);
	headers(&in, 3, 0, get_a);
	feedb(p, &l, BZ_HTTP_IN, &in);
	frame(&out, 3, 0, 1, "\x00\x00\x00\x08", 4); /* RST_STREAM CANCEL on stream 1 */
	feedb(p, &l, BZ_HTTP_OUT, &out);
	const struct bz_http_msg *r1 = nth(&l, BZ_HTTP_END, 0, 0);
	assert_non_null(r1);
	assert_int_equal(r1->stream, 1);
	assert_true(r1->flags & BZ_HTTP_F_RESET);
	assert_true(r1->flags & BZ_HTTP_F_INCOMPLETE);
	bz_proto_http2.flush(p, 1);
	const struct bz_http_msg *q3 = nth(&l, BZ_HTTP_END, 1, 1);
	assert_non_null(q3);
	assert_int_equal(q3->stream, 3);
	assert_true(q3->flags & BZ_HTTP_F_INCOMPLETE);
	finish(&p, &l);
}

/* A response whose body reached its content-length but whose END_STREAM
 * never came (curl closes once it has the bytes; Node sends END_STREAM in
 * an empty DATA frame after the body): complete at the close.  One short
 * of its content-length, or without one, it is not. */
static void test_content_length_ends(void **state)
{
	static const char *const ok_len[] = { ":status:200", "content-length:5", NULL };
	static const char *const ok_len9[] = { ":status:200", "content-length:9", NULL };
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);

	preface(&in);
	headers(&in, 1, 1, get_a);
	headers(&in, 3, 1, get_a);
	headers(&in, 5, 1, get_a);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&out, 1, 0, ok_len);
	data(&out, 1, 0, "hello", 5);
	headers(&out, 3, 0, ok_len9);
	data(&out, 3, 0, "hello", 5);
	headers(&out, 5, 0, ok_text);
	data(&out, 5, 0, "hello", 5);
	feedb(p, &l, BZ_HTTP_OUT, &out);
	assert_null(nth(&l, BZ_HTTP_END, 0, 0)); /* no END_STREAM yet: open */
	bz_proto_http2.flush(p, 1);
	for (int i = 0; i < 3; i++) {
		const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 0, i);
		assert_non_null(r);
		assert_int_equal(r->body_bytes, 5);
		if (r->stream == 1)
			assert_false(r->flags & BZ_HTTP_F_INCOMPLETE);
		else
			assert_true(r->flags & BZ_HTTP_F_INCOMPLETE);
	}
	finish(&p, &l);
}

/* A stream reset once its body reached its content-length (curl and
 * nghttpx do so when END_STREAM lags): complete, flagged reset, ended at
 * its last DATA byte; one reset short of it stays incomplete. */
static void test_reset_after_whole_body(void **state)
{
	static const char *const ok_len[] = { ":status:200", "content-length:5", NULL };
	static const char *const ok_len9[] = { ":status:200", "content-length:9", NULL };
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 }, rst = { .n = 0 };
	void *p = mk(BZ_HTTP_IN, 1, &l);

	preface(&in);
	headers(&in, 1, 1, get_a);
	headers(&in, 3, 1, get_a);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&out, 1, 0, ok_len);
	data(&out, 1, 0, "hello", 5);
	headers(&out, 3, 0, ok_len9);
	data(&out, 3, 0, "hello", 5);
	feedb(p, &l, BZ_HTTP_OUT, &out);
	uint64_t body_ts = l.ts;
	frame(&rst, 3, 0, 1, "\x00\x00\x00\x00", 4); /* RST_STREAM NO_ERROR */
	frame(&rst, 3, 0, 3, "\x00\x00\x00\x08", 4); /* RST_STREAM CANCEL */
	feedb(p, &l, BZ_HTTP_IN, &rst);
	const struct bz_http_msg *r1 = nth(&l, BZ_HTTP_END, 0, 0), *r3 = nth(&l, BZ_HTTP_END, 0, 1);
	assert_non_null(r1);
	assert_non_null(r3);
	assert_int_equal(r1->stream, 1);
	assert_true(r1->flags & BZ_HTTP_F_RESET);
	assert_false(r1->flags & BZ_HTTP_F_INCOMPLETE);
	assert_int_equal(r1->last.ts_ns, body_ts);
	assert_int_equal(r3->stream, 3);
	assert_true(r3->flags & BZ_HTTP_F_INCOMPLETE);
	finish(&p, &l);
}

/* After an HTTP/1.1 "Upgrade: h2c" answered 101 (RFC 7540 3.2): stream 1
 * is the upgraded request, numbered as the HTTP/1 parser did; its
 * response and the streams after it come as HTTP/2, numbered on. */
static void test_h2c_upgrade(void **state)
{
	static const char *const ok_len[] = { ":status:200", "content-length:5", NULL };
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = NULL;
	struct bz_proto_cfg cfg = { .req_dir = BZ_HTTP_IN, .fresh = 1, .cb = on_msg, .user = &l,
				    .h2c_upgrade = 1, .upgrade_index = 4 };

	memset(&l, 0, sizeof(l));
	l.ts = 1000000;
	assert_int_equal(bz_proto_http2.create(&p, &cfg), 0);
	frame(&out, 4, 0, 0, "", 0); /* the server's SETTINGS, after its 101 */
	headers(&out, 1, 0, ok_len);
	data(&out, 1, 1, "hello", 5);
	feedb(p, &l, BZ_HTTP_OUT, &out);
	preface(&in);
	headers(&in, 3, 1, get_a);
	feedb(p, &l, BZ_HTTP_IN, &in);
	const struct bz_http_msg *r1 = nth(&l, BZ_HTTP_END, 0, 0), *q3 = nth(&l, BZ_HTTP_END, 1, 0);
	assert_non_null(r1);
	assert_int_equal(r1->stream, 1);
	assert_int_equal(r1->index, 4);
	assert_int_equal(r1->status, 200);
	assert_false(r1->flags & (BZ_HTTP_F_INCOMPLETE | BZ_HTTP_F_NO_REQUEST));
	assert_non_null(q3);
	assert_int_equal(q3->stream, 3);
	assert_int_equal(q3->index, 5);
	assert_string_equal(q3->method, "GET");
	assert_null(nth(&l, BZ_HTTP_HEAD, 1, 1)); /* stream 1's request is not reported again */
	bz_proto_http2.flush(p, 1);
	bz_proto_http2.destroy(&p);
}

/* Joined mid-stream: no preface, the table unknown: frames followed,
 * streams reported, blocks lost; which side is the client learnt from who
 * opens odd streams. */
static void test_joined_mid_stream(void **state)
{
	struct log l;
	struct buf in = { .n = 0 }, out = { .n = 0 };
	void *p = mk(BZ_HTTP_DIR_UNKNOWN, 0, &l);

	headers(&in, 7, 1, get_a);
	feedb(p, &l, BZ_HTTP_IN, &in);
	headers(&out, 7, 0, ok_text);
	data(&out, 7, 1, "xy", 2);
	feedb(p, &l, BZ_HTTP_OUT, &out);
	assert_int_equal(bz_proto_http2.req_dir(p), BZ_HTTP_IN);
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 0, 0);
	assert_non_null(r);
	assert_int_equal(r->body_bytes, 2);
	assert_true(r->flags & BZ_HTTP_F_HEADERS_LOST);
	assert_int_equal(r->status, 0);
	finish(&p, &l);
}

static void test_detect(void **state)
{
	struct buf b = { .n = 0 };
	preface(&b);
	assert_int_equal(bz_http2_detect(b.b, b.n, BZ_HTTP_IN, 1), BZ_PROTO_YES);
	assert_int_equal(bz_http2_detect(b.b, 20, BZ_HTTP_IN, 1), BZ_PROTO_YES);
	assert_int_equal(bz_http2_detect(b.b, 5, BZ_HTTP_IN, 1), BZ_PROTO_MAYBE);
	assert_int_equal(bz_http2_detect((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, BZ_HTTP_IN, 1), BZ_PROTO_NO);
	assert_int_equal(bz_http2_detect((const uint8_t *)"PRI / HTTP/1.1\r\n\r\n", 18, BZ_HTTP_IN, 1), BZ_PROTO_NO);
	/* frames without a preface: a server's SETTINGS, a joined connection */
	b.n = 0;
	frame(&b, 4, 0, 0, "\x00\x03\x00\x00\x00\x64", 6);
	frame(&b, 8, 0, 0, "\x00\x00\xff\xff", 4);
	assert_int_equal(bz_http2_detect(b.b, b.n, BZ_HTTP_OUT, 0), BZ_PROTO_YES);
	/* plausible first frame, nothing after: only for a joined connection */
	assert_int_equal(bz_http2_detect(b.b, 12, BZ_HTTP_OUT, 0), BZ_PROTO_YES);
	assert_int_equal(bz_http2_detect(b.b, 12, BZ_HTTP_OUT, 1), BZ_PROTO_MAYBE);
	/* binary that is not frames: a TLS record, random bytes */
	assert_int_equal(bz_http2_detect((const uint8_t *)"\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9, BZ_HTTP_IN, 0),
			 BZ_PROTO_NO);
	assert_int_equal(bz_http2_detect((const uint8_t *)"\x00\x00\x06\x04\x00\x00\x00\x00\x01", 9, BZ_HTTP_IN, 0),
			 BZ_PROTO_NO); /* SETTINGS on stream 1 */
	assert_int_equal(bz_http2_detect(NULL, 0, BZ_HTTP_IN, 1), BZ_PROTO_NO);
}

/* Hostile input: random bytes after the preface, random frame headers with
 * huge lengths, random ranges: no crash, every HEAD ended. */
static void test_hostile(void **state)
{
	uint32_t x = 12345;
	for (int round = 0; round < 300; round++) {
		struct log l;
		void *p = mk(round % 3 == 0 ? BZ_HTTP_DIR_UNKNOWN : BZ_HTTP_IN, round % 2, &l);
		struct buf b = { .n = 0 };
		preface(&b);
		for (int i = 0; i < 40; i++) {
			uint8_t junk[64];
			for (size_t k = 0; k < sizeof(junk); k++)
				junk[k] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
			if (i % 3 == 0)
				headers(&b, (uint32_t)(2 * i + 1), i % 2, get_a);
			else
				put(&b, junk, (size_t)(x % sizeof(junk)));
		}
		size_t pos = 0;
		while (pos < b.n && l.n < MAXREC - 8) {
			size_t n = 1 + (x = x * 1103515245u + 12345u) % 200;
			if (n > b.n - pos)
				n = b.n - pos;
			size_t cap = (x >> 8) % 4 == 0 ? n / 2 : n;
			feedr(p, &l, (x >> 4) & 1, b.b + pos, cap, n + ((x >> 12) % 8 == 0 ? 5000 : 0), NULL, 0);
			pos += n;
		}
		finish(&p, &l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_stream),
		cmocka_unit_test(test_interleaved_streams),
		cmocka_unit_test(test_cut_anywhere),
		cmocka_unit_test(test_padding_continuation_grpc),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_framing_lost),
		cmocka_unit_test(test_reset_and_close),
		cmocka_unit_test(test_content_length_ends),
		cmocka_unit_test(test_reset_after_whole_body),
		cmocka_unit_test(test_h2c_upgrade),
		cmocka_unit_test(test_joined_mid_stream),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests_name("http2", tests, NULL, NULL);
}
