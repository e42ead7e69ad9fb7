/* fuzz_hpack.c - libFuzzer target for the HPACK decoder (analyze/proto/hpack.c).
 *
 * Input: byte 0 picks the context's initial max (SETTINGS_HEADER_TABLE_SIZE)
 * from MAXES by its bits 0-2; then records, each starting with a ctl byte:
 *   ctl bits 0-1 = 0, 1, 2: a header block of  next byte + 256 * (ctl bits 2-3)
 *                 octets (cut by the input's end), decoded over one context
 *   ctl bits 0-1 = 3:       bits 5-7 = 7: bz_hpack_lose; else
 *                 bz_hpack_set_max(MAXES[ctl bits 2-4])
 *
 * Invariants, beyond "no crash" under ASan/UBSan:
 *  - decode returns 0, -EINVAL or (once unusable) -EPIPE without calling
 *    back; after anything but 0 the context is unusable, for good;
 *  - the table's size never exceeds the max last set;
 *  - every literal lies inside the block; a raw one's value is its octets,
 *    a Huffman one's is what bz_hpack_huffman_decode makes of its octets;
 *    no string is longer than BZ_HPACK_STRING_MAX;
 *  - masking: a second context is fed, for each block the first decoded,
 *    a copy with every literal value masked (bz_hpack_mask_string, which
 *    must succeed); it must decode to the same names and value lengths,
 *    every non-empty literal value flagged masked, indexed values either
 *    flagged or the first context's, and the same table size afterwards.
 *    A block the first refused is bz_hpack_lose for the second.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/hpack.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const uint32_t MAXES[8] = { 0, 1, 32, 64, 256, 4096, 65536, 100 };

struct fld {
	struct bz_hpack_field f;
	uint8_t *name, *value;
};

struct run {
	const uint8_t *block;
	size_t n;
	struct fld *flds;
	size_t nf, cap;
	long calls;
};

static int on_field(void *u, const struct bz_hpack_field *f)
{
	struct run *r = u;
	struct fld *x;

	r->calls++;
	CHECK(f->name_len <= BZ_HPACK_STRING_MAX && f->value_len <= BZ_HPACK_STRING_MAX);
	CHECK(f->repr <= BZ_HPACK_NEVER);
	if (f->repr == BZ_HPACK_INDEXED)
		CHECK(!f->name_enc_len && !f->value_enc_len);
	/* literals: inside the block, and what their octets say */
	for (int v = 0; v < 2; v++) {
		uint32_t off = v ? f->value_off : f->name_off, enc = v ? f->value_enc_len : f->name_enc_len;
		uint32_t len = v ? f->value_len : f->name_len;
		const uint8_t *p = v ? f->value : f->name;
		int huff = v ? f->value_huffman : f->name_huffman;
		if (f->repr == BZ_HPACK_INDEXED || (!v && !off))
			continue; /* from a table (a literal starts after an octet at least) */
		CHECK((uint64_t)off + enc <= r->n);
		if (!huff) {
			CHECK(len == enc && (!len || !memcmp(p, r->block + off, len)));
		} else {
			uint8_t *d = malloc(len + 1);
			CHECK(d);
			CHECK(bz_hpack_huffman_decode(r->block + off, enc, d, len) == (long)len);
			CHECK(!len || !memcmp(d, p, len));
			free(d);
		}
	}
	if (r->nf == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 32;
		r->flds = realloc(r->flds, r->cap * sizeof(*r->flds));
		CHECK(r->flds);
	}
	x = &r->flds[r->nf++];
	x->f = *f;
	x->name = malloc(f->name_len + 1);
	x->value = malloc(f->value_len + 1);
	CHECK(x->name && x->value);
	memcpy(x->name, f->name, f->name_len);
	memcpy(x->value, f->value, f->value_len);
	x->f.name = x->name;
	x->f.value = x->value;
	return 0;
}

static void run_reset(struct run *r)
{
	for (size_t i = 0; i < r->nf; i++) {
		free(r->flds[i].name);
		free(r->flds[i].value);
	}
	r->nf = 0;
	r->calls = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bz_hpack *a = NULL, *m = NULL;
	struct run ra = { 0 }, rm = { 0 };
	uint32_t bound;
	int dead = 0;
	size_t i = 1;

	if (size < 1)
		return 0;
	bound = MAXES[data[0] & 7];
	if (bz_hpack_new(&a, bound) || bz_hpack_new(&m, bound)) {
		bz_hpack_free(&a);
		return 0;
	}
	while (i < size) {
		uint8_t ctl = data[i++];
		if ((ctl & 3) == 3) {
			if (ctl >> 5 == 7) {
				bz_hpack_lose(a);
				bz_hpack_lose(m);
				dead = 1;
			} else {
				bound = MAXES[(ctl >> 2) & 7];
				bz_hpack_set_max(a, bound);
				bz_hpack_set_max(m, bound);
			}
			CHECK(bz_hpack_table_size(a) <= bound && bz_hpack_table_size(m) <= bound);
			continue;
		}
		if (i >= size)
			break;
		size_t n = data[i++] + 256u * ((ctl >> 2) & 3);
		if (n > size - i)
			n = size - i;
		const uint8_t *block = data + i;
		i += n;

		ra.block = block;
		ra.n = n;
		int rc = bz_hpack_decode(a, block, n, on_field, &ra);
		CHECK(rc == 0 || rc == -EINVAL || rc == -EPIPE);
		if (dead) {
			CHECK(rc == -EPIPE && ra.calls == 0);
		}
		if (rc) {
			CHECK(!bz_hpack_usable(a));
			dead = 1;
			bz_hpack_lose(m);
			run_reset(&ra);
			continue;
		}
		CHECK(bz_hpack_usable(a));
		CHECK(bz_hpack_table_size(a) <= bound);

		/* the same block, every literal value masked, over the second context */
		uint8_t *copy = malloc(n ? n : 1);
		CHECK(copy);
		memcpy(copy, block, n);
		for (size_t k = 0; k < ra.nf; k++) {
			const struct bz_hpack_field *f = &ra.flds[k].f;
			if (f->repr != BZ_HPACK_INDEXED)
				CHECK(bz_hpack_mask_string(copy + f->value_off, f->value_enc_len, f->value_len,
							   f->value_huffman) == 0);
		}
		rm.block = copy;
		rm.n = n;
		CHECK(bz_hpack_decode(m, copy, n, on_field, &rm) == 0);
		CHECK(rm.nf == ra.nf);
		for (size_t k = 0; k < ra.nf; k++) {
			const struct bz_hpack_field *fa = &ra.flds[k].f, *fm = &rm.flds[k].f;
			CHECK(fa->repr == fm->repr);
			CHECK(fa->name_len == fm->name_len && !memcmp(fa->name, fm->name, fa->name_len));
			CHECK(fa->value_len == fm->value_len && fa->value_enc_len == fm->value_enc_len);
			if (fa->repr != BZ_HPACK_INDEXED && fa->value_len)
				CHECK(fm->masked);
			if (fa->repr == BZ_HPACK_INDEXED && !fm->masked)
				CHECK(!memcmp(fa->value, fm->value, fa->value_len));
		}
		CHECK(bz_hpack_table_size(m) == bz_hpack_table_size(a));
		free(copy);
		run_reset(&ra);
		run_reset(&rm);
	}
	CHECK(bz_hpack_usable(a) == !dead);
	free(ra.flds);
	free(rm.flds);
	bz_hpack_free(&a);
	bz_hpack_free(&m);
	CHECK(!a && !m);
	return 0;
}
