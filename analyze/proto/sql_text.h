/* sql_text.h - what the database parsers say of an SQL statement's text:
 * its sanitised form (db.query.text) and its operation and table
 * (db.operation.name, db.collection.name).
 *
 * The text reaches the analyzer as the recorder left it: literals masked
 * at record time (record/redact_sql.c: string contents '*', digits '0'),
 * or whole with --no-redact.  Either way every literal becomes '?', so the
 * same statement gives the same text whatever its values, as the
 * OpenTelemetry database conventions ask of db.query.text.
 */
#ifndef BEYLA_SQL_TEXT_H
#define BEYLA_SQL_TEXT_H

#include <stddef.h>
#include <stdint.h>

enum bz_sql_dialect { BZ_SQL_PG = 0, BZ_SQL_MYSQL = 1 };

/* in[0..n) as db.query.text into out (cap >= 1): string literals ('...',
 * E'...', $tag$...$tag$; MySQL "..." too), numbers and booleans' lexemes
 * stay only as '?' (TRUE/FALSE/NULL are kept: not values one hides),
 * comments dropped, every run of whitespace one space, no leading or
 * trailing space.  Placeholders ($1, ?) stay.  A literal the input ends
 * inside is a '?'.  Cut to cap - 1 bytes (at a character boundary); NUL
 * terminated.  Returns the length written. */
size_t bz_sql_sanitize(const char *in, size_t n, enum bz_sql_dialect d, char *out, size_t cap);

/* From a sanitised statement q: its operation, the first keyword upper-
 * cased (SELECT, INSERT, BEGIN...; for WITH ... the statement after the
 * common table expressions), and the table it works on when it names one
 * plainly: SELECT ... FROM t (no join, no second table), INSERT INTO t,
 * UPDATE t, DELETE FROM t, TRUNCATE t, COPY t, CREATE/DROP/ALTER TABLE t,
 * (schema-qualified names kept whole, quotes dropped); "" otherwise.
 * *nstmts: statements in q (separated by ';' outside literals), >= 1
 * when q is not empty. */
void bz_sql_summary(const char *q, char *op, size_t opcap, char *table, size_t tcap, uint32_t *nstmts);

#endif
