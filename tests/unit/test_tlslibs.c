/* test_tlslibs.c - the recorder's look for a target's TLS library
 * (record/tlslibs.c): file names, /proc/PID/maps text, the dynamic symbols
 * of ELF files built here with the C compiler (one defining OpenSSL's
 * SSL_read and SSL_write as a statically linked copy would, one merely
 * calling them, and the others' APIs), a Go test server, and this very
 * process before and after it loads a library named like wolfSSL's. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
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
#include <gelf.h>
#include <libelf.h>

#include "analyze/tls_libs.h"
#include "record/capture_format.h"
#include "record/capture_writer.h"
#include "record/tlslibs.h"

static unsigned of_name(const char *s) { return tlslibs_lib_of_name(s, strlen(s)); }

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(of_name("libssl.so.3"), BZ_TLS_OPENSSL);
	assert_int_equal(of_name("libssl.so.1.1"), BZ_TLS_OPENSSL);
	assert_int_equal(of_name("libssl.so"), BZ_TLS_OPENSSL);
	assert_int_equal(of_name("libssl-8bbf5d6d.so.3"), BZ_TLS_OPENSSL); /* a vendored copy */
	assert_int_equal(of_name("libssl3.so"), BZ_TLS_NSS);                /* not OpenSSL's */
	assert_int_equal(of_name("libnss3.so"), BZ_TLS_NSS);
	assert_int_equal(of_name("libgnutls.so.30"), BZ_TLS_GNUTLS);
	assert_int_equal(of_name("libgnutls.so.30.34.3"), BZ_TLS_GNUTLS);
	assert_int_equal(of_name("libwolfssl.so.35"), BZ_TLS_WOLFSSL);
	assert_int_equal(of_name("libmbedtls.so.14"), BZ_TLS_MBEDTLS);
	assert_int_equal(of_name("libboringssl.so"), BZ_TLS_BORINGSSL);
	/* near misses */
	assert_int_equal(of_name("libcrypto.so.3"), BZ_TLS_NONE);
	assert_int_equal(of_name("libsslx.so"), BZ_TLS_NONE);
	assert_int_equal(of_name("libssl"), BZ_TLS_NONE);
	assert_int_equal(of_name("libgnutls-dane.so.0"), BZ_TLS_NONE);
	assert_int_equal(of_name("libgnutlsxx.so.30"), BZ_TLS_NONE);
	assert_int_equal(of_name("libmbedcrypto.so.7"), BZ_TLS_NONE);
	assert_int_equal(of_name("libnss_files.so.2"), BZ_TLS_NONE);
	assert_int_equal(of_name(""), BZ_TLS_NONE);
}

static void test_maps(void **state)
{
	static const char maps[] =
		"55d0c0a00000-55d0c0a2c000 r--p 00000000 08:01 1311 /usr/sbin/nginx\n"
		"7f1c0c000000-7f1c0c021000 rw-p 00000000 00:00 0 \n"
		"7f1c0d400000-7f1c0d4a0000 r--p 00000000 08:01 2002 /usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3\n"
		"7f1c0d4a0000-7f1c0d5f0000 r-xp 000a0000 08:01 2002 /usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3\n"
		"7f1c0e000000-7f1c0e1a0000 r--p 00000000 08:01 2003 /usr/lib/x86_64-linux-gnu/libcrypto.so.3\n"
		"7f1c0e600000-7f1c0e620000 r--p 00000000 08:01 2004 /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
		"7f1c0e620000-7f1c0e680000 r-xp 00020000 08:01 2004 /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
		"7f1c0e700000-7f1c0e701000 r--p 00000000 08:01 2005 /opt/app/lib dir/libssl.so.1.1 (deleted)\n"
		"7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0                          [stack]\n"
		"7f1c0e800000-7f1c0e801000 r--p 00000000 08:01 2006 /usr/lib/libwolfssl.so.35";
	struct tlslibs t = { 0 };

	(void)state;
	tlslibs_from_maps(maps, sizeof(maps) - 1, &t);
	/* each file once, in id order (the order the analyzer attributes by) */
	assert_int_equal(t.n, 4);
	assert_int_equal(t.l[0].lib, BZ_TLS_OPENSSL);
	assert_string_equal(t.l[0].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	assert_int_equal(t.l[0].source, BZ_TLS_SRC_MAPPED);
	assert_int_equal(t.l[1].lib, BZ_TLS_OPENSSL);
	assert_string_equal(t.l[1].path, "/opt/app/lib dir/libssl.so.1.1 (deleted)");
	assert_int_equal(t.l[2].lib, BZ_TLS_GNUTLS);
	assert_int_equal(t.l[3].lib, BZ_TLS_WOLFSSL); /* the last line has no newline */
	assert_string_equal(t.l[3].path, "/usr/lib/libwolfssl.so.35");
	/* full: more are ignored; nothing in an empty or path-less text */
	tlslibs_from_maps("1-2 r--p 0 0:0 1 /lib/libmbedtls.so.14\n", 39, &t);
	assert_int_equal(t.n, TLSLIBS_MAX);
	struct tlslibs e = { 0 };
	tlslibs_from_maps("", 0, &e);
	tlslibs_from_maps("\n\n[heap]\n", 9, &e);
	assert_int_equal(e.n, 0);
}

/* Maps text read in chunks: a line across a chunk's end, a line longer
 * than a chunk (skipped, though it ends like a TLS library's). */
static void test_maps_chunks(void **state)
{
	char path[] = "/tmp/test_tlslibs.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct tlslibs t = { 0 };
	size_t at = 0;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	/* filler up to a few bytes before 16384, then libssl's line across it */
	while (at < 16384 - 40) {
		int n = fprintf(f, "%012zx-%012zx r--p 00000000 08:01 77 /usr/lib/libfiller.so.1\n", at, at + 1);
		at += (size_t)n;
	}
	fprintf(f, "7f1c0e600000-7f1c0e620000 r--p 00000000 08:01 2004 /usr/lib/x86_64-linux-gnu/libssl.so.3\n");
	fputs("7f1c0f000000-7f1c0f001000 r--p 00000000 08:01 9 /", f);
	for (int i = 0; i < 40000; i++)
		fputc('d', f);
	fputs("/libwolfssl.so.35\n", f);
	fputs("7f1c0f100000-7f1c0f101000 r--p 00000000 08:01 10 /usr/lib/libgnutls.so.30\n", f);
	fflush(f);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(tlslibs_from_maps_fd(fd, &t), 0);
	fclose(f);
	unlink(path);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.l[0].lib, BZ_TLS_OPENSSL);
	assert_string_equal(t.l[0].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	assert_int_equal(t.l[1].lib, BZ_TLS_GNUTLS);
	assert_int_equal(tlslibs_from_maps_fd(-1, &t), -EBADF);
}

/* Builds a shared object from C source with the system's C compiler, as
 * /tmp/test_tlslibs.PID.NAME.so, or as /tmp/test_tlslibs.PID/FILE when
 * file is given; returns its path (static storage: copy it). */
static const char *build_so(const char *name, const char *src, const char *file)
{
	static char path[256];
	char c[256], cmd[768];
	FILE *f;

	snprintf(c, sizeof(c), "/tmp/test_tlslibs.%d.%s.c", (int)getpid(), name);
	if (file) {
		snprintf(path, sizeof(path), "/tmp/test_tlslibs.%d", (int)getpid());
		assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
		snprintf(path, sizeof(path), "/tmp/test_tlslibs.%d/%s", (int)getpid(), file);
	} else {
		snprintf(path, sizeof(path), "/tmp/test_tlslibs.%d.%s.so", (int)getpid(), name);
	}
	f = fopen(c, "w");
	assert_non_null(f);
	fputs(src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "${CC:-cc} -shared -fPIC -o %s %s 2>&1", path, c);
	assert_int_equal(system(cmd), 0);
	unlink(c);
	return path;
}

static unsigned elf_lib_of(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e;
	unsigned lib;

	assert_true(fd >= 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(e);
	lib = tlslibs_from_elf(e);
	elf_end(e);
	close(fd);
	return lib;
}

static void test_elf_dynsym(void **state)
{
	static const struct { const char *name, *src; unsigned want; } cases[] = {
		/* OpenSSL linked in and exported, as Node does */
		{ "openssl", "int SSL_read(void *s, void *b, int n) { return n; }\n"
			     "int SSL_write(void *s, const void *b, int n) { return n; }\n", BZ_TLS_OPENSSL },
		{ "boringssl", "int SSL_read(void *s, void *b, int n) { return n; }\n"
			       "int SSL_write(void *s, const void *b, int n) { return n; }\n"
			       "int BORINGSSL_self_test(void) { return 1; }\n", BZ_TLS_BORINGSSL },
		/* a program calling OpenSSL: the symbols are undefined here */
		{ "caller", "int SSL_read(void *, void *, int); int SSL_write(void *, const void *, int);\n"
			    "int f(void) { return SSL_read(0, 0, 0) + SSL_write(0, 0, 0); }\n", BZ_TLS_NONE },
		/* half of the API is not OpenSSL's */
		{ "half", "int SSL_read(void *s, void *b, int n) { return n; }\n", BZ_TLS_NONE },
		{ "gnutls", "long gnutls_record_recv(void *s, void *b, unsigned long n) { return 0; }\n",
		  BZ_TLS_GNUTLS },
		{ "wolfssl", "int wolfSSL_read(void *s, void *b, int n) { return n; }\n", BZ_TLS_WOLFSSL },
		{ "mbedtls", "int mbedtls_ssl_read(void *s, unsigned char *b, unsigned long n) { return 0; }\n",
		  BZ_TLS_MBEDTLS },
		{ "nss", "void *SSL_ImportFD(void *m, void *fd) { return fd; }\n", BZ_TLS_NSS },
		/* a name that only begins like one */
		{ "prefix", "int SSL_reader(void) { return 0; }\nint SSL_writer(void) { return 0; }\n", BZ_TLS_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s", build_so(cases[i].name, cases[i].src, NULL));
		unsigned got = elf_lib_of(path);
		if (got != cases[i].want)
			fail_msg("%s: got %u, want %u", cases[i].name, got, cases[i].want);
		unlink(path);
	}
	/* not ELF, and no ELF at all */
	assert_int_equal(tlslibs_from_elf(NULL), BZ_TLS_NONE);
	char junk[64] = "not an ELF file at all";
	Elf *e = elf_memory(junk, sizeof(junk));
	assert_int_equal(tlslibs_from_elf(e), BZ_TLS_NONE);
	elf_end(e);
}

static void test_go_binary(void **state)
{
	(void)state;
	/* make unit builds it (scripts/build_go_servers.sh) */
	assert_int_equal(access("build/go/goserver-go1.26", R_OK), 0);
	assert_int_equal(elf_lib_of("build/go/goserver-go1.26"), BZ_TLS_GO);
	assert_int_equal(elf_lib_of("build/go/goserver-go1.19-stripped"), BZ_TLS_GO);
}

/* The options tlslibs_write appended, decoded as the analyzer does. */
static void decode(const struct bz_buf *b, struct bz_tls_libs *t)
{
	size_t off = 0;

	memset(t, 0, sizeof(*t));
	while (off + 8 <= b->len) {
		uint16_t code = (uint16_t)(b->data[off] | b->data[off + 1] << 8);
		uint32_t n = (uint32_t)b->data[off + 4] | (uint32_t)b->data[off + 5] << 8 |
			     (uint32_t)b->data[off + 6] << 16 | (uint32_t)b->data[off + 7] << 24;
		assert_true(off + 8 + n <= b->len);
		assert_int_equal(code, BZ_PR_TLS_LIB);
		bz_tls_libs_add(t, b->data + off + 8, n);
		off += 8 + n;
	}
	assert_int_equal(off, b->len);
}

static int has_lib(const struct bz_tls_libs *t, unsigned lib, const char *path)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->l[i].lib == lib && t->l[i].source == BZ_TLS_SRC_MAPPED && !strcmp(t->l[i].path, path))
			return 1;
	return 0;
}

static void test_this_process(void **state)
{
	struct bz_buf b = { 0 };
	struct bz_tls_libs t;
	char path[256];
	void *lib;

	(void)state;
	/* a library named like wolfSSL's, which nothing here maps yet */
	snprintf(path, sizeof(path), "%s", build_so("wolf", "int wolfSSL_read(void *s, void *b, int n) { return n; }\n",
						    "libwolfssl.so.99"));
	assert_int_equal(tlslibs_write(getpid(), 1u << BZ_TLS_GO, &b), 0);
	decode(&b, &t);
	assert_true(t.scanned);
	assert_false(has_lib(&t, BZ_TLS_WOLFSSL, path));
	bz_buf_reset(&b);
	/* loaded later, as Python's `import ssl` loads libssl: only a later scan sees it */
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(lib);
	assert_int_equal(tlslibs_write(getpid(), 1u << BZ_TLS_GO, &b), 0);
	decode(&b, &t);
	assert_true(has_lib(&t, BZ_TLS_WOLFSSL, path));
	dlclose(lib);
	unlink(path);
	snprintf(path, sizeof(path), "/tmp/test_tlslibs.%d", (int)getpid());
	rmdir(path);
	bz_buf_free(&b);

	/* an OpenSSL-named library: PROBEABLE always (this recorder has
	 * probes for it), PROBED when the OpenSSL probes are on */
	snprintf(path, sizeof(path), "%s", build_so("ossl", "int SSL_read(void *s, void *b, int n) { return n; }\n",
						    "libssl.so.99"));
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(lib);
	for (int on = 0; on < 2; on++) {
		bz_buf_reset(&b);
		assert_int_equal(tlslibs_write(getpid(), on ? 1u << BZ_TLS_OPENSSL : 1u << BZ_TLS_GO, &b), 0);
		decode(&b, &t);
		int seen = 0;
		for (unsigned i = 0; i < t.n; i++)
			if (t.l[i].lib == BZ_TLS_OPENSSL && !strcmp(t.l[i].path, path)) {
				seen = 1;
				assert_true(t.l[i].flags & BZ_TLS_F_PROBEABLE);
				assert_int_equal(!!(t.l[i].flags & BZ_TLS_F_PROBED), on);
			}
		assert_true(seen);
	}
	dlclose(lib);
	unlink(path);
	snprintf(path, sizeof(path), "/tmp/test_tlslibs.%d", (int)getpid());
	rmdir(path);
	bz_buf_free(&b);

	/* a process that is gone: an error, and nothing written */
	assert_int_equal(tlslibs_write(0x7ffffff0, 0, &b), -ENOENT);
	assert_int_equal(b.len, 0);
	bz_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_maps),
		cmocka_unit_test(test_maps_chunks),
		cmocka_unit_test(test_elf_dynsym),
		cmocka_unit_test(test_go_binary),
		cmocka_unit_test(test_this_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
