/* goprobes.c - attach the Go uprobes to each Go executable among the
 * targets, from a table; see goprobes.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "beyla.skel.h"
#include "bpf/beyla_events.h"
#include "record/capture_format.h"
#include "record/goelf.h"
#include "record/goprobes.h"
#include "record/uprobe_links.h"

/* Offsets each probe reads; a probe whose offsets are not all known is
 * skipped rather than left to read the wrong memory. */
#define NEED(f) (1u << (f))
#define NEED_G NEED(BZ_GOO_G_GOID)

/* Modes a row is placed in (--go=MODE), as bits of enum bz_go_mode. */
#define MODE(m) (1u << (m))
#define FAST_AND_FULL (MODE(BZ_GO_MODE_FAST) | MODE(BZ_GO_MODE_FULL))
#define FULL_ONLY MODE(BZ_GO_MODE_FULL)

/* Why a row is left out of --go=fast: every probe hit is a trap into the
 * kernel (~1.5-3 us here), a single-stepped one two traps (docs/go.md). */
#define FAST_SKIP_END "not in --go=fast: the span ends at its response's last write (no beyla.go.handler_ns)"

struct go_probe_def {
	int func;               /* enum bz_go_func_id */
	const char *entry_prog; /* program on the entry */
	const char *ret_prog;   /* program on every RET, or NULL */
	unsigned needs;         /* NEED() of enum bz_go_field_id */
	const char *purpose;    /* what is lost without it */
	unsigned modes;         /* MODE() bits it is placed in */
	unsigned ret_modes;     /* ... and those its RETs are probed in */
	const char *fast_skip;  /* why not in --go=fast (modes without FAST);
	                         * NULL: another row of the function stands in */
	bool at_copy;           /* placed on the function's plaintext copy
	                         * (bz_go_func.copy_call), not on its entry */
};

static const struct go_probe_def go_probe_table[] = {
	/* also reads, when known, Request.ProtoMajor and the HTTP/2 stream id
	 * (BZ_GOO_H2*): without them an HTTP/2 handler is paired with its
	 * stream by method and path */
	{ BZ_GOF_SERVE_HTTP, "bz_go_handler_enter", NULL,
	  NEED_G | NEED(BZ_GOO_REQ_METHOD) | NEED(BZ_GOO_REQ_REMOTE_ADDR) | NEED(BZ_GOO_REQ_URL) |
		  NEED(BZ_GOO_URL_PATH),
	  "handler start (processing time of Go servers, parents of client calls; the request of "
	  "an HTTPS span without its plaintext)", FAST_AND_FULL, 0, NULL, false },
	{ BZ_GOF_FINISH_REQUEST, "bz_go_handler_end", NULL, NEED_G | NEED(BZ_GOO_RESPONSE_STATUS),
	  "handler end (the handler's run time)", FULL_ONLY, 0, FAST_SKIP_END, false },
	{ BZ_GOF_H2_HANDLER_DONE, "bz_go_h2_handler_end", NULL,
	  NEED_G | NEED(BZ_GOO_H2RW_RWS) | NEED(BZ_GOO_H2RWS_STATUS),
	  "HTTP/2 handler end (the handler's run time over HTTP/2)", FULL_ONLY, 0, FAST_SKIP_END, false },
	{ BZ_GOF_TLS_READ, "bz_go_tls_read_enter", "bz_go_tls_read_ret",
	  NEED_G | NEED(BZ_GOO_TLS_CONN_CONN) | NEED(BZ_GOO_NET_CONN_FD) | NEED(BZ_GOO_NETFD_PFD) |
		  NEED(BZ_GOO_POLL_FD_SYSFD),
	  "HTTPS read in plaintext", FULL_ONLY, FULL_ONLY, NULL, false },
	/* --go=fast: the same plaintext at the copy inside Read (a CALL, which
	 * the kernel emulates), instead of at its RETs (single-stepped, ~15 us
	 * a read); goelf_copy.c says why the receiver is at RBP+16 there */
	{ BZ_GOF_TLS_READ, "bz_go_tls_read_copy", NULL,
	  NEED(BZ_GOO_TLS_CONN_CONN) | NEED(BZ_GOO_NET_CONN_FD) | NEED(BZ_GOO_NETFD_PFD) |
		  NEED(BZ_GOO_POLL_FD_SYSFD),
	  "HTTPS read in plaintext (HTTPS clients' responses, gRPC over TLS)", MODE(BZ_GO_MODE_FAST), 0,
	  NULL, true },
	{ BZ_GOF_TLS_WRITE, "bz_go_tls_write_enter", NULL,
	  NEED(BZ_GOO_TLS_CONN_CONN) | NEED(BZ_GOO_NET_CONN_FD) | NEED(BZ_GOO_NETFD_PFD) |
		  NEED(BZ_GOO_POLL_FD_SYSFD),
	  "HTTPS written in plaintext", FAST_AND_FULL, 0, NULL, false },
	{ BZ_GOF_ROUND_TRIP, "bz_go_client_enter", "bz_go_client_ret",
	  NEED_G | NEED(BZ_GOO_REQ_METHOD) | NEED(BZ_GOO_REQ_URL) | NEED(BZ_GOO_URL_HOST) |
		  NEED(BZ_GOO_URL_PATH) | NEED(BZ_GOO_HTTP_RESPONSE_STATUS_CODE),
	  "http.Client calls as children of the handler that made them", FAST_AND_FULL, FULL_ONLY,
	  NULL, false },
	/* Go >= 1.21 keeps the creator's id in g.parentGoid: no probe needed */
	{ BZ_GOF_NEWPROC1, "bz_go_spawn_enter", "bz_go_spawn_ret", NEED_G,
	  "goroutine parents (client calls made from goroutines a handler started)", FULL_ONLY,
	  FULL_ONLY,
	  "not in --go=fast: every goroutine created would cost a single-stepped return; client "
	  "calls from goroutines a handler started are not parented (Go < 1.21)", false },
};
#define NGO_PROBES ((int)(sizeof(go_probe_table) / sizeof(go_probe_table[0])))

struct go_bin {
	dev_t dev;
	ino_t ino;
	struct bz_links links;
};

struct go_probes {
	struct beyla_bpf *skel;
	bool enabled;
	int mode;        /* enum bz_go_mode */
	struct go_bin bins[BZ_GO_BINARIES_MAX];
	int nbins;
	/* executables known not to be Go (or not inspectable), so a server's
	 * fork storm does not reopen the same file a thousand times */
	struct { dev_t dev; ino_t ino; } not_go[256];
	int nnot_go;
	int links_total;
};

int go_probes_new(struct go_probes **out, struct beyla_bpf *skel, int mode)
{
	struct go_probes *gp = calloc(1, sizeof(*gp));

	if (!gp)
		return -ENOMEM;
	gp->skel = skel;
	gp->enabled = mode == BZ_GO_MODE_FAST || mode == BZ_GO_MODE_FULL;
	gp->mode = gp->enabled ? mode : BZ_GO_MODE_OFF;
	*out = gp;
	return 0;
}

void go_probes_leave_out(struct beyla_bpf *skel)
{
	for (int i = 0; i < NGO_PROBES; i++) {
		const char *names[2] = { go_probe_table[i].entry_prog, go_probe_table[i].ret_prog };
		for (int j = 0; j < 2; j++) {
			struct bpf_program *p = names[j] ? bpf_object__find_program_by_name(skel->obj, names[j]) : NULL;
			if (p)
				bpf_program__set_autoload(p, false);
		}
	}
}

bool go_probes_enabled(const struct go_probes *gp) { return gp && gp->enabled; }
int go_probes_mode(const struct go_probes *gp) { return gp ? gp->mode : BZ_GO_MODE_OFF; }
int go_probes_binaries(const struct go_probes *gp) { return gp ? gp->nbins : 0; }
int go_probes_links(const struct go_probes *gp) { return gp ? gp->links_total : 0; }

void go_probes_free(struct go_probes *gp)
{
	if (!gp)
		return;
	for (int i = 0; i < gp->nbins; i++) {
		bz_links_free(&gp->bins[i].links);
	}
	free(gp);
}

static bool known(const struct go_probes *gp, dev_t dev, ino_t ino)
{
	for (int i = 0; i < gp->nbins; i++)
		if (gp->bins[i].dev == dev && gp->bins[i].ino == ino)
			return true;
	for (int i = 0; i < gp->nnot_go; i++)
		if (gp->not_go[i].dev == dev && gp->not_go[i].ino == ino)
			return true;
	return false;
}

static void remember_not_go(struct go_probes *gp, dev_t dev, ino_t ino)
{
	int i = gp->nnot_go < 256 ? gp->nnot_go++ : (int)(ino % 256); /* full: overwrite one */
	gp->not_go[i].dev = dev;
	gp->not_go[i].ino = ino;
}

static void to_bpf_offsets(const struct bz_go_binary *b, struct bz_go_offsets *o)
{
	const int64_t *f = b->offsets;

	o->g_goid = f[BZ_GOO_G_GOID];
	o->g_parent_goid = f[BZ_GOO_G_PARENT_GOID];
	o->req_method = f[BZ_GOO_REQ_METHOD];
	o->req_url = f[BZ_GOO_REQ_URL];
	o->req_remote_addr = f[BZ_GOO_REQ_REMOTE_ADDR];
	o->url_host = f[BZ_GOO_URL_HOST];
	o->url_path = f[BZ_GOO_URL_PATH];
	o->response_status = f[BZ_GOO_RESPONSE_STATUS];
	o->http_response_status_code = f[BZ_GOO_HTTP_RESPONSE_STATUS_CODE];
	o->tls_conn_conn = f[BZ_GOO_TLS_CONN_CONN];
	o->net_conn_fd = f[BZ_GOO_NET_CONN_FD];
	o->netfd_pfd = f[BZ_GOO_NETFD_PFD];
	o->poll_fd_sysfd = f[BZ_GOO_POLL_FD_SYSFD];
	o->req_proto_major = f[BZ_GOO_REQ_PROTO_MAJOR];
	o->h2rw_rws = f[BZ_GOO_H2RW_RWS];
	o->h2rws_stream = f[BZ_GOO_H2RWS_STREAM];
	o->h2rws_status = f[BZ_GOO_H2RWS_STATUS];
	o->h2stream_id = f[BZ_GOO_H2STREAM_ID];
	o->req_host = f[BZ_GOO_REQ_HOST];
	o->req_request_uri = f[BZ_GOO_REQ_REQUEST_URI];
	o->req_content_length = f[BZ_GOO_REQ_CONTENT_LENGTH];
}

static struct bpf_link *attach_at(struct go_probes *gp, const char *prog, const char *path,
				  uint64_t off, uint32_t cookie, int *err)
{
	struct bpf_program *p = bpf_object__find_program_by_name(gp->skel->obj, prog);
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie, .retprobe = false);
	struct bpf_link *l;

	if (!p) {
		*err = ENOENT;
		return NULL;
	}
	l = bpf_program__attach_uprobe_opts(p, -1, path, off, &uo);
	*err = l ? 0 : errno;
	return l;
}

/* Attaches one table row: the entry, then every RET.  Returns the links
 * made, or -errno with detail filled (and nothing left attached). */
static int attach_row(struct go_probes *gp, struct go_bin *gb, const struct go_probe_def *d,
		      const struct bz_go_func *f, const char *path, int slot, char *detail,
		      size_t dlen)
{
	int first = gb->links.n, e = 0;
	const char *ret_prog = d->ret_modes & MODE(gp->mode) ? d->ret_prog : NULL;
	/* past the stack check, where the kernel emulates instead of single-stepping */
	uint64_t at = d->at_copy ? f->copy_call : f->probe_entry ? f->probe_entry : f->entry;
	uint32_t cookie = slot | (!d->at_copy && f->probe_entry && f->probe_entry_jbe ? BZ_GO_COOKIE_JBE : 0);
	struct bpf_link *l = attach_at(gp, d->entry_prog, path, at, cookie, &e);

	if (!l || bz_links_add(&gb->links, l))
		goto fail;
	for (uint32_t i = 0; ret_prog && i < f->n_rets; i++) {
		l = attach_at(gp, ret_prog, path, f->rets[i], (uint32_t)slot, &e);
		if (!l || bz_links_add(&gb->links, l))
			goto fail;
	}
	if (d->at_copy) {
		snprintf(detail, dlen, "its plaintext copy (CALL runtime.memmove at +0x%llx, emulated): %s",
			 (unsigned long long)(f->copy_call - f->entry), d->purpose);
		return gb->links.n - first;
	}
	const char *where = !f->probe_entry || f->probe_entry == f->entry ? ""
			    : f->probe_entry_jbe ? " (at the stack check's branch)" : " (after the stack check)";
	if (ret_prog)
		snprintf(detail, dlen, "entry%s + %u returns: %s", where, f->n_rets, d->purpose);
	else if (d->ret_prog)
		snprintf(detail, dlen, "entry%s, no return probes in --go=fast (no status from the "
			 "return): %s", where, d->purpose);
	else
		snprintf(detail, dlen, "entry%s: %s", where, d->purpose);
	return gb->links.n - first;
fail:
	if (!e)
		e = ENOMEM;
	bz_links_truncate(&gb->links, first);
	snprintf(detail, dlen, "uprobe refused: %s", strerror(e));
	return -e;
}

/* Why row d cannot be placed in binary b in this mode, or NULL if it can;
 * "" when another row of the same function is this mode's (not reported). */
static const char *skip_reason(const struct go_probes *gp, const struct bz_go_binary *b,
			       const struct go_probe_def *d, char *buf, size_t len)
{
	const struct bz_go_func *f = &b->funcs[d->func];

	if (!(d->modes & MODE(gp->mode)))
		return d->fast_skip ? d->fast_skip : "";
	if (d->func == BZ_GOF_NEWPROC1 && b->offsets[BZ_GOO_G_PARENT_GOID] >= 0)
		return "not needed: this runtime records g.parentGoid";
	if (!f->found) {
		snprintf(buf, len, "%s", f->why[0] ? f->why : "function not in this binary");
		return buf;
	}
	if (d->at_copy && !f->copy_call) {
		snprintf(buf, len, "no plaintext copy to probe: %s", f->copy_why);
		return buf;
	}
	if (d->ret_prog && (d->ret_modes & MODE(gp->mode)) && f->n_rets == 0) {
		snprintf(buf, len, "no return instruction found%s%s", f->why[0] ? ": " : "", f->why);
		return buf;
	}
	for (int i = 0; i < BZ_GOO_MAX; i++)
		if ((d->needs & NEED(i)) && b->offsets[i] < 0) {
			snprintf(buf, len, "offset of %s unknown (%s)", bz_go_field_name(i),
				 b->offsets_from == BZ_GO_OFFS_NONE
					 ? "no DWARF and no table for this Go version"
					 : "not in DWARF / table");
			return buf;
		}
	return NULL;
}

int go_probes_consider(struct go_probes *gp, pid_t pid, struct bz_buf *block, FILE *warn)
{
	char path[64], real[512], err[256], why[200], detail[256];
	struct bz_go_binary *b;
	struct bz_go_offsets offs;
	struct go_bin *gb;
	struct stat sb;
	ssize_t rl;
	uint32_t flags = 0;
	int slot, rc;

	if (!gp || !gp->enabled)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &sb) || known(gp, sb.st_dev, sb.st_ino))
		return 0;
	if (!bz_goelf_is_go(path)) {
		remember_not_go(gp, sb.st_dev, sb.st_ino);
		return 0;
	}
	rl = readlink(path, real, sizeof(real) - 1);
	real[rl > 0 ? rl : 0] = '\0';
	if (gp->nbins >= BZ_GO_BINARIES_MAX) {
		if (warn)
			fprintf(warn, "beyla record: warning: more than %d Go executables; %s gets no Go probes\n",
				BZ_GO_BINARIES_MAX, real);
		remember_not_go(gp, sb.st_dev, sb.st_ino);
		return 0;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	rc = bz_goelf_inspect(path, b, err, sizeof(err));
	if (rc) {
		if (warn)
			fprintf(warn, "beyla record: warning: Go executable %s: %s; no Go probes in it\n", real, err);
		remember_not_go(gp, sb.st_dev, sb.st_ino);
		free(b);
		return 0;
	}
	slot = gp->nbins++;
	gb = &gp->bins[slot];
	gb->dev = sb.st_dev;
	gb->ino = sb.st_ino;
	to_bpf_offsets(b, &offs);
	/* --go=fast with the reads probed at their copy: the requests are in
	 * the plaintext, and the handler need not read Host, RequestURI and
	 * ContentLength for the analyzer's stand-in (five user reads a request) */
	if (gp->mode == BZ_GO_MODE_FAST && b->funcs[BZ_GOF_TLS_READ].copy_call)
		offs.req_host = offs.req_request_uri = offs.req_content_length = -1;
	if (bpf_map__update_elem(gp->skel->maps.go_offsets, &slot, sizeof(slot), &offs, sizeof(offs),
				 BPF_ANY)) {
		rc = -errno;
		free(b);
		return rc;
	}

	flags |= b->stripped ? BZ_GB_FLAG_STRIPPED : 0;
	flags |= b->offsets_from == BZ_GO_OFFS_DWARF ? BZ_GB_FLAG_DWARF : 0;
	flags |= b->offsets_from == BZ_GO_OFFS_TABLE ? BZ_GB_FLAG_OFFS_TABLE : 0;
	bz_buf_reset(block);
	bz_buf_opt_str(block, BZ_GB_PATH, real);
	bz_buf_opt_str(block, BZ_GB_VERSION, b->go_version);
	bz_buf_opt_str(block, BZ_GB_MODULE, b->module_path);
	bz_buf_opt_u32(block, BZ_GB_FLAGS, flags);
	bz_buf_opt_u32(block, BZ_GB_PID, (uint32_t)pid);
	for (int i = 0; i < NGO_PROBES; i++) {
		const struct go_probe_def *d = &go_probe_table[i];
		const char *name = b->funcs[d->func].found && b->funcs[d->func].name
					   ? b->funcs[d->func].name : bz_go_func_name(d->func);
		const char *skip = skip_reason(gp, b, d, why, sizeof(why));
		int n;

		if (skip && !skip[0])
			continue; /* another row of this function is the one of this mode */
		if (skip) {
			bz_probe_opt(block, BZ_GB_PROBE, BZ_PROBE_SKIPPED, name, skip);
			if (warn && strncmp(skip, "not needed", 10) && strncmp(skip, "not in --go", 11))
				fprintf(warn, "beyla record: warning: Go probe %s skipped in %s (%s): no %s\n",
					name, real, skip, d->purpose);
			continue;
		}
		n = attach_row(gp, gb, d, &b->funcs[d->func], path, slot, detail, sizeof(detail));
		if (n < 0) {
			bz_probe_opt(block, BZ_GB_PROBE, BZ_PROBE_REFUSED, name, detail);
			if (warn)
				fprintf(warn, "beyla record: warning: Go probe %s refused in %s (%s): no %s\n",
					name, real, detail, d->purpose);
			continue;
		}
		gp->links_total += n;
		bz_probe_opt(block, BZ_GB_PROBE, BZ_PROBE_ATTACHED, name, detail);
	}
	free(b);
	return block->err ? block->err : 1;
}
