/* test_http1.c - the HTTP/1.x parser on hand-built read/write sequences:
 * every framing case the analyzer relies on, payloads cut by the snap
 * length, resynchronisation and non-HTTP detection.  Each test also checks
 * the byte accounting invariant (every byte fed is in a message, skipped or
 * ignored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/http1.h"

#define MAXREC 64

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

/* Feeds len bytes of which the first caplen are s (s may be shorter than
 * len: the rest is unknown). Each call is 1000 ns after the previous. */
static void feedc(struct bz_http1 *p, struct log *l, int dir, const char *s, size_t caplen, size_t len)
{
	struct bz_http_read rd = {0};
	l->ts += 1000;
	rd.at.ts_ns = l->ts;
	rd.at.start_ns = l->ts - 100;
	rd.at.arrival_ns = dir == BZ_HTTP_IN ? l->ts - 500 : 0;
	rd.at.tid = 7;
	rd.len = (uint32_t)len;
	rd.caplen = (uint32_t)caplen;
	rd.data = (const uint8_t *)s;
	bz_http1_feed(p, dir, &rd);
}

static void feed(struct bz_http1 *p, struct log *l, int dir, const char *s)
{
	feedc(p, l, dir, s, strlen(s), strlen(s));
}

/* Returns the i-th END record (or HEAD if ev == BZ_HTTP_HEAD). */
static const struct bz_http_msg *nth(const struct log *l, enum bz_http_event ev, int i)
{
	for (int k = 0; k < l->n; k++)
		if (l->r[k].ev == ev && i-- == 0)
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

/* Flushes and checks the invariants: every HEAD has one END after it, and
 * every byte is accounted for. */
static void finish(struct bz_http1 **pp, struct log *l, int closed)
{
	struct bz_http1 *p = *pp;
	bz_http1_flush(p, closed);
	const struct bz_proto_stats *st = bz_http1_stats(p);
	for (int dir = 0; dir < 2; dir++)
		assert_int_equal(st->fed[dir], st->skipped[dir] + st->ignored[dir] + st->msg_bytes[dir]);
	assert_int_equal(count(l, BZ_HTTP_HEAD), count(l, BZ_HTTP_END));
	bz_http1_free(pp);
	assert_null(*pp);
}

static struct bz_http1 *mk(int req_dir, int fresh, struct log *l)
{
	struct bz_http1 *p = NULL;
	memset(l, 0, sizeof(*l));
	l->ts = 1000000;
	assert_int_equal(bz_http1_new(&p, req_dir, fresh, on_msg, l), 0);
	return p;
}

static void test_simple_get(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN,
	     "GET /users/42?x=1 HTTP/1.1\r\nHost: shop.example:8080\r\nUser-Agent: curl/8.0\r\n\r\n");
	const struct bz_http_msg *h = nth(&l, BZ_HTTP_HEAD, 0);
	assert_non_null(h);
	assert_string_equal(h->method, "GET");
	assert_string_equal(h->target, "/users/42?x=1");
	assert_string_equal(h->host, "shop.example:8080");
	assert_string_equal(h->user_agent, "curl/8.0");
	assert_int_equal(h->index, 0);
	assert_int_equal(h->version, 1);
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	feed(p, &l, BZ_HTTP_OUT,
	     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_false(r->is_request);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->index, 0);
	assert_int_equal(r->body_bytes, 2);
	assert_int_equal(r->content_length, 2);
	assert_string_equal(r->content_type, "application/json");
	assert_int_equal(r->first.ts_ns, l.ts);
	assert_int_equal(r->last.ts_ns, l.ts);
	assert_int_equal(bz_http1_req_dir(p), BZ_HTTP_IN);
	finish(&p, &l, 1);
}

static void test_keepalive(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	for (int i = 0; i < 3; i++) {
		feed(p, &l, BZ_HTTP_IN, "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
		feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc");
	}
	assert_int_equal(count(&l, BZ_HTTP_END), 6);
	for (int i = 0; i < 3; i++) {
		const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 2 * i);
		const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 2 * i + 1);
		assert_true(q->is_request);
		assert_int_equal(q->index, (uint64_t)i);
		assert_int_equal(q->body_bytes, 5);
		assert_int_equal(r->index, (uint64_t)i);
		assert_int_equal(r->status, 201);
		assert_int_equal(r->flags & (BZ_HTTP_F_GUESSED_END | BZ_HTTP_F_INCOMPLETE), 0);
	}
	finish(&p, &l, 1);
}

static void test_pipelining(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN,
	     "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
	assert_int_equal(count(&l, BZ_HTTP_END), 3);
	/* Response to HEAD has a Content-Length but no body. */
	feed(p, &l, BZ_HTTP_OUT,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
	     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
	     "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
	assert_int_equal(count(&l, BZ_HTTP_END), 6);
	for (int i = 0; i < 3; i++) {
		const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 3 + i);
		assert_false(r->is_request);
		assert_int_equal(r->index, (uint64_t)i);
	}
	assert_int_equal(nth(&l, BZ_HTTP_END, 4)->body_bytes, 0);
	assert_int_equal(nth(&l, BZ_HTTP_END, 5)->status, 404);
	assert_string_equal(nth(&l, BZ_HTTP_END, 1)->method, "HEAD");
	finish(&p, &l, 1);
}

static void test_split_bytewise(void **state)
{
	static const char req[] = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody";
	static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n";
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	uint64_t t0 = l.ts + 1000;
	for (size_t i = 0; i < sizeof(req) - 1; i++)
		feedc(p, &l, BZ_HTTP_IN, req + i, 1, 1);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 0);
	assert_non_null(q);
	assert_string_equal(q->target, "/x");
	assert_string_equal(q->host, "h");
	assert_int_equal(q->first.ts_ns, t0);
	assert_int_equal(q->last.ts_ns, l.ts);
	assert_int_equal(q->body_bytes, 4);
	assert_int_equal(q->head_bytes, sizeof(req) - 1 - 4);
	uint64_t r0 = l.ts + 1000;
	for (size_t i = 0; i < sizeof(resp) - 1; i += 3) {
		size_t n = sizeof(resp) - 1 - i < 3 ? sizeof(resp) - 1 - i : 3;
		feedc(p, &l, BZ_HTTP_OUT, resp + i, n, n);
	}
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_CHUNKED);
	assert_int_equal(r->flags & BZ_HTTP_F_GUESSED_END, 0);
	assert_int_equal(r->first.ts_ns, r0);
	assert_int_equal(r->last.ts_ns, l.ts);
	assert_int_equal(r->head_bytes + r->body_bytes, sizeof(resp) - 1);
	finish(&p, &l, 1);
}

static void test_content_length_beyond_snaplen(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET /big HTTP/1.1\r\n\r\n");
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
	/* One write of head + 60000 body bytes, 64 bytes captured. */
	feedc(p, &l, BZ_HTTP_OUT, head, sizeof(head) - 1, sizeof(head) - 1 + 60000);
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	/* sendfile of the rest: nothing captured. */
	feedc(p, &l, BZ_HTTP_OUT, NULL, 0, 30000);
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	feedc(p, &l, BZ_HTTP_OUT, "xxxx", 4, 10000);
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_int_equal(r->body_bytes, 100000);
	assert_int_equal(r->last.ts_ns, l.ts);
	assert_int_equal(r->flags & BZ_HTTP_F_GUESSED_END, 0);
	/* keep-alive goes on */
	feed(p, &l, BZ_HTTP_IN, "GET /next HTTP/1.1\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(count(&l, BZ_HTTP_END), 4);
	assert_int_equal(nth(&l, BZ_HTTP_END, 3)->index, 1);
	finish(&p, &l, 1);
}

static void test_request_body_beyond_snaplen(void **state)
{
	static const char req[] = "POST /upload HTTP/1.1\r\nContent-Length: 5000\r\n\r\nAAAA";
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	/* The server reads 1000 bytes at a time; each read has 512 captured. */
	feedc(p, &l, BZ_HTTP_IN, req, sizeof(req) - 1, 1000);
	for (int i = 0; i < 4; i++)
		feedc(p, &l, BZ_HTTP_IN, "AAAA", 4, 1000);
	/* 5000 + head bytes - 5000 read: the head was 48 bytes, 48 left */
	assert_int_equal(count(&l, BZ_HTTP_END), 0);
	feedc(p, &l, BZ_HTTP_IN, "AAAA", 4, sizeof(req) - 1 - 4);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 0);
	assert_non_null(q);
	assert_int_equal(q->body_bytes, 5000);
	assert_int_equal(q->last.ts_ns, l.ts);
	finish(&p, &l, 0);
}

static void test_chunked_large_chunks(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET /stream HTTP/1.1\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	/* each chunk in one write: "1000\r\n" + 4096 bytes + "\r\n", 100 captured */
	for (int i = 0; i < 3; i++)
		feedc(p, &l, BZ_HTTP_OUT, "1000\r\nxxxxxxxx", 14, 6 + 4096 + 2);
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	feed(p, &l, BZ_HTTP_OUT, "0\r\n\r\n");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_int_equal(r->flags & BZ_HTTP_F_GUESSED_END, 0);
	assert_int_equal(r->body_bytes, 3 * (6 + 4096 + 2) + 5);
	finish(&p, &l, 1);
}

static void test_chunked_lost_terminator_seen(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET /s HTTP/1.1\r\n\r\n");
	feedc(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n01234",
	      54, 3000); /* several chunks, boundaries lost */
	feedc(p, &l, BZ_HTTP_OUT, "zzz", 3, 2000);
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	feed(p, &l, BZ_HTTP_OUT, "a\r\n0123456789\r\n0\r\n\r\n");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_GUESSED_END);
	assert_int_equal(r->last.ts_ns, l.ts);
	finish(&p, &l, 1);
}

static void test_chunked_lost_next_request(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET /s HTTP/1.1\r\n\r\n");
	feedc(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0", 50, 3000);
	feedc(p, &l, BZ_HTTP_OUT, "zzz", 3, 2000); /* terminator hidden in here */
	uint64_t last = l.ts;
	/* the client answers with its next request: the response is over */
	feed(p, &l, BZ_HTTP_IN, "GET /t HTTP/1.1\r\n\r\n");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_false(r->is_request);
	assert_true(r->flags & BZ_HTTP_F_GUESSED_END);
	assert_int_equal(r->last.ts_ns, last);
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(nth(&l, BZ_HTTP_END, 3)->index, 1);
	finish(&p, &l, 1);
}

static void test_chunked_lost_same_direction_start(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	/* pipelined: both requests already sent */
	feed(p, &l, BZ_HTTP_IN, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	feedc(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0", 50, 3000);
	uint64_t last = l.ts;
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(count(&l, BZ_HTTP_END), 4);
	const struct bz_http_msg *r0 = nth(&l, BZ_HTTP_END, 2), *r1 = nth(&l, BZ_HTTP_END, 3);
	assert_int_equal(r0->index, 0);
	assert_true(r0->flags & BZ_HTTP_F_GUESSED_END);
	assert_int_equal(r0->last.ts_ns, last);
	assert_int_equal(r1->index, 1);
	assert_int_equal(r1->status, 500);
	finish(&p, &l, 1);
}

static void test_request_guess_ended_by_response(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	/* chunked upload whose chunk boundaries fall in unknown bytes */
	feed(p, &l, BZ_HTTP_IN, "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 100 Continue\r\n\r\n");
	feedc(p, &l, BZ_HTTP_IN, "2000\r\nabc", 9, 20000);
	uint64_t last = l.ts;
	/* an interim response would not end it; the final one does */
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(q);
	assert_true(q->is_request);
	assert_true(q->flags & BZ_HTTP_F_GUESSED_END);
	assert_int_equal(q->last.ts_ns, last);
	assert_int_equal(q->body_bytes, 20000);
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 2);
	assert_int_equal(r->status, 201);
	assert_int_equal(r->index, 0);
	finish(&p, &l, 1);
}

static void test_head_cut_by_snaplen(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	/* 60 bytes captured of a 900-byte read: long cookies, then a body
	 * of 10 bytes that fits in the read. */
	static const char req[] = "POST /form HTTP/1.1\r\nContent-Length: 10\r\nUser-Agent: Mozill";
	feedc(p, &l, BZ_HTTP_IN, req, sizeof(req) - 1, 900);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 0);
	assert_non_null(q);
	assert_true(q->flags & BZ_HTTP_F_HEAD_CUT);
	assert_string_equal(q->user_agent, "Mozill");
	assert_int_equal(q->body_bytes, 10);
	assert_int_equal(q->head_bytes, 890);
	/* response head cut without a length: ends when the next request comes */
	feedc(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nServer: x", 26, 700);
	feedc(p, &l, BZ_HTTP_OUT, "more body", 9, 300);
	uint64_t last = l.ts;
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	feed(p, &l, BZ_HTTP_IN, "GET / HTTP/1.1\r\n\r\n");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_HEAD_CUT);
	assert_true(r->flags & BZ_HTTP_F_GUESSED_END);
	assert_int_equal(r->last.ts_ns, last);
	assert_int_equal(r->status, 200);
	finish(&p, &l, 1);
}

static void test_start_line_cut(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feedc(p, &l, BZ_HTTP_IN, "GET /very/long/pa", 17, 400);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 0);
	assert_non_null(q);
	assert_string_equal(q->method, "GET");
	assert_string_equal(q->target, "/very/long/pa");
	assert_true(q->flags & BZ_HTTP_F_TARGET_CUT);
	assert_true(q->flags & BZ_HTTP_F_HEAD_CUT);
	finish(&p, &l, 0);
}

static void test_long_request_line(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	char line[2100];
	memcpy(line, "GET /", 5);
	memset(line + 5, 'a', 2000);
	strcpy(line + 2005, " HTTP/1.0\r\n\r\n");
	/* two reads, everything captured */
	feedc(p, &l, BZ_HTTP_IN, line, 1000, 1000);
	feedc(p, &l, BZ_HTTP_IN, line + 1000, strlen(line) - 1000, strlen(line) - 1000);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 0);
	assert_non_null(q);
	assert_true(q->flags & BZ_HTTP_F_TARGET_CUT);
	assert_int_equal(q->version, 0);
	assert_true(strlen(q->target) > 500);
	assert_int_equal(q->target[0], '/');
	finish(&p, &l, 0);
}

static void test_100_continue(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 100 Continue\r\n\r\n");
	feed(p, &l, BZ_HTTP_IN, "abc");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(count(&l, BZ_HTTP_END), 3);
	const struct bz_http_msg *i = nth(&l, BZ_HTTP_END, 0);
	assert_true(i->flags & BZ_HTTP_F_INTERIM);
	assert_int_equal(i->index, 0);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 1);
	assert_true(q->is_request);
	assert_true(q->flags & BZ_HTTP_F_EXPECT_100);
	assert_int_equal(q->body_bytes, 3);
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 2);
	assert_int_equal(r->index, 0);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->flags & BZ_HTTP_F_INTERIM, 0);
	finish(&p, &l, 1);
}

static void test_no_body_statuses(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 204 No Content\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	assert_int_equal(count(&l, BZ_HTTP_END), 6);
	for (int i = 3; i < 6; i++) {
		assert_int_equal(nth(&l, BZ_HTTP_END, i)->body_bytes, 0);
		assert_int_equal(nth(&l, BZ_HTTP_END, i)->index, (uint64_t)(i - 3));
	}
	finish(&p, &l, 1);
}

static void test_close_delimited(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET / HTTP/1.0\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.0 200 OK\r\n\r\nhello ");
	feedc(p, &l, BZ_HTTP_OUT, "world", 5, 5000);
	uint64_t last = l.ts;
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	bz_http1_flush(p, 1);
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_CLOSE_END);
	assert_int_equal(r->flags & BZ_HTTP_F_INCOMPLETE, 0);
	assert_int_equal(r->body_bytes, 6 + 5000);
	assert_int_equal(r->last.ts_ns, last);
	assert_int_equal(r->version, 0);
	finish(&p, &l, 1);

	/* the same at the end of the capture: incomplete */
	p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET / HTTP/1.0\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.0 200 OK\r\n\r\nhello ");
	bz_http1_flush(p, 0);
	assert_true(nth(&l, BZ_HTTP_END, 1)->flags & BZ_HTTP_F_INCOMPLETE);
	finish(&p, &l, 0);
}

static void test_incomplete(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET /slow HTTP/1.1\r\n\r\n");
	feed(p, &l, BZ_HTTP_IN, "GET /slower HTTP/1.1\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
	bz_http1_flush(p, 0);
	assert_int_equal(count(&l, BZ_HTTP_END), 3);
	const struct bz_http_msg *q2 = nth(&l, BZ_HTTP_END, 1);
	assert_true(q2->is_request);
	assert_true(q2->flags & BZ_HTTP_F_INCOMPLETE);
	assert_int_equal(q2->index, 1);
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 2);
	assert_false(r->is_request);
	assert_true(r->flags & BZ_HTTP_F_INCOMPLETE);
	assert_int_equal(r->body_bytes, 5);
	finish(&p, &l, 0);
}

static void test_resync_midstream(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_DIR_UNKNOWN, 0, &l);
	/* joined in the middle of a request body, then a response of a
	 * request we never saw */
	feedc(p, &l, BZ_HTTP_IN, "ody of something\r\n", 18, 5000);
	feed(p, &l, BZ_HTTP_OUT, "ent\":1}");
	assert_int_equal(count(&l, BZ_HTTP_HEAD), 0);
	feed(p, &l, BZ_HTTP_IN, "tail\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(bz_http1_req_dir(p), BZ_HTTP_IN);
	const struct bz_http_msg *q = nth(&l, BZ_HTTP_END, 0);
	assert_non_null(q);
	assert_true(q->flags & BZ_HTTP_F_RESYNC);
	assert_string_equal(q->target, "/ok");
	assert_int_equal(q->index, 0);
	const struct bz_proto_stats *st = bz_http1_stats(p);
	assert_int_equal(st->skipped[BZ_HTTP_IN], 5000 + 6);
	/* the status line is split across two writes while searching */
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 2");
	feed(p, &l, BZ_HTTP_OUT, "00 OK\r\nContent-Length: 0\r\n\r\n");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->index, 0);
	assert_int_equal(bz_http1_stats(p)->skipped[BZ_HTTP_OUT], 7);
	finish(&p, &l, 1);
}

static void test_resync_response_without_request(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_DIR_UNKNOWN, 0, &l);
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 0);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_NO_REQUEST);
	assert_int_equal(r->index, BZ_HTTP_NO_INDEX);
	/* we answered: so requests come in */
	assert_int_equal(bz_http1_req_dir(p), BZ_HTTP_IN);
	finish(&p, &l, 1);
}

static void test_non_http_tls(void **state)
{
	static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feedc(p, &l, BZ_HTTP_IN, hello, sizeof(hello) - 1, 517);
	feedc(p, &l, BZ_HTTP_OUT, "\x16\x03\x03", 3, 1400);
	feed(p, &l, BZ_HTTP_IN, "GET / HTTP/1.1\r\n\r\n"); /* too late: ignored */
	const struct bz_proto_stats *st = bz_http1_stats(p);
	assert_true(st->non_http);
	assert_int_equal(l.n, 0);
	assert_int_equal(st->ignored[BZ_HTTP_IN], 517 + 18);
	assert_int_equal(st->ignored[BZ_HTTP_OUT], 1400);
	finish(&p, &l, 1);
}

static void test_non_http_server_first(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_OUT, "220 mail.example ESMTP\r\n");
	assert_true(bz_http1_stats(p)->non_http);
	finish(&p, &l, 1);
	/* a short, plausible first read is not judged yet */
	p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GE");
	assert_false(bz_http1_stats(p)->non_http);
	feed(p, &l, BZ_HTTP_IN, "T / HTTP/1.1\r\n\r\n");
	assert_int_equal(count(&l, BZ_HTTP_END), 1);
	finish(&p, &l, 1);
}

static void test_upgrade(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello");
	feed(p, &l, BZ_HTTP_IN, "\x81\x85....");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_UPGRADE);
	assert_true(bz_http1_stats(p)->upgraded);
	assert_int_equal(bz_http1_stats(p)->ignored[BZ_HTTP_OUT], 7);
	assert_false(r->flags & BZ_HTTP_F_H2C);
	finish(&p, &l, 1);
	/* h2c (RFC 7540 3.2): the 101 says so; the bytes after it in its write
	 * (the server's SETTINGS) are what the analysis hands to HTTP/2 */
	p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n");
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
				 "\x10\x11\x12\x13\x14\x15\x16\x17\x18"); /* (feed takes a C string) */
	r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_UPGRADE);
	assert_true(r->flags & BZ_HTTP_F_H2C);
	assert_int_equal(r->index, 0);
	assert_int_equal(bz_http1_stats(p)->ignored[BZ_HTTP_OUT], 9);
	finish(&p, &l, 1);
}

static void test_client_role(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_OUT, 1, &l);
	feed(p, &l, BZ_HTTP_OUT, "GET /api/v1/items HTTP/1.1\r\nHost: backend\r\n\r\n");
	feed(p, &l, BZ_HTTP_IN, "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\n");
	feed(p, &l, BZ_HTTP_IN, "busy");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_int_equal(r->dir, BZ_HTTP_IN);
	assert_int_equal(r->status, 503);
	assert_int_equal(r->last.ts_ns, l.ts);
	finish(&p, &l, 1);
}

static void test_hostile_numbers(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_IN, 1, &l);
	feed(p, &l, BZ_HTTP_IN, "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n");
	assert_int_equal(nth(&l, BZ_HTTP_END, 0)->content_length, -1);
	feed(p, &l, BZ_HTTP_OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
				 "ffffffffffffffffff\r\n");
	feed(p, &l, BZ_HTTP_OUT, "garbage\r\n0\r\n\r\n");
	const struct bz_http_msg *r = nth(&l, BZ_HTTP_END, 1);
	assert_non_null(r);
	assert_true(r->flags & BZ_HTTP_F_GUESSED_END);
	/* a Content-Length of 0x7fffffff and 0xffffffff */
	feed(p, &l, BZ_HTTP_IN, "POST / HTTP/1.1\r\nContent-Length: 2147483647\r\n\r\n");
	feedc(p, &l, BZ_HTTP_IN, "x", 1, 0xffffffffu);
	assert_int_equal(count(&l, BZ_HTTP_END), 3);
	finish(&p, &l, 0);
}

static void test_endless_head_is_abandoned(void **state)
{
	struct log l;
	struct bz_http1 *p = mk(BZ_HTTP_DIR_UNKNOWN, 0, &l);
	feed(p, &l, BZ_HTTP_IN, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 5000; i++)
		feed(p, &l, BZ_HTTP_IN, "X-Junk: aaaaaaaaaaaaaaaaaaa\r\n");
	assert_int_equal(l.n, 0);
	assert_int_equal(bz_http1_stats(p)->malformed, 1);
	feed(p, &l, BZ_HTTP_IN, "\r\nGET /real HTTP/1.1\r\n\r\n");
	assert_string_equal(nth(&l, BZ_HTTP_END, 0)->target, "/real");
	finish(&p, &l, 0);
}

static void test_detectors(void **state)
{
	const uint8_t *u = (const uint8_t *)"GET / HTTP/1.1\r\n";
	assert_int_equal(bz_http1_is_request_start(u, 16), 2);
	assert_int_equal(bz_http1_is_request_start(u, 5), 1);
	assert_int_equal(bz_http1_is_request_start((const uint8_t *)"get / HTTP/1.1\r\n", 16), 0);
	assert_int_equal(bz_http1_is_status_start((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17), 2);
	assert_int_equal(bz_http1_is_status_start((const uint8_t *)"HTTP/1.1 600 OK\r\n", 17), 0);
	assert_int_equal(bz_http1_is_status_start((const uint8_t *)"HTTP/2 200\r\n", 12), 0);
	assert_int_equal(bz_http1_is_status_start(NULL, 0), 0);
	bz_http1_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_split_bytewise),
		cmocka_unit_test(test_content_length_beyond_snaplen),
		cmocka_unit_test(test_request_body_beyond_snaplen),
		cmocka_unit_test(test_chunked_large_chunks),
		cmocka_unit_test(test_chunked_lost_terminator_seen),
		cmocka_unit_test(test_chunked_lost_next_request),
		cmocka_unit_test(test_chunked_lost_same_direction_start),
		cmocka_unit_test(test_request_guess_ended_by_response),
		cmocka_unit_test(test_head_cut_by_snaplen),
		cmocka_unit_test(test_start_line_cut),
		cmocka_unit_test(test_long_request_line),
		cmocka_unit_test(test_100_continue),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_resync_midstream),
		cmocka_unit_test(test_resync_response_without_request),
		cmocka_unit_test(test_non_http_tls),
		cmocka_unit_test(test_non_http_server_first),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_client_role),
		cmocka_unit_test(test_hostile_numbers),
		cmocka_unit_test(test_endless_head_is_abandoned),
		cmocka_unit_test(test_detectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
