/* sql_text.c - db.query.text, db.operation.name and db.collection.name of
 * an SQL statement (sql_text.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql_text.h"

static int ident_start(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int ident_byte(unsigned c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }

static int is_digit(unsigned c) { return c >= '0' && c <= '9'; }

static int is_space(unsigned c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

struct out {
	char *p;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (n > o->cap - 1 - o->len) {
		n = o->cap - 1 - o->len;
		/* not in the middle of a UTF-8 sequence */
		while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		o->full = 1;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_space(struct out *o)
{
	if (o->len && o->p[o->len - 1] != ' ')
		put(o, " ", 1);
}

/* End of the quoted literal that opens at in[i] (the quote), one past
 * its closing quote, or n when it does not close. */
static size_t string_end(const char *in, size_t n, size_t i, int esc)
{
	char q = in[i];

	for (i++; i < n; i++) {
		if (esc && in[i] == '\\') {
			i++;
			continue;
		}
		if (in[i] == q) {
			if (i + 1 < n && in[i + 1] == q) {
				i++; /* '' */
				continue;
			}
			return i + 1;
		}
	}
	return n;
}

/* $tag$ ... $tag$ opening at in[i], tag of tl bytes: one past its end, or n. */
static size_t dollar_end(const char *in, size_t n, size_t i, size_t tl)
{
	for (size_t j = i + tl + 2; j + tl + 2 <= n; j++)
		if (in[j] == '$' && in[j + tl + 1] == '$' && !memcmp(in + j + 1, in + i + 1, tl))
			return j + tl + 2;
	return n;
}

size_t bz_sql_sanitize(const char *in, size_t n, enum bz_sql_dialect d, char *out, size_t cap)
{
	struct out o = { out, 0, cap, 0 };
	size_t i = 0;

	if (!cap)
		return 0;
	while (i < n && !o.full) {
		unsigned c = (unsigned char)in[i];

		if (!c) {
			break; /* (a NUL ends a protocol's C string) */
		} else if (is_space(c)) {
			put_space(&o);
			i++;
		} else if (c == '-' && i + 1 < n && in[i + 1] == '-') {
			while (i < n && in[i] != '\n')
				i++;
			put_space(&o);
		} else if (c == '#' && d == BZ_SQL_MYSQL) {
			while (i < n && in[i] != '\n')
				i++;
			put_space(&o);
		} else if (c == '/' && i + 1 < n && in[i + 1] == '*') {
			const char *e = NULL;
			for (size_t j = i + 2; j + 1 < n; j++)
				if (in[j] == '*' && in[j + 1] == '/') {
					e = in + j + 2;
					break;
				}
			i = e ? (size_t)(e - in) : n;
			put_space(&o);
		} else if (c == '\'' || (c == '"' && d == BZ_SQL_MYSQL)) {
			i = string_end(in, n, i, d == BZ_SQL_MYSQL);
			put(&o, "?", 1);
		} else if (c == '"' || (c == '`' && d == BZ_SQL_MYSQL)) {
			size_t e = string_end(in, n, i, 0);
			put(&o, in + i, e - i); /* a quoted identifier */
			i = e;
		} else if (c == '$' && d == BZ_SQL_PG && i + 1 < n && is_digit((unsigned char)in[i + 1])) {
			size_t e = i + 1;
			while (e < n && is_digit((unsigned char)in[e]))
				e++;
			put(&o, in + i, e - i); /* $1: a parameter */
			i = e;
		} else if (c == '$' && d == BZ_SQL_PG) {
			size_t t = i + 1;
			while (t < n && ident_byte((unsigned char)in[t]) && in[t] != '$')
				t++;
			if (t < n && in[t] == '$' && (t == i + 1 || ident_start((unsigned char)in[i + 1]))) {
				i = dollar_end(in, n, i, t - i - 1);
				put(&o, "?", 1);
			} else {
				put(&o, "$", 1);
				i++;
			}
		} else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit((unsigned char)in[i + 1]))) {
			/* a number (after a word it would be part of the word) */
			while (i < n && (ident_byte((unsigned char)in[i]) || in[i] == '.' ||
					 ((in[i] == '+' || in[i] == '-') && (in[i - 1] == 'e' || in[i - 1] == 'E'))))
				i++;
			put(&o, "?", 1);
		} else if (ident_start(c)) {
			size_t e = i;
			while (e < n && ident_byte((unsigned char)in[e]))
				e++;
			/* E'...', X'...', B'...', N'...': a prefixed string, one literal */
			if (e == i + 1 && e < n && in[e] == '\'' && strchr("EeXxBbNn", (int)c)) {
				i = string_end(in, n, e, c == 'E' || c == 'e' || d == BZ_SQL_MYSQL);
				put(&o, "?", 1);
				continue;
			}
			put(&o, in + i, e - i);
			i = e;
		} else {
			put(&o, in + i, 1);
			i++;
		}
	}
	while (o.len && out[o.len - 1] == ' ')
		o.len--;
	out[o.len] = 0;
	return o.len;
}

/* ---- the summary ----------------------------------------------------------- */

struct tok {
	const char *s;
	size_t n;
	int word;  /* an identifier or keyword (quoted: s and n without the quotes) */
	int depth; /* parentheses around it */
};

#define TOKS_MAX 256
#define BZ_SQL_STMT_MAX 1024

static size_t tokenize(const char *q, struct tok *t, size_t max)
{
	size_t k = 0;
	int depth = 0;

	for (size_t i = 0; q[i] && k < max;) {
		unsigned c = (unsigned char)q[i];
		if (c == ' ') {
			i++;
		} else if (c == '"' || c == '`') {
			const char *e = strchr(q + i + 1, (int)c);
			size_t end = e ? (size_t)(e - q) : strlen(q);
			t[k++] = (struct tok){ q + i + 1, end - i - 1, 1, depth };
			i = e ? end + 1 : end;
		} else if (ident_start(c)) {
			size_t e = i;
			while (ident_byte((unsigned char)q[e]))
				e++;
			t[k++] = (struct tok){ q + i, e - i, 1, depth };
			i = e;
		} else {
			if (c == ')' && depth)
				depth--;
			t[k++] = (struct tok){ q + i, 1, 0, depth };
			if (c == '(')
				depth++;
			i++;
		}
	}
	return k;
}

static int kw(const struct tok *t, const char *w)
{
	return t->word && strlen(w) == t->n && !strncasecmp(t->s, w, t->n);
}

static void upper_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	dst[n] = 0;
}

/* The table named at t[i]: a word, or schema.table; its tokens in *used.
 * 0 when t[i] is not one. */
static int table_at(const struct tok *t, size_t k, size_t i, char *out, size_t cap, size_t *used)
{
	size_t len = 0, j = i;

	if (i >= k || !t[i].word)
		return 0;
	for (;;) {
		size_t n = t[j].n;
		if (len + n + 1 >= cap)
			return 0;
		memcpy(out + len, t[j].s, n);
		len += n;
		j++;
		if (j + 1 < k && !t[j].word && t[j].s[0] == '.' && t[j + 1].word) {
			out[len++] = '.';
			j++;
			continue;
		}
		break;
	}
	out[len] = 0;
	*used = j - i;
	return 1;
}

/* Keywords that end a SELECT's FROM list. */
static int ends_from(const struct tok *t)
{
	static const char *const w[] = { "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "WINDOW",
					 "FOR", "UNION", "INTERSECT", "EXCEPT", "FETCH", "RETURNING", NULL };
	for (int i = 0; w[i]; i++)
		if (kw(t, w[i]))
			return 1;
	return 0;
}

static void select_table(const struct tok *t, size_t k, size_t i, int depth, char *out, size_t cap)
{
	size_t used;

	for (; i < k; i++)
		if (t[i].depth == depth && kw(&t[i], "FROM"))
			break;
	if (i >= k || !table_at(t, k, i + 1, out, cap, &used))
		return;
	/* plain: nothing but an alias until the FROM list ends */
	for (size_t j = i + 1 + used; j < k && t[j].depth >= depth; j++) {
		if (t[j].depth > depth)
			continue;
		if (ends_from(&t[j]) || (!t[j].word && t[j].s[0] == ';'))
			return;
		if (kw(&t[j], "JOIN") || (!t[j].word && (t[j].s[0] == ',' || t[j].s[0] == '('))) {
			out[0] = 0;
			return;
		}
	}
}

/* One statement's operation and table (bz_sql_summary's rules). */
static void one_summary(const char *q, char *op, size_t opcap, char *table, size_t tcap)
{
	struct tok t[TOKS_MAX];
	size_t k = tokenize(q, t, TOKS_MAX), i = 0, used;

	op[0] = table[0] = 0;
	if (!k || !t[0].word)
		return;
	if (kw(&t[0], "WITH")) {
		/* the statement after the common table expressions */
		for (i = 1; i < k; i++)
			if (t[i].depth == 0 && (kw(&t[i], "SELECT") || kw(&t[i], "INSERT") || kw(&t[i], "UPDATE") ||
						kw(&t[i], "DELETE") || kw(&t[i], "MERGE")))
				break;
		if (i == k)
			i = 0;
	}
	upper_copy(op, opcap, t[i].s, t[i].n);
	if (!strcmp(op, "SELECT")) {
		select_table(t, k, i + 1, 0, table, tcap);
	} else if (!strcmp(op, "INSERT") || !strcmp(op, "REPLACE")) {
		size_t j = i + 1;
		if (j < k && kw(&t[j], "IGNORE"))
			j++;
		if (j < k && kw(&t[j], "INTO"))
			j++;
		table_at(t, k, j, table, tcap, &used);
	} else if (!strcmp(op, "UPDATE")) {
		size_t j = i + 1;
		if (j < k && (kw(&t[j], "ONLY") || kw(&t[j], "IGNORE") || kw(&t[j], "LOW_PRIORITY")))
			j++;
		table_at(t, k, j, table, tcap, &used);
	} else if (!strcmp(op, "DELETE")) {
		size_t j = i + 1;
		if (j < k && kw(&t[j], "FROM"))
			j++;
		if (j < k && kw(&t[j], "ONLY"))
			j++;
		table_at(t, k, j, table, tcap, &used);
	} else if (!strcmp(op, "TRUNCATE") || !strcmp(op, "COPY")) {
		size_t j = i + 1;
		if (j < k && kw(&t[j], "TABLE"))
			j++;
		if (j < k && t[j].word)
			table_at(t, k, j, table, tcap, &used);
	} else if ((!strcmp(op, "CREATE") || !strcmp(op, "DROP") || !strcmp(op, "ALTER")) && i + 1 < k) {
		size_t j = i + 1;
		while (j < k && (kw(&t[j], "TEMPORARY") || kw(&t[j], "TEMP") || kw(&t[j], "UNLOGGED")))
			j++;
		if (j < k && kw(&t[j], "TABLE")) {
			j++;
			if (j < k && kw(&t[j], "IF"))
				j++;
			if (j < k && kw(&t[j], "NOT"))
				j++;
			if (j < k && kw(&t[j], "EXISTS"))
				j++;
			table_at(t, k, j, table, tcap, &used);
		}
	}
}

void bz_sql_summary(const char *q, char *op, size_t opcap, char *table, size_t tcap, uint32_t *nstmts)
{
	char stmt[BZ_SQL_STMT_MAX], sop[64], stable[128];
	uint32_t n = 0;
	int same_op = 1, same_table = 1;
	const char *s = q;

	op[0] = table[0] = 0;
	/* statements, separated by ';' (q is sanitised: no literal holds one;
	 * a quoted identifier could, and only splits its statement's name) */
	while (*s) {
		const char *e = strchr(s, ';');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		size_t keep = len < sizeof(stmt) - 1 ? len : sizeof(stmt) - 1;
		memcpy(stmt, s, keep);
		stmt[keep] = 0;
		s += len + (e != NULL);
		one_summary(stmt, sop, sizeof(sop), stable, sizeof(stable));
		if (strspn(stmt, " ") == strlen(stmt))
			continue; /* empty: "a; ;" */
		if (n++ == 0) {
			snprintf(op, opcap, "%s", sop);
			snprintf(table, tcap, "%s", stable);
			continue;
		}
		same_op &= !strcmp(op, sop);
		same_table &= !strcmp(table, stable);
	}
	*nstmts = n;
	if (n > 1) {
		/* a batch (the conventions: "BATCH {operation}" when all are
		 * one operation, "BATCH" otherwise; a table only when all
		 * name the same) */
		char first[64];
		snprintf(first, sizeof(first), "%s", op);
		if (same_op && first[0])
			snprintf(op, opcap, "BATCH %s", first);
		else
			snprintf(op, opcap, "BATCH");
		if (!same_table)
			table[0] = 0;
	}
}
