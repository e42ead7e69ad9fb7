/* test_pgsql.c - PostgreSQL's wire protocol: the analyzer's parser
 * (analyze/proto/pgsql.c) on real connections (pg_streams.h: psycopg's
 * simple, extended, prepared and pipelined calls with errors; psql's
 * SSLRequest refused, COPY both ways, a two-statement query), whole, cut
 * by a snap length and joined mid-way; SSLRequest accepted; the detector
 * against HTTP and TLS; and the recorder's masker (record/redact_pg.c):
 * lengths kept, secrets gone, the same output whatever the payload
 * boundaries, framing loss masking the rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/pgsql.h"
#include "analyze/proto/pgwire.h"
#include "record/redact.h"
#include "record/redact_wire.h"
#include "pg_streams.h"

#define NREC(a) (sizeof(a) / sizeof(a[0]))
#define CALLS 64

/* A call as the parser reported it. */
struct call {
	int heads, req_end, resp_head, resp_end;
	uint64_t index;
	uint32_t req_flags, resp_flags;
	uint64_t req_bytes, resp_bytes;
	char op[BZ_DB_OP_MAX], coll[BZ_DB_NAME_MAX], ns[BZ_DB_NAME_MAX], query[BZ_DB_QUERY_MAX], status[16];
	int error, batch;
	int64_t rows;
	int server_dir;
};

struct got {
	struct call c[CALLS];
	int n;
	int order_bad; /* a response END before its request's END */
};

static void on_msg(void *user, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct got *g = user;
	struct call *c = NULL;

	assert_int_equal(m->proto, BZ_PROTO_PGSQL);
	assert_string_equal(m->db.system, "postgresql");
	for (int i = 0; i < g->n; i++)
		if (g->c[i].index == m->index)
			c = &g->c[i];
	if (!c) {
		assert_true(m->is_request && ev == BZ_HTTP_HEAD);
		assert_true(g->n < CALLS);
		c = &g->c[g->n++];
		memset(c, 0, sizeof(*c));
		c->index = m->index;
	}
	if (m->is_request) {
		if (ev == BZ_HTTP_HEAD)
			c->heads++;
		else
			c->req_end++;
		c->req_flags = m->flags;
		c->req_bytes = m->head_bytes + m->body_bytes;
		snprintf(c->op, sizeof(c->op), "%s", m->db.operation);
		snprintf(c->coll, sizeof(c->coll), "%s", m->db.collection);
		snprintf(c->ns, sizeof(c->ns), "%s", m->db.namespace_);
		snprintf(c->query, sizeof(c->query), "%s", m->db.query);
		c->batch = m->db.batch ? (int)m->db.batch_size : 0;
		return;
	}
	if (ev == BZ_HTTP_HEAD) {
		c->resp_head++;
		return;
	}
	if (!c->req_end)
		g->order_bad++;
	c->resp_end++;
	c->resp_flags = m->flags;
	c->resp_bytes = m->head_bytes + m->body_bytes;
	c->error = m->db.error;
	c->rows = m->db.rows;
	c->server_dir = m->dir;
	snprintf(c->status, sizeof(c->status), "%s", m->db.status);
}

/* Every byte fed in exactly one bucket, per direction. */
static void check_accounting(const struct bz_proto_stats *st)
{
	for (int d = 0; d < 2; d++)
		assert_int_equal(st->fed[d], st->skipped[d] + st->ignored[d] + st->msg_bytes[d]);
}

/* Feeds records r[from..n) to a parser for a target that is the client
 * (its writes BZ_HTTP_OUT) or the server; each record's first snap bytes
 * captured (0: all). */
static void run(const struct pg_rec *r, size_t n, size_t from, int target_client, int fresh, int know_role,
		size_t snap, struct got *g, struct bz_proto_stats *st_out)
{
	void *p = NULL;
	int out = target_client ? 'C' : 'S';
	struct bz_proto_cfg cfg = {
		.req_dir = !know_role ? BZ_HTTP_DIR_UNKNOWN : target_client ? BZ_HTTP_OUT : BZ_HTTP_IN,
		.fresh = fresh, .cb = on_msg, .user = g,
	};

	memset(g, 0, sizeof(*g));
	assert_int_equal(bz_proto_pgsql.create(&p, &cfg), 0);
	for (size_t i = from; i < n; i++) {
		struct bz_http_read rd = { 0 };
		rd.at.ts_ns = 1000 + i;
		rd.len = (uint32_t)r[i].len;
		rd.caplen = snap && snap < r[i].len ? (uint32_t)snap : (uint32_t)r[i].len;
		rd.data = r[i].b;
		bz_proto_pgsql.feed(p, r[i].from == out ? BZ_HTTP_OUT : BZ_HTTP_IN, &rd);
	}
	bz_proto_pgsql.flush(p, 1);
	*st_out = *bz_proto_pgsql.stats(p);
	check_accounting(st_out);
	assert_int_equal(g->order_bad, 0);
	if (know_role || fresh)
		assert_int_equal(bz_proto_pgsql.req_dir(p), target_client ? BZ_HTTP_OUT : BZ_HTTP_IN);
	bz_proto_pgsql.destroy(&p);
	assert_null(p);
}

static void dump(const struct got *g)
{
	for (int i = 0; i < g->n; i++) {
		const struct call *c = &g->c[i];
		fprintf(stderr, "#%d idx=%llu op=%s coll=%s ns=%s q=[%s] st=%s err=%d rows=%lld batch=%d rf=%x pf=%x %d%d%d%d\n",
			i, (unsigned long long)c->index, c->op, c->coll, c->ns, c->query, c->status, c->error,
			(long long)c->rows, c->batch, c->req_flags, c->resp_flags, c->heads, c->req_end, c->resp_head,
			c->resp_end);
	}
}

static void check_call(const struct call *c, const char *op, const char *coll, const char *query, int error,
		       const char *status, int64_t rows)
{
	if (strcmp(c->op, op) || strcmp(c->coll, coll) || strcmp(c->query, query) || c->error != error ||
	    strcmp(c->status, status) || c->rows != rows)
		fail_msg("call %llu: op=%s coll=%s q=[%s] err=%d st=%s rows=%lld; want op=%s coll=%s q=[%s] err=%d st=%s rows=%lld",
			 (unsigned long long)c->index, c->op, c->coll, c->query, c->error, c->status, (long long)c->rows,
			 op, coll, query, error, status, (long long)rows);
	assert_int_equal(c->heads, 1);
	assert_int_equal(c->req_end, 1);
	assert_int_equal(c->resp_head, 1);
	assert_int_equal(c->resp_end, 1);
	assert_string_equal(c->ns, "appdb");
}

/* psycopg's session, as its calls must come out (the whole stream, and
 * the masked one). */
static void check_psycopg_calls(const struct got *g)
{
	if (g->n != 10)
		dump(g);
	assert_int_equal(g->n, 10);
	check_call(&g->c[0], "DROP", "u", "drop table if exists u", 0, "", -1);
	check_call(&g->c[1], "CREATE", "u", "create table u (id int primary key, secret text)", 0, "", -1);
	/* prepare=True: Parse + Sync, then Binds of the named statement */
	check_call(&g->c[2], "PREPARE", "u", "insert into u values ($1, $2)", 0, "", -1);
	check_call(&g->c[3], "INSERT", "u", "insert into u values ($1, $2)", 0, "", -1);
	check_call(&g->c[4], "INSERT", "u", "insert into u values ($1, $2)", 0, "", -1);
	check_call(&g->c[5], "SELECT", "u", "select id, secret from u where id > $1", 0, "", 2);
	check_call(&g->c[6], "SELEC", "", "selec ?", 1, "42601", -1);
	/* a pipeline of three: the second fails, the third is skipped */
	check_call(&g->c[7], "INSERT", "u", "insert into u values ($1, $2)", 0, "", -1);
	check_call(&g->c[8], "INSERT", "u", "insert into u values ($1, $2)", 1, "23505", -1);
	check_call(&g->c[9], "INSERT", "u", "insert into u values ($1, $2)", 1, "", -1);
	for (int i = 0; i < g->n; i++) {
		assert_int_equal(g->c[i].req_flags & (BZ_HTTP_F_RESYNC | BZ_HTTP_F_INCOMPLETE | BZ_HTTP_F_HEAD_CUT), 0);
		assert_int_equal(g->c[i].resp_flags & (BZ_HTTP_F_RESYNC | BZ_HTTP_F_INCOMPLETE | BZ_HTTP_F_GUESSED_END), 0);
		assert_int_equal(g->c[i].server_dir, BZ_HTTP_IN);
	}
}

static void test_psycopg(void **state)
{
	struct got g;
	struct bz_proto_stats st;

	(void)state;
	run(pg_psycopg, NREC(pg_psycopg), 0, 1, 1, 1, 0, &g, &st);
	check_psycopg_calls(&g);
	assert_int_equal(st.requests, 10);
	assert_int_equal(st.responses, 10);
	assert_int_equal(st.skipped[0] + st.skipped[1], 0);
	/* the pipeline's Executes are one write with the Sync and Flush: the
	 * Sync and Flush count with the last call */
	assert_true(g.c[9].req_bytes > g.c[8].req_bytes);
	/* the role from the startup packet alone */
	run(pg_psycopg, NREC(pg_psycopg), 0, 1, 1, 0, 0, &g, &st);
	check_psycopg_calls(&g);
	/* the server recorded: the same calls, answered in BZ_HTTP_OUT */
	run(pg_psycopg, NREC(pg_psycopg), 0, 0, 1, 1, 0, &g, &st);
	assert_int_equal(g.n, 10);
	assert_int_equal(g.c[8].error, 1);
	assert_int_equal(g.c[5].server_dir, BZ_HTTP_OUT);
}

static void test_psql(void **state)
{
	struct got g;
	struct bz_proto_stats st;

	(void)state;
	run(pg_psql, NREC(pg_psql), 0, 1, 1, 1, 0, &g, &st);
	if (g.n != 4)
		dump(&g);
	assert_int_equal(g.n, 4);
	check_call(&g.c[0], "CREATE", "w", "create table if not exists w (id int, s text)", 0, "", -1);
	check_call(&g.c[1], "COPY", "w", "COPY w FROM STDIN", 0, "", -1);
	/* the COPY data the client sent is the call's */
	assert_int_equal(g.c[1].req_bytes, 23 + 27);
	assert_int_equal(g.c[1].batch, 0);
	/* two statements in one Query: a batch; rows of both result sets */
	/* (sql_text takes the table of the batch's second statement) */
	check_call(&g.c[2], "BATCH SELECT", "", "select ? as x, ?; select count(*) from w", 0, "", 2);
	assert_int_equal(g.c[2].batch, 2);
	check_call(&g.c[3], "COPY", "w", "COPY w TO STDOUT", 0, "", 2);
	/* SSLRequest refused ('N'): startup goes on in the clear */
	assert_int_equal(st.upgraded, 0);
	assert_int_equal(st.skipped[0] + st.skipped[1], 0);
}

/* A snap length cuts reads: every byte still accounted, nothing invented. */
static void test_snaplen(void **state)
{
	struct got g;
	struct bz_proto_stats st;

	(void)state;
	for (size_t snap = 1; snap <= 140; snap++) {
		run(pg_psycopg, NREC(pg_psycopg), 0, 1, 1, 1, snap, &g, &st);
		assert_true(g.n <= 12);
		run(pg_psql, NREC(pg_psql), 0, 1, 1, 1, snap, &g, &st);
		assert_true(g.n <= 6);
	}
	/* 64 bytes: every statement's start is seen */
	run(pg_psycopg, NREC(pg_psycopg), 0, 1, 1, 1, 64, &g, &st);
	assert_true(g.n >= 9);
	assert_string_equal(g.c[5].op, "SELECT");
}

/* Joined at each record in turn, role unknown: calls found once the
 * framing is, and none made up. */
static void test_joined(void **state)
{
	struct got g;
	struct bz_proto_stats st;

	(void)state;
	for (size_t from = 1; from < NREC(pg_psycopg); from++) {
		run(pg_psycopg, NREC(pg_psycopg), from, 1, 0, 0, 0, &g, &st);
		assert_true(g.n <= 10);
	}
	/* from the DROP TABLE on: every call */
	run(pg_psycopg, NREC(pg_psycopg), 6, 1, 0, 0, 0, &g, &st);
	assert_int_equal(g.n, 10);
	assert_string_equal(g.c[9].op, "INSERT");
	assert_int_equal(g.c[8].error, 1);
	assert_string_equal(g.c[0].ns, ""); /* (the startup was not seen) */
	/* from the first Bind of the named statement: its text is unknown */
	run(pg_psycopg, NREC(pg_psycopg), 12, 1, 0, 0, 0, &g, &st);
	assert_true(g.n >= 7);
	assert_string_equal(g.c[0].op, "");
}

static void feed1(void *p, int dir, const uint8_t *b, size_t n)
{
	struct bz_http_read rd = { 0 };
	rd.len = rd.caplen = (uint32_t)n;
	rd.data = b;
	bz_proto_pgsql.feed(p, dir, &rd);
}

static const uint8_t ssl_request[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
static const uint8_t tls_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5 };

static void test_ssl_accepted(void **state)
{
	struct got g;
	void *p = NULL;
	struct bz_proto_cfg cfg = { .req_dir = BZ_HTTP_OUT, .fresh = 1, .cb = on_msg, .user = &g };
	const struct bz_proto_stats *st;

	(void)state;
	memset(&g, 0, sizeof(g));
	assert_int_equal(bz_pgsql_detect(ssl_request, 8, 1, 1), BZ_PROTO_YES);
	assert_int_equal(bz_proto_pgsql.create(&p, &cfg), 0);
	feed1(p, BZ_HTTP_OUT, ssl_request, 8);
	feed1(p, BZ_HTTP_IN, (const uint8_t *)"S", 1);
	feed1(p, BZ_HTTP_OUT, tls_hello, sizeof(tls_hello));
	feed1(p, BZ_HTTP_IN, tls_hello, sizeof(tls_hello));
	bz_proto_pgsql.flush(p, 1);
	st = bz_proto_pgsql.stats(p);
	assert_int_equal(st->upgraded, 1);
	assert_int_equal(st->ignored[1], 8 + sizeof(tls_hello));
	assert_int_equal(st->ignored[0], 1 + sizeof(tls_hello));
	assert_int_equal(st->requests + st->responses, 0);
	assert_int_equal(g.n, 0);
	check_accounting(st);
	bz_proto_pgsql.destroy(&p);
}

/* Never HTTP, HTTP/2 or TLS; a startup packet, SSLRequest, CancelRequest. */
static void test_detect(void **state)
{
	static const char *const not_pg[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /a HTTP/1.1\r\n", "PUT /x HTTP/1.0\r\n\r\n",
		"DELETE /x HTTP/1.1\r\n", "HEAD / HTTP/1.1\r\n\r\n", "CONNECT a:443 HTTP/1.1\r\n\r\n",
		"PATCH /p HTTP/1.1\r\n", "OPTIONS * HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\n", "SSH-2.0-OpenSSH_9.2\r\n", "*1\r\n$4\r\nPING\r\n", "+OK\r\n",
		"Q", "S", "E", NULL,
	};

	(void)state;
	for (int i = 0; not_pg[i]; i++)
		for (int fresh = 0; fresh < 2; fresh++)
			for (int dir = 0; dir < 2; dir++)
				if (bz_pgsql_detect((const uint8_t *)not_pg[i], strlen(not_pg[i]), dir, fresh) == BZ_PROTO_YES)
					fail_msg("claimed \"%s\" (fresh %d)", not_pg[i], fresh);
	for (int fresh = 0; fresh < 2; fresh++)
		assert_int_not_equal(bz_pgsql_detect(tls_hello, sizeof(tls_hello), 0, fresh), BZ_PROTO_YES);
	assert_int_equal(bz_pgsql_detect(pg_psycopg[0].b, pg_psycopg[0].len, 1, 1), BZ_PROTO_YES);
	assert_int_equal(bz_pgsql_detect(pg_psycopg[0].b, 5, 1, 1), BZ_PROTO_MAYBE);
	/* joined: a Query, a server's answer */
	assert_int_equal(bz_pgsql_detect(pg_psycopg[6].b, pg_psycopg[6].len, 1, 0), BZ_PROTO_YES);
	assert_int_equal(bz_pgsql_detect(pg_psycopg[8].b, pg_psycopg[8].len, 0, 0), BZ_PROTO_YES);
	/* but not fresh: a fresh connection begins with its startup */
	assert_int_equal(bz_pgsql_detect(pg_psycopg[6].b, pg_psycopg[6].len, 1, 1), BZ_PROTO_NO);
	{
		static const uint8_t cancel[16] = { 0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 1, 2, 9, 9, 9, 9 };
		assert_int_equal(bz_pgsql_detect(cancel, 16, 1, 1), BZ_PROTO_YES);
	}
}

/* ---- the masker ------------------------------------------------------------------- */

static const char *const secrets[] = { "SECRETBIND", "SECRETBIND2", "SECRETCOPY", "SECRETLIT", NULL };

static int has(const uint8_t *b, size_t n, const char *s)
{
	return memmem(b, n, s, strlen(s)) != NULL;
}

/* Masks the records through the recorder's dispatch (redact_wire.c) for a
 * target that is the client, each record cut into two payloads at `cut`
 * (0: whole) and captured up to snap bytes (0: all); the masked records go
 * to out (same sizes). */
static void mask_stream(const struct pg_rec *r, size_t n, size_t cut, size_t snap, uint8_t **out)
{
	struct rd_wire *w = NULL;
	size_t masked;

	assert_int_equal(rd_wire_new(&w), 0);
	for (size_t i = 0; i < n; i++) {
		unsigned dir = r[i].from == 'C' ? 1 : 0;
		size_t a = cut && cut < r[i].len ? cut : r[i].len;
		out[i] = malloc(r[i].len + 1);
		memcpy(out[i], r[i].b, r[i].len);
		for (size_t off = 0; off < r[i].len;) {
			size_t len = off ? r[i].len - a : a;
			size_t cap = snap && snap < len ? snap : len;
			assert_int_equal(rd_wire_data(w, 7, dir, 0, out[i] + off, cap, (int64_t)len, &masked), 1);
			assert_true(masked <= cap);
			off += len;
		}
	}
	rd_wire_forget(w, 7);
	rd_wire_free(&w);
}

static void free_stream(uint8_t **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i]);
}

static void test_mask_secrets(void **state)
{
	const struct { const struct pg_rec *r; size_t n; } s[] = { { pg_psycopg, NREC(pg_psycopg) }, { pg_psql, NREC(pg_psql) } };
	uint8_t *m[64];

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		int seen = 0;
		mask_stream(s[k].r, s[k].n, 0, 0, m);
		for (size_t i = 0; i < s[k].n; i++) {
			for (int j = 0; secrets[j]; j++) {
				seen |= has(s[k].r[i].b, s[k].r[i].len, secrets[j]);
				if (has(m[i], s[k].r[i].len, secrets[j]))
					fail_msg("stream %zu record %zu keeps %s", k, i, secrets[j]);
			}
			/* no SCRAM proof, nonce or server signature left */
			if (s[k].r[i].b[0] == 'p')
				for (size_t b = 5; b < s[k].r[i].len; b++)
					assert_int_equal(m[i][b], BZ_REDACT_FILL);
		}
		assert_true(seen);
		free_stream(m, s[k].n);
	}
	/* what stays: statement shapes, names, tags, SQLSTATEs, user, database */
	mask_stream(pg_psycopg, NREC(pg_psycopg), 0, 0, m);
	assert_memory_equal(m[0], pg_psycopg[0].b, pg_psycopg[0].len);
	assert_true(has(m[17], pg_psycopg[17].len, "select id, secret from u where id > $1"));
	assert_true(has(m[20], pg_psycopg[20].len, "C42601"));
	assert_false(has(m[20], pg_psycopg[20].len, "syntax error"));
	assert_true(has(m[18], pg_psycopg[18].len, "SELECT 2"));
	assert_true(has(m[18], pg_psycopg[18].len, "secret")); /* a column's name */
	free_stream(m, NREC(pg_psycopg));
	/* psql: the literal's quotes stay, its contents go */
	mask_stream(pg_psql, NREC(pg_psql), 0, 0, m);
	assert_true(has(m[14], pg_psql[14].len, "select '*********' as x, 0; select count(*) from w"));
	free_stream(m, NREC(pg_psql));
}

/* The masked stream parses to the same calls. */
static void test_mask_then_parse(void **state)
{
	uint8_t *m[64];
	struct pg_rec mr[64];
	struct got g;
	struct bz_proto_stats st;

	(void)state;
	mask_stream(pg_psycopg, NREC(pg_psycopg), 0, 0, m);
	for (size_t i = 0; i < NREC(pg_psycopg); i++)
		mr[i] = (struct pg_rec){ pg_psycopg[i].from, pg_psycopg[i].len, m[i] };
	run(mr, NREC(pg_psycopg), 0, 1, 1, 1, 0, &g, &st);
	check_psycopg_calls(&g);
	free_stream(m, NREC(pg_psycopg));
}

/* Cut into two payloads at every byte: the same output as whole. */
static void test_mask_cut_everywhere(void **state)
{
	const struct { const struct pg_rec *r; size_t n; } s[] = { { pg_psycopg, NREC(pg_psycopg) }, { pg_psql, NREC(pg_psql) } };
	uint8_t *whole[64], *cut[64];

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		size_t longest = 0;
		mask_stream(s[k].r, s[k].n, 0, 0, whole);
		for (size_t i = 0; i < s[k].n; i++)
			longest = s[k].r[i].len > longest ? s[k].r[i].len : longest;
		for (size_t c = 1; c < longest; c++) {
			mask_stream(s[k].r, s[k].n, c, 0, cut);
			for (size_t i = 0; i < s[k].n; i++)
				if (memcmp(whole[i], cut[i], s[k].r[i].len))
					fail_msg("stream %zu record %zu differs when cut at %zu", k, i, c);
			free_stream(cut, s[k].n);
		}
		free_stream(whole, s[k].n);
	}
}

/* A snap length: whatever is captured holds no secret; lost framing masks
 * everything after, until a whole payload of whole messages. */
static void test_mask_snaplen(void **state)
{
	uint8_t *m[64];

	(void)state;
	for (size_t snap = 1; snap < 80; snap++) {
		mask_stream(pg_psycopg, NREC(pg_psycopg), 0, snap, m);
		for (size_t i = 0; i < NREC(pg_psycopg); i++) {
			size_t cap = snap < pg_psycopg[i].len ? snap : pg_psycopg[i].len;
			for (int j = 0; secrets[j]; j++)
				if (has(m[i], cap, secrets[j]))
					fail_msg("snap %zu record %zu keeps %s", snap, i, secrets[j]);
		}
		free_stream(m, NREC(pg_psycopg));
	}
}

static void test_mask_framing_loss(void **state)
{
	struct rd_wire *w = NULL;
	size_t masked;
	uint8_t start[64], q[64], z[6] = { 'Z', 0, 0, 0, 5, 'I' };
	static const char sq[] = "Q\0\0\0\x1eselect 'SECRET' as a, 12\0";
	uint8_t bad[16] = { 'Q', 0x7f, 0xff, 0xff, 0xff, 'x', 'y' };

	(void)state;
	assert_int_equal(rd_wire_new(&w), 0);
	memcpy(start, pg_psycopg[0].b, pg_psycopg[0].len);
	assert_int_equal(rd_wire_data(w, 9, 1, 0, start, pg_psycopg[0].len, (int64_t)pg_psycopg[0].len, &masked), 1);
	/* a Query whose header was not captured: the framing is lost */
	memcpy(q, sq, sizeof(sq) - 1);
	assert_int_equal(rd_wire_data(w, 9, 1, 0, q, 0, 31, &masked), 1);
	/* so the next payload is masked whole, even a plausible one cut by
	 * the snap length */
	memcpy(q, sq, sizeof(sq) - 1);
	assert_int_equal(rd_wire_data(w, 9, 1, 0, q, 20, 31, &masked), 1);
	assert_int_equal(masked, 20);
	for (size_t i = 0; i < 20; i++)
		assert_int_equal(q[i], BZ_REDACT_FILL);
	/* a whole payload of whole messages ending in a Query: followed again */
	memcpy(q, sq, sizeof(sq) - 1);
	assert_int_equal(rd_wire_data(w, 9, 1, 0, q, 31, 31, &masked), 1);
	assert_int_equal(masked, 8);
	assert_memory_equal(q, "Q\0\0\0\x1eselect '******' as a, 00\0", 31);
	/* an impossible length: the rest of the payload masked */
	assert_int_equal(rd_wire_data(w, 9, 1, 0, bad, 7, 7, &masked), 1);
	assert_int_equal(bad[5], BZ_REDACT_FILL);
	assert_int_equal(bad[6], BZ_REDACT_FILL);
	/* the other direction is unaffected */
	assert_int_equal(rd_wire_data(w, 9, 0, 0, z, 6, 6, &masked), 1);
	assert_int_equal(masked, 0);
	rd_wire_free(&w);
}

/* SSLRequest answered 'S': ciphertext is left alone; a Bind's lengths and
 * formats stay while its values go. */
static void test_mask_ssl_and_bind(void **state)
{
	struct rd_wire *w = NULL;
	size_t masked;
	uint8_t req[8], ans[1] = { 'S' }, hello[sizeof(tls_hello)];
	uint8_t bind[128];
	size_t bl = pg_psycopg[13].len;

	(void)state;
	assert_int_equal(rd_wire_new(&w), 0);
	memcpy(req, ssl_request, 8);
	memcpy(hello, tls_hello, sizeof(hello));
	assert_int_equal(rd_wire_data(w, 3, 1, 0, req, 8, 8, &masked), 1);
	assert_int_equal(rd_wire_data(w, 3, 0, 0, ans, 1, 1, &masked), 1);
	assert_int_equal(rd_wire_data(w, 3, 1, 0, hello, sizeof(hello), sizeof(hello), &masked), 1);
	assert_int_equal(masked, 0);
	assert_memory_equal(hello, tls_hello, sizeof(hello));
	rd_wire_free(&w);
	/* psycopg's Bind of (1, SECRETBIND): only the values' bytes change, the
	 * int2 and the ten of the text */
	uint8_t *m[64];
	mask_stream(pg_psycopg, NREC(pg_psycopg), 0, 0, m);
	memcpy(bind, pg_psycopg[13].b, bl);
	size_t diff = 0;
	for (size_t i = 0; i < bl; i++)
		diff += m[13][i] != bind[i];
	assert_int_equal(diff, 2 + 10);
	free_stream(m, NREC(pg_psycopg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psycopg),
		cmocka_unit_test(test_psql),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_joined),
		cmocka_unit_test(test_ssl_accepted),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_mask_secrets),
		cmocka_unit_test(test_mask_then_parse),
		cmocka_unit_test(test_mask_cut_everywhere),
		cmocka_unit_test(test_mask_snaplen),
		cmocka_unit_test(test_mask_framing_loss),
		cmocka_unit_test(test_mask_ssl_and_bind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
