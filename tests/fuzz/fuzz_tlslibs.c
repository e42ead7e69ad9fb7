/* fuzz_tlslibs.c - libFuzzer target for the recorder's look for a target's
 * TLS library (record/tlslibs.c).  The recorder runs as root and reads the
 * executable of every target, which any local user can craft, and its
 * /proc/PID/maps, whose paths the user names: none of it may crash it.
 *
 * Input: byte 0 picks what is fed the rest:
 *   0 - maps text, parsed whole (tlslibs_from_maps) and read in chunks from
 *       a memfd (tlslibs_from_maps_fd);
 *   1 - a file name (tlslibs_lib_of_name);
 *   2 - an ELF file through elf_memory (tlslibs_from_elf: sections,
 *       .dynsym and its string table).
 *
 * Invariants (abort on violation; ASan/UBSan catch the rest):
 *  - at most TLSLIBS_MAX libraries, in id order, each a known library id
 *    with a terminated path no longer than the line it came from;
 *  - read in chunks or whole, a text whose lines all fit a chunk gives the
 *    same libraries;
 *  - names and ELF files give a known id.
 * fuzz-seeds: scripts/fuzz_seeds.py (maps lines, names, small ELF files).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>

#include "record/capture_format.h"
#include "record/tlslibs.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)
#define CHUNK_SAFE 16000 /* below the reader's chunk */

static void check_list(const struct tlslibs *t, size_t textlen)
{
	CHECK(t->n >= 0 && t->n <= TLSLIBS_MAX);
	for (int i = 0; i < t->n; i++) {
		CHECK(t->l[i].lib > BZ_TLS_NONE && t->l[i].lib < BZ_TLS_GO);
		CHECK(t->l[i].source == BZ_TLS_SRC_MAPPED);
		CHECK(memchr(t->l[i].path, 0, sizeof(t->l[i].path)));
		CHECK(strlen(t->l[i].path) <= textlen);
		if (i)
			CHECK(t->l[i - 1].lib <= t->l[i].lib);
	}
}

static int same(const struct tlslibs *a, const struct tlslibs *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (a->l[i].lib != b->l[i].lib || strcmp(a->l[i].path, b->l[i].path))
			return 0;
	return 1;
}

static void fuzz_maps(const uint8_t *p, size_t n)
{
	struct tlslibs whole = { 0 }, chunked = { 0 };
	size_t longest = 0, cur = 0;
	int fd;

	tlslibs_from_maps((const char *)p, n, &whole);
	check_list(&whole, n);
	for (size_t i = 0; i < n; i++) {
		cur = p[i] == '\n' ? 0 : cur + 1;
		if (cur > longest)
			longest = cur;
	}
	fd = memfd_create("maps", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, p, n) == (ssize_t)n);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(tlslibs_from_maps_fd(fd, &chunked) == 0);
	close(fd);
	check_list(&chunked, n);
	if (longest < CHUNK_SAFE)
		CHECK(same(&whole, &chunked));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_maps(data + 1, size - 1);
		break;
	case 1:
		CHECK(tlslibs_lib_of_name((const char *)data + 1, size - 1) < BZ_TLS_GO);
		break;
	default: {
		/* libelf may convert in place: give it a copy it can keep */
		char *img = malloc(size - 1 ? size - 1 : 1);
		CHECK(img);
		memcpy(img, data + 1, size - 1);
		CHECK(elf_version(EV_CURRENT) != EV_NONE);
		Elf *e = elf_memory(img, size - 1);
		CHECK(tlslibs_from_elf(e) < BZ_TLS_LIB_MAX);
		elf_end(e);
		free(img);
		break;
	}
	}
	return 0;
}
