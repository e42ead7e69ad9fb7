/* hpack_dump.c - decodes a sequence of HPACK header blocks over one context
 * (analyze/proto/hpack.h) and prints what it decoded, in the form
 * tests/e2e/hpack_python.py prints Python's hpack decoding of the same
 * blocks, so that tests/e2e/hpack_python.sh can diff the two.
 *
 *   hpack_dump [-l] [-v] [-m MASKED] BLOCKS
 *
 * BLOCKS is a file of records: 'B', a 32-bit little-endian length and that
 * many octets (a header block), or 'S' and a 32-bit little-endian value
 * (the decoder's SETTINGS_HEADER_TABLE_SIZE changed: bz_hpack_set_max).
 * The context starts at BZ_HPACK_TABLE_DEFAULT.
 *
 * Output: per field, "name<TAB>value<TAB>N" (N: never indexed) or
 * "...<TAB>-", octets outside 0x20-0x7e and the backslash as \xHH; after
 * each block "size N" (the dynamic table's size); "error RC" for a block
 * refused, after which every block is "error RC" too.
 *   -l  the value's length in place of the value
 *   -v  two more columns: the representation (I indexed, A added,
 *       W without indexing, N never indexed) and masked (0 or 1)
 *   -m  also write MASKED: the same records, every literal value of each
 *       decoded block masked in place (bz_hpack_mask_string)
 * Exit status 0, 1 for a usage or file error, 2 if a mask failed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/proto/hpack.h"

struct lit {
	uint32_t off, enc_len, len;
	uint8_t huffman;
};

struct dump {
	int lengths, verbose;
	struct lit *lits;
	size_t nlits, cap;
};

static void put_escaped(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] <= 0x7e && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

static int on_field(void *u, const struct bz_hpack_field *f)
{
	struct dump *d = u;
	static const char repr[] = "IAWN";

	put_escaped(f->name, f->name_len);
	putchar('\t');
	if (d->lengths)
		printf("%u", f->value_len);
	else
		put_escaped(f->value, f->value_len);
	printf("\t%c", f->repr == BZ_HPACK_NEVER ? 'N' : '-');
	if (d->verbose)
		printf("\t%c\t%d", repr[f->repr & 3], f->masked);
	putchar('\n');
	if (f->repr != BZ_HPACK_INDEXED) {
		if (d->nlits == d->cap) {
			d->cap = d->cap ? 2 * d->cap : 64;
			d->lits = realloc(d->lits, d->cap * sizeof(*d->lits));
			if (!d->lits) {
				perror("hpack_dump");
				exit(1);
			}
		}
		d->lits[d->nlits++] = (struct lit){ f->value_off, f->value_enc_len, f->value_len, f->value_huffman };
	}
	return 0;
}

static void record(FILE *out, char type, const void *p, uint32_t n)
{
	uint8_t le[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24) };
	fputc(type, out);
	fwrite(le, 1, 4, out);
	if (p)
		fwrite(p, 1, n, out);
}

int main(int argc, char **argv)
{
	struct dump d = { 0 };
	const char *masked_path = NULL;
	FILE *in, *mout = NULL;
	struct bz_hpack *h = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, pos = 0;
	int c, status = 0, err = 0;

	while ((c = getopt(argc, argv, "lvm:")) != -1) {
		switch (c) {
		case 'l': d.lengths = 1; break;
		case 'v': d.verbose = 1; break;
		case 'm': masked_path = optarg; break;
		default: fprintf(stderr, "usage: hpack_dump [-l] [-v] [-m MASKED] BLOCKS\n"); return 1;
		}
	}
	if (optind + 1 != argc || !(in = fopen(argv[optind], "rb"))) {
		fprintf(stderr, "hpack_dump: cannot read %s\n", optind < argc ? argv[optind] : "(none)");
		return 1;
	}
	for (;;) { /* the whole file */
		if (len == cap && !(buf = realloc(buf, cap = cap ? 2 * cap : 1 << 16))) {
			perror("hpack_dump");
			return 1;
		}
		size_t got = fread(buf + len, 1, cap - len, in);
		if (!got)
			break;
		len += got;
	}
	fclose(in);
	if (masked_path && !(mout = fopen(masked_path, "wb"))) {
		perror(masked_path);
		return 1;
	}
	if (bz_hpack_new(&h, BZ_HPACK_TABLE_DEFAULT)) {
		fprintf(stderr, "hpack_dump: out of memory\n");
		return 1;
	}
	while (pos + 5 <= len) {
		char type = (char)buf[pos];
		uint32_t n = buf[pos + 1] | buf[pos + 2] << 8 | buf[pos + 3] << 16 | (uint32_t)buf[pos + 4] << 24;
		pos += 5;
		if (type == 'S') {
			bz_hpack_set_max(h, n);
			if (mout)
				record(mout, 'S', NULL, n);
			continue;
		}
		if (type != 'B' || n > len - pos) {
			fprintf(stderr, "hpack_dump: bad record at %zu\n", pos - 5);
			return 1;
		}
		d.nlits = 0;
		if (!err)
			err = bz_hpack_decode(h, buf + pos, n, on_field, &d);
		if (err) {
			printf("error %d\n", err);
		} else {
			printf("size %u\n", bz_hpack_table_size(h));
			if (mout) {
				uint8_t *copy = malloc(n ? n : 1);
				if (!copy) {
					perror("hpack_dump");
					return 1;
				}
				memcpy(copy, buf + pos, n);
				for (size_t i = 0; i < d.nlits; i++) {
					const struct lit *l = &d.lits[i];
					if (bz_hpack_mask_string(copy + l->off, l->enc_len, l->len, l->huffman)) {
						fprintf(stderr, "hpack_dump: mask failed at %zu+%u\n", pos, l->off);
						status = 2;
					}
				}
				record(mout, 'B', copy, n);
				free(copy);
			}
		}
		pos += n;
	}
	if (mout && fclose(mout)) {
		perror(masked_path);
		return 1;
	}
	bz_hpack_free(&h);
	free(d.lits);
	free(buf);
	return status;
}
