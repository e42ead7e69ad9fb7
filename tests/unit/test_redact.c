/* test_redact.c - payload redaction (record/redact.c): every default header
 * and parameter, names in any case, secrets cut at every byte position
 * across two reads and at every pair of positions across three, query
 * strings, form bodies, pipelining, chunked bodies, uncaptured bytes, the
 * bounded table and its fallback, --redact-header/--redact-param/--no-redact,
 * and hostile input.  Always: lengths never change, CR and LF never change,
 * a changed byte is always BZ_REDACT_FILL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "bpf/beyla_events.h"
#include "record/capture_format.h"
#include "record/capture_writer.h"
#include "record/hostinfo.h"
#include "record/options.h"
#include "record/redact.h"
#include "tests/unit/redact_want.h"

#define FILL BZ_REDACT_FILL

/* ---- helpers ------------------------------------------------------------ */

/* Every byte of out is the byte of in, or FILL where in had neither CR nor LF. */
static void assert_only_masked(const uint8_t *in, const uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (in[i] == out[i])
			continue;
		if (out[i] != FILL || in[i] == '\r' || in[i] == '\n')
			fail_msg("byte %zu changed from 0x%02x to 0x%02x", i, in[i], out[i]);
	}
}

/* Feeds s on (conn, dir) cut at the given positions (ascending, inside s),
 * each piece one read fully captured; returns the joined output (malloc'd). */
static char *feed_cuts(struct bz_redact *r, uint64_t conn, unsigned dir, const char *s,
		       const size_t *cuts, int ncuts)
{
	size_t n = strlen(s), from = 0;
	char *out = strdup(s);

	assert_non_null(out);
	for (int k = 0; k <= ncuts; k++) {
		size_t to = k < ncuts ? cuts[k] : n;
		assert_true(to >= from && to <= n);
		if (to > from)
			bz_redact_data(r, conn, dir, (uint8_t *)out + from, to - from, (int64_t)(to - from));
		from = to;
	}
	assert_only_masked((const uint8_t *)s, (const uint8_t *)out, n);
	return out;
}

/* s as one read on a fresh redactor with default names. */
static char *redact1(const char *s, unsigned dir)
{
	struct bz_redact *r = NULL;
	char *out;

	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	out = feed_cuts(r, 1, dir, s, NULL, 0);
	bz_redact_free(&r);
	assert_null(r);
	return out;
}

static void expect(const char *in, unsigned dir, const char *want)
{
	char *got = redact1(in, dir);
	if (strcmp(got, want))
		fail_msg("redacting\n  \"%s\"\ngave\n  \"%s\"\nwanted\n  \"%s\"", in, got, want);
	free(got);
}

static void expect_secrets(const char *in, unsigned dir, const char *const *secrets)
{
	char *want = masked(in, secrets);
	expect(in, dir, want);
	free(want);
}

/* ---- default names ---------------------------------------------------------- */

static const char *const secret_headers[] = {
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key",
	"X-Auth-Token", "X-Csrf-Token", "X-XSRF-TOKEN", "Api-Key", "X-Goog-Api-Key", "apikey",
	"X-Access-Token", "X-Amz-Security-Token", "X-Client-Secret", "X-Password", "My-Passwd",
	"X-Session-Id", "Session", "X-Auth", "X-Key", "Signature", "X-Signature", "X-Credentials",
	"X-Private-Key", "X-Jwt-Assertion", "X-OAuth-Scopes-Token", "X-Sid", NULL
};
static const char *const plain_headers[] = {
	"Host", "User-Agent", "Accept", "Content-Type", "Content-Length", "Keep-Alive",
	"X-Request-Id", "Author", "Sec-WebSocket-Key", "Cache-Control", "If-None-Match",
	"X-Forwarded-For", "Keyboard", "WWW-Authenticate", NULL
};

static void test_default_headers(void **state)
{
	char in[512];
	for (int i = 0; secret_headers[i]; i++) {
		/* in a request and in a response, with and without space after ':' */
		snprintf(in, sizeof(in),
			 "GET /x HTTP/1.1\r\nHost: example.com\r\n%s: Bearer s3cr3t-VALUE.%d\r\n"
			 "Accept: */*\r\n\r\n", secret_headers[i], i);
		char sec[64];
		snprintf(sec, sizeof(sec), "Bearer s3cr3t-VALUE.%d", i);
		const char *secs[] = { sec, NULL };
		expect_secrets(in, BZ_DIR_IN, secs);
		snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\n%s:%s\r\nContent-Length: 0\r\n\r\n",
			 secret_headers[i], sec);
		expect_secrets(in, BZ_DIR_OUT, secs);
	}
}

static void test_plain_headers_kept(void **state)
{
	char in[512];
	for (int i = 0; plain_headers[i]; i++) {
		snprintf(in, sizeof(in), "GET /x HTTP/1.1\r\n%s: visible-%d\r\n\r\n", plain_headers[i], i);
		expect(in, BZ_DIR_IN, in);
	}
	/* header names and everything else stay; leading whitespace stays */
	expect("GET /a/b.html HTTP/1.1\r\nCookie:   abc\r\n\r\n", BZ_DIR_IN,
	       "GET /a/b.html HTTP/1.1\r\nCookie:   ***\r\n\r\n");
}

static void test_case_insensitive(void **state)
{
	const char *const hs[] = { "AUTHORIZATION", "authorization", "cOoKiE", "x-api-key",
				   "X_API_KEY", "x-auth-TOKEN", "SET-COOKIE", NULL };
	char in[256];
	for (int i = 0; hs[i]; i++) {
		snprintf(in, sizeof(in), "GET / HTTP/1.1\r\n%s: topsecret\r\n\r\n", hs[i]);
		const char *secs[] = { "topsecret", NULL };
		expect_secrets(in, BZ_DIR_IN, secs);
	}
	const char *const ps[] = { "PASSWORD", "Password", "Api_Key", "apiKey", "API-KEY",
				   "Access_Token", "TOKEN", "Sig", NULL };
	for (int i = 0; ps[i]; i++) {
		snprintf(in, sizeof(in), "GET /?%s=topsecret HTTP/1.1\r\n\r\n", ps[i]);
		const char *secs[] = { "topsecret", NULL };
		expect_secrets(in, BZ_DIR_IN, secs);
	}
}

static const char *const secret_params[] = {
	"password", "passwd", "pwd", "pass", "token", "access_token", "refresh_token", "id_token",
	"secret", "client_secret", "key", "api_key", "apikey", "api-key", "auth", "session",
	"sessionid", "PHPSESSID", "signature", "sig", "credential", "credentials",
	"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "user%5Bpassword%5D",
	"user[password]", "pass%77ord", "csrfmiddlewaretoken", "_csrf", "otp", "jwt", NULL
};
static const char *const plain_params[] = {
	"q", "page", "keyword", "monkey", "author", "id", "sort", "lang", "user", "email", NULL
};

static void test_default_params(void **state)
{
	char in[512];
	for (int i = 0; secret_params[i]; i++) {
		/* query string */
		snprintf(in, sizeof(in), "GET /search?q=shoes&%s=Zx9secretQ%d&page=2 HTTP/1.1\r\n"
			 "Host: a\r\n\r\n", secret_params[i], i);
		char sec[32];
		snprintf(sec, sizeof(sec), "Zx9secretQ%d", i);
		const char *secs[] = { sec, NULL };
		expect_secrets(in, BZ_DIR_IN, secs);
		/* form body */
		char body[128];
		int bl = snprintf(body, sizeof(body), "user=bob&%s=%s&remember=1", secret_params[i], sec);
		snprintf(in, sizeof(in), "POST /login HTTP/1.1\r\nHost: a\r\n"
			 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
			 bl, body);
		expect_secrets(in, BZ_DIR_IN, secs);
	}
	for (int i = 0; plain_params[i]; i++) {
		snprintf(in, sizeof(in), "GET /search?%s=visible%d HTTP/1.1\r\n\r\n", plain_params[i], i);
		expect(in, BZ_DIR_IN, in);
	}
}

static void test_query_string(void **state)
{
	/* first, middle and last parameter; '=' inside a value; empty values */
	expect("GET /a?token=abc&x=1&password=p%3Dq==&y=&key= HTTP/1.1\r\n\r\n", BZ_DIR_IN,
	       "GET /a?token=***&x=1&password=*******&y=&key= HTTP/1.1\r\n\r\n");
	/* a fragment holds parameters too; the version is never touched */
	expect("GET /a?sig=abc#sig=frag&x=1 HTTP/1.1\r\n\r\n", BZ_DIR_IN,
	       "GET /a?sig=***#sig=****&x=1 HTTP/1.1\r\n\r\n");
	/* extra spaces around the target */
	expect("GET  /a?token=abc  HTTP/1.1\r\n\r\n", BZ_DIR_IN,
	       "GET  /a?token=***  HTTP/1.1\r\n\r\n");
	/* URLs in Referer and Location: redirects of OAuth flows */
	expect("GET / HTTP/1.1\r\nReferer: https://a.example/cb?code=1&token=tt&x=2\r\n\r\n", BZ_DIR_IN,
	       "GET / HTTP/1.1\r\nReferer: https://a.example/cb?code=1&token=**&x=2\r\n\r\n");
	expect("HTTP/1.1 302 Found\r\nLocation: /app#access_token=AT9&state=s1\r\n"
	       "Content-Length: 0\r\n\r\n", BZ_DIR_OUT,
	       "HTTP/1.1 302 Found\r\nLocation: /app#access_token=***&state=s1\r\n"
	       "Content-Length: 0\r\n\r\n");
	/* ;matrix parameters of the path (URL-rewritten sessions) */
	expect("GET /shop;jsessionid=ABC123/cart;x=1?token=t HTTP/1.1\r\n\r\n", BZ_DIR_IN,
	       "GET /shop;jsessionid=******/cart;x=1?token=* HTTP/1.1\r\n\r\n");
	/* absolute-form target (to a proxy), other methods */
	expect("POST http://h/p?apikey=K1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", BZ_DIR_IN,
	       "POST http://h/p?apikey=** HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	expect("PROPFIND /dav?auth=zz HTTP/1.1\r\n\r\n", BZ_DIR_IN,
	       "PROPFIND /dav?auth=** HTTP/1.1\r\n\r\n");
	/* a parameter without '=' has no value to mask */
	expect("GET /a?token&x=1 HTTP/1.1\r\n\r\n", BZ_DIR_IN, "GET /a?token&x=1 HTTP/1.1\r\n\r\n");
	/* a name longer than the kept prefix is masked, to be safe */
	char in[400], want[400], name[100];
	memset(name, 'n', 80);
	name[80] = 0;
	snprintf(in, sizeof(in), "GET /?%s=v1 HTTP/1.1\r\n\r\n", name);
	snprintf(want, sizeof(want), "GET /?%s=** HTTP/1.1\r\n\r\n", name);
	expect(in, BZ_DIR_IN, want);
}

static void test_form_body(void **state)
{
	const char *secs[] = { "hunter2", "tok42", NULL };
	/* urlencoded, with a charset parameter */
	expect_secrets("POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded; "
		       "charset=UTF-8\r\nContent-Length: 44\r\n\r\nuser=alice&password=hunter2&csrf_token=tok42",
		       BZ_DIR_IN, secs);
	/* no Content-Type at all: treated as a form, to be safe */
	expect_secrets("POST /login HTTP/1.1\r\nContent-Length: 27\r\n\r\nuser=al&password=hunter2&x=",
		       BZ_DIR_IN, secs);
	/* a JSON body is not a form: left alone */
	const char *json = "POST /api HTTP/1.1\r\nContent-Type: application/json\r\n"
			   "Content-Length: 16\r\n\r\n{\"a\":\"password=\"}";
	expect(json, BZ_DIR_IN, json);
	/* the body ends where Content-Length says: the next request is parsed as one */
	expect("POST /l HTTP/1.1\r\nContent-Length: 10\r\n\r\npassword=xGET /?token=abc HTTP/1.1\r\n"
	       "Cookie: c1\r\n\r\n", BZ_DIR_IN,
	       "POST /l HTTP/1.1\r\nContent-Length: 10\r\n\r\npassword=*GET /?token=*** HTTP/1.1\r\n"
	       "Cookie: **\r\n\r\n");
	/* a response body is never a form */
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npassword=x";
	expect(resp, BZ_DIR_OUT, resp);
}

/* JSON bodies (requests and responses): values of sensitive keys masked,
 * strings without their quotes, objects and arrays under a sensitive key
 * down to every scalar; structure, other keys and lengths stay. */
static char *json_msg(const char *start, const char *ctype, const char *body)
{
	char *m = NULL;
	assert_true(asprintf(&m, "%s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", start, ctype,
			     strlen(body), body) > 0);
	return m;
}

static void test_json_body(void **state)
{
	static const struct { const char *body, *want; } cases[] = {
		{ "{\"user\":\"alice\",\"password\":\"hunter2\",\"nested\":{\"api_key\":\"K3Y\"},\"n\":1}",
		  "{\"user\":\"alice\",\"password\":\"*******\",\"nested\":{\"api_key\":\"***\"},\"n\":1}" },
		/* escapes: a quoted quote does not end the value */
		{ "{\"token\":\"a\\\"b\\\\c\",\"x\":\"y\"}", "{\"token\":\"*******\",\"x\":\"y\"}" },
		/* an object and an array under sensitive keys: every scalar inside */
		{ "{\"credentials\":{\"user\":\"u1\",\"n\":[1,2]},\"tokens\":[\"t1\",\"t2\"],\"ok\":true}",
		  "{\"credentials\":{\"****\":\"**\",\"*\":[*,*]},\"tokens\":[\"**\",\"**\"],\"ok\":true}" },
		/* bare values, whitespace */
		{ "{ \"otp\" : 1234 , \"secret\": null, \"count\": 7 }",
		  "{ \"otp\" : **** , \"secret\": ****, \"count\": 7 }" },
		/* an array of objects at the top, keys with escapes */
		{ "[{\"pass\\u0077ord\":\"a1\"},{\"Password\":\"b2\"},\"password\"]",
		  "[{\"pass\\u0077ord\":\"**\"},{\"Password\":\"**\"},\"password\"]" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *in = json_msg("POST /api HTTP/1.1", "application/json", cases[i].body);
		char *want = json_msg("POST /api HTTP/1.1", "application/json", cases[i].want);
		expect(in, BZ_DIR_IN, want);
		free(in);
		free(want);
	}
	/* a response: OAuth tokens; +json types; charset parameters */
	char *in = json_msg("HTTP/1.1 200 OK", "application/problem+json; charset=utf-8",
			    "{\"access_token\":\"eyJabc\",\"expires_in\":3600}");
	char *want = json_msg("HTTP/1.1 200 OK", "application/problem+json; charset=utf-8",
			      "{\"access_token\":\"******\",\"expires_in\":3600}");
	expect(in, BZ_DIR_OUT, want);
	free(in);
	free(want);
	/* chunked */
	expect("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "d\r\n{\"secret\":\"ab\r\n7\r\ncd\",\"a\"\r\n5\r\n:\"b\"}\r\n0\r\n\r\n", BZ_DIR_OUT,
	       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "d\r\n{\"secret\":\"**\r\n7\r\n**\",\"a\"\r\n5\r\n:\"b\"}\r\n0\r\n\r\n");
	/* not JSON: left alone */
	const char *txt = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\n{\"password\":\"x\"}";
	expect(txt, BZ_DIR_OUT, txt);
}

/* in, cut into two reads at every position, comes out as want.  The
 * pieces are parts of one buffer that stays writable, as the recorder's
 * batch does (BZ_REDACT_F_HOLD): a value found again across a cut is
 * masked in both pieces, and nothing more. */
static void check_every_cut(const char *in, const char *want, uint64_t conn, unsigned flags)
{
	for (size_t k = 1; k < strlen(in); k++) {
		struct bz_redact *r = NULL;
		assert_int_equal(bz_redact_new(&r, 0, flags | BZ_REDACT_F_HOLD), 0);
		char *got = feed_cuts(r, conn, BZ_DIR_IN, in, &k, 1);
		bz_redact_free(&r);
		if (strcmp(got, want))
			fail_msg("cut at %zu gave \"%s\"", k, got);
		free(got);
	}
}

/* The same JSON request cut into two reads at every position: never a
 * secret left, always the same bytes. */
static void test_json_split_every_position(void **state)
{
	char *in = json_msg("POST /api HTTP/1.1", "application/json",
			    "{\"user\":\"al\",\"password\":\"PA55\\\"W\",\"api_keys\":[\"K1\",{\"k\":\"K2\"}],\"z\":0}");
	char *want = json_msg("POST /api HTTP/1.1", "application/json",
			      "{\"user\":\"al\",\"password\":\"*******\",\"api_keys\":[\"**\",{\"*\":\"**\"}],\"z\":0}");
	check_every_cut(in, want, 9, 0);
	check_every_cut(in, want, 9, BZ_REDACT_F_EXACT);
	free(in);
	free(want);
}

static void test_pipelined(void **state)
{
	const char *secs[] = { "sid=AAA111; Path=/", "AAA111", "BBB222", "CCC333", "Basic DDD444", "DDD444",
			       "EEE555", NULL };
	expect_secrets("GET /a?token=AAA111 HTTP/1.1\r\nHost: h\r\nCookie: BBB222\r\n\r\n"
		       "POST /b HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		       "Content-Length: 15\r\n\r\npassword=CCC333"
		       "GET /c HTTP/1.1\r\nAuthorization: Basic DDD444\r\n\r\n"
		       "DELETE /d?sig=EEE555 HTTP/1.1\r\n\r\n",
		       BZ_DIR_IN, secs);
	/* responses: a body of known length, a chunked body, then Set-Cookie again */
	expect_secrets("HTTP/1.1 200 OK\r\nSet-Cookie: sid=AAA111; Path=/\r\nContent-Length: 5\r\n\r\nhello"
		       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: BBB222\r\n\r\n"
		       "5\r\nhello\r\n0\r\n\r\n"
		       "HTTP/1.1 302 Found\r\nSet-Cookie: CCC333\r\nContent-Length: 0\r\n\r\n",
		       BZ_DIR_OUT, secs);
	/* a response to HEAD has a Content-Length and no body */
	expect_secrets("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nSet-Cookie: DDD444\r\n\r\n", BZ_DIR_OUT, secs);
	/* 204 and 304 have no body whatever they say */
	expect_secrets("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nSet-Cookie: EEE555\r\n\r\n", BZ_DIR_OUT, secs);
}

static void test_chunked(void **state)
{
	/* a chunked form, the parameter cut by chunk framing; a sensitive trailer */
	const char *in = "POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			 "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
			 "7\r\nuser=al\r\nc;ext=1\r\n&password=hu\r\n5\r\nnter2\r\n0\r\n"
			 "X-Checksum-Token: TRAILER9\r\n\r\n"
			 "GET /?token=NEXT1 HTTP/1.1\r\n\r\n";
	expect(in, BZ_DIR_IN,
	       "POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	       "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
	       "7\r\nuser=al\r\nc;ext=1\r\n&password=**\r\n5\r\n*****\r\n0\r\n"
	       "X-Checksum-Token: ********\r\n\r\n"
	       "GET /?token=***** HTTP/1.1\r\n\r\n");
	/* framing that makes no sense: back to lines, which still get masked */
	const char *secs[] = { "LOST1", "LOST2", NULL };
	expect_secrets("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "HTTP/1.1 200 OK\r\nSet-Cookie: LOST1\r\n\r\n", BZ_DIR_OUT, secs);
	expect_secrets("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "DELETE /?token=LOST2 HTTP/1.1\r\n\r\n", BZ_DIR_IN, secs);
}

static void test_obs_fold_and_odd_lines(void **state)
{
	/* a folded continuation of a masked header is masked too */
	expect("GET / HTTP/1.1\r\nAuthorization: Bearer\r\n  abcdef\r\nHost: h\r\n\r\n", BZ_DIR_IN,
	       "GET / HTTP/1.1\r\nAuthorization: ******\r\n  ******\r\nHost: h\r\n\r\n");
	/* "Name : value" */
	expect("GET / HTTP/1.1\r\nCookie : abc\r\n\r\n", BZ_DIR_IN, "GET / HTTP/1.1\r\nCookie : ***\r\n\r\n");
	/* bare LF line ends */
	expect("GET /?pwd=1 HTTP/1.1\nCookie: abc\n\n", BZ_DIR_IN, "GET /?pwd=* HTTP/1.1\nCookie: ***\n\n");
	/* a stream joined mid-way (no start line): header lines are still masked */
	expect("Cookie: abc\r\nX-Api-Key: k\r\n\r\n", BZ_DIR_IN, "Cookie: ***\r\nX-Api-Key: *\r\n\r\n");
	/* a too long header name is masked to be safe */
	char in[300], want[300], name[100];
	memset(name, 'N', 90);
	name[90] = 0;
	snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nX-%s: v\r\n\r\n", name);
	snprintf(want, sizeof(want), "GET / HTTP/1.1\r\nX-%s: *\r\n\r\n", name);
	expect(in, BZ_DIR_IN, want);
	/* not HTTP: Redis has its own masker (record/redact_redis.c): the key
	 * stays, the value goes */
	expect("*3\r\n$3\r\nSET\r\n$5\r\ntoken\r\n$6\r\nsecret\r\n", BZ_DIR_IN,
	       "*3\r\n$3\r\nSET\r\n$5\r\ntoken\r\n$6\r\n******\r\n");
	const char *smtp = "EHLO mail.example.com\r\nMAIL FROM:<a@b>\r\n";
	expect(smtp, BZ_DIR_IN, smtp);
}

/* ---- reads cut anywhere ------------------------------------------------------- */

static const char split_req[] =
	"GET /p?q=1&token=T0KEN&x=2 HTTP/1.1\r\nHost: h\r\nCookie: s=C00KIE\r\n"
	"X-Api-Key: AP1KEY\r\nAccept: */*\r\n\r\n"
	"POST /f HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	"Content-Length: 24\r\n\r\nu=a&password=PASSW0RD&z";
static const char *const split_secrets[] = { "T0KEN", "s=C00KIE", "AP1KEY", "PASSW0RD", NULL };

static void check_no_secret(const char *out)
{
	for (int i = 0; split_secrets[i]; i++)
		if (strstr(out, split_secrets[i]))
			fail_msg("secret %s left in \"%s\"", split_secrets[i], out);
}

static void split_two(unsigned flags)
{
	char *want = masked(split_req, split_secrets);

	check_every_cut(split_req, want, 7, flags);
	free(want);
}

static void test_split_every_position(void **state)
{
	split_two(0);
	split_two(BZ_REDACT_F_EXACT);
	/* the same for a response with Set-Cookie */
	const char *resp = "HTTP/1.1 200 OK\r\nSet-Cookie: id=SETC00K; HttpOnly\r\nContent-Length: 2\r\n\r\nok";
	const char *secs[] = { "id=SETC00K; HttpOnly", NULL };
	char *want = masked(resp, secs);
	for (size_t k = 1; k < strlen(resp); k++) {
		struct bz_redact *r = NULL;
		assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
		char *got = feed_cuts(r, 7, BZ_DIR_OUT, resp, &k, 1);
		bz_redact_free(&r);
		assert_string_equal(got, want);
		free(got);
	}
	free(want);
}

static void test_split_three_reads(void **state)
{
	char *want = masked(split_req, split_secrets);
	size_t n = strlen(split_req);
	struct bz_redact *r = NULL;

	/* one redactor, many connections: also exercises the table */
	assert_int_equal(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD), 0);
	uint64_t conn = 100;
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j < n; j++) {
			size_t cuts[2] = { i, j };
			char *got = feed_cuts(r, conn, BZ_DIR_IN, split_req, cuts, 2);
			bz_redact_forget(r, conn); /* (done with got: it may be freed) */
			if (strcmp(got, want))
				fail_msg("cuts at %zu, %zu gave \"%s\"", i, j, got);
			check_no_secret(got);
			free(got);
			conn++;
		}
	}
	struct bz_redact_stats st;
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 0);
	bz_redact_free(&r);
	free(want);
}

/* A TLS connection: the socket's ciphertext leaves the redactor in some
 * state (random bytes look like anything); the plaintext from crypto/tls on
 * the same connection must be redacted from its own start, as a stream of
 * its own.  On one stream, 8 of these 200 ciphertexts masked the request
 * line that follows them. */
static void test_tls_plaintext_is_its_own_stream(void **state)
{
	static const char plain[] = "POST /echo?password=PPPP HTTP/1.1\r\nAuthorization: Bearer TTTT\r\n\r\n";
	static const char want[] = "POST /echo?password=**** HTTP/1.1\r\nAuthorization: ***********\r\n\r\n";
	uint8_t rec[sizeof(struct bz_ev_data) + sizeof(plain)], cipher[512];
	uint32_t x = 1;

	for (int round = 0; round < 200; round++) {
		struct bz_redact *r = NULL;
		struct bz_ev_data d;
		const uint8_t *out;
		size_t sizes[3] = { 517, 64, 183 }; /* a ClientHello, then records */

		assert_int_equal(bz_redact_new(&r, 0, 0), 0);
		for (int k = 0; k < 3; k++) {
			for (size_t i = 0; i < sizeof(cipher); i++)
				cipher[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
			cipher[0] = 0x16;
			cipher[1] = 0x03;
			bz_redact_data(r, 7, BZ_DIR_IN, cipher, sizes[k] < 512 ? sizes[k] : 512,
				       (int64_t)sizes[k]);
		}
		memset(&d, 0, sizeof(d));
		d.h.kind = BZ_EV_DATA;
		d.h.size = (uint16_t)(sizeof(d) + strlen(plain));
		d.conn_id = 7;
		d.dir = BZ_DIR_IN;
		d.syscall = BZ_SYS_GO_TLS;
		d.ret = (int32_t)strlen(plain);
		d.caplen = (uint16_t)strlen(plain);
		memcpy(rec, &d, sizeof(d));
		memcpy(rec + sizeof(d), plain, strlen(plain));
		out = bz_redact_event(r, rec, sizeof(d) + strlen(plain));
		if (memcmp(out + sizeof(d), want, strlen(want)))
			fail_msg("round %d: \"%.*s\"", round, (int)strlen(plain), out + sizeof(d));
		bz_redact_forget(r, 7);
		struct bz_redact_stats st;
		bz_redact_get_stats(r, &st);
		assert_int_equal(st.streams, 0);
		bz_redact_free(&r);
	}
}

static void test_interleaved_connections(void **state)
{
	/* two connections and both directions, reads alternating byte by byte */
	const char *a = "GET /?token=AAAA HTTP/1.1\r\nCookie: BBBB\r\n\r\n";
	const char *b = "HTTP/1.1 200 OK\r\nSet-Cookie: CCCC\r\nContent-Length: 0\r\n\r\n";
	size_t la = strlen(a), lb = strlen(b);
	char *oa = strdup(a), *ob = strdup(b), *oc = strdup(a);
	struct bz_redact *r = NULL;

	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	for (size_t i = 0; i < la || i < lb; i++) {
		if (i < la) {
			bz_redact_data(r, 1, BZ_DIR_IN, (uint8_t *)oa + i, 1, 1);
			bz_redact_data(r, 2, BZ_DIR_OUT, (uint8_t *)oc + i, 1, 1); /* a request sent */
		}
		if (i < lb)
			bz_redact_data(r, 1, BZ_DIR_OUT, (uint8_t *)ob + i, 1, 1);
	}
	assert_string_equal(oa, "GET /?token=**** HTTP/1.1\r\nCookie: ****\r\n\r\n");
	assert_string_equal(oc, oa);
	assert_string_equal(ob, "HTTP/1.1 200 OK\r\nSet-Cookie: ****\r\nContent-Length: 0\r\n\r\n");
	struct bz_redact_stats st;
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 0); /* all idle at the end: nothing kept */
	assert_true(st.streams_hw >= 3);
	assert_int_equal(st.bytes, 20);
	bz_redact_free(&r);
	free(oa);
	free(ob);
	free(oc);
}

/* ---- uncaptured bytes (ret > caplen) --------------------------------------------- */

static void feed(struct bz_redact *r, uint64_t conn, unsigned dir, char *s, int64_t ret)
{
	bz_redact_data(r, conn, dir, (uint8_t *)s, strlen(s), ret);
}

static void test_gaps(void **state)
{
	struct bz_redact *r = NULL;
	assert_int_equal(bz_redact_new(&r, 0, 0), 0);

	/* a header value continues in bytes never captured: the next read's first
	 * line might be its end, so it is masked */
	char a1[] = "GET / HTTP/1.1\r\nHost: h\r\nCookie: abc";
	char a2[] = "defSECRET\r\nAccept: x\r\nX-Token: t\r\n\r\n";
	feed(r, 1, BZ_DIR_IN, a1, (int64_t)strlen(a1) + 100);
	feed(r, 1, BZ_DIR_IN, a2, (int64_t)strlen(a2));
	assert_string_equal(a1, "GET / HTTP/1.1\r\nHost: h\r\nCookie: ***");
	assert_string_equal(a2, "*********\r\nAccept: x\r\nX-Token: *\r\n\r\n");

	/* ... unless the next read starts a new request */
	char b1[] = "GET / HTTP/1.1\r\nHost: h\r\n";
	char b2[] = "GET /?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
	feed(r, 2, BZ_DIR_IN, b1, 3000);
	feed(r, 2, BZ_DIR_IN, b2, (int64_t)strlen(b2));
	assert_string_equal(b2, "GET /?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");

	/* binary after a gap is not a header line: left alone */
	char c1[] = "GET / HTTP/1.1\r\n";
	uint8_t c2[] = { 0x00, 0x01, 'a', 'b', '\r', '\n' };
	feed(r, 3, BZ_DIR_IN, c1, 500);
	bz_redact_data(r, 3, BZ_DIR_IN, c2, sizeof(c2), sizeof(c2));
	assert_int_equal(c2[2], 'a');

	/* a body of known length: the uncaptured count keeps it exact */
	char d1[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
	char d2[] = "HTTP/1.1 200 OK\r\nSet-Cookie: NEXT\r\n\r\n";
	feed(r, 4, BZ_DIR_OUT, d1, (int64_t)strlen(d1) + 990); /* the rest of the body */
	feed(r, 4, BZ_DIR_OUT, d2, (int64_t)strlen(d2));
	assert_string_equal(d2, "HTTP/1.1 200 OK\r\nSet-Cookie: ****\r\n\r\n");

	/* a form body cut by the snap length: the rest of the current value is masked */
	char e1[] = "POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: 40\r\n\r\nuser=bob&pa";
	char e2[] = "ss&x=1";
	feed(r, 5, BZ_DIR_IN, e1, (int64_t)strlen(e1) + 20);
	feed(r, 5, BZ_DIR_IN, e2, (int64_t)strlen(e2));
	assert_string_equal(e2, "**&x=1");

	/* headers cut and a form body after them: parameters looked for on every line */
	char f1[] = "POST /login HTTP/1.1\r\nHost: h\r\n";
	char f2[] = "ther: 1\r\n\r\nuser=a&password=hunter2";
	feed(r, 6, BZ_DIR_IN, f1, 4000);
	feed(r, 6, BZ_DIR_IN, f2, (int64_t)strlen(f2));
	assert_string_equal(f2, "*******\r\n\r\nuser=a&password=*******");

	/* caplen 0 (--snaplen 0, sendfile): only the count moves */
	char g1[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
	char g2[] = "HTTP/1.1 200 OK\r\nSet-Cookie: G\r\n\r\n";
	feed(r, 7, BZ_DIR_OUT, g1, (int64_t)strlen(g1));
	bz_redact_data(r, 7, BZ_DIR_OUT, NULL, 0, 100);
	feed(r, 7, BZ_DIR_OUT, g2, (int64_t)strlen(g2));
	assert_string_equal(g2, "HTTP/1.1 200 OK\r\nSet-Cookie: *\r\n\r\n");

	struct bz_redact_stats st;
	bz_redact_get_stats(r, &st);
	assert_true(st.gaps >= 3);
	bz_redact_free(&r);
}

/* A read that starts a new message while a body is expected (events lost in
 * the kernel) starts over; in exact mode it would not. */
static void test_resync_at_read_start(void **state)
{
	struct bz_redact *r = NULL;
	char a1[] = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nabc";
	char a2[] = "HTTP/1.1 200 OK\r\nSet-Cookie: LOSTBODY\r\n\r\n";

	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	feed(r, 1, BZ_DIR_OUT, a1, (int64_t)strlen(a1));
	feed(r, 1, BZ_DIR_OUT, a2, (int64_t)strlen(a2));
	assert_string_equal(a2, "HTTP/1.1 200 OK\r\nSet-Cookie: ********\r\n\r\n");
	bz_redact_free(&r);
}

/* ---- the table: bounded, freed, and its fallback ----------------------------- */

static void test_forget_and_idle(void **state)
{
	struct bz_redact *r = NULL;
	struct bz_redact_stats st;
	char a[] = "GET / HTTP/1.1\r\nCoo";
	char b[] = "GET / HTTP/1.1\r\n\r\n";

	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	feed(r, 1, BZ_DIR_IN, a, (int64_t)strlen(a));
	feed(r, 2, BZ_DIR_IN, b, (int64_t)strlen(b));
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 1); /* only the stream in mid-header */
	bz_redact_forget(r, 2);
	bz_redact_forget(r, 999);
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 1);
	bz_redact_forget(r, 1);
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 0);

	/* many connections in mid-header, then all closed: the table grows and empties */
	for (uint64_t c = 0; c < 5000; c++) {
		char x[] = "GET / HTTP/1.1\r\nAuthorization: Bas";
		feed(r, c * 7919, c & 1, x, (int64_t)strlen(x));
		assert_string_equal(x, "GET / HTTP/1.1\r\nAuthorization: ***");
	}
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 5000);
	for (uint64_t c = 0; c < 5000; c += 2) {
		char y[] = "ic c2VjcmV0\r\n\r\n";
		feed(r, c * 7919, 0, y, (int64_t)strlen(y));
		assert_string_equal(y, "***********\r\n\r\n");
	}
	for (uint64_t c = 0; c < 5000; c++)
		bz_redact_forget(r, c * 7919);
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 0);
	bz_redact_free(&r);
	bz_redact_free(&r); /* NULL is fine */
}

static void test_table_full_fallback(void **state)
{
	struct bz_redact *r = NULL;
	struct bz_redact_stats st;

	assert_int_equal(bz_redact_new(&r, 1, 0), 0);
	char a1[] = "GET / HTTP/1.1\r\nCook";
	char b1[] = "GET /?x=1 HTTP/1.1\r\nCook";
	char b2[] = "ie: SECRET\r\nHost: h\r\n\r\n";
	char b3[] = "x\r\nuser=a&password=PW";
	feed(r, 1, BZ_DIR_IN, a1, (int64_t)strlen(a1)); /* takes the only entry */
	feed(r, 2, BZ_DIR_IN, b1, (int64_t)strlen(b1)); /* finds the table full */
	feed(r, 2, BZ_DIR_IN, b2, (int64_t)strlen(b2));
	/* without state the first line could be anything: masked */
	assert_string_equal(b2, "**********\r\nHost: h\r\n\r\n");
	/* and parameters are looked for on every line */
	feed(r, 2, BZ_DIR_IN, b3, (int64_t)strlen(b3));
	assert_string_equal(b3, "*\r\nuser=a&password=**");
	bz_redact_get_stats(r, &st);
	assert_true(st.dropped >= 1);
	assert_true(st.fallbacks >= 2);
	assert_int_equal(st.streams, 1);
	/* a marked stream that starts a message in a read is parsed normally */
	char b4[] = "GET /?q=1 HTTP/1.1\r\nHost: h\r\n\r\n";
	feed(r, 2, BZ_DIR_IN, b4, (int64_t)strlen(b4));
	assert_string_equal(b4, "GET /?q=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	bz_redact_free(&r);
}

/* ---- names given on the command line ------------------------------------------ */

static void test_custom_names(void **state)
{
	struct bz_redact *r = NULL;
	const char *hs[] = { "X-Customer-Ref", "Pin" };
	const char *ps[] = { "pin_code", "cc" };
	char in[] = "GET /?pin_code=1234&cc=4111&q=z HTTP/1.1\r\nX-Customer-Ref: R9\r\npin: 55\r\n"
		    "X-Other: o\r\n\r\n";
	char copy[sizeof(in)];

	memcpy(copy, in, sizeof(in));
	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	feed(r, 1, BZ_DIR_IN, copy, (int64_t)strlen(copy));
	assert_string_equal(copy, in); /* not masked by default */
	bz_redact_free(&r);

	assert_int_equal(bz_redact_setup(&r, hs, 2, ps, 2), 0);
	feed(r, 1, BZ_DIR_IN, in, (int64_t)strlen(in));
	assert_string_equal(in, "GET /?pin_code=****&cc=****&q=z HTTP/1.1\r\nX-Customer-Ref: **\r\n"
				"pin: **\r\nX-Other: o\r\n\r\n");
	bz_redact_free(&r);

	/* names are validated */
	assert_true(bz_redact_name_ok("X-Foo"));
	assert_true(bz_redact_name_ok("user[pin]"));
	assert_false(bz_redact_name_ok(""));
	assert_false(bz_redact_name_ok(NULL));
	assert_false(bz_redact_name_ok("a b"));
	assert_false(bz_redact_name_ok("a:b"));
	assert_false(bz_redact_name_ok("a=b"));
	assert_false(bz_redact_name_ok("---"));
	assert_false(bz_redact_name_ok("caf\xc3\xa9"));
	char longname[BZ_REDACT_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname));
	longname[BZ_REDACT_NAME_MAX] = 0;
	assert_true(bz_redact_name_ok(longname));
	longname[BZ_REDACT_NAME_MAX] = 'a';
	longname[BZ_REDACT_NAME_MAX + 1] = 0;
	assert_false(bz_redact_name_ok(longname));
	const char *bad[] = { "ok", "no good" };
	r = NULL;
	assert_int_equal(bz_redact_setup(&r, bad, 2, NULL, 0), -EINVAL);
	assert_null(r);
}

/* Header names' verdicts are cached by their bytes: a name seen before
 * gives the same verdict, names that share a cache slot do not get each
 * other's, long names bypass the cache, and a name added later is masked
 * from then on. */
static void test_name_cache(void **state)
{
	struct bz_redact *r = NULL;
	char msg[512], want[512];
	char in[] = "GET / HTTP/1.1\r\nX-Customer-Ref: R9\r\n\r\n";

	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 2000; i++) {
			/* 4000 names against 256 slots: every slot is shared */
			const char *kind = i % 3 == 0 ? "Token" : "Trace";
			int pad = i % 5 == 0 ? 40 : 1; /* some longer than a cached name */
			snprintf(msg, sizeof(msg), "GET / HTTP/1.1\r\nX-%s-%0*d: v%d\r\nHost: h\r\n\r\n",
				 kind, pad, i, i);
			snprintf(want, sizeof(want), "%s", msg);
			if (i % 3 == 0) {
				char *v = strstr(want, ": v") + 2;
				memset(v, FILL, strcspn(v, "\r"));
			}
			feed(r, 7, BZ_DIR_IN, msg, (int64_t)strlen(msg));
			if (strcmp(msg, want))
				fail_msg("round %d name %d: got \"%s\" wanted \"%s\"", round, i, msg, want);
		}
	}
	feed(r, 8, BZ_DIR_IN, in, (int64_t)strlen(in));
	assert_string_equal(in, "GET / HTTP/1.1\r\nX-Customer-Ref: R9\r\n\r\n");
	assert_int_equal(bz_redact_add_header(r, "X-Customer-Ref"), 0);
	feed(r, 8, BZ_DIR_IN, in, (int64_t)strlen(in));
	assert_string_equal(in, "GET / HTTP/1.1\r\nX-Customer-Ref: **\r\n\r\n");
	bz_redact_free(&r);
}

static void test_options(void **state)
{
	struct record_opts o;
	char *a1[] = { "record", "-p", "1", "--redact-header", "X-Foo", "--redact-param", "pin",
		       "--redact-header", "X-Bar", NULL };
	char *a2[] = { "record", "-p", "1", "--no-redact", NULL };

	assert_int_equal(record_parse_args(9, a1, &o), 0);
	assert_false(o.no_redact);
	assert_int_equal(o.nredact_headers, 2);
	assert_string_equal(o.redact_headers[0], "X-Foo");
	assert_string_equal(o.redact_headers[1], "X-Bar");
	assert_int_equal(o.nredact_params, 1);
	assert_string_equal(o.redact_params[0], "pin");
	assert_int_equal(record_parse_args(4, a2, &o), 0);
	assert_true(o.no_redact);

	static char *bad[][6] = {
		{ "record", "-p", "1", "--redact-header", "a b", NULL },
		{ "record", "-p", "1", "--redact-param", "", NULL },
		{ "record", "-p", "1", "--no-redact", "--redact-param=x", NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = 0, status;
		pid_t pid;
		while (bad[i][argc])
			argc++;
		pid = fork();
		if (pid == 0) {
			struct record_opts oo;
			if (!freopen("/dev/null", "w", stderr))
				_exit(98);
			_exit(record_parse_args(argc, bad[i], &oo) ? 99 : 0);
		}
		assert_true(waitpid(pid, &status, 0) == pid);
		assert_true(WIFEXITED(status));
		assert_int_not_equal(WEXITSTATUS(status), 0);
	}
}

/* The HEADER says whether redaction was off, and whether the kernel's
 * waits were recorded. */
static void test_header_flag(void **state)
{
	struct record_opts o;
	char *a1[] = { "record", "-p", "1", NULL };
	char *a2[] = { "record", "-p", "1", "--no-redact", NULL };
	char *a3[] = { "record", "-p", "1", "--no-kernel-waits", NULL };
	struct bz_buf b = { 0 };

	assert_int_equal(record_parse_args(3, a1, &o), 0);
	hostinfo_encode_header(&b, &o, 1, NULL);
	assert_true(b.len >= 16);
	assert_memory_equal(b.data, BZ_MAGIC, 8);
	assert_int_equal(b.data[12] | b.data[13] << 8, BZ_HDR_FLAG_KWAITS);
	bz_buf_reset(&b);
	assert_int_equal(record_parse_args(4, a2, &o), 0);
	hostinfo_encode_header(&b, &o, 1, NULL);
	assert_int_equal(b.data[12] | b.data[13] << 8, BZ_HDR_FLAG_NO_REDACT | BZ_HDR_FLAG_KWAITS);
	bz_buf_reset(&b);
	assert_int_equal(record_parse_args(4, a3, &o), 0);
	hostinfo_encode_header(&b, &o, 1, NULL);
	assert_int_equal(b.data[12] | b.data[13] << 8, 0);
	bz_buf_free(&b);
}

/* ---- the event interface, --no-redact, hostile input --------------------------------- */

static size_t make_data_event(uint8_t *buf, uint64_t conn, uint8_t dir, const char *payload,
			      int32_t ret)
{
	struct bz_ev_data d;
	size_t n = strlen(payload);

	memset(&d, 0, sizeof(d));
	d.h.kind = BZ_EV_DATA;
	d.h.size = (uint16_t)(sizeof(d) + n);
	d.h.ts_ns = 42;
	d.h.pid = 7;
	d.conn_id = conn;
	d.ret = ret;
	d.caplen = (uint16_t)n;
	d.dir = dir;
	d.syscall = BZ_SYS_READ;
	memcpy(buf, &d, sizeof(d));
	memcpy(buf + sizeof(d), payload, n);
	return sizeof(d) + n;
}

static void test_event_interface(void **state)
{
	struct bz_redact *r = NULL;
	uint8_t ev[512], orig[512];
	const char *p = "GET /?token=abc HTTP/1.1\r\nCookie: xyz\r\n\r\n";
	size_t n = make_data_event(ev, 5, BZ_DIR_IN, p, (int32_t)strlen(p));
	uint8_t *out;

	memcpy(orig, ev, n);
	assert_int_equal(bz_redact_new(&r, 0, 0), 0);
	out = bz_redact_event(r, ev, n);
	assert_ptr_not_equal(out, ev);
	assert_memory_equal(ev, orig, n); /* the ring buffer is never written */
	assert_memory_equal(out, orig, sizeof(struct bz_ev_data)); /* header, ret, caplen as they were */
	assert_memory_equal(out + sizeof(struct bz_ev_data), "GET /?token=*** HTTP/1.1\r\nCookie: ***\r\n\r\n",
			    strlen(p));

	/* in place (the recorder's own copy in its batch): the same bytes */
	uint8_t mine[512];
	memcpy(mine, orig, n);
	bz_redact_event_in_place(r, mine, n);
	assert_memory_equal(mine, out, n);
	bz_redact_event_in_place(NULL, mine, n); /* --no-redact: untouched */
	assert_memory_equal(mine, out, n);

	/* caplen larger than the record: only what is in the record is touched */
	struct bz_ev_data d;
	memcpy(&d, ev, sizeof(d));
	d.caplen = 1000;
	memcpy(ev, &d, sizeof(d));
	out = bz_redact_event(r, ev, n);
	assert_non_null(out);

	/* other kinds pass through; CLOSE forgets the connection */
	char half[] = "GET / HTTP/1.1\r\nCookie: a";
	feed(r, 5, BZ_DIR_IN, half, (int64_t)strlen(half));
	struct bz_redact_stats st;
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 1);
	struct bz_ev_conn_close c;
	memset(&c, 0, sizeof(c));
	c.h.kind = BZ_EV_CONN_CLOSE;
	c.h.size = sizeof(c);
	c.conn_id = 5;
	assert_ptr_equal(bz_redact_event(r, &c, sizeof(c)), &c);
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 0);
	feed(r, 5, BZ_DIR_IN, half, (int64_t)strlen(half));
	bz_redact_event_in_place(r, &c, sizeof(c)); /* forgets too */
	bz_redact_get_stats(r, &st);
	assert_int_equal(st.streams, 0);
	struct bz_ev_hdr h = { .kind = BZ_EV_PROC_EXIT, .size = sizeof(h) };
	assert_ptr_equal(bz_redact_event(r, &h, sizeof(h)), &h);
	/* too short for what its kind says: passed on unchanged */
	h.kind = BZ_EV_DATA;
	assert_ptr_equal(bz_redact_event(r, &h, sizeof(h)), &h);
	h.kind = BZ_EV_CONN_CLOSE;
	assert_ptr_equal(bz_redact_event(r, &h, sizeof(h)), &h);
	assert_null(bz_redact_event(r, NULL, 100));
	bz_redact_free(&r);

	/* --no-redact: no redactor, every byte as captured */
	n = make_data_event(ev, 5, BZ_DIR_IN, p, (int32_t)strlen(p));
	memcpy(orig, ev, n);
	assert_ptr_equal(bz_redact_event(NULL, ev, n), ev);
	assert_memory_equal(ev, orig, n);
	uint8_t raw[64];
	memcpy(raw, p, 40);
	assert_int_equal(bz_redact_data(NULL, 1, 0, raw, 40, 40), 0);
	assert_memory_equal(raw, p, 40);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_hostile_input(void **state)
{
	struct bz_redact *r = NULL;
	uint8_t buf[2048], orig[2048];
	static const char *const frags[] = {
		"GET /?token=", "HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n",
		"Cookie: ", "\r\n", "\r\n\r\n", "&password=", "ffffffffffffffffff\r\n", "0\r\n", ":", " ",
		"Content-Type: application/x-www-form-urlencoded\r\n", "Content-Length: 99999999999999999999999\r\n",
	};

	/* random bytes, and random HTTP-ish fragments, on a few connections, with
	 * gaps, closes and hostile lengths */
	for (int round = 0; round < 3; round++) {
		assert_int_equal(bz_redact_new(&r, round == 2 ? 2 : 0, round == 1 ? BZ_REDACT_F_EXACT : 0), 0);
		for (int i = 0; i < 20000; i++) {
			size_t n = rng() % 300;
			if (rng() & 1) {
				for (size_t k = 0; k < n; k++)
					buf[k] = (uint8_t)rng();
			} else {
				size_t k = 0;
				while (k < n) {
					const char *f = frags[rng() % (sizeof(frags) / sizeof(frags[0]))];
					size_t fl = strlen(f);
					if (k + fl > n)
						break;
					memcpy(buf + k, f, fl);
					k += fl;
				}
				n = k;
			}
			memcpy(orig, buf, n);
			uint64_t conn = rng() % 5;
			int64_t ret;
			switch (rng() % 8) {
			case 0: ret = (int64_t)n + (int64_t)(rng() % 5000); break;
			case 1: ret = -11; break;
			case 2: ret = 0x7fffffff; break;
			case 3: ret = n ? (int64_t)(n - 1) : 0; break; /* less than captured */
			default: ret = (int64_t)n; break;
			}
			bz_redact_data(r, conn, (unsigned)(rng() % 3), buf, n, ret);
			assert_only_masked(orig, buf, n);
			if (rng() % 50 == 0)
				bz_redact_forget(r, conn);
		}
		bz_redact_free(&r);
	}
}

/* Whole header lines take a fast path (rd_header_line); BZ_REDACT_F_BYTEWISE
 * sends every byte through the state machine instead.  Both must mask the
 * same bytes of every read and end with the same counts, whatever the
 * traffic: random HTTP fragments (header lines of every kind the redactor
 * treats apart, names at and past the length kept, start lines, folds,
 * bodies), cut into reads at random, with gaps, closes and a tiny table. */
static void test_line_path_matches_bytewise(void **state)
{
	static const char *const frags[] = {
		"GET /a?token=abc&x=1 HTTP/1.1\r\n", "POST /login HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n",
		"HTTP/1.1 204 No Content\r\n", "Host: example.com\r\n", "Authorization: Bearer abc.def\r\n",
		"Cookie: sid=1; theme=dark\r\n", "Set-Cookie: s=2\r\n", "X-Api-Key:k3y\r\n",
		"Content-Length: 5\r\n", "Content-Length:  12 \r\n", "Content-Length: 1x\r\n",
		"Content-Type: application/x-www-form-urlencoded\r\n", "Content-Type: application/json\r\n",
		"Transfer-Encoding: chunked\r\n", "Referer: https://a.example/p;jsessionid=9?code=77#t=1\r\n",
		"Location: /next?password=pw\r\n", "X-Note: a\tb\r\n", " folded continuation\r\n",
		"\tmore fold\r\n", "Bad Header: x\r\n", "NoColonLine\r\n", "Name :spaced\r\n", ":\r\n",
		"X-0123456789012345678901234567890123456789012345678901234567890: v\r\n", /* 63 bytes */
		"X-01234567890123456789012345678901234567890123456789012345678901: v\r\n", /* 64 */
		"X-012345678901234567890123456789012345678901234567890123456789012: v\r\n", /* 65 */
		"Session-Token-Of-A-Length-Not-Cached-By-The-Name-Cache: s3cr3t\r\n", "\r\n", "\n",
		"a=1&password=2&b=3", "{\"password\": \"x\", \"n\": 1}", "5\r\nhello\r\n0\r\n\r\n",
		"hello", "Expires: 0\n", "\r", ":", " ", "\x01\xff", "X-Empty:\r\n",
	};
	uint8_t a[1024], b[1024], orig[1024];

	for (int round = 0; round < 4; round++) {
		unsigned flags = round & 1 ? BZ_REDACT_F_EXACT : 0;
		uint32_t max = round >= 2 ? 2 : 0;
		struct bz_redact *fast = NULL, *slow = NULL;
		struct bz_redact_stats sf, ss;
		size_t lines_masked = 0;

		assert_int_equal(bz_redact_new(&fast, max, flags), 0);
		assert_int_equal(bz_redact_new(&slow, max, flags | BZ_REDACT_F_BYTEWISE), 0);
		for (int i = 0; i < 30000; i++) {
			size_t n = 0, want = rng() % 600;
			while (n < want) {
				const char *f = frags[rng() % (sizeof(frags) / sizeof(frags[0]))];
				size_t fl = strlen(f);
				if (n + fl > sizeof(a))
					break;
				memcpy(a + n, f, fl);
				n += fl;
			}
			if (rng() % 4 == 0) /* cut a read anywhere, a line too */
				n = n ? (size_t)(rng() % n) : 0;
			memcpy(b, a, n);
			memcpy(orig, a, n);
			uint64_t conn = rng() % 3;
			unsigned dir = (unsigned)(rng() % 2);
			int64_t ret = rng() % 10 == 0 ? (int64_t)n + (int64_t)(rng() % 3000) : (int64_t)n;
			size_t mf = bz_redact_data(fast, conn, dir, a, n, ret);
			size_t ms = bz_redact_data(slow, conn, dir, b, n, ret);
			assert_int_equal(mf, ms);
			assert_memory_equal(a, b, n);
			assert_only_masked(orig, a, n);
			lines_masked += mf;
			if (rng() % 40 == 0) {
				bz_redact_forget(fast, conn);
				bz_redact_forget(slow, conn);
			}
		}
		bz_redact_get_stats(fast, &sf);
		bz_redact_get_stats(slow, &ss);
		assert_memory_equal(&sf, &ss, sizeof(sf));
		assert_true(lines_masked > 10000); /* the traffic did hold secrets */
		bz_redact_free(&fast);
		bz_redact_free(&slow);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_headers),
		cmocka_unit_test(test_plain_headers_kept),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_default_params),
		cmocka_unit_test(test_query_string),
		cmocka_unit_test(test_form_body),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_obs_fold_and_odd_lines),
		cmocka_unit_test(test_split_every_position),
		cmocka_unit_test(test_split_three_reads),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_json_split_every_position),
		cmocka_unit_test(test_interleaved_connections),
		cmocka_unit_test(test_tls_plaintext_is_its_own_stream),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_resync_at_read_start),
		cmocka_unit_test(test_forget_and_idle),
		cmocka_unit_test(test_table_full_fallback),
		cmocka_unit_test(test_custom_names),
		cmocka_unit_test(test_name_cache),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_header_flag),
		cmocka_unit_test(test_event_interface),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_line_path_matches_bytewise),
	};
	return cmocka_run_group_tests_name("redact", tests, NULL, NULL);
}
