/* redact_wire.h - masks the secrets of database wire protocols (PostgreSQL,
 * MySQL/MariaDB, Redis) before captured payloads reach the disk.
 *
 * The HTTP/1 redactor (redact.h) looks for header lines and form fields;
 * a database connection has neither, and its secrets are elsewhere: the
 * literals of SQL statements, the values bound to prepared statements, the
 * rows that come back, passwords in authentication messages, the arguments
 * of Redis commands.  Each protocol has its own masker (record/redact_pg.c,
 * redact_mysql.c, redact_redis.c): it follows the protocol's framing in
 * both directions of a connection, and masks in place, never changing a
 * length, so the analyzer frames every message exactly as without
 * masking.  This file picks the masker of a connection from its first
 * captured bytes and keeps the maskers' per-connection state.
 *
 * A connection is judged once, at its first captured payload in either
 * direction (joined mid-way: its first payload seen), by each masker's
 * detector in the order of the table; none claiming it, it stays with the
 * HTTP/1 redactor for good.  Detectors are strict: a connection wrongly
 * claimed would have its HTTP secrets missed by the HTTP rules.
 *
 * When a masker loses the framing (bytes moved that were not captured in
 * the middle of a length field, a length that cannot be), it masks every
 * later byte of that direction whole: nothing is unmasked because the
 * stream could not be followed.
 *
 * Plaintext from a TLS library probe (BZ_REDACT_PLAINTEXT) is a stream of
 * its own, judged on its own: a PostgreSQL connection upgraded by
 * SSLRequest carries TLS records on the socket and the protocol in the
 * plaintext.
 *
 * Values that come back: the HTTP rule (a value masked once is masked
 * wherever it appears again on the connection, redact_echo.h) has no
 * work here, because the maskers mask every value a database sends back
 * (rows, replies, error details) as well as every literal sent to it.
 *
 * Memory: one state per database connection (and a marker per connection
 * judged not to be one), freed at its close.  Past RD_WIRE_CONNS_MAX
 * entries a connection is not remembered: each of its payloads is judged
 * again (the detectors know mid-stream messages), counted in `unkept`.
 */
#ifndef BEYLA_RECORD_REDACT_WIRE_H
#define BEYLA_RECORD_REDACT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define RD_WIRE_CONNS_MAX 65536u

/* Directions as the recorder's: 0 read by the target, 1 written by it. */
enum { RD_WIRE_IN = 0, RD_WIRE_OUT = 1 };

enum rd_wire_verdict { RD_WIRE_NO = 0, RD_WIRE_YES = 2 };

struct rd_wire_ops {
	const char *name;
	/* p[0..n): the first captured bytes of a stream in direction dir
	 * (joined: the connection was open before the recording, so these
	 * may be from the middle of it).  RD_WIRE_YES claims it and sets
	 * *client_dir to the direction the client's messages travel. */
	int (*detect)(const uint8_t *p, size_t n, unsigned dir, int joined, unsigned *client_dir);
	size_t state_size; /* bytes of per-connection state, zeroed before init */
	void (*init)(void *st, unsigned client_dir, int joined);
	/* Masks p[0..caplen), the captured start of a read or write of ret
	 * bytes (ret >= caplen), in place.  Returns the bytes masked. */
	size_t (*data)(void *st, unsigned dir, uint8_t *p, size_t caplen, uint64_t ret);
};

extern const struct rd_wire_ops rd_wire_pgsql, rd_wire_mysql, rd_wire_redis;

struct rd_wire_stats {
	uint64_t conns[3];  /* connections claimed, by protocol (pgsql, mysql, redis) */
	uint64_t bytes;     /* bytes masked */
	uint64_t events;    /* payloads with a byte masked */
	uint64_t unkept;    /* payloads of connections not remembered (table full) */
};

struct rd_wire;

/* 0 or -ENOMEM. */
int rd_wire_new(struct rd_wire **out);
void rd_wire_free(struct rd_wire **wp);
/* The connection was open before the recording began. */
void rd_wire_joined(struct rd_wire *w, uint64_t conn);
/* One payload of conn: dir is 0/1, or'ed with plain (1: TLS plaintext).
 * Returns 1 when the connection is a database connection (p masked by its
 * protocol, *masked bytes), 0 when it is not (the caller masks it as
 * HTTP). */
int rd_wire_data(struct rd_wire *w, uint64_t conn, unsigned dir, int plain, uint8_t *p, size_t caplen,
		 int64_t ret, size_t *masked);
/* The connection closed: its state goes. */
void rd_wire_forget(struct rd_wire *w, uint64_t conn);
void rd_wire_get_stats(const struct rd_wire *w, struct rd_wire_stats *out);

/* ---- for the maskers ------------------------------------------------------ */

/* Fills p[0..n) with BZ_REDACT_FILL; returns n. */
size_t rd_wire_fill(uint8_t *p, size_t n);

/* SQL literals in a statement's text, followed across payloads: the
 * contents of string literals ('...', E'...', $tag$...$tag$, and for
 * MySQL "..." too), of comments, and the digits of numeric literals are
 * masked; keywords, identifiers, operators, placeholders ($1, ?) and the
 * quotes themselves stay, so the analyzer still reads the statement's
 * shape (bz_sql_sanitize turns every literal into '?').  String contents
 * become BZ_REDACT_FILL, digits '0' (a number stays a number). */
enum rd_sql_dialect { RD_SQL_PG = 0, RD_SQL_MYSQL = 1 };
struct rd_sql {
	uint8_t dialect;
	uint8_t st;       /* where the previous byte left the scanner */
	uint8_t prev;     /* the previous byte outside literals (0: none) */
	uint8_t wlen;     /* length of the word prev ends, up to 2 (E'...' strings) */
	uint8_t esc;      /* the current string takes backslash escapes */
	uint8_t taglen;   /* dollar quote: the tag's length (<= RD_SQL_TAG_MAX) */
	uint8_t tagpos;   /* ... bytes of the closing $tag$ matched so far */
	char tag[32];
};
#define RD_SQL_TAG_MAX 31
void rd_sql_init(struct rd_sql *s, enum rd_sql_dialect d);
/* Masks the literals of p[0..n), the next bytes of a statement.  Returns
 * the bytes masked. */
size_t rd_sql_mask(struct rd_sql *s, uint8_t *p, size_t n);

#endif
