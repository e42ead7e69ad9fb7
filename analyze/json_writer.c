/* json_writer.c - see json_writer.h. */
#include "json_writer.h"

#include <errno.h>
#include <string.h>

#include "otlp_proto.h" /* bz_utf8_seq: the one UTF-8 validity rule of the exports */

void bz_jw_init(struct bz_jw *w, FILE *f)
{
	w->f = f;
	w->err = 0;
	w->bytes = 0;
	w->n = 0;
}

static void drain(struct bz_jw *w)
{
	if (w->n && !w->err && fwrite(w->buf, 1, w->n, w->f) != w->n)
		w->err = errno ? errno : EIO;
	w->n = 0;
}

void bz_jw_raw(struct bz_jw *w, const char *s, size_t n)
{
	w->bytes += n;
	while (n) {
		size_t room = sizeof(w->buf) - w->n, k = n < room ? n : room;
		memcpy(w->buf + w->n, s, k);
		w->n += k, s += k, n -= k;
		if (w->n == sizeof(w->buf))
			drain(w);
	}
}

void bz_jw_lit(struct bz_jw *w, const char *s)
{
	bz_jw_raw(w, s, strlen(s));
}

void bz_jw_char(struct bz_jw *w, char c)
{
	if (w->n == sizeof(w->buf))
		drain(w);
	w->buf[w->n++] = c;
	w->bytes++;
}

size_t bz_json_escape(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char *o = out;
	size_t i = 0;

	*o++ = '"';
	while (i < n) {
		unsigned c = u[i];
		if (c >= 0x80) {
			size_t k = bz_utf8_seq(u + i, n - i);
			if (k) {
				memcpy(o, u + i, k);
				o += k, i += k;
			} else { /* one U+FFFD per byte that starts no valid sequence */
				*o++ = (char)0xEF, *o++ = (char)0xBF, *o++ = (char)0xBD;
				i++;
			}
			continue;
		}
		i++;
		if (c == '"' || c == '\\') {
			*o++ = '\\', *o++ = (char)c;
		} else if (c >= 0x20) {
			*o++ = (char)c;
		} else {
			*o++ = '\\';
			switch (c) {
			case '\n': *o++ = 'n'; break;
			case '\t': *o++ = 't'; break;
			case '\r': *o++ = 'r'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			default:
				*o++ = 'u', *o++ = '0', *o++ = '0';
				*o++ = hex[c >> 4], *o++ = hex[c & 15];
			}
		}
	}
	*o++ = '"';
	return (size_t)(o - out);
}

void bz_jw_str(struct bz_jw *w, const char *s, size_t n)
{
	char chunk[6 * 512 + 2];

	if (!s)
		n = 0;
	/* in pieces, so a long value needs no allocation; a piece ends on a
	 * character boundary (a UTF-8 sequence is never split, or its bytes
	 * would be judged invalid) */
	bz_jw_char(w, '"');
	while (n) {
		size_t k = n < 512 ? n : 512;
		while (k < n && k > 508 && ((unsigned char)s[k] & 0xC0) == 0x80)
			k--;
		size_t len = bz_json_escape(chunk, s, k);
		bz_jw_raw(w, chunk + 1, len - 2); /* without the quotes */
		s += k, n -= k;
	}
	bz_jw_char(w, '"');
}

void bz_jw_cstr(struct bz_jw *w, const char *s)
{
	bz_jw_str(w, s, s ? strlen(s) : 0);
}

void bz_jw_i64(struct bz_jw *w, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	bz_jw_raw(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

void bz_jw_us(struct bz_jw *w, int64_t ns)
{
	uint64_t u = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
	char frac[4] = { (char)('0' + u / 100 % 10), (char)('0' + u / 10 % 10), (char)('0' + u % 10), 0 };

	if (ns < 0)
		bz_jw_char(w, '-');
	bz_jw_i64(w, (int64_t)(u / 1000));
	bz_jw_char(w, '.');
	bz_jw_raw(w, frac, 3);
}

int bz_jw_flush(struct bz_jw *w)
{
	drain(w);
	if (!w->err && fflush(w->f))
		w->err = errno ? errno : EIO;
	return w->err;
}
