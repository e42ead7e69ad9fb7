/* pgsql.c - PostgreSQL connections as database calls (pgsql.h).
 *
 * Two layers.  Per direction a framer (struct pgdir) cuts the bytes into
 * messages by their length fields and hands each whole message (its type,
 * its size, the first KEEP_MAX bytes of its content) to front_msg() or
 * back_msg().  Those keep the calls: a queue of calls in the order the
 * client made them, each with its request and response messages; the
 * backend's messages answer the queue's front.  Bytes are accounted when
 * a message is whole (or lost), so every byte fed ends in exactly one
 * bucket (the fuzz target checks it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgsql.h"
#include "pgwire.h"
#include "sql_text.h"

#define KEEP_MAX 2048u          /* content kept of a message: statements, error fields */
#define CALLS_MAX 256u          /* calls awaiting their answers */
#define STMTS_MAX 64u           /* named statements remembered per connection */
#define SYNC_LEN_MAX (1u << 24) /* longest message a resynchronisation believes */

enum dst {
	D_FIRST,      /* fresh, role unknown: a startup packet says who the client is */
	D_STARTUP,    /* client: startup-phase packets (no type byte) */
	D_SSL_ANSWER, /* server: the one-byte answer to SSLRequest / GSSENCRequest */
	D_MSG,        /* typed messages */
	D_SYNC,       /* framing lost: waiting for a read that begins with messages */
	D_TLS,        /* encrypted from here on: ignored */
};

enum kind { K_NOCALL, K_SIMPLE, K_EXT, K_FUNC };

struct pgdir {
	enum dst st;
	uint8_t hdr[5], hlen;
	uint8_t in_body, type, cut, keep_it;
	uint32_t blen, bgot, keep;
	uint64_t skipped_since; /* bytes skipped before the next message: RESYNC */
	struct bz_http_point cur, first;
	uint8_t body[KEEP_MAX];
};

struct pgcall {
	struct bz_http_msg req, resp;
	uint64_t group;      /* Sync group (a Query or FunctionCall is one of its own) */
	uint8_t kind;
	uint8_t ready;       /* request HEAD reported */
	uint8_t req_ended;   /* request END reported */
	uint8_t sync_after;  /* a Sync came right after its Execute: answered up to ReadyForQuery */
	uint8_t aborted;     /* an earlier call of its group failed: the server skips it */
	uint8_t resp_open;   /* response HEAD reported */
	uint8_t has_exec, has_parse, rowdesc, copy_out;
	int64_t datarows;
};

struct pgstmt {
	uint64_t age;
	uint8_t cut;
	char name[64];
	char query[BZ_DB_QUERY_MAX];
};

struct bz_pgsql {
	struct bz_proto_cfg cfg;
	int req_dir;
	uint8_t flushed;
	uint8_t synced;          /* a direction found messages (or the startup) once */
	uint8_t srv_lost;        /* the server's framing was lost while calls were pending */
	uint64_t lost_before;    /* ... calls numbered below this may have ended unseen */
	struct bz_proto_stats st;
	struct pgdir d[2];
	struct pgcall *q[CALLS_MAX];
	unsigned qhead, qlen;
	struct pgcall *build;    /* an extended call whose Execute has not come yet */
	struct pgcall *cur_req;  /* the call the client's next bytes belong to */
	uint64_t next_index, group, last_exec_index;
	uint8_t has_last_exec;
	char namespace_[BZ_DB_NAME_MAX];
	struct pgstmt *stmts;    /* STMTS_MAX, allocated at the first statement */
	uint64_t stmt_age;
};

/* ---- detection ------------------------------------------------------------------ */

int bz_pgsql_detect(const uint8_t *p, size_t n, int dir, int fresh)
{
	uint32_t code;
	int s;

	(void)dir;
	if (!p || !n)
		return BZ_PROTO_NO;
	s = bz_pg_startup(p, n, &code);
	if (s == 2)
		return BZ_PROTO_YES;
	if (s == 1)
		return BZ_PROTO_MAYBE;
	/* joined mid-way: whole messages of one side (an HTTP method's
	 * letters make a length of hundreds of megabytes: never plausible) */
	if (!fresh && bz_pg_plausible(p, n, n, BZ_PG_FRONT | BZ_PG_BACK, SYNC_LEN_MAX))
		return BZ_PROTO_YES;
	return BZ_PROTO_NO;
}

/* ---- small helpers ------------------------------------------------------------- */

static void copy_cstr(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	const uint8_t *z = memchr(s, 0, n);

	if (z)
		n = (size_t)(z - s);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* The NUL-terminated string at b[*off..n): its length (to the NUL or the
 * end), *off moved past it; *whole 0 when no NUL was kept. */
static size_t cstr_at(const uint8_t *b, size_t n, size_t *off, int *whole)
{
	size_t o = *off < n ? *off : n;
	const uint8_t *z = memchr(b + o, 0, n - o);
	size_t l = z ? (size_t)(z - (b + o)) : n - o;

	*whole = z != NULL;
	*off = o + l + (z ? 1 : 0);
	return l;
}

static int side_of(const struct bz_pgsql *p, int dir)
{
	return dir == p->req_dir ? BZ_PG_FRONT : BZ_PG_BACK;
}

/* ---- statements ----------------------------------------------------------------- */

static struct pgstmt *stmt_find(struct bz_pgsql *p, const char *name)
{
	if (!p->stmts)
		return NULL;
	for (unsigned i = 0; i < STMTS_MAX; i++)
		if (p->stmts[i].age && !strcmp(p->stmts[i].name, name))
			return &p->stmts[i];
	return NULL;
}

static void stmt_put(struct bz_pgsql *p, const char *name, const char *query, int cut)
{
	struct pgstmt *s = stmt_find(p, name);

	if (!s) {
		if (!p->stmts && !(p->stmts = calloc(STMTS_MAX, sizeof(*p->stmts))))
			return; /* out of memory: its Binds will not know its text */
		s = &p->stmts[0];
		for (unsigned i = 1; i < STMTS_MAX && s->age; i++)
			if (!p->stmts[i].age || p->stmts[i].age < s->age)
				s = &p->stmts[i];
	}
	s->age = ++p->stmt_age;
	s->cut = (uint8_t)cut;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->query, sizeof(s->query), "%s", query);
}

static void stmt_del(struct bz_pgsql *p, const char *name)
{
	struct pgstmt *s = stmt_find(p, name);

	if (s)
		s->age = 0;
}

/* ---- calls ------------------------------------------------------------------------- */

static void msg_init(struct bz_pgsql *p, struct bz_http_msg *m, int dir, int is_request, uint64_t index,
		     const struct bz_http_point *first)
{
	memset(m, 0, sizeof(*m));
	m->dir = (uint8_t)dir;
	m->is_request = (uint8_t)is_request;
	m->version = 1;
	m->proto = BZ_PROTO_PGSQL;
	m->index = index;
	m->content_length = -1;
	m->grpc_status = -1;
	m->first = m->last = *first;
	snprintf(m->db.system, sizeof(m->db.system), "postgresql");
	snprintf(m->db.namespace_, sizeof(m->db.namespace_), "%s", p->namespace_);
	m->db.rows = -1;
}

static struct pgcall *q_front(const struct bz_pgsql *p) { return p->qlen ? p->q[p->qhead] : NULL; }

static struct pgcall *q_find(const struct bz_pgsql *p, uint64_t index)
{
	for (unsigned i = 0; i < p->qlen; i++) {
		struct pgcall *c = p->q[(p->qhead + i) % CALLS_MAX];
		if (c->kind != K_NOCALL && c->req.index == index)
			return c;
	}
	return NULL;
}

static void q_pop(struct bz_pgsql *p)
{
	struct pgcall *c = q_front(p);

	if (!c)
		return;
	if (p->build == c)
		p->build = NULL;
	if (p->cur_req == c)
		p->cur_req = NULL;
	free(c);
	p->qhead = (p->qhead + 1) % CALLS_MAX;
	p->qlen--;
}

/* The request's HEAD, once it is a call. */
static void req_ready(struct bz_pgsql *p, struct pgcall *c)
{
	if (c->ready || c->kind == K_NOCALL)
		return;
	c->ready = 1;
	if (c->kind == K_EXT && !c->has_exec && c->has_parse)
		snprintf(c->req.db.operation, sizeof(c->req.db.operation), "PREPARE");
	p->st.requests++;
	p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &c->req);
}

static void req_end(struct bz_pgsql *p, struct pgcall *c, uint32_t flags)
{
	if (c->req_ended || c->kind == K_NOCALL)
		return;
	req_ready(p, c);
	c->req_ended = 1;
	c->req.flags |= flags;
	p->st.msg_bytes[c->req.dir] += c->req.head_bytes + c->req.body_bytes;
	if (p->cur_req == c)
		p->cur_req = NULL;
	p->cfg.cb(p->cfg.user, BZ_HTTP_END, &c->req);
}

static void resp_open(struct bz_pgsql *p, struct pgcall *c, int dir)
{
	if (c->resp_open)
		return;
	req_ready(p, c);
	msg_init(p, &c->resp, dir, 0, c->req.index, &p->d[dir].first);
	c->resp_open = 1;
	p->st.responses++;
	p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &c->resp);
}

/* Ends the front call: its request, then its response (opened here if
 * nothing answered it yet). */
static void call_end(struct bz_pgsql *p, int dir, uint32_t flags)
{
	struct pgcall *c = q_front(p);

	if (!c)
		return;
	if (c->kind != K_NOCALL) {
		req_end(p, c, 0);
		resp_open(p, c, dir);
		if (c->rowdesc || c->datarows)
			c->resp.db.rows = c->datarows;
		c->resp.flags |= flags;
		if (flags & BZ_HTTP_F_GUESSED_END)
			p->st.guessed_ends++;
		p->st.msg_bytes[dir] += c->resp.head_bytes + c->resp.body_bytes;
		p->cfg.cb(p->cfg.user, BZ_HTTP_END, &c->resp);
	}
	q_pop(p);
}

/* A new call of the client's (dir), its first message the one just
 * framed.  NULL when out of memory. */
static struct pgcall *call_new(struct bz_pgsql *p, int dir, enum kind kind)
{
	struct pgcall *c;
	int srv = !dir;

	/* The server's framing was lost: answers to the calls made before
	 * that went by unseen if the client goes on (a client that waits
	 * for each answer only goes on once it has it) */
	while (p->srv_lost && kind != K_NOCALL && q_front(p) && (q_front(p)->kind == K_NOCALL ||
								     q_front(p)->req.index < p->lost_before))
		call_end(p, srv, BZ_HTTP_F_GUESSED_END);
	if (p->srv_lost && (!q_front(p) || q_front(p)->req.index >= p->lost_before))
		p->srv_lost = 0;
	if (p->qlen == CALLS_MAX) {
		struct pgcall *f = q_front(p);
		if (f->kind != K_NOCALL) {
			req_end(p, f, BZ_HTTP_F_INCOMPLETE);
			if (f->resp_open)
				call_end(p, srv, BZ_HTTP_F_INCOMPLETE);
			else
				q_pop(p);
		} else {
			q_pop(p);
		}
		p->st.queue_overflows++;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = (uint8_t)kind;
	c->datarows = 0;
	if (kind != K_NOCALL)
		msg_init(p, &c->req, dir, 1, p->next_index++, &p->d[dir].first);
	p->q[(p->qhead + p->qlen) % CALLS_MAX] = c;
	p->qlen++;
	return c;
}

/* db.query.text, db.operation.name, db.collection.name of a call from a
 * sanitised statement. */
static void set_sanitised(struct pgcall *c, const char *query, int cut)
{
	struct bz_db_call *db = &c->req.db;
	uint32_t n = 0;

	snprintf(db->query, sizeof(db->query), "%s", query);
	bz_sql_summary(db->query, db->operation, sizeof(db->operation), db->collection, sizeof(db->collection), &n);
	db->batch = n > 1;
	db->batch_size = n > 1 ? n : 0;
	if (cut)
		c->req.flags |= BZ_HTTP_F_HEAD_CUT | BZ_HTTP_F_TARGET_CUT;
}

static void set_query(struct pgcall *c, const uint8_t *s, size_t n, int cut)
{
	char clean[BZ_DB_QUERY_MAX];
	const uint8_t *z = memchr(s, 0, n);

	if (z)
		n = (size_t)(z - s);

	bz_sql_sanitize((const char *)s, n, BZ_SQL_PG, clean, sizeof(clean));
	set_sanitised(c, clean, cut);
}

/* Bytes of a message of the client's to the call they belong to. */
static void req_bytes(struct bz_pgsql *p, int dir, struct pgcall *c, uint64_t total, int body)
{
	struct pgdir *d = &p->d[dir];

	if (!c || c->req_ended) {
		p->st.ignored[dir] += total;
		return;
	}
	if (body)
		c->req.body_bytes += total;
	else
		c->req.head_bytes += total;
	c->req.last = d->cur;
	if (d->skipped_since) {
		c->req.flags |= BZ_HTTP_F_RESYNC;
		p->st.resyncs++;
		d->skipped_since = 0;
	}
}

/* ---- the client's messages ---------------------------------------------------------- */

static void parse_msg(struct bz_pgsql *p, struct pgcall *c, const uint8_t *b, size_t n, int cut)
{
	char name[64], clean[BZ_DB_QUERY_MAX];
	size_t off = 0, ql, qoff;
	int whole;

	copy_cstr(name, sizeof(name), b, n);
	(void)cstr_at(b, n, &off, &whole);
	if (!whole)
		return; /* the statement's name was not captured whole */
	qoff = off;
	ql = cstr_at(b, n, &off, &whole);
	c->has_parse = 1;
	bz_sql_sanitize((const char *)b + qoff, ql, BZ_SQL_PG, clean, sizeof(clean));
	stmt_put(p, name, clean, !whole && cut);
	if (!c->req.db.query[0])
		set_sanitised(c, clean, !whole && cut);
}

static void bind_msg(struct bz_pgsql *p, struct pgcall *c, const uint8_t *b, size_t n)
{
	char name[64];
	size_t off = 0;
	int whole;
	struct pgstmt *s;

	(void)cstr_at(b, n, &off, &whole); /* the portal */
	if (!whole || off >= n)
		return;
	copy_cstr(name, sizeof(name), b + off, n - off);
	if (!c->req.db.query[0] && (s = stmt_find(p, name)))
		set_sanitised(c, s->query, s->cut);
}

static void front_msg(struct bz_pgsql *p, int dir, uint8_t type, uint64_t total)
{
	struct pgdir *d = &p->d[dir];
	const uint8_t *b = d->body;
	size_t n = d->keep;
	int cut = d->keep < d->blen; /* not captured, or longer than kept */
	struct pgcall *c, *last;

	switch (type) {
	case 'Q':
	case 'F':
		if (p->build) {
			/* (a protocol error: an extended sequence left without its Execute) */
			req_ready(p, p->build);
			p->build = NULL;
		}
		if (!(c = call_new(p, dir, type == 'Q' ? K_SIMPLE : K_FUNC))) {
			p->st.ignored[dir] += total;
			return;
		}
		c->group = p->group++;
		p->has_last_exec = 0;
		p->cur_req = c;
		req_bytes(p, dir, c, total, 0);
		if (type == 'Q')
			set_query(c, b, n, cut);
		else
			snprintf(c->req.db.operation, sizeof(c->req.db.operation), "FUNCTION CALL");
		req_ready(p, c);
		return;
	case 'P':
	case 'B':
	case 'D':
	case 'C':
	case 'E':
		if (!p->build) {
			if (!(c = call_new(p, dir, K_EXT))) {
				p->st.ignored[dir] += total;
				return;
			}
			c->group = p->group;
			p->build = p->cur_req = c;
		}
		c = p->build;
		req_bytes(p, dir, c, total, 0);
		if (type == 'P') {
			parse_msg(p, c, b, n, cut);
		} else if (type == 'B') {
			bind_msg(p, c, b, n);
		} else if (type == 'C' && n >= 2 && b[0] == 'S' && memchr(b + 1, 0, n - 1)) {
			char name[64];
			copy_cstr(name, sizeof(name), b + 1, n - 1);
			stmt_del(p, name);
		} else if (type == 'E') {
			c->has_exec = 1;
			p->build = NULL;
			p->last_exec_index = c->req.index;
			p->has_last_exec = 1;
			req_ready(p, c);
		}
		return;
	case 'S':
		c = p->build;
		last = !c && p->has_last_exec ? q_find(p, p->last_exec_index) : NULL;
		if (c) {
			/* a group without an Execute: a call of its own */
			p->build = NULL;
			c->sync_after = 1;
			req_bytes(p, dir, c, total, 0);
			req_ready(p, c);
		} else if (last && !last->req_ended) {
			last->sync_after = 1;
			req_bytes(p, dir, last, total, 0);
		} else if (last) {
			/* answered already but for the ReadyForQuery */
			last->sync_after = 1;
			p->st.ignored[dir] += total;
		} else {
			/* nothing to sync: its ReadyForQuery answers no call */
			p->st.ignored[dir] += total;
			(void)call_new(p, dir, K_NOCALL);
		}
		p->has_last_exec = 0;
		p->group++;
		return;
	case 'H':
		req_bytes(p, dir, p->build ? p->build : p->cur_req, total, 0);
		return;
	case 'd':
	case 'c':
	case 'f':
		req_bytes(p, dir, p->cur_req, total, 1);
		return;
	default: /* Terminate, password and SASL messages: no call */
		p->st.ignored[dir] += total;
		return;
	}
}

/* The startup-phase packet just framed (no type byte). */
static void startup_msg(struct bz_pgsql *p, int dir, uint64_t total)
{
	struct pgdir *d = &p->d[dir], *s = &p->d[!dir];
	uint32_t code = d->keep >= 4 ? bz_pg_be32(d->body) : 0;
	char user[BZ_DB_NAME_MAX] = "", db[BZ_DB_NAME_MAX] = "";

	p->st.ignored[dir] += total;
	if (code == BZ_PG_SSL || code == BZ_PG_GSSENC) {
		s->st = D_SSL_ANSWER;
		s->type = code == BZ_PG_SSL ? 'S' : 'G';
		return; /* the client waits for the answer, then startup goes on */
	}
	d->st = D_MSG;
	if (code == BZ_PG_CANCEL) {
		p->st.requests++; /* counted: it gets no answer, so no span */
		return;
	}
	/* user\0name\0database\0name\0...\0 */
	for (size_t off = 4; off < d->keep && d->body[off];) {
		size_t ko = off, vo;
		int whole;
		size_t kl = cstr_at(d->body, d->keep, &off, &whole);
		if (!whole)
			break;
		vo = off;
		(void)cstr_at(d->body, d->keep, &off, &whole);
		if (!whole)
			break;
		if (kl == 4 && !memcmp(d->body + ko, "user", 4))
			copy_cstr(user, sizeof(user), d->body + vo, d->keep - vo);
		else if (kl == 8 && !memcmp(d->body + ko, "database", 8))
			copy_cstr(db, sizeof(db), d->body + vo, d->keep - vo);
	}
	snprintf(p->namespace_, sizeof(p->namespace_), "%s", db[0] ? db : user);
	/* authentication and the parameters that follow end at a ReadyForQuery */
	(void)call_new(p, dir, K_NOCALL);
}

/* ---- the server's messages ---------------------------------------------------------- */

/* The SQLSTATE ('C' field) of an ErrorResponse's content b[0..n). */
static void error_code(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t off = 0;

	while (off < n && b[off]) {
		uint8_t f = b[off++];
		size_t vo = off;
		int whole;
		size_t l = cstr_at(b, n, &off, &whole);
		if (f == 'C' && whole) {
			copy_cstr(out, cap, b + vo, l + 1);
			return;
		}
		if (!whole)
			return;
	}
}

/* Rows a CommandComplete tag says were returned: SELECT n, FETCH n,
 * COPY n of a COPY TO STDOUT; -1 otherwise. */
static int64_t tag_rows(const uint8_t *b, size_t n, int copy_out)
{
	size_t sp;
	int64_t v = 0;

	if (!(n >= 8 && !memcmp(b, "SELECT ", 7)) && !(n >= 7 && !memcmp(b, "FETCH ", 6)) &&
	    !(copy_out && n >= 6 && !memcmp(b, "COPY ", 5)))
		return -1;
	sp = (size_t)((const uint8_t *)memchr(b, ' ', n) - b) + 1;
	if (sp >= n || b[sp] < '0' || b[sp] > '9')
		return -1;
	for (; sp < n && b[sp] >= '0' && b[sp] <= '9'; sp++)
		if (v < INT64_MAX / 10 - 10)
			v = v * 10 + (b[sp] - '0');
	return v;
}

static void resp_bytes(struct bz_pgsql *p, int dir, struct pgcall *c, uint64_t total, int body)
{
	struct pgdir *d = &p->d[dir];

	resp_open(p, c, dir);
	if (body)
		c->resp.body_bytes += total;
	else
		c->resp.head_bytes += total;
	c->resp.last = d->cur;
	if (d->skipped_since) {
		c->resp.flags |= BZ_HTTP_F_RESYNC;
		p->st.resyncs++;
		d->skipped_since = 0;
	}
}

/* ReadyForQuery: the front Sync group (or Query, FunctionCall) is over. */
static void ready_for_query(struct bz_pgsql *p, int dir, uint64_t total)
{
	struct pgcall *c;

	while ((c = q_front(p))) {
		int last = c->kind != K_EXT || c->sync_after;
		if (c->kind == K_NOCALL) {
			p->st.ignored[dir] += total;
			q_pop(p);
			return;
		}
		if (last) {
			resp_bytes(p, dir, c, total, 0);
			c->resp.db.error |= c->aborted; /* skipped after an error */
			call_end(p, dir, 0);
			return;
		}
		/* a call of the group that got no answer of its own: skipped
		 * after an error, failed */
		resp_open(p, c, dir);
		c->resp.db.error = 1;
		call_end(p, dir, 0);
	}
	p->st.ignored[dir] += total;
}

static void back_msg(struct bz_pgsql *p, int dir, uint8_t type, uint64_t total)
{
	struct pgdir *d = &p->d[dir];
	struct pgcall *c = q_front(p);
	int64_t rows;

	if (type == 'Z') {
		ready_for_query(p, dir, total);
		return;
	}
	if (!c || c->kind == K_NOCALL || type == 'R' || type == 'K') {
		p->st.ignored[dir] += total; /* startup, or no call asked for it */
		return;
	}
	resp_bytes(p, dir, c, total, type == 'D' || type == 'd');
	switch (type) {
	case 'T':
		c->rowdesc = 1;
		break;
	case 'D':
		c->datarows++;
		break;
	case 'H':
		c->copy_out = 1;
		break;
	case 'C':
		rows = tag_rows(d->body, d->keep, c->copy_out);
		if (rows >= 0 && !c->rowdesc && !c->datarows)
			c->resp.db.rows = rows;
		/* fall through */
	case 'I':
	case 's':
		if (c->kind == K_EXT && !c->sync_after)
			call_end(p, dir, 0);
		break;
	case 'E':
		if (!c->resp.db.error) {
			c->resp.db.error = 1;
			error_code(d->body, d->keep, c->resp.db.status, sizeof(c->resp.db.status));
		}
		if (c->kind == K_EXT) {
			/* the server skips to the Sync: the group's later calls fail */
			for (unsigned i = 1; i < p->qlen; i++) {
				struct pgcall *o = p->q[(p->qhead + i) % CALLS_MAX];
				if (o->kind == K_EXT && o->group == c->group)
					o->aborted = 1;
			}
			if (!c->sync_after)
				call_end(p, dir, 0);
		}
		break;
	default:
		break;
	}
}

/* ---- framing ------------------------------------------------------------------------ */

static int keep_content(const struct bz_pgsql *p, int dir, enum dst st, uint8_t type)
{
	if (st == D_STARTUP)
		return 1;
	if (side_of(p, dir) == BZ_PG_FRONT)
		return type == 'Q' || type == 'P' || type == 'B' || type == 'C';
	return type == 'C' || type == 'E';
}

/* The message in d is whole (or its end was not captured: d->cut). */
static void msg_done(struct bz_pgsql *p, int dir)
{
	struct pgdir *d = &p->d[dir];
	uint64_t total = (uint64_t)d->hlen + d->blen;
	uint8_t type = d->type;
	enum dst st = d->st;

	d->in_body = 0;
	d->hlen = 0;
	if (st == D_STARTUP)
		startup_msg(p, dir, total);
	else if (side_of(p, dir) == BZ_PG_FRONT)
		front_msg(p, dir, type, total);
	else
		back_msg(p, dir, type, total);
	d->keep = 0;
	d->cut = 0;
}

/* The framing of dir is lost: `extra` more bytes go to skipped, and the
 * direction waits for a read that begins with messages. */
static void lose(struct bz_pgsql *p, int dir, uint64_t extra)
{
	struct pgdir *d = &p->d[dir];
	uint64_t n = extra + d->hlen + (d->in_body ? d->bgot : 0);

	p->st.skipped[dir] += n;
	d->skipped_since += n;
	d->hlen = 0;
	d->in_body = 0;
	d->keep = 0;
	d->cut = 0;
	d->st = D_SYNC;
	p->st.malformed += extra == 0;
	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
		return;
	if (side_of(p, dir) == BZ_PG_FRONT) {
		/* what the lost bytes held of the call being made is unknown:
		 * most likely its Execute and Sync (libpq writes them together) */
		if (p->build) {
			p->build->req.flags |= BZ_HTTP_F_HEAD_CUT;
			p->build->sync_after = 1;
			p->build->has_exec = 1;
			req_ready(p, p->build);
			p->build = NULL;
			p->group++;
		}
	} else if (p->qlen) {
		p->srv_lost = 1;
		p->lost_before = p->next_index;
	}
}

/* A header is whole in d->hdr: checks it, opens the body. */
static void header_done(struct bz_pgsql *p, int dir)
{
	struct pgdir *d = &p->d[dir];
	uint32_t len;

	if (d->st == D_STARTUP) {
		len = bz_pg_be32(d->hdr);
		if (len < 8 || len > BZ_PG_STARTUP_MAX) {
			lose(p, dir, 0);
			return;
		}
		d->type = 0;
	} else {
		d->type = d->hdr[0];
		len = bz_pg_be32(d->hdr + 1);
		if (!bz_pg_type_ok(d->type, len, (unsigned)side_of(p, dir))) {
			lose(p, dir, 0);
			return;
		}
	}
	d->blen = len - 4;
	d->bgot = 0;
	d->keep = 0;
	d->cut = 0;
	d->keep_it = (uint8_t)keep_content(p, dir, d->st, d->type);
	d->in_body = 1;
	if (!d->blen)
		msg_done(p, dir);
}

/* Consumes known bytes s[0..n) of dir; returns how many. */
static size_t step(struct bz_pgsql *p, int dir, const uint8_t *s, size_t n)
{
	struct pgdir *d = &p->d[dir];
	size_t k;

	switch (d->st) {
	case D_TLS:
		p->st.ignored[dir] += n;
		return n;
	case D_SYNC:
	case D_FIRST:
		p->st.skipped[dir] += n;
		d->skipped_since += n;
		return n;
	case D_SSL_ANSWER:
		if (s[0] == d->type) {
			/* encryption accepted: the rest of the socket is TLS (or GSSAPI) */
			p->st.ignored[dir]++;
			p->st.upgraded = 1;
			d->st = p->d[!dir].st = D_TLS;
			return 1;
		}
		d->st = D_MSG;
		if (s[0] == 'N') {
			p->st.ignored[dir]++;
			return 1;
		}
		return 0; /* an error message instead: framed as one */
	default:
		break;
	}
	if (!d->in_body) {
		size_t need = d->st == D_STARTUP ? 4u : 5u;
		if (!d->hlen)
			d->first = d->cur;
		k = need - d->hlen < n ? need - d->hlen : n;
		memcpy(d->hdr + d->hlen, s, k);
		d->hlen = (uint8_t)(d->hlen + k);
		if (d->hlen == need)
			header_done(p, dir);
		return k;
	}
	k = d->blen - d->bgot < n ? d->blen - d->bgot : n;
	if (d->keep_it && d->keep < KEEP_MAX && !d->cut) {
		size_t t = KEEP_MAX - d->keep < k ? KEEP_MAX - d->keep : k;
		memcpy(d->body + d->keep, s, t);
		d->keep += (uint32_t)t;
	}
	d->bgot += (uint32_t)k;
	if (d->bgot == d->blen)
		msg_done(p, dir);
	return k;
}

/* u bytes of this read were not captured. */
static void unknown(struct bz_pgsql *p, int dir, uint64_t u)
{
	struct pgdir *d = &p->d[dir];

	switch (d->st) {
	case D_TLS:
		p->st.ignored[dir] += u;
		return;
	case D_SYNC:
	case D_FIRST:
		p->st.skipped[dir] += u;
		d->skipped_since += u;
		return;
	case D_SSL_ANSWER:
		lose(p, dir, u);
		return;
	default:
		break;
	}
	if (d->in_body) {
		uint64_t k = d->blen - d->bgot < u ? d->blen - d->bgot : u;
		d->bgot += (uint32_t)k;
		d->cut = 1;
		u -= k;
		if (d->bgot == d->blen)
			msg_done(p, dir);
	}
	if (u)
		lose(p, dir, u);
}

/* Before a read's bytes: a direction that lost its framing (or has yet to
 * learn its role) looks at how the read begins. */
static void read_start(struct bz_pgsql *p, int dir, const uint8_t *s, size_t n, uint64_t len)
{
	struct pgdir *d = &p->d[dir];
	uint32_t code;
	unsigned sides;

	/* (joined, but the connection's start after all: a socket a forked
	 * server inherited shows as open before the recording) */
	if (d->st == D_FIRST || (d->st == D_SYNC && !p->synced && p->req_dir != (int)!dir)) {
		if (n && bz_pg_startup(s, n, &code) == 2) {
			p->synced = 1;
			p->req_dir = dir;
			d->st = D_STARTUP;
			if (p->d[!dir].st == D_FIRST || p->d[!dir].st == D_SYNC)
				p->d[!dir].st = D_MSG;
			return;
		}
		d->st = D_SYNC;
	}
	if (d->st != D_SYNC || !n)
		return;
	sides = p->req_dir == BZ_HTTP_DIR_UNKNOWN ? BZ_PG_FRONT | BZ_PG_BACK : (unsigned)side_of(p, dir);
	sides = bz_pg_plausible(s, n, len, sides, SYNC_LEN_MAX);
	if (sides != BZ_PG_FRONT && sides != BZ_PG_BACK)
		return; /* none, or either side's: keep looking */
	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN) {
		p->req_dir = sides == BZ_PG_FRONT ? dir : !dir;
		if (p->d[!dir].st == D_FIRST)
			p->d[!dir].st = D_SYNC;
	}
	p->synced = 1;
	d->st = D_MSG;
}

/* ---- the plug-in -------------------------------------------------------------------- */

static void pg_free(struct bz_pgsql *p)
{
	while (p->qlen)
		q_pop(p);
	free(p->stmts);
	free(p);
}

static int pg_create(void **out, const struct bz_proto_cfg *cfg)
{
	struct bz_pgsql *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->req_dir = cfg->req_dir == BZ_HTTP_IN || cfg->req_dir == BZ_HTTP_OUT ? cfg->req_dir : BZ_HTTP_DIR_UNKNOWN;
	for (int i = 0; i < 2; i++) {
		if (!cfg->fresh)
			p->d[i].st = D_SYNC;
		else if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
			p->d[i].st = D_FIRST;
		else
			p->d[i].st = i == p->req_dir ? D_STARTUP : D_MSG;
	}
	p->synced = cfg->fresh && p->req_dir != BZ_HTTP_DIR_UNKNOWN;
	*out = p;
	return 0;
}

static void pg_feed(void *pv, int dir, const struct bz_http_read *rd)
{
	struct bz_pgsql *p = pv;
	struct pgdir *d;
	size_t cap, i = 0;

	if (!p || (dir != BZ_HTTP_IN && dir != BZ_HTTP_OUT) || !rd || !rd->len)
		return;
	d = &p->d[dir];
	p->st.fed[dir] += rd->len;
	if (p->flushed) {
		p->st.ignored[dir] += rd->len;
		return;
	}
	cap = rd->data ? (rd->caplen < rd->len ? rd->caplen : rd->len) : 0;
	d->cur = rd->at;
	read_start(p, dir, rd->data, cap, rd->len);
	while (i < cap)
		i += step(p, dir, rd->data + i, cap - i);
	if (rd->len > cap)
		unknown(p, dir, rd->len - cap);
}

static void pg_flush(void *pv, int closed)
{
	struct bz_pgsql *p = pv;

	(void)closed;
	if (!p || p->flushed)
		return;
	p->flushed = 1;
	/* a message the connection ended inside */
	for (int dir = 0; dir < 2; dir++) {
		struct pgdir *d = &p->d[dir];
		p->st.ignored[dir] += d->hlen + (d->in_body ? d->bgot : 0);
		d->hlen = 0;
		d->in_body = 0;
	}
	/* requests first, so a request's END precedes its response's */
	for (unsigned i = 0; i < p->qlen; i++) {
		struct pgcall *c = p->q[(p->qhead + i) % CALLS_MAX];
		req_end(p, c, c->ready ? 0 : BZ_HTTP_F_INCOMPLETE);
	}
	while (p->qlen) {
		struct pgcall *c = q_front(p);
		if (c->resp_open)
			call_end(p, c->resp.dir, BZ_HTTP_F_INCOMPLETE);
		else
			q_pop(p);
	}
}

static void pg_destroy(void **pp)
{
	if (pp && *pp)
		pg_free(*pp);
	if (pp)
		*pp = NULL;
}

static int pg_req_dir(const void *pv) { return pv ? ((const struct bz_pgsql *)pv)->req_dir : BZ_HTTP_DIR_UNKNOWN; }
static const struct bz_proto_stats *pg_stats(const void *pv) { return pv ? &((const struct bz_pgsql *)pv)->st : NULL; }

const struct bz_proto_ops bz_proto_pgsql = {
	.name = "postgresql",
	.id = BZ_PROTO_PGSQL,
	.multiplexed = 0,
	.detect = bz_pgsql_detect,
	.create = pg_create,
	.feed = pg_feed,
	.flush = pg_flush,
	.destroy = pg_destroy,
	.req_dir = pg_req_dir,
	.stats = pg_stats,
};
