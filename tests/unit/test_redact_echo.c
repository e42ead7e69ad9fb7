/* test_redact_echo.c - a value masked on a connection is masked wherever it
 * comes back on that connection (record/redact_echo.h; issue 15 item 4):
 * in a redirect's Location, in a body that echoes the query, twice in one
 * body, cut across writes at every position, in parts (a cookie's value,
 * a bearer token), percent-decoded; and what it must not touch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bpf/beyla_events.h"
#include "record/redact.h"
#include "tests/unit/redact_want.h"
#include "record/redact_echo.h"

#define FILL BZ_REDACT_FILL
#define SECRET "S3cr3tT0k3nXYZ"

/* One request on IN then one response on OUT of connection conn, each a
 * single read; the response is returned (malloc'd), redacted. */
static char *exchange(struct bz_redact *r, uint64_t conn, const char *req, const char *resp)
{
	char *q = strdup(req), *p = strdup(resp);

	assert_non_null(q);
	assert_non_null(p);
	bz_redact_data(r, conn, BZ_DIR_IN, (uint8_t *)q, strlen(q), (int64_t)strlen(q));
	bz_redact_data(r, conn, BZ_DIR_OUT, (uint8_t *)p, strlen(p), (int64_t)strlen(p));
	free(q);
	return p;
}

static struct bz_redact *fresh(unsigned flags)
{
	struct bz_redact *r = NULL;
	assert_int_equal(bz_redact_new(&r, 0, flags), 0);
	return r;
}

static const char req_token[] = "GET /go?token=" SECRET " HTTP/1.1\r\nHost: shop\r\n\r\n";

/* The case: a redirect to a login page carrying the request's
 * target, and a page that echoes the query, the secret in it twice. */
static void test_location_and_body(void **state)
{
	static const char resp[] =
		"HTTP/1.1 302 Found\r\nLocation: /login?next=/go?token=" SECRET "\r\n"
		"Content-Type: text/html\r\nContent-Length: 58\r\n\r\n"
		"<p>you asked for token=" SECRET " and " SECRET "</p>";
	static const char *const secs[] = { SECRET, NULL };
	struct bz_redact *r = fresh(0);
	struct bz_redact_stats st;
	char *got = exchange(r, 1, req_token, resp), *want = masked(resp, secs);

	assert_string_equal(got, want);
	bz_redact_get_stats(r, &st);
	assert_true(st.echo_hits >= 2); /* (the Location's token= is a parameter: masked as one) */
	assert_true(st.echo_values >= 1);
	free(got);
	free(want);
	bz_redact_free(&r);
}

/* Where it comes back percent-encoded (the Location of a redirect quoting
 * the whole target as a parameter), and a form value's decoded form. */
static void test_encoded_forms(void **state)
{
	static const char resp[] =
		"HTTP/1.1 302 Found\r\nLocation: /login?next=%2Fgo%3Ftoken%3D" SECRET "\r\n"
		"Content-Length: 0\r\n\r\n";
	static const char *const secs[] = { SECRET, NULL };
	struct bz_redact *r = fresh(0);
	char *got = exchange(r, 1, req_token, resp), *want = masked(resp, secs);

	assert_string_equal(got, want);
	free(got);
	free(want);

	/* a form's password, encoded in the request, plain in the page */
	static const char form[] = "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
				   "Content-Length: 31\r\n\r\nuser=al&password=p%40ss%2Fw0rd9";
	static const char page[] = "HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\nwrong password: p@ss/w0rd9!";
	static const char *const pw[] = { "p@ss/w0rd9", NULL };
	got = exchange(r, 2, form, page);
	want = masked(page, pw);
	assert_string_equal(got, want);
	free(got);
	free(want);
	bz_redact_free(&r);
}

/* A value that is a list: a Cookie header's values, a bearer token.  The
 * scheme word alone is not a secret. */
static void test_parts(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nCookie: theme=dark; sessionid=Qw3rtyUi0p99\r\n"
				  "Authorization: Bearer eyJhbGciOi.payload.sig\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 74\r\n\r\n"
				   "{\"seen\":\"Qw3rtyUi0p99\",\"auth\":\"eyJhbGciOi.payload.sig\",\"how\":\"Bearer\"}";
	static const char *const secs[] = { "Qw3rtyUi0p99", "eyJhbGciOi.payload.sig", NULL };
	struct bz_redact *r = fresh(0);
	char *got = exchange(r, 1, req, resp), *want = masked(resp, secs);

	assert_string_equal(got, want);
	assert_non_null(strstr(got, "\"how\":\"Bearer\"")); /* the scheme stays */
	free(got);
	free(want);
	bz_redact_free(&r);
}

/* The response body written in three writes, the secret cut at every pair
 * of positions, into one buffer that stays writable (the recorder's
 * batch, BZ_REDACT_F_HOLD): every byte of it masked, nothing else. */
static void test_split_across_writes(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
				   "echo: " SECRET " again: " SECRET "!!";
	static const char *const secs[] = { SECRET, NULL };
	char *want = masked(resp, secs);
	size_t n = strlen(resp), body = strstr(resp, "echo") - resp;

	for (size_t i = body; i < n; i++) {
		for (size_t j = i; j < n; j += 3) {
			struct bz_redact *r = fresh(BZ_REDACT_F_HOLD);
			char *q = strdup(req_token), *p = strdup(resp);
			size_t cuts[3] = { 0, i, j };

			bz_redact_data(r, 9, BZ_DIR_IN, (uint8_t *)q, strlen(q), (int64_t)strlen(q));
			for (int k = 0; k < 3; k++) {
				size_t from = cuts[k], to = k < 2 ? cuts[k + 1] : n;
				if (to > from)
					bz_redact_data(r, 9, BZ_DIR_OUT, (uint8_t *)p + from, to - from,
						       (int64_t)(to - from));
			}
			bz_redact_settle(r);
			if (strcmp(p, want))
				fail_msg("cuts at %zu, %zu gave \"%s\"", i, j, p);
			bz_redact_free(&r);
			free(q);
			free(p);
		}
	}
	free(want);
}

/* Without a hold (or when one must end) the tail of a payload that may
 * begin a value is masked at once: the secret never survives, some bytes
 * may be masked needlessly. */
static void test_no_hold_is_conservative(void **state)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nechoes " SECRET " ok";
	size_t n = strlen(resp), body = strstr(resp, "echoes") - resp;

	for (size_t i = body; i < n; i++) {
		struct bz_redact *r = fresh(0);
		char *q = strdup(req_token), *a = strdup(resp);
		uint8_t b[256];

		bz_redact_data(r, 3, BZ_DIR_IN, (uint8_t *)q, strlen(q), (int64_t)strlen(q));
		/* the second piece in a buffer of its own, the first one reused */
		memcpy(b, a + i, n - i);
		bz_redact_data(r, 3, BZ_DIR_OUT, (uint8_t *)a, i, (int64_t)i);
		bz_redact_data(r, 3, BZ_DIR_OUT, b, n - i, (int64_t)(n - i));
		memcpy(a + i, b, n - i);
		char *s = strstr(resp, SECRET);
		for (size_t k = 0; k < strlen(SECRET); k++)
			if (a[(s - resp) + k] != FILL)
				fail_msg("cut at %zu: byte %zu of the secret left: \"%s\"", i, k, a);
		assert_non_null(strstr(a, " ok")); /* what follows it stays */
		bz_redact_free(&r);
		free(q);
		free(a);
	}
}

/* Settle: the tail that may begin a value is masked when the hold ends;
 * when the next payload shows it was not one, nothing is. */
static void test_settle_and_gap(void **state)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc S3cr3t";
	struct bz_redact *r = fresh(BZ_REDACT_F_HOLD);
	char *q = strdup(req_token), *p = strdup(head), *p2;

	bz_redact_data(r, 4, BZ_DIR_IN, (uint8_t *)q, strlen(q), (int64_t)strlen(q));
	bz_redact_data(r, 4, BZ_DIR_OUT, (uint8_t *)p, strlen(p), (int64_t)strlen(p));
	assert_non_null(strstr(p, "abc S3cr3t")); /* held, not masked yet */
	p2 = strdup("Other words");
	bz_redact_data(r, 4, BZ_DIR_OUT, (uint8_t *)p2, strlen(p2), (int64_t)strlen(p2));
	assert_non_null(strstr(p, "abc S3cr3t")); /* it was not the secret */
	bz_redact_data(r, 4, BZ_DIR_OUT, (uint8_t *)p2, 5, 5); /* "Other" */
	free(p);
	p = strdup("more S3cr3");
	bz_redact_data(r, 4, BZ_DIR_OUT, (uint8_t *)p, strlen(p), (int64_t)strlen(p));
	bz_redact_settle(r);
	assert_string_equal(p, "more *****");
	/* bytes not captured after a tail that may begin a value: masked too */
	free(p);
	p = strdup("tail S3cr");
	bz_redact_data(r, 4, BZ_DIR_OUT, (uint8_t *)p, strlen(p), (int64_t)strlen(p) + 50);
	assert_string_equal(p, "tail ****");
	bz_redact_free(&r);
	free(q);
	free(p);
	free(p2);
}

/* A value cut short by the snap length: where it comes back, it is masked
 * from its known beginning to the next delimiter. */
static void test_cut_value(void **state)
{
	static const char req[] = "GET /x?token=AAAABBBBCCCC";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nt=AAAABBBBCCCCDDDDEEEE&more=1";
	struct bz_redact *r = fresh(0);
	char *q = strdup(req), *p = strdup(resp);

	/* the read moved 80 bytes, 25 were captured: the token goes on unseen */
	bz_redact_data(r, 5, BZ_DIR_IN, (uint8_t *)q, strlen(q), 80);
	bz_redact_data(r, 5, BZ_DIR_OUT, (uint8_t *)p, strlen(p), (int64_t)strlen(p));
	assert_non_null(strstr(p, "t=********************&more=1"));
	bz_redact_free(&r);
	free(q);
	free(p);
}

/* What it must leave alone: short values (they would match anything), other
 * connections, and a closed connection's values. */
static void test_scope_and_limits(void **state)
{
	struct bz_redact *r = fresh(0);
	char *got;

	got = exchange(r, 1, "GET /?pin=12345 HTTP/1.1\r\n\r\n",
		       "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\npin is 12345");
	assert_non_null(strstr(got, "pin is 12345")); /* fewer than BZ_REDACT_ECHO_MIN bytes */
	free(got);
	got = exchange(r, 2, req_token, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine");
	free(got);
	got = exchange(r, 3, "GET / HTTP/1.1\r\n\r\n",
		       "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" SECRET);
	assert_non_null(strstr(got, SECRET)); /* learned on connection 2 only */
	free(got);
	bz_redact_forget(r, 2);
	char *p = strdup("HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" SECRET);
	bz_redact_data(r, 2, BZ_DIR_OUT, (uint8_t *)p, strlen(p), (int64_t)strlen(p));
	assert_non_null(strstr(p, SECRET)); /* forgotten at close */
	free(p);
	bz_redact_free(&r);
}

/* Many values on one connection: the first ECHO_VALS are kept, the rest are
 * counted as not kept; none of it breaks masking at the source. */
static void test_many_values(void **state)
{
	struct bz_redact *r = fresh(0);
	struct bz_redact_stats st;
	char req[256];

	for (int i = 0; i < 100; i++) {
		snprintf(req, sizeof(req), "GET /?token=value%06d HTTP/1.1\r\n\r\n", i);
		char *q = strdup(req);
		bz_redact_data(r, 8, BZ_DIR_IN, (uint8_t *)q, strlen(q), (int64_t)strlen(q));
		assert_null(strstr(q, "value"));
		free(q);
	}
	bz_redact_get_stats(r, &st);
	assert_true(st.echo_unkept > 0);
	char *p = strdup("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nvalue000000");
	bz_redact_data(r, 8, BZ_DIR_OUT, (uint8_t *)p, strlen(p), (int64_t)strlen(p));
	assert_null(strstr(p, "value000000")); /* the first one was kept */
	free(p);
	bz_redact_free(&r);
}

/* The recorder's path: DATA records in place, a CONN_CLOSE forgets. */
static void test_event_interface(void **state)
{
	uint8_t rec[sizeof(struct bz_ev_data) + 256];
	struct bz_ev_data d;
	struct bz_redact *r = NULL;
	const char *msgs[2] = { req_token, "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n" SECRET };

	assert_int_equal(bz_redact_setup(&r, NULL, 0, NULL, 0), 0);
	for (int k = 0; k < 2; k++) {
		memset(&d, 0, sizeof(d));
		d.h.kind = BZ_EV_DATA;
		d.h.size = (uint16_t)(sizeof(d) + strlen(msgs[k]));
		d.conn_id = 42;
		d.dir = k ? BZ_DIR_OUT : BZ_DIR_IN;
		d.ret = (int32_t)strlen(msgs[k]);
		d.caplen = (uint16_t)strlen(msgs[k]);
		memcpy(rec, &d, sizeof(d));
		memcpy(rec + sizeof(d), msgs[k], strlen(msgs[k]));
		bz_redact_event_in_place(r, rec, d.h.size);
		assert_null(memmem(rec + sizeof(d), strlen(msgs[k]), SECRET, strlen(SECRET)));
	}
	bz_redact_settle(r);
	bz_redact_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_location_and_body),
		cmocka_unit_test(test_encoded_forms),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_split_across_writes),
		cmocka_unit_test(test_no_hold_is_conservative),
		cmocka_unit_test(test_settle_and_gap),
		cmocka_unit_test(test_cut_value),
		cmocka_unit_test(test_scope_and_limits),
		cmocka_unit_test(test_many_values),
		cmocka_unit_test(test_event_interface),
	};
	return cmocka_run_group_tests_name("redact_echo", tests, NULL, NULL);
}
