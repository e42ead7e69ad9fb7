/* goelf.c - inspect a Go executable before probes are placed in it
 * (goelf.h): its build info, the functions the Go probes hook and the struct
 * offsets they read.
 *
 * The file is read with libelf in ELF_C_READ mode (pread, no mmap), so a
 * file that is shorter than its headers claim gives read errors, never a
 * fault.  Each piece is found on its own and a missing one is reported, not
 * fatal: the caller places the probes it can. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "record/goelf_int.h"

/* Go functions are a few KiB; anything larger is a damaged size field and
 * would only cost time to disassemble. */
#define MAX_FUNC_BYTES (1u << 20)

static const char *const func_names[BZ_GOF_MAX] = {
	[BZ_GOF_NEWPROC1] = "runtime.newproc1",
	[BZ_GOF_SERVE_HTTP] = "net/http.serverHandler.ServeHTTP",
	[BZ_GOF_TLS_READ] = "crypto/tls.(*Conn).Read",
	[BZ_GOF_TLS_WRITE] = "crypto/tls.(*Conn).Write",
	[BZ_GOF_ROUND_TRIP] = "net/http.(*Transport).roundTrip",
	[BZ_GOF_FINISH_REQUEST] = "net/http.(*response).finishRequest",
	[BZ_GOF_H2_HANDLER_DONE] = "net/http.(*http2responseWriter).handlerDone",
	[BZ_GOF_MEMMOVE] = "runtime.memmove",
};

/* The same function under another name in other Go versions: Go 1.27 moved
 * the HTTP/2 server from net/http's bundle (h2_bundle.go) into
 * net/http/internal/http2.  The first name found wins. */
static const char *const func_alt_names[BZ_GOF_MAX] = {
	[BZ_GOF_H2_HANDLER_DONE] = "net/http/internal/http2.(*responseWriter).handlerDone",
};

static const char *const field_names[BZ_GOO_MAX] = {
	[BZ_GOO_G_GOID] = "runtime.g.goid",
	[BZ_GOO_G_PARENT_GOID] = "runtime.g.parentGoid",
	[BZ_GOO_REQ_METHOD] = "net/http.Request.Method",
	[BZ_GOO_REQ_URL] = "net/http.Request.URL",
	[BZ_GOO_REQ_HOST] = "net/http.Request.Host",
	[BZ_GOO_REQ_REMOTE_ADDR] = "net/http.Request.RemoteAddr",
	[BZ_GOO_REQ_REQUEST_URI] = "net/http.Request.RequestURI",
	[BZ_GOO_URL_SCHEME] = "net/url.URL.Scheme",
	[BZ_GOO_URL_HOST] = "net/url.URL.Host",
	[BZ_GOO_URL_PATH] = "net/url.URL.Path",
	[BZ_GOO_URL_RAW_QUERY] = "net/url.URL.RawQuery",
	[BZ_GOO_RESPONSE_STATUS] = "net/http.response.status",
	[BZ_GOO_HTTP_RESPONSE_STATUS_CODE] = "net/http.Response.StatusCode",
	[BZ_GOO_TLS_CONN_CONN] = "crypto/tls.Conn.conn",
	[BZ_GOO_NET_CONN_FD] = "net.conn.fd",
	[BZ_GOO_NETFD_PFD] = "net.netFD.pfd",
	[BZ_GOO_POLL_FD_SYSFD] = "internal/poll.FD.Sysfd",
	[BZ_GOO_REQ_PROTO_MAJOR] = "net/http.Request.ProtoMajor",
	[BZ_GOO_H2RW_RWS] = "net/http.http2responseWriter.rws",
	[BZ_GOO_H2RWS_STREAM] = "net/http.http2responseWriterState.stream",
	[BZ_GOO_H2RWS_STATUS] = "net/http.http2responseWriterState.status",
	[BZ_GOO_H2STREAM_ID] = "net/http.http2stream.id",
	[BZ_GOO_REQ_CONTENT_LENGTH] = "net/http.Request.ContentLength",
	[BZ_GOO_REQ_TLS] = "net/http.Request.TLS",
	[BZ_GOO_H2RWS_WROTE_BYTES] = "net/http.http2responseWriterState.wroteBytes",
	[BZ_GOO_RESPONSE_WRITTEN] = "net/http.response.written",
};

const char *bz_go_func_name(int id)
{
	return id >= 0 && id < BZ_GOF_MAX ? func_names[id] : "?";
}

const char *bz_go_field_name(int id)
{
	return id >= 0 && id < BZ_GOO_MAX ? field_names[id] : "?";
}

const struct bz_go_offsets_row *bz_go_offsets_for(int major, int minor)
{
	char key[24];

	snprintf(key, sizeof(key), "go%d.%d", major, minor);
	for (size_t i = 0; i < bz_go_offsets_table_len; i++)
		if (!strcmp(bz_go_offsets_table[i].version, key))
			return &bz_go_offsets_table[i];
	return NULL;
}

/* The open file: libelf handle and the sections we look at. */
struct goelf {
	int fd;
	Elf *elf;
	Elf_Scn *buildinfo, *pclntab, *symtab, *text;
};

static void goelf_close(struct goelf *g)
{
	if (g->elf)
		elf_end(g->elf);
	if (g->fd >= 0)
		close(g->fd);
	g->elf = NULL;
	g->fd = -1;
}

/* Opens path as an ELF file and finds the Go sections.  -errno or -EINVAL
 * with a reason in err. */
static int goelf_open(struct goelf *g, const char *path, char *err, size_t errlen)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	memset(g, 0, sizeof(*g));
	g->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (elf_version(EV_CURRENT) == EV_NONE ||
	    !(g->elf = elf_begin(g->fd, ELF_C_READ, NULL)) || elf_kind(g->elf) != ELF_K_ELF) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		goelf_close(g);
		return -EINVAL;
	}
	if (elf_getshdrstrndx(g->elf, &shstrndx)) {
		snprintf(err, errlen, "%s: no section names: %s", path, elf_errmsg(-1));
		goelf_close(g);
		return -EINVAL;
	}
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(g->elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".go.buildinfo"))
			g->buildinfo = scn;
		else if (!strcmp(name, ".gopclntab"))
			g->pclntab = scn;
		else if (!strcmp(name, ".text") && (sh.sh_flags & SHF_EXECINSTR))
			g->text = scn;
		else if (sh.sh_type == SHT_SYMTAB)
			g->symtab = scn;
	}
	return 0;
}

bool bz_goelf_is_go(const char *path)
{
	struct goelf g;
	char err[8];
	bool go;

	if (goelf_open(&g, path, err, sizeof(err)))
		return false;
	go = g.buildinfo != NULL;
	goelf_close(&g);
	return go;
}

/* The section's bytes as stored in the file, NULL if unreadable. */
static const uint8_t *scn_bytes(Elf_Scn *scn, size_t *len)
{
	Elf_Data *d = scn ? elf_rawdata(scn, NULL) : NULL;

	if (!d || !d->d_buf)
		return NULL;
	*len = d->d_size;
	return d->d_buf;
}

static uint64_t scn_addr(Elf_Scn *scn)
{
	GElf_Shdr sh;

	return scn && gelf_getshdr(scn, &sh) ? sh.sh_addr : 0;
}

/* --- build info ------------------------------------------------------------ */

/* Go's uvarint; returns bytes used, 0 when cut short or too long. */
static size_t uvarint(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < len && i < 10; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* Reads one length-prefixed string at *off; advances *off. */
static bool inline_string(const uint8_t *b, size_t len, size_t *off, const uint8_t **s, size_t *slen)
{
	uint64_t l;
	size_t n = uvarint(b + *off, len - *off, &l);

	if (!n || l > len - *off - n)
		return false;
	*s = b + *off + n;
	*slen = l;
	*off += n + l;
	return true;
}

/* The module path from the modinfo text: the line "mod\t<path>\t...". */
static void module_path(const uint8_t *s, size_t len, char *out, size_t outlen)
{
	for (size_t i = 0; i + 4 <= len; i++) {
		size_t end;

		if ((i && s[i - 1] != '\n') || memcmp(s + i, "mod\t", 4))
			continue;
		for (end = i + 4; end < len && s[end] != '\t' && s[end] != '\n'; end++)
			;
		if (end - i - 4 < outlen) {
			memcpy(out, s + i + 4, end - i - 4);
			out[end - i - 4] = '\0';
		}
		return;
	}
}

/* Version and main module from .go.buildinfo: a 32-byte header ("\xff Go
 * buildinf:", pointer size, flags), then, when flags bit 1 (value 2) is set
 * (Go 1.18+), the version and the modinfo text as length-prefixed strings.
 * Older binaries point at Go strings instead: left unknown. */
static void read_buildinfo(struct goelf *g, struct bz_go_binary *out)
{
	static const char magic[] = "\xff Go buildinf:";
	const uint8_t *b, *s;
	size_t len, off = 32, slen;

	b = scn_bytes(g->buildinfo, &len);
	if (!b || len < 32 || memcmp(b, magic, sizeof(magic) - 1) || !(b[15] & 2))
		return;
	if (!inline_string(b, len, &off, &s, &slen))
		return;
	/* "go1.26.8", maybe followed by " X:experiment": keep what fits. */
	if (slen >= sizeof(out->go_version))
		slen = sizeof(out->go_version) - 1;
	memcpy(out->go_version, s, slen);
	out->go_version[slen] = '\0';
	out->go_version[strcspn(out->go_version, " ")] = '\0';
	if (sscanf(out->go_version, "go%d.%d", &out->go_major, &out->go_minor) != 2 ||
	    out->go_major < 1 || out->go_minor < 0)
		out->go_major = out->go_minor = 0;
	if (inline_string(b, len, &off, &s, &slen))
		module_path(s, slen, out->module_path, sizeof(out->module_path));
}

/* --- functions ----------------------------------------------------------- */

/* Entry and size of each wanted function from .symtab. */
static void funcs_from_symtab(struct goelf *g, struct bz_go_binary *out)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t n;

	if (!g->symtab || !gelf_getshdr(g->symtab, &sh) || !sh.sh_entsize ||
	    !(d = elf_getdata(g->symtab, NULL)))
		return;
	n = d->d_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    !(name = elf_strptr(g->elf, sh.sh_link, sym.st_name)))
			continue;
		for (int k = 0; k < BZ_GOF_MAX; k++)
			if (!out->funcs[k].found && (!strcmp(name, func_names[k]) ||
						     (func_alt_names[k] && !strcmp(name, func_alt_names[k])))) {
				out->funcs[k].found = true;
				out->funcs[k].name = func_alt_names[k] && !strcmp(name, func_alt_names[k])
							     ? func_alt_names[k] : func_names[k];
				out->funcs[k].vaddr = sym.st_value;
				out->funcs[k].size = sym.st_size;
			}
	}
}

/* Functions .symtab did not give (all of them in a stripped binary), from
 * .gopclntab. */
static void funcs_from_pclntab(struct goelf *g, struct bz_go_binary *out)
{
	/* every name of every function still missing, and whose it is */
	const char *names[2 * BZ_GOF_MAX];
	struct bz_pcln_func pf[2 * BZ_GOF_MAX];
	int owner[2 * BZ_GOF_MAX], n = 0;
	const uint8_t *tab;
	char why[96];
	size_t len = 0;

	for (int k = 0; k < BZ_GOF_MAX; k++) {
		if (out->funcs[k].found)
			continue;
		owner[n] = k;
		names[n++] = func_names[k];
		if (func_alt_names[k]) {
			owner[n] = k;
			names[n++] = func_alt_names[k];
		}
	}
	if (!n)
		return;
	tab = scn_bytes(g->pclntab, &len);
	if (bz_pclntab_lookup(tab, len, scn_addr(g->text), names, (size_t)n, pf, why, sizeof(why))) {
		for (int k = 0; k < BZ_GOF_MAX; k++)
			if (!out->funcs[k].found)
				snprintf(out->funcs[k].why, sizeof(out->funcs[k].why), "%s", why);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct bz_go_func *f = &out->funcs[owner[i]];

		if (f->found || !pf[i].found)
			continue;
		f->found = true;
		f->name = names[i];
		f->vaddr = pf[i].vaddr;
		f->size = pf[i].size;
	}
	for (int k = 0; k < BZ_GOF_MAX; k++)
		if (!out->funcs[k].found)
			snprintf(out->funcs[k].why, sizeof(out->funcs[k].why), "not in %s",
				 g->symtab ? ".symtab or .gopclntab" : ".gopclntab");
}

/* File offset of [vaddr, vaddr + size) from the PT_LOAD segment holding it
 * (what a uprobe needs); -1 when no segment maps all of it from the file. */
static int64_t file_offset(Elf *elf, uint64_t vaddr, uint64_t size)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || vaddr < ph.p_vaddr ||
		    vaddr - ph.p_vaddr >= ph.p_filesz || size > ph.p_filesz - (vaddr - ph.p_vaddr))
			continue;
		if (ph.p_offset > INT64_MAX - (vaddr - ph.p_vaddr))
			return -1;
		return (int64_t)(ph.p_offset + (vaddr - ph.p_vaddr));
	}
	return -1;
}

/* Entry file offset and return instructions of a found function; and,
 * given the address of the function it copies with (copy_callee, 0 for
 * none), where it calls it. */
static void locate_func(struct goelf *g, struct bz_go_func *f, uint64_t copy_callee)
{
	uint8_t *code;
	int64_t off;
	ssize_t got;

	if (f->size == 0 || f->size > MAX_FUNC_BYTES) {
		snprintf(f->why, sizeof(f->why), "implausible size %llu", (unsigned long long)f->size);
		f->found = false;
		return;
	}
	off = file_offset(g->elf, f->vaddr, f->size);
	if (off < 0) {
		snprintf(f->why, sizeof(f->why), "address 0x%llx is in no loaded segment of the file",
			 (unsigned long long)f->vaddr);
		f->found = false;
		return;
	}
	f->entry = (uint64_t)off;
	code = malloc(f->size);
	if (!code) {
		snprintf(f->why, sizeof(f->why), "out of memory");
		return;
	}
	got = pread(g->fd, code, f->size, off);
	if (got == (ssize_t)f->size) {
		bz_gorets_scan(code, f->size, f->entry, f);
		if (copy_callee)
			bz_gocopy_scan(code, f->size, f->entry, f->vaddr, copy_callee, f);
	} else {
		/* the headers promise code the file does not hold: no probe there */
		snprintf(f->why, sizeof(f->why), "code cut short in the file (%zd of %llu bytes)", got,
			 (unsigned long long)f->size);
		f->found = false;
	}
	free(code);
}

/* --- struct offsets ------------------------------------------------------ */

static void read_offsets(struct goelf *g, struct bz_go_binary *out)
{
	const struct bz_go_offsets_row *row;
	int n = bz_godwarf_offsets(g->elf, out->offsets);

	out->has_dwarf = n >= 0;
	/* DWARF that names none of the fields (damaged, or a program without
	 * net/http) is no better than none: the table may still know them. */
	if (n > 0) {
		out->offsets_from = BZ_GO_OFFS_DWARF;
		return;
	}
	row = bz_go_offsets_for(out->go_major, out->go_minor);
	if (!row)
		return;
	memcpy(out->offsets, row->offsets, sizeof(out->offsets));
	out->offsets_from = BZ_GO_OFFS_TABLE;
}

int bz_goelf_inspect(const char *path, struct bz_go_binary *out, char *err, size_t errlen)
{
	struct goelf g;
	GElf_Ehdr eh;
	int rc;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < BZ_GOO_MAX; i++)
		out->offsets[i] = -1;
	rc = goelf_open(&g, path, err, errlen);
	if (rc)
		return rc;
	if (!gelf_getehdr(g.elf, &eh) || gelf_getclass(g.elf) != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		snprintf(err, errlen, "%s: not an x86-64 ELF executable", path);
		goelf_close(&g);
		return -EINVAL;
	}
	if (!g.buildinfo) {
		snprintf(err, errlen, "%s: not a Go executable (no .go.buildinfo section)", path);
		goelf_close(&g);
		return -EINVAL;
	}
	read_buildinfo(&g, out);
	out->stripped = g.symtab == NULL;
	funcs_from_symtab(&g, out);
	funcs_from_pclntab(&g, out);
	for (int k = 0; k < BZ_GOF_MAX; k++)
		if (out->funcs[k].found)
			locate_func(&g, &out->funcs[k],
				    k == BZ_GOF_TLS_READ && out->funcs[BZ_GOF_MEMMOVE].found
					    ? out->funcs[BZ_GOF_MEMMOVE].vaddr : 0);
	if (!out->funcs[BZ_GOF_TLS_READ].copy_call && !out->funcs[BZ_GOF_TLS_READ].copy_why[0])
		snprintf(out->funcs[BZ_GOF_TLS_READ].copy_why, sizeof(out->funcs[0].copy_why), "%s",
			 out->funcs[BZ_GOF_MEMMOVE].found ? "function not found" : "runtime.memmove not found");
	read_offsets(&g, out);
	goelf_close(&g);
	return 0;
}
