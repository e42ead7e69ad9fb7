/* hpack_bench.c - how fast the HPACK decoder (analyze/proto/hpack.h) is.
 * Not a pass/fail test: numbers for docs and reviews.
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. -o /tmp/hpack_bench tests/tools/hpack_bench.c \
 *      build/libbeyla.a -lpthread && /tmp/hpack_bench [PASSES]
 *
 * Three loads, each the best of PASSES (default 7) passes:
 *  - requests: a browser-like client's connection, 20,000 requests encoded
 *    by tests/tools/hpack_enc.h with Huffman and incremental indexing the
 *    way common encoders do (the usual headers indexed after the first
 *    request; each request a new :path, x-request-id and, now and then,
 *    cookie, as literals with indexed names);
 *  - cold: the same header lists, each block on a fresh context (every
 *    field a literal: the first request of every connection);
 *  - huffman: bz_hpack_huffman_decode alone on 64 KiB of header-like text.
 * Prints MB/s of encoded input, ns per block and ns per field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/proto/hpack.h"
#include "tests/tools/hpack_enc.h"

#define NREQ 20000

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static long fields;
static int count(void *u, const struct bz_hpack_field *f)
{
	(void)u;
	fields++;
	return f->value_len == 0xffffffffu; /* (read the field) */
}

static void rand_text(char *s, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		s[i] = alphabet[rnd() % k];
	s[n] = 0;
}

/* One request's header list: name, value pairs, NULL-terminated. */
static int request(int i, const char **nv, char bufs[][512])
{
	static char cookie[512];
	int n = 0;
	static const char *const paths[] = { "/api/v1/items/", "/static/js/app.", "/images/p/", "/cart/add?sku=", "/search?q=" };

	if (i % 50 == 0) /* the session cookie turns over now and then */
		snprintf(cookie, sizeof(cookie), "session=%s; _ga=GA1.2.%llu.%llu; theme=dark; consent=%s",
			 (rand_text(bufs[9], 64, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), bufs[9]),
			 (unsigned long long)(rnd() % 1000000000), (unsigned long long)(rnd() % 2000000000),
			 (rand_text(bufs[8], 40, "0123456789abcdef"), bufs[8]));
	snprintf(bufs[0], 512, "%s%llu%s", paths[i % 5], (unsigned long long)(rnd() % 100000),
		 i % 3 ? "" : "?ref=home&utm_source=newsletter");
	rand_text(bufs[1], 32, "0123456789abcdef");
	nv[n++] = ":method"; nv[n++] = i % 7 ? "GET" : "POST";
	nv[n++] = ":scheme"; nv[n++] = "https";
	nv[n++] = ":authority"; nv[n++] = "shop.example.com";
	nv[n++] = ":path"; nv[n++] = bufs[0];
	nv[n++] = "user-agent";
	nv[n++] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
	nv[n++] = "accept"; nv[n++] = i % 5 == 1 ? "*/*" : "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
	nv[n++] = "accept-language"; nv[n++] = "en-US,en;q=0.9";
	nv[n++] = "accept-encoding"; nv[n++] = "gzip, deflate, br";
	nv[n++] = "referer"; nv[n++] = "https://shop.example.com/";
	nv[n++] = "sec-ch-ua"; nv[n++] = "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"";
	nv[n++] = "sec-fetch-mode"; nv[n++] = "navigate";
	nv[n++] = "cookie"; nv[n++] = cookie;
	nv[n++] = "x-request-id"; nv[n++] = bufs[1];
	if (i % 7 == 0) {
		nv[n++] = "content-type"; nv[n++] = "application/json";
		snprintf(bufs[2], 512, "%llu", (unsigned long long)(rnd() % 5000));
		nv[n++] = "content-length"; nv[n++] = bufs[2];
	}
	nv[n] = NULL;
	return n / 2;
}

struct blocks {
	struct hbuf all;
	size_t off[NREQ + 1];
	long fields;
};

static void encode_all(struct blocks *b, int fresh_each)
{
	struct henc e = { .limit = 4096, .huffman = 1 };
	char bufs[10][512];
	const char *nv[64];

	rng = 88172645463325252ull;
	for (int i = 0; i < NREQ; i++) {
		if (fresh_each)
			henc_free(&e), e.limit = 4096;
		b->off[i] = b->all.len;
		b->fields += request(i, nv, bufs);
		for (int k = 0; nv[k]; k += 2) {
			/* the credential never indexed, as careful encoders do */
			int never = !strcmp(nv[k], "cookie") && i % 2;
			henc_field(&e, &b->all, nv[k], nv[k + 1], 1, never);
		}
	}
	b->off[NREQ] = b->all.len;
	henc_free(&e);
}

static double pass(const struct blocks *b, int fresh_each)
{
	struct bz_hpack *h = NULL;
	double t0 = now();

	fields = 0;
	for (int i = 0; i < NREQ; i++) {
		if (!h || fresh_each) {
			bz_hpack_free(&h);
			if (bz_hpack_new(&h, 4096))
				abort();
		}
		if (bz_hpack_decode(h, b->all.p + b->off[i], b->off[i + 1] - b->off[i], count, NULL)) {
			fprintf(stderr, "hpack_bench: block %d refused\n", i);
			exit(1);
		}
	}
	bz_hpack_free(&h);
	if (fields != b->fields) {
		fprintf(stderr, "hpack_bench: %ld fields, want %ld\n", fields, b->fields);
		exit(1);
	}
	return now() - t0;
}

static void report(const char *what, const struct blocks *b, int fresh_each, int passes)
{
	double best = 1e9;
	for (int p = 0; p < passes; p++) {
		double t = pass(b, fresh_each);
		if (t < best)
			best = t;
	}
	printf("%-9s %7.1f MB/s  %6.0f ns/block  %5.1f ns/field  (%d blocks, %.0f octets/block, %.1f fields/block)\n",
	       what, b->all.len / best / 1e6, best * 1e9 / NREQ, best * 1e9 / (double)b->fields, NREQ,
	       (double)b->all.len / NREQ, (double)b->fields / NREQ);
}

int main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 7;
	static struct blocks warm, cold;
	static char text[65536 + 1];
	uint8_t *out = malloc(1 << 20);
	struct hbuf enc = { 0 };
	double best = 1e9;
	long got = 0;

	if (passes < 1 || !out)
		return 1;
	encode_all(&warm, 0);
	encode_all(&cold, 1);
	report("requests", &warm, 0, passes);
	report("cold", &cold, 1, passes);

	rand_text(text, 65536, "abcdefghijklmnopqrstuvwxyz0123456789-_./=;:, ABCDEFGHIJKLMNOPQRSTUVWXYZ?&%*");
	henc_huffman(&enc, (const uint8_t *)text, 65536);
	for (int p = 0; p < passes; p++) {
		double t0 = now();
		for (int k = 0; k < 50; k++)
			got = bz_hpack_huffman_decode(enc.p, enc.len, out, 1 << 20);
		double t = (now() - t0) / 50;
		if (t < best)
			best = t;
	}
	if (got != 65536 || memcmp(out, text, 65536))
		return 1;
	printf("huffman   %7.1f MB/s of code (%.1f MB/s decoded), %.2f ns per decoded octet\n",
	       enc.len / best / 1e6, 65536 / best / 1e6, best * 1e9 / 65536);
	free(warm.all.p);
	free(cold.all.p);
	free(enc.p);
	free(out);
	return 0;
}
