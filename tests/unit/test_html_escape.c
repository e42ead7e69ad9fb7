/* test_html_escape.c - the report's HTML escaper (analyze/html_escape.c):
 * markup characters, control bytes, malformed UTF-8 and text-reordering
 * characters from the wild never reach a page as they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/html_escape.h"

/* escape(s, n, max) as a malloc'd string */
static char *escape(const char *s, size_t n, size_t max)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(bz_html_escape(f, s, n, max), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void expect(const char *in, size_t n, const char *want)
{
	char *got = escape(in, n, SIZE_MAX);
	if (strcmp(got, want))
		fail_msg("escape(%.*s) = \"%s\", want \"%s\"", (int)n, in, got, want);
	free(got);
}
#define EXPECT(lit, want) expect(lit, sizeof(lit) - 1, want)

static void test_markup(void **state)
{
	EXPECT("/<script>alert(1)</script>", "/&lt;script&gt;alert(1)&lt;/script&gt;");
	EXPECT("a&b", "a&amp;b");
	EXPECT("&amp;", "&amp;amp;"); /* an entity in the data stays text */
	EXPECT("\" onmouseover=\"x", "&quot; onmouseover=&quot;x");
	EXPECT("' autofocus onfocus='x", "&#39; autofocus onfocus=&#39;x");
	EXPECT("`x`", "&#96;x&#96;");
	EXPECT("]]><!--", "]]&gt;&lt;!--");
	EXPECT("GET /users/{id}?q=REDACTED", "GET /users/{id}?q=REDACTED");
	EXPECT("", "");
}

static void test_controls(void **state)
{
	EXPECT("a\0b", "a\xE2\x90\x80" "b");      /* NUL inside the length: ␀ */
	EXPECT("\x01\x1b[31m", "\xE2\x90\x81\xE2\x90\x9B[31m");
	EXPECT("\r", "\xE2\x90\x8D");             /* ␍ */
	EXPECT("\x7f", "\xE2\x90\xA1");           /* ␡ */
	EXPECT("a\tb\nc", "a\tb\nc");             /* kept */
	EXPECT("\xC2\x85", "\xEF\xBF\xBD");       /* C1 NEL */
	EXPECT("\xE2\x80\xAE" "gpj.exe", "\xEF\xBF\xBD" "gpj.exe"); /* RIGHT-TO-LEFT OVERRIDE */
	EXPECT("\xE2\x81\xA6", "\xEF\xBF\xBD");   /* LEFT-TO-RIGHT ISOLATE */
}

static void test_utf8(void **state)
{
	EXPECT("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	EXPECT("\xEF\xBF\xBF", "\xEF\xBF\xBF");   /* a noncharacter is still well formed */
	/* overlong '<' (C0 BC) and overlong '/' (E0 80 AF): never decoded to markup */
	EXPECT("\xC0\xBC" "script", "\xEF\xBF\xBD\xEF\xBF\xBD" "script");
	EXPECT("\xE0\x80\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	EXPECT("\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");    /* surrogate */
	EXPECT("\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* > U+10FFFF */
	EXPECT("\xF5\xFF", "\xEF\xBF\xBD\xEF\xBF\xBD");
	EXPECT("a\xC3", "a\xEF\xBF\xBD");         /* cut short at the end */
	EXPECT("\xE2\x82<", "\xEF\xBF\xBD\xEF\xBF\xBD&lt;"); /* cut short before markup */
	EXPECT("\x80x", "\xEF\xBF\xBDx");         /* lone continuation byte */
	assert_int_equal(bz_utf8_len((const unsigned char *)"\xF0\x9F\x98\x80", 4, 0), 4);
	assert_int_equal(bz_utf8_len((const unsigned char *)"\xF0\x9F\x98", 3, 0), 0);
}

static void test_cap(void **state)
{
	char *got = escape("abcdef", 6, 3);
	assert_string_equal(got, "abc\xE2\x80\xA6");
	free(got);
	got = escape("abc", 3, 3); /* exactly max: no ellipsis */
	assert_string_equal(got, "abc");
	free(got);
	/* never cut inside a character: "é" (2 bytes) does not fit in 2 after "a" */
	got = escape("a\xC3\xA9z", 4, 2);
	assert_string_equal(got, "a\xE2\x80\xA6");
	free(got);
	got = escape("<<<<", 4, 2); /* the limit counts input bytes, not output */
	assert_string_equal(got, "&lt;&lt;\xE2\x80\xA6");
	free(got);
}

/* Every byte string of length 1 and 2, and random longer ones: the output
 * never holds a raw markup character nor a byte that is not well-formed
 * UTF-8 or a control byte, and every '&' starts a reference it wrote. */
static void test_no_markup_ever(void **state)
{
	unsigned char in[64];
	unsigned seed = 12345;

	for (unsigned round = 0; round < 256 + 65536 + 20000; round++) {
		size_t n;
		if (round < 256) {
			in[0] = (unsigned char)round;
			n = 1;
		} else if (round < 256 + 65536) {
			in[0] = (unsigned char)((round - 256) & 0xFF);
			in[1] = (unsigned char)((round - 256) >> 8);
			n = 2;
		} else {
			n = 1 + round % 40;
			for (size_t k = 0; k < n; k++) {
				seed = seed * 1103515245u + 12345u;
				in[k] = (unsigned char)(seed >> 16);
			}
		}
		char *got = escape((const char *)in, n, SIZE_MAX);
		size_t len = strlen(got), i = 0;
		for (size_t k = 0; k < len; k++)
			if (strchr("<>\"'`", got[k]))
				fail_msg("raw markup character 0x%02x in the output", (unsigned char)got[k]);
		while (i < len) {
			size_t l = bz_utf8_len((const unsigned char *)got, len, i);
			if (!l)
				fail_msg("malformed UTF-8 at byte %zu of the output", i);
			if ((unsigned char)got[i] < 0x20 && got[i] != '\t' && got[i] != '\n')
				fail_msg("control byte 0x%02x in the output", (unsigned char)got[i]);
			i += l;
		}
		/* every '&' starts one of the references the escaper writes */
		for (char *a = strchr(got, '&'); a; a = strchr(a + 1, '&'))
			if (strncmp(a, "&amp;", 5) && strncmp(a, "&lt;", 4) && strncmp(a, "&gt;", 4) &&
			    strncmp(a, "&quot;", 6) && strncmp(a, "&#39;", 5) && strncmp(a, "&#96;", 5))
				fail_msg("stray '&' in the output: %s", a);
		free(got);
	}
}

static void test_text(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(bz_html_text(f, NULL), 0);
	assert_int_equal(bz_html_text(f, "<b>"), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "&lt;b&gt;");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markup),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_no_markup_ever),
		cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
