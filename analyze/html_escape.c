/* html_escape.c - untrusted bytes as HTML text (html_escape.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "html_escape.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

size_t bz_utf8_len(const unsigned char *s, size_t n, size_t i)
{
	unsigned char c = s[i];
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0; /* continuation byte, overlong C0/C1, F5..FF */
	/* The second byte's range rules out overlong forms (E0, F0), UTF-16
	 * surrogates (ED) and code points above U+10FFFF (F4). */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* The code point of a well-formed sequence of len bytes. */
static uint32_t utf8_decode(const unsigned char *p, size_t len)
{
	static const unsigned char lead_mask[] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
	uint32_t cp = p[0] & lead_mask[len];

	for (size_t k = 1; k < len; k++)
		cp = (cp << 6) | (p[k] & 0x3F);
	return cp;
}

/* Characters that are valid but must not reach the page as they are: C1
 * controls, and the bidirectional embeddings, overrides and isolates that
 * would make a URL read differently from what it is. */
static int is_hidden_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* ASCII byte c as HTML: a reference, a control picture, or itself. */
static int put_ascii(FILE *out, unsigned char c)
{
	switch (c) {
	case '&': return fputs("&amp;", out);
	case '<': return fputs("&lt;", out);
	case '>': return fputs("&gt;", out);
	case '"': return fputs("&quot;", out);
	case '\'': return fputs("&#39;", out);
	case '`': return fputs("&#96;", out);
	case '\t':
	case '\n': return fputc(c, out);
	default: break;
	}
	if (c < 0x20 || c == 0x7F) {
		/* U+2400 + c (U+2421 for DEL): E2 90 80+c, always 3 bytes */
		unsigned v = c == 0x7F ? 0x21 : c;
		char pic[4] = { (char)0xE2, (char)(0x90 | (v >> 6)), (char)(0x80 | (v & 0x3F)), 0 };
		return fputs(pic, out);
	}
	return fputc(c, out);
}

int bz_html_escape(FILE *out, const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int cut = 0;

	if (!s)
		return 0;
	while (i < n) {
		size_t len = bz_utf8_len(p, n, i);
		size_t step = len ? len : 1;
		int rc;

		if (i + step > max) {
			cut = 1;
			break;
		}
		if (len == 1)
			rc = put_ascii(out, p[i]);
		else if (!len || is_hidden_control(utf8_decode(p + i, len)))
			rc = fputs(replacement, out);
		else
			rc = fwrite(p + i, 1, len, out) == len ? 0 : EOF;
		if (rc == EOF)
			return -EIO;
		i += step;
	}
	if (cut && fputs("\xE2\x80\xA6", out) == EOF) /* … */
		return -EIO;
	return 0;
}

int bz_html_text(FILE *out, const char *s)
{
	return s ? bz_html_escape(out, s, strlen(s), SIZE_MAX) : 0;
}
