/* redact_echo.c - masked values masked again where they come back
 * (redact_echo.h says what and why).
 *
 * Per connection: the values, each with its Knuth-Morris-Pratt failure
 * table; per stream of it (direction, plaintext or not): how much of each
 * value the end of the stream so far matches, and the recent payloads a
 * match may reach back into.  A scan costs one pass over the payload per
 * value, and from the "nothing matched" state a memchr for the value's
 * first byte, so a payload without it is skipped at memchr's speed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/u64map.h"
#include "record/redact.h"
#include "record/redact_echo.h"

#define ECHO_VALS 32               /* values kept per connection */
#define ECHO_VAL_MAX 1024          /* bytes kept of one value */
#define ECHO_HOLD 8                /* payloads a match may reach back into */
#define ECHO_BUDGET (64u << 20)    /* bytes of values and tables, all connections */
#define ECHO_STREAMS 4             /* direction x plaintext */

struct echo_val {
	uint8_t *b;
	uint16_t *fail;  /* fail[i]: longest proper prefix of b[0..i] that is also its suffix */
	uint16_t len, cap;
	uint8_t cut;     /* the value went on beyond what was seen: mask on to a delimiter */
};

struct echo_hold {
	uint8_t *p;
	size_t n;
};

struct echo_stream {
	uint16_t st[ECHO_VALS];           /* matched prefix length of each value */
	struct echo_hold held[ECHO_HOLD]; /* oldest first */
	uint8_t nheld;
	uint8_t listed;                   /* in rd_echo.holding */
	uint8_t cont;                     /* a cut value matched to the end: mask on */
	int8_t open;                      /* value a run at the end of the last payload began, -1 */
};

struct echo_conn {
	uint64_t id;
	struct echo_val v[ECHO_VALS];
	int nv;
	struct echo_stream s[ECHO_STREAMS];
};

struct echo_ref {
	uint64_t conn;
	unsigned s;
};

struct rd_echo {
	struct bz_u64map conns; /* conn id -> struct echo_conn */
	struct echo_ref *holding; /* streams with held payloads */
	size_t nholding, capholding;
	size_t budget_used;
	int hold;
	struct rd_echo_stats st;
};

/* ---- values ------------------------------------------------------------------ */

static void kmp_table(struct echo_val *v)
{
	uint16_t k = 0;

	v->fail[0] = 0;
	for (uint16_t i = 1; i < v->len; i++) {
		while (k && v->b[i] != v->b[k])
			k = v->fail[k - 1];
		if (v->b[i] == v->b[k])
			k++;
		v->fail[i] = k;
	}
}

static size_t val_cost(size_t cap) { return cap * (1 + sizeof(uint16_t)); }

static int all_fill(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != BZ_REDACT_FILL)
			return 0;
	return 1;
}

/* Room for `want` bytes in v (at most ECHO_VAL_MAX), within the budget. */
static int val_room(struct rd_echo *e, struct echo_val *v, size_t want)
{
	size_t cap = v->cap ? v->cap : 32;
	uint8_t *b;
	uint16_t *f;

	if (want > ECHO_VAL_MAX)
		want = ECHO_VAL_MAX;
	if (want <= v->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > ECHO_VAL_MAX)
		cap = ECHO_VAL_MAX;
	if (e->budget_used - val_cost(v->cap) + val_cost(cap) > ECHO_BUDGET)
		return -ENOMEM;
	b = realloc(v->b, cap);
	if (!b)
		return -ENOMEM;
	v->b = b;
	f = realloc(v->fail, cap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	v->fail = f;
	e->budget_used = e->budget_used - val_cost(v->cap) + val_cost(cap);
	v->cap = (uint16_t)cap;
	return 0;
}

/* Sets value v to bytes b[0..n). */
static int val_set(struct rd_echo *e, struct echo_val *v, const uint8_t *b, size_t n)
{
	if (val_room(e, v, n ? n : 1))
		return -ENOMEM;
	v->cut = n > ECHO_VAL_MAX;
	if (n > ECHO_VAL_MAX)
		n = ECHO_VAL_MAX;
	memcpy(v->b, b, n);
	v->len = (uint16_t)n;
	if (n)
		kmp_table(v);
	return 0;
}

static int val_find(const struct echo_conn *c, const uint8_t *b, size_t n)
{
	for (int i = 0; i < c->nv; i++)
		if (c->v[i].len == n && !memcmp(c->v[i].b, b, n))
			return i;
	return -1;
}

/* Keeps b[0..n) as a value of c; its index, or -1 (too short to be one
 * alone and not to be extended, or not kept).  *is_new says whether it
 * was not known already (NULL: not asked). */
static int val_add(struct rd_echo *e, struct echo_conn *c, const uint8_t *b, size_t n, int may_grow,
		   int *is_new)
{
	int i;

	if (is_new)
		*is_new = 0;
	if (!may_grow && (n < BZ_REDACT_ECHO_MIN || all_fill(b, n)))
		return -1;
	if (!may_grow && (i = val_find(c, b, n)) >= 0)
		return i;
	if (is_new)
		*is_new = 1;
	if (c->nv >= ECHO_VALS || val_set(e, &c->v[c->nv], b, n)) {
		e->st.unkept++;
		return -1;
	}
	for (int s = 0; s < ECHO_STREAMS; s++)
		c->s[s].st[c->nv] = 0;
	e->st.values++;
	return c->nv++;
}

static int val_extend(struct rd_echo *e, struct echo_conn *c, int i, const uint8_t *b, size_t n)
{
	struct echo_val *v = &c->v[i];
	size_t room;

	if (val_room(e, v, (size_t)v->len + n)) {
		v->cut = 1; /* what does not fit is masked on to a delimiter when found */
		e->st.unkept++;
		return i;
	}
	room = v->cap - v->len;
	if (n > room) {
		n = room;
		v->cut = 1;
	}
	memcpy(v->b + v->len, b, n);
	v->len = (uint16_t)(v->len + n);
	if (v->len)
		kmp_table(v); /* (the prefix is unchanged: match states stay valid) */
	return i;
}

static int hexv(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The percent-decoded form of b ('+' is a space in forms); its length, or
 * 0 when it is the same. */
static size_t pct_decode(const uint8_t *b, size_t n, uint8_t *out)
{
	size_t o = 0;
	int changed = 0;

	for (size_t i = 0; i < n; i++) {
		if (b[i] == '%' && i + 2 < n && hexv(b[i + 1]) >= 0 && hexv(b[i + 2]) >= 0) {
			out[o++] = (uint8_t)(hexv(b[i + 1]) * 16 + hexv(b[i + 2]));
			i += 2;
			changed = 1;
		} else if (b[i] == '+') {
			out[o++] = ' ';
			changed = 1;
		} else {
			out[o++] = b[i];
		}
	}
	return changed ? o : 0;
}

static int is_alpha(uint8_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* A part and its decoded form. */
static void add_part(struct rd_echo *e, struct echo_conn *c, const uint8_t *b, size_t n)
{
	uint8_t dec[ECHO_VAL_MAX];
	size_t dn;

	val_add(e, c, b, n, 0, NULL);
	dn = pct_decode(b, n, dec);
	if (dn)
		val_add(e, c, dec, dn, 0, NULL);
}

/* What a value may come back as besides itself.  Its
 * percent-decoded form, and when it is a list (a Cookie header, an
 * Authorization header's scheme and credentials) each element, and the
 * value of each name=value element.  A first element of letters only
 * before others is an auth scheme (Bearer, Basic): not a secret. */
static void value_parts(struct rd_echo *e, struct echo_conn *c, int i)
{
	uint8_t b[ECHO_VAL_MAX];
	size_t n = c->v[i].len, start = 0, nparts = 0;

	memcpy(b, c->v[i].b, n);
	add_part(e, c, b, n); /* (the value itself is kept: only its decoded form is new) */
	for (size_t k = 0; k <= n; k++) {
		int sep = k == n || b[k] == ' ' || b[k] == ';' || b[k] == ',';
		if (!sep)
			continue;
		if (k > start) {
			const uint8_t *p = b + start;
			size_t pl = k - start, alpha = 0;
			const uint8_t *eq = memchr(p, '=', pl);

			while (alpha < pl && is_alpha(p[alpha]))
				alpha++;
			if (!(nparts == 0 && alpha == pl && k < n)) {
				if (pl != n)
					add_part(e, c, p, pl);
				if (eq && eq > p && eq + 1 < p + pl)
					add_part(e, c, eq + 1, (size_t)(p + pl - eq - 1));
			}
			nparts++;
		}
		start = k + 1;
	}
}

/* ---- connections and holds ----------------------------------------------------- */

static struct echo_conn *conn_get(struct rd_echo *e, uint64_t id, int create)
{
	struct echo_conn *c = bz_u64map_get(&e->conns, id);

	if (c || !create)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	for (int s = 0; s < ECHO_STREAMS; s++)
		c->s[s].open = -1;
	if (bz_u64map_put(&e->conns, id, c)) {
		free(c);
		return NULL;
	}
	return c;
}

static int token_byte(uint8_t c)
{
	return c > ' ' && c != 0x7f && c != '&' && c != '"' && c != '\'' && c != '<' && c != '>' &&
	       c != ';' && c != ',' && c != BZ_REDACT_FILL;
}

static size_t mask_range(struct rd_echo *e, uint8_t *p, size_t from, size_t to)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		if (p[i] == '\r' || p[i] == '\n' || p[i] == BZ_REDACT_FILL)
			continue;
		p[i] = BZ_REDACT_FILL;
		n++;
	}
	e->st.bytes += n;
	return n;
}

/* Masks the last k bytes of what the stream held. */
static void mask_back(struct rd_echo *e, struct echo_stream *s, size_t k)
{
	for (int h = (int)s->nheld - 1; h >= 0 && k; h--) {
		size_t m = k < s->held[h].n ? k : s->held[h].n;
		mask_range(e, s->held[h].p, s->held[h].n - m, s->held[h].n);
		k -= m;
	}
}

static size_t pending(const struct echo_conn *c, const struct echo_stream *s)
{
	size_t k = 0;

	for (int i = 0; i < c->nv; i++)
		if (s->st[i] > k)
			k = s->st[i];
	return k;
}

/* Ends the stream's hold: a tail that may begin a value is masked now. */
static void settle_stream(struct rd_echo *e, struct echo_conn *c, struct echo_stream *s)
{
	size_t k = pending(c, s);

	if (k && s->nheld) {
		mask_back(e, s, k);
		e->st.settled++;
	}
	s->nheld = 0;
}

static void hold(struct rd_echo *e, struct echo_conn *c, unsigned si, uint8_t *p, size_t n)
{
	struct echo_stream *s = &c->s[si];

	if (s->nheld == ECHO_HOLD) {
		/* no room to reach back further: what is held of a pending match
		 * beyond this payload is masked now; this one is kept */
		size_t k = pending(c, s);
		mask_back(e, s, k > n ? k - n : 0);
		e->st.settled++;
		s->nheld = 0;
	}
	s->held[s->nheld].p = p;
	s->held[s->nheld].n = n;
	s->nheld++;
	if (!s->listed) {
		if (e->nholding == e->capholding) {
			size_t cap = e->capholding ? e->capholding * 2 : 16;
			struct echo_ref *g = realloc(e->holding, cap * sizeof(*g));
			if (!g) {
				settle_stream(e, c, s); /* out of memory: do not hold */
				return;
			}
			e->holding = g;
			e->capholding = cap;
		}
		e->holding[e->nholding].conn = c->id;
		e->holding[e->nholding].s = si;
		e->nholding++;
		s->listed = 1;
	}
}

/* ---- API ------------------------------------------------------------------------ */

int rd_echo_new(struct rd_echo **out, int hold_payloads)
{
	struct rd_echo *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->hold = hold_payloads;
	*out = e;
	return 0;
}

static void conn_free(struct rd_echo *e, struct echo_conn *c)
{
	/* (every slot: one whose value could not be kept may hold memory) */
	for (int i = 0; i < ECHO_VALS; i++) {
		free(c->v[i].b);
		free(c->v[i].fail);
		e->budget_used -= val_cost(c->v[i].cap);
	}
	free(c);
}

void rd_echo_free(struct rd_echo **ep)
{
	struct rd_echo *e = ep ? *ep : NULL;
	size_t pos = 0;
	uint64_t k;
	void *v;

	if (!e)
		return;
	while (bz_u64map_next(&e->conns, &pos, &k, &v))
		conn_free(e, v);
	bz_u64map_free(&e->conns);
	free(e->holding);
	free(e);
	*ep = NULL;
}

int rd_echo_active(const struct rd_echo *e, uint64_t conn)
{
	return e && e->conns.len && bz_u64map_get(&e->conns, conn) != NULL;
}

void rd_echo_learn(struct rd_echo *e, uint64_t conn, unsigned si, const uint8_t *orig,
		   const struct rd_echo_run *runs, uint32_t nruns, size_t n, int gap_after)
{
	struct echo_conn *c = conn_get(e, conn, nruns > 0);
	struct echo_stream *s;
	int open;

	if (!c)
		return;
	s = &c->s[si % ECHO_STREAMS];
	open = s->open;
	s->open = -1;
	/* the last payload ended inside a value: does this one go on with it? */
	if (open >= 0 && !(nruns && runs[0].off == 0))
		open = -1;
	for (uint32_t r = 0; r < nruns; r++) {
		int at_end = runs[r].off + runs[r].len == n, i, is_new = 1;

		if (r == 0 && open >= 0)
			i = val_extend(e, c, open, orig + runs[r].off, runs[r].len);
		else
			i = val_add(e, c, orig + runs[r].off, runs[r].len, at_end && !gap_after, &is_new);
		if (i < 0)
			continue;
		if (at_end && !gap_after)
			s->open = (int8_t)i; /* may go on in the next payload */
		else if (at_end)
			c->v[i].cut = 1; /* its rest went by uncaptured */
		/* its parts now, even if it may go on: the other direction may
		 * repeat it before this one says more (a value seen before, the
		 * same token in every request of a connection, has them already) */
		if (is_new)
			value_parts(e, c, i);
	}
}

size_t rd_echo_scan(struct rd_echo *e, uint64_t conn, unsigned si, uint8_t *p, size_t n,
		    int gap_after)
{
	struct echo_conn *c = conn_get(e, conn, 0);
	struct echo_stream *s;
	size_t masked = 0, pos = 0;

	if (!c || !c->nv)
		return 0;
	s = &c->s[si % ECHO_STREAMS];
	if (s->cont) { /* a cut value reached the last payload's end: its rest is here */
		while (pos < n && token_byte(p[pos]))
			pos++;
		masked += mask_range(e, p, 0, pos);
		s->cont = pos == n;
	}
	for (int i = 0; i < c->nv; i++) {
		const struct echo_val *v = &c->v[i];
		size_t k = s->st[i], j = 0;

		if (v->len < BZ_REDACT_ECHO_MIN) {
			s->st[i] = 0;
			continue;
		}
		while (j < n) {
			if (k == 0) {
				const uint8_t *q = memchr(p + j, v->b[0], n - j);
				if (!q)
					break;
				j = (size_t)(q - p);
				/* most first-byte hits are no match: look at the second
				 * byte before stepping (unless it is beyond the payload) */
				if (j + 1 < n && p[j + 1] != v->b[1]) {
					j++;
					continue;
				}
			}
			while (k && v->b[k] != p[j])
				k = v->fail[k - 1];
			if (v->b[k] == p[j])
				k++;
			j++;
			if (k < v->len)
				continue;
			/* found: here, and back into held payloads if it began there */
			e->st.hits++;
			masked += mask_range(e, p, j >= v->len ? j - v->len : 0, j);
			if (j < v->len && e->hold)
				mask_back(e, s, v->len - j);
			if (v->cut) {
				size_t t = j;
				while (t < n && token_byte(p[t]))
					t++;
				masked += mask_range(e, p, j, t);
				s->cont |= t == n;
			}
			k = v->fail[k - 1];
		}
		s->st[i] = (uint16_t)k;
	}
	/* The end of p may begin a value the next payload completes. */
	if (gap_after) {
		size_t k = pending(c, s);
		if (k) {
			masked += mask_range(e, p, n > k ? n - k : 0, n);
			mask_back(e, s, k > n ? k - n : 0);
			e->st.settled++;
		}
		s->nheld = 0;
		memset(s->st, 0, sizeof(s->st));
	} else if (!pending(c, s)) {
		s->nheld = 0; /* nothing reaches back from here */
	} else if (e->hold) {
		hold(e, c, si % ECHO_STREAMS, p, n);
	} else {
		size_t k = pending(c, s);
		masked += mask_range(e, p, n > k ? n - k : 0, n);
		e->st.settled++;
	}
	return masked;
}

void rd_echo_settle(struct rd_echo *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nholding; i++) {
		struct echo_conn *c = conn_get(e, e->holding[i].conn, 0);
		if (!c)
			continue;
		settle_stream(e, c, &c->s[e->holding[i].s]);
		c->s[e->holding[i].s].listed = 0;
	}
	e->nholding = 0;
}

void rd_echo_forget(struct rd_echo *e, uint64_t conn)
{
	struct echo_conn *c;

	if (!e || !(c = bz_u64map_del(&e->conns, conn)))
		return;
	/* nothing follows: a held tail that may begin a value is masked */
	for (int s = 0; s < ECHO_STREAMS; s++)
		settle_stream(e, c, &c->s[s]);
	for (size_t i = 0; i < e->nholding;) {
		if (e->holding[i].conn == conn)
			e->holding[i] = e->holding[--e->nholding];
		else
			i++;
	}
	conn_free(e, c);
}

void rd_echo_get_stats(const struct rd_echo *e, struct rd_echo_stats *out)
{
	if (e)
		*out = e->st;
	else
		memset(out, 0, sizeof(*out));
}
