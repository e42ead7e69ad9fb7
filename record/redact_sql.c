/* redact_sql.c - masks the literals of SQL text followed across payloads
 * (redact_wire.h: rd_sql).
 *
 * A byte-at-a-time scanner of the lexical rules both dialects share, with
 * their differences: PostgreSQL's '...' strings take no backslash escapes
 * unless written E'...' (standard_conforming_strings, the default since
 * 9.1), "..." is an identifier, and $tag$...$tag$ quotes a string; MySQL's
 * '...' and "..." are both strings taking backslash escapes (its default
 * sql_mode), `...` is an identifier and # starts a comment.
 *
 * Inside a dollar-quoted string, a '$' and the bytes after it that spell
 * the tag are left as they are until the tag ends or stops matching (only
 * then is it known whether they closed the string): at most the tag's
 * length of bytes equal to the tag stay readable.
 */
#include <string.h>

#include "record/redact.h"
#include "record/redact_wire.h"

enum {
	S_CODE = 0,
	S_WORD,       /* an identifier or keyword */
	S_NUM,        /* a numeric literal */
	S_STR,        /* inside '...' (MySQL: also "...") */
	S_STR_QUOTE,  /* the closing quote, or the first of a doubled one */
	S_STR_BS,     /* after a backslash in an escaping string */
	S_IDENT,      /* "..." (PostgreSQL) or `...` (MySQL): kept */
	S_DASH,       /* a '-': a comment if another follows */
	S_LINE,       /* -- or # comment, to the end of the line */
	S_SLASH,      /* a '/': a comment if '*' follows */
	S_BLOCK,      /* inside a block comment */
	S_BLOCK_STAR, /* ... after a '*' */
	S_DOLLAR,     /* a '$' in code: $1, $tag$ or $$ */
	S_DTAG,       /* the opening $tag$'s tag */
	S_DBODY,      /* inside $tag$...$tag$ */
	S_DCLOSE,     /* ... matching the closing tag (tagpos bytes so far) */
};

static int ident_byte(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '$' || c >= 0x80;
}

static int digit(unsigned c) { return c >= '0' && c <= '9'; }

void rd_sql_init(struct rd_sql *s, enum rd_sql_dialect d)
{
	memset(s, 0, sizeof(*s));
	s->dialect = (uint8_t)d;
}

/* The quote char that closes the current string. */
static unsigned quote_of(const struct rd_sql *s) { return s->tag[0] ? (unsigned char)s->tag[0] : '\''; }

static void open_string(struct rd_sql *s, unsigned q)
{
	/* E'...' (or e'...'): a word of one letter just before the quote */
	int e_prefix = s->st == S_WORD && s->wlen == 1 && (s->prev == 'E' || s->prev == 'e');
	s->esc = s->dialect == RD_SQL_MYSQL || e_prefix;
	s->tag[0] = (char)q; /* (no dollar tag is open while a quoted string is) */
	s->st = S_STR;
}

/* One byte in code (or a state that fell back to code). */
static size_t code_byte(struct rd_sql *s, uint8_t *b)
{
	unsigned c = *b;
	int after_ident = (s->st == S_WORD || s->st == S_NUM) && s->prev && ident_byte(s->prev);

	if (c == '\'' || (c == '"' && s->dialect == RD_SQL_MYSQL)) {
		open_string(s, c);
		return 0;
	}
	if ((c == '"' && s->dialect == RD_SQL_PG) || (c == '`' && s->dialect == RD_SQL_MYSQL)) {
		s->tag[0] = (char)c;
		s->st = S_IDENT;
		return 0;
	}
	if (c == '-') {
		s->st = S_DASH;
		s->prev = (uint8_t)c;
		return 0;
	}
	if (c == '/') {
		s->st = S_SLASH;
		s->prev = (uint8_t)c;
		return 0;
	}
	if (c == '#' && s->dialect == RD_SQL_MYSQL) {
		s->st = S_LINE;
		return 0;
	}
	if (c == '$' && s->dialect == RD_SQL_PG && !after_ident) {
		s->st = S_DOLLAR;
		s->taglen = 0;
		return 0;
	}
	if (digit(c) && !after_ident) {
		/* a number: 42, 3.14, 1e9, 0x1F; its digits become 0 */
		s->st = S_NUM;
		s->prev = (uint8_t)c;
		*b = '0';
		return 1;
	}
	if (c == '.' && s->st == S_NUM) {
		*b = '0';
		return 1;
	}
	if (ident_byte(c)) {
		if (s->st == S_NUM) {
			/* 1e9, 0x1F, 10L: still the number */
			*b = '0';
			return 1;
		}
		s->wlen = s->st == S_WORD ? (uint8_t)(s->wlen < 2 ? s->wlen + 1 : 2) : 1;
		s->st = S_WORD;
		s->prev = (uint8_t)c;
		return 0;
	}
	s->st = S_CODE;
	s->prev = (uint8_t)c;
	return 0;
}

size_t rd_sql_mask(struct rd_sql *s, uint8_t *p, size_t n)
{
	size_t masked = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t *b = p + i;
		unsigned c = *b;

		switch (s->st) {
		case S_STR:
			if (s->esc && c == '\\') {
				s->st = S_STR_BS;
				*b = BZ_REDACT_FILL;
				masked++;
			} else if (c == quote_of(s)) {
				s->st = S_STR_QUOTE;
			} else {
				*b = BZ_REDACT_FILL;
				masked++;
			}
			break;
		case S_STR_BS:
			s->st = S_STR;
			*b = BZ_REDACT_FILL;
			masked++;
			break;
		case S_STR_QUOTE:
			if (c == quote_of(s)) {
				/* '' inside a string: an escaped quote, the value
				 * goes on (the quotes stay: they frame it) */
				s->st = S_STR;
				break;
			}
			s->tag[0] = 0;
			s->st = S_CODE;
			s->prev = '\'';
			masked += code_byte(s, b);
			break;
		case S_IDENT:
			if (c == (unsigned char)s->tag[0]) {
				/* an identifier ends here: digits next to it are not a number */
				s->tag[0] = 0;
				s->st = S_WORD;
				s->prev = 'x';
				s->wlen = 2;
			}
			break;
		case S_DASH:
			if (c == '-') {
				s->st = S_LINE;
				break;
			}
			s->st = S_CODE;
			masked += code_byte(s, b);
			break;
		case S_LINE:
			if (c == '\n' || c == '\r') {
				s->st = S_CODE;
				s->prev = (uint8_t)c;
			} else {
				*b = BZ_REDACT_FILL;
				masked++;
			}
			break;
		case S_SLASH:
			if (c == '*') {
				s->st = S_BLOCK;
				break;
			}
			s->st = S_CODE;
			masked += code_byte(s, b);
			break;
		case S_BLOCK:
		case S_BLOCK_STAR:
			if (c == '/' && s->st == S_BLOCK_STAR) {
				s->st = S_CODE;
				s->prev = ' ';
			} else if (c == '*') {
				s->st = S_BLOCK_STAR;
			} else {
				s->st = S_BLOCK;
				*b = BZ_REDACT_FILL;
				masked++;
			}
			break;
		case S_DOLLAR:
			if (c == '$') {
				s->st = S_DBODY; /* $$ */
			} else if (digit(c)) {
				s->st = S_WORD; /* $1: a parameter */
				s->prev = (uint8_t)c;
				s->wlen = 2;
			} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80) {
				s->st = S_DTAG;
				s->tag[0] = (char)c;
				s->taglen = 1;
			} else {
				s->st = S_CODE;
				s->prev = '$';
				masked += code_byte(s, b);
			}
			break;
		case S_DTAG:
			if (c == '$') {
				s->st = S_DBODY;
			} else if (ident_byte(c) && s->taglen < RD_SQL_TAG_MAX) {
				s->tag[s->taglen++] = (char)c;
			} else {
				/* not a dollar quote after all ($foo without a second $) */
				s->st = S_WORD;
				s->prev = 'x';
				s->wlen = 2;
				s->taglen = 0;
				if (!ident_byte(c)) {
					s->st = S_CODE;
					masked += code_byte(s, b);
				}
			}
			break;
		case S_DBODY:
			if (c == '$') {
				s->st = S_DCLOSE;
				s->tagpos = 0;
			} else {
				*b = BZ_REDACT_FILL;
				masked++;
			}
			break;
		case S_DCLOSE:
			if (s->tagpos == s->taglen && c == '$') {
				s->st = S_CODE;
				s->prev = '$';
				s->taglen = 0;
			} else if (s->tagpos < s->taglen && c == (unsigned char)s->tag[s->tagpos]) {
				s->tagpos++;
			} else if (c == '$') {
				s->tagpos = 0; /* a new candidate */
			} else {
				s->st = S_DBODY;
				*b = BZ_REDACT_FILL;
				masked++;
			}
			break;
		default:
			masked += code_byte(s, b);
			break;
		}
	}
	return masked;
}
