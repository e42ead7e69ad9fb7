/* json_writer.h - a buffered, streaming JSON text writer for exports that
 * may be gigabytes long (`beyla analyze --perfetto`): nothing is kept but
 * one buffer; write errors are remembered and reported once, at the end.
 *
 * Strings are escaped as RFC 8259 requires: quote and backslash escaped,
 * every control character (U+0000..U+001F) as \n \t \r \b \f or \u00XX,
 * and every byte that is not part of valid UTF-8 (stray continuation bytes,
 * overlong forms, surrogates, beyond U+10FFFF, a sequence cut short) replaced
 * by U+FFFD, so any byte string from a capture yields valid JSON.
 */
#ifndef BEYLA_JSON_WRITER_H
#define BEYLA_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BZ_JW_BUF (256 * 1024)

struct bz_jw {
	FILE *f;
	int err;        /* errno of the first failed write, 0 if none */
	uint64_t bytes; /* written to f so far (flushed or not) */
	size_t n;
	char buf[BZ_JW_BUF];
};

/* Start writing to f (the writer never closes it). */
void bz_jw_init(struct bz_jw *w, FILE *f);
/* Raw text, no escaping. */
void bz_jw_raw(struct bz_jw *w, const char *s, size_t n);
void bz_jw_lit(struct bz_jw *w, const char *s); /* NUL-terminated raw text */
void bz_jw_char(struct bz_jw *w, char c);
/* s[0..n) as a quoted, escaped JSON string; s NULL writes "". */
void bz_jw_str(struct bz_jw *w, const char *s, size_t n);
void bz_jw_cstr(struct bz_jw *w, const char *s);
void bz_jw_i64(struct bz_jw *w, int64_t v);
/* A count of nanoseconds as microseconds with three decimals, exactly:
 * 1234567 -> 1234.567, -5 -> -0.005 (the Trace Event Format's unit). */
void bz_jw_us(struct bz_jw *w, int64_t ns);
/* Writes out the buffer and flushes f; 0, or the errno of the first error. */
int bz_jw_flush(struct bz_jw *w);

/* The escaped form of s[0..n), quotes included, into out (at most
 * 6 * n + 2 bytes: every input byte becomes at most \u00XX, and U+FFFD's
 * three bytes replace one).  Returns the length written. */
size_t bz_json_escape(char *out, const char *s, size_t n);

#endif
