/* redis.c - Redis connections as database calls (redis.h).
 *
 * Each direction is walked by resp.c.  While a top-level message goes by,
 * the pieces that name it are kept (a command's name and first argument,
 * or its inline line; a reply's type, count, status or error line, the
 * first word of an array or push); at its end it is one request, one
 * reply, or an out-of-band message.  The walker counts every byte of a
 * message, so each byte fed lands in a message, or is skipped (lost
 * framing, waiting for a plausible start), or ignored (out-of-band). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redis.h"
#include "redis_cmds.h"
#include "resp.h"

#define KEEP_ARG 160   /* bytes of a command's first argument kept (its key) */
#define KEEP_LINE 512  /* bytes of an inline command or a reply's line kept */
#define KEEP_WORD 16   /* bytes of an aggregate reply's first element kept */
#define QUEUE_MAX 65536u /* commands awaiting replies on one connection */

/* A command awaiting its reply. */
struct pend {
	uint64_t index;
	uint8_t sub;      /* bz_redis_sub_kind: answered by confirmations */
	uint8_t monitor;  /* MONITOR: its +OK starts the stream */
	uint8_t reset;    /* RESET: leaves subscribe and monitor modes */
	uint32_t want;    /* confirmations expected (0: as many as follow) */
	uint32_t got;
};

struct rdir {
	struct bz_resp w;
	uint8_t lost;      /* waiting for a read that begins an element */
	uint8_t in_msg;    /* a message has begun */
	uint8_t resync;    /* the next message comes after bytes skipped */
	struct bz_http_point cur, first;
	/* what the current message shows */
	uint8_t top_type, all_bulk;
	int64_t top_count;
	int64_t last_int;  /* the last integer among the top-level aggregate's children */
	uint8_t name_len, name_over, arg1_cut, line_cut, word_len, word_over;
	uint16_t arg1_len, line_len;
	char name[BZ_REDIS_NAME_MAX];
	char arg1[KEEP_ARG];
	char line[KEEP_LINE];
	char word[KEEP_WORD];
};

struct bz_redis {
	int req_dir;
	uint8_t flushed, subscribed, monitoring;
	bz_http_cb cb;
	void *user;
	uint64_t next_index, pushes;
	struct pend *q;
	size_t qhead, qlen, qcap;
	char ns[BZ_DB_NAME_MAX];
	struct bz_http_msg run; /* a subscribe command's confirmations, open */
	uint8_t run_open;
	struct bz_proto_stats st;
	struct rdir d[2];
};

/* ---- the queue of commands awaiting replies ---------------------------------- */

static int q_push(struct bz_redis *p, const struct pend *e)
{
	if (p->qlen == p->qcap) {
		size_t cap = p->qcap ? p->qcap * 2 : 16;
		struct pend *nq;
		if (p->qcap >= QUEUE_MAX) {
			/* the oldest is forgotten: its reply will be taken for the next one's */
			p->qhead = (p->qhead + 1) % p->qcap;
			p->qlen--;
			p->st.queue_overflows++;
			goto put;
		}
		nq = malloc(cap * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		for (size_t i = 0; i < p->qlen; i++)
			nq[i] = p->q[(p->qhead + i) % p->qcap];
		free(p->q);
		p->q = nq;
		p->qcap = cap;
		p->qhead = 0;
	}
put:
	p->q[(p->qhead + p->qlen) % p->qcap] = *e;
	p->qlen++;
	return 0;
}

static struct pend *q_front(struct bz_redis *p) { return p->qlen ? &p->q[p->qhead] : NULL; }

static void q_pop(struct bz_redis *p)
{
	if (p->qlen) {
		p->qhead = (p->qhead + 1) % p->qcap;
		p->qlen--;
	}
}

/* ---- small helpers ------------------------------------------------------------ */

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }

static void keep(char *dst, size_t cap, uint16_t *len, uint8_t *cut, const uint8_t *s, size_t n)
{
	size_t room = cap - *len, k = n < room ? n : room;

	if (!s) {
		*cut = 1;
		return;
	}
	memcpy(dst + *len, s, k);
	*len = (uint16_t)(*len + k);
	if (k < n)
		*cut = 1;
}

static void msg_init(struct bz_redis *p, struct bz_http_msg *m, int dir, int is_request)
{
	memset(m, 0, sizeof(*m));
	m->dir = (uint8_t)dir;
	m->is_request = (uint8_t)is_request;
	m->version = 1;
	m->proto = BZ_PROTO_REDIS;
	m->content_length = -1;
	m->grpc_status = -1;
	m->index = BZ_HTTP_NO_INDEX;
	m->first = p->d[dir].first;
	m->last = p->d[dir].cur;
	m->db.rows = -1;
	memcpy(m->db.system, "redis", 6);
	if (p->d[dir].resync) {
		m->flags |= BZ_HTTP_F_RESYNC;
		p->d[dir].resync = 0;
	}
}

static void report(struct bz_redis *p, struct bz_http_msg *m, int end)
{
	p->cb(p->user, BZ_HTTP_HEAD, m);
	if (end) {
		p->st.msg_bytes[m->dir] += m->head_bytes + m->body_bytes;
		p->cb(p->user, BZ_HTTP_END, m);
	}
}

static void skip(struct bz_redis *p, int dir, uint64_t n)
{
	p->st.skipped[dir] += n;
	if (n)
		p->d[dir].resync = 1;
}

/* ---- requests ------------------------------------------------------------------ */

/* The command's words, from an array of bulk strings or an inline line:
 * its name, its first argument (cut: not all of it known) and how many
 * arguments it has.  0 when it is no command (an empty line). */
struct words {
	const char *name;
	size_t name_len;
	const char *arg1;
	size_t arg1_len;
	int arg1_cut;
	uint64_t nargs;
};

static int command_words(struct rdir *d, struct words *w, int cut)
{
	memset(w, 0, sizeof(*w));
	if (d->top_type == '*') {
		/* (a command cut short is one, what is known of it: its reply follows) */
		if (!cut && (!d->all_bulk || d->top_count < 1))
			return 0;
		w->name = d->name;
		w->name_len = d->name_over ? 0 : d->name_len;
		w->arg1 = d->arg1;
		w->arg1_len = d->arg1_len;
		w->arg1_cut = d->arg1_cut;
		w->nargs = d->top_count > 0 ? (uint64_t)d->top_count - 1 : 0;
		return 1;
	}
	if (d->top_type != BZ_RESP_INLINE)
		return 0;
	/* inline: words by blanks (quoting is not followed) */
	size_t i = 0, n = d->line_len;
	const char *l = d->line;
	uint64_t nw = 0;
	while (i < n) {
		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		if (i == n)
			break;
		size_t s = i;
		while (i < n && l[i] != ' ' && l[i] != '\t')
			i++;
		if (nw == 0) {
			w->name = l + s;
			w->name_len = i - s <= BZ_REDIS_NAME_MAX ? i - s : 0;
		} else if (nw == 1) {
			w->arg1 = l + s;
			w->arg1_len = i - s;
			w->arg1_cut = i == n && d->line_cut;
		}
		nw++;
	}
	/* (words beyond the kept line are not counted) */
	if (!nw)
		return 0;
	w->nargs = nw - 1;
	return 1;
}

static size_t append(char *dst, size_t cap, size_t len, const char *s, size_t n)
{
	if (len + n + 1 > cap)
		return len;
	memcpy(dst + len, s, n);
	dst[len + n] = 0;
	return len + n;
}

/* db.query.text: the name, the key of a key command, a '?' per argument. */
static void query_text(char *q, size_t cap, const char *op, enum bz_redis_class cls, const struct words *w)
{
	size_t len = append(q, cap, 0, op, strlen(op));
	uint64_t rest = w->nargs;

	if (w->nargs && (cls == BZ_REDIS_KEY)) {
		char key[KEEP_ARG + 4];
		size_t k = 0;
		for (size_t i = 0; i < w->arg1_len && k < KEEP_ARG; i++) {
			unsigned char c = (unsigned char)w->arg1[i];
			key[k++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
		}
		if (w->arg1_cut) {
			memcpy(key + k, "...", 3);
			k += 3;
		}
		len = append(q, cap, len, " ", 1);
		len = append(q, cap, len, key, k);
		rest--;
	} else if (w->nargs && cls == BZ_REDIS_SUB) {
		rest--; /* (the subcommand is in the operation) */
	}
	for (; rest; rest--) {
		if (len + 2 + 4 + 1 > cap) {
			append(q, cap, len, " ...", 4);
			return;
		}
		len = append(q, cap, len, " ?", 2);
	}
}

static int is_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);
	if (n != k)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (upper(s[i]) != w[i])
			return 0;
	return 1;
}

static void request_done(struct bz_redis *p, int dir, uint64_t head, uint64_t bytes, uint32_t flags)
{
	struct rdir *d = &p->d[dir];
	struct bz_http_msg m;
	struct words w;
	struct pend e = { 0 };
	enum bz_redis_class cls;
	char op[BZ_DB_OP_MAX];
	size_t ol = 0;

	if (!command_words(d, &w, (flags & (BZ_HTTP_F_HEAD_CUT | BZ_HTTP_F_INCOMPLETE)) != 0)) {
		if (d->top_type != BZ_RESP_INLINE)
			p->st.malformed++;
		skip(p, dir, bytes);
		return;
	}
	/* (as the masker: an unknown inline command's arguments are masked) */
	cls = !w.name_len ? BZ_REDIS_KEY
	      : d->top_type == BZ_RESP_INLINE ? bz_redis_inline_class(w.name, w.name_len)
					      : bz_redis_class_of(w.name, w.name_len, NULL);
	for (size_t i = 0; i < w.name_len && ol + 1 < sizeof(op); i++)
		op[ol++] = upper(w.name[i]);
	op[ol] = 0;
	if (cls == BZ_REDIS_SUB && w.nargs && ol + 2 < sizeof(op)) {
		op[ol++] = ' ';
		for (size_t i = 0; i < w.arg1_len && ol + 1 < sizeof(op); i++)
			op[ol++] = upper(w.arg1[i]);
		op[ol] = 0;
	}
	/* the database the connection uses from here on */
	if (cls == BZ_REDIS_DBINDEX && w.nargs == 1 && w.arg1_len && w.arg1_len < sizeof(p->ns) && !w.arg1_cut) {
		size_t i = 0;
		while (i < w.arg1_len && w.arg1[i] >= '0' && w.arg1[i] <= '9')
			i++;
		if (i == w.arg1_len) {
			memcpy(p->ns, w.arg1, i);
			p->ns[i] = 0;
		}
	}
	msg_init(p, &m, dir, 1);
	m.flags |= flags;
	m.index = p->next_index++;
	m.head_bytes = head;
	m.body_bytes = bytes - head;
	memcpy(m.db.operation, op, ol + 1);
	memcpy(m.db.namespace_, p->ns, sizeof(m.db.namespace_));
	query_text(m.db.query, sizeof(m.db.query), op, cls, &w);
	p->st.requests++;
	report(p, &m, 1);
	e.index = m.index;
	e.sub = (uint8_t)bz_redis_sub_kind(w.name, w.name_len);
	e.want = w.nargs > UINT32_MAX ? UINT32_MAX : (uint32_t)w.nargs;
	e.monitor = is_word(w.name, w.name_len, "MONITOR");
	e.reset = is_word(w.name, w.name_len, "RESET");
	if (q_push(p, &e))
		p->st.queue_overflows++; /* (out of memory: its reply goes unpaired) */
}

/* ---- replies -------------------------------------------------------------------- */

static void end_run(struct bz_redis *p)
{
	if (!p->run_open)
		return;
	p->run_open = 0;
	p->st.responses++;
	p->st.msg_bytes[p->run.dir] += p->run.head_bytes + p->run.body_bytes;
	p->cb(p->user, BZ_HTTP_END, &p->run);
	q_pop(p);
}

static int word_is(const struct rdir *d, const char *w)
{
	return !d->word_over && d->word_len == strlen(w) && !memcmp(d->word, w, d->word_len);
}

/* A subscribe-family confirmation answering e. */
static int confirms(const struct rdir *d, const struct pend *e)
{
	return e && e->sub && (d->top_type == '*' || d->top_type == '>') && word_is(d, bz_redis_sub_words[e->sub - 1]);
}

static void confirmation(struct bz_redis *p, int dir, struct pend *e, uint64_t head, uint64_t bytes)
{
	struct rdir *d = &p->d[dir];

	if (!p->run_open) {
		msg_init(p, &p->run, dir, 0);
		p->run.index = e->index;
		p->run_open = 1;
		p->cb(p->user, BZ_HTTP_HEAD, &p->run);
	}
	p->run.last = d->cur;
	p->run.head_bytes += head;
	p->run.body_bytes += bytes - head;
	e->got++;
	p->subscribed = e->sub <= 3 ? 1 : d->last_int > 0;
	if (e->want && e->got >= e->want)
		end_run(p);
}

/* The first word of the line kept: an error's prefix. */
static void error_prefix(const struct rdir *d, char *out, size_t cap)
{
	size_t k = 0;
	while (k < d->line_len && k + 1 < cap && d->line[k] != ' ' && d->line[k] != '*')
		out[k] = d->line[k], k++;
	out[k] = 0;
}

static void reply_done(struct bz_redis *p, int dir, uint64_t head, uint64_t bytes, uint32_t flags)
{
	struct rdir *d = &p->d[dir];
	struct pend *e = q_front(p);
	struct bz_http_msg m;
	uint8_t t = d->top_type;

	if (p->run_open && !confirms(d, e)) {
		end_run(p);
		e = q_front(p);
	}
	if (confirms(d, e)) {
		confirmation(p, dir, e, head, bytes);
		return;
	}
	/* out of band: no command asked for it */
	if (t == '>' ||
	    (t == '*' && (word_is(d, "message") || word_is(d, "pmessage") || word_is(d, "smessage")) &&
	     (p->subscribed || !e)) ||
	    (p->monitoring && !(e && t == '+' && d->line_len == 2 && !memcmp(d->line, "OK", 2)))) {
		p->pushes++;
		p->st.ignored[dir] += bytes;
		return;
	}
	msg_init(p, &m, dir, 0);
	m.flags |= flags;
	m.head_bytes = head;
	m.body_bytes = bytes - head;
	if (t == '-' || t == '!') {
		m.db.error = 1;
		error_prefix(d, m.db.status, sizeof(m.db.status));
	}
	if ((t == '*' || t == '~' || t == '%') && d->top_count >= 0)
		m.db.rows = d->top_count;
	if (e) {
		m.index = e->index;
		if (e->monitor && t == '+')
			p->monitoring = 1;
		if (e->reset)
			p->monitoring = p->subscribed = 0;
		q_pop(p);
	} else {
		m.flags |= BZ_HTTP_F_NO_REQUEST;
	}
	p->st.responses++;
	report(p, &m, 1);
}

/* ---- the walker's callbacks ------------------------------------------------------ */

struct ctx {
	struct bz_redis *p;
	int dir;
};

static void on_piece(void *u, const struct bz_resp *r, enum bz_resp_piece k, const uint8_t *s, size_t n)
{
	struct ctx *c = u;
	struct rdir *d = &c->p->d[c->dir];

	/* (lengths and counts are the walker's) */
	if (k == BZ_RESP_P_LINE && r->depth == 0 && (r->type == BZ_RESP_INLINE || r->type == '+' || r->type == '-')) {
		keep(d->line, sizeof(d->line), &d->line_len, &d->line_cut, s, n);
		return;
	}
	if (k != BZ_RESP_P_DATA)
		return;
	if (c->dir == c->p->req_dir) {
		if (r->depth != 1 || r->lv[0].type != '*' || r->type != '$')
			return;
		if (r->lv[0].child == 0) {
			uint16_t l = d->name_len;
			keep(d->name, sizeof(d->name), &l, &d->name_over, s, n);
			d->name_len = (uint8_t)l;
		} else if (r->lv[0].child == 1) {
			keep(d->arg1, sizeof(d->arg1), &d->arg1_len, &d->arg1_cut, s, n);
		}
		return;
	}
	if (r->depth == 0 && r->type == '!') {
		keep(d->line, sizeof(d->line), &d->line_len, &d->line_cut, s, n);
	} else if (r->depth == 1 && r->lv[0].child == 0 && r->type == '$' &&
		   (r->lv[0].type == '*' || r->lv[0].type == '>')) {
		uint16_t l = d->word_len;
		keep(d->word, sizeof(d->word), &l, &d->word_over, s, n);
		d->word_len = (uint8_t)l;
	}
}

static void message_done(struct bz_redis *p, int dir, uint64_t head, uint64_t bytes, uint32_t flags)
{
	p->d[dir].in_msg = 0;
	if (dir == p->req_dir)
		request_done(p, dir, head, bytes, flags);
	else
		reply_done(p, dir, head, bytes, flags);
}

static void on_event(void *u, const struct bz_resp *r, enum bz_resp_event ev)
{
	struct ctx *c = u;
	struct rdir *d = &c->p->d[c->dir];

	switch (ev) {
	case BZ_RESP_E_BEGIN:
		if (r->depth == 0) {
			if (!d->in_msg) {
				d->in_msg = 1;
				d->first = d->cur;
				d->name_len = d->name_over = 0;
				d->arg1_len = d->arg1_cut = 0;
				d->word_len = d->word_over = 0;
				d->last_int = -1;
			}
			/* (after an attribute: the element it describes) */
			d->line_len = d->line_cut = 0;
			d->top_type = r->type;
			d->top_count = -1;
			d->all_bulk = 1;
		} else if (r->depth == 1 && r->lv[0].type == '*' && r->type != '$') {
			d->all_bulk = 0;
		}
		break;
	case BZ_RESP_E_HEAD:
		if (r->depth == 0)
			d->top_count = r->num;
		break;
	case BZ_RESP_E_END:
		if (r->depth == 1 && r->type == ':')
			d->last_int = r->num;
		break;
	case BZ_RESP_E_TOP:
		message_done(c->p, c->dir, r->top_head, r->top_bytes, 0);
		break;
	default:
		break;
	}
}

static const struct bz_resp_cb walk_cb = { on_piece, on_event };

/* ---- losing and finding the framing ----------------------------------------------- */

/* Replies can no longer be paired: the commands waiting end incomplete. */
static void drop_waiting(struct bz_redis *p, int dir)
{
	struct bz_http_msg m;

	end_run(p);
	while (p->qlen) {
		msg_init(p, &m, dir, 0);
		m.first = m.last = p->d[dir].cur;
		m.index = q_front(p)->index;
		m.flags |= BZ_HTTP_F_INCOMPLETE;
		q_pop(p);
		report(p, &m, 1);
	}
}

/* The framing of dir was lost; rest bytes of the read follow the walker's
 * last.  The message cut is reported if its start was seen (rest: in it). */
static void lost(struct bz_redis *p, int dir, uint64_t rest, uint32_t flags)
{
	struct rdir *d = &p->d[dir];
	uint64_t partial = d->w.top_bytes, head = d->w.top_head;

	d->lost = 1;
	if (d->in_msg && partial) {
		if (!head)
			head = partial;
		p->st.cut_heads += !(flags & BZ_HTTP_F_INCOMPLETE);
		message_done(p, dir, head, partial + rest, flags);
	} else {
		skip(p, dir, partial + rest);
	}
	d->in_msg = 0;
	d->resync = 1;
	if (dir != p->req_dir && !(flags & BZ_HTTP_F_INCOMPLETE))
		drop_waiting(p, dir);
}

/* The roles, from the first element seen when the connection's role is
 * not known: commands go one way, replies the other. */
static void guess_roles(struct bz_redis *p, int dir, const uint8_t *s, size_t n)
{
	if (bz_resp_command_start(s, n) == 2 && !bz_redis_push_start(s, n))
		p->req_dir = dir;
	else if (bz_redis_inline_command(s, n))
		p->req_dir = dir;
	else if (bz_resp_reply_start(s, n) && s[0] != '*')
		p->req_dir = !dir;
}

/* Does the read s[0..n) begin an element of dir's kind? */
static int plausible(struct bz_redis *p, int dir, const uint8_t *s, size_t n)
{
	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
		guess_roles(p, dir, s, n);
	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
		return 0;
	if (dir == p->req_dir)
		return bz_resp_command_start(s, n) == 2 || bz_redis_inline_command(s, n);
	return bz_resp_reply_start(s, n);
}

/* ---- the plug-in ----------------------------------------------------------------- */

static int rs_detect(const uint8_t *p, size_t n, int dir, int fresh)
{
	int c = bz_resp_command_start(p, n);

	(void)dir;
	if (c == 2 || bz_redis_inline_command(p, n))
		return BZ_PROTO_YES;
	if (c == 1)
		return BZ_PROTO_MAYBE;
	/* joined mid-way, replies first: only with a command the other way */
	if (!fresh && n >= 3 && memchr("+-:$", p[0], 4) && bz_resp_reply_start(p, n))
		return BZ_PROTO_MAYBE;
	return BZ_PROTO_NO;
}

static int rs_create(void **out, const struct bz_proto_cfg *cfg)
{
	struct bz_redis *p;

	if (!out || !cfg || !cfg->cb)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->req_dir = cfg->req_dir == BZ_HTTP_IN || cfg->req_dir == BZ_HTTP_OUT ? cfg->req_dir : BZ_HTTP_DIR_UNKNOWN;
	p->cb = cfg->cb;
	p->user = cfg->user;
	/* a connection seen from its start is on database 0; else unknown */
	if (cfg->fresh)
		memcpy(p->ns, "0", 2);
	for (int dir = 0; dir < 2; dir++) {
		bz_resp_init(&p->d[dir].w, dir == p->req_dir);
		p->d[dir].lost = !cfg->fresh || p->req_dir == BZ_HTTP_DIR_UNKNOWN;
	}
	*out = p;
	return 0;
}

static void rs_feed(void *pp, int dir, const struct bz_http_read *rd)
{
	struct bz_redis *p = pp;
	struct rdir *d;
	struct ctx c = { p, dir };
	size_t cap, k;

	if (!p || (dir != BZ_HTTP_IN && dir != BZ_HTTP_OUT) || !rd || !rd->len)
		return;
	d = &p->d[dir];
	cap = rd->data ? (rd->caplen < rd->len ? rd->caplen : rd->len) : 0;
	p->st.fed[dir] += rd->len;
	if (p->flushed) {
		p->st.ignored[dir] += rd->len;
		return;
	}
	d->cur = rd->at;
	if (d->lost) {
		if (!cap || !plausible(p, dir, rd->data, cap)) {
			skip(p, dir, rd->len);
			return;
		}
		bz_resp_init(&d->w, dir == p->req_dir);
		d->lost = 0;
		if (d->resync)
			p->st.resyncs++;
	}
	k = bz_resp_feed(&d->w, rd->data, cap, &walk_cb, &c);
	if (k < cap) {
		lost(p, dir, (cap - k) + (rd->len - cap), BZ_HTTP_F_HEAD_CUT);
		return;
	}
	if (rd->len > cap) {
		uint64_t u = rd->len - cap, got = bz_resp_unknown(&d->w, u, &walk_cb, &c);
		if (got < u)
			lost(p, dir, u - got, BZ_HTTP_F_HEAD_CUT);
	}
}

static void rs_flush(void *pp, int closed)
{
	struct bz_redis *p = pp;
	int first;

	(void)closed;
	if (!p || p->flushed)
		return;
	/* requests first, so a request's END precedes its reply's */
	first = p->req_dir == BZ_HTTP_DIR_UNKNOWN ? 0 : p->req_dir;
	for (int i = 0; i < 2; i++) {
		int dir = i ? !first : first;
		if (!p->d[dir].lost && p->d[dir].in_msg && p->req_dir != BZ_HTTP_DIR_UNKNOWN)
			lost(p, dir, 0, BZ_HTTP_F_INCOMPLETE);
		else if (!p->d[dir].lost)
			skip(p, dir, p->d[dir].w.top_bytes);
	}
	end_run(p);
	p->flushed = 1;
}

static void rs_destroy(void **pp)
{
	struct bz_redis *p = pp ? *pp : NULL;

	if (!p)
		return;
	free(p->q);
	free(p);
	*pp = NULL;
}

static int rs_req_dir(const void *p) { return p ? ((const struct bz_redis *)p)->req_dir : BZ_HTTP_DIR_UNKNOWN; }

static const struct bz_proto_stats *rs_stats(const void *p) { return p ? &((const struct bz_redis *)p)->st : NULL; }

uint64_t bz_redis_pushes(const void *p) { return p ? ((const struct bz_redis *)p)->pushes : 0; }

const struct bz_proto_ops bz_proto_redis = {
	.name = "redis",
	.id = BZ_PROTO_REDIS,
	.multiplexed = 0,
	.detect = rs_detect,
	.create = rs_create,
	.feed = rs_feed,
	.flush = rs_flush,
	.destroy = rs_destroy,
	.req_dir = rs_req_dir,
	.stats = rs_stats,
};
