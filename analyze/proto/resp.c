/* resp.c - RESP2/RESP3 framing walked as a stream (resp.h). */
#include <string.h>

#include "resp.h"

enum { S_TYPE, S_LINE, S_DATA, S_DATA_CR, S_DATA_LF, S_LOST };

static int is_length_type(uint8_t t) { return t == '$' || t == '!' || t == '='; }
static int is_aggregate(uint8_t t) { return t == '*' || t == '%' || t == '~' || t == '>' || t == '|'; }
static int is_simple(uint8_t t)
{
	return t == '+' || t == '-' || t == ':' || t == '_' || t == '#' || t == ',' || t == '(';
}
static int is_type(uint8_t t) { return is_length_type(t) || is_aggregate(t) || is_simple(t); }
/* lines that hold a number the walker reads */
static int has_number(uint8_t t) { return is_length_type(t) || is_aggregate(t) || t == ':'; }

void bz_resp_init(struct bz_resp *r, int inline_ok)
{
	memset(r, 0, sizeof(*r));
	r->st = S_TYPE;
	r->inline_ok = (uint8_t)!!inline_ok;
}

int bz_resp_lost(const struct bz_resp *r) { return r->st == S_LOST; }

int bz_resp_in_msg(const struct bz_resp *r) { return r->st != S_LOST && r->top_bytes > 0; }

static void emit(struct bz_resp *r, const struct bz_resp_cb *cb, void *u, enum bz_resp_event ev)
{
	if (cb->event)
		cb->event(u, r, ev);
}

static void piece(struct bz_resp *r, const struct bz_resp_cb *cb, void *u, enum bz_resp_piece k,
		  const uint8_t *s, size_t n)
{
	if (!n)
		return;
	r->top_bytes += n;
	if (cb->piece)
		cb->piece(u, r, k, s, n);
}

static void lose(struct bz_resp *r, const struct bz_resp_cb *cb, void *u)
{
	r->st = S_LOST;
	emit(r, cb, u, BZ_RESP_E_LOST);
}

/* The element at r->depth ended: its parent counts it, and ends too when
 * it was the last child, up to the top. */
static void end_elem(struct bz_resp *r, const struct bz_resp_cb *cb, void *u)
{
	uint8_t t = r->type;

	for (;;) {
		emit(r, cb, u, BZ_RESP_E_END);
		if (!r->depth) {
			r->st = S_TYPE;
			/* an attribute describes the element after it: one message */
			if (t != '|') {
				emit(r, cb, u, BZ_RESP_E_TOP);
				r->top_bytes = r->top_head = 0;
			}
			return;
		}
		struct bz_resp_level *p = &r->lv[r->depth - 1];
		if (t != '|') {
			p->left--;
			p->child++;
		}
		if (p->left) {
			r->st = S_TYPE;
			return;
		}
		r->depth--;
		t = r->type = p->type;
	}
}

/* The line of the current element ended (its LF consumed). */
static void line_done(struct bz_resp *r, const struct bz_resp_cb *cb, void *u)
{
	uint8_t t = r->type;

	if (!r->depth && !r->top_head)
		r->top_head = r->top_bytes;
	if (!has_number(t)) {
		end_elem(r, cb, u);
		return;
	}
	if (r->bad || !r->ndig || (r->neg && t != ':' && r->num != 1)) {
		lose(r, cb, u);
		return;
	}
	if (r->neg)
		r->num = -r->num;
	if (t == ':') {
		end_elem(r, cb, u);
		return;
	}
	if (r->num < 0) { /* null: $-1, *-1 */
		emit(r, cb, u, BZ_RESP_E_HEAD);
		end_elem(r, cb, u);
		return;
	}
	if (is_length_type(t)) {
		if ((uint64_t)r->num > BZ_RESP_BULK_MAX) {
			lose(r, cb, u);
			return;
		}
		emit(r, cb, u, BZ_RESP_E_HEAD);
		r->left = (uint64_t)r->num;
		r->st = r->left ? S_DATA : S_DATA_CR;
		return;
	}
	if ((uint64_t)r->num > BZ_RESP_COUNT_MAX || (r->num && r->depth >= BZ_RESP_DEPTH)) {
		lose(r, cb, u);
		return;
	}
	emit(r, cb, u, BZ_RESP_E_HEAD);
	if (!r->num) {
		end_elem(r, cb, u);
		return;
	}
	struct bz_resp_level *l = &r->lv[r->depth++];
	l->type = t;
	l->left = (uint64_t)r->num * (t == '%' || t == '|' ? 2u : 1u);
	l->child = 0;
	r->st = S_TYPE;
}

/* Content bytes of a line: numbers are read as they pass. */
static void line_content(struct bz_resp *r, const uint8_t *s, size_t n)
{
	if (!has_number(r->type))
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c == '-' && !r->ndig && !r->neg && r->line == 0 && i == 0) {
			r->neg = 1;
		} else if (c == '+' && r->type == ':' && !r->ndig && r->line == 0 && i == 0) {
			/* (an integer may carry its sign) */
		} else if (c >= '0' && c <= '9' && r->ndig < 18) {
			r->num = r->num * 10 + (c - '0');
			r->ndig++;
		} else if (c >= '0' && c <= '9' && r->type == ':') {
			/* (a 64-bit integer's last digits: its value is not needed) */
		} else {
			r->bad = 1; /* (RESP3 streamed '?' lengths are not followed) */
		}
	}
}

size_t bz_resp_feed(struct bz_resp *r, const uint8_t *s, size_t n, const struct bz_resp_cb *cb, void *u)
{
	size_t i = 0;

	while (i < n) {
		switch (r->st) {
		case S_TYPE: {
			uint8_t c = s[i];
			uint8_t t = is_type(c) ? c : (!r->depth && r->inline_ok) ? BZ_RESP_INLINE : 0;
			if (!t) {
				lose(r, cb, u);
				return i;
			}
			r->type = t;
			r->neg = r->ndig = r->bad = r->cr = 0;
			r->num = 0;
			r->line = 0;
			r->st = S_LINE;
			emit(r, cb, u, BZ_RESP_E_BEGIN);
			if (t != BZ_RESP_INLINE) {
				piece(r, cb, u, BZ_RESP_P_TYPE, s + i, 1);
				i++;
			}
			break;
		}
		case S_LINE: {
			size_t j = i;
			while (j < n && s[j] != '\r' && s[j] != '\n')
				j++;
			if (j > i) {
				if (r->cr || r->line + (j - i) > BZ_RESP_LINE_MAX) {
					lose(r, cb, u); /* a CR inside the line, or no end in sight */
					return i;
				}
				line_content(r, s + i, j - i);
				piece(r, cb, u, BZ_RESP_P_LINE, s + i, j - i);
				r->line += j - i;
				i = j;
			}
			if (i == n)
				break;
			if (s[i] == '\r') {
				if (r->cr) {
					lose(r, cb, u);
					return i;
				}
				r->cr = 1;
				piece(r, cb, u, BZ_RESP_P_EOL, s + i, 1);
				i++;
				break;
			}
			piece(r, cb, u, BZ_RESP_P_EOL, s + i, 1); /* LF (a bare one is taken too) */
			i++;
			line_done(r, cb, u);
			break;
		}
		case S_DATA: {
			size_t k = n - i < r->left ? n - i : (size_t)r->left;
			piece(r, cb, u, BZ_RESP_P_DATA, s + i, k);
			r->left -= k;
			i += k;
			if (!r->left)
				r->st = S_DATA_CR;
			break;
		}
		case S_DATA_CR:
		case S_DATA_LF:
			if (s[i] != (r->st == S_DATA_CR ? '\r' : '\n')) {
				lose(r, cb, u);
				return i;
			}
			piece(r, cb, u, BZ_RESP_P_DATA_EOL, s + i, 1);
			i++;
			if (r->st == S_DATA_CR)
				r->st = S_DATA_LF;
			else
				end_elem(r, cb, u);
			break;
		default:
			return i;
		}
	}
	return i;
}

uint64_t bz_resp_unknown(struct bz_resp *r, uint64_t u, const struct bz_resp_cb *cb, void *user)
{
	uint64_t done = 0;

	if (r->st == S_DATA) {
		uint64_t k = u < r->left ? u : r->left;
		/* (pieces of unknown bytes come in size_t steps) */
		for (uint64_t left = k; left;) {
			size_t step = left > (1u << 30) ? (size_t)1 << 30 : (size_t)left;
			piece(r, cb, user, BZ_RESP_P_DATA, NULL, step);
			left -= step;
		}
		r->left -= k;
		done += k;
		if (!r->left)
			r->st = S_DATA_CR;
	}
	while (done < u && (r->st == S_DATA_CR || r->st == S_DATA_LF)) {
		piece(r, cb, user, BZ_RESP_P_DATA_EOL, NULL, 1);
		done++;
		if (r->st == S_DATA_CR)
			r->st = S_DATA_LF;
		else
			end_elem(r, cb, user);
	}
	if (done < u && r->st != S_LOST)
		lose(r, cb, user);
	return done;
}

/* p[*i..) holds decimal digits ending in CRLF: 2 and *v, 1 cut short, 0 no. */
static int digits_crlf(const uint8_t *p, size_t n, size_t *i, uint64_t *v, unsigned maxdig)
{
	unsigned k = 0;

	*v = 0;
	while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
		if (++k > maxdig)
			return 0;
		*v = *v * 10 + (uint64_t)(p[*i] - '0');
		(*i)++;
	}
	if (*i == n)
		return 1;
	if (!k || p[*i] != '\r')
		return 0;
	if (++(*i) == n)
		return 1;
	if (p[*i] != '\n')
		return 0;
	(*i)++;
	return 2;
}

static int name_char(uint8_t c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		return 1;
	/* module commands: JSON.SET, FT.SEARCH, BF.ADD */
	return !first && ((c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '|');
}

int bz_resp_command_start(const uint8_t *p, size_t n)
{
	size_t i = 1;
	uint64_t v;
	int r;

	if (!p || !n || p[0] != '*')
		return 0;
	if (n == 1)
		return 1;
	if (p[1] == '0')
		return 0; /* an empty command, or a zero-padded count: not a client's */
	if ((r = digits_crlf(p, n, &i, &v, 6)) != 2)
		return r;
	if (i == n)
		return 1;
	if (p[i] != '$')
		return 0;
	if (++i == n)
		return 1;
	if (p[i] == '0')
		return 0;
	if ((r = digits_crlf(p, n, &i, &v, 3)) != 2)
		return r; /* (a command's name is short) */
	for (uint64_t k = 0; k < v; k++, i++) {
		if (i == n)
			return 1;
		if (!name_char(p[i], k == 0))
			return 0;
	}
	return 2;
}

int bz_resp_reply_start(const uint8_t *p, size_t n)
{
	size_t i = 1;
	uint64_t v;

	if (!p || n < 3 || !is_type(p[0]))
		return 0;
	if (has_number(p[0])) {
		if (p[1] == '-' || (p[0] == ':' && p[1] == '+'))
			i++;
		if (p[0] != ':' && i == 2 && (p[2] != '1' || n < 5 || p[3] != '\r'))
			return 0;
		return digits_crlf(p, n, &i, &v, 19) == 2;
	}
	for (; i < n && p[i] != '\r'; i++)
		if (p[i] < 0x20 && p[i] != '\t')
			return 0;
	if (i + 1 >= n || p[i + 1] != '\n')
		return 0;
	switch (p[0]) {
	case '_': return i == 1;
	case '#': return i == 2 && (p[1] == 't' || p[1] == 'f');
	case '-': return i > 1 && p[1] >= 'A' && p[1] <= 'Z';
	default: return 1;
	}
}
