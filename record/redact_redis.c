/* redact_redis.c - Redis's wire protocol (RESP2/RESP3) masked at record
 * time (redact_wire.h).
 *
 * Both directions are walked with the analyzer's own RESP framing
 * (analyze/proto/resp.h), so the masker and the parser agree on every
 * byte.  Framing stays: type bytes, lengths and counts, CRLFs.  Of a
 * command, the name stays, and the first argument when it is a key (or a
 * container's subcommand, or SELECT's database index): every other
 * argument is masked whole (AUTH's and HELLO's credentials, SET's value,
 * CONFIG SET's value...).  Of an inline command, the first word, and the
 * second on the same terms when the command is known.  Of a reply: bulk strings, verbatim strings
 * and every element of aggregates are masked; simple strings keep only the
 * status words (OK, QUEUED, PONG, a TYPE's answer); errors keep their
 * first word (ERR, WRONGTYPE, MOVED: db.response.status_code); integers,
 * booleans and nulls stay; the digits of doubles and big numbers become
 * '0'.  The first element of a top-level array or push stays when it is a
 * pub/sub word ("message", "subscribe"...): the analyzer tells pushes
 * from replies by it.
 *
 * Every decision is made byte by byte from what came before it, so a
 * payload cut anywhere is masked as if whole.  Bytes that moved uncaptured
 * are skipped by count inside a bulk string; anywhere else the framing is
 * lost and the bytes of that direction are masked whole until it can
 * restart: commands at a payload that begins with one (clients write a
 * command, or a pipeline, from its first byte: a pipeline longer than the
 * snap length loses the rest of its write, not the connection); replies
 * at a payload that begins with one once the client has written since
 * (a reply's middle could look like the start of one, a reply to a new
 * command begins its payload).  A connection joined mid-way is followed
 * in a direction only from a payload that begins with a plausible
 * element: its first one there.
 */
#include <string.h>

#include "analyze/proto/redis_cmds.h"
#include "analyze/proto/resp.h"
#include "record/redact.h"
#include "record/redact_redis.h"
#include "record/redact_wire.h"

#define WORD_MAX 16

/* One direction of a connection. */
struct rs_dir {
	struct bz_resp w;
	uint8_t lost;    /* masked whole until a payload the framing can restart at */
	uint8_t started; /* its first payload was seen */
	uint32_t payloads;   /* captured payloads seen */
	uint32_t lost_other; /* the other direction's payloads when this one was lost */
	uint32_t losses;     /* times the framing was lost */
	uint8_t client;  /* it carries commands */
	uint8_t cls;     /* the current command's enum bz_redis_class, once its name is known */
	uint8_t name_len, name_over;
	char name[BZ_REDIS_NAME_MAX];
	/* inline command: the word being walked (1-based), inside a word */
	uint32_t word;
	uint8_t in_word;
	/* the element's text so far, for the words kept (status words, pub/sub words) */
	uint8_t wlen, wdead;
	char wbuf[WORD_MAX];
	uint8_t past_word; /* errors: past the first word */
};

struct rs_state {
	uint8_t joined;
	struct rs_dir d[2];
};

/* Simple strings that are status words, not data. */
static const char *const status_words[] = {
	"OK", "QUEUED", "PONG", "RESET", "none", "string", "list", "set", "zset", "hash", "stream", NULL,
};
/* First elements of pushes and pub/sub replies. */
static const char *const push_words[] = {
	"message", "pmessage", "smessage", "subscribe", "psubscribe", "ssubscribe", "unsubscribe",
	"punsubscribe", "sunsubscribe", "pong", "invalidate", NULL,
};

/* Would c extend d's word to a prefix of one of words (of length len when
 * len > 0)?  Once not, never again for this element. */
static int word_keeps(struct rs_dir *d, uint8_t c, const char *const *words, size_t len)
{
	if (d->wdead || d->wlen >= WORD_MAX)
		goto dead;
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		if ((len && n != len) || n <= d->wlen)
			continue;
		if (!memcmp(words[i], d->wbuf, d->wlen) && (uint8_t)words[i][d->wlen] == c) {
			d->wbuf[d->wlen++] = (char)c;
			return 1;
		}
	}
dead:
	d->wdead = 1;
	return 0;
}

static void name_add(struct rs_dir *d, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d->name_len < sizeof(d->name))
			d->name[d->name_len++] = (char)s[i];
		else
			d->name_over = 1;
	}
}

/* The command's name is complete: what its first argument is. */
static void name_done(struct rs_dir *d)
{
	d->cls = d->name_over ? BZ_REDIS_KEY : (uint8_t)bz_redis_class_of(d->name, d->name_len, NULL);
}

/* The first argument of the current command stays. */
static int arg1_kept(const struct rs_dir *d)
{
	return d->cls == BZ_REDIS_KEY || d->cls == BZ_REDIS_SUB || d->cls == BZ_REDIS_DBINDEX;
}

struct mctx {
	struct rs_dir *d;
	size_t masked;
};

static void mask_byte(struct mctx *m, const uint8_t *s)
{
	*(uint8_t *)s = BZ_REDACT_FILL; /* (s points into the caller's writable payload) */
	m->masked++;
}

static void mask_all(struct mctx *m, const uint8_t *s, size_t n)
{
	memset((uint8_t *)s, BZ_REDACT_FILL, n);
	m->masked += n;
}

static int number_byte(uint8_t c) { return (c >= '0' && c <= '9') || c == '-' || c == '+'; }

static int has_number(uint8_t t)
{
	return t == '$' || t == '!' || t == '=' || t == '*' || t == '%' || t == '~' || t == '>' || t == '|' || t == ':';
}

/* An inline command's line: words by spaces. */
static void inline_line(struct mctx *m, const uint8_t *s, size_t n)
{
	struct rs_dir *d = m->d;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == ' ' || c == '\t') {
			d->in_word = 0;
			continue;
		}
		if (!d->in_word) {
			d->in_word = 1;
			if (++d->word == 2)
				d->cls = d->name_over ? BZ_REDIS_NOKEY
						      : (uint8_t)bz_redis_inline_class(d->name, d->name_len);
		}
		if (d->word == 1)
			name_add(d, s + i, 1);
		else if (d->word > 2 || !arg1_kept(d))
			mask_byte(m, s + i);
	}
}

static void client_piece(struct mctx *m, const struct bz_resp *r, enum bz_resp_piece k, const uint8_t *s, size_t n)
{
	struct rs_dir *d = m->d;

	if (k == BZ_RESP_P_LINE) {
		if (r->type == BZ_RESP_INLINE) {
			inline_line(m, s, n);
		} else {
			for (size_t i = 0; i < n; i++)
				if (!has_number(r->type) || !number_byte(s[i]))
					mask_byte(m, s + i);
		}
		return;
	}
	if (k != BZ_RESP_P_DATA || !s)
		return;
	/* a command: an array of bulk strings */
	if (r->depth == 1 && r->lv[0].type == '*' && r->type == '$') {
		uint64_t arg = r->lv[0].child;
		if (arg == 0) {
			name_add(d, s, n);
			return;
		}
		if (arg == 1 && arg1_kept(d))
			return;
	}
	mask_all(m, s, n);
}

static void reply_piece(struct mctx *m, const struct bz_resp *r, enum bz_resp_piece k, const uint8_t *s, size_t n)
{
	struct rs_dir *d = m->d;
	uint8_t t = r->type;

	if ((k != BZ_RESP_P_LINE && k != BZ_RESP_P_DATA) || !s)
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		int keep;
		if (k == BZ_RESP_P_LINE && has_number(t))
			keep = number_byte(c);
		else if (t == '-' || t == '!') { /* the error's first word, and the space after it */
			keep = !d->past_word;
			d->past_word |= c == ' ';
		}
		else if (t == '+')
			keep = word_keeps(d, c, status_words, 0);
		else if (t == '_' || t == '#')
			keep = 1;
		else if (t == ',' || t == '(')
			keep = !(c >= '0' && c <= '9');
		else if (t == '$' && r->depth == 1 && r->lv[0].child == 0 && (r->lv[0].type == '*' || r->lv[0].type == '>'))
			keep = word_keeps(d, c, push_words, (size_t)r->num);
		else
			keep = 0;
		if (!keep) {
			if (t == ',' || t == '(')
				*(uint8_t *)(s + i) = '0', m->masked++;
			else
				mask_byte(m, s + i);
		}
	}
}

static void on_piece(void *u, const struct bz_resp *r, enum bz_resp_piece k, const uint8_t *s, size_t n)
{
	struct mctx *m = u;

	if (m->d->client)
		client_piece(m, r, k, s, n);
	else
		reply_piece(m, r, k, s, n);
}

static void on_event(void *u, const struct bz_resp *r, enum bz_resp_event ev)
{
	struct rs_dir *d = ((struct mctx *)u)->d;

	if (ev != BZ_RESP_E_BEGIN)
		return;
	d->wlen = d->wdead = d->past_word = 0;
	if (r->depth == 0) {
		d->name_len = d->name_over = 0;
		d->cls = BZ_REDIS_KEY;
		d->word = 0;
		d->in_word = 0;
	} else if (d->client && r->depth == 1 && r->lv[0].child == 1) {
		name_done(d); /* the name was argument 0 */
	}
}

static const struct bz_resp_cb mask_cb = { on_piece, on_event };

/* ---- detection ---------------------------------------------------------------- */

static void count_top(void *u, const struct bz_resp *r, enum bz_resp_event ev)
{
	(void)r;
	*(int *)u += ev == BZ_RESP_E_TOP;
}

/* p[0..n) is exactly one reply of the kinds a joined connection may show
 * first: +STATUS, -ERR message, :integer, $length and its data. */
static int whole_reply(const uint8_t *p, size_t n)
{
	static const struct bz_resp_cb cb = { NULL, count_top };
	struct bz_resp w;
	int tops = 0, ok = 0;

	if (n < 3 || !memchr("+-:$", p[0], 4) || !bz_resp_reply_start(p, n))
		return 0;
	if (p[0] == '+') {
		for (int i = 0; i < 3 && !ok; i++) {
			const char *s = status_words[i];
			size_t k = strlen(s);
			ok = n == k + 3 && !memcmp(p + 1, s, k);
		}
		if (!ok)
			return 0;
	}
	bz_resp_init(&w, 0);
	return bz_resp_feed(&w, p, n, &cb, &tops) == n && tops == 1 && !bz_resp_in_msg(&w);
}

static int rs_detect(const uint8_t *p, size_t n, unsigned dir, int joined, unsigned *client_dir)
{
	if (!p || !n)
		return RD_WIRE_NO;
	if (bz_resp_command_start(p, n) == 2) {
		*client_dir = joined && bz_redis_push_start(p, n) ? !dir : dir;
		return RD_WIRE_YES;
	}
	if (bz_redis_inline_command(p, n)) {
		*client_dir = dir;
		return RD_WIRE_YES;
	}
	if (joined && whole_reply(p, n)) {
		*client_dir = !dir;
		return RD_WIRE_YES;
	}
	return RD_WIRE_NO;
}

/* ---- masking --------------------------------------------------------------------- */

static void rs_init(void *st, unsigned client_dir, int joined)
{
	struct rs_state *s = st;

	s->joined = (uint8_t)!!joined;
	for (unsigned d = 0; d < 2; d++) {
		s->d[d].client = d == client_dir;
		bz_resp_init(&s->d[d].w, s->d[d].client);
	}
}

/* A direction of a joined connection is followed from a payload that
 * starts an element. */
static int plausible_start(const struct rs_dir *d, const uint8_t *p, size_t n)
{
	if (d->client)
		return bz_resp_command_start(p, n) == 2 || bz_redis_inline_command(p, n);
	return bz_resp_reply_start(p, n);
}

static void lose(const struct rs_state *s, struct rs_dir *d)
{
	d->losses += !d->lost;
	d->lost = 1;
	d->lost_other = s->d[d == &s->d[0]].payloads;
}

static size_t rs_data(void *st, unsigned dir, uint8_t *p, size_t caplen, uint64_t ret)
{
	struct rs_state *s = st;
	struct rs_dir *d = &s->d[dir & 1];
	struct mctx m = { d, 0 };
	size_t k;

	const struct rs_dir *o = &s->d[!(dir & 1)];

	if (!d->started) {
		d->started = 1;
		if (s->joined && !plausible_start(d, p, caplen))
			lose(s, d);
	}
	if (caplen)
		d->payloads++;
	if (d->lost && caplen && (d->client || o->payloads != d->lost_other) && plausible_start(d, p, caplen)) {
		/* the framing restarts here (see the top of the file) */
		bz_resp_init(&d->w, d->client);
		d->lost = 0;
		d->cls = d->name_len = d->name_over = 0;
		d->word = d->in_word = d->wlen = d->wdead = d->past_word = 0;
	}
	if (d->lost)
		return rd_wire_fill(p, caplen);
	k = bz_resp_feed(&d->w, p, caplen, &mask_cb, &m);
	if (k < caplen) {
		lose(s, d);
		return m.masked + rd_wire_fill(p + k, caplen - k);
	}
	if (ret > caplen && bz_resp_unknown(&d->w, ret - caplen, &mask_cb, &m) < ret - caplen)
		lose(s, d);
	return m.masked;
}

uint32_t rd_redis_losses(const void *st, unsigned dir) { return ((const struct rs_state *)st)->d[dir & 1].losses; }

const struct rd_wire_ops rd_wire_redis = { "redis", rs_detect, sizeof(struct rs_state), rs_init, rs_data };
