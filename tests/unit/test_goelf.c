/* test_goelf.c - the Go binary inspector (record/goelf.c) against real Go
 * binaries and against the Go tools' own answers.
 *
 * The binaries are tests/servers/go/goserver built by
 * scripts/build_go_servers.sh (`make unit` runs it) with Go 1.26 and Go
 * 1.19, each with and without symbols, in $BEYLA_GO_SERVERS (default
 * build/go).  Missing binaries fail the tests: nothing is skipped.
 *
 * Truth comes from outside our code where it can: `go version BINARY` for
 * the version, `objdump -d` for the RET count of each function, readelf's
 * view of the sections (through libelf) for the pclntab cross-check; the
 * stripped builds must give what the unstripped ones give.  Then hostile
 * files: cut, corrupted in place, not Go, not ELF, empty. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "record/goelf_int.h"

enum { GO126, GO126_STRIPPED, GO119, GO119_STRIPPED, NBIN };

static const struct {
	const char *name;
	int minor;
	bool stripped;
} bins[NBIN] = {
	[GO126] = { "goserver-go1.26", 26, false },
	[GO126_STRIPPED] = { "goserver-go1.26-stripped", 26, true },
	[GO119] = { "goserver-go1.19", 19, false },
	[GO119_STRIPPED] = { "goserver-go1.19-stripped", 19, true },
};

static char paths[NBIN][512];
static char not_ready[4096]; /* why the real-binary tests cannot run */
static struct bz_go_binary info[NBIN];
static char tmpdir[] = "/tmp/test_goelf.XXXXXX";

/* A go command for `go version BINARY` (any Go >= 1.18 reads both builds). */
static const char *go_tool(void)
{
	const char *env = getenv("GO");

	if (env && *env)
		return env;
	return access("/usr/local/go/bin/go", X_OK) == 0 ? "/usr/local/go/bin/go" : "/usr/lib/go-1.19/bin/go";
}

/* Runs cmd, returns its first output line (without the newline) in out. */
static int run_line(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	int st;

	out[0] = '\0';
	if (!p)
		return -1;
	if (!fgets(out, (int)outlen, p))
		out[0] = '\0';
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	out[strcspn(out, "\n")] = '\0';
	return st;
}

/* Inspects the binaries once.  A problem here fails every test that needs
 * them (see need_binaries), so that none of them passes or skips quietly. */
static int group_setup(void **state)
{
	const char *dir = getenv("BEYLA_GO_SERVERS");
	char err[256];

	if (!dir || !*dir)
		dir = "build/go";
	if (!mkdtemp(tmpdir)) {
		snprintf(not_ready, sizeof(not_ready), "mkdtemp: %s", strerror(errno));
		return 0;
	}
	for (int i = 0; i < NBIN; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, bins[i].name);
		if (access(paths[i], R_OK)) {
			snprintf(not_ready, sizeof(not_ready),
				 "missing %s: build it with scripts/build_go_servers.sh %s (make unit does)",
				 paths[i], dir);
			return 0;
		}
		if (bz_goelf_inspect(paths[i], &info[i], err, sizeof(err))) {
			snprintf(not_ready, sizeof(not_ready), "inspect %s: %s", paths[i], err);
			return 0;
		}
	}
	return 0;
}

static void need_binaries(void)
{
	if (not_ready[0])
		fail_msg("%s", not_ready);
}

static int group_teardown(void **state)
{
	char cmd[600];

	if (strchr(tmpdir, 'X'))
		return 0; /* mkdtemp failed: nothing to remove */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- real binaries -------------------------------------------------------- */

static void test_is_go(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i++)
		assert_true(bz_goelf_is_go(paths[i]));
	assert_false(bz_goelf_is_go("/bin/true"));
	assert_false(bz_goelf_is_go("/nonexistent/goserver"));
}

static void test_version_and_module(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i++) {
		char cmd[4200], line[256], *v;

		snprintf(cmd, sizeof(cmd), "'%s' version '%s'", go_tool(), paths[i]);
		assert_int_equal(run_line(cmd, line, sizeof(line)), 0);
		v = strstr(line, ": "); /* "PATH: go1.26.8" */
		assert_non_null(v);
		assert_string_equal(info[i].go_version, v + 2);
		assert_int_equal(info[i].go_major, 1);
		assert_int_equal(info[i].go_minor, bins[i].minor);
		assert_string_equal(info[i].module_path, "beyla.test/goserver");
		assert_int_equal(info[i].stripped, bins[i].stripped);
		assert_int_equal(info[i].has_dwarf, !bins[i].stripped);
	}
}

/* The linker lays out code identically with and without symbols, so the
 * stripped build (functions from .gopclntab) must agree with the unstripped
 * one (functions from .symtab) on every entry and every RET. */
static void test_functions_stripped_equal_unstripped(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i += 2) {
		const struct bz_go_binary *full = &info[i], *bare = &info[i + 1];

		for (int k = 0; k < BZ_GOF_MAX; k++) {
			const struct bz_go_func *a = &full->funcs[k], *b = &bare->funcs[k];

			print_message("%s %s: entry 0x%llx, %u RETs\n", bins[i].name, bz_go_func_name(k),
				      (unsigned long long)a->entry, a->n_rets);
			assert_true(a->found);
			assert_true(b->found);
			/* the name found (.symtab, .gopclntab): before Go 1.27, the first */
			assert_string_equal(a->name, bz_go_func_name(k));
			assert_string_equal(b->name, bz_go_func_name(k));
			assert_int_equal(a->vaddr, b->vaddr);
			assert_int_equal(a->entry, b->entry);
			/* .gopclntab sizes run to the next function: padding included */
			assert_true(b->size >= a->size && b->size - a->size < 64);
			assert_int_equal(a->n_rets, b->n_rets);
			assert_memory_equal(a->rets, b->rets, a->n_rets * sizeof(a->rets[0]));
		}
	}
}

/* The section's bytes and address, read with libelf. */
static uint8_t *section(const char *path, const char *want, size_t *len, uint64_t *addr, uint64_t *off)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	uint8_t *copy = NULL;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (strcmp(elf_strptr(e, shstrndx, sh.sh_name), want))
			continue;
		d = elf_rawdata(scn, NULL);
		assert_non_null(d);
		copy = malloc(d->d_size);
		assert_non_null(copy);
		memcpy(copy, d->d_buf, d->d_size);
		*len = d->d_size;
		if (addr)
			*addr = sh.sh_addr;
		if (off)
			*off = sh.sh_offset;
		break;
	}
	elf_end(e);
	close(fd);
	assert_non_null(copy);
	return copy;
}

/* The unstripped binaries have both tables: they must give the same entries. */
static void test_pclntab_matches_symtab(void **state)
{
	const char *names[BZ_GOF_MAX];

	need_binaries();

	for (int k = 0; k < BZ_GOF_MAX; k++)
		names[k] = bz_go_func_name(k);
	for (int i = 0; i < NBIN; i += 2) {
		struct bz_pcln_func pf[BZ_GOF_MAX];
		uint64_t text;
		size_t len, tlen;
		uint8_t *tab = section(paths[i], ".gopclntab", &len, NULL, NULL);
		free(section(paths[i], ".text", &tlen, &text, NULL));
		char err[96];

		assert_int_equal(bz_pclntab_lookup(tab, len, text, names, BZ_GOF_MAX, pf, err, sizeof(err)), 0);
		for (int k = 0; k < BZ_GOF_MAX; k++) {
			assert_true(pf[k].found);
			assert_int_equal(pf[k].vaddr, info[i].funcs[k].vaddr);
			assert_true(pf[k].size >= info[i].funcs[k].size);
		}
		/* a header text start of 0 means .text's address: same answers */
		memset(tab + 8 + 2 * 8, 0, 8);
		assert_int_equal(bz_pclntab_lookup(tab, len, text, names, BZ_GOF_MAX, pf, err, sizeof(err)), 0);
		for (int k = 0; k < BZ_GOF_MAX; k++)
			assert_int_equal(pf[k].vaddr, info[i].funcs[k].vaddr);
		free(tab);
	}
}

/* Every recorded RET is a 0xC3 byte inside its function. */
static void test_rets_are_ret_bytes(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i++) {
		FILE *f = fopen(paths[i], "rb");

		assert_non_null(f);
		for (int k = 0; k < BZ_GOF_MAX; k++) {
			const struct bz_go_func *fn = &info[i].funcs[k];

			assert_true(fn->n_rets >= 1);
			for (uint32_t r = 0; r < fn->n_rets; r++) {
				assert_true(fn->rets[r] > fn->entry && fn->rets[r] < fn->entry + fn->size);
				assert_int_equal(fseek(f, (long)fn->rets[r], SEEK_SET), 0);
				assert_int_equal(fgetc(f), 0xc3);
			}
		}
		fclose(f);
	}
}

/* Where the entry probe goes: Go >= 1.21 opens every probed function with
 * the stack check then PUSH RBP (0x55), which the kernel emulates; Go 1.19
 * builds the frame with SUB/MOV, so the probe sits on the check's JBE
 * (0x76 rel8 or 0x0F 0x86 rel32), also emulated.  Either is in the first
 * 32 bytes of the function. */
static void test_probe_entry_emulated(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i++) {
		FILE *f = fopen(paths[i], "rb");

		assert_non_null(f);
		for (int k = 0; k < BZ_GOF_MAX; k++) {
			const struct bz_go_func *fn = &info[i].funcs[k];
			int b0, b1;

			if (k == BZ_GOF_MEMMOVE)
				continue; /* assembly without a frame, and never probed */
			assert_true(fn->probe_entry > fn->entry && fn->probe_entry < fn->entry + 32);
			assert_int_equal(fseek(f, (long)fn->probe_entry, SEEK_SET), 0);
			b0 = fgetc(f);
			b1 = fgetc(f);
			print_message("%s %s: entry probe at +%llu (%s)\n", bins[i].name, bz_go_func_name(k),
				      (unsigned long long)(fn->probe_entry - fn->entry),
				      fn->probe_entry_jbe ? "JBE" : "PUSH RBP");
			if (bins[i].minor >= 21) {
				assert_false(fn->probe_entry_jbe);
				assert_int_equal(b0, 0x55);
			} else {
				assert_true(fn->probe_entry_jbe);
				assert_true(b0 == 0x76 || (b0 == 0x0f && b1 == 0x86));
			}
		}
		fclose(f);
	}
}

/* objdump's RET count for one function of an unstripped binary. */
static int objdump_rets(const char *path, const char *func)
{
	char cmd[1024], line[512];
	int n = 0, st;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn --disassemble='%s' '%s'", func, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		/* "  4022c:\tret" (or "ret    " / "retq") */
		char *tab = strchr(line, '\t');
		if (tab && strchr(line, ':') < tab && !strncmp(tab + 1, "ret", 3))
			n++;
	}
	st = pclose(p);
	assert_int_equal(st, 0);
	return n;
}

static void test_rets_match_objdump(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i += 2)
		for (int k = 0; k < BZ_GOF_MAX; k++) {
			int want = objdump_rets(paths[i], bz_go_func_name(k));

			print_message("%s %s: objdump %d RETs, goelf %u\n", bins[i].name, bz_go_func_name(k),
				      want, info[i].funcs[k].n_rets);
			assert_true(want >= 1);
			assert_int_equal(info[i].funcs[k].n_rets, want);
		}
}

/* DWARF of the unstripped builds equals the table row of that version
 * (which proves the table), and the stripped builds get that row. */
static void test_offsets_dwarf_and_table(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i += 2) {
		const struct bz_go_binary *full = &info[i], *bare = &info[i + 1];
		const struct bz_go_offsets_row *row = bz_go_offsets_for(1, bins[i].minor);

		assert_int_equal(full->offsets_from, BZ_GO_OFFS_DWARF);
		assert_int_equal(bare->offsets_from, BZ_GO_OFFS_TABLE);
		assert_non_null(row);
		for (int f = 0; f < BZ_GOO_MAX; f++) {
			print_message("%s %s = %lld\n", bins[i].name, bz_go_field_name(f),
				      (long long)full->offsets[f]);
			assert_int_equal(full->offsets[f], row->offsets[f]);
			assert_int_equal(bare->offsets[f], row->offsets[f]);
			/* every field exists, except parentGoid before Go 1.21 */
			if (f == BZ_GOO_G_PARENT_GOID && bins[i].minor < 21)
				assert_int_equal(full->offsets[f], -1);
			else
				assert_true(full->offsets[f] >= 0);
		}
	}
}

/* Rows are unique, parentGoid is there exactly from Go 1.21 on, and every
 * row is plausible for the versions no unit test builds with (a row left
 * without a field would read 0 there). */
static void test_table_rows(void **state)
{
	static const int aligned8[] = {
		BZ_GOO_REQ_URL, BZ_GOO_REQ_CONTENT_LENGTH, BZ_GOO_REQ_TLS,
		BZ_GOO_H2RWS_WROTE_BYTES, BZ_GOO_RESPONSE_WRITTEN,
	};

	assert_true(bz_go_offsets_table_len >= 2);
	for (size_t i = 0; i < bz_go_offsets_table_len; i++) {
		const struct bz_go_offsets_row *r = &bz_go_offsets_table[i];
		int major, minor;

		assert_int_equal(sscanf(r->version, "go%d.%d", &major, &minor), 2);
		assert_ptr_equal(bz_go_offsets_for(major, minor), r);
		assert_true(r->offsets[BZ_GOO_G_GOID] > 0);
		assert_int_equal(r->offsets[BZ_GOO_G_PARENT_GOID] >= 0, minor >= 21);
		/* the int64 and pointer fields are 8-byte aligned on amd64 */
		for (size_t k = 0; k < sizeof(aligned8) / sizeof(aligned8[0]); k++) {
			assert_true(r->offsets[aligned8[k]] >= 0);
			assert_int_equal(r->offsets[aligned8[k]] % 8, 0);
		}
		/* http.Request's exported fields in their documented order:
		 * Method URL Proto ProtoMajor ... ContentLength ... Host ...
		 * RemoteAddr RequestURI TLS */
		assert_true(r->offsets[BZ_GOO_REQ_PROTO_MAJOR] < r->offsets[BZ_GOO_REQ_CONTENT_LENGTH]);
		assert_true(r->offsets[BZ_GOO_REQ_CONTENT_LENGTH] < r->offsets[BZ_GOO_REQ_HOST]);
		assert_true(r->offsets[BZ_GOO_REQ_REQUEST_URI] < r->offsets[BZ_GOO_REQ_TLS]);
		/* wroteBytes and written are not the status next to them */
		assert_int_not_equal(r->offsets[BZ_GOO_H2RWS_WROTE_BYTES], r->offsets[BZ_GOO_H2RWS_STATUS]);
		assert_int_not_equal(r->offsets[BZ_GOO_RESPONSE_WRITTEN], r->offsets[BZ_GOO_RESPONSE_STATUS]);
	}
	assert_null(bz_go_offsets_for(1, 5));
	assert_null(bz_go_offsets_for(0, 0));
}

/* Go 1.17 and older linkers wrote .zdebug_* sections (GNU compression),
 * newer ones SHF_COMPRESSED; objcopy makes the other kinds from ours. */
static void test_dwarf_compression_kinds(void **state)
{
	static const char *const opts[] = { "--compress-debug-sections=zlib-gnu",
					    "--decompress-debug-sections" };

	need_binaries();
	for (size_t o = 0; o < 2; o++) {
		char out[600], cmd[1400], err[256];
		struct bz_go_binary b;

		snprintf(out, sizeof(out), "%s/dwarf-%zu", tmpdir, o);
		snprintf(cmd, sizeof(cmd), "objcopy %s '%s' '%s'", opts[o], paths[GO119], out);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(bz_goelf_inspect(out, &b, err, sizeof(err)), 0);
		assert_int_equal(b.offsets_from, BZ_GO_OFFS_DWARF);
		assert_memory_equal(b.offsets, info[GO119].offsets, sizeof(b.offsets));
	}
}

/* --- hostile files -------------------------------------------------------- */

static void test_not_go(void **state)
{
	char path[600], err[256];
	struct bz_go_binary b;
	FILE *f;

	need_binaries();
	assert_int_equal(bz_goelf_inspect("/bin/true", &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a Go executable"));
	assert_int_equal(b.offsets[BZ_GOO_G_GOID], -1);

	snprintf(path, sizeof(path), "%s/text", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho not an ELF file\n", f);
	fclose(f);
	assert_false(bz_goelf_is_go(path));
	assert_int_equal(bz_goelf_inspect(path, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an ELF"));

	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_false(bz_goelf_is_go(path));
	assert_int_equal(bz_goelf_inspect(path, &b, err, sizeof(err)), -EINVAL);

	assert_false(bz_goelf_is_go(tmpdir));
	assert_true(bz_goelf_inspect(tmpdir, &b, err, sizeof(err)) < 0);
	assert_int_equal(bz_goelf_inspect("/nonexistent/goserver", &b, err, sizeof(err)), -ENOENT);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *b;

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	b = malloc(st.st_size ? st.st_size : 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = st.st_size;
	return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Inspects a damaged file: an error with a reason, or an answer whose
 * missing parts say why and whose RETs lie inside the file.  Never a crash
 * (this file also runs under ASan and UBSan in `make sanitize`). */
static void inspect_damaged(const char *path, size_t file_len)
{
	struct bz_go_binary b;
	char err[256];
	int nfound = 0;

	(void)bz_goelf_is_go(path);
	if (bz_goelf_inspect(path, &b, err, sizeof(err))) {
		print_message("  -> error: %s\n", err);
		assert_true(err[0] != '\0');
		return;
	}
	for (int k = 0; k < BZ_GOF_MAX; k++)
		nfound += b.funcs[k].found;
	print_message("  -> %s, %d functions (%s), offsets from %d\n", b.go_version[0] ? b.go_version : "no version",
		      nfound, nfound < BZ_GOF_MAX ? b.funcs[0].why : "", b.offsets_from);
	for (int k = 0; k < BZ_GOF_MAX; k++) {
		if (!b.funcs[k].found || !b.funcs[k].n_rets)
			assert_true(b.funcs[k].why[0] != '\0');
		if (b.funcs[k].found)
			assert_true(b.funcs[k].entry + b.funcs[k].size <= file_len);
		for (uint32_t r = 0; r < b.funcs[k].n_rets; r++)
			assert_true(b.funcs[k].rets[r] < file_len);
	}
	for (int f = 0; f < BZ_GOO_MAX; f++)
		assert_true(b.offsets[f] >= -1 && b.offsets[f] < 1 << 20);
}

/* Cut copies.  Go writes its section headers at the start of the file, so a
 * cut file still describes sections that are no longer there. */
static void test_truncated(void **state)
{
	char path[600];

	need_binaries();
	snprintf(path, sizeof(path), "%s/cut", tmpdir);
	for (int i = 0; i < NBIN; i++) {
		size_t len;
		uint8_t *b = slurp(paths[i], &len);

		for (int cut = 0; cut <= 20; cut++) {
			size_t keep = cut == 20 ? len - 1 : cut == 0 ? 64 : cut == 1 ? 1000 : len / 20 * cut;

			spit(path, b, keep);
			inspect_damaged(path, keep);
		}
		free(b);
	}
}

/* Index of the section header called name. */
static size_t shdr_index(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY);
	Elf_Scn *scn = NULL;
	size_t shstrndx, idx = 0;
	Elf *e;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		assert_non_null(gelf_getshdr(scn, &sh));
		if (!strcmp(elf_strptr(e, shstrndx, sh.sh_name), name))
			idx = elf_ndxscn(scn);
	}
	elf_end(e);
	close(fd);
	assert_true(idx > 0);
	return idx;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Where a field of a section header (ELF64: sh_addr +0x10, sh_offset +0x18,
 * sh_size +0x20, sh_link +0x28, sh_entsize +0x38) is in the file. */
static size_t shdr_field(const uint8_t *b, size_t idx, size_t field)
{
	return get_le(b + 0x28, 8) + idx * 64 + field;
}

/* One damage: where (in a section, or absolute when sec is NULL), what. */
struct damage {
	const char *what;
	const char *sec;
	uint64_t at;
	uint64_t value;
	int n;
};

static void apply_damages(int which, const struct damage *d, size_t nd)
{
	char path[600];
	size_t len;
	uint8_t *orig = slurp(paths[which], &len), *b = malloc(len);

	assert_non_null(b);
	snprintf(path, sizeof(path), "%s/damaged", tmpdir);
	for (size_t i = 0; i < nd; i++) {
		uint64_t at = d[i].at;

		memcpy(b, orig, len);
		if (d[i].sec) {
			size_t idx = shdr_index(paths[which], d[i].sec);
			at += get_le(b + shdr_field(b, idx, 0x18), 8);
		}
		print_message("%s: %s\n", bins[which].name, d[i].what);
		assert_true(at + d[i].n <= len);
		put_le(b + at, d[i].value, d[i].n);
		spit(path, b, len);
		inspect_damaged(path, len);
	}
	free(b);
	free(orig);
}

/* The stripped build, which depends on .gopclntab and the table, with its
 * Go tables damaged in place. */
static void test_corrupted_go_tables(void **state)
{
	size_t plen;
	uint8_t *tab;
	uint64_t functab, funcname;

	need_binaries();
	tab = section(paths[GO126_STRIPPED], ".gopclntab", &plen, NULL, NULL);
	functab = get_le(tab + 8 + 7 * 8, 8);
	funcname = get_le(tab + 8 + 3 * 8, 8);
	free(tab);
	const struct damage d[] = {
		{ "pclntab magic", ".gopclntab", 0, 0, 1 },
		{ "pointer size 3", ".gopclntab", 7, 3, 1 },
		{ "nfunc 2^64-1", ".gopclntab", 8, UINT64_MAX, 8 },
		{ "nfunc 2^28", ".gopclntab", 8, 1u << 28, 8 },
		{ "text start 0", ".gopclntab", 8 + 2 * 8, 0, 8 },
		{ "funcname offset huge", ".gopclntab", 8 + 3 * 8, 0xfffffff0, 8 },
		{ "pcln offset huge", ".gopclntab", 8 + 7 * 8, INT64_MAX, 8 },
		{ "pcln offset 0", ".gopclntab", 8 + 7 * 8, 0, 8 },
		{ "entry out of order", ".gopclntab", functab + 8 * 1000, 0xffffffff, 4 },
		{ "funcOff huge", ".gopclntab", functab + 8 * 1000 + 4, 0xffffffff, 4 },
		{ "names wiped", ".gopclntab", funcname, UINT64_MAX, 8 },
		{ "last bytes not NUL", ".gopclntab", plen - 8, 0x7878787878787878ull, 8 },
		{ "version length huge", ".go.buildinfo", 32, 0x0fffffffffull, 5 },
		{ "endless varint", ".go.buildinfo", 32, 0x8080808080808080ull, 8 },
		{ "pointer-format flag", ".go.buildinfo", 15, 0, 1 },
		{ "buildinfo magic", ".go.buildinfo", 0, 0, 1 },
	};

	apply_damages(GO126_STRIPPED, d, sizeof(d) / sizeof(d[0]));
}

/* Headers that point outside the file, on both Go 1.26 builds. */
static void test_corrupted_headers(void **state)
{
	need_binaries();
	for (int which = GO126; which <= GO126_STRIPPED; which++) {
		size_t len, nd = 0;
		uint8_t *b = slurp(paths[which], &len);
		uint64_t phoff = get_le(b + 0x20, 8);
		/* the program header of the code: PT_LOAD (1) with PF_X (1) */
		while (phoff + 56 <= len && !(get_le(b + phoff, 4) == 1 && (get_le(b + phoff + 4, 4) & 1)))
			phoff += 56;
		size_t pcln = shdr_index(paths[which], ".gopclntab");
		size_t text = shdr_index(paths[which], ".text");
		size_t bi = shdr_index(paths[which], ".go.buildinfo");
		struct damage d[20] = {
			{ "pclntab size huge", NULL, shdr_field(b, pcln, 0x20), 1ull << 40, 8 },
			{ "pclntab offset past the end", NULL, shdr_field(b, pcln, 0x18), len + 100, 8 },
			{ "text address 0", NULL, shdr_field(b, text, 0x10), 0, 8 },
			{ "buildinfo size 5", NULL, shdr_field(b, bi, 0x20), 5, 8 },
			{ "code segment file size 16", NULL, phoff + 0x20, 16, 8 },
			{ "code segment offset huge", NULL, phoff + 0x08, 1ull << 62, 8 },
			{ "section headers past the end", NULL, 0x28, len, 8 },
			{ "section count 0xffff", NULL, 0x3c, 0xffff, 2 },
		};

		while (d[nd].what)
			nd++;
		if (which == GO126) {
			size_t symtab = shdr_index(paths[which], ".symtab");
			size_t dinfo = shdr_index(paths[which], ".debug_info");
			uint64_t info_off = get_le(b + shdr_field(b, dinfo, 0x18), 8);
			const struct damage more[] = {
				{ "symtab size huge", NULL, shdr_field(b, symtab, 0x20), 1ull << 40, 8 },
				{ "symtab entsize 0", NULL, shdr_field(b, symtab, 0x38), 0, 8 },
				{ "symtab strings link 999", NULL, shdr_field(b, symtab, 0x28), 999, 4 },
				{ "debug_info size huge", NULL, shdr_field(b, dinfo, 0x20), 1ull << 40, 8 },
				{ "debug_info compressed bytes", NULL, info_off + 40, 0x5a5a5a5a5a5a5a5aull, 8 },
				{ "debug_info claims 4 GiB", NULL, info_off + 8, 1ull << 32, 8 },
			};
			memcpy(d + nd, more, sizeof(more));
			nd += sizeof(more) / sizeof(more[0]);
		}
		apply_damages(which, d, nd);
		free(b);
	}
}

/* --- the parsers on synthetic bytes --------------------------------------- */

/* A Go 1.20 table with two functions "a.f" (0x1000..0x1040) and "b.g"
 * (0x1040..0x1100), text at 0x1000. */
static size_t synth_pclntab(uint8_t *t, size_t cap)
{
	const uint64_t funcname = 80, functab = 96;
	memset(t, 0, cap);
	put_le(t, 0xfffffff1, 4);
	t[6] = 1;
	t[7] = 8;
	put_le(t + 8, 2, 8);               /* nfunc */
	put_le(t + 8 + 2 * 8, 0x1000, 8);  /* textStart */
	put_le(t + 8 + 3 * 8, funcname, 8);
	put_le(t + 8 + 7 * 8, functab, 8);
	memcpy(t + funcname, "a.f\0b.g\0", 8);
	put_le(t + functab, 0, 4);         /* entry 0, _func at +20 */
	put_le(t + functab + 4, 20, 4);
	put_le(t + functab + 8, 0x40, 4);  /* entry 0x40, _func at +28 */
	put_le(t + functab + 12, 28, 4);
	put_le(t + functab + 16, 0x100, 4); /* end */
	put_le(t + functab + 20, 0, 4);    /* _func: entryOff, nameOff */
	put_le(t + functab + 24, 0, 4);
	put_le(t + functab + 28, 0x40, 4);
	put_le(t + functab + 32, 4, 4);
	return functab + 36;
}

static void test_pclntab_synthetic(void **state)
{
	const char *names[] = { "b.g", "a.f", "c.h", "a" };
	struct bz_pcln_func pf[4];
	uint8_t t[256];
	char err[96];
	size_t len = synth_pclntab(t, sizeof(t));

	assert_int_equal(bz_pclntab_lookup(t, len, 0, names, 4, pf, err, sizeof(err)), 0);
	assert_true(pf[0].found && pf[0].vaddr == 0x1040 && pf[0].size == 0xc0);
	assert_true(pf[1].found && pf[1].vaddr == 0x1000 && pf[1].size == 0x40);
	assert_false(pf[2].found);
	assert_false(pf[3].found); /* a prefix is not a name */

	/* every cut of the table: an error or fewer names, never a read past it */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);
		assert_non_null(c);
		memcpy(c, t, cut);
		(void)bz_pclntab_lookup(c, cut, 0, names, 4, pf, err, sizeof(err));
		free(c);
	}
	assert_int_equal(bz_pclntab_lookup(NULL, 0, 0, names, 4, pf, err, sizeof(err)), -EINVAL);
	/* hostile header values */
	put_le(t + 8, UINT64_MAX, 8);
	assert_int_equal(bz_pclntab_lookup(t, len, 0, names, 4, pf, err, sizeof(err)), -EINVAL);
	put_le(t + 8, 0, 8);
	assert_int_equal(bz_pclntab_lookup(t, len, 0, names, 4, pf, err, sizeof(err)), -EINVAL);
	put_le(t + 8, 2, 8);
	put_le(t + 8 + 7 * 8, 0xffffffffffffff00ull, 8);
	assert_int_equal(bz_pclntab_lookup(t, len, 0, names, 4, pf, err, sizeof(err)), -EINVAL);
	put_le(t + 8 + 7 * 8, 96, 8);
	put_le(t + 96 + 24, 0x80000000u, 4); /* negative nameOff: that function is skipped */
	assert_int_equal(bz_pclntab_lookup(t, len, 0, names, 4, pf, err, sizeof(err)), 0);
	assert_false(pf[1].found);
	assert_true(pf[0].found);
	put_le(t + 96 + 12, 0x7fffffff, 4); /* funcOff past the end */
	assert_int_equal(bz_pclntab_lookup(t, len, 0, names, 4, pf, err, sizeof(err)), 0);
	assert_false(pf[0].found);
	t[0] = 0xfb; /* unknown magic */
	assert_int_equal(bz_pclntab_lookup(t, len, 0, names, 4, pf, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "magic"));
}

/* The Go 1.16-1.17 layout: no text start, word-sized absolute entries. */
static void test_pclntab_go116(void **state)
{
	const char *names[] = { "b.g", "a.f" };
	struct bz_pcln_func pf[2];
	uint8_t t[256] = { 0 };
	char err[96];
	const uint64_t funcname = 72, functab = 88;

	put_le(t, 0xfffffffa, 4);
	t[6] = 1;
	t[7] = 8;
	put_le(t + 8, 2, 8);
	put_le(t + 8 + 2 * 8, funcname, 8);
	put_le(t + 8 + 6 * 8, functab, 8);
	memcpy(t + funcname, "a.f\0b.g\0", 8);
	put_le(t + functab, 0x401000, 8);
	put_le(t + functab + 8, 40, 8);
	put_le(t + functab + 16, 0x401080, 8);
	put_le(t + functab + 24, 52, 8);
	put_le(t + functab + 32, 0x401200, 8);
	put_le(t + functab + 40, 0x401000, 8); /* _func a.f: entry, nameOff 0 */
	put_le(t + functab + 48, 0, 4);
	put_le(t + functab + 52, 0x401080, 8); /* _func b.g */
	put_le(t + functab + 60, 4, 4);
	assert_int_equal(bz_pclntab_lookup(t, functab + 64, 0x999000, names, 2, pf, err, sizeof(err)), 0);
	assert_true(pf[0].found && pf[0].vaddr == 0x401080 && pf[0].size == 0x180);
	assert_true(pf[1].found && pf[1].vaddr == 0x401000 && pf[1].size == 0x80);
}

static void test_rets_synthetic(void **state)
{
	static struct bz_go_func f; /* big: not on the stack */
	uint8_t code[200];

	/* mov rax, rbx; ret; int3 int3 */
	assert_int_equal(bz_gorets_scan((const uint8_t *)"\x48\x89\xd8\xc3\xcc\xcc", 6, 1000, &f), 0);
	assert_int_equal(f.n_rets, 1);
	assert_int_equal(f.rets[0], 1003);
	/* a 0xC3 inside an instruction (mov eax, 0xc3) is not a RET */
	assert_int_equal(bz_gorets_scan((const uint8_t *)"\xb8\xc3\x00\x00\x00\xc3", 6, 0, &f), 0);
	assert_int_equal(f.n_rets, 1);
	assert_int_equal(f.rets[0], 5);
	/* no RET at all */
	assert_int_equal(bz_gorets_scan((const uint8_t *)"\x90\x90", 2, 0, &f), 0);
	assert_int_equal(f.n_rets, 0);
	assert_non_null(strstr(f.why, "no RET"));
	/* an undecodable byte (0x06 is invalid in 64-bit mode): no probes */
	assert_int_equal(bz_gorets_scan((const uint8_t *)"\xc3\x06\xc3", 3, 0, &f), -EINVAL);
	assert_int_equal(f.n_rets, 0);
	assert_non_null(strstr(f.why, "+0x1"));
	/* more RETs than fit: none rather than some */
	memset(code, 0xc3, sizeof(code));
	assert_int_equal(bz_gorets_scan(code, BZ_GO_MAX_RETS, 0, &f), 0);
	assert_int_equal(f.n_rets, BZ_GO_MAX_RETS);
	assert_int_equal(bz_gorets_scan(code, BZ_GO_MAX_RETS + 1, 0, &f), -EINVAL);
	assert_int_equal(f.n_rets, 0);
	assert_non_null(strstr(f.why, "more than"));
	/* a cut instruction at the end (mov eax, imm32 without its bytes) */
	assert_int_equal(bz_gorets_scan((const uint8_t *)"\xc3\xb8\x01", 3, 0, &f), -EINVAL);
}

/* A synthetic Read: prologue (Go >= 1.21 or older), a spill of RAX, then
 * calls to callee.  Returns its length. */
static size_t copy_code(uint8_t *c, bool old_prologue, int spill_disp, int ncalls, uint64_t vaddr, uint64_t callee)
{
	size_t n = 0;

	if (old_prologue) {
		/* sub rsp,0x68; mov [rsp+0x60],rbp; lea rbp,[rsp+0x60] */
		memcpy(c + n, "\x48\x83\xec\x68\x48\x89\x6c\x24\x60\x48\x8d\x6c\x24\x60", 14);
		n += 14;
	} else {
		/* push rbp; mov rbp,rsp; sub rsp,0x58 */
		memcpy(c + n, "\x55\x48\x89\xe5\x48\x83\xec\x58", 8);
		n += 8;
	}
	/* mov [rsp+disp8],rax */
	memcpy(c + n, "\x48\x89\x44\x24", 4);
	n += 4;
	c[n++] = (uint8_t)spill_disp;
	for (int i = 0; i < ncalls; i++) {
		int32_t rel = (int32_t)(callee - (vaddr + n + 5));
		c[n++] = 0xe8;
		memcpy(c + n, &rel, 4);
		n += 4;
	}
	c[n++] = 0xc3;
	return n;
}

/* bz_gocopy_scan on code whose every property is known. */
static void test_copy_synthetic(void **state)
{
	static struct bz_go_func f;
	uint8_t c[128];
	size_t n;

	/* Go >= 1.21: the receiver at entry RSP + 8 = RSP + 0x58 + 8 + 8 */
	n = copy_code(c, false, 0x68, 1, 0x1000, 0x2000);
	assert_int_equal(bz_gocopy_scan(c, n, 500, 0x1000, 0x2000, &f), 0);
	assert_int_equal(f.copy_call, 500 + 13);
	/* older Go: SUB/MOV/LEA, the receiver at RSP + 0x68 + 8 */
	n = copy_code(c, true, 0x70, 1, 0x1000, 0x2000);
	assert_int_equal(bz_gocopy_scan(c, n, 0, 0x1000, 0x2000, &f), 0);
	assert_int_equal(f.copy_call, 19);
	/* the receiver stored elsewhere: no probe */
	n = copy_code(c, false, 0x60, 1, 0x1000, 0x2000);
	assert_int_equal(bz_gocopy_scan(c, n, 0, 0x1000, 0x2000, &f), 0);
	assert_int_equal(f.copy_call, 0);
	assert_non_null(strstr(f.copy_why, "spill slot"));
	/* two copies, or none (the callee is another function) */
	n = copy_code(c, false, 0x68, 2, 0x1000, 0x2000);
	assert_int_equal(bz_gocopy_scan(c, n, 0, 0x1000, 0x2000, &f), 0);
	assert_int_equal(f.copy_call, 0);
	assert_non_null(strstr(f.copy_why, "2 CALLs"));
	n = copy_code(c, false, 0x68, 1, 0x1000, 0x3000);
	assert_int_equal(bz_gocopy_scan(c, n, 0, 0x1000, 0x2000, &f), 0);
	assert_int_equal(f.copy_call, 0);
	assert_non_null(strstr(f.copy_why, "no CALL"));
	/* no frame pointer set */
	memcpy(c, "\x48\x83\xec\x58\x48\x89\x44\x24\x60\xe8\x00\x00\x00\x00\xc3", 15);
	assert_int_equal(bz_gocopy_scan(c, 15, 0, 0x1000, 0x100e, &f), 0);
	assert_int_equal(f.copy_call, 0);
	assert_non_null(strstr(f.copy_why, "frame pointer"));
	/* undecodable: no probe */
	assert_int_equal(bz_gocopy_scan((const uint8_t *)"\x06", 1, 0, 0x1000, 0x2000, &f), 0);
	assert_int_equal(f.copy_call, 0);
	assert_non_null(strstr(f.copy_why, "does not decode"));
}

/* In the real builds, crypto/tls.(*Conn).Read's copy is found, is a CALL
 * (0xE8) whose target is runtime.memmove, and stripped or not agree. */
static void test_copy_call_real(void **state)
{
	need_binaries();
	for (int i = 0; i < NBIN; i++) {
		const struct bz_go_func *r = &info[i].funcs[BZ_GOF_TLS_READ], *m = &info[i].funcs[BZ_GOF_MEMMOVE];
		uint8_t b[5];
		int32_t rel;
		uint64_t call_vaddr;
		int fd = open(paths[i], O_RDONLY);

		print_message("%s: copy call at +0x%llx (%s)\n", bins[i].name,
			      (unsigned long long)(r->copy_call - r->entry), r->copy_why);
		assert_true(fd >= 0);
		assert_true(r->found && m->found);
		assert_true(r->copy_call > r->entry && r->copy_call < r->entry + r->size);
		assert_int_equal(pread(fd, b, 5, (off_t)r->copy_call), 5);
		close(fd);
		assert_int_equal(b[0], 0xe8);
		memcpy(&rel, b + 1, 4);
		call_vaddr = r->vaddr + (r->copy_call - r->entry);
		assert_int_equal(call_vaddr + 5 + (int64_t)rel, m->vaddr);
		if (i % 2)
			assert_int_equal(r->copy_call, info[i - 1].funcs[BZ_GOF_TLS_READ].copy_call);
	}
}

static void test_names(void **state)
{
	assert_string_equal(bz_go_func_name(BZ_GOF_NEWPROC1), "runtime.newproc1");
	assert_string_equal(bz_go_func_name(BZ_GOF_TLS_WRITE), "crypto/tls.(*Conn).Write");
	assert_string_equal(bz_go_field_name(BZ_GOO_G_GOID), "runtime.g.goid");
	assert_string_equal(bz_go_field_name(BZ_GOO_POLL_FD_SYSFD), "internal/poll.FD.Sysfd");
	assert_string_equal(bz_go_field_name(BZ_GOO_REQ_CONTENT_LENGTH), "net/http.Request.ContentLength");
	assert_string_equal(bz_go_field_name(BZ_GOO_REQ_TLS), "net/http.Request.TLS");
	assert_string_equal(bz_go_field_name(BZ_GOO_H2RWS_WROTE_BYTES),
			    "net/http.http2responseWriterState.wroteBytes");
	assert_string_equal(bz_go_field_name(BZ_GOO_RESPONSE_WRITTEN), "net/http.response.written");
	for (int i = 0; i < BZ_GOF_MAX; i++)
		assert_non_null(strchr(bz_go_func_name(i), '.'));
	for (int i = 0; i < BZ_GOO_MAX; i++)
		assert_non_null(strchr(bz_go_field_name(i), '.'));
	assert_string_equal(bz_go_func_name(-1), "?");
	assert_string_equal(bz_go_func_name(BZ_GOF_MAX), "?");
	assert_string_equal(bz_go_field_name(BZ_GOO_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_pclntab_synthetic),
		cmocka_unit_test(test_pclntab_go116),
		cmocka_unit_test(test_rets_synthetic),
		cmocka_unit_test(test_copy_synthetic),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_table_rows),
	};
	const struct CMUnitTest real[] = {
		cmocka_unit_test(test_is_go),
		cmocka_unit_test(test_version_and_module),
		cmocka_unit_test(test_functions_stripped_equal_unstripped),
		cmocka_unit_test(test_pclntab_matches_symtab),
		cmocka_unit_test(test_rets_are_ret_bytes),
		cmocka_unit_test(test_probe_entry_emulated),
		cmocka_unit_test(test_copy_call_real),
		cmocka_unit_test(test_rets_match_objdump),
		cmocka_unit_test(test_offsets_dwarf_and_table),
		cmocka_unit_test(test_dwarf_compression_kinds),
		cmocka_unit_test(test_not_go),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupted_go_tables),
		cmocka_unit_test(test_corrupted_headers),
	};
	int f1 = cmocka_run_group_tests_name("goelf_parsers", pure, NULL, NULL);
	int f2 = cmocka_run_group_tests_name("goelf_binaries", real, group_setup, group_teardown);

	return f1 || f2;
}
