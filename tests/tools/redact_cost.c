/* redact_cost.c - what redaction costs per DATA record, in ns, with and
 * without masking values where they come back (record/redact_echo.c), on
 * the same records: those of the captures named (their payloads as they
 * were stored: already masked once, which changes nothing of the work),
 * and a built-in stream of keep-alive connections whose requests carry a
 * token, a cookie and a bearer token that each response repeats in a
 * Location and a body.  Records are masked in place in a copy of the
 * batch, settled every 256 KiB, as the recorder does.  Best of ROUNDS,
 * the two modes interleaved.
 *
 *   redact_cost [-m plain|echo] [CAPTURE...]
 *       -m: one mode only, once (for `valgrind --tool=callgrind`, whose
 *           instruction counts do not depend on what else the machine does)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/capture_reader.h"
#include "bpf/beyla_events.h"
#include "record/redact.h"

#define ROUNDS 7
#define SETTLE_EVERY (256u << 10)

struct records {
	uint8_t *b;
	size_t len, cap;
	size_t n, data;
};

static void add(struct records *r, const void *rec, size_t size, int is_data)
{
	if (r->len + size > r->cap) {
		r->cap = (r->len + size) * 2;
		r->b = realloc(r->b, r->cap);
		if (!r->b)
			exit(1);
	}
	memcpy(r->b + r->len, rec, size);
	r->len += size;
	r->n++;
	r->data += is_data;
}

static int load(struct records *r, const char *path)
{
	struct bz_reader *rd = NULL;
	struct bz_block b;
	int rc;

	if (bz_reader_open_file(&rd, path))
		return -1;
	while ((rc = bz_reader_next(rd, &b)) == 1) {
		struct bz_ev_iter it;
		const struct bz_ev_hdr *h;
		if (b.type != BZ_BLK_EVENTS || bz_ev_iter_init(&it, &b))
			continue;
		while (bz_ev_iter_next(&it, &h) == 1) {
			unsigned kind = bz_le16((const uint8_t *)h + 16), size = bz_le16((const uint8_t *)h + 18);
			if (kind == BZ_EV_DATA || kind == BZ_EV_CONN_CLOSE)
				add(r, h, size, kind == BZ_EV_DATA);
		}
	}
	bz_reader_free(&rd);
	return rc < 0 ? -1 : 0;
}

static void data(struct records *r, uint64_t conn, unsigned dir, const char *s)
{
	uint8_t rec[sizeof(struct bz_ev_data) + BZ_SNAPLEN_MAX];
	struct bz_ev_data d;
	size_t n = strlen(s) < BZ_SNAPLEN_MAX ? strlen(s) : BZ_SNAPLEN_MAX;

	memset(&d, 0, sizeof(d));
	d.h.kind = BZ_EV_DATA;
	d.h.size = (uint16_t)(sizeof(d) + n);
	d.conn_id = conn;
	d.dir = (uint8_t)dir;
	d.ret = (int32_t)strlen(s);
	d.caplen = (uint16_t)n;
	memcpy(rec, &d, sizeof(d));
	memcpy(rec + sizeof(d), s, n);
	add(r, rec, sizeof(d) + n, 1);
}

/* 2000 connections of 20 requests: every request's secrets come back. */
static void synthetic(struct records *r)
{
	char req[1024], resp[1024], body[256];

	for (uint64_t c = 1; c <= 2000; c++) {
		for (int i = 0; i < 20; i++) {
			snprintf(req, sizeof(req),
				 "GET /go?id=%d&token=T%016llx HTTP/1.1\r\nHost: shop.example\r\n"
				 "User-Agent: curl/8.5\r\nAccept: */*\r\nCookie: theme=dark; session=S%016llx\r\n"
				 "Authorization: Bearer B%016llx.payload.sig\r\n\r\n",
				 i, (unsigned long long)c * 7919, (unsigned long long)c * 104729,
				 (unsigned long long)c * 1299709);
			snprintf(body, sizeof(body), "<p>token T%016llx, session S%016llx</p>",
				 (unsigned long long)c * 7919, (unsigned long long)c * 104729);
			snprintf(resp, sizeof(resp),
				 "HTTP/1.1 302 Found\r\nServer: nginx\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\n"
				 "Location: /login?next=%%2Fgo%%3Ftoken%%3DT%016llx\r\nContent-Type: text/html\r\n"
				 "Content-Length: %zu\r\n\r\n%s",
				 (unsigned long long)c * 7919, strlen(body), body);
			data(r, c, BZ_DIR_IN, req);
			data(r, c, BZ_DIR_OUT, resp);
		}
	}
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ns per DATA record of one pass, and the redactor's counts. */
static double pass(const struct records *r, uint8_t *work, unsigned flags, struct bz_redact_stats *st)
{
	struct bz_redact *rd = NULL;
	size_t off = 0, since = 0;
	double t0, t;

	memcpy(work, r->b, r->len);
	if (bz_redact_new(&rd, 0, BZ_REDACT_F_HOLD | flags))
		exit(1);
	t0 = now_ns();
	while (off < r->len) {
		size_t size = bz_le16(work + off + 18);
		bz_redact_event_in_place(rd, work + off, size);
		off += size;
		since += size;
		if (since >= SETTLE_EVERY) {
			bz_redact_settle(rd);
			since = 0;
		}
	}
	bz_redact_settle(rd);
	t = now_ns() - t0;
	bz_redact_get_stats(rd, st);
	bz_redact_free(&rd);
	return t / (double)(r->data ? r->data : 1);
}

static int only = -1; /* -m: 0 plain, 1 echo */

static void measure(const char *what, const struct records *r)
{
	uint8_t *work = malloc(r->len ? r->len : 1);
	double best_off = 0, best_on = 0;
	struct bz_redact_stats off, on;

	if (!work)
		exit(1);
	memset(&off, 0, sizeof(off));
	memset(&on, 0, sizeof(on));
	for (int k = 0; k < (only >= 0 ? 1 : ROUNDS); k++) {
		double a = only == 1 ? 0 : pass(r, work, BZ_REDACT_F_NO_ECHO, &off);
		double b = only == 0 ? 0 : pass(r, work, 0, &on);
		if (!k || a < best_off)
			best_off = a;
		if (!k || b < best_on)
			best_on = b;
	}
	printf("%-28s %8zu %8.0f %8.0f %+7.0f %8llu %8llu %8llu\n", what, r->data, best_off, best_on,
	       best_on - best_off, (unsigned long long)on.echo_values, (unsigned long long)on.echo_hits,
	       (unsigned long long)on.echo_bytes);
	free(work);
}

int main(int argc, char **argv)
{
	struct records all = { 0 }, syn = { 0 };

	if (argc > 2 && !strcmp(argv[1], "-m")) {
		only = !strcmp(argv[2], "echo");
		argv += 2;
		argc -= 2;
	}

	printf("%-28s %8s %8s %8s %7s %8s %8s %8s\n", "records (best of 7)", "data", "ns_plain", "ns_echo",
	       "delta", "values", "hits", "bytes");
	for (int i = 1; i < argc; i++) {
		struct records one = { 0 };
		const char *base = strrchr(argv[i], '/');
		if (load(&one, argv[i])) {
			fprintf(stderr, "redact_cost: cannot read %s\n", argv[i]);
			return 1;
		}
		measure(base ? base + 1 : argv[i], &one);
		free(one.b);
	}
	synthetic(&syn);
	measure("synthetic echoes", &syn);
	free(all.b);
	free(syn.b);
	return 0;
}
