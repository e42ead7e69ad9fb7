/* test_mysql.c - the MySQL / MariaDB protocol: the analyzer's parser
 * (analyze/proto/mysql.c) and the recorder's masker (record/redact_mysql.c)
 * on real conversations with MariaDB 10.11 (mysql_streams.h) and on
 * streams built from the protocol's documentation: calls and their
 * attributes, errors, prepared statements, multiple results, payloads cut
 * at every byte, bytes not captured, a connection joined mid-way; the
 * masker's secrets (literals, parameters, rows, the scramble and the auth
 * response), lengths kept, the same output whatever the cuts, framing loss
 * masking the rest, and the parser reading the masked stream as the
 * original. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/mysql.h"
#include "analyze/proto/mysql_wire.h"
#include "analyze/proto/proto.h"
#include "record/redact_wire.h"
#include "mysql_streams.h"

#define NCHUNKS(a) (sizeof(a) / sizeof(a[0]))
#define MAXMSG 64

/* ---- the parser's messages, as text -------------------------------------------- */

struct got {
	struct bz_http_msg req[MAXMSG], resp[MAXMSG];
	int nreq, nresp, heads, ends;
};

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct got *g = u;

	assert_int_equal(m->proto, BZ_PROTO_MYSQL);
	if (ev == BZ_HTTP_HEAD) {
		g->heads++;
		return;
	}
	g->ends++;
	if (m->is_request && g->nreq < MAXMSG)
		g->req[g->nreq++] = *m;
	else if (!m->is_request && g->nresp < MAXMSG)
		g->resp[g->nresp++] = *m;
}

/* How a stream is fed. */
struct how {
	int fresh;
	int req_dir;       /* BZ_HTTP_OUT: the client recorded */
	size_t from;       /* first chunk fed */
	size_t split;      /* > 0: every chunk cut into reads of this many bytes */
	uint32_t caplen;   /* > 0: bytes captured of each read at most */
	int closed;
};

static struct got *parse(const struct my_chunk *c, size_t n, const struct how *h, uint8_t *const *masked)
{
	struct got *g = calloc(1, sizeof(*g));
	struct bz_proto_cfg cfg = { .req_dir = h->req_dir, .fresh = h->fresh, .cb = on_msg, .user = g };
	const struct bz_proto_stats *st;
	uint64_t fed[2] = { 0, 0 }, ts = 1000;
	void *p = NULL;

	assert_non_null(g);
	assert_int_equal(bz_proto_mysql.create(&p, &cfg), 0);
	for (size_t i = h->from; i < n; i++) {
		const uint8_t *b = masked ? masked[i] : (const uint8_t *)c[i].b;
		size_t step = h->split ? h->split : c[i].len;
		for (size_t off = 0; off < c[i].len; off += step) {
			struct bz_http_read rd = { 0 };
			rd.at.ts_ns = ts += 10;
			rd.at.start_ns = ts - 5;
			rd.len = (uint32_t)(c[i].len - off < step ? c[i].len - off : step);
			rd.caplen = h->caplen && h->caplen < rd.len ? h->caplen : rd.len;
			rd.data = b + off;
			fed[c[i].dir] += rd.len;
			bz_proto_mysql.feed(p, c[i].dir, &rd);
		}
	}
	bz_proto_mysql.flush(p, h->closed);
	st = bz_proto_mysql.stats(p);
	/* every byte in exactly one place */
	for (int d = 0; d < 2; d++) {
		assert_int_equal(st->fed[d], fed[d]);
		assert_int_equal(st->fed[d], st->msg_bytes[d] + st->skipped[d] + st->ignored[d]);
	}
	assert_int_equal(g->heads, g->ends);
	bz_proto_mysql.destroy(&p);
	assert_null(p);
	return g;
}

/* One line per call: "op|collection|query|ns|system|batch -> status|error|rows". */
static void calls_text(const struct got *g, char *out, size_t cap)
{
	size_t k = 0;

	out[0] = 0;
	for (int i = 0; i < g->nreq; i++) {
		const struct bz_http_msg *q = &g->req[i], *r = NULL;
		for (int j = 0; j < g->nresp; j++)
			if (g->resp[j].index == q->index)
				r = &g->resp[j];
		k += (size_t)snprintf(out + k, cap - k, "%s|%s|%s|%s|%s|%u -> ", q->db.operation, q->db.collection,
				      q->db.query, q->db.namespace_, q->db.system, q->db.batch ? q->db.batch_size : 0);
		if (r)
			k += (size_t)snprintf(out + k, cap - k, "%s|%d|%lld\n", r->db.status, r->db.error,
					      (long long)r->db.rows);
		else
			k += (size_t)snprintf(out + k, cap - k, "none\n");
		assert_true(k < cap);
	}
}

static const char PY_CALLS[] =
	"SET||SET NAMES utf8mb4|shop|mariadb|0 -> |0|-1\n"
	"INSERT|items|INSERT INTO items (id, name, secret) VALUES (?, ?, ?)|shop|mariadb|0 -> |0|-1\n"
	"SELECT|items|SELECT id, name FROM items WHERE id = ?|shop|mariadb|0 -> |0|1\n"
	"INSERT|items|INSERT INTO items (id, name, secret) VALUES (?, ?, ?)|shop|mariadb|0 -> 1062|1|-1\n"
	"SELEC||SELEC ?|shop|mariadb|0 -> 1064|1|-1\n"
	"BATCH SELECT||SELECT ?; SELECT name FROM items|shop|mariadb|2 -> |0|2\n"
	"PREPARE|items|SELECT name FROM items WHERE id = ?|shop|mariadb|0 -> |0|-1\n"
	"SELECT|items|SELECT name FROM items WHERE id = ?|shop|mariadb|0 -> |0|1\n"
	"PREPARE|items|INSERT INTO items (id, name, secret) VALUES (?, ?, ?)|shop|mariadb|0 -> |0|-1\n"
	"INSERT|items|INSERT INTO items (id, name, secret) VALUES (?, ?, ?)|shop|mariadb|0 -> |0|-1\n"
	"SELECT|items|SELECT secret FROM items ORDER BY id|shop|mariadb|0 -> |0|2\n"
	"PING|||shop|mariadb|0 -> |0|-1\n";

static void check_py_calls(const struct got *g)
{
	char text[8192];

	calls_text(g, text, sizeof(text));
	assert_string_equal(text, PY_CALLS);
}

static const struct how CLIENT_SIDE = { .fresh = 1, .req_dir = BZ_HTTP_OUT, .closed = 1 };

static void test_pymysql_session(void **state)
{
	struct got *g;
	(void)state;

	g = parse(py_session, NCHUNKS(py_session), &CLIENT_SIDE, NULL);
	check_py_calls(g);
	/* requests numbered in order, their answers in the same order; times
	 * from the first byte's read to the last's */
	for (int i = 0; i < g->nreq; i++) {
		assert_int_equal(g->req[i].index, (uint64_t)i);
		assert_int_equal(g->resp[i].index, (uint64_t)i);
		assert_true(g->resp[i].first.ts_ns > g->req[i].last.ts_ns);
		assert_true(g->resp[i].last.ts_ns >= g->resp[i].first.ts_ns);
		assert_int_equal(g->req[i].flags & (BZ_HTTP_F_RESYNC | BZ_HTTP_F_INCOMPLETE), 0);
		assert_int_equal(g->resp[i].flags & (BZ_HTTP_F_GUESSED_END | BZ_HTTP_F_INCOMPLETE), 0);
		assert_int_equal(g->req[i].content_length, -1);
	}
	free(g);
}

/* The same calls whatever the reads' sizes: every chunk cut into reads
 * of 1, 2, 3... bytes. */
static void test_cut_payloads(void **state)
{
	(void)state;
	for (size_t split = 1; split <= 64; split++) {
		struct how h = CLIENT_SIDE;
		struct got *g;
		h.split = split;
		g = parse(py_session, NCHUNKS(py_session), &h, NULL);
		check_py_calls(g);
		free(g);
	}
}

static void test_cli_session(void **state)
{
	char text[4096];
	struct got *g;
	(void)state;

	g = parse(cli_session, NCHUNKS(cli_session), &CLIENT_SIDE, NULL);
	calls_text(g, text, sizeof(text));
	/* (COM_QUIT is no call) */
	assert_string_equal(text, "SELECT|items|SELECT id, name FROM items|shop|mariadb|0 -> |0|2\n"
				  "INSERT|items|INSERT INTO items VALUES (?,?,?)|shop|mariadb|0 -> 1062|1|-1\n");
	free(g);
}

/* The server's side of the same conversation: requests read, answers
 * written. */
static void test_server_side(void **state)
{
	struct my_chunk flipped[NCHUNKS(py_session)];
	struct how h = { .fresh = 1, .req_dir = BZ_HTTP_IN, .closed = 1 };
	struct got *g;
	(void)state;

	for (size_t i = 0; i < NCHUNKS(py_session); i++) {
		flipped[i] = py_session[i];
		flipped[i].dir = !py_session[i].dir;
	}
	g = parse(flipped, NCHUNKS(flipped), &h, NULL);
	check_py_calls(g);
	assert_int_equal(g->req[0].dir, BZ_HTTP_IN);
	free(g);
	/* and the direction learnt from the greeting */
	h.req_dir = BZ_HTTP_DIR_UNKNOWN;
	g = parse(flipped, NCHUNKS(flipped), &h, NULL);
	check_py_calls(g);
	free(g);
}

/* Reads captured only in part: every call still seen and answered (by
 * counting, or at the next command when a header was lost); bytes
 * accounted for; a call whose text was not captured is its command's name. */
static void test_uncaptured(void **state)
{
	(void)state;
	for (uint32_t cap = 5; cap <= 120; cap += 5) {
		struct how h = CLIENT_SIDE;
		struct got *g;
		h.caplen = cap;
		g = parse(py_session, NCHUNKS(py_session), &h, NULL);
		/* (the two COM_STMT_CLOSE and the SELECT after them came in one
		 * read: below 23 bytes, the SELECT's header is lost with the
		 * client's framing, taken up again at the PING) */
		if (g->nreq != (cap >= 23 ? 12 : 11) || g->nresp != g->nreq) {
			char text[8192];
			calls_text(g, text, sizeof(text));
			fail_msg("snap length %u: %d calls, %d answers:\n%s", cap, g->nreq, g->nresp, text);
		}
		/* the duplicate key's ERR is 50 bytes in a read of its own: its
		 * code (bytes 5-6) is seen at any snap length from 7 */
		if (cap >= 10)
			assert_string_equal(g->resp[3].db.status, "1062");
		assert_string_equal(g->req[1].db.operation, cap >= 15 ? "INSERT" : "QUERY");
		free(g);
	}
}

/* Joined after the handshake (a connection open before the recording):
 * from the first command on, the system unknown. */
static void test_joined(void **state)
{
	struct how h = { .fresh = 0, .req_dir = BZ_HTTP_DIR_UNKNOWN, .from = 4, .closed = 1 };
	struct got *g;
	char text[8192];
	(void)state;

	/* chunk 4 is the INSERT: the detector takes it, mid-way only */
	assert_int_equal(bz_mysql_detect((const uint8_t *)py_session[5].b, py_session[5].len, 1, 0), BZ_PROTO_YES);
	assert_int_equal(bz_mysql_detect((const uint8_t *)py_session[5].b, py_session[5].len, 1, 1), BZ_PROTO_NO);
	g = parse(py_session, NCHUNKS(py_session), &h, NULL);
	calls_text(g, text, sizeof(text));
	/* the same calls but SET NAMES (before the join), without system or
	 * namespace (the handshake said them), and the statements prepared
	 * after the join known */
	assert_int_equal(g->nreq, 11);
	assert_non_null(strstr(text, "SELECT|items|SELECT id, name FROM items WHERE id = ?|||0 -> |0|1\n"));
	assert_non_null(strstr(text, "-> 1062|1|-1\n"));
	assert_non_null(strstr(text, "SELECT|items|SELECT name FROM items WHERE id = ?|||0 -> |0|1\n"));
	assert_non_null(strstr(text, "SELECT|items|SELECT secret FROM items ORDER BY id|||0 -> |0|2\n"));
	free(g);
}

/* ---- streams built from the protocol's documentation ----------------------------- */

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void pkt(struct buf *o, uint8_t seq, const void *payload, size_t n)
{
	o->b[o->n++] = (uint8_t)n;
	o->b[o->n++] = (uint8_t)(n >> 8);
	o->b[o->n++] = (uint8_t)(n >> 16);
	o->b[o->n++] = seq;
	memcpy(o->b + o->n, payload, n);
	o->n += n;
}

static void cmd_query(struct buf *o, const char *sql)
{
	uint8_t p[512];
	size_t n = strlen(sql);
	p[0] = MY_COM_QUERY;
	memcpy(p + 1, sql, n);
	pkt(o, 0, p, n + 1);
}

/* A result set of one column and nrows text rows, then the end: with
 * CLIENT_DEPRECATE_EOF an OK of header 0xfe, else EOF packets. */
static void result(struct buf *o, int nrows, int deprecate, uint16_t status)
{
	static const uint8_t coldef[] = "\x03" "def" "\x01" "s" "\x01" "t" "\x01" "t" "\x01" "a" "\x01" "a"
					"\x0c\x21\x00\x40\x00\x00\x00\xfd\x00\x00\x00\x00\x00";
	uint8_t eof[5] = { 0xfe, 0, 0, (uint8_t)status, (uint8_t)(status >> 8) };
	uint8_t ok[7] = { 0xfe, 0, 0, (uint8_t)status, (uint8_t)(status >> 8), 0, 0 };
	uint8_t seq = 1, one = 1;

	pkt(o, seq++, &one, 1);
	pkt(o, seq++, coldef, sizeof(coldef) - 1);
	if (!deprecate)
		pkt(o, seq++, eof, sizeof(eof));
	for (int i = 0; i < nrows; i++)
		pkt(o, seq++, "\x05value", 6);
	if (deprecate)
		pkt(o, seq++, ok, sizeof(ok));
	else
		pkt(o, seq++, eof, sizeof(eof));
}

static struct got *parse_two(const struct buf *c, const struct buf *s, int fresh)
{
	struct my_chunk ch[2] = { { 1, (unsigned)c->n, (const char *)c->b }, { 0, (unsigned)s->n, (const char *)s->b } };
	struct how h = { .fresh = fresh, .req_dir = BZ_HTTP_OUT, .closed = 1 };
	return parse(ch, 2, &h, NULL);
}

/* Joined mid-way, pipelined: DEPRECATE_EOF learnt from the first result
 * set (no EOF after the column definitions), a second one read with it. */
static void test_deprecate_eof_inferred(void **state)
{
	struct buf c = { 0 }, s = { 0 };
	char text[2048];
	struct got *g;
	(void)state;

	cmd_query(&c, "SELECT a FROM t");
	cmd_query(&c, "SELECT a FROM t WHERE a > 1");
	result(&s, 3, 1, 0x0002);
	result(&s, 0, 1, 0x0002);
	g = parse_two(&c, &s, 0);
	calls_text(g, text, sizeof(text));
	assert_string_equal(text, "SELECT|t|SELECT a FROM t|||0 -> |0|3\n"
				  "SELECT|t|SELECT a FROM t WHERE a > ?|||0 -> |0|0\n");
	free(g);
	/* and without it: EOF packets */
	memset(&s, 0, sizeof(s));
	result(&s, 2, 0, 0x0002);
	result(&s, 1, 0, 0x0002);
	g = parse_two(&c, &s, 0);
	calls_text(g, text, sizeof(text));
	assert_string_equal(text, "SELECT|t|SELECT a FROM t|||0 -> |0|2\n"
				  "SELECT|t|SELECT a FROM t WHERE a > ?|||0 -> |0|1\n");
	free(g);
}

/* SERVER_MORE_RESULTS_EXISTS: a stored procedure's results, then its OK. */
static void test_more_results(void **state)
{
	struct buf c = { 0 }, s = { 0 };
	static const uint8_t ok_final[] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00 };
	struct got *g;
	char text[1024];
	(void)state;

	cmd_query(&c, "CALL p()");
	result(&s, 2, 0, 0x0002 | MY_SERVER_MORE_RESULTS);
	result(&s, 1, 0, 0x0002 | MY_SERVER_MORE_RESULTS);
	pkt(&s, 9, ok_final, sizeof(ok_final));
	g = parse_two(&c, &s, 0);
	calls_text(g, text, sizeof(text));
	assert_string_equal(text, "CALL||CALL p()|||0 -> |0|3\n");
	assert_int_equal(g->resp[0].last.ts_ns, g->resp[0].first.ts_ns);
	free(g);
}

/* A payload of 0xffffff bytes continues in the next packet: one command. */
static void test_long_packet(void **state)
{
	size_t n = MY_MAX_PAYLOAD + 10;
	uint8_t *b = malloc(n + 8);
	struct my_chunk ch[3];
	static const uint8_t ok[] = { 0x07, 0, 0, 0x01, 0x00, 0, 0, 0x02, 0, 0, 0 };
	struct how h = { .fresh = 0, .req_dir = BZ_HTTP_OUT, .closed = 1 };
	struct got *g;
	(void)state;

	assert_non_null(b);
	memset(b, ' ', n + 8);
	b[0] = b[1] = b[2] = 0xff;
	b[3] = 0;
	memcpy(b + 4, "\x03INSERT INTO big VALUES ('", 26);
	b[MY_MAX_PAYLOAD + 4] = 10;
	b[MY_MAX_PAYLOAD + 5] = b[MY_MAX_PAYLOAD + 6] = 0;
	b[MY_MAX_PAYLOAD + 7] = 1;
	memcpy(b + n - 2, "')", 2);
	/* written in two writes: the first packet (its start captured), then
	 * the next, whose header continues it */
	ch[0] = (struct my_chunk){ 1, (unsigned)(MY_MAX_PAYLOAD + 4), (const char *)b };
	ch[1] = (struct my_chunk){ 1, (unsigned)(n + 8 - (MY_MAX_PAYLOAD + 4)), (const char *)b + MY_MAX_PAYLOAD + 4 };
	ch[2] = (struct my_chunk){ 0, sizeof(ok), (const char *)ok };
	h.caplen = 1024; /* as a recorder keeps it */
	g = parse(ch, 3, &h, NULL);
	assert_int_equal(g->nreq, 1);
	assert_string_equal(g->req[0].db.operation, "INSERT");
	assert_int_equal(g->req[0].head_bytes, (uint64_t)n + 8);
	assert_true(g->req[0].flags & BZ_HTTP_F_HEAD_CUT);
	assert_int_equal(g->nresp, 1);
	assert_int_equal(g->resp[0].db.error, 0);
	free(g);
	free(b);
}

static void test_detect(void **state)
{
	static const char *const not_mysql[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03",
		"\x17\x03\x03\x00\x03SELECT",
		"*3\r\n$3\r\nSET\r\n",
		"\x00\x00\x00\x08\x04\xd2\x16\x2f", /* PostgreSQL SSLRequest */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(not_mysql) / sizeof(not_mysql[0]); i++)
		for (int fresh = 0; fresh < 2; fresh++)
			for (int dir = 0; dir < 2; dir++)
				assert_int_equal(bz_mysql_detect((const uint8_t *)not_mysql[i], strlen(not_mysql[i]) + (i == 6 ? 8 : 0), dir, fresh),
						 BZ_PROTO_NO);
	/* the greeting, fresh or not; a prefix without its version's NUL is not */
	assert_int_equal(bz_mysql_detect((const uint8_t *)py_session[0].b, py_session[0].len, 0, 1), BZ_PROTO_YES);
	assert_int_equal(bz_mysql_detect((const uint8_t *)py_session[0].b, 20, 0, 1), BZ_PROTO_NO);
	/* commands mid-way: COM_PING, COM_QUERY; not a PING of the wrong length */
	assert_int_equal(bz_mysql_detect((const uint8_t *)"\x01\x00\x00\x00\x0e", 5, 1, 0), BZ_PROTO_YES);
	assert_int_equal(bz_mysql_detect((const uint8_t *)"\x02\x00\x00\x00\x0e\x00", 6, 1, 0), BZ_PROTO_NO);
	assert_int_equal(bz_mysql_detect((const uint8_t *)"\x09\x00\x00\x00\x03SELECT 1", 13, 1, 0), BZ_PROTO_YES);
	assert_int_equal(bz_mysql_detect((const uint8_t *)"\x09\x00\x00\x00\x03\x01\x02\x03\x04\x05\x06\x07\x08", 13, 1, 0),
			 BZ_PROTO_NO);
	/* and the table picks it before HTTP/1 */
	{
		const uint8_t *p[2] = { (const uint8_t *)py_session[0].b, NULL };
		size_t n[2] = { py_session[0].len, 0 };
		assert_ptr_equal(bz_proto_pick(p, n, 1, NULL), &bz_proto_mysql);
	}
}

/* ---- the masker ------------------------------------------------------------------------ */

/* The stream masked, each chunk in pieces of split bytes (0: whole), each
 * piece captured caplen bytes at most (0: all). */
static uint8_t **mask_stream(const struct my_chunk *c, size_t n, size_t split, size_t caplen, size_t *total)
{
	const struct rd_wire_ops *ops = &rd_wire_mysql;
	uint8_t **out = calloc(n, sizeof(*out));
	void *st = calloc(1, ops->state_size);
	unsigned client_dir = 9;
	int detected = 0;

	assert_non_null(out);
	assert_non_null(st);
	*total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t step = split ? split : c[i].len;
		out[i] = malloc(c[i].len ? c[i].len : 1);
		memcpy(out[i], c[i].b, c[i].len);
		if (!detected) {
			assert_int_equal(ops->detect(out[i], c[i].len, (unsigned)c[i].dir, 0, &client_dir), RD_WIRE_YES);
			assert_int_equal(client_dir, 1);
			ops->init(st, client_dir, 0);
			detected = 1;
		}
		for (size_t off = 0; off < c[i].len; off += step) {
			size_t len = c[i].len - off < step ? c[i].len - off : step;
			size_t cap = caplen && caplen < len ? caplen : len;
			*total += ops->data(st, (unsigned)c[i].dir, out[i] + off, cap, len);
		}
	}
	free(st);
	return out;
}

static void free_stream(uint8_t **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static int contains(const uint8_t *b, size_t n, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(b + i, s, k))
			return 1;
	return 0;
}

static void test_mask_secrets(void **state)
{
	size_t n = NCHUNKS(py_session), total;
	uint8_t **m = mask_stream(py_session, n, 0, 0, &total);
	const uint8_t *greet = m[0], *hs = m[1];
	(void)state;

	assert_true(total > 0);
	for (size_t i = 0; i < n; i++) {
		assert_false(contains(m[i], py_session[i].len, "SECRET"));
		assert_false(contains(m[i], py_session[i].len, "apple"));
		assert_false(contains(m[i], py_session[i].len, "pear"));
	}
	/* the greeting: version kept, both scramble parts masked, plugin kept */
	assert_memory_equal(greet, py_session[0].b, 42); /* header .. connection id */
	assert_memory_equal(greet + 42, "********", 8);
	assert_memory_equal(greet + 50, py_session[0].b + 50, 19);
	assert_memory_equal(greet + 69, "*************", 13); /* (its NUL too) */
	assert_true(contains(greet, py_session[0].len, "mysql_native_password"));
	/* the handshake response: user and database kept, auth response masked */
	assert_true(contains(hs, py_session[1].len, "app"));
	assert_true(contains(hs, py_session[1].len, "\x14********************shop"));
	assert_true(contains(hs, py_session[1].len, "mysql_native_password"));
	/* the statements' shape stays; the ERR's code and SQLSTATE stay */
	assert_true(contains(m[5], py_session[5].len, "INSERT INTO items (id, name, secret) VALUES (0, '*****', '***************')"));
	assert_true(contains(m[10], py_session[10].len, "\xff\x26\x04#23000*****"));
	free_stream(m, n);
}

/* Masked whole or in pieces of any size: the same bytes. */
static void test_mask_cuts(void **state)
{
	size_t n = NCHUNKS(py_session), total;
	uint8_t **whole = mask_stream(py_session, n, 0, 0, &total);
	(void)state;

	for (size_t split = 1; split <= 40; split++) {
		size_t t2;
		uint8_t **cut = mask_stream(py_session, n, split, 0, &t2);
		for (size_t i = 0; i < n; i++)
			if (memcmp(cut[i], whole[i], py_session[i].len))
				fail_msg("split %zu: chunk %zu differs", split, i);
		assert_int_equal(t2, total);
		free_stream(cut, n);
	}
	free_stream(whole, n);
}

/* The parser reads the masked conversation as the original: the same
 * calls, attributes and answers. */
static void test_mask_then_parse(void **state)
{
	size_t n = NCHUNKS(py_session), total;
	uint8_t **m = mask_stream(py_session, n, 0, 0, &total);
	struct got *g = parse(py_session, n, &CLIENT_SIDE, m);
	(void)state;

	check_py_calls(g);
	free(g);
	free_stream(m, n);
	/* and cut by a snap length: nothing of the secrets left */
	for (size_t cap = 8; cap <= 64; cap += 8) {
		m = mask_stream(py_session, n, 0, cap, &total);
		for (size_t i = 0; i < n; i++) {
			size_t k = py_session[i].len < cap ? py_session[i].len : cap;
			assert_false(contains(m[i], k, "SECRET"));
			assert_false(contains(m[i], k, "apple"));
		}
		free_stream(m, n);
	}
}

/* Losing the framing masks every later byte of that direction. */
static void test_mask_framing_lost(void **state)
{
	const struct rd_wire_ops *ops = &rd_wire_mysql;
	void *st = calloc(1, ops->state_size);
	uint8_t a[64], b[64];
	size_t k;
	(void)state;

	assert_non_null(st);
	ops->init(st, 1, 1); /* joined, the client writes */
	/* a COM_PING captured whole: taken as the point to follow from */
	memcpy(a, "\x01\x00\x00\x00\x0e", 5);
	assert_int_equal(ops->data(st, 1, a, 5, 5), 0);
	/* a write of two packets, the second's header not captured */
	memcpy(a, "\x01\x00\x00\x00\x0e", 5);
	assert_int_equal(ops->data(st, 1, a, 5, 40), 0);
	/* from there on: everything masked, even a plain command */
	memcpy(b, "\x09\x00\x00\x00\x03SELECT 1", 13);
	k = ops->data(st, 1, b, 13, 13);
	assert_int_equal(k, 13);
	for (int i = 0; i < 13; i++)
		assert_int_equal(b[i], '*');
	free(st);
}

/* The execute's parameters, the rows of a binary result set, the auth
 * switch's scramble. */
static void test_mask_binary_and_auth(void **state)
{
	const struct rd_wire_ops *ops = &rd_wire_mysql;
	void *st = calloc(1, ops->state_size);
	struct buf c = { 0 }, s = { 0 };
	static const uint8_t exec[] = { MY_COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0xfd, 0,
					6, 'h', 'i', 'd', 'd', 'e', 'n' };
	static const uint8_t row[] = { 0x00, 0x00, 6, 's', 'e', 'c', 'r', 'e', 't' };
	size_t k;
	(void)state;

	assert_non_null(st);
	ops->init(st, 1, 1);
	pkt(&c, 0, exec, sizeof(exec));
	k = ops->data(st, 1, c.b, c.n, c.n);
	assert_int_equal(k, sizeof(exec) - 10);
	assert_memory_equal(c.b + 4, exec, 10);
	assert_false(contains(c.b, c.n, "hidden"));
	{
		uint8_t one = 1;
		static const uint8_t coldef[] = "\x03" "def\x00\x00\x00\x01" "a\x00\x0c\x3f\x00\x0b\x00\x00\x00\xfd\x00\x00\x00\x00\x00";
		static const uint8_t eof[] = { 0xfe, 0, 0, 2, 0 };
		pkt(&s, 1, &one, 1);
		pkt(&s, 2, coldef, sizeof(coldef) - 1);
		pkt(&s, 3, eof, sizeof(eof));
		pkt(&s, 4, row, sizeof(row));
		pkt(&s, 5, eof, sizeof(eof));
	}
	k = ops->data(st, 0, s.b, s.n, s.n);
	assert_int_equal(k, sizeof(row) - 1);
	assert_false(contains(s.b, s.n, "secret"));
	assert_true(contains(s.b, s.n, "\x05\x00\x00\x05\xfe\x00\x00\x02\x00"));
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pymysql_session),
		cmocka_unit_test(test_cut_payloads),
		cmocka_unit_test(test_cli_session),
		cmocka_unit_test(test_server_side),
		cmocka_unit_test(test_uncaptured),
		cmocka_unit_test(test_joined),
		cmocka_unit_test(test_deprecate_eof_inferred),
		cmocka_unit_test(test_more_results),
		cmocka_unit_test(test_long_packet),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_mask_secrets),
		cmocka_unit_test(test_mask_cuts),
		cmocka_unit_test(test_mask_then_parse),
		cmocka_unit_test(test_mask_framing_lost),
		cmocka_unit_test(test_mask_binary_and_auth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
