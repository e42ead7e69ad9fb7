/* test_detect.c - what a connection no parser recognised carries
 * (analyze/detect.c): real TLS ClientHello and ServerHello first bytes (as
 * curl and nginx wrote them in a recording), every TLS record type, the
 * HTTP/2 preface, other binary and text protocols, and the near misses of
 * each; the first-bytes accumulator; then what a PROC block's TLS
 * libraries mean (analyze/tls_libs.c) and the words `beyla analyze` and
 * `beyla info` print about them (analyze/explain.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/detect.h"
#include "analyze/explain.h"
#include "analyze/tls_libs.h"
#include "record/capture_format.h"

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

/* curl's ClientHello (TLS 1.3 capable, record version 3.1) and nginx's
 * ServerHello, the first 24 bytes of each as recorded */
static const char client_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x60\xa8\xbf\x6e\xb9"
				   "\x67\x78\x52\x18\xc9\x1b\xea\xc1";
static const char server_hello[] = "\x16\x03\x03\x00\x6c\x02\x00\x00\x68\x03\x03\x2f\xa0\xc0\x24\x76"
				   "\x31\xf3\x49\x1c\xa3\xef\xeb\x79";
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static enum bz_detect_class in_only(const uint8_t *p, size_t n) { return bz_detect(p, n, NULL, 0); }
static enum bz_detect_class out_only(const uint8_t *p, size_t n) { return bz_detect(NULL, 0, p, n); }

static void test_tls_hellos(void **state)
{
	(void)state;
	/* a server reads the ClientHello, a client writes it */
	assert_int_equal(in_only(B(client_hello)), BZ_DETECT_TLS);
	assert_int_equal(out_only(B(client_hello)), BZ_DETECT_TLS);
	assert_int_equal(in_only(B(server_hello)), BZ_DETECT_TLS);
	assert_int_equal(bz_detect(B(server_hello), B(client_hello)), BZ_DETECT_TLS);
	/* OpenSSL reads the 5-byte record header first */
	assert_int_equal(in_only(B("\x16\x03\x03\x00\x6c")), BZ_DETECT_TLS);
	/* a snap length too short for the length: type and version decide */
	assert_int_equal(in_only(B("\x16\x03\x01")), BZ_DETECT_TLS);
	assert_int_equal(in_only(B("\x16\x03\x01\x02")), BZ_DETECT_TLS);
	/* a TLS answer to a text greeting still makes it TLS */
	assert_int_equal(bz_detect(B("hello\r\n"), B(server_hello)), BZ_DETECT_TLS);
}

static void test_tls_record_types_and_versions(void **state)
{
	(void)state;
	assert_true(bz_detect_tls_record(B("\x14\x03\x03\x00\x01")));  /* change_cipher_spec */
	assert_true(bz_detect_tls_record(B("\x15\x03\x03\x00\x02")));  /* alert */
	assert_true(bz_detect_tls_record(B("\x17\x03\x03\x00\x45")));  /* application_data */
	assert_true(bz_detect_tls_record(B("\x18\x03\x03\x00\x10")));  /* heartbeat */
	assert_true(bz_detect_tls_record(B("\x16\x03\x00\x00\x30")));  /* SSL 3.0 */
	assert_true(bz_detect_tls_record(B("\x16\x03\x04\x00\x30")));  /* 3.4 */
	assert_true(bz_detect_tls_record(B("\x17\x03\x03\x48\x00")));  /* 2^14 + 2048: the largest */
	assert_true(bz_detect_tls_record(B("\x17\x03\x03\x00\x01")));
}

static void test_tls_near_misses(void **state)
{
	(void)state;
	assert_false(bz_detect_tls_record(B("\x13\x03\x03\x00\x30")));  /* type below 20 */
	assert_false(bz_detect_tls_record(B("\x19\x03\x03\x00\x30")));  /* type above 24 */
	assert_false(bz_detect_tls_record(B("\x16\x02\x00\x00\x30")));  /* major 2 */
	assert_false(bz_detect_tls_record(B("\x16\x04\x01\x00\x30")));  /* major 4 */
	assert_false(bz_detect_tls_record(B("\x16\x03\x05\x00\x30")));  /* minor 5 */
	assert_false(bz_detect_tls_record(B("\x16\x03\x01\x00\x00")));  /* empty record */
	assert_false(bz_detect_tls_record(B("\x17\x03\x03\x48\x01")));  /* one byte too long */
	assert_false(bz_detect_tls_record(B("\x17\x03\x03\xff\xff")));
	assert_false(bz_detect_tls_record(B("\x16\x03")));              /* too short to tell */
	assert_false(bz_detect_tls_record(NULL, 0));
	/* an SSLv2-compatible ClientHello (obsolete): some other binary protocol */
	assert_int_equal(in_only(B("\x80\x2e\x01\x03\x01\x00\x15")), BZ_DETECT_BINARY);
	assert_int_equal(in_only(B("\x16\x03\x05\x00\x30")), BZ_DETECT_BINARY);
	assert_int_equal(in_only(B("\x16\x03\x01\x00\x00")), BZ_DETECT_BINARY);
}

static void test_http2(void **state)
{
	(void)state;
	assert_int_equal(in_only(B(h2_preface)), BZ_DETECT_HTTP2);  /* the server's first read */
	assert_int_equal(out_only(B(h2_preface)), BZ_DETECT_HTTP2); /* the client's first write */
	/* the preface then a SETTINGS frame in the same write: only 24 bytes are kept */
	struct bz_detect_head h = { 0 };
	bz_detect_head_feed(&h, 1, (const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04", 28, 28);
	assert_int_equal(h.n[1], BZ_DETECT_HEAD);
	assert_int_equal(bz_detect_head(&h), BZ_DETECT_HTTP2);
	/* a prefix, when no more was captured */
	assert_int_equal(in_only(B("PRI * HTTP/2.0\r\n")), BZ_DETECT_HTTP2);
	assert_int_equal(in_only(B("PRI ")), BZ_DETECT_HTTP2);
	/* near misses: text */
	assert_int_equal(in_only(B("PRI")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("PRI * HTTP/1.1\r\n\r\n")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("pri * http/2.0\r\n")), BZ_DETECT_TEXT);
	/* the server's SETTINGS frame alone is binary */
	assert_int_equal(out_only(B("\x00\x00\x12\x04\x00\x00\x00\x00\x00")), BZ_DETECT_BINARY);
}

static void test_binary_and_text(void **state)
{
	(void)state;
	/* PostgreSQL's SSLRequest, a MySQL greeting: binary */
	assert_int_equal(in_only(B("\x00\x00\x00\x08\x04\xd2\x16\x2f")), BZ_DETECT_BINARY);
	assert_int_equal(out_only(B("\x4a\x00\x00\x00\x0a" "8.0.36\x00")), BZ_DETECT_BINARY);
	/* SMTP, Redis, memcached: text */
	assert_int_equal(bz_detect(B("EHLO client.example\r\n"), B("220 mx.example ESMTP\r\n")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("*1\r\n$4\r\nPING\r\n")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("get key\t1\r\n")), BZ_DETECT_TEXT);
	/* UTF-8 is text, a sequence cut by the capture too; broken UTF-8 is not */
	assert_int_equal(in_only(B("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("caf\xc3")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("caf\xe2\x82")), BZ_DETECT_TEXT);
	assert_int_equal(in_only(B("\xc3\x28")), BZ_DETECT_BINARY);
	assert_int_equal(in_only(B("\xc0\xaf")), BZ_DETECT_BINARY);   /* overlong */
	assert_int_equal(in_only(B("\xf5\x80\x80\x80")), BZ_DETECT_BINARY);
	assert_int_equal(in_only(B("\xff")), BZ_DETECT_BINARY);
	assert_int_equal(in_only(B("abc\x7f")), BZ_DETECT_BINARY);
	assert_int_equal(in_only(B("abc\x01")), BZ_DETECT_BINARY);
	/* binary in either direction makes it binary */
	assert_int_equal(bz_detect(B("hello"), B("\x00\x01")), BZ_DETECT_BINARY);
	assert_int_equal(bz_detect(B("\x00\x01"), B("hello")), BZ_DETECT_BINARY);
	/* nothing captured */
	assert_int_equal(bz_detect(NULL, 0, NULL, 0), BZ_DETECT_NO_BYTES);
	assert_string_equal(bz_detect_name(BZ_DETECT_NO_BYTES), "none");
	assert_string_equal(bz_detect_name(BZ_DETECT_TLS), "tls");
	assert_string_equal(bz_detect_name(BZ_DETECT_HTTP2), "http2");
	assert_string_equal(bz_detect_name(BZ_DETECT_BINARY), "binary");
	assert_string_equal(bz_detect_name(BZ_DETECT_TEXT), "text");
	assert_string_equal(bz_detect_name((enum bz_detect_class)99), "none");
}

static void test_head_accumulates(void **state)
{
	struct bz_detect_head h = { 0 };

	(void)state;
	/* curl's reads of nginx's ServerHello: the record header, then its body */
	bz_detect_head_feed(&h, 0, (const uint8_t *)server_hello, 5, 5);
	bz_detect_head_feed(&h, 0, (const uint8_t *)server_hello + 5, 19, 108);
	assert_int_equal(h.n[0], BZ_DETECT_HEAD);
	assert_memory_equal(h.b[0], server_hello, BZ_DETECT_HEAD);
	assert_true(h.full[0]);
	assert_int_equal(h.n[1], 0);
	/* a cut payload ends a direction: what follows is not the next byte */
	bz_detect_head_feed(&h, 1, (const uint8_t *)"PRI * HT", 8, 100);
	bz_detect_head_feed(&h, 1, (const uint8_t *)"TP/2.0\r\n", 8, 8);
	assert_int_equal(h.n[1], 8);
	assert_true(h.full[1]);
	/* empty reads, hostile directions and caplen > len change nothing */
	struct bz_detect_head g = { 0 };
	bz_detect_head_feed(&g, 0, (const uint8_t *)"x", 1, 0);
	bz_detect_head_feed(&g, 2, (const uint8_t *)"x", 1, 1);
	bz_detect_head_feed(&g, -1, (const uint8_t *)"x", 1, 1);
	assert_int_equal(g.n[0] + g.n[1], 0);
	bz_detect_head_feed(&g, 0, (const uint8_t *)"abcdef", 6, 3);
	assert_int_equal(g.n[0], 3);
	assert_false(g.full[0]);
	/* the HTTP/2 preface in small writes */
	struct bz_detect_head p = { 0 };
	for (size_t i = 0; i < BZ_DETECT_HEAD; i += 4)
		bz_detect_head_feed(&p, 1, (const uint8_t *)h2_preface + i, 4, 4);
	assert_int_equal(bz_detect_head(&p), BZ_DETECT_HTTP2);
}

/* ---- TLS libraries ---------------------------------------------------- */

/* One TLS_LIB value: library, source, flags, path. */
static void add_lib(struct bz_tls_libs *t, unsigned lib, unsigned src, unsigned flags, const char *path)
{
	uint8_t v[300];
	size_t n = strlen(path);

	v[0] = (uint8_t)lib;
	v[1] = (uint8_t)src;
	v[2] = (uint8_t)flags;
	v[3] = 0;
	memcpy(v + 4, path, n);
	bz_tls_libs_add(t, v, (uint32_t)(4 + n));
}

static void test_tls_libs_decode(void **state)
{
	struct bz_tls_libs t = { 0 };
	char text[512];

	(void)state;
	assert_int_equal(bz_tls_verdict(&t), BZ_TV_NOT_SCANNED);
	assert_int_equal(bz_tls_verdict(NULL), BZ_TV_NOT_SCANNED);
	bz_tls_libs_text(&t, text, sizeof(text));
	assert_string_equal(text, "");
	bz_tls_libs_add(&t, (const uint8_t *)"\x01\x01\x00", 3); /* too short: nothing */
	assert_false(t.scanned);
	add_lib(&t, BZ_TLS_NONE, 0, 0, "");
	assert_true(t.scanned);
	assert_int_equal(t.n, 0);
	assert_int_equal(bz_tls_verdict(&t), BZ_TV_NOT_FOUND);
	bz_tls_libs_text(&t, text, sizeof(text));
	assert_string_equal(text, "none found");

	add_lib(&t, BZ_TLS_OPENSSL, BZ_TLS_SRC_MAPPED, 0, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	add_lib(&t, BZ_TLS_GNUTLS, BZ_TLS_SRC_MAPPED, 0, "/usr/lib/x86_64-linux-gnu/libgnutls.so.30");
	assert_int_equal(bz_tls_verdict(&t), BZ_TV_OPENSSL);
	bz_tls_libs_text(&t, text, sizeof(text));
	assert_string_equal(text, "OpenSSL /usr/lib/x86_64-linux-gnu/libssl.so.3; GnuTLS "
				  "/usr/lib/x86_64-linux-gnu/libgnutls.so.30");
	/* cut to fit, still terminated */
	bz_tls_libs_text(&t, text, 12);
	assert_string_equal(text, "OpenSSL /us");

	/* a hostile path: control bytes shown as '?', cut at the field's size */
	struct bz_tls_libs h = { 0 };
	char longpath[400];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	add_lib(&h, BZ_TLS_WOLFSSL, BZ_TLS_SRC_MAPPED, 0, "/lib/\x1b[31mlibwolfssl.so");
	assert_string_equal(h.l[0].path, "/lib/?[31mlibwolfssl.so");
	uint8_t v[4 + 290] = { BZ_TLS_MBEDTLS, 1, 0, 0 };
	memset(v + 4, 'p', 290);
	bz_tls_libs_add(&h, v, sizeof(v));
	assert_int_equal(strlen(h.l[1].path), BZ_TLS_PATH_MAX - 1);
	/* more than BZ_TLS_LIBS_MAX: the rest ignored */
	for (int i = 0; i < 6; i++)
		add_lib(&h, BZ_TLS_NSS, 1, 0, "/lib/libnss3.so");
	assert_int_equal(h.n, BZ_TLS_LIBS_MAX);
	/* an id newer than this reader is a library, not "none" */
	struct bz_tls_libs u = { 0 };
	add_lib(&u, 42, 1, 0, "/lib/libnewtls.so.1");
	assert_int_equal(bz_tls_verdict(&u), BZ_TV_OTHER_LIB);
	assert_string_equal(bz_tls_lib_name(42), "unknown");
	assert_string_equal(bz_tls_lib_key(BZ_TLS_GO), "go");
	assert_string_equal(bz_tls_verdict_key(BZ_TV_GO_PROBES_OFF), "go_probes_off");
	assert_string_equal(bz_tls_verdict_key(BZ_TV_NOT_FOUND), "lib_not_found");
}

static void test_tls_advice(void **state)
{
	struct bz_tls_libs t = { 0 };
	char a[1024];

	(void)state;
	add_lib(&t, BZ_TLS_OPENSSL, BZ_TLS_SRC_MAPPED, 0, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	bz_tls_advice(&t, 0, a, sizeof(a));
	/* recorded by a beyla without OpenSSL probes (no PROBEABLE flag) */
	assert_string_equal(a, "uses OpenSSL (/usr/lib/x86_64-linux-gnu/libssl.so.3), which the beyla that "
			       "recorded this did not probe yet: record again with this version");
	/* with --no-openssl */
	t.l[0].flags = BZ_TLS_F_PROBEABLE;
	bz_tls_advice(&t, 0, a, sizeof(a));
	assert_string_equal(a, "uses OpenSSL (/usr/lib/x86_64-linux-gnu/libssl.so.3), but the OpenSSL probes "
			       "were off in this recording (--no-openssl, or the kernel refused them): record "
			       "again with them on");
	bz_tls_libs_text(&t, a, sizeof(a));
	assert_string_equal(a, "OpenSSL /usr/lib/x86_64-linux-gnu/libssl.so.3 (probes off)");
	/* on, and still no plaintext: the OpenSSL library decides, not GnuTLS beside it */
	t.l[0].flags = BZ_TLS_F_PROBED | BZ_TLS_F_PROBEABLE;
	add_lib(&t, BZ_TLS_GNUTLS, BZ_TLS_SRC_MAPPED, 0, "/usr/lib/libgnutls.so.30");
	bz_tls_advice(&t, 1, a, sizeof(a));
	assert_string_equal(a, "use OpenSSL (/usr/lib/x86_64-linux-gnu/libssl.so.3) and GnuTLS "
			       "(/usr/lib/libgnutls.so.30), and the OpenSSL probes were on, yet recorded no "
			       "plaintext on these connections (open before recording began, or SSL calls not "
			       "tied to a socket: `beyla info` counts them as missed on the ssl probe)");
	bz_tls_libs_text(&t, a, sizeof(a));
	assert_string_equal(a, "OpenSSL /usr/lib/x86_64-linux-gnu/libssl.so.3 (probed); GnuTLS "
			       "/usr/lib/libgnutls.so.30");
	/* a library with no probes at all */
	struct bz_tls_libs gnutls = { 0 };
	add_lib(&gnutls, BZ_TLS_GNUTLS, BZ_TLS_SRC_MAPPED, 0, "/usr/lib/libgnutls.so.30");
	bz_tls_advice(&gnutls, 0, a, sizeof(a));
	assert_string_equal(a, "uses GnuTLS (/usr/lib/libgnutls.so.30), which this version of beyla does not "
			       "probe yet");

	struct bz_tls_libs node = { 0 };
	add_lib(&node, BZ_TLS_OPENSSL, BZ_TLS_SRC_EXE, 0, "/usr/bin/node");
	bz_tls_advice(&node, 0, a, sizeof(a));
	assert_string_equal(a, "uses OpenSSL linked into its executable (/usr/bin/node), which the beyla that "
			       "recorded this did not probe yet: record again with this version");
	bz_tls_libs_text(&node, a, sizeof(a));
	assert_string_equal(a, "OpenSSL /usr/bin/node (linked in)");

	struct bz_tls_libs go = { 0 };
	add_lib(&go, BZ_TLS_GO, BZ_TLS_SRC_GO, 0, "/srv/api");
	assert_int_equal(bz_tls_verdict(&go), BZ_TV_GO_PROBES_OFF);
	bz_tls_advice(&go, 0, a, sizeof(a));
	assert_non_null(strstr(a, "uses Go crypto/tls, but the Go probes were off in this recording (--no-go"));
	bz_tls_libs_text(&go, a, sizeof(a));
	assert_string_equal(a, "Go crypto/tls /srv/api (probes off)");
	go.l[0].flags = BZ_TLS_F_PROBED;
	assert_int_equal(bz_tls_verdict(&go), BZ_TV_GO_PROBES_ON);
	bz_tls_advice(&go, 0, a, sizeof(a));
	assert_non_null(strstr(a, "uses Go crypto/tls and the Go probes were on, yet they recorded no plaintext"));

	struct bz_tls_libs none = { 0 };
	add_lib(&none, BZ_TLS_NONE, 0, 0, "");
	bz_tls_advice(&none, 0, a, sizeof(a));
	assert_non_null(strstr(a, "had no TLS library mapped when it became a target, so the library is unknown"));
	struct bz_tls_libs unscanned = { 0 };
	bz_tls_advice(&unscanned, 1, a, sizeof(a));
	assert_non_null(strstr(a, "have no TLS library in the capture"));
	/* cut to fit */
	bz_tls_advice(&t, 0, a, 10);
	assert_string_equal(a, "uses Open");
}

/* ---- the words printed ------------------------------------------------ */

static int starts_with(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

static char *print_to_string(const struct bz_explain *x, uint64_t conns, int no_requests)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	bz_explain_print(x, conns, no_requests, f);
	fclose(f);
	return buf;
}

static void test_explain_one_process(void **state)
{
	struct bz_explain *x = calloc(1, sizeof(*x));
	struct bz_tls_libs t = { 0 };
	char *s;

	(void)state;
	add_lib(&t, BZ_TLS_OPENSSL, BZ_TLS_SRC_MAPPED, 0, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	int slot = bz_explain_slot(x, 4321, "nginx", &t);
	assert_int_equal(slot, 0);
	assert_int_equal(bz_explain_slot(x, 4321, "nginx", &t), 0); /* the same process */
	for (int i = 0; i < 12; i++)
		bz_explain_tls(x, slot, bz_tls_verdict(&t));
	x->detected[BZ_DETECT_TLS] = 12;
	assert_int_equal(x->tls_opaque, 12);
	assert_int_equal(x->by_verdict[BZ_TV_OPENSSL], 12);
	s = print_to_string(x, 12, 0);
	assert_string_equal(s, "12 connections encrypted (TLS) with no plaintext recorded: nginx (pid 4321) uses "
			       "OpenSSL (/usr/lib/x86_64-linux-gnu/libssl.so.3), which the beyla that recorded "
			       "this did not probe yet: record again with this version\n");
	free(s);
	s = print_to_string(x, 12, 1);
	assert_true(starts_with(s, "why: of 12 connections, 12 carried no HTTP/1.x: 12 encrypted (TLS)\n"
				   "12 connections encrypted (TLS) with no plaintext recorded: nginx (pid 4321)"));
	free(s);
	free(x);
}

static void test_explain_groups(void **state)
{
	struct bz_explain *x = calloc(1, sizeof(*x));
	struct bz_tls_libs curl = { 0 }, go = { 0 };
	char *s;

	(void)state;
	add_lib(&curl, BZ_TLS_OPENSSL, BZ_TLS_SRC_MAPPED, 0, "/lib/libssl.so.3");
	add_lib(&go, BZ_TLS_GO, BZ_TLS_SRC_GO, 0, "/srv/api");
	/* five curl processes, one connection each: one line */
	for (uint32_t pid = 100; pid < 105; pid++)
		bz_explain_tls(x, bz_explain_slot(x, pid, "curl", &curl), BZ_TV_OPENSSL);
	bz_explain_tls(x, bz_explain_slot(x, 7, "api", &go), BZ_TV_GO_PROBES_OFF);
	bz_explain_tls(x, bz_explain_slot(x, 7, "api", &go), BZ_TV_GO_PROBES_OFF);
	/* no PROC block: unknown */
	bz_explain_tls(x, bz_explain_slot(x, 9, NULL, NULL), BZ_TV_NOT_SCANNED);
	/* a process with a slot but no encrypted connection is not shown */
	bz_explain_slot(x, 11, "quiet", &curl);
	s = print_to_string(x, 8, 0);
	assert_string_equal(s,
			    "8 connections encrypted (TLS) with no plaintext recorded:\n"
			    "  curl (pids 100, 101, 102 and 2 more, 5 connections) use OpenSSL (/lib/libssl.so.3), "
			    "which the beyla that recorded this did not probe yet: record again with this version\n"
			    "  api (pid 7, 2 connections) uses Go crypto/tls, but the Go probes were off in this "
			    "recording (--no-go, or the kernel refused them): record again with them on\n"
			    "  unknown process (pid 9, 1 connection) has no TLS library in the capture (recorded by "
			    "an older beyla, or gone before /proc could be read), so the library is unknown\n");
	free(s);
	assert_int_equal(x->by_verdict[BZ_TV_OPENSSL], 5);
	assert_int_equal(x->by_verdict[BZ_TV_GO_PROBES_OFF], 2);
	assert_int_equal(x->by_verdict[BZ_TV_NOT_SCANNED], 1);

	/* two and three processes are listed whole; equal counts go by name */
	struct bz_explain *z = calloc(1, sizeof(*z));
	for (uint32_t pid = 20; pid < 23; pid++)
		bz_explain_tls(z, bz_explain_slot(z, pid, "w", &curl), BZ_TV_OPENSSL);
	for (uint32_t pid = 30; pid < 32; pid++)
		for (int k = 0; k < (pid == 30 ? 2 : 1); k++)
			bz_explain_tls(z, bz_explain_slot(z, pid, "py", &curl), BZ_TV_OPENSSL);
	s = print_to_string(z, 0, 0);
	assert_string_equal(s, "6 connections encrypted (TLS) with no plaintext recorded:\n"
			       "  py (pids 30 and 31, 3 connections) use OpenSSL (/lib/libssl.so.3), which the "
			       "beyla that recorded this did not probe yet: record again with this version\n"
			       "  w (pids 20, 21 and 22, 3 connections) use OpenSSL (/lib/libssl.so.3), which the "
			       "beyla that recorded this did not probe yet: record again with this version\n");
	free(s);
	free(z);

	/* past the table: counted as other processes */
	struct bz_explain *y = calloc(1, sizeof(*y));
	for (uint32_t pid = 1; pid <= BZ_EXPLAIN_PROCS + 3; pid++)
		bz_explain_tls(y, bz_explain_slot(y, pid, "w", &curl), BZ_TV_OPENSSL);
	assert_int_equal(y->nprocs, BZ_EXPLAIN_PROCS);
	assert_int_equal(y->other_conns, 3);
	assert_int_equal(y->by_verdict[BZ_TV_OPENSSL], BZ_EXPLAIN_PROCS + 3);
	s = print_to_string(y, 0, 0);
	assert_non_null(strstr(s, "  w (pids 1, 2, 3 and 29 more, 32 connections) use OpenSSL"));
	assert_non_null(strstr(s, "  3 connections of other processes (more than 32 had some)\n"));
	free(s);
	free(x);
	free(y);
}

static void test_explain_why(void **state)
{
	struct bz_explain *x = calloc(1, sizeof(*x));
	char *s;

	(void)state;
	s = print_to_string(x, 0, 1);
	assert_true(starts_with(s, "why: the targets used no TCP connection while recording"));
	free(s);
	s = print_to_string(x, 2, 1);
	assert_string_equal(s, "why: none of the 2 connections carried a complete HTTP/1.x request that was recorded\n");
	free(s);
	x->detected[BZ_DETECT_HTTP2] = 2;
	x->detected[BZ_DETECT_BINARY] = 1;
	x->detected[BZ_DETECT_NO_BYTES] = 1;
	s = print_to_string(x, 5, 1);
	assert_string_equal(s, "why: of 5 connections, 4 carried no HTTP/1.x: 2 HTTP/2 with prior knowledge (not "
			       "parsed yet), 1 other binary protocol, 1 no payload captured (snaplen 0?)\n");
	free(s);
	/* requests were found: nothing to say without TLS */
	s = print_to_string(x, 5, 0);
	assert_string_equal(s, "");
	free(s);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_hellos),
		cmocka_unit_test(test_tls_record_types_and_versions),
		cmocka_unit_test(test_tls_near_misses),
		cmocka_unit_test(test_http2),
		cmocka_unit_test(test_binary_and_text),
		cmocka_unit_test(test_head_accumulates),
		cmocka_unit_test(test_tls_libs_decode),
		cmocka_unit_test(test_tls_advice),
		cmocka_unit_test(test_explain_one_process),
		cmocka_unit_test(test_explain_groups),
		cmocka_unit_test(test_explain_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
