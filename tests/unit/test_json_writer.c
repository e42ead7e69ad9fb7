/* test_json_writer.c - the JSON string escaper and the streaming writer of
 * the Perfetto export (analyze/json_writer.c): every byte string becomes a
 * valid JSON string, valid UTF-8 kept as is, the rest replaced. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/json_writer.h"

#define FFFD "\xEF\xBF\xBD"

static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t n; /* 0: strlen */
		const char *want;
	} cases[] = {
		{ "", 0, "\"\"" },
		{ "GET /users/{id}", 0, "\"GET /users/{id}\"" },
		{ "say \"hi\"", 0, "\"say \\\"hi\\\"\"" },
		{ "C:\\dir\\", 0, "\"C:\\\\dir\\\\\"" },
		{ "a\nb\tc\rd\be\ff", 0, "\"a\\nb\\tc\\rd\\be\\ff\"" },
		{ "\x01\x1f", 0, "\"\\u0001\\u001f\"" },
		{ "nul\0x", 5, "\"nul\\u0000x\"" },
		{ "del\x7f/", 0, "\"del\x7f/\"" },                          /* DEL is no control char for JSON */
		{ "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 0,
		  "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"" },         /* é € 😀 kept */
		{ "\x80", 0, "\"" FFFD "\"" },                             /* stray continuation byte */
		{ "\xC0\xAF", 0, "\"" FFFD FFFD "\"" },                    /* overlong '/' */
		{ "\xE0\x80\xAF", 0, "\"" FFFD FFFD FFFD "\"" },           /* overlong, 3 bytes */
		{ "\xED\xA0\x80", 0, "\"" FFFD FFFD FFFD "\"" },           /* a UTF-16 surrogate */
		{ "\xF4\x90\x80\x80", 0, "\"" FFFD FFFD FFFD FFFD "\"" },  /* beyond U+10FFFF */
		{ "ab\xE2\x82", 0, "\"ab" FFFD FFFD "\"" },                /* cut short at the end */
		{ "\xE2\x82z", 0, "\"" FFFD FFFD "z\"" },                  /* cut short by an ASCII byte */
		{ "\xFF\xFE", 0, "\"" FFFD FFFD "\"" },                    /* never valid */
		{ "\xC3\"", 0, "\"" FFFD "\\\"\"" },                       /* the quote after it still escaped */
	};
	char out[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].n ? cases[i].n : strlen(cases[i].in);
		size_t len = bz_json_escape(out, cases[i].in, n);
		assert_true(len <= 6 * n + 2);
		out[len] = 0;
		if (strcmp(out, cases[i].want))
			fail_msg("case %zu: escape gave %s, want %s", i, out, cases[i].want);
	}
}

/* What the writer produced, as a NUL-terminated string (caller frees). */
static char *written(void (*fill)(struct bz_jw *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bz_jw *w = malloc(sizeof(*w));

	assert_non_null(f);
	assert_non_null(w);
	bz_jw_init(w, f);
	fill(w);
	assert_int_equal(bz_jw_flush(w), 0);
	assert_int_equal(w->bytes, len);
	free(w);
	fclose(f);
	return buf;
}

/* 3-byte characters across the writer's 512-byte pieces: none is split. */
static char long_in[3 * 1000 + 1];
static void fill_long(struct bz_jw *w)
{
	for (int i = 0; i < 1000; i++)
		memcpy(long_in + 3 * i, "\xE2\x82\xAC", 3);
	bz_jw_str(w, long_in, 3000);
}

static void test_long_string(void **state)
{
	char *s = written(fill_long);
	assert_int_equal(strlen(s), 3002);
	assert_int_equal(s[0], '"');
	assert_int_equal(s[3001], '"');
	assert_memory_equal(s + 1, long_in, 3000);
	assert_null(strstr(s, FFFD));
	free(s);
}

static void fill_numbers(struct bz_jw *w)
{
	static const int64_t us[] = { 0, 5, 999, 1000, 1234567, -5, -1234567, 1795612817162439972LL };
	for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
		bz_jw_us(w, us[i]);
		bz_jw_char(w, ' ');
	}
	bz_jw_i64(w, INT64_MIN);
	bz_jw_char(w, ' ');
	bz_jw_i64(w, 42);
	bz_jw_char(w, ' ');
	bz_jw_cstr(w, NULL);
}

static void test_numbers(void **state)
{
	char *s = written(fill_numbers);
	assert_string_equal(s, "0.000 0.005 0.999 1.000 1234.567 -0.005 -1234.567 1795612817162439.972 "
			       "-9223372036854775808 42 \"\"");
	free(s);
}

/* Many small writes through the buffer: nothing lost at its boundaries. */
static void fill_many(struct bz_jw *w)
{
	for (int i = 0; i < 200000; i++) {
		bz_jw_i64(w, i % 10);
		bz_jw_lit(w, ",");
	}
}

static void test_buffer(void **state)
{
	char *s = written(fill_many);
	assert_int_equal(strlen(s), 400000);
	for (int i = 0; i < 200000; i++)
		if (s[2 * i] != '0' + i % 10 || s[2 * i + 1] != ',')
			fail_msg("byte %d wrong", 2 * i);
	free(s);
}

/* A full disk is reported by the flush, with its errno. */
static void test_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct bz_jw *w = malloc(sizeof(*w));

	if (!f)
		fail_msg("/dev/full: %s", strerror(errno));
	assert_non_null(w);
	bz_jw_init(w, f);
	for (int i = 0; i < 100000; i++)
		bz_jw_lit(w, "0123456789");
	assert_int_equal(bz_jw_flush(w), ENOSPC);
	free(w);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_long_string),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_buffer),
		cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
