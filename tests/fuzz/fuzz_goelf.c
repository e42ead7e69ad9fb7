/* fuzz_goelf.c - libFuzzer target for the Go binary inspector
 * (record/goelf*.c).  The recorder runs as root and opens the executable of
 * every Go target, which any local user can craft: none of its bytes may
 * crash it or make it place a uprobe outside the function it names.
 *
 * Input: byte 0 picks what is fed the rest:
 *   0 - bz_pclntab_lookup on a .gopclntab image (text address 0x401000);
 *   1 - bz_gorets_scan on a function's code (file offset 0x1000);
 *   2 - bz_goelf_is_go and bz_goelf_inspect on the bytes as a whole file
 *       (through a memfd: ELF headers, build info, .symtab, .gopclntab,
 *       DWARF through libdw).
 *
 * Invariants checked, beyond "no crash":
 *  - pclntab: a refusal says why (a NUL-terminated reason);
 *  - RETs: at most BZ_GO_MAX_RETS, each inside the code, increasing; the
 *    entry probe inside the code; no RETs when the scan failed;
 *  - inspect: every found function's RETs and entry probe lie inside it;
 *    strings NUL-terminated.
 * fuzz-seeds: tests/fuzz/seeds/fuzz_goelf (made by scripts/fuzz_seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "record/goelf.h"
#include "record/goelf_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const names[] = {
	"runtime.newproc1", "net/http.serverHandler.ServeHTTP", "crypto/tls.(*Conn).Read",
	"crypto/tls.(*Conn).Write", "net/http.(*Transport).roundTrip",
	"net/http.(*response).finishRequest",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void check_func(const struct bz_go_func *f, uint64_t lo, uint64_t hi)
{
	CHECK(f->n_rets <= BZ_GO_MAX_RETS);
	CHECK(memchr(f->why, 0, sizeof(f->why)) != NULL);
	for (uint32_t i = 0; i < f->n_rets; i++) {
		CHECK(f->rets[i] >= lo && f->rets[i] < hi);
		CHECK(i == 0 || f->rets[i] > f->rets[i - 1]);
	}
	/* the entry itself, or an instruction inside the code */
	if (f->probe_entry)
		CHECK(f->probe_entry == lo || (f->probe_entry > lo && f->probe_entry < hi));
}

static void fuzz_pclntab(const uint8_t *d, size_t n)
{
	struct bz_pcln_func out[NNAMES];
	char err[128];

	memset(out, 0, sizeof(out));
	if (bz_pclntab_lookup(d, n, 0x401000, names, NNAMES, out, err, sizeof(err)))
		CHECK(memchr(err, 0, sizeof(err)) != NULL);
}

static void fuzz_rets(const uint8_t *d, size_t n)
{
	struct bz_go_func f;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = bz_gorets_scan(d, n, 0x1000, &f);
	if (rc)
		CHECK(f.n_rets == 0);
	check_func(&f, 0x1000, 0x1000 + n);
}

static void fuzz_file(const uint8_t *d, size_t n)
{
	struct bz_go_binary *b;
	char path[64], err[256];
	int fd = memfd_create("fuzz_goelf", 0);

	if (fd < 0)
		return;
	if (write(fd, d, n) != (ssize_t)n) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)bz_goelf_is_go(path);
	b = calloc(1, sizeof(*b));
	if (b && bz_goelf_inspect(path, b, err, sizeof(err)) == 0) {
		CHECK(memchr(b->go_version, 0, sizeof(b->go_version)) != NULL);
		CHECK(memchr(b->module_path, 0, sizeof(b->module_path)) != NULL);
		for (int k = 0; k < BZ_GOF_MAX; k++) {
			const struct bz_go_func *f = &b->funcs[k];
			if (f->found && f->n_rets)
				check_func(f, f->entry, f->entry + f->size);
		}
	}
	free(b);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: fuzz_pclntab(data + 1, size - 1); break;
	case 1: fuzz_rets(data + 1, size - 1); break;
	default: fuzz_file(data + 1, size - 1); break;
	}
	return 0;
}
