/* redact_pg.c - PostgreSQL's wire protocol masked (redact_wire.h).
 *
 * Each direction is framed as the analyzer frames it (analyze/proto/
 * pgwire.h): startup-phase packets, then type byte and length.  Inside a
 * message a small walker follows its fields, so that only values are
 * masked and every length, count, format code and name stays:
 *   Query, Parse        the statement's literals (rd_sql, PostgreSQL rules)
 *   Bind, FunctionCall  every parameter's or argument's bytes
 *   DataRow             every column's bytes
 *   CopyData, CopyFail, password and SASL messages ('p'),
 *   AuthenticationSASLContinue/Final, BackendKeyData's and CancelRequest's
 *   secret key, NotificationResponse's payload, FunctionCallResponse's
 *                       value: whole
 *   ErrorResponse, NoticeResponse
 *                       every field's value but severity (S, V), SQLSTATE
 *                       (C), position (P, p), source file, line, routine
 *                       (F, L, R) and the schema, table, column, type and
 *                       constraint names (s, t, c, d, n): message, detail,
 *                       hint, where and internal query can quote values
 *   StartupMessage      every parameter's value but user, database,
 *                       application_name, client_encoding, DateStyle,
 *                       TimeZone and replication (options can carry
 *                       -c settings)
 * After an SSLRequest (GSSENCRequest) answered 'S' ('G') the socket carries
 * ciphertext: left as it is.
 *
 * Bytes not captured inside a message of known length are skipped by
 * count; the rest of that message is then masked whole (where its walker
 * was is unknown).  Bytes not captured where a header should be, or a
 * length no message can have, lose the framing: every later byte of the
 * direction is masked, until a payload captured whole is a chain of whole
 * plausible messages ending exactly at its end with one that closes an
 * exchange (bz_pg_complete: a ReadyForQuery, a Sync...).  Such a payload
 * is followed field by field like any other, so nothing is left unmasked
 * because it could not be followed.
 */
#include <string.h>

#include "analyze/proto/pgwire.h"
#include "record/redact_wire.h"

enum mst { M_STARTUP, M_SSL_ANSWER, M_MSG, M_TLS, M_LOST, M_JOINED };

/* Where a message's walker is. */
enum wst {
	W_KEEP,     /* the rest of the message stays */
	W_MASK,     /* the rest is masked */
	W_SQL,      /* a statement up to its NUL, then W_KEEP */
	W_CSTR,     /* a string kept up to its NUL, then `next` */
	W_INT,      /* an integer of ilen bytes, then int_done() */
	W_SKIP,     /* vleft bytes kept, then `next` */
	W_VAL,      /* vleft value bytes masked, then the next value */
	W_SKEY,     /* startup: a parameter's name */
	W_SVAL,     /* startup: its value */
	W_FTYPE,    /* error/notice: a field's type byte */
	W_FVAL,     /* ... its value */
};

/* What an integer being read is. */
enum ifor {
	I_NFMT,     /* Bind, FunctionCall: format codes */
	I_NVALS,    /* Bind parameters, FunctionCall arguments, DataRow columns */
	I_VLEN,     /* a value's length (-1: NULL) */
	I_OID,      /* FunctionCall: the function */
	I_CODE,     /* startup packet's code */
	I_THEN_MASK,/* kept, then the rest masked (BackendKeyData, CancelRequest, FunctionCallResponse) */
	I_AUTH,     /* Authentication's code */
	I_PID,      /* NotificationResponse: the sender, then channel, then payload */
};

struct pgm_dir {
	uint8_t st, hdr[5], hlen, type, in_body;
	uint8_t fst, next, ifor, ilen, alen, keep_val, klen, key_over, nvals_then_keep;
	uint32_t left;     /* body bytes to go */
	uint32_t acc;      /* the integer being read */
	uint32_t count;    /* values to go */
	uint32_t vleft;    /* bytes to go in a value or a skip */
	uint32_t code;     /* a startup packet's code (0 until read) */
	char key[20];
	struct rd_sql sql;
};

struct pgm {
	uint8_t client;
	struct pgm_dir d[2];
};

static unsigned side_of(const struct pgm *s, unsigned dir) { return dir == s->client ? BZ_PG_FRONT : BZ_PG_BACK; }

static void want_int(struct pgm_dir *d, enum ifor what, uint8_t len)
{
	d->fst = W_INT;
	d->ifor = (uint8_t)what;
	d->ilen = len;
	d->alen = 0;
	d->acc = 0;
}

/* The walker at the start of a message of type t (0: a startup packet). */
static void walk_start(struct pgm_dir *d, unsigned side, uint8_t t)
{
	d->fst = W_KEEP;
	if (side == BZ_PG_FRONT) {
		switch (t) {
		case 0: want_int(d, I_CODE, 4); break;
		case 'Q':
			rd_sql_init(&d->sql, RD_SQL_PG);
			d->fst = W_SQL;
			break;
		case 'P':
			rd_sql_init(&d->sql, RD_SQL_PG);
			d->fst = W_CSTR; /* the statement's name, then its text */
			d->next = W_SQL;
			break;
		case 'B':
			d->fst = W_CSTR; /* portal */
			d->next = W_CSTR; /* then the statement, then the formats */
			d->nvals_then_keep = 2;
			break;
		case 'F': want_int(d, I_OID, 4); break;
		case 'p': case 'd': case 'f': d->fst = W_MASK; break;
		default: break;
		}
		return;
	}
	switch (t) {
	case 'D':
		d->ifor = I_NVALS;
		want_int(d, I_NVALS, 2);
		break;
	case 'd': d->fst = W_MASK; break;
	case 'E': case 'N': d->fst = W_FTYPE; break;
	case 'R': want_int(d, I_AUTH, 4); break;
	case 'K': case 'V': want_int(d, I_THEN_MASK, 4); break;
	case 'A': want_int(d, I_PID, 4); break;
	default: break;
	}
}

/* The value after a count or a value: the next value's length, or the
 * end of the values (the rest kept: result format codes). */
static void next_value(struct pgm_dir *d)
{
	if (d->count) {
		d->count--;
		want_int(d, I_VLEN, 4);
	} else {
		d->fst = W_KEEP;
	}
}

static void int_done(struct pgm_dir *d)
{
	uint32_t v = d->acc;

	switch (d->ifor) {
	case I_OID:
		want_int(d, I_NFMT, 2);
		break;
	case I_NFMT:
		d->vleft = v * 2u;
		d->fst = W_SKIP;
		d->next = W_INT; /* then the number of values */
		break;
	case I_NVALS:
		d->count = v;
		next_value(d);
		break;
	case I_VLEN:
		if (v == 0xffffffffu || v == 0) {
			next_value(d);
		} else {
			d->vleft = v;
			d->fst = W_VAL;
		}
		break;
	case I_CODE:
		d->code = v;
		if (v >> 16 == 3) {
			d->fst = W_SKEY;
			d->klen = d->key_over = 0;
		} else if (v == BZ_PG_CANCEL) {
			want_int(d, I_THEN_MASK, 4); /* the pid, then the secret key */
		} else {
			d->fst = W_KEEP;
		}
		break;
	case I_THEN_MASK:
		d->fst = W_MASK;
		break;
	case I_AUTH:
		/* SASLContinue and SASLFinal carry the exchange's data */
		d->fst = v == 11 || v == 12 ? W_MASK : W_KEEP;
		break;
	case I_PID:
		d->fst = W_CSTR;
		d->next = W_MASK;
		break;
	}
}

static int startup_kept(const struct pgm_dir *d)
{
	static const char *const keep[] = { "user", "database", "application_name", "client_encoding",
					    "DateStyle", "TimeZone", "replication", NULL };

	if (d->key_over)
		return 0;
	for (int i = 0; keep[i]; i++)
		if (strlen(keep[i]) == d->klen && !memcmp(keep[i], d->key, d->klen))
			return 1;
	return 0;
}

/* Error and notice fields whose values are kept (see the top). */
static int field_kept(uint8_t f) { return f && strchr("SVCPpFLRstcdn", f) != NULL; }

/* Walks p[0..n), bytes of the current message's content; returns the
 * bytes masked. */
static size_t walk(struct pgm_dir *d, uint8_t *p, size_t n)
{
	size_t i = 0, m = 0, k;
	const uint8_t *z;

	while (i < n) {
		switch (d->fst) {
		case W_KEEP:
			return m;
		case W_MASK:
			return m + rd_wire_fill(p + i, n - i);
		case W_SQL:
			z = memchr(p + i, 0, n - i);
			k = z ? (size_t)(z - (p + i)) : n - i;
			m += rd_sql_mask(&d->sql, p + i, k);
			i += k;
			if (z) {
				i++;
				d->fst = W_KEEP;
			}
			break;
		case W_CSTR:
			z = memchr(p + i, 0, n - i);
			if (!z)
				return m;
			i = (size_t)(z - p) + 1;
			if (d->next == W_CSTR && d->nvals_then_keep == 2) {
				d->nvals_then_keep = 1; /* Bind: the statement's name next */
			} else if (d->next == W_CSTR) {
				d->nvals_then_keep = 0;
				want_int(d, I_NFMT, 2);
			} else {
				d->fst = d->next;
			}
			break;
		case W_INT:
			d->acc = d->acc << 8 | p[i++];
			if (++d->alen == d->ilen)
				int_done(d);
			break;
		case W_SKIP:
			k = d->vleft < n - i ? d->vleft : n - i;
			d->vleft -= (uint32_t)k;
			i += k;
			if (!d->vleft)
				want_int(d, I_NVALS, 2);
			break;
		case W_VAL:
			k = d->vleft < n - i ? d->vleft : n - i;
			m += rd_wire_fill(p + i, k);
			d->vleft -= (uint32_t)k;
			i += k;
			if (!d->vleft)
				next_value(d);
			break;
		case W_SKEY:
			if (!p[i]) {
				i++;
				if (!d->klen) {
					d->fst = W_KEEP; /* the list's end */
				} else {
					d->keep_val = (uint8_t)startup_kept(d);
					d->fst = W_SVAL;
				}
				break;
			}
			if (d->klen < sizeof(d->key))
				d->key[d->klen++] = (char)p[i];
			else
				d->key_over = 1;
			i++;
			break;
		case W_SVAL:
		case W_FVAL:
			z = memchr(p + i, 0, n - i);
			k = z ? (size_t)(z - (p + i)) : n - i;
			if (!d->keep_val)
				m += rd_wire_fill(p + i, k);
			i += k;
			if (z) {
				i++;
				d->fst = d->fst == W_SVAL ? W_SKEY : W_FTYPE;
				d->klen = d->key_over = 0;
			}
			break;
		case W_FTYPE:
			if (!p[i]) {
				d->fst = W_KEEP;
				return m;
			}
			d->keep_val = (uint8_t)field_kept(p[i]);
			d->fst = W_FVAL;
			i++;
			break;
		default:
			return m;
		}
	}
	return m;
}

static void msg_reset(struct pgm_dir *d)
{
	d->hlen = 0;
	d->in_body = 0;
	d->left = 0;
}

/* The message of dir is over.  A startup packet's code says what follows:
 * an SSLRequest's (GSSENCRequest's) one-byte answer, or typed messages. */
static void msg_end(struct pgm *s, unsigned dir)
{
	struct pgm_dir *d = &s->d[dir];

	if (d->st == M_STARTUP) {
		if (d->code == BZ_PG_SSL || d->code == BZ_PG_GSSENC) {
			s->d[!dir].st = M_SSL_ANSWER;
			s->d[!dir].type = d->code == BZ_PG_SSL ? 'S' : 'G';
		} else {
			d->st = M_MSG;
		}
	}
	msg_reset(d);
}

static void lose(struct pgm_dir *d)
{
	msg_reset(d);
	d->st = M_LOST;
}

static size_t pg_data(void *stv, unsigned dir, uint8_t *p, size_t caplen, uint64_t ret)
{
	struct pgm *s = stv;
	struct pgm_dir *d = &s->d[dir & 1];
	unsigned side = side_of(s, dir & 1);
	size_t i = 0, m = 0;
	uint32_t code;

	dir &= 1;
	if (d->st == M_TLS)
		return 0;
	if (d->st == M_JOINED && bz_pg_startup(p, caplen, &code) == 2) {
		/* taken for joined, but this is the connection's start (a
		 * socket a forked server inherited shows as one open before) */
		s->client = (uint8_t)dir;
		s->d[!dir].st = M_MSG;
		d->st = M_STARTUP;
		side = BZ_PG_FRONT;
	}
	if (d->st == M_LOST || d->st == M_JOINED) {
		unsigned ok = d->st == M_LOST ? bz_pg_complete(p, caplen == ret ? caplen : 0, side)
					      : bz_pg_plausible(p, caplen, ret, side, BZ_PG_LEN_MAX);
		if (!ok)
			return rd_wire_fill(p, caplen);
		msg_reset(d);
		d->st = M_MSG;
	}
	while (i < caplen) {
		if (d->st == M_TLS)
			return m;
		if (d->st == M_SSL_ANSWER) {
			if (p[i] == d->type) {
				/* encryption accepted: ciphertext from here, both ways */
				s->d[0].st = s->d[1].st = M_TLS;
				return m;
			}
			d->st = M_MSG;
			if (p[i] == 'N') {
				i++;
				continue;
			}
		}
		if (!d->in_body) {
			size_t need = d->st == M_STARTUP ? 4u : 5u;
			uint32_t len;
			size_t k = need - d->hlen < caplen - i ? need - d->hlen : caplen - i;

			memcpy(d->hdr + d->hlen, p + i, k);
			d->hlen = (uint8_t)(d->hlen + k);
			i += k;
			if (d->hlen < need)
				break;
			if (d->st == M_STARTUP) {
				len = bz_pg_be32(d->hdr);
				d->type = 0;
				if (len < 8 || len > BZ_PG_STARTUP_MAX) {
					lose(d);
					return m + rd_wire_fill(p + i, caplen - i);
				}
			} else {
				d->type = d->hdr[0];
				len = bz_pg_be32(d->hdr + 1);
				if (!bz_pg_type_ok(d->type, len, side)) {
					lose(d);
					return m + rd_wire_fill(p + i, caplen - i);
				}
			}
			d->left = len - 4;
			d->in_body = 1;
			d->acc = 0;
			d->code = 0;
			walk_start(d, side, d->type);
			if (d->st == M_STARTUP && d->left < 4) {
				lose(d);
				return m + rd_wire_fill(p + i, caplen - i);
			}
		} else {
			size_t k = d->left < caplen - i ? d->left : caplen - i;

			m += walk(d, p + i, k);
			i += k;
			d->left -= (uint32_t)k;
		}
		if (d->in_body && !d->left)
			msg_end(s, dir);
	}
	if ((uint64_t)caplen < ret) {
		uint64_t u = ret - caplen;
		if (d->st == M_TLS)
			return m;
		if (!d->in_body || u > d->left) {
			lose(d);
			return m;
		}
		d->left -= (uint32_t)u;
		/* where the walker is after them is unknown: the rest of the
		 * message (in the next payload) is masked whole */
		if (d->fst != W_KEEP)
			d->fst = W_MASK;
		if (!d->left)
			msg_end(s, dir);
	}
	return m;
}

static int pg_detect(const uint8_t *p, size_t n, unsigned dir, int joined, unsigned *client_dir)
{
	uint32_t code;
	unsigned sides;

	/* (a startup packet's start is enough: a payload this short that
	 * begins with a zero byte is no HTTP nor TLS, and a wrong claim only
	 * masks more, the framing being lost at once) */
	if (bz_pg_startup(p, n, &code)) {
		*client_dir = dir;
		return RD_WIRE_YES;
	}
	if (!joined)
		return RD_WIRE_NO;
	/* joined mid-way: whole messages of one side (an HTTP request's
	 * letters make a length of hundreds of megabytes) */
	sides = bz_pg_plausible(p, n, n, BZ_PG_FRONT | BZ_PG_BACK, 1u << 24);
	if (!sides)
		return RD_WIRE_NO;
	/* (either side's: taken for the target being the client, the more
	 * usual; a wrong guess soon loses the framing, which masks) */
	*client_dir = sides == BZ_PG_BACK ? !dir : sides == BZ_PG_FRONT ? dir : RD_WIRE_OUT;
	return RD_WIRE_YES;
}

static void pg_init(void *stv, unsigned client_dir, int joined)
{
	struct pgm *s = stv;

	s->client = (uint8_t)(client_dir & 1);
	for (unsigned i = 0; i < 2; i++)
		s->d[i].st = joined ? M_JOINED : i == s->client ? M_STARTUP : M_MSG;
}

const struct rd_wire_ops rd_wire_pgsql = { "postgresql", pg_detect, sizeof(struct pgm), pg_init, pg_data };
