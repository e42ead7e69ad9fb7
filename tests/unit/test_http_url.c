/* test_http_url.c - request target -> url.path, redacted url.query and the
 * low-cardinality http.route (analyze/http_url.c), table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/http_url.h"

static void test_route(void **state)
{
	static const struct { const char *path, *route; } cases[] = {
		{ "", "/" },
		{ "/", "/" },
		{ "*", "*" },
		{ "/users/42", "/users/{id}" },
		{ "/users/42/", "/users/{id}/" },
		{ "/api/v1/users", "/api/v1/users" },
		{ "/orders/550e8400-e29b-41d4-a716-446655440000/items/7", "/orders/{id}/items/{id}" },
		{ "/blob/5f3a9c0e", "/blob/{id}" },                        /* 8 hex with digits */
		{ "/blob/deadbeef", "/blob/deadbeef" },                    /* a word, no digit */
		{ "/commit/0123456789abcdef0123456789abcdef01234567", "/commit/{id}" },
		{ "/t/aZ3kLm9QpR2sTu8v", "/t/{id}" },                      /* long mixed token */
		{ "/static/app-2024.css", "/static/app-2024.css" },        /* has a dot: kept */
		{ "/a//b", "/a//b" },
		{ "/v2", "/v2" },
		{ "/12345678901234567890123", "/{id}" },
	};
	char out[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bz_url_route(cases[i].path, out, sizeof(out));
		if (strcmp(out, cases[i].route))
			fail_msg("route(%s) = %s, want %s", cases[i].path, out, cases[i].route);
	}
	/* cut to the capacity, always terminated */
	bz_url_route("/aaaaaaaaaa/bbbbbbbbbb", out, 8);
	assert_string_equal(out, "/aaaaaa");
	bz_url_route(NULL, out, 1);
	assert_string_equal(out, "");
}

static void test_redact(void **state)
{
	static const struct { const char *q, *want; } cases[] = {
		{ "", "" },
		{ "a=1&b=2", "a=REDACTED&b=REDACTED" },
		{ "token=abc&flag", "token=REDACTED&flag" },
		{ "empty=&x=1", "empty=&x=REDACTED" },
		{ "a=1;b=2", "a=REDACTED;b=REDACTED" },
		{ "a==b", "a=REDACTED" },
		{ "&&a=1&", "&&a=REDACTED&" },
	};
	char out[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bz_url_redact_query(cases[i].q, out, sizeof(out));
		if (strcmp(out, cases[i].want))
			fail_msg("redact(%s) = %s, want %s", cases[i].q, out, cases[i].want);
	}
	bz_url_redact_query("password=hunter2", out, 12);
	assert_string_equal(out, "password=RE");
	assert_null(strstr(out, "hunter2"));
}

static void test_split(void **state)
{
	static const struct { const char *target, *path, *query; } cases[] = {
		{ "/a/b?x=1&y", "/a/b", "x=1&y" },
		{ "/a/b", "/a/b", "" },
		{ "/a#frag", "/a", "" },
		{ "/a?q=1#frag", "/a", "q=1" },
		{ "/?", "/", "" },
		{ "http://example.com/p/q?z=9", "/p/q", "z=9" },
		{ "http://example.com", "/", "" },
		{ "https://example.com?k=v", "/", "k=v" },
		{ "example.com:443", "", "" },   /* CONNECT */
		{ "*", "*", "" },               /* OPTIONS * */
	};
	char path[64], query[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bz_url_split(cases[i].target, path, sizeof(path), query, sizeof(query));
		if (strcmp(path, cases[i].path) || strcmp(query, cases[i].query))
			fail_msg("split(%s) = %s | %s", cases[i].target, path, query);
	}
}

static void test_segment_is_id(void **state)
{
	assert_true(bz_url_segment_is_id("0", 1));
	assert_false(bz_url_segment_is_id("", 0));
	assert_false(bz_url_segment_is_id("users", 5));
	assert_true(bz_url_segment_is_id("ABCDEF0123", 10));
	assert_false(bz_url_segment_is_id("a-long-slug-made-of-words", 25));
	assert_true(bz_url_segment_is_id("550e8400-e29b-41d4-a716-44665544000g", 36)); /* id-like anyway */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_segment_is_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
