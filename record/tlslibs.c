/* tlslibs.c - find a target's TLS library (tlslibs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>
#include "record/capture_format.h"
#include "record/tlslibs.h"

#define MAPS_CHUNK 16384 /* longer than any maps line (a path is at most 4096) */
#define EXE_CACHE 32

static int has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && !memcmp(s, prefix, k);
}

unsigned tlslibs_lib_of_name(const char *name, size_t len)
{
	/* NSS's libssl3.so first: it also begins with "libssl" */
	if (has_prefix(name, len, "libssl3.so") || has_prefix(name, len, "libnss3.so"))
		return BZ_TLS_NSS;
	/* libssl.so.3, libssl.so.1.1; vendored copies are named libssl-<hash>.so.* */
	if (has_prefix(name, len, "libssl.so") || has_prefix(name, len, "libssl-"))
		return BZ_TLS_OPENSSL;
	if (has_prefix(name, len, "libboringssl"))
		return BZ_TLS_BORINGSSL;
	if (has_prefix(name, len, "libgnutls.so"))
		return BZ_TLS_GNUTLS;
	if (has_prefix(name, len, "libwolfssl"))
		return BZ_TLS_WOLFSSL;
	if (has_prefix(name, len, "libmbedtls"))
		return BZ_TLS_MBEDTLS;
	return BZ_TLS_NONE;
}

void tlslibs_add(struct tlslibs *t, unsigned lib, unsigned source, unsigned flags, const char *path,
		 size_t len)
{
	int at;

	if (len >= TLSLIBS_PATH_MAX)
		len = TLSLIBS_PATH_MAX - 1;
	for (int i = 0; i < t->n; i++)
		if (t->l[i].lib == lib && strlen(t->l[i].path) == len && !memcmp(t->l[i].path, path, len))
			return;
	if (t->n >= TLSLIBS_MAX)
		return;
	/* kept in id order, which is the order the analyzer attributes by */
	for (at = t->n; at > 0 && t->l[at - 1].lib > lib; at--)
		t->l[at] = t->l[at - 1];
	t->l[at].lib = lib;
	t->l[at].source = source;
	t->l[at].flags = flags;
	memcpy(t->l[at].path, path, len);
	t->l[at].path[len] = 0;
	t->n++;
}

/* A maps line: "start-end perms offset dev inode   /path/of/file"; the
 * first '/' begins the path (the fields before it hold none). */
static void maps_line(const char *s, size_t n, struct tlslibs *out)
{
	const char *path = memchr(s, '/', n), *base;
	size_t plen;
	unsigned lib;

	if (!path)
		return;
	plen = n - (size_t)(path - s);
	base = path + plen;
	while (base > path && base[-1] != '/')
		base--;
	lib = tlslibs_lib_of_name(base, plen - (size_t)(base - path));
	if (lib != BZ_TLS_NONE)
		tlslibs_add(out, lib, BZ_TLS_SRC_MAPPED, 0, path, plen);
}

void tlslibs_from_maps(const char *text, size_t len, struct tlslibs *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		maps_line(p, (size_t)(e - p), out);
		p = e + 1;
	}
}

/* Does the string table data hold the NUL-terminated name at off? */
static int sym_is(const Elf_Data *str, size_t off, const char *name, int prefix)
{
	size_t k = strlen(name);

	if (off >= str->d_size || str->d_size - off <= k)
		return 0;
	const char *s = (const char *)str->d_buf + off;
	return !memcmp(s, name, k) && (prefix || s[k] == 0);
}

/* The TLS library whose API the defined symbols of a .dynsym export. */
static unsigned from_dynsym(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *syms = elf_getdata(scn, NULL), *str;
	Elf_Scn *strscn = elf_getscn(e, sh->sh_link);
	size_t entsize = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT), n;
	int ssl_read = 0, ssl_write = 0, boring = 0, gnutls = 0, nss = 0, wolf = 0, mbed = 0;

	if (!syms || !syms->d_buf || !entsize || !strscn || !(str = elf_getdata(strscn, NULL)) || !str->d_buf)
		return BZ_TLS_NONE;
	n = syms->d_size / entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		if (!gelf_getsym(syms, (int)i, &s) || s.st_shndx == SHN_UNDEF || !s.st_name)
			continue;
		ssl_read |= sym_is(str, s.st_name, "SSL_read", 0);
		ssl_write |= sym_is(str, s.st_name, "SSL_write", 0);
		boring |= sym_is(str, s.st_name, "BORINGSSL_", 1);
		gnutls |= sym_is(str, s.st_name, "gnutls_record_recv", 0);
		nss |= sym_is(str, s.st_name, "SSL_ImportFD", 0);
		wolf |= sym_is(str, s.st_name, "wolfSSL_read", 0);
		mbed |= sym_is(str, s.st_name, "mbedtls_ssl_read", 0);
	}
	if (ssl_read && ssl_write)
		return boring ? BZ_TLS_BORINGSSL : BZ_TLS_OPENSSL;
	return gnutls ? BZ_TLS_GNUTLS : nss ? BZ_TLS_NSS : wolf ? BZ_TLS_WOLFSSL : mbed ? BZ_TLS_MBEDTLS
									    : BZ_TLS_NONE;
}

unsigned tlslibs_from_elf(Elf *e)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL, *dynsym = NULL;
	GElf_Shdr dynsh = { 0 };

	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx))
		return BZ_TLS_NONE;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh))
			continue;
		/* the section record/goelf.c tells Go executables by */
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".go.buildinfo"))
			return BZ_TLS_GO;
		if (sh.sh_type == SHT_DYNSYM && !dynsym) {
			dynsym = scn;
			dynsh = sh;
		}
	}
	return dynsym ? from_dynsym(e, dynsym, &dynsh) : BZ_TLS_NONE;
}

/* Executables already looked at: a server's workers, a fork storm and every
 * curl share one file, and Node's .dynsym holds 75 000 symbols.  Only the
 * recorder's one thread calls this. */
static struct {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned lib;
	int used;
} exe_cache[EXE_CACHE];
static unsigned exe_cache_next;

static unsigned exe_lib(int fd)
{
	struct stat st;
	unsigned lib = BZ_TLS_NONE;
	Elf *e;
	int i;

	if (fstat(fd, &st))
		return BZ_TLS_NONE;
	for (i = 0; i < EXE_CACHE; i++)
		if (exe_cache[i].used && exe_cache[i].dev == st.st_dev && exe_cache[i].ino == st.st_ino &&
		    exe_cache[i].size == st.st_size && exe_cache[i].mtime.tv_sec == st.st_mtim.tv_sec &&
		    exe_cache[i].mtime.tv_nsec == st.st_mtim.tv_nsec)
			return exe_cache[i].lib;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return BZ_TLS_NONE;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e) {
		lib = tlslibs_from_elf(e);
		elf_end(e);
	}
	i = (int)(exe_cache_next++ % EXE_CACHE);
	exe_cache[i].dev = st.st_dev;
	exe_cache[i].ino = st.st_ino;
	exe_cache[i].size = st.st_size;
	exe_cache[i].mtime = st.st_mtim;
	exe_cache[i].lib = lib;
	exe_cache[i].used = 1;
	return lib;
}

int tlslibs_from_maps_fd(int fd, struct tlslibs *t)
{
	char buf[MAPS_CHUNK];
	size_t have = 0;
	int skipping = 0;

	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		char *last;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		have += (size_t)n;
		last = memrchr(buf, '\n', have);
		if (!last) {
			/* no line end in a full chunk: not a line we want; drop it */
			if (have == sizeof(buf)) {
				have = 0;
				skipping = 1;
			}
			continue;
		}
		size_t whole = (size_t)(last - buf) + 1, from = 0;
		if (skipping) { /* the dropped line's tail */
			from = (size_t)((char *)memchr(buf, '\n', have) - buf) + 1;
			skipping = 0;
		}
		tlslibs_from_maps(buf + from, whole - from, t);
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	if (have && !skipping)
		tlslibs_from_maps(buf, have, t);
	return 0;
}

static int scan_maps(pid_t pid, struct tlslibs *t)
{
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = tlslibs_from_maps_fd(fd, t);
	close(fd);
	return rc;
}

static void put_lib(struct bz_buf *b, unsigned lib, unsigned source, unsigned flags, const char *path)
{
	uint8_t v[4 + TLSLIBS_PATH_MAX];
	size_t n = strnlen(path, TLSLIBS_PATH_MAX - 1);

	v[0] = (uint8_t)lib;
	v[1] = (uint8_t)source;
	v[2] = (uint8_t)flags;
	v[3] = 0;
	memcpy(v + 4, path, n);
	bz_buf_opt(b, BZ_PR_TLS_LIB, v, (uint32_t)(4 + n));
}

int tlslibs_scan(pid_t pid, unsigned probed, struct tlslibs *t)
{
	char path[64], exe[TLSLIBS_PATH_MAX];
	int fd, rc;

	memset(t, 0, sizeof(*t));
	if ((rc = scan_maps(pid, t)))
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		unsigned lib = exe_lib(fd);
		close(fd);
		if (lib != BZ_TLS_NONE) {
			ssize_t n = readlink(path, exe, sizeof(exe) - 1);
			exe[n > 0 ? n : 0] = 0;
			tlslibs_add(t, lib, lib == BZ_TLS_GO ? BZ_TLS_SRC_GO : BZ_TLS_SRC_EXE, 0, exe, strlen(exe));
		}
	}
	for (int i = 0; i < t->n; i++) {
		unsigned id = t->l[i].lib;
		if (id == BZ_TLS_OPENSSL || id == BZ_TLS_BORINGSSL)
			t->l[i].flags |= BZ_TLS_F_PROBEABLE;
		if (id < 32 && (probed & (1u << id)))
			t->l[i].flags |= BZ_TLS_F_PROBED;
	}
	return 0;
}

int tlslibs_put(const struct tlslibs *t, struct bz_buf *b)
{
	if (!t->n)
		put_lib(b, BZ_TLS_NONE, BZ_TLS_SRC_NONE, 0, "");
	for (int i = 0; i < t->n; i++)
		put_lib(b, t->l[i].lib, t->l[i].source, t->l[i].flags, t->l[i].path);
	return b->err;
}

int tlslibs_write(pid_t pid, unsigned probed, struct bz_buf *b)
{
	struct tlslibs t;
	int rc;

	if ((rc = tlslibs_scan(pid, probed, &t)))
		return rc;
	return tlslibs_put(&t, b);
}
