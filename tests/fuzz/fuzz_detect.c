/* fuzz_detect.c - libFuzzer target for what the analyzer says about
 * connections no parser recognised: the first-bytes classifier
 * (analyze/detect.c), the TLS_LIB values of a PROC block and the advice
 * made from them (analyze/tls_libs.c), and the explanation printed
 * (analyze/explain.c).  All of it reads capture bytes, which are untrusted.
 *
 * Input: byte 0 splits the rest in two directions (in: the first
 * rest * byte0 / 255 bytes, out: the others).  Each direction is also fed
 * to a bz_detect_head in pieces whose captured and moved lengths come from
 * the bytes themselves.  Then the whole input, cut into TLS_LIB values
 * (a length byte, then that many bytes), fills a library list for a few
 * processes of an explanation, which is printed.
 *
 * Invariants (abort on violation; ASan/UBSan catch the rest):
 *  - the class is one of enum bz_detect_class, the same with the directions
 *    swapped, NO_BYTES exactly when both are empty, TLS only when a
 *    direction starts with a TLS record, HTTP2 only with the preface;
 *  - the first BZ_DETECT_HEAD bytes decide, except that later bytes may
 *    make text binary;
 *  - the accumulator never holds more than BZ_DETECT_HEAD bytes, holds a
 *    prefix of what was fed, and takes nothing once full;
 *  - library lists stay within BZ_TLS_LIBS_MAX with terminated paths; the
 *    texts are terminated within their buffer; the explanation counts
 *    every connection once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/detect.h"
#include "analyze/explain.h"
#include "analyze/tls_libs.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

static FILE *devnull;

static void check_class(const uint8_t *in, size_t nin, const uint8_t *out, size_t nout)
{
	enum bz_detect_class c = bz_detect(in, nin, out, nout);

	CHECK((unsigned)c < BZ_DETECT_MAX);
	CHECK(c == bz_detect(out, nout, in, nin));
	CHECK((c == BZ_DETECT_NO_BYTES) == (!nin && !nout));
	if (c == BZ_DETECT_TLS)
		CHECK(bz_detect_tls_record(in, nin) || bz_detect_tls_record(out, nout));
	if (c == BZ_DETECT_HTTP2)
		CHECK(bz_detect_http2_preface(in, nin) || bz_detect_http2_preface(out, nout));
	CHECK(bz_detect_name(c)[0]);
}

/* Feeds p[0..n) to direction dir of h in pieces shaped by the bytes. */
static void feed_pieces(struct bz_detect_head *h, int dir, const uint8_t *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		uint32_t caplen = (uint32_t)(p[off] % 9) + 1, len = caplen + (p[off] & 0x80 ? p[off] % 5 : 0);
		uint8_t before = h->n[dir], was_full = h->full[dir];
		if (caplen > n - off)
			caplen = (uint32_t)(n - off);
		bz_detect_head_feed(h, dir, p + off, caplen, len);
		CHECK(h->n[dir] <= BZ_DETECT_HEAD);
		CHECK(!was_full || h->n[dir] == before);
		/* a prefix of what was fed: after a cut it takes nothing more */
		CHECK(!memcmp(h->b[dir], p, h->n[dir]));
		off += caplen;
	}
}

static void check_libs(const uint8_t *data, size_t size)
{
	struct bz_explain *x = calloc(1, sizeof(*x));
	char text[BZ_TLS_LIBS_MAX * (BZ_TLS_PATH_MAX + 32)], advice[1024];
	size_t off = 0;
	uint64_t conns = 0;

	CHECK(x);
	for (uint32_t pid = 1; off < size && pid < 40; pid++) {
		struct bz_tls_libs t = { 0 };
		for (int k = 0; k < 6 && off < size; k++) {
			size_t n = data[off++];
			if (n > size - off)
				n = size - off;
			bz_tls_libs_add(&t, data + off, (uint32_t)n);
			off += n;
		}
		CHECK(t.n <= BZ_TLS_LIBS_MAX);
		for (unsigned i = 0; i < t.n; i++)
			CHECK(memchr(t.l[i].path, 0, sizeof(t.l[i].path)));
		bz_tls_libs_text(&t, text, sizeof(text));
		CHECK(memchr(text, 0, sizeof(text)));
		bz_tls_advice(&t, pid & 1, advice, sizeof(advice));
		CHECK(memchr(advice, 0, sizeof(advice)));
		bz_tls_advice(&t, 0, advice, 7);
		CHECK(strlen(advice) < 7);
		/* a few processes share names and libraries: they group */
		int slot = bz_explain_slot(x, pid % 7, pid % 3 ? "srv" : "", &t);
		for (uint32_t c = 0; c <= pid % 3; c++, conns++)
			bz_explain_tls(x, slot, bz_tls_verdict(&t));
	}
	CHECK(x->tls_opaque == conns);
	uint64_t sum = x->other_conns, by = 0;
	for (unsigned i = 0; i < x->nprocs; i++)
		sum += x->procs[i].conns;
	for (int v = 0; v < BZ_TV_MAX; v++)
		by += x->by_verdict[v];
	CHECK(sum == conns && by == conns);
	x->detected[data[0] % BZ_DETECT_MAX] = conns;
	bz_explain_print(x, conns, size & 1, devnull);
	free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bz_detect_head h = { 0 };
	size_t nin;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (size < 1)
		return 0;
	nin = (size - 1) * data[0] / 255;
	check_class(data + 1, nin, data + 1 + nin, size - 1 - nin);
	/* the first BZ_DETECT_HEAD bytes decide, whatever follows */
	if (nin > BZ_DETECT_HEAD && size - 1 - nin > BZ_DETECT_HEAD)
		CHECK(bz_detect(data + 1, nin, data + 1 + nin, size - 1 - nin) == bz_detect(data + 1, BZ_DETECT_HEAD, data + 1 + nin, BZ_DETECT_HEAD) ||
		      bz_detect(data + 1, BZ_DETECT_HEAD, data + 1 + nin, BZ_DETECT_HEAD) == BZ_DETECT_TEXT);
	feed_pieces(&h, 0, data + 1, nin);
	feed_pieces(&h, 1, data + 1 + nin, size - 1 - nin);
	check_class(h.b[0], h.n[0], h.b[1], h.n[1]);
	CHECK(bz_detect_head(&h) == bz_detect(h.b[0], h.n[0], h.b[1], h.n[1]));
	check_libs(data, size);
	return 0;
}
