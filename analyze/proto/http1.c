/* http1.c - incremental HTTP/1.x framing over recorded reads and writes whose
 * payload is only known up to the snap length.  See http1.h for the contract
 * and docs/analysis.md for the heuristics.
 *
 * Each direction is a small state machine.  Line states (looking for a start
 * line, reading headers, chunk-size lines, trailers) accumulate one line at a
 * time into a bounded buffer (the first LINE_KEEP bytes plus the last
 * TAIL_KEEP, enough to check "... HTTP/1.1" at the end of a long request
 * line).  Body states count bytes and never look at them, so unknown bytes
 * can be skipped by count.  Bytes are accounted when a line completes or a
 * body count advances: every byte fed ends up in exactly one bucket (message
 * head, message body, skipped, ignored), which the fuzz target checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

#define LINE_KEEP 512u
#define TAIL_KEEP 16u
#define HEAD_MAX (64u << 10)  /* a head larger than this is not HTTP: resync */
#define QUEUE_MAX 64u         /* pipelined requests awaiting responses */
#define CL_MAX (1ull << 62)

enum st {
	S_DETECT,      /* first bytes of a fresh connection: HTTP or not? */
	S_SYNC,        /* looking for a start line after unknown bytes */
	S_START,       /* between messages */
	S_HEADERS,     /* in a head, after the start line */
	S_LEN,         /* Content-Length body: `remaining` bytes to go */
	S_CHUNK_SIZE,  /* chunked: chunk-size line */
	S_CHUNK_DATA,  /* chunked: `remaining` bytes of chunk data */
	S_CHUNK_CRLF,  /* chunked: the CRLF after chunk data */
	S_TRAILER,     /* chunked: trailer lines until the empty one */
	S_GUESS,       /* body whose end cannot be counted: heuristics */
	S_CLOSE,       /* body delimited by the connection's close */
	S_DEAD,        /* not (or no longer) HTTP: ignore */
};

/* Strength of a start-line match. */
enum { LK_NONE = 0, LK_WEAK = 1, LK_STRONG = 2, LK_FULL = 3 };
enum { K_REQ = 1, K_RESP = 2 };

struct sline {
	int kind;        /* K_REQ / K_RESP */
	int minor;       /* HTTP/1.minor, -1 unknown */
	int status;
	size_t mlen;     /* method at offset 0 */
	size_t toff, tlen;
	int target_done; /* the space after the target was seen */
};

struct hdir {
	enum st st;
	uint8_t in_msg;        /* msg is open */
	uint8_t committed;     /* HEAD was reported */
	uint8_t guessed;       /* framing rests on a guess: flag the end, allow resync */
	uint8_t chunked_guess; /* S_GUESS inside a chunked body */
	uint8_t crlf_seen;     /* S_CHUNK_CRLF progress */
	uint8_t resp_head, resp_connect; /* the answered request was HEAD / CONNECT */
	uint64_t remaining;
	uint64_t skipped_since; /* skipped since the last message: flags RESYNC */
	struct bz_http_point cur;        /* the read being fed */
	struct bz_http_point line_first; /* the read holding the line's first byte */
	uint64_t line_total;             /* bytes of the current line so far ('\n' excluded) */
	uint32_t line_len, tail_len;
	uint8_t line[LINE_KEEP];
	uint8_t tail[TAIL_KEEP];
	struct bz_http_msg msg;
};

struct qent {
	uint64_t index;
	uint8_t head, connect;
};

struct bz_http1 {
	int req_dir;
	int fresh, flushed;
	bz_http_cb cb;
	void *user;
	uint64_t next_index;
	unsigned qhead, qlen;
	struct qent q[QUEUE_MAX];
	struct bz_proto_stats st;
	struct hdir d[2];
};

/* ---- small helpers ---------------------------------------------------- */

static int is_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_alnum(uint8_t c) { return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z'); }
static uint8_t lower(uint8_t c) { return is_upper(c) ? (uint8_t)(c + 32) : c; }

static int ieq(const uint8_t *a, size_t n, const char *b)
{
	size_t i;
	for (i = 0; i < n && b[i]; i++)
		if (lower(a[i]) != (uint8_t)b[i])
			return 0;
	return i == n && !b[i];
}

static const char *const known_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PURGE", NULL,
};

static int known_method(const uint8_t *m, size_t n)
{
	for (int i = 0; known_methods[i]; i++)
		if (strlen(known_methods[i]) == n && !memcmp(m, known_methods[i], n))
			return 1;
	return 0;
}

/* ---- start-line recognition ------------------------------------------ */

/* l[0..n) is a whole line (complete, CR stripped) or a prefix of one. */
static int check_request(const uint8_t *l, size_t n, int complete, struct sline *o)
{
	static const char v[] = "HTTP/1.";
	size_t i = 0, rest, k;
	int strong;

	memset(o, 0, sizeof(*o));
	o->kind = K_REQ;
	o->minor = -1;
	while (i < n && i <= 20 && is_upper(l[i]))
		i++;
	if (i == n)
		return !complete && i <= 20 ? LK_WEAK : LK_NONE;
	if (i < 3 || i > 20 || l[i] != ' ')
		return LK_NONE;
	o->mlen = i++;
	if (i == n)
		return complete ? LK_NONE : LK_WEAK;
	if (!(l[i] == '/' || l[i] == '*' || is_alnum(l[i])))
		return LK_NONE;
	/* Guessing "this read starts a request" inside body bytes needs more
	 * than three capitals and a word. */
	strong = l[i] == '/' || l[i] == '*' || known_method(l, o->mlen);
	o->toff = i;
	while (i < n && l[i] > ' ' && l[i] < 0x7f)
		i++;
	o->tlen = i - o->toff;
	if (i == n)
		return complete ? LK_NONE : (strong ? LK_STRONG : LK_WEAK);
	if (l[i] != ' ')
		return LK_NONE;
	o->target_done = 1;
	i++;
	rest = n - i;
	k = rest < 7 ? rest : 7;
	if (memcmp(l + i, v, k))
		return LK_NONE;
	if (rest < 8)
		return complete ? LK_NONE : (strong ? LK_STRONG : LK_WEAK);
	if (!is_digit(l[i + 7]) || rest > 8)
		return LK_NONE;
	o->minor = l[i + 7] - '0';
	return complete ? LK_FULL : LK_STRONG;
}

static int check_status(const uint8_t *l, size_t n, int complete, struct sline *o)
{
	static const char v[] = "HTTP/1.";
	size_t k = n < 7 ? n : 7;

	memset(o, 0, sizeof(*o));
	o->kind = K_RESP;
	o->minor = -1;
	if (memcmp(l, v, k))
		return LK_NONE;
	if (n < 8)
		return complete ? LK_NONE : LK_WEAK;
	if (!is_digit(l[7]))
		return LK_NONE;
	o->minor = l[7] - '0';
	if (n == 8)
		return complete ? LK_NONE : LK_WEAK;
	if (l[8] != ' ')
		return LK_NONE;
	for (size_t i = 9; i < 12; i++) {
		if (i == n)
			return complete ? LK_NONE : LK_WEAK;
		if (!is_digit(l[i]) || (i == 9 && (l[i] < '1' || l[i] > '5')))
			return LK_NONE;
	}
	o->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	if (n > 12) {
		if (l[12] != ' ')
			return LK_NONE;
		for (size_t i = 13; i < n; i++)
			if ((l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
				return LK_NONE;
	}
	return complete ? LK_FULL : LK_STRONG;
}

/* allowed: bitmask of K_REQ | K_RESP. */
static int check_start(const uint8_t *l, size_t n, int complete, int allowed, struct sline *o)
{
	int r = LK_NONE, s;
	struct sline tmp;

	if (allowed & K_REQ)
		r = check_request(l, n, complete, o);
	if (allowed & K_RESP) {
		s = check_status(l, n, complete, &tmp);
		if (s > r) {
			*o = tmp;
			r = s;
		}
	}
	return r;
}

/* Does buf start like a start line that `check` accepts?  2: a whole line
 * was seen and is valid; 1: no line end yet but a valid prefix; 0: no. */
static int looks_like_start(const uint8_t *buf, size_t n,
			    int (*check)(const uint8_t *, size_t, int, struct sline *))
{
	struct sline o;
	const uint8_t *nl = buf ? memchr(buf, '\n', n) : NULL;
	size_t ln;

	if (!buf)
		return 0;
	if (nl) {
		ln = (size_t)(nl - buf);
		if (ln && buf[ln - 1] == '\r')
			ln--;
		return check(buf, ln, 1, &o) == LK_FULL ? 2 : 0;
	}
	return check(buf, n, 0, &o) ? 1 : 0;
}

int bz_http1_is_request_start(const uint8_t *buf, size_t n)
{
	return looks_like_start(buf, n, check_request);
}

int bz_http1_is_status_start(const uint8_t *buf, size_t n)
{
	return looks_like_start(buf, n, check_status);
}

/* ---- life cycle ------------------------------------------------------- */

int bz_http1_new(struct bz_http1 **out, int req_dir, int fresh, bz_http_cb cb, void *user)
{
	struct bz_http1 *p;

	if (!out || !cb)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->req_dir = req_dir == BZ_HTTP_IN || req_dir == BZ_HTTP_OUT ? req_dir : BZ_HTTP_DIR_UNKNOWN;
	p->fresh = !!fresh;
	p->cb = cb;
	p->user = user;
	for (int i = 0; i < 2; i++)
		p->d[i].st = fresh ? S_DETECT : S_SYNC;
	*out = p;
	return 0;
}

void bz_http1_free(struct bz_http1 **pp)
{
	if (!pp || !*pp)
		return;
	free(*pp);
	*pp = NULL;
}

int bz_http1_req_dir(const struct bz_http1 *p) { return p ? p->req_dir : BZ_HTTP_DIR_UNKNOWN; }

const struct bz_proto_stats *bz_http1_stats(const struct bz_http1 *p) { return p ? &p->st : NULL; }

/* ---- the request queue ------------------------------------------------ */

static void q_push(struct bz_http1 *p, uint64_t index, int head, int connect)
{
	if (p->qlen == QUEUE_MAX) {
		p->qhead = (p->qhead + 1) % QUEUE_MAX;
		p->qlen--;
		p->st.queue_overflows++;
	}
	struct qent *e = &p->q[(p->qhead + p->qlen) % QUEUE_MAX];
	e->index = index;
	e->head = (uint8_t)head;
	e->connect = (uint8_t)connect;
	p->qlen++;
}

static const struct qent *q_front(const struct bz_http1 *p)
{
	return p->qlen ? &p->q[p->qhead] : NULL;
}

static void q_pop(struct bz_http1 *p)
{
	if (p->qlen) {
		p->qhead = (p->qhead + 1) % QUEUE_MAX;
		p->qlen--;
	}
}

/* ---- the line buffer -------------------------------------------------- */

static void line_reset(struct hdir *d)
{
	d->line_total = 0;
	d->line_len = 0;
	d->tail_len = 0;
}

static void line_append(struct hdir *d, const uint8_t *s, size_t n)
{
	size_t room = LINE_KEEP - d->line_len, k = n < room ? n : room;

	if (!n)
		return;
	if (!d->line_total)
		d->line_first = d->cur;
	memcpy(d->line + d->line_len, s, k);
	d->line_len += (uint32_t)k;
	if (n >= TAIL_KEEP) {
		memcpy(d->tail, s + n - TAIL_KEEP, TAIL_KEEP);
		d->tail_len = TAIL_KEEP;
	} else {
		size_t keep = d->tail_len < TAIL_KEEP - n ? d->tail_len : TAIL_KEEP - n;
		memmove(d->tail, d->tail + d->tail_len - keep, keep);
		memcpy(d->tail + keep, s, n);
		d->tail_len = (uint32_t)(keep + n);
	}
	d->line_total += n;
}

static int line_over(const struct hdir *d) { return d->line_total > LINE_KEEP; }

/* The kept line without its CR, for a complete line that fits. */
static size_t line_stripped(const struct hdir *d)
{
	size_t n = d->line_len;
	return n && d->line[n - 1] == '\r' ? n - 1 : n;
}

static int allowed_kinds(const struct bz_http1 *p, int dir)
{
	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
		return K_REQ | K_RESP;
	return dir == p->req_dir ? K_REQ : K_RESP;
}

/* Classifies the complete line in the buffer. */
static int classify_line(const struct bz_http1 *p, int dir, struct sline *o)
{
	const struct hdir *d = &p->d[dir];
	int allowed = allowed_kinds(p, dir), r;

	if (!line_over(d))
		return check_start(d->line, line_stripped(d), 1, allowed, o);
	/* A long line: its kept prefix must be a strong start, and a request
	 * line must also end in " HTTP/1.x" (from the tail). */
	r = check_start(d->line, d->line_len, 0, allowed, o);
	if (r < LK_STRONG)
		return LK_NONE;
	if (o->kind == K_RESP)
		return LK_FULL;
	if (o->target_done)
		return LK_NONE; /* the version was in the prefix: too much after it */
	size_t t = d->tail_len;
	if (t && d->tail[t - 1] == '\r')
		t--;
	if (t < 9 || memcmp(d->tail + t - 9, " HTTP/1.", 8) || !is_digit(d->tail[t - 1]))
		return LK_NONE;
	o->minor = d->tail[t - 1] - '0';
	return LK_FULL;
}

/* Classifies the partial line in the buffer as the prefix of a start line
 * (a trailing CR may be the first half of the line end). */
static int prefix_check(const struct bz_http1 *p, int dir, struct sline *o)
{
	const struct hdir *d = &p->d[dir];
	size_t n = d->line_len;

	if (!line_over(d) && n && d->line[n - 1] == '\r')
		n--;
	return check_start(d->line, n, 0, allowed_kinds(p, dir), o);
}

/* ---- message reporting ------------------------------------------------ */

static void copy_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

static void go_dead(struct bz_http1 *p);

/* Reports END for the open message of dir and returns to S_START. */
static void end_msg(struct bz_http1 *p, int dir, uint32_t flags)
{
	struct hdir *d = &p->d[dir];

	if (!d->in_msg)
		return;
	if (d->guessed && !(flags & BZ_HTTP_F_INCOMPLETE))
		flags |= BZ_HTTP_F_GUESSED_END;
	d->msg.flags |= flags;
	if (d->msg.flags & BZ_HTTP_F_GUESSED_END)
		p->st.guessed_ends++;
	p->st.msg_bytes[dir] += d->msg.head_bytes + d->msg.body_bytes;
	d->in_msg = 0;
	d->guessed = 0;
	d->chunked_guess = 0;
	d->remaining = 0;
	d->st = S_START;
	p->cb(p->user, BZ_HTTP_END, &d->msg);
}

static int in_guess(const struct hdir *d)
{
	return d->in_msg && d->committed && (d->st == S_GUESS || (d->st == S_LEN && d->guessed));
}

/* The head is known (fully or as far as captured): number the message, pair
 * a response with its request, apply the other-direction heuristic, report
 * HEAD. */
static void head_commit(struct bz_http1 *p, int dir)
{
	struct hdir *d = &p->d[dir], *o = &p->d[!dir];
	struct bz_http_msg *m = &d->msg;

	if (d->committed)
		return;
	d->committed = 1;
	if (m->is_request) {
		m->index = p->next_index++;
		q_push(p, m->index, !strcmp(m->method, "HEAD"), !strcmp(m->method, "CONNECT"));
		p->st.requests++;
		/* A new request ends a response whose end could only be guessed. */
		if (in_guess(o))
			end_msg(p, !dir, 0);
	} else {
		const struct qent *q = q_front(p);
		d->resp_head = q ? q->head : 0;
		d->resp_connect = q ? q->connect : 0;
		m->index = q ? q->index : BZ_HTTP_NO_INDEX;
		if (!q)
			m->flags |= BZ_HTTP_F_NO_REQUEST;
		if (m->status < 200) {
			m->flags |= BZ_HTTP_F_INTERIM;
			p->st.interim++;
		} else {
			q_pop(p);
			p->st.responses++;
			/* A final response ends a request whose end was a guess. */
			if (in_guess(o))
				end_msg(p, !dir, 0);
		}
	}
	p->cb(p->user, BZ_HTTP_HEAD, m);
}

/* Opens a message from a recognised start line; `bytes` of it are known. */
static void start_msg(struct bz_http1 *p, int dir, const struct sline *s, uint64_t bytes)
{
	struct hdir *d = &p->d[dir];
	struct bz_http_msg *m = &d->msg;

	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN)
		p->req_dir = s->kind == K_REQ ? dir : !dir;
	memset(m, 0, offsetof(struct bz_http_msg, method));
	m->method[0] = m->target[0] = m->host[0] = m->user_agent[0] = m->content_type[0] = 0;
	m->dir = (uint8_t)dir;
	m->is_request = s->kind == K_REQ;
	m->version = (uint8_t)(s->minor >= 0 ? s->minor : 1);
	m->proto = BZ_PROTO_HTTP1;
	m->stream = 0;
	m->scheme[0] = 0;
	m->grpc = 0;
	m->grpc_status = -1;
	m->grpc_messages = 0;
	m->content_length = -1;
	m->first = d->line_first;
	m->last = d->cur;
	m->head_bytes = bytes;
	m->index = BZ_HTTP_NO_INDEX;
	if (d->skipped_since) {
		m->flags |= BZ_HTTP_F_RESYNC;
		p->st.resyncs++;
	}
	d->skipped_since = 0;
	if (s->kind == K_REQ) {
		size_t avail = d->line_len > s->toff ? d->line_len - s->toff : 0;
		size_t tl = s->tlen < avail ? s->tlen : avail;
		copy_str(m->method, sizeof(m->method), d->line, s->mlen);
		copy_str(m->target, sizeof(m->target), d->line + s->toff, tl);
		if (!s->target_done || tl >= sizeof(m->target) || line_over(d))
			m->flags |= BZ_HTTP_F_TARGET_CUT;
	} else {
		m->status = (uint16_t)s->status;
	}
	d->in_msg = 1;
	d->committed = 0;
	d->guessed = 0;
	d->chunked_guess = 0;
	d->st = S_HEADERS;
}

static void skip_bytes(struct bz_http1 *p, int dir, uint64_t n)
{
	p->st.skipped[dir] += n;
	p->d[dir].skipped_since += n;
}

/* ---- headers ---------------------------------------------------------- */

static void trim(const uint8_t **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t' || (*v)[*n - 1] == '\r'))
		(*n)--;
}

static int64_t parse_cl(const uint8_t *v, size_t n)
{
	uint64_t x = 0;
	size_t i;

	if (!n)
		return -1;
	for (i = 0; i < n && is_digit(v[i]); i++) {
		x = x * 10 + (uint64_t)(v[i] - '0');
		if (x > CL_MAX)
			return -1;
	}
	return i == n ? (int64_t)x : -1;
}

/* Does the comma-separated list v contain token tok (case-insensitive)? */
static int has_token(const uint8_t *v, size_t n, const char *tok, int last_only)
{
	size_t i = 0;
	int found = 0;

	while (i <= n) {
		size_t j = i;
		while (j < n && v[j] != ',')
			j++;
		const uint8_t *t = v + i;
		size_t tn = j - i;
		trim(&t, &tn);
		found = ieq(t, tn, tok);
		if (found && !last_only)
			return 1;
		i = j + 1;
	}
	return found;
}

/* One header line (CR stripped).  complete == 0 for a line cut by the snap
 * length: only string values are taken from it, cut. */
static void header_line(struct hdir *d, const uint8_t *l, size_t n, int complete)
{
	struct bz_http_msg *m = &d->msg;
	const uint8_t *colon = memchr(l, ':', n), *v;
	size_t nn, vn;

	if (!colon || colon == l || l[0] == ' ' || l[0] == '\t')
		return; /* malformed or obsolete line folding: ignored */
	nn = (size_t)(colon - l);
	v = colon + 1;
	vn = n - nn - 1;
	trim(&v, &vn);
	if (ieq(l, nn, "host"))
		copy_str(m->host, sizeof(m->host), v, vn);
	else if (ieq(l, nn, "user-agent"))
		copy_str(m->user_agent, sizeof(m->user_agent), v, vn);
	else if (ieq(l, nn, "content-type"))
		copy_str(m->content_type, sizeof(m->content_type), v, vn);
	else if (!complete)
		return;
	else if (ieq(l, nn, "content-length"))
		m->content_length = parse_cl(v, vn);
	else if (ieq(l, nn, "transfer-encoding")) {
		if (has_token(v, vn, "chunked", 1))
			m->flags |= BZ_HTTP_F_CHUNKED;
	} else if (ieq(l, nn, "connection")) {
		if (has_token(v, vn, "close", 0))
			m->flags |= BZ_HTTP_F_CONN_CLOSE;
	} else if (ieq(l, nn, "expect")) {
		if (has_token(v, vn, "100-continue", 0))
			m->flags |= BZ_HTTP_F_EXPECT_100;
	} else if (ieq(l, nn, "upgrade") && !m->is_request && m->status == 101) {
		if (has_token(v, vn, "h2c", 0))
			m->flags |= BZ_HTTP_F_H2C;
	}
}

/* ---- framing decisions ------------------------------------------------ */

enum body_kind { B_NONE, B_NONE_UPGRADE, B_CHUNKED, B_LENGTH, B_UNTIL_CLOSE };

static enum body_kind body_kind(const struct hdir *d)
{
	const struct bz_http_msg *m = &d->msg;

	if (!m->is_request) {
		if (m->status == 101)
			return B_NONE_UPGRADE;
		if (m->status < 200 || m->status == 204 || m->status == 304 || d->resp_head)
			return B_NONE;
		if (d->resp_connect && m->status < 300)
			return B_NONE_UPGRADE;
	}
	if (m->flags & BZ_HTTP_F_CHUNKED)
		return B_CHUNKED;
	if (m->content_length > 0)
		return B_LENGTH;
	if (m->content_length == 0 || m->is_request)
		return B_NONE;
	return B_UNTIL_CLOSE;
}

static void end_upgrade(struct bz_http1 *p, int dir)
{
	end_msg(p, dir, BZ_HTTP_F_UPGRADE);
	p->st.upgraded = 1;
	go_dead(p);
}

/* The empty line ending the head was read. */
static void head_done(struct bz_http1 *p, int dir)
{
	struct hdir *d = &p->d[dir];

	head_commit(p, dir);
	if (!d->in_msg)
		return;
	switch (body_kind(d)) {
	case B_NONE:
		end_msg(p, dir, 0);
		break;
	case B_NONE_UPGRADE:
		end_upgrade(p, dir);
		break;
	case B_CHUNKED:
		d->st = S_CHUNK_SIZE;
		break;
	case B_LENGTH:
		d->st = S_LEN;
		d->remaining = (uint64_t)d->msg.content_length;
		break;
	case B_UNTIL_CLOSE:
		d->st = S_CLOSE;
		break;
	}
}

/* The head is cut by the snap length and `u` unknown bytes follow in this
 * read: use what is known, guess the rest (see http1.h). */
static void head_cut(struct bz_http1 *p, int dir, uint64_t u)
{
	struct hdir *d = &p->d[dir];
	struct bz_http_msg *m = &d->msg;
	uint64_t cl;

	m->flags |= BZ_HTTP_F_HEAD_CUT;
	m->last = d->cur;
	p->st.cut_heads++;
	head_commit(p, dir);
	if (!d->in_msg)
		return;
	switch (body_kind(d)) {
	case B_NONE:
		m->head_bytes += u;
		end_msg(p, dir, 0);
		break;
	case B_NONE_UPGRADE:
		m->head_bytes += u;
		end_upgrade(p, dir);
		return;
	case B_LENGTH:
		d->guessed = 1;
		cl = (uint64_t)m->content_length;
		if (u >= cl) {
			m->head_bytes += u - cl;
			m->body_bytes += cl;
			end_msg(p, dir, 0);
		} else {
			m->head_bytes += u;
			d->st = S_LEN;
			d->remaining = cl;
		}
		break;
	case B_CHUNKED:
	case B_UNTIL_CLOSE:
		m->head_bytes += u;
		d->guessed = 1;
		d->chunked_guess = body_kind(d) == B_CHUNKED;
		d->st = S_GUESS;
		break;
	}
}

static void to_guess(struct hdir *d)
{
	d->st = S_GUESS;
	d->guessed = 1;
	d->chunked_guess = 1;
}

/* Chunk-size line: hex digits, then optional extensions. */
static void chunk_size_line(struct hdir *d, const uint8_t *l, size_t n, int over)
{
	uint64_t x = 0;
	size_t i = 0;

	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	size_t s = i;
	for (; i < n; i++) {
		uint8_t c = lower(l[i]);
		int v = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
		if (v < 0)
			break;
		if (i - s >= 15) {
			to_guess(d);
			return;
		}
		x = x * 16 + (uint64_t)v;
	}
	if (i == s || over || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t')) {
		to_guess(d);
		return;
	}
	if (x == 0) {
		d->st = S_TRAILER;
	} else {
		d->st = S_CHUNK_DATA;
		d->remaining = x;
	}
}

static void non_http(struct bz_http1 *p)
{
	p->st.non_http = 1;
	go_dead(p);
}

/* A whole line (its '\n' consumed) is in the buffer. */
static void line_done(struct bz_http1 *p, int dir)
{
	struct hdir *d = &p->d[dir];
	uint64_t bytes = d->line_total + 1;
	int over = line_over(d);
	size_t n = over ? d->line_len : line_stripped(d);
	struct sline s;

	switch (d->st) {
	case S_DETECT:
	case S_SYNC:
	case S_START:
		if (!over && n == 0) {
			skip_bytes(p, dir, bytes); /* blank line between messages */
			break;
		}
		if (classify_line(p, dir, &s) == LK_FULL) {
			start_msg(p, dir, &s, bytes);
			break;
		}
		if (d->st == S_DETECT) {
			p->st.ignored[dir] += bytes;
			line_reset(d);
			non_http(p);
			return;
		}
		skip_bytes(p, dir, bytes);
		d->st = S_SYNC;
		break;
	case S_HEADERS:
		d->msg.head_bytes += bytes;
		d->msg.last = d->cur;
		if (!over && n == 0) {
			line_reset(d);
			head_done(p, dir);
			return;
		}
		header_line(d, d->line, n, !over);
		break;
	case S_CHUNK_SIZE:
		d->msg.body_bytes += bytes;
		d->msg.last = d->cur;
		chunk_size_line(d, d->line, n, over);
		break;
	case S_TRAILER:
		d->msg.body_bytes += bytes;
		d->msg.last = d->cur;
		if (!over && n == 0) {
			line_reset(d);
			end_msg(p, dir, 0);
			return;
		}
		break;
	default:
		break;
	}
	line_reset(d);
}

/* The head grew beyond reason: this was not a message.  Its bytes become
 * skipped bytes and the direction looks for the next start line. */
static void abandon_head(struct bz_http1 *p, int dir)
{
	struct hdir *d = &p->d[dir];

	skip_bytes(p, dir, d->msg.head_bytes + d->line_total);
	line_reset(d);
	d->in_msg = 0;
	d->st = S_SYNC;
	p->st.malformed++;
}

static int is_line_state(enum st s)
{
	return s == S_DETECT || s == S_SYNC || s == S_START || s == S_HEADERS ||
	       s == S_CHUNK_SIZE || s == S_TRAILER;
}

/* Consumes known bytes s[0..n) in the current state; returns how many. */
static size_t step(struct bz_http1 *p, int dir, const uint8_t *s, size_t n)
{
	struct hdir *d = &p->d[dir];
	size_t k;

	if (is_line_state(d->st)) {
		const uint8_t *nl = memchr(s, '\n', n);
		k = nl ? (size_t)(nl - s) : n;
		line_append(d, s, k);
		if (d->st == S_HEADERS && d->msg.head_bytes + d->line_total > HEAD_MAX) {
			abandon_head(p, dir);
			if (!nl)
				return k;
			skip_bytes(p, dir, 1);
			return k + 1;
		}
		if (!nl)
			return k;
		line_done(p, dir);
		return k + 1;
	}
	switch (d->st) {
	case S_LEN:
	case S_CHUNK_DATA:
		k = n < d->remaining ? n : (size_t)d->remaining;
		d->remaining -= k;
		d->msg.body_bytes += k;
		d->msg.last = d->cur;
		if (!d->remaining) {
			if (d->st == S_LEN) {
				end_msg(p, dir, 0);
			} else {
				d->st = S_CHUNK_CRLF;
				d->crlf_seen = 0;
			}
		}
		return k;
	case S_CHUNK_CRLF:
		for (k = 0; k < n;) {
			uint8_t c = s[k++];
			d->msg.body_bytes++;
			d->msg.last = d->cur;
			if (c == '\n') {
				d->st = S_CHUNK_SIZE;
				break;
			}
			if (c != '\r' || d->crlf_seen) {
				to_guess(d);
				break;
			}
			d->crlf_seen = 1;
		}
		return k;
	case S_GUESS:
	case S_CLOSE:
		d->msg.body_bytes += n;
		d->msg.last = d->cur;
		return n;
	case S_DEAD:
	default:
		p->st.ignored[dir] += n;
		return n;
	}
}

/* Skips `u` unknown bytes of chunk framing after chunk data: the CRLF, then
 * hopefully nothing (the next chunk-size line starts the next read). */
static void unknown_chunk_tail(struct hdir *d, uint64_t u)
{
	uint64_t need = 2u - d->crlf_seen, t = u < need ? u : need;

	d->msg.body_bytes += u;
	u -= t;
	if (t == need) {
		d->st = S_CHUNK_SIZE;
	} else {
		d->st = S_CHUNK_CRLF;
		d->crlf_seen = (uint8_t)(d->crlf_seen + t);
	}
	if (u)
		to_guess(d);
}

/* `u` bytes of this read are unknown (beyond the snap length). */
static void unknown(struct bz_http1 *p, int dir, uint64_t u)
{
	struct hdir *d = &p->d[dir];
	struct sline s;
	uint64_t k;

	switch (d->st) {
	case S_DEAD:
		p->st.ignored[dir] += u;
		return;
	case S_DETECT:
	case S_SYNC:
	case S_START:
		/* A start line cut by the snap length is still a start. */
		if (d->line_total && prefix_check(p, dir, &s) >= LK_STRONG) {
			start_msg(p, dir, &s, d->line_total);
			line_reset(d);
			head_cut(p, dir, u);
			return;
		}
		skip_bytes(p, dir, d->line_total + u);
		line_reset(d);
		d->st = S_SYNC;
		return;
	case S_HEADERS:
		if (d->line_total)
			header_line(d, d->line, d->line_len, 0);
		d->msg.head_bytes += d->line_total;
		line_reset(d);
		head_cut(p, dir, u);
		return;
	case S_LEN:
		k = u < d->remaining ? u : d->remaining;
		d->remaining -= k;
		d->msg.body_bytes += k;
		d->msg.last = d->cur;
		if (!d->remaining) {
			end_msg(p, dir, 0);
			if (u > k) {
				/* The next message starts in bytes we do not have. */
				skip_bytes(p, dir, u - k);
				d->st = S_SYNC;
			}
		}
		return;
	case S_CHUNK_DATA:
		k = u < d->remaining ? u : d->remaining;
		d->remaining -= k;
		d->msg.body_bytes += k;
		d->msg.last = d->cur;
		if (!d->remaining) {
			d->crlf_seen = 0;
			unknown_chunk_tail(d, u - k);
		}
		return;
	case S_CHUNK_CRLF:
		d->msg.last = d->cur;
		unknown_chunk_tail(d, u);
		return;
	case S_CHUNK_SIZE:
	case S_TRAILER:
		d->msg.body_bytes += d->line_total + u;
		d->msg.last = d->cur;
		/* An empty trailer cut after at most its CRLF: the chunked body ends here. */
		if (d->st == S_TRAILER && d->line_total + u <= 2) {
			line_reset(d);
			end_msg(p, dir, 0);
			return;
		}
		line_reset(d);
		to_guess(d);
		return;
	case S_GUESS:
	case S_CLOSE:
		d->msg.body_bytes += u;
		d->msg.last = d->cur;
		return;
	}
}

/* Ends everything: both directions stop parsing (non-HTTP or upgrade). */
static void go_dead(struct bz_http1 *p)
{
	for (int dir = 0; dir < 2; dir++) {
		struct hdir *d = &p->d[dir];
		if (d->in_msg) {
			if (!d->committed)
				head_commit(p, dir);
			end_msg(p, dir, BZ_HTTP_F_INCOMPLETE);
		}
		p->st.ignored[dir] += d->line_total;
		line_reset(d);
		d->st = S_DEAD;
	}
}

/* Before the bytes of a read: heuristics that only apply at read starts. */
static void read_start(struct bz_http1 *p, int dir, const uint8_t *s, size_t n)
{
	struct hdir *d = &p->d[dir];
	struct sline o;

	if (n && in_guess(d)) {
		/* Same-direction resync: a read that starts with a start line
		 * ends a body whose length was only guessed. */
		int kind = dir == p->req_dir ? K_REQ : K_RESP;
		const uint8_t *nl = memchr(s, '\n', n);
		int r;
		if (nl) {
			size_t ln = (size_t)(nl - s);
			if (ln && s[ln - 1] == '\r')
				ln--;
			r = check_start(s, ln, 1, kind, &o);
		} else {
			r = check_start(s, n, 0, kind, &o);
		}
		if (r >= LK_STRONG)
			end_msg(p, dir, 0);
	} else if (d->st == S_SYNC && d->line_total) {
		/* A line carried over while searching: keep it only if this
		 * read could continue a start line. */
		if (prefix_check(p, dir, &o) == LK_NONE) {
			skip_bytes(p, dir, d->line_total);
			line_reset(d);
		}
	}
}

/* After the known bytes of a read, before its unknown ones: a fresh
 * connection whose first bytes cannot start a start line is not HTTP. */
static void detect_check(struct bz_http1 *p, int dir)
{
	struct hdir *d = &p->d[dir];
	struct sline o;

	if (d->st == S_DETECT && d->line_total && prefix_check(p, dir, &o) == LK_NONE) {
		p->st.ignored[dir] += d->line_total;
		line_reset(d);
		non_http(p);
	}
}

/* After all the bytes of a read: a guessed chunked body ends with a read
 * whose captured bytes end with the zero-size chunk. */
static void read_end(struct bz_http1 *p, int dir, const uint8_t *s, size_t cap, uint32_t len)
{
	struct hdir *d = &p->d[dir];

	if (d->st == S_GUESS && d->chunked_guess && d->in_msg && cap == len && cap >= 5 &&
	    !memcmp(s + cap - 5, "0\r\n\r\n", 5) && (cap == 5 || s[cap - 6] == '\n'))
		end_msg(p, dir, 0);
}

/* ---- feeding ---------------------------------------------------------- */

void bz_http1_feed(struct bz_http1 *p, int dir, const struct bz_http_read *rd)
{
	struct hdir *d;
	size_t cap, i = 0;

	if (!p || (dir != BZ_HTTP_IN && dir != BZ_HTTP_OUT) || !rd || !rd->len)
		return;
	d = &p->d[dir];
	cap = rd->data ? (rd->caplen < rd->len ? rd->caplen : rd->len) : 0;
	p->st.fed[dir] += rd->len;
	if (p->flushed || d->st == S_DEAD) {
		p->st.ignored[dir] += rd->len;
		return;
	}
	d->cur = rd->at;
	read_start(p, dir, rd->data, cap);
	while (i < cap)
		i += step(p, dir, rd->data + i, cap - i);
	detect_check(p, dir);
	if (rd->len > cap)
		unknown(p, dir, rd->len - cap);
	if (cap)
		read_end(p, dir, rd->data, cap, rd->len);
}

static void flush_dir(struct bz_http1 *p, int dir, int closed)
{
	struct hdir *d = &p->d[dir];
	uint32_t f = BZ_HTTP_F_INCOMPLETE;

	switch (d->st) {
	case S_HEADERS:
		d->msg.head_bytes += d->line_total;
		break;
	case S_CHUNK_SIZE:
	case S_TRAILER:
		d->msg.body_bytes += d->line_total;
		break;
	case S_DEAD:
		p->st.ignored[dir] += d->line_total;
		break;
	default:
		skip_bytes(p, dir, d->line_total);
		break;
	}
	line_reset(d);
	if (!d->in_msg)
		return;
	if (!d->committed)
		head_commit(p, dir);
	if (closed && (d->st == S_CLOSE || d->st == S_GUESS))
		f = BZ_HTTP_F_CLOSE_END;
	end_msg(p, dir, f);
}

void bz_http1_flush(struct bz_http1 *p, int closed)
{
	int first;

	if (!p || p->flushed)
		return;
	/* Requests first, so a request's END precedes its response's. */
	first = p->req_dir == BZ_HTTP_DIR_UNKNOWN ? 0 : p->req_dir;
	flush_dir(p, first, closed);
	flush_dir(p, !first, closed);
	p->flushed = 1;
}

/* ---- the plug-in row (proto.h) ----------------------------------------- */

static int p1_create(void **out, const struct bz_proto_cfg *cfg)
{
	struct bz_http1 *p = NULL;
	int rc = bz_http1_new(&p, cfg->req_dir, cfg->fresh, cfg->cb, cfg->user);

	if (!rc)
		*out = p;
	return rc;
}

static void p1_feed(void *p, int dir, const struct bz_http_read *rd) { bz_http1_feed(p, dir, rd); }
static void p1_flush(void *p, int closed) { bz_http1_flush(p, closed); }
static void p1_destroy(void **pp) { bz_http1_free((struct bz_http1 **)pp); }
static int p1_req_dir(const void *p) { return bz_http1_req_dir(p); }
static const struct bz_proto_stats *p1_stats(const void *p) { return bz_http1_stats(p); }

const struct bz_proto_ops bz_proto_http1 = {
	.name = "http/1",
	.id = BZ_PROTO_HTTP1,
	.multiplexed = 0,
	.detect = NULL, /* the fallback: its own first-bytes rule tells "not HTTP" */
	.create = p1_create,
	.feed = p1_feed,
	.flush = p1_flush,
	.destroy = p1_destroy,
	.req_dir = p1_req_dir,
	.stats = p1_stats,
};
