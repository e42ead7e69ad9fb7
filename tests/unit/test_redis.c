/* test_redis.c - Redis's RESP as the analyzer parses it (analyze/proto/
 * redis.c: requests, replies, pairing, pub/sub, RESP3, cut and joined
 * streams) and as the recorder masks it (record/redact_redis.c: what is
 * kept, cut at every byte, lengths, lost framing).  Byte streams are the
 * ones redis-py and redis-cli send (recorded with --no-redact) or built by
 * the protocol's specification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/proto.h"
#include "analyze/proto/redis.h"
#include "analyze/proto/resp.h"
#include "record/redact_wire.h"

/* ---- a parser and what it reported ------------------------------------------------ */

#define MAXMSG 256

struct got {
	struct bz_http_msg m[MAXMSG]; /* END events, in order */
	int n, heads;
};

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct got *g = u;
	if (ev == BZ_HTTP_HEAD) {
		g->heads++;
		return;
	}
	assert_true(g->n < MAXMSG);
	g->m[g->n++] = *m;
}

struct run {
	void *p;
	struct got g;
	uint64_t t;
};

static void run_new(struct run *r, int req_dir, int fresh)
{
	struct bz_proto_cfg cfg = { .req_dir = req_dir, .fresh = fresh, .cb = on_msg, .user = &r->g };
	memset(r, 0, sizeof(*r));
	assert_int_equal(bz_proto_redis.create(&r->p, &cfg), 0);
}

/* One read (dir 0, by the server) or write of len bytes, the first caplen known. */
static void feed_cut(struct run *r, int dir, const char *s, size_t caplen, size_t len)
{
	struct bz_http_read rd = { 0 };
	r->t += 1000;
	rd.at.ts_ns = r->t;
	rd.at.start_ns = r->t - 10;
	rd.len = (uint32_t)len;
	rd.caplen = (uint32_t)caplen;
	rd.data = (const uint8_t *)s;
	bz_proto_redis.feed(r->p, dir, &rd);
}

static void feed(struct run *r, int dir, const char *s) { feed_cut(r, dir, s, strlen(s), strlen(s)); }

/* Every byte fed is in exactly one bucket. */
static void check_accounting(struct run *r)
{
	const struct bz_proto_stats *st = bz_proto_redis.stats(r->p);
	for (int d = 0; d < 2; d++)
		assert_int_equal(st->fed[d], st->msg_bytes[d] + st->skipped[d] + st->ignored[d]);
}

static void run_end(struct run *r)
{
	bz_proto_redis.flush(r->p, 1);
	check_accounting(r);
	bz_proto_redis.destroy(&r->p);
	assert_null(r->p);
}

static const struct bz_http_msg *req(struct run *r, uint64_t index)
{
	for (int i = 0; i < r->g.n; i++)
		if (r->g.m[i].is_request && r->g.m[i].index == index)
			return &r->g.m[i];
	fail_msg("no request %llu", (unsigned long long)index);
	return NULL;
}

static const struct bz_http_msg *resp(struct run *r, uint64_t index)
{
	for (int i = 0; i < r->g.n; i++)
		if (!r->g.m[i].is_request && r->g.m[i].index == index)
			return &r->g.m[i];
	fail_msg("no response %llu", (unsigned long long)index);
	return NULL;
}

static int count(struct run *r, int is_request)
{
	int n = 0;
	for (int i = 0; i < r->g.n; i++)
		n += r->g.m[i].is_request == is_request;
	return n;
}

/* Client side: requests are written (BZ_HTTP_OUT), replies read. */
#define C BZ_HTTP_OUT
#define S BZ_HTTP_IN

/* ---- the parser ---------------------------------------------------------------------- */

/* redis-py's pipeline: three commands in one write, their replies in one read */
static void test_pipeline(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\n*3\r\n$3\r\nSET\r\n$6\r\nuser:2\r\n$6\r\nsecret\r\n"
		    "*3\r\n$6\r\nINCRBY\r\n$7\r\npipe:00\r\n$1\r\n1\r\n");
	feed(&r, S, "$5\r\nhello\r\n+OK\r\n:7\r\n");
	assert_int_equal(count(&r, 1), 3);
	assert_int_equal(count(&r, 0), 3);
	assert_string_equal(req(&r, 0)->db.operation, "GET");
	assert_string_equal(req(&r, 0)->db.query, "GET user:1");
	assert_string_equal(req(&r, 0)->db.system, "redis");
	assert_string_equal(req(&r, 0)->db.namespace_, "0");
	assert_string_equal(req(&r, 1)->db.query, "SET user:2 ?");
	assert_string_equal(req(&r, 2)->db.query, "INCRBY pipe:00 ?");
	assert_int_equal(req(&r, 0)->proto, BZ_PROTO_REDIS);
	assert_int_equal(req(&r, 0)->content_length, -1);
	/* each its own message, from the same write */
	assert_int_equal(req(&r, 0)->head_bytes + req(&r, 0)->body_bytes, 25);
	assert_int_equal(req(&r, 0)->first.ts_ns, req(&r, 2)->first.ts_ns);
	assert_int_equal(resp(&r, 0)->head_bytes + resp(&r, 0)->body_bytes, 11);
	assert_int_equal(resp(&r, 2)->last.ts_ns, resp(&r, 0)->last.ts_ns);
	assert_int_equal(resp(&r, 1)->db.error, 0);
	assert_string_equal(resp(&r, 1)->db.status, "");
	assert_int_equal(bz_proto_redis.req_dir(r.p), C);
	run_end(&r);
}

/* A command across writes and a reply across reads: first and last points. */
static void test_split_across_reads(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, S, 1); /* the server's view: commands are read */
	feed(&r, S, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1");
	uint64_t t0 = r.t;
	feed(&r, S, "0\r\n0123456789\r\n");
	assert_int_equal(count(&r, 1), 1);
	assert_int_equal(req(&r, 0)->first.ts_ns, t0);
	assert_int_equal(req(&r, 0)->last.ts_ns, r.t);
	feed(&r, C, "+O");
	feed(&r, C, "K\r\n");
	assert_int_equal(resp(&r, 0)->last.ts_ns, r.t);
	assert_int_equal(resp(&r, 0)->first.ts_ns, r.t - 1000);
	run_end(&r);
}

static void test_errors(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "*3\r\n$6\r\nINCRBY\r\n$6\r\nlist:1\r\n$1\r\n1\r\n*2\r\n$9\r\nNOSUCHCMD\r\n$1\r\nx\r\n");
	feed(&r, S, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
		    "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \r\n");
	/* RESP3's bulk error, and an error with masked text after its prefix */
	feed(&r, C, "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n");
	feed(&r, S, "!21\r\nSYNTAX invalid syntax\r\n-MOVED *********\r\n");
	assert_string_equal(resp(&r, 0)->db.status, "WRONGTYPE");
	assert_int_equal(resp(&r, 0)->db.error, 1);
	assert_string_equal(resp(&r, 1)->db.status, "ERR");
	assert_string_equal(resp(&r, 2)->db.status, "SYNTAX");
	assert_string_equal(resp(&r, 3)->db.status, "MOVED");
	assert_int_equal(resp(&r, 3)->db.error, 1);
	run_end(&r);
}

/* HELLO 3, then RESP3 replies: a map, a push that answers nothing, an
 * attribute before its reply, nulls, doubles, booleans, big numbers */
static void test_resp3(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
	feed(&r, S, "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n");
	assert_int_equal(resp(&r, 0)->db.rows, 2);
	assert_string_equal(req(&r, 0)->db.query, "HELLO ?");
	feed(&r, C, "*2\r\n$7\r\nHGETALL\r\n$2\r\nh1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$6\r\nZSCORE\r\n$1\r\nz\r\n"
		    "*2\r\n$6\r\nEXISTS\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n");
	feed(&r, S, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
		    "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n%1\r\n$1\r\na\r\n=8\r\ntxt:abcd\r\n"
		    "_\r\n,3.14\r\n#t\r\n(3492890328409238509324850943850943825024385\r\n");
	assert_int_equal(bz_redis_pushes(r.p), 1);
	assert_int_equal(count(&r, 0), 6);
	assert_int_equal(resp(&r, 1)->db.rows, 1); /* the map after the attribute */
	assert_int_equal(resp(&r, 2)->db.rows, -1);
	assert_int_equal(resp(&r, 5)->db.error, 0);
	/* a RESP3 subscribe: its confirmation comes as a push */
	feed(&r, C, "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n");
	feed(&r, S, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
	assert_int_equal(count(&r, 0), 7);
	assert_int_equal(resp(&r, 6)->index, 6);
	assert_int_equal(bz_redis_pushes(r.p), 2);
	run_end(&r);
}

/* RESP2 pub/sub: a SUBSCRIBE of two channels is answered by two
 * confirmations; the messages after answer nothing; in subscribe mode
 * PING's reply is an array; UNSUBSCRIBE of all, by what follows */
static void test_pubsub(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n");
	feed(&r, S, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
	assert_int_equal(count(&r, 0), 0); /* one of two */
	feed(&r, S, "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
	assert_int_equal(count(&r, 0), 1);
	assert_int_equal(resp(&r, 0)->head_bytes + resp(&r, 0)->body_bytes, 2 * 30);
	feed(&r, S, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n*4\r\n$8\r\npmessage\r\n$2\r\nb*\r\n$1\r\nb\r\n$1\r\nx\r\n");
	assert_int_equal(bz_redis_pushes(r.p), 2);
	assert_int_equal(count(&r, 0), 1);
	feed(&r, C, "*1\r\n$4\r\nPING\r\n");
	feed(&r, S, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
	assert_int_equal(resp(&r, 1)->db.rows, 2);
	feed(&r, C, "*1\r\n$11\r\nUNSUBSCRIBE\r\n");
	feed(&r, S, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n");
	feed(&r, C, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	feed(&r, S, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nv\r\n"); /* no longer subscribed: GET's reply */
	assert_int_equal(count(&r, 1), 4);
	assert_int_equal(count(&r, 0), 4);
	assert_int_equal(resp(&r, 3)->db.rows, 3);
	assert_int_equal(bz_redis_pushes(r.p), 2);
	run_end(&r);
}

static void test_multi_exec(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\ntx:1\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$4\r\ntx:2\r\n"
		    "*1\r\n$4\r\nEXEC\r\n");
	feed(&r, S, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n");
	assert_int_equal(count(&r, 1), 4);
	assert_int_equal(count(&r, 0), 4);
	assert_string_equal(req(&r, 3)->db.operation, "EXEC");
	assert_int_equal(resp(&r, 3)->db.rows, 2);
	run_end(&r);
}

/* telnet-style inline commands, SELECT's namespace, a container command */
static void test_inline_and_namespace(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "PING\r\nset k  v\r\n\r\nSELECT 5\r\n");
	feed(&r, S, "+PONG\r\n+OK\r\n+OK\r\n");
	feed(&r, C, "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$7\r\nmaxconn\r\n*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n");
	feed(&r, S, "*0\r\n+OK\r\n");
	assert_int_equal(count(&r, 1), 5);
	assert_string_equal(req(&r, 0)->db.query, "PING");
	assert_string_equal(req(&r, 1)->db.operation, "SET");
	assert_string_equal(req(&r, 1)->db.query, "SET k ?");
	assert_string_equal(req(&r, 1)->db.namespace_, "0");
	assert_string_equal(req(&r, 2)->db.query, "SELECT ?");
	assert_string_equal(req(&r, 3)->db.operation, "CONFIG GET");
	assert_string_equal(req(&r, 3)->db.query, "CONFIG GET ?");
	assert_string_equal(req(&r, 3)->db.namespace_, "5");
	assert_string_equal(req(&r, 4)->db.query, "AUTH ?");
	assert_int_equal(resp(&r, 3)->db.rows, 0);
	run_end(&r);
}

/* A bulk value longer than the snap length: skipped by count. */
static void test_cut_bulk(void **state)
{
	struct run r;
	char big[2100];
	(void)state;
	run_new(&r, C, 1);
	snprintf(big, sizeof(big), "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$2000\r\n");
	size_t h = strlen(big);
	memset(big + h, 'x', 2000);
	memcpy(big + h + 2000, "\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n", 25);
	feed_cut(&r, C, big, 512, h + 2002); /* the SET, cut */
	feed(&r, C, big + h + 2002);          /* then a GET in its own write */
	feed_cut(&r, S, "+OK\r\n$2000\r\nxxxx", 16, 5 + 7 + 2002);
	assert_int_equal(count(&r, 1), 2);
	assert_int_equal(count(&r, 0), 2);
	assert_int_equal(req(&r, 0)->head_bytes + req(&r, 0)->body_bytes, h + 2002);
	assert_int_equal(req(&r, 0)->flags & BZ_HTTP_F_HEAD_CUT, 0);
	assert_int_equal(resp(&r, 1)->head_bytes + resp(&r, 1)->body_bytes, 7 + 2002);
	run_end(&r);
}

/* A pipeline bigger than the snap length: the commands past the captured
 * part are not invented; the one cut is reported; the next write resyncs. */
static void test_cut_pipeline(void **state)
{
	struct run r;
	char buf[4096] = "";
	(void)state;
	run_new(&r, C, 1);
	for (int i = 0; i < 100; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "*2\r\n$4\r\nINCR\r\n$6\r\npipe%02d\r\n", i);
	assert_int_equal(strlen(buf), 2600);
	feed_cut(&r, C, buf, 512, 2600);
	/* 19 whole commands and a 20th whose key was cut: its end is known
	 * by count; what follows is not */
	assert_int_equal(count(&r, 1), 20);
	assert_string_equal(req(&r, 19)->db.query, "INCR ...");
	assert_int_equal(bz_proto_redis.stats(r.p)->skipped[C], 2600 - 20 * 26);
	char rep[1024] = "";
	for (int i = 0; i < 100; i++)
		snprintf(rep + strlen(rep), sizeof(rep) - strlen(rep), ":%d\r\n", i % 10);
	feed(&r, S, rep);
	assert_int_equal(count(&r, 0), 100); /* 80 of them answer nothing known */
	int orphans = 0;
	for (int i = 0; i < r.g.n; i++)
		orphans += !r.g.m[i].is_request && (r.g.m[i].flags & BZ_HTTP_F_NO_REQUEST);
	assert_int_equal(orphans, 80);
	feed(&r, C, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	feed(&r, S, "$1\r\nv\r\n");
	assert_true(req(&r, 20)->flags & BZ_HTTP_F_RESYNC);
	assert_string_equal(req(&r, 20)->db.query, "GET k");
	assert_int_equal(resp(&r, 20)->index, 20);
	assert_true(bz_proto_redis.stats(r.p)->resyncs >= 1);
	run_end(&r);
}

/* The replies' framing lost: the commands waiting end incomplete. */
static void test_cut_replies(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
	feed_cut(&r, S, "$3\r\nabc\r\n$3\r\nab", 14, 27);
	assert_int_equal(count(&r, 0), 3);
	assert_int_equal(resp(&r, 0)->flags & (BZ_HTTP_F_HEAD_CUT | BZ_HTTP_F_INCOMPLETE), 0);
	assert_int_equal(resp(&r, 1)->flags & BZ_HTTP_F_HEAD_CUT, 0); /* (its bulk was skipped by count) */
	assert_true(resp(&r, 2)->flags & (BZ_HTTP_F_HEAD_CUT | BZ_HTTP_F_INCOMPLETE));
	run_end(&r);
}

/* Joined mid-way, role unknown: the middle of a reply, then a command
 * and its reply */
static void test_joined(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, BZ_HTTP_DIR_UNKNOWN, 0);
	feed(&r, S, "lue-of-earlier\r\n");
	feed(&r, C, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	feed(&r, S, "$1\r\nv\r\n");
	assert_int_equal(bz_proto_redis.req_dir(r.p), C);
	assert_int_equal(count(&r, 1), 1);
	assert_int_equal(resp(&r, 0)->index, 0);
	assert_string_equal(req(&r, 0)->db.namespace_, ""); /* unknown */
	assert_int_equal(bz_proto_redis.stats(r.p)->skipped[S], 16);
	run_end(&r);
}

/* Closed mid-command and mid-reply: reported incomplete. */
static void test_flush(void **state)
{
	struct run r;
	(void)state;
	run_new(&r, C, 1);
	feed(&r, C, "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1");
	feed(&r, S, "$10\r\nabc");
	bz_proto_redis.flush(r.p, 1);
	assert_int_equal(count(&r, 1), 2);
	assert_true(req(&r, 1)->flags & BZ_HTTP_F_INCOMPLETE);
	assert_true(resp(&r, 0)->flags & BZ_HTTP_F_INCOMPLETE);
	check_accounting(&r);
	bz_proto_redis.destroy(&r.p);
}

static void test_detect(void **state)
{
	const struct bz_proto_ops *ops = &bz_proto_redis;
	(void)state;
#define D(s, fresh) ops->detect((const uint8_t *)(s), sizeof(s) - 1, 0, fresh)
	assert_int_equal(D("*1\r\n$4\r\nPING\r\n", 1), BZ_PROTO_YES);
	assert_int_equal(D("*3\r\n$3\r\nSET\r\n$1\r\nk", 1), BZ_PROTO_YES);
	assert_int_equal(D("*3\r\n$3\r\nSE", 1), BZ_PROTO_MAYBE);
	assert_int_equal(D("PING\r\n", 1), BZ_PROTO_YES);
	assert_int_equal(D("info server\r\n", 1), BZ_PROTO_YES);
	assert_int_equal(D("GET k\r\n", 1), BZ_PROTO_NO); /* an HTTP method */
	assert_int_equal(D("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("SET / HTTP/1.1\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("POST /x HTTP/1.1\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("HTTP/1.1 200 OK\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 1), BZ_PROTO_NO);
	assert_int_equal(D("*0\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("*1\r\n$4\r\n1234\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("PINGX\r\n", 1), BZ_PROTO_NO);
	/* text that begins with a command's name is not taken for one typed by hand */
	assert_int_equal(D("hello folded continuation\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("Set-Cookie: a\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("+OK\r\n", 1), BZ_PROTO_NO);
	assert_int_equal(D("+OK\r\n", 0), BZ_PROTO_MAYBE);
	assert_int_equal(D(":12\r\n", 0), BZ_PROTO_MAYBE);
#undef D
	/* the table: a command is Redis, an HTTP request HTTP/1, a preface HTTP/2 */
	{
		const uint8_t *p[2] = { (const uint8_t *)"*1\r\n$4\r\nPING\r\n", NULL };
		size_t n[2] = { 14, 0 };
		assert_ptr_equal(bz_proto_pick(p, n, 1, NULL), &bz_proto_redis);
		p[0] = (const uint8_t *)"GET / HTTP/1.1\r\n\r\n";
		n[0] = 18;
		assert_string_equal(bz_proto_pick(p, n, 1, NULL)->name, "http/1");
		p[0] = (const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
		n[0] = 24;
		assert_string_equal(bz_proto_pick(p, n, 1, NULL)->name, "http/2");
	}
}

/* ---- the masker ---------------------------------------------------------------------- */

struct masker {
	void *st;
};

static void masker_new(struct masker *m, unsigned client_dir, int joined)
{
	m->st = calloc(1, rd_wire_redis.state_size);
	assert_non_null(m->st);
	rd_wire_redis.init(m->st, client_dir, joined);
}

static void masker_free(struct masker *m) { free(m->st); }

#define OUT RD_WIRE_OUT
#define IN RD_WIRE_IN

/* s masked as one payload of direction dir (client writes) is want, and
 * so it is cut in two at every byte; lengths never change. */
static void check_mask_dir(unsigned dir, const char *s, const char *want)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1);
	struct masker m;

	assert_int_equal(strlen(want), n);
	masker_new(&m, OUT, 0);
	memcpy(out, s, n + 1);
	rd_wire_redis.data(m.st, dir, (uint8_t *)out, n, n);
	if (strcmp(out, want))
		fail_msg("whole:\n  got  \"%s\"\n  want \"%s\"", out, want);
	masker_free(&m);
	for (size_t cut = 0; cut <= n; cut++) {
		masker_new(&m, OUT, 0);
		memcpy(out, s, n + 1);
		if (cut)
			rd_wire_redis.data(m.st, dir, (uint8_t *)out, cut, cut);
		if (n - cut)
			rd_wire_redis.data(m.st, dir, (uint8_t *)out + cut, n - cut, n - cut);
		if (strcmp(out, want))
			fail_msg("cut at %zu:\n  got  \"%s\"\n  want \"%s\"", cut, out, want);
		masker_free(&m);
	}
	free(out);
}

static void test_mask_commands(void **state)
{
	(void)state;
	/* redis-py's AUTH and its SET of a secret value */
	check_mask_dir(OUT, "*2\r\n$4\r\nAUTH\r\n$10\r\nSECRETPASS\r\n", "*2\r\n$4\r\nAUTH\r\n$10\r\n**********\r\n");
	check_mask_dir(OUT, "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$3\r\npw1\r\n",
		       "*3\r\n$4\r\nAUTH\r\n$5\r\n*****\r\n$3\r\n***\r\n");
	check_mask_dir(OUT, "*3\r\n$3\r\nSET\r\n$6\r\nuser:1\r\n$12\r\nSECRETVALUE1\r\n",
		       "*3\r\n$3\r\nSET\r\n$6\r\nuser:1\r\n$12\r\n************\r\n");
	check_mask_dir(OUT, "*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\n", "*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\n");
	/* HELLO 3 AUTH default pw SETNAME x: all of it */
	check_mask_dir(OUT, "*6\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$2\r\npw\r\n$1\r\nx\r\n",
		       "*6\r\n$5\r\nHELLO\r\n$1\r\n*\r\n$4\r\n****\r\n$7\r\n*******\r\n$2\r\n**\r\n$1\r\n*\r\n");
	/* containers keep their subcommand; SELECT its index */
	check_mask_dir(OUT, "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$3\r\nnew\r\n",
		       "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\n***********\r\n$3\r\n***\r\n");
	check_mask_dir(OUT, "*4\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$5\r\nalice\r\n$4\r\n>pw1\r\n",
		       "*4\r\n$3\r\nACL\r\n$7\r\nSETUSER\r\n$5\r\n*****\r\n$4\r\n****\r\n");
	check_mask_dir(OUT, "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n", "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n");
	check_mask_dir(OUT, "*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n",
		       "*3\r\n$4\r\nEVAL\r\n$8\r\n********\r\n$1\r\n*\r\n");
	/* inline commands */
	check_mask_dir(OUT, "AUTH SECRETPASS\r\nset k value\r\nPING\r\n", "AUTH **********\r\nset k *****\r\nPING\r\n");
	/* an unknown inline command keeps nothing after its first word */
	check_mask_dir(OUT, "NOSUCH secret 123\r\nCookie: abc\r\n", "NOSUCH ****** ***\r\nCookie: ***\r\n");
	/* pipelined, with lowercase names */
	check_mask_dir(OUT, "*3\r\n$3\r\nset\r\n$1\r\na\r\n$2\r\nv1\r\n*3\r\n$7\r\npublish\r\n$2\r\nch\r\n$3\r\nmsg\r\n",
		       "*3\r\n$3\r\nset\r\n$1\r\na\r\n$2\r\n**\r\n*3\r\n$7\r\npublish\r\n$2\r\nch\r\n$3\r\n***\r\n");
}

static void test_mask_replies(void **state)
{
	(void)state;
	check_mask_dir(IN, "$12\r\nSECRETVALUE1\r\n+OK\r\n+QUEUED\r\n:42\r\n$-1\r\n*-1\r\n",
		       "$12\r\n************\r\n+OK\r\n+QUEUED\r\n:42\r\n$-1\r\n*-1\r\n");
	/* simple strings other than status words (a prefix of one stays: "h" of
	 * "hash"); errors after their prefix */
	check_mask_dir(IN, "+PONG\r\n+OKAY\r\n+hello\r\n+string\r\n-WRONGTYPE Operation against a key\r\n",
		       "+PONG\r\n+OK**\r\n+h****\r\n+string\r\n-WRONGTYPE ***********************\r\n");
	/* arrays, maps, sets, RESP3 scalars, nested */
	check_mask_dir(IN, "*2\r\n$1\r\na\r\n*1\r\n$2\r\nbc\r\n%1\r\n+key\r\n=8\r\ntxt:abcd\r\n~1\r\n,3.5\r\n(123\r\n#t\r\n_\r\n",
		       "*2\r\n$1\r\n*\r\n*1\r\n$2\r\n**\r\n%1\r\n+***\r\n=8\r\n********\r\n~1\r\n,0.0\r\n(000\r\n#t\r\n_\r\n");
	/* pub/sub: the kind word stays, the channel and message go */
	check_mask_dir(IN, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$10\r\nSECRETMSG0\r\n>3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
		       "*3\r\n$7\r\nmessage\r\n$4\r\n****\r\n$10\r\n**********\r\n>3\r\n$9\r\nsubscribe\r\n$2\r\n**\r\n:1\r\n");
	/* not a word of that length, or not first */
	check_mask_dir(IN, "*2\r\n$7\r\nmassage\r\n$7\r\nmessage\r\n", "*2\r\n$7\r\nm******\r\n$7\r\n*******\r\n");
	/* RESP3 bulk error */
	check_mask_dir(IN, "!21\r\nSYNTAX invalid syntax\r\n", "!21\r\nSYNTAX **************\r\n");
}

/* Bytes not captured: skipped by count in a bulk string; elsewhere the
 * framing is lost and the direction is masked whole until a payload
 * begins a command (commands), or a reply after the client wrote
 * (replies). */
static void test_mask_lost(void **state)
{
	struct masker m;
	char a[64], b[64];
	(void)state;
	masker_new(&m, OUT, 0);
	/* SET k <20 bytes>, 10 of them captured; then a GET, whole */
	strcpy(a, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20\r\n0123456789");
	rd_wire_redis.data(m.st, OUT, (uint8_t *)a, strlen(a), strlen(a) + 12);
	assert_string_equal(a, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20\r\n**********");
	strcpy(b, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	rd_wire_redis.data(m.st, OUT, (uint8_t *)b, strlen(b), strlen(b));
	assert_string_equal(b, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	/* a command cut in its header line (a pipeline past the snap
	 * length): the framing is lost; a payload that does not begin a
	 * command is masked whole ... */
	strcpy(a, "*2\r\n$3\r\nGET\r\n$1");
	rd_wire_redis.data(m.st, OUT, (uint8_t *)a, strlen(a), strlen(a) + 5);
	strcpy(b, "\r\nk\r\n*1\r\n$4\r\nPING\r\n");
	assert_int_equal(rd_wire_redis.data(m.st, OUT, (uint8_t *)b, strlen(b), strlen(b)), strlen(b));
	for (size_t i = 0; i < strlen(b); i++)
		assert_int_equal(b[i], '*');
	/* ... and the next that begins one restarts the framing */
	strcpy(b, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nSECRET\r\n");
	rd_wire_redis.data(m.st, OUT, (uint8_t *)b, strlen(b), strlen(b));
	assert_string_equal(b, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n******\r\n");
	/* the other direction goes on */
	strcpy(a, "$1\r\nv\r\n");
	rd_wire_redis.data(m.st, IN, (uint8_t *)a, strlen(a), strlen(a));
	assert_string_equal(a, "$1\r\n*\r\n");
	/* not RESP where an element should begin: the rest is masked ... */
	strcpy(a, "+OK\r\n?junk SECRET\r\n");
	rd_wire_redis.data(m.st, IN, (uint8_t *)a, strlen(a), strlen(a));
	assert_string_equal(a, "+OK\r\n**************");
	/* ... even a payload that looks like a reply, until the client has
	 * written again (a reply's middle may look like one) ... */
	strcpy(a, ":1\r\n$6\r\nSECRET\r\n");
	rd_wire_redis.data(m.st, IN, (uint8_t *)a, strlen(a), strlen(a));
	for (size_t i = 0; i < strlen(a); i++)
		assert_int_equal(a[i], '*');
	strcpy(b, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	rd_wire_redis.data(m.st, OUT, (uint8_t *)b, strlen(b), strlen(b));
	/* ... then the reply to it is followed */
	strcpy(a, "$6\r\nSECRET\r\n");
	rd_wire_redis.data(m.st, IN, (uint8_t *)a, strlen(a), strlen(a));
	assert_string_equal(a, "$6\r\n******\r\n");
	masker_free(&m);

	/* joined mid-way: a direction is followed from a payload that starts
	 * an element, else masked whole */
	masker_new(&m, OUT, 1);
	strcpy(a, "RETVALUE\r\n*2\r\n$3\r\nGET\r\n");
	rd_wire_redis.data(m.st, IN, (uint8_t *)a, strlen(a), strlen(a));
	for (size_t i = 0; i < strlen(a); i++)
		assert_int_equal(a[i], '*');
	strcpy(b, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	rd_wire_redis.data(m.st, OUT, (uint8_t *)b, strlen(b), strlen(b));
	assert_string_equal(b, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	masker_free(&m);
}

static void test_mask_detect(void **state)
{
	unsigned cd = 9;
	(void)state;
#define MD(s, dir, joined) rd_wire_redis.detect((const uint8_t *)(s), sizeof(s) - 1, dir, joined, &cd)
	assert_int_equal(MD("*2\r\n$4\r\nAUTH\r\n$10\r\nSECRETPASS\r\n", OUT, 0), RD_WIRE_YES);
	assert_int_equal(cd, OUT);
	assert_int_equal(MD("*1\r\n$4\r\nPING\r\n", IN, 0), RD_WIRE_YES);
	assert_int_equal(cd, IN);
	assert_int_equal(MD("AUTH pw\r\n", OUT, 0), RD_WIRE_YES);
	assert_int_equal(MD("GET / HTTP/1.1\r\n\r\n", OUT, 0), RD_WIRE_NO);
	assert_int_equal(MD("GET k\r\n", OUT, 0), RD_WIRE_NO);
	assert_int_equal(MD("HTTP/1.1 200 OK\r\n", IN, 1), RD_WIRE_NO);
	assert_int_equal(MD("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", OUT, 0), RD_WIRE_NO);
	assert_int_equal(MD("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", OUT, 0), RD_WIRE_NO);
	assert_int_equal(MD("+OK\r\n", IN, 0), RD_WIRE_NO);
	/* joined: a whole reply, or a subscriber's message, says which way */
	assert_int_equal(MD("+OK\r\n", IN, 1), RD_WIRE_YES);
	assert_int_equal(cd, OUT);
	assert_int_equal(MD("$3\r\nabc\r\n", IN, 1), RD_WIRE_YES);
	assert_int_equal(MD("$3\r\nabcd\r\n", IN, 1), RD_WIRE_NO);
	assert_int_equal(MD("+OK\r\nmore", IN, 1), RD_WIRE_NO);
	assert_int_equal(MD("*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n", IN, 1), RD_WIRE_YES);
	assert_int_equal(cd, OUT);
#undef MD
}

/* A masked stream parses as the unmasked one: same calls, same errors. */
static void test_masked_parses(void **state)
{
	char cmd[] = "*2\r\n$4\r\nAUTH\r\n$10\r\nSECRETPASS\r\n*3\r\n$3\r\nSET\r\n$6\r\nuser:1\r\n$6\r\nSECRET\r\n"
		     "*3\r\n$6\r\nINCRBY\r\n$6\r\nuser:1\r\n$1\r\n1\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n";
	char rep[] = "+OK\r\n+OK\r\n-WRONGTYPE Operation against a key\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
		     "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$6\r\nSECRET\r\n";
	struct masker m;
	struct run r;
	(void)state;
	masker_new(&m, OUT, 0);
	rd_wire_redis.data(m.st, OUT, (uint8_t *)cmd, strlen(cmd), strlen(cmd));
	rd_wire_redis.data(m.st, IN, (uint8_t *)rep, strlen(rep), strlen(rep));
	masker_free(&m);
	assert_null(strstr(cmd, "SECRET"));
	assert_null(strstr(rep, "SECRET"));
	run_new(&r, C, 1);
	feed(&r, C, cmd);
	feed(&r, S, rep);
	assert_int_equal(count(&r, 1), 4);
	assert_int_equal(count(&r, 0), 4);
	assert_string_equal(req(&r, 0)->db.query, "AUTH ?");
	assert_string_equal(req(&r, 1)->db.query, "SET user:1 ?");
	assert_string_equal(resp(&r, 2)->db.status, "WRONGTYPE");
	assert_int_equal(bz_redis_pushes(r.p), 1);
	run_end(&r);
}

/* Through the recorder's dispatch (redact_wire.c): the connection is
 * claimed as Redis and masked; its state, with 64-bit members, is aligned
 * (a misaligned one is undefined behaviour: the sanitizer build says so). */
static void test_wire_dispatch(void **state)
{
	struct rd_wire *w = NULL;
	struct rd_wire_stats st;
	char a[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\nSECRET\r\n";
	char b[] = "$6\r\nSECRET\r\n";
	size_t masked = 0;
	(void)state;
	assert_int_equal(rd_wire_new(&w), 0);
	assert_int_equal(rd_wire_data(w, 7, 1, 0, (uint8_t *)a, strlen(a), (int64_t)strlen(a), &masked), 1);
	assert_int_equal(masked, 6);
	assert_string_equal(a, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n******\r\n");
	assert_int_equal(rd_wire_data(w, 7, 0, 0, (uint8_t *)b, strlen(b), (int64_t)strlen(b), &masked), 1);
	assert_string_equal(b, "$6\r\n******\r\n");
	rd_wire_get_stats(w, &st);
	assert_int_equal(st.conns[2], 1);
	/* an HTTP connection is not claimed */
	char h[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	assert_int_equal(rd_wire_data(w, 8, 1, 0, (uint8_t *)h, strlen(h), (int64_t)strlen(h), &masked), 0);
	rd_wire_forget(w, 7);
	rd_wire_free(&w);
	assert_null(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_split_across_reads),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_resp3),
		cmocka_unit_test(test_pubsub),
		cmocka_unit_test(test_multi_exec),
		cmocka_unit_test(test_inline_and_namespace),
		cmocka_unit_test(test_cut_bulk),
		cmocka_unit_test(test_cut_pipeline),
		cmocka_unit_test(test_cut_replies),
		cmocka_unit_test(test_joined),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_mask_commands),
		cmocka_unit_test(test_mask_replies),
		cmocka_unit_test(test_mask_lost),
		cmocka_unit_test(test_mask_detect),
		cmocka_unit_test(test_masked_parses),
		cmocka_unit_test(test_wire_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
