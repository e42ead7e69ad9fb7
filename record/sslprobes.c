/* sslprobes.c - attach the OpenSSL uprobes to each TLS library file among
 * the targets, from a table; see sslprobes.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "beyla.skel.h"
#include "bpf/beyla_events.h"
#include "record/capture_format.h"
#include "record/sslprobes.h"
#include "record/tlslibs.h"
#include "record/uprobe_links.h"

#define SSL_LIBS_MAX 64

struct ssl_probe_def {
	const char *func;       /* the library's function */
	const char *entry_prog; /* program on its entry */
	bool with_return;       /* and bz_ssl_return on its return */
	const char *purpose;
};

static const struct ssl_probe_def ssl_probe_table[] = {
	{ "SSL_read", "bz_ssl_read_enter", true, "HTTPS read in plaintext" },
	{ "SSL_read_ex", "bz_ssl_read_ex_enter", true, "HTTPS read in plaintext (OpenSSL 1.1.1 and later)" },
	{ "SSL_write", "bz_ssl_write_enter", true, "HTTPS written in plaintext" },
	{ "SSL_write_ex", "bz_ssl_write_ex_enter", true, "HTTPS written in plaintext (OpenSSL 1.1.1 and later)" },
	{ "SSL_free", "bz_ssl_free", false, "an SSL object's socket forgotten when it is freed" },
};
#define NSSL_PROBES ((int)(sizeof(ssl_probe_table) / sizeof(ssl_probe_table[0])))

struct ssl_lib {
	dev_t dev;
	ino_t ino;
	struct bz_links links;
};

struct ssl_probes {
	struct beyla_bpf *skel;
	bool enabled;
	struct ssl_lib libs[SSL_LIBS_MAX];
	int nlibs;
	int links_total;
};

int ssl_probes_new(struct ssl_probes **out, struct beyla_bpf *skel, bool enabled)
{
	struct ssl_probes *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return -ENOMEM;
	sp->skel = skel;
	sp->enabled = enabled;
	*out = sp;
	return 0;
}

void ssl_probes_leave_out(struct beyla_bpf *skel)
{
	const char *extra[] = { "bz_ssl_return", "bz_enter_mmap" };

	for (int i = 0; i < NSSL_PROBES + 2; i++) {
		const char *name = i < NSSL_PROBES ? ssl_probe_table[i].entry_prog : extra[i - NSSL_PROBES];
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, name);
		if (p)
			bpf_program__set_autoload(p, false);
	}
}

bool ssl_probes_enabled(const struct ssl_probes *sp) { return sp && sp->enabled; }
int ssl_probes_libraries(const struct ssl_probes *sp) { return sp ? sp->nlibs : 0; }
int ssl_probes_links(const struct ssl_probes *sp) { return sp ? sp->links_total : 0; }

void ssl_probes_free(struct ssl_probes *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < sp->nlibs; i++) {
		bz_links_free(&sp->libs[i].links);
	}
	free(sp);
}

static bool known(const struct ssl_probes *sp, dev_t dev, ino_t ino)
{
	for (int i = 0; i < sp->nlibs; i++)
		if (sp->libs[i].dev == dev && sp->libs[i].ino == ino)
			return true;
	return false;
}

static struct bpf_link *attach_func(struct ssl_probes *sp, const char *prog, const char *path, const char *func,
				    bool ret, int *err)
{
	struct bpf_program *p = bpf_object__find_program_by_name(sp->skel->obj, prog);
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func, .retprobe = ret);
	struct bpf_link *l;

	if (!p) {
		*err = ENOENT;
		return NULL;
	}
	l = bpf_program__attach_uprobe_opts(p, -1, path, 0, &uo);
	*err = l ? 0 : errno;
	return l;
}

/* Places the table's probes on one library file (path: as this process
 * reaches it) and describes them in body. */
static void probe_file(struct ssl_probes *sp, struct ssl_lib *lib, const char *path, struct bz_buf *body,
		       const char *shown, FILE *warn)
{
	char detail[200];
	int attached = 0;

	for (int i = 0; i < NSSL_PROBES; i++) {
		const struct ssl_probe_def *d = &ssl_probe_table[i];
		int first = lib->links.n, e = 0, ok;
		struct bpf_link *l = attach_func(sp, d->entry_prog, path, d->func, false, &e);

		ok = l && bz_links_add(&lib->links, l) == 0;
		if (ok && d->with_return) {
			l = attach_func(sp, "bz_ssl_return", path, d->func, true, &e);
			ok = l && bz_links_add(&lib->links, l) == 0;
		}
		if (ok) {
			snprintf(detail, sizeof(detail), "%s: %s", d->with_return ? "entry + return" : "entry",
				 d->purpose);
		} else {
			bz_links_truncate(&lib->links, first);
			if (!e)
				e = ENOMEM;
			/* libbpf: ENOENT when the file has no such symbol */
			if (e == ENOENT || e == ESRCH) {
				bz_probe_opt(body, BZ_TL_PROBE, BZ_PROBE_SKIPPED, d->func, "not in this library");
			} else {
				snprintf(detail, sizeof(detail), "uprobe refused: %s", strerror(e));
				bz_probe_opt(body, BZ_TL_PROBE, BZ_PROBE_REFUSED, d->func, detail);
				if (warn)
					fprintf(warn, "beyla record: warning: OpenSSL probe %s refused in %s (%s): no %s\n",
						d->func, shown, strerror(e), d->purpose);
			}
			continue;
		}
		sp->links_total += lib->links.n - first;
		attached += d->with_return;
		bz_probe_opt(body, BZ_TL_PROBE, BZ_PROBE_ATTACHED, d->func, detail);
	}
	if (!attached && warn)
		fprintf(warn, "beyla record: warning: %s has none of SSL_read, SSL_write: its HTTPS stays encrypted\n",
			shown);
}

/* Probes the file at path (shown: as the capture names it) unless seen
 * before: 1 when it was probed now, 0 when not, <0 on an internal error. */
static int probe_path(struct ssl_probes *sp, const char *path, const char *shown, unsigned libid, pid_t pid,
		      ssl_block_fn out, void *user, FILE *warn)
{
	struct bz_buf body = { 0 };
	struct ssl_lib *lib;
	struct stat sb;
	int rc;

	if (stat(path, &sb) || known(sp, sb.st_dev, sb.st_ino))
		return 0;
	if (sp->nlibs >= SSL_LIBS_MAX) {
		if (warn)
			fprintf(warn, "beyla record: warning: more than %d TLS library files; %s gets no OpenSSL probes\n",
				SSL_LIBS_MAX, shown);
		return 0;
	}
	lib = &sp->libs[sp->nlibs++];
	lib->dev = sb.st_dev;
	lib->ino = sb.st_ino;
	bz_buf_opt_str(&body, BZ_TL_PATH, shown);
	bz_buf_opt_u32(&body, BZ_TL_LIB, libid);
	bz_buf_opt_u32(&body, BZ_TL_PID, (uint32_t)pid);
	probe_file(sp, lib, path, &body, shown, warn);
	if (pid && warn)
		/* (a library a target maps: the line a script can wait for
		 * before it sends its first HTTPS request) */
		fprintf(warn, "beyla record: OpenSSL probes placed in %s, used by pid %d\n", shown, (int)pid);
	rc = body.err;
	if (!rc)
		out(user, &body);
	bz_buf_free(&body);
	return rc ? rc : 1;
}

int ssl_probes_consider(struct ssl_probes *sp, pid_t pid, ssl_block_fn out, void *user, FILE *warn)
{
	struct tlslibs t;

	if (!sp || !sp->enabled || tlslibs_scan(pid, 0, &t))
		return 0;
	return ssl_probes_take(sp, pid, &t, out, user, warn);
}

int ssl_probes_take(struct ssl_probes *sp, pid_t pid, const struct tlslibs *libs, ssl_block_fn out, void *user,
		    FILE *warn)
{
	const struct tlslibs t = *libs;
	int found = 0;

	if (!sp || !sp->enabled)
		return 0;
	for (int i = 0; i < t.n; i++) {
		char path[TLSLIBS_PATH_MAX + 32];
		int rc;

		if (t.l[i].lib != BZ_TLS_OPENSSL && t.l[i].lib != BZ_TLS_BORINGSSL)
			continue;
		/* the file as the process sees it (its mount namespace) */
		snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, t.l[i].path);
		rc = probe_path(sp, path, t.l[i].path, t.l[i].lib, pid, out, user, warn);
		if (rc < 0)
			return rc;
		found += rc;
	}
	return found;
}

int ssl_probes_system(struct ssl_probes *sp, ssl_block_fn out, void *user, FILE *warn)
{
	/* the dynamic linker's usual places on x86-64 distributions */
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
					    "/usr/lib64", "/lib", "/usr/lib" };
	static const char *const names[] = { "libssl.so.3", "libssl.so.1.1" };
	int found = 0;

	if (!sp || !sp->enabled)
		return 0;
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			char path[256];
			snprintf(path, sizeof(path), "%s/%s", dirs[d], names[k]);
			if (access(path, R_OK) == 0)
				found += probe_path(sp, path, path, BZ_TLS_OPENSSL, 0, out, user, warn) > 0;
		}
	return found;
}

int ssl_probes_poll(struct ssl_probes *sp, ssl_block_fn out, void *user, FILE *warn)
{
	int fd, found = 0;
	__u32 key, next;
	__u32 pids[256];
	int n = 0;

	if (!sp || !sp->enabled)
		return 0;
	fd = bpf_map__fd(sp->skel->maps.maps_changed);
	if (fd < 0)
		return 0;
	/* (gathered first: deleting while walking would restart the walk) */
	while (n < 256 && bpf_map_get_next_key(fd, n ? &key : NULL, &next) == 0) {
		pids[n++] = next;
		key = next;
	}
	for (int i = 0; i < n; i++) {
		int rc;
		bpf_map_delete_elem(fd, &pids[i]);
		rc = ssl_probes_consider(sp, (pid_t)pids[i], out, user, warn);
		if (rc > 0)
			found += rc;
	}
	return found;
}
