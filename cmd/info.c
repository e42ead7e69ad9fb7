/* info.c - `beyla info FILE`: describes a capture without analyzing it.
 *
 * One pass over the blocks through analyze/capture_reader.c.  The summary
 * (header, probe report, process table, event counts, probe counters, sizes
 * and a final `status:` line) is printed at the end; --dump instead prints one
 * stable line per block or event record as it is read (tests and scripts grep
 * these prefixes: HEADER PROBE PROC TLS_LIB EXEC FORK EXIT CONN EST CLOSE DATA
 * STATS END BLOCK UNKNOWN).
 *
 * TLS: each process's TLS libraries (its PROC block's TLS_LIB options) are
 * shown under its row, and connections whose first socket payload is a TLS
 * record and that carried no Go crypto/tls plaintext are counted and
 * explained as `beyla analyze` does (analyze/explain.h): one small state
 * per open connection, at most INFO_CONN_MAX at a time (the rest are not
 * looked at, and the summary says so).
 *
 * Memory stays bounded whatever the file: per-process counters live in a
 * fixed-size hash (INFO_PROC_MAX processes, the rest are summed into one
 * "other" row), strings are kept truncated, and the probe report and counters
 * keep at most INFO_PROBE_MAX probes.
 *
 * The exit code tells a complete capture (0) from a cut one (4), a damaged
 * one (5), not a capture (2), a too new one (3) and usage or I/O errors (1).
 */
#include <argp.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/capture_reader.h"
#include "analyze/proto/detect.h"
#include "analyze/explain.h"
#include "analyze/probe_report.h"
#include "analyze/tls_libs.h"
#include "analyze/u64map.h"
#include "analyze/unix_addr.h"
#include "bpf/beyla_events.h"
#include "cmd/commands.h"
#include "record/capture_format.h"

#define INFO_PROC_MAX 4096u   /* processes with their own row */
#define INFO_PROC_SLOTS 8192u /* hash slots, a power of two > INFO_PROC_MAX */
#define INFO_PROBE_MAX 64u
#define INFO_PAYLOAD_SHOW 80u /* payload bytes shown per DATA line */
#define INFO_CONN_MAX (1u << 20) /* open connections followed for the TLS count */

struct info_opts {
	int dump;
	const char *path;
};

struct info_proc {
	uint32_t pid, ppid, flags;
	int has_proc;
	uint64_t events, conns, bytes_in, bytes_out;
	char exe[96], service[48], cmdline[128];
	struct bz_tls_libs *tls; /* its PROC block's TLS libraries; NULL: it said nothing */
};

struct info_probe {
	char name[64]; /* Go 1.27: "net/http/internal/http2.(*responseWriter).handlerDone" */
	char detail[160];
	uint8_t status, required;
};

struct info_stat {
	char name[48];
	uint64_t emitted, lost, missed;
};

struct info {
	const struct info_opts *o;
	/* HEADER */
	int have_header;
	uint16_t major, minor;
	uint32_t hflags, ncpus, snaplen, ring_bytes;
	uint32_t go_mode; /* BZ_HO_GO_MODE, 0: not said */
	int have_clock, have_start, have_snaplen, have_ncpus, have_ring;
	uint64_t clock_mono, clock_real, start_mono;
	char version[64], argv[512], hostname[128], kernel[128], arch[32], boot_id[64];
	char target[512];
	/* PROBES */
	struct info_probe probes[INFO_PROBE_MAX];
	unsigned nprobes, probes_more;
	/* GO_BINARY blocks, as the lines the summary prints */
	char go_text[4096];
	size_t go_len;
	unsigned ngo;
	/* TLS_LIBRARY blocks, the same way */
	char tls_text[4096];
	size_t tls_len;
	unsigned ntls;
	/* last STATS */
	struct info_stat stats[INFO_PROBE_MAX];
	unsigned nstats, stats_more;
	int have_stats;
	uint64_t stats_ts;
	/* END */
	int have_end;
	uint64_t end_mono, end_events, end_drops, end_user_drops;
	int have_end_mono, have_end_drops, have_user_drops, have_end_events;
	char stop_reason[128];
	/* counts */
	uint64_t kinds[BZ_EV_KIND_MAX]; /* [0]: unknown kinds */
	uint64_t events, first_ts, last_ts;
	uint64_t blocks, unknown_blocks, raw_bytes;
	uint64_t malformed;     /* blocks or records that made no sense */
	uint64_t malformed_off; /* decompressed offset of the first one */
	/* processes */
	struct info_proc *procs; /* INFO_PROC_MAX rows */
	int32_t *slots;          /* INFO_PROC_SLOTS indexes into procs, -1 free */
	unsigned nprocs;
	struct info_proc other;  /* processes beyond INFO_PROC_MAX */
	/* connections: conn id -> conn_state() bits and owner pid */
	struct bz_u64map conns;
	int conns_full;           /* INFO_CONN_MAX were open at once: later ones not followed */
	uint64_t tls_decrypted;   /* TLS connections with Go crypto/tls plaintext */
	struct bz_explain explain;
	/* UNIX connections by path (the first INFO_UNIX_MAX paths; the rest
	 * counted in unix_more) */
	struct info_unix {
		char path[4 * BZ_UNIX_PATH_MAX + 2];
		uint64_t accepted, connected, other;
	} unix_paths[16];
	unsigned nunix;
	uint64_t unix_more;
};
#define INFO_UNIX_MAX 16

/* What info keeps of an open connection, packed into the map's value:
 * the owner's pid above 8 flag bits (a pid is below 2^22). */
enum {
	CS_SET = 0x1,   /* never 0: the map's values must not be NULL */
	CS_FIRST = 0x2, /* its first socket payload was looked at */
	CS_TLS = 0x4,   /* ... and it was a TLS record */
	CS_GO = 0x8,    /* Go crypto/tls plaintext was recorded on it */
};

/* ---- small helpers ------------------------------------------------------ */

/* Prints bytes with \r \n \t \\ \" escaped and other non-printables as \xNN;
 * NULs as spaces when nul_space (argv-style strings). */
static void put_esc(FILE *f, const uint8_t *p, size_t n, int nul_space)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == 0 && nul_space)
			fputc(' ', f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c == '"')
			fputs("\\\"", f);
		else if (c < 0x20 || c > 0x7e)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static void put_str(FILE *f, const char *s)
{
	if (!*s)
		fputc('-', f);
	else
		put_esc(f, (const uint8_t *)s, strlen(s), 0);
}

static int opt_u64(const uint8_t *v, uint32_t n, uint64_t *out)
{
	if (n < 8)
		return 0;
	*out = bz_le64(v);
	return 1;
}

static int opt_u32(const uint8_t *v, uint32_t n, uint32_t *out)
{
	if (n < 4)
		return 0;
	*out = bz_le32(v);
	return 1;
}

static void note_malformed(struct info *in, uint64_t off)
{
	if (!in->malformed++)
		in->malformed_off = off;
}

/* Monotonic ns to wall-clock text through the header's clock pair. */
static void fmt_wall(const struct info *in, uint64_t mono, char *out, size_t cap)
{
	if (!in->have_clock) {
		snprintf(out, cap, "%" PRIu64 " ns monotonic (no clock pair)", mono);
		return;
	}
	uint64_t wall = mono >= in->clock_mono ? in->clock_real + (mono - in->clock_mono)
					       : in->clock_real - (in->clock_mono - mono);
	time_t secs = (time_t)(wall / 1000000000u);
	struct tm tm;
	char day[64];
	if (!gmtime_r(&secs, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm)) {
		snprintf(out, cap, "%" PRIu64 " ns since the epoch", wall);
		return;
	}
	snprintf(out, cap, "%s.%06u UTC", day, (unsigned)(wall % 1000000000u / 1000u));
}

static const char *role_name(unsigned r)
{
	switch (r) {
	case BZ_ROLE_ACCEPTED: return "accepted";
	case BZ_ROLE_CONNECTED: return "connected";
	case BZ_ROLE_PREEXISTING: return "preexisting";
	default: return "unknown";
	}
}

static const char *sys_name(unsigned s)
{
	static const char *const names[BZ_SYS_MAX] = {
		[BZ_SYS_UNKNOWN] = "unknown", [BZ_SYS_READ] = "read", [BZ_SYS_READV] = "readv",
		[BZ_SYS_RECVFROM] = "recvfrom", [BZ_SYS_RECVMSG] = "recvmsg",
		[BZ_SYS_WRITE] = "write", [BZ_SYS_WRITEV] = "writev", [BZ_SYS_SENDTO] = "sendto",
		[BZ_SYS_SENDMSG] = "sendmsg", [BZ_SYS_SENDFILE] = "sendfile",
		[BZ_SYS_GO_TLS] = "go_tls", [BZ_SYS_SSL] = "ssl",
	};
	return s < BZ_SYS_MAX ? names[s] : "unknown";
}

static void fmt_flags(uint32_t flags, char *out, size_t cap)
{
	static const struct { uint32_t bit; const char *name; } fl[] = {
		{ BZ_PF_AT_START, "at_start" }, { BZ_PF_FORKED, "forked" }, { BZ_PF_EXEC, "exec" },
		{ BZ_PF_LAUNCHED, "launched" }, { BZ_PF_GONE, "gone" }, { BZ_PF_ADOPTED, "adopted" },
	};
	size_t n = 0;
	out[0] = 0;
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		if (!(flags & fl[i].bit))
			continue;
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "|" : "", fl[i].name);
		flags &= ~fl[i].bit;
		if (n >= cap)
			return;
	}
	if (flags && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "%s0x%" PRIx32, n ? "|" : "", flags);
	if (!n)
		snprintf(out, cap, "-");
}

/* "1.2.3.4:80", "[::1]:80" or "?:80" */
static void fmt_addr(unsigned family, const uint8_t addr[16], unsigned port, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (family == BZ_AF_INET && inet_ntop(AF_INET, addr, ip, sizeof(ip)))
		snprintf(out, cap, "%s:%u", ip, port);
	else if (family == BZ_AF_INET6 && inet_ntop(AF_INET6, addr, ip, sizeof(ip)))
		snprintf(out, cap, "[%s]:%u", ip, port);
	else
		snprintf(out, cap, "?:%u", port);
}

/* ---- the process table -------------------------------------------------- */

/* The process pid, if it has a row already (a PROC block or events). */
static struct info_proc *proc_find(struct info *in, uint32_t pid)
{
	uint32_t h = (pid * 2654435761u) & (INFO_PROC_SLOTS - 1);
	for (;; h = (h + 1) & (INFO_PROC_SLOTS - 1)) {
		int32_t i = in->slots[h];
		if (i < 0)
			return NULL;
		if (in->procs[i].pid == pid)
			return &in->procs[i];
	}
}

static struct info_proc *proc_get(struct info *in, uint32_t pid)
{
	uint32_t h = (pid * 2654435761u) & (INFO_PROC_SLOTS - 1);
	for (;; h = (h + 1) & (INFO_PROC_SLOTS - 1)) {
		int32_t i = in->slots[h];
		if (i < 0)
			break;
		if (in->procs[i].pid == pid)
			return &in->procs[i];
	}
	if (in->nprocs >= INFO_PROC_MAX) {
		return &in->other;
	}
	struct info_proc *p = &in->procs[in->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	in->slots[h] = (int32_t)in->nprocs++;
	return p;
}

static int proc_cmp(const void *a, const void *b)
{
	const struct info_proc *x = a, *y = b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* ---- blocks ------------------------------------------------------------- */

static void on_header(struct info *in, const struct bz_block *b)
{
	if (in->have_header) /* the first one counts; others are odd but legal */
		return;
	in->have_header = 1;
	in->major = bz_le16(b->body + 8);
	in->minor = bz_le16(b->body + 10);
	in->hflags = bz_le32(b->body + 12);
	struct bz_tlv_iter it;
	uint16_t code;
	const uint8_t *v;
	uint32_t n;
	int rc;
	bz_tlv_init(&it, b->body + 16, b->len - 16);
	while ((rc = bz_tlv_next(&it, &code, &v, &n)) == 1) {
		switch (code) {
		case BZ_HO_BEYLA_VERSION: bz_tlv_text(in->version, sizeof(in->version), v, n); break;
		case BZ_HO_ARGV: bz_tlv_text(in->argv, sizeof(in->argv), v, n); break;
		case BZ_HO_HOSTNAME: bz_tlv_text(in->hostname, sizeof(in->hostname), v, n); break;
		case BZ_HO_KERNEL: bz_tlv_text(in->kernel, sizeof(in->kernel), v, n); break;
		case BZ_HO_ARCH: bz_tlv_text(in->arch, sizeof(in->arch), v, n); break;
		case BZ_HO_BOOT_ID: bz_tlv_text(in->boot_id, sizeof(in->boot_id), v, n); break;
		case BZ_HO_TARGET: bz_tlv_text(in->target, sizeof(in->target), v, n); break;
		case BZ_HO_NCPUS: in->have_ncpus = opt_u32(v, n, &in->ncpus); break;
		case BZ_HO_SNAPLEN: in->have_snaplen = opt_u32(v, n, &in->snaplen); break;
		case BZ_HO_RING_BYTES: in->have_ring = opt_u32(v, n, &in->ring_bytes); break;
		case BZ_HO_GO_MODE: opt_u32(v, n, &in->go_mode); break;
		case BZ_HO_CLOCK_MONO_NS: in->have_clock |= opt_u64(v, n, &in->clock_mono); break;
		case BZ_HO_CLOCK_REAL_NS: in->have_clock |= opt_u64(v, n, &in->clock_real) << 1; break;
		case BZ_HO_START_MONO_NS: in->have_start = opt_u64(v, n, &in->start_mono); break;
		default: break; /* newer options: skipped */
		}
	}
	in->have_clock = in->have_clock == 3;
	if (rc < 0)
		note_malformed(in, b->offset);
	if (in->o->dump) {
		printf("HEADER format=%u.%u beyla=", in->major, in->minor);
		put_str(stdout, in->version);
		printf(" snaplen=%" PRIu32 " flags=0x%" PRIx32 "\n", in->snaplen, in->hflags);
	}
}

/* A probe of the report as the summary keeps it. */
static void info_probe_set(struct info_probe *ip, const struct bz_probe_value *p)
{
	memset(ip, 0, sizeof(*ip));
	ip->status = p->status;
	ip->required = p->required;
	bz_tlv_text(ip->name, sizeof(ip->name), p->name, p->name_len);
	bz_tlv_text(ip->detail, sizeof(ip->detail), p->detail, p->detail_len);
}

/* The next probe of block b: 1 with *v and *p, 0 at its end.  Values too
 * short and an option overrunning the block are noted as malformed; other
 * options only update it->place. */
static int next_probe(struct info *in, const struct bz_block *b, struct bz_probe_iter *it,
		      struct bz_probe_value *v, struct info_probe *p)
{
	uint16_t code;
	int rc;

	while ((rc = bz_probe_iter_next(it, &code, v)) > 0) {
		if (rc == BZ_PI_BAD) {
			note_malformed(in, b->offset);
		} else if (rc == BZ_PI_PROBE) {
			info_probe_set(p, v);
			return 1;
		}
	}
	if (rc < 0)
		note_malformed(in, b->offset);
	return 0;
}

static void on_probes(struct info *in, const struct bz_block *b)
{
	struct bz_probe_iter it;
	struct bz_probe_value v;
	struct info_probe p;
	in->nprobes = in->probes_more = 0; /* a later report replaces an earlier one */
	bz_probe_iter_init(&it, b);
	while (next_probe(in, b, &it, &v, &p)) {
		if (in->nprobes < INFO_PROBE_MAX)
			in->probes[in->nprobes++] = p;
		else
			in->probes_more++;
		if (in->o->dump) {
			printf("PROBE name=");
			put_str(stdout, p.name);
			printf(" status=%s required=%s detail=\"", bz_probe_status_name(p.status),
			       p.required ? "yes" : "no");
			put_esc(stdout, v.detail, v.detail_len, 1);
			printf("\"\n");
		}
	}
}

/* A capture is untrusted: no terminal control bytes from it reach stdout. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

/* Appends to a text of the summary (buf of cap bytes, *len used so far);
 * silently cut when full. */
static void vtext(char *buf, size_t cap, size_t *len, const char *fmt, va_list ap)
{
	int n;

	if (*len >= cap - 1)
		return;
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	if (n > 0)
		*len += (size_t)n < cap - *len ? (size_t)n : cap - 1 - *len;
}

/* The Go binaries' text. */
static void go_text(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(in->go_text, sizeof(in->go_text), &in->go_len, fmt, ap);
	va_end(ap);
}

/* The TLS libraries' text. */
static void tls_text(struct info *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtext(in->tls_text, sizeof(in->tls_text), &in->tls_len, fmt, ap);
	va_end(ap);
}

static void on_go_binary(struct info *in, const struct bz_block *b)
{
	struct bz_probe_iter it;
	struct bz_probe_value v;
	struct bz_probe_place *pl = &it.place;
	uint16_t code;
	int rc;

	in->ngo++;
	bz_probe_iter_init(&it, b);
	while ((rc = bz_probe_iter_next(&it, &code, &v)) > 0) {
		if (rc == BZ_PI_BAD) {
			note_malformed(in, b->offset);
		} else if (rc == BZ_PI_PROBE) {
			struct info_probe p;
			info_probe_set(&p, &v);
			printable(p.name);
			printable(p.detail);
			if (!pl->path[0] && !pl->version[0])
				continue;
			go_text(in, "    %-34s %-9s %s\n", p.name, bz_probe_status_name(p.status), p.detail);
			if (in->o->dump)
				printf("GO_PROBE name=%s status=%s detail=\"%s\"\n", p.name, bz_probe_status_name(p.status),
				       p.detail);
		} else if (code == BZ_GB_PID) {
			printable(pl->path);
			printable(pl->version);
			printable(pl->module);
			go_text(in, "  %s (%s, module %s, pid %u%s%s%s)\n", pl->path,
				pl->version[0] ? pl->version : "version unknown", pl->module[0] ? pl->module : "none",
				pl->pid, pl->flags & BZ_GB_FLAG_STRIPPED ? ", stripped" : "",
				pl->flags & BZ_GB_FLAG_DWARF ? ", offsets from DWARF" : "",
				pl->flags & BZ_GB_FLAG_OFFS_TABLE ? ", offsets from the version table" : "");
			if (in->o->dump)
				printf("GO_BINARY path=%s version=%s module=%s pid=%u flags=0x%x\n", pl->path,
				       pl->version, pl->module, pl->pid, pl->flags);
		}
	}
	if (rc < 0)
		note_malformed(in, b->offset);
}

/* A TLS library file and the OpenSSL probes placed in it: its line once
 * the path, library and pid came (they come first), then one per probe. */
static void on_tls_library(struct info *in, const struct bz_block *b)
{
	struct bz_probe_iter it;
	struct bz_probe_value v;
	struct bz_probe_place *pl = &it.place;
	struct info_probe p;
	int shown = 0;

	in->ntls++;
	bz_probe_iter_init(&it, b);
	while (next_probe(in, b, &it, &v, &p)) {
		printable(p.name);
		printable(p.detail);
		if (!shown++) {
			printable(pl->path);
			tls_text(in, "  %s (%s, %s)\n", pl->path, bz_tls_lib_name(pl->lib),
				 pl->pid ? "found in a target" : "the system's, probed at start");
			if (in->o->dump)
				printf("TLS_LIBRARY path=%s lib=%s pid=%u\n", pl->path, bz_tls_lib_name(pl->lib), pl->pid);
		}
		tls_text(in, "    %-34s %-9s %s\n", p.name, bz_probe_status_name(p.status), p.detail);
		if (in->o->dump)
			printf("TLS_PROBE name=%s status=%s detail=\"%s\"\n", p.name, bz_probe_status_name(p.status),
			       p.detail);
	}
}

static const char *tls_source_name(unsigned s)
{
	switch (s) {
	case BZ_TLS_SRC_MAPPED: return "mapped";
	case BZ_TLS_SRC_EXE: return "exe";
	case BZ_TLS_SRC_GO: return "go";
	default: return "none";
	}
}

static void dump_tls_libs(uint32_t pid, const struct bz_tls_libs *t)
{
	if (!t)
		return;
	if (!t->n)
		printf("TLS_LIB pid=%" PRIu32 " lib=none\n", pid);
	for (unsigned i = 0; i < t->n; i++) {
		const struct bz_tls_lib *l = &t->l[i];
		printf("TLS_LIB pid=%" PRIu32 " lib=%s source=%s probed=%s path=\"", pid, bz_tls_lib_key(l->lib),
		       tls_source_name(l->source),
		       l->flags & BZ_TLS_F_PROBED ? "yes" : "no");
		put_esc(stdout, (const uint8_t *)l->path, strlen(l->path), 0);
		printf("\"\n");
	}
}

static void on_proc(struct info *in, const struct bz_block *b)
{
	if (b->len < BZ_PROC_FIXED) {
		note_malformed(in, b->offset);
		return;
	}
	uint32_t pid = bz_le32(b->body), ppid = bz_le32(b->body + 4);
	uint32_t flags = bz_le32(b->body + 16);
	struct info_proc *p = proc_get(in, pid);
	p->has_proc = 1;
	p->ppid = ppid;
	p->flags = flags;
	p->exe[0] = p->service[0] = p->cmdline[0] = 0;
	/* the latest block describes the process */
	free(p->tls);
	p->tls = NULL;
	const uint8_t *cmd = NULL;
	uint32_t cmd_len = 0;
	struct bz_tlv_iter it;
	uint16_t code;
	const uint8_t *v;
	uint32_t n;
	int rc;
	bz_tlv_init(&it, b->body + BZ_PROC_FIXED, b->len - BZ_PROC_FIXED);
	while ((rc = bz_tlv_next(&it, &code, &v, &n)) == 1) {
		switch (code) {
		case BZ_PR_EXE: bz_tlv_text(p->exe, sizeof(p->exe), v, n); break;
		case BZ_PR_SERVICE_NAME: bz_tlv_text(p->service, sizeof(p->service), v, n); break;
		case BZ_PR_CMDLINE:
			bz_tlv_text(p->cmdline, sizeof(p->cmdline), v, n);
			cmd = v;
			cmd_len = n;
			break;
		case BZ_PR_TLS_LIB:
			/* the "other" row sums many processes: no library of its own */
			if (p != &in->other && !p->tls)
				p->tls = calloc(1, sizeof(*p->tls));
			if (p != &in->other && p->tls)
				bz_tls_libs_add(p->tls, v, n);
			break;
		default: break;
		}
	}
	if (rc < 0)
		note_malformed(in, b->offset);
	if (!in->o->dump)
		return;
	char fl[96];
	fmt_flags(flags, fl, sizeof(fl));
	printf("PROC pid=%" PRIu32 " ppid=%" PRIu32 " flags=%s exe=", pid, ppid, fl);
	put_str(stdout, p->exe);
	printf(" service=");
	put_str(stdout, p->service);
	printf(" cmdline=\"");
	while (cmd_len && !cmd[cmd_len - 1]) /* the trailing NUL of argv */
		cmd_len--;
	if (cmd)
		put_esc(stdout, cmd, cmd_len, 1);
	printf("\"\n");
	dump_tls_libs(pid, p->tls);
}

static void on_stats(struct info *in, const struct bz_block *b)
{
	if (b->len < BZ_STATS_FIXED) {
		note_malformed(in, b->offset);
		return;
	}
	in->have_stats = 1;
	in->stats_ts = bz_le64(b->body);
	in->nstats = in->stats_more = 0;
	uint64_t te = 0, tl = 0, tm = 0;
	struct bz_tlv_iter it;
	uint16_t code;
	const uint8_t *v;
	uint32_t n;
	int rc;
	bz_tlv_init(&it, b->body + BZ_STATS_FIXED, b->len - BZ_STATS_FIXED);
	while ((rc = bz_tlv_next(&it, &code, &v, &n)) == 1) {
		if (code != BZ_SO_PROBE)
			continue;
		if (n < 24) {
			note_malformed(in, b->offset);
			continue;
		}
		struct info_stat s = { .emitted = bz_le64(v), .lost = bz_le64(v + 8),
				       .missed = bz_le64(v + 16) };
		bz_tlv_text(s.name, sizeof(s.name), v + 24, n - 24);
		te += s.emitted;
		tl += s.lost;
		tm += s.missed;
		if (in->nstats < INFO_PROBE_MAX)
			in->stats[in->nstats++] = s;
		else
			in->stats_more++;
	}
	if (rc < 0)
		note_malformed(in, b->offset);
	if (in->o->dump)
		printf("STATS ts=%" PRIu64 " probes=%u emitted=%" PRIu64 " lost=%" PRIu64
		       " missed=%" PRIu64 "\n", in->stats_ts, in->nstats + in->stats_more, te, tl, tm);
}

static void on_end(struct info *in, const struct bz_block *b)
{
	in->have_end = 1;
	struct bz_tlv_iter it;
	uint16_t code;
	const uint8_t *v;
	uint32_t n;
	int rc;
	bz_tlv_init(&it, b->body, b->len);
	while ((rc = bz_tlv_next(&it, &code, &v, &n)) == 1) {
		switch (code) {
		case BZ_EO_END_MONO_NS: in->have_end_mono = opt_u64(v, n, &in->end_mono); break;
		case BZ_EO_EVENTS: in->have_end_events = opt_u64(v, n, &in->end_events); break;
		case BZ_EO_DROPS: in->have_end_drops = opt_u64(v, n, &in->end_drops); break;
		case BZ_EO_USER_DROPS: in->have_user_drops = opt_u64(v, n, &in->end_user_drops); break;
		case BZ_EO_STOP_REASON: bz_tlv_text(in->stop_reason, sizeof(in->stop_reason), v, n); break;
		default: break;
		}
	}
	if (rc < 0)
		note_malformed(in, b->offset);
	if (in->o->dump) {
		printf("END ts=%" PRIu64 " events=%" PRIu64 " drops=%" PRIu64 " reason=\"",
		       in->end_mono, in->end_events, in->end_drops);
		put_esc(stdout, (const uint8_t *)in->stop_reason, strlen(in->stop_reason), 0);
		printf("\"\n");
	}
}

/* ---- event records ------------------------------------------------------ */

static void dump_event(const struct bz_ev_hdr *rec, unsigned kind, size_t size)
{
	char l[64], r[64];
	switch (kind) {
	case BZ_EV_PROC_EXEC:
	case BZ_EV_PROC_ADOPT: {
		struct bz_ev_proc_exec e;
		bz_ev_copy(&e, sizeof(e), rec);
		size_t fl = e.filename_len < BZ_PATH_MAX ? e.filename_len : BZ_PATH_MAX;
		size_t al = e.args_len < BZ_ARGS_MAX ? e.args_len : BZ_ARGS_MAX;
		size_t sl = e.service_len < BZ_OTEL_SERVICE_MAX ? e.service_len : BZ_OTEL_SERVICE_MAX;
		while (al && !e.args[al - 1])
			al--;
		printf("%s ts=%" PRIu64 " pid=%u tid=%u ppid=%u file=",
		       kind == BZ_EV_PROC_EXEC ? "EXEC" : "ADOPT", (uint64_t)e.h.ts_ns,
		       e.h.pid, e.h.tid, e.ppid);
		if (fl)
			put_esc(stdout, (const uint8_t *)e.filename, fl, 0);
		else
			fputc('-', stdout);
		/* (the fields after args came with format 1.2: shown when there) */
		if (kind == BZ_EV_PROC_EXEC && e.exe_len) {
			size_t xl = e.exe_len < BZ_PATH_MAX ? e.exe_len : BZ_PATH_MAX;
			printf(" exe=");
			put_esc(stdout, (const uint8_t *)e.exe, xl, 0);
		}
		printf(" args=\"");
		put_esc(stdout, (const uint8_t *)e.args, al, 1);
		printf("\"");
		if (sl) {
			printf(" service=");
			put_esc(stdout, (const uint8_t *)e.otel_service, sl, 0);
		}
		printf("\n");
		break;
	}
	case BZ_EV_PROC_FORK: {
		struct bz_ev_proc_fork e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("FORK ts=%" PRIu64 " pid=%u child=%u\n", (uint64_t)e.h.ts_ns, e.h.pid,
		       e.child_pid);
		break;
	}
	case BZ_EV_PROC_EXIT: {
		struct bz_ev_proc_exit e;
		bz_ev_copy(&e, sizeof(e), rec);
		/* exit_code is a wait status: exit status << 8, or the killing signal */
		if (e.exit_code & 0x7f)
			printf("EXIT ts=%" PRIu64 " pid=%u signal=%d\n", (uint64_t)e.h.ts_ns, e.h.pid,
			       e.exit_code & 0x7f);
		else
			printf("EXIT ts=%" PRIu64 " pid=%u code=%d\n", (uint64_t)e.h.ts_ns, e.h.pid,
			       (e.exit_code >> 8) & 0xff);
		break;
	}
	case BZ_EV_CONN_OPEN: {
		struct bz_ev_conn_open e;
		bz_ev_copy(&e, sizeof(e), rec);
		if (e.family == BZ_AF_UNIX) {
			char path[4 * BZ_UNIX_PATH_MAX + 2];
			bz_unix_path_text(e.path, e.path_len, path, sizeof(path));
			printf("CONN ts=%" PRIu64 " pid=%u tid=%u conn=%" PRIu64 " role=%s unix=\"%s\" path_from=%s"
			       " ino=%" PRIu64 " peer_ino=%" PRIu64 " peer_pid=%u type=%u est=%" PRIu64
			       " start=%" PRIu64 " fd=%d\n",
			       (uint64_t)e.h.ts_ns, e.h.pid, e.h.tid, (uint64_t)e.conn_id, role_name(e.role), path,
			       e.path_from == BZ_UNIX_PATH_OWN ? "own" : e.path_from == BZ_UNIX_PATH_PEER ? "peer" : "none",
			       (uint64_t)e.local_ino, (uint64_t)e.peer_ino, e.peer_pid, e.sock_type,
			       (uint64_t)e.established_ns, (uint64_t)e.syscall_start_ns, e.fd);
			break;
		}
		fmt_addr(e.family, e.local_addr, e.local_port, l, sizeof(l));
		fmt_addr(e.family, e.remote_addr, e.remote_port, r, sizeof(r));
		printf("CONN ts=%" PRIu64 " pid=%u tid=%u conn=%" PRIu64 " role=%s local=%s remote=%s"
		       " est=%" PRIu64 " start=%" PRIu64 " fd=%d\n",
		       (uint64_t)e.h.ts_ns, e.h.pid, e.h.tid, (uint64_t)e.conn_id, role_name(e.role),
		       l, r, (uint64_t)e.established_ns, (uint64_t)e.syscall_start_ns, e.fd);
		break;
	}
	case BZ_EV_CONN_EST: {
		struct bz_ev_conn_est e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("EST ts=%" PRIu64 " pid=%u conn=%" PRIu64 "\n", (uint64_t)e.h.ts_ns, e.h.pid,
		       (uint64_t)e.conn_id);
		break;
	}
	case BZ_EV_CONN_CLOSE: {
		struct bz_ev_conn_close e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("CLOSE ts=%" PRIu64 " pid=%u conn=%" PRIu64 " in=%" PRIu64 " out=%" PRIu64 "\n",
		       (uint64_t)e.h.ts_ns, e.h.pid, (uint64_t)e.conn_id, (uint64_t)e.bytes_in,
		       (uint64_t)e.bytes_out);
		break;
	}
	case BZ_EV_DATA: {
		struct bz_ev_data e;
		bz_ev_copy(&e, sizeof(e), rec);
		/* caplen is only believed as far as the record goes */
		size_t room = size > sizeof(e) ? size - sizeof(e) : 0;
		size_t cap = e.caplen < room ? e.caplen : room;
		printf("DATA ts=%" PRIu64 " pid=%u tid=%u conn=%" PRIu64 " dir=", (uint64_t)e.h.ts_ns,
		       e.h.pid, e.h.tid, (uint64_t)e.conn_id);
		if (e.dir == BZ_DIR_IN || e.dir == BZ_DIR_OUT)
			fputs(e.dir == BZ_DIR_IN ? "in" : "out", stdout);
		else
			printf("%u", e.dir);
		printf(" sys=%s ret=%d start=%" PRIu64 " arrival=%" PRIu64 " cap=%zu",
		       sys_name(e.syscall & ~BZ_SYS_F_RANGES), e.ret, (uint64_t)e.start_ns,
		       (uint64_t)e.arrival_ns, cap);
		if (e.syscall & BZ_SYS_F_RANGES) {
			/* pieces of the read or write (HTTP/2, frame by frame): where
			 * each lies in it, then their bytes */
			struct bz_ev_range rg[BZ_RANGES_MAX];
			const uint8_t *data;
			uint32_t n, dl;
			uint8_t fl;
			if (bz_ev_ranges((const uint8_t *)rec + sizeof(e), cap, e.ret, rg, &n, &data, &dl, &fl)) {
				printf(" ranges=bad \"\"\n");
				break;
			}
			printf(" ranges=");
			for (uint32_t i = 0; i < n; i++)
				printf("%s%u+%u", i ? "," : "", rg[i].off, rg[i].len);
			if (!n)
				fputc('-', stdout);
			if (fl & BZ_RANGES_F_FULL)
				printf(" full=1");
			printf(" \"");
			put_esc(stdout, data, dl < INFO_PAYLOAD_SHOW ? dl : INFO_PAYLOAD_SHOW, 0);
			printf("\"\n");
			break;
		}
		printf(" \"");
		put_esc(stdout, (const uint8_t *)rec + sizeof(e),
			cap < INFO_PAYLOAD_SHOW ? cap : INFO_PAYLOAD_SHOW, 0);
		printf("\"\n");
		break;
	}
	case BZ_EV_GO_HANDLER:
	case BZ_EV_GO_CLIENT: {
		/* strings follow the fixed part; lengths believed only within the record */
		const uint8_t *raw = (const uint8_t *)rec;
		int handler = kind == BZ_EV_GO_HANDLER;
		struct bz_ev_go_handler hd;
		struct bz_ev_go_client cl;
		size_t fixed = handler ? sizeof(hd) : sizeof(cl), pos = fixed;
		size_t lens[3];
		static const char *const hnames[3] = { "method", "remote", "path" };
		static const char *const cnames[3] = { "method", "host", "path" };
		if (handler) {
			bz_ev_copy(&hd, sizeof(hd), rec);
			lens[0] = hd.method_len, lens[1] = hd.remote_len, lens[2] = hd.path_len;
			printf("GO_HANDLER ts=%" PRIu64 " pid=%u tid=%u goid=%" PRIu64 " phase=%s status=%u",
			       (uint64_t)hd.h.ts_ns, hd.h.pid, hd.h.tid, (uint64_t)hd.goid,
			       hd.phase ? "end" : "start", hd.status);
		} else {
			bz_ev_copy(&cl, sizeof(cl), rec);
			lens[0] = cl.method_len, lens[1] = cl.host_len, lens[2] = cl.path_len;
			printf("GO_CLIENT ts=%" PRIu64 " pid=%u tid=%u goid=%" PRIu64 " parent=%" PRIu64
			       " phase=%s status=%u",
			       (uint64_t)cl.h.ts_ns, cl.h.pid, cl.h.tid, (uint64_t)cl.goid,
			       (uint64_t)cl.parent_goid, cl.phase ? "end" : "start", cl.status);
		}
		for (int i = 0; i < 3; i++) {
			size_t n = pos < size ? size - pos : 0;
			if (lens[i] < n)
				n = lens[i];
			if (!n)
				continue;
			printf(" %s=\"", handler ? hnames[i] : cnames[i]);
			put_esc(stdout, raw + pos, n, 0);
			printf("\"");
			pos += n;
		}
		printf("\n");
		break;
	}
	case BZ_EV_GO_SPAWN: {
		struct bz_ev_go_spawn e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("GO_SPAWN ts=%" PRIu64 " pid=%u parent=%" PRIu64 " goid=%" PRIu64 "\n",
		       (uint64_t)e.h.ts_ns, e.h.pid, (uint64_t)e.parent_goid, (uint64_t)e.goid);
		break;
	}
	case BZ_EV_RX_ARRIVAL: {
		struct bz_ev_rx_arrival e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("RX_ARRIVAL ts=%" PRIu64 " pid=%u conn=%" PRIu64 " host=%" PRIu64 " backlog_ns=%" PRId64 "\n",
		       (uint64_t)e.h.ts_ns, e.h.pid, (uint64_t)e.conn_id, (uint64_t)e.host_ns,
		       (int64_t)(e.h.ts_ns - e.host_ns));
		break;
	}
	case BZ_EV_PEER_RX: {
		struct bz_ev_peer_rx e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("PEER_RX ts=%" PRIu64 " pid=%u conn=%" PRIu64 " bytes_out=%" PRIu64 "\n", (uint64_t)e.h.ts_ns,
		       e.h.pid, (uint64_t)e.conn_id, (uint64_t)e.bytes_out);
		break;
	}
	case BZ_EV_SCHED_SWITCH: {
		struct bz_ev_sched_switch e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("SCHED_SWITCH ts=%" PRIu64 " cpu=%u prev=%u/%u prev_state=%#x preempt=%u next=%u/%u targets=%u\n",
		       (uint64_t)e.h.ts_ns, e.cpu, e.h.pid, e.h.tid, e.prev_state, e.preempt, e.next_pid,
		       e.next_tid, e.targets);
		break;
	}
	case BZ_EV_SCHED_WAKEUP: {
		struct bz_ev_sched_wakeup e;
		bz_ev_copy(&e, sizeof(e), rec);
		printf("SCHED_WAKEUP ts=%" PRIu64 " waker=%u/%u cpu=%u wakee=%u/%u target_cpu=%u\n",
		       (uint64_t)e.h.ts_ns, e.h.pid, e.h.tid, e.waker_cpu, e.wakee_pid, e.wakee_tid,
		       e.target_cpu);
		break;
	}
	default:
		printf("UNKNOWN kind=%u size=%zu\n", kind, size);
		break;
	}
}

/* Whether the capture has scheduler events (--sched), from its probe
 * report: a line only for captures whose recorder knew the option, so
 * older summaries stay as they were. */
static void info_sched_line(const struct info *in)
{
	const struct info_probe *sw = NULL;

	for (unsigned i = 0; i < in->nprobes; i++)
		if (!strcmp(in->probes[i].name, "raw:sched_switch"))
			sw = &in->probes[i];
	if (!sw)
		return;
	if (sw->status == BZ_PROBE_ATTACHED)
		printf("scheduler:    recorded (--sched): on/off CPU and wake-ups of target threads\n");
	else if (strstr(sw->detail, "not requested"))
		printf("scheduler:    not recorded (no --sched)\n");
	else
		printf("scheduler:    asked for (--sched) but %s: %s\n", bz_probe_status_name(sw->status),
		       sw->detail);
}

/* The name `beyla analyze` gives a process: its service, else its
 * executable's basename. */
static const char *proc_name(const struct info_proc *p)
{
	const char *base = strrchr(p->exe, '/');

	if (p->service[0])
		return p->service;
	return base && base[1] ? base + 1 : p->exe[0] ? p->exe : NULL;
}

/* A connection's state (creating it, owned by pid); 0 when not followed. */
static uintptr_t conn_state(struct info *in, uint64_t id, uint32_t pid)
{
	uintptr_t v = (uintptr_t)bz_u64map_get(&in->conns, id);

	if (v)
		return v;
	v = (uintptr_t)pid << 8 | CS_SET;
	if (in->conns.len >= INFO_CONN_MAX || bz_u64map_put(&in->conns, id, (void *)v)) {
		in->conns_full = 1;
		return 0;
	}
	return v;
}

/* A connection ended (closed, or the file did): counts it if it was TLS. */
static void conn_done(struct info *in, uintptr_t v)
{
	if (!(v & CS_TLS))
		return;
	if (v & CS_GO) {
		in->tls_decrypted++;
		return;
	}
	struct info_proc *p = proc_get(in, (uint32_t)(v >> 8));
	const struct bz_tls_libs *t = p == &in->other ? NULL : p->tls;
	int slot = bz_explain_slot(&in->explain, (uint32_t)(v >> 8), proc_name(p), t);
	bz_explain_tls(&in->explain, slot, bz_tls_verdict(t));
}

/* A UNIX connection counted under its path. */
static void unix_count(struct info *in, const struct bz_ev_conn_open *e)
{
	char path[sizeof(in->unix_paths[0].path)];
	struct info_unix *u = NULL;

	bz_unix_path_text(e->path, e->path_len, path, sizeof(path));
	for (unsigned i = 0; i < in->nunix && !u; i++)
		if (!strcmp(in->unix_paths[i].path, path))
			u = &in->unix_paths[i];
	if (!u && in->nunix < INFO_UNIX_MAX) {
		u = &in->unix_paths[in->nunix++];
		memcpy(u->path, path, sizeof(path));
	}
	if (!u)
		in->unix_more++;
	else if (e->role == BZ_ROLE_ACCEPTED)
		u->accepted++;
	else if (e->role == BZ_ROLE_CONNECTED)
		u->connected++;
	else
		u->other++;
}

static void conn_event(struct info *in, const struct bz_ev_hdr *rec, unsigned kind, size_t size)
{
	if (kind == BZ_EV_CONN_OPEN) {
		struct bz_ev_conn_open e;
		bz_ev_copy(&e, sizeof(e), rec);
		conn_state(in, e.conn_id, e.h.pid);
		if (e.family == BZ_AF_UNIX)
			unix_count(in, &e);
	} else if (kind == BZ_EV_CONN_CLOSE) {
		struct bz_ev_conn_close e;
		bz_ev_copy(&e, sizeof(e), rec);
		uintptr_t v = (uintptr_t)bz_u64map_del(&in->conns, e.conn_id);
		if (v)
			conn_done(in, v);
	} else if (kind == BZ_EV_DATA) {
		struct bz_ev_data d;
		bz_ev_copy(&d, sizeof(d), rec);
		size_t room = size > sizeof(d) ? size - sizeof(d) : 0;
		size_t cap = d.caplen < room ? d.caplen : room;
		uintptr_t v;
		if (d.ret <= 0 || !(v = conn_state(in, d.conn_id, d.h.pid)))
			return;
		if (BZ_SYS_IS_PLAINTEXT(d.syscall & ~BZ_SYS_F_RANGES))
			v |= CS_GO;
		else if (!(v & CS_FIRST))
			/* as the analyzer: the first payload decides */
			v |= CS_FIRST | (bz_detect_tls_record((const uint8_t *)rec + sizeof(d), cap) ? CS_TLS : 0);
		bz_u64map_put(&in->conns, d.conn_id, (void *)v); /* replaces: cannot fail */
	}
}

/* The end of the file: connections still open are done too. */
static void conns_end(struct info *in)
{
	size_t pos = 0;
	uint64_t key;
	void *v;

	while (bz_u64map_next(&in->conns, &pos, &key, &v))
		conn_done(in, (uintptr_t)v);
	bz_u64map_free(&in->conns);
}

static void on_event(struct info *in, const struct bz_ev_hdr *rec)
{
	struct bz_ev_hdr h;
	size_t size = bz_ev_copy(&h, sizeof(h), rec);
	unsigned kind = h.kind < BZ_EV_KIND_MAX ? h.kind : 0;
	in->kinds[kind]++;
	if (!in->events++ || h.ts_ns < in->first_ts)
		in->first_ts = h.ts_ns;
	if (h.ts_ns > in->last_ts)
		in->last_ts = h.ts_ns;
	uint32_t owner = h.pid;
	/* a switch to a target from another process, or a target woken by
	 * one: the target's event (the header names prev, or the waker) */
	if (kind == BZ_EV_SCHED_WAKEUP) {
		struct bz_ev_sched_wakeup w;
		bz_ev_copy(&w, sizeof(w), rec);
		owner = w.wakee_pid;
	} else if (kind == BZ_EV_SCHED_SWITCH && !proc_find(in, h.pid)) {
		struct bz_ev_sched_switch sw;
		bz_ev_copy(&sw, sizeof(sw), rec);
		owner = sw.next_pid;
	}
	struct info_proc *p = proc_get(in, owner);
	p->events++;
	if (kind == BZ_EV_CONN_OPEN) {
		p->conns++;
	} else if (kind == BZ_EV_DATA) {
		struct bz_ev_data d;
		bz_ev_copy(&d, sizeof(d), rec);
		if (d.ret > 0 && d.dir == BZ_DIR_IN)
			p->bytes_in += (uint64_t)d.ret;
		else if (d.ret > 0 && d.dir == BZ_DIR_OUT)
			p->bytes_out += (uint64_t)d.ret;
	} else if (kind == BZ_EV_PROC_FORK) {
		struct bz_ev_proc_fork f;
		bz_ev_copy(&f, sizeof(f), rec);
		struct info_proc *c = proc_get(in, f.child_pid);
		if (c != &in->other && !c->has_proc && !c->ppid)
			c->ppid = h.pid;
	}
	conn_event(in, rec, kind, size);
	if (in->o->dump)
		dump_event(rec, h.kind, size);
}

static void on_events(struct info *in, const struct bz_block *b)
{
	struct bz_ev_iter it;
	const struct bz_ev_hdr *rec;
	int rc;
	if (bz_ev_iter_init(&it, b) < 0) {
		note_malformed(in, b->offset);
		return;
	}
	while ((rc = bz_ev_iter_next(&it, &rec)) == 1)
		on_event(in, rec);
	if (rc < 0)
		note_malformed(in, b->offset);
}

static void on_block(struct info *in, const struct bz_block *b)
{
	in->blocks++;
	in->raw_bytes += (uint64_t)b->len + BZ_BLOCK_OVERHEAD;
	switch (b->type) {
	case BZ_BLK_HEADER: on_header(in, b); break; /* reader checked 16-byte fixed part */
	case BZ_BLK_PROBES: on_probes(in, b); break;
	case BZ_BLK_PROC: on_proc(in, b); break;
	case BZ_BLK_EVENTS: on_events(in, b); break;
	case BZ_BLK_STATS: on_stats(in, b); break;
	case BZ_BLK_END: on_end(in, b); break;
	case BZ_BLK_GO_BINARY: on_go_binary(in, b); break;
	case BZ_BLK_TLS_LIBRARY: on_tls_library(in, b); break;
	default:
		in->unknown_blocks++;
		if (in->o->dump)
			printf("BLOCK type=%" PRIu32 " len=%" PRIu32 "\n", b->type, b->len);
		break;
	}
}

/* ---- the summary -------------------------------------------------------- */

static void print_summary(struct info *in, uint64_t compressed)
{
	char t[96];
	printf("file:         %s\n", in->o->path);
	printf("format:       %u.%u%s\n", in->major, in->minor,
	       in->hflags & BZ_HDR_FLAG_NO_REDACT ? " (payload redaction off)" : "");
	printf("beyla:        %s\n", in->version[0] ? in->version : "?");
	printf("recorded by:  %s\n", in->argv[0] ? in->argv : "?");
	printf("host:         %s (kernel %s, %s, ", in->hostname[0] ? in->hostname : "?",
	       in->kernel[0] ? in->kernel : "?", in->arch[0] ? in->arch : "?");
	if (in->have_ncpus)
		printf("%" PRIu32 " cpus, ", in->ncpus);
	else
		printf("? cpus, ");
	printf("boot id %s)\n", in->boot_id[0] ? in->boot_id : "?");

	uint64_t start = in->have_start ? in->start_mono : in->first_ts;
	uint64_t end = in->have_end_mono ? in->end_mono : in->last_ts;
	if (in->have_start || in->events) {
		fmt_wall(in, start, t, sizeof(t));
		printf("start:        %s\n", t);
		uint64_t d = end > start ? end - start : 0;
		printf("duration:     %" PRIu64 ".%03" PRIu64 " s%s\n", d / 1000000000u,
		       d % 1000000000u / 1000000u, in->have_end_mono ? "" : " (to the last event)");
	} else {
		printf("start:        ?\nduration:     ?\n");
	}
	if (in->have_snaplen)
		printf("snaplen:      %" PRIu32 " bytes\n", in->snaplen);
	else
		printf("snaplen:      ?\n");
	printf("target:       %s\n", in->target[0] ? in->target : "?");
	if (in->have_ring)
		printf("ring buffer:  %" PRIu32 " bytes\n", in->ring_bytes);
	printf("redaction:    %s\n", in->hflags & BZ_HDR_FLAG_NO_REDACT ? "off" : "on");
	/* the kernel's waits (bpf/kwait.bpf.h): a capture older than 1.6 cannot have them */
	printf("kernel waits: %s\n", in->hflags & BZ_HDR_FLAG_KWAITS ? "recorded (rx_backlog_ns, tx_queue_ns)"
				    : in->minor >= 6 ? "not recorded (--no-kernel-waits)"
				    : "not recorded (a recorder older than format 1.6)");
	info_sched_line(in);
	printf("go probes:    %s\n",
	       in->go_mode == BZ_GO_MODE_FAST ? "fast (--go=fast: no single-stepped probe; HTTPS requests "
						"from the handler's *http.Request, crypto/tls reads at their copy)"
	       : in->go_mode == BZ_GO_MODE_FULL ? "full (--go=full: crypto/tls plaintext both ways, handler ends, "
						  "round trips' returns)"
	       : in->go_mode == BZ_GO_MODE_OFF ? "off (--no-go, or the kernel refused them)"
	       : "full (a recorder older than format 1.7, which had no other mode)");

	printf("\nprobes: %u\n", in->nprobes + in->probes_more);
	for (unsigned i = 0; i < in->nprobes; i++) {
		const struct info_probe *p = &in->probes[i];
		printf("  %-20s %-9s %-9s %s\n", p->name, bz_probe_status_name(p->status),
		       p->required ? "required" : "optional", p->detail);
	}
	if (in->probes_more)
		printf("  (%u more not shown)\n", in->probes_more);
	if (in->ngo)
		printf("\ngo executables: %u\n%s", in->ngo, in->go_text);
	if (in->ntls)
		printf("\ntls libraries probed: %u\n%s", in->ntls, in->tls_text);

	printf("\nprocesses: %u%s\n", in->nprocs, in->other.events ? " (and more, summed as 'other')" : "");
	if (in->nprocs || in->other.events)
		printf("  %7s %7s %-22s %8s %6s %10s %10s  %s\n", "PID", "PPID", "FLAGS", "EVENTS",
		       "CONNS", "BYTES_IN", "BYTES_OUT", "EXE / SERVICE / CMDLINE");
	qsort(in->procs, in->nprocs, sizeof(in->procs[0]), proc_cmp);
	for (unsigned i = 0; i <= in->nprocs; i++) {
		const struct info_proc *p = i < in->nprocs ? &in->procs[i] : &in->other;
		char fl[96];
		if (i == in->nprocs && !p->events)
			break;
		fmt_flags(p->flags, fl, sizeof(fl));
		if (i < in->nprocs)
			printf("  %7" PRIu32 " %7" PRIu32 " ", p->pid, p->ppid);
		else
			printf("  %7s %7s ", "other", "-");
		printf("%-22s %8" PRIu64 " %6" PRIu64 " %10" PRIu64 " %10" PRIu64 "  ", fl, p->events,
		       p->conns, p->bytes_in, p->bytes_out);
		put_str(stdout, p->exe);
		printf(" / ");
		put_str(stdout, p->service);
		printf(" / \"");
		put_esc(stdout, (const uint8_t *)p->cmdline, strlen(p->cmdline), 0);
		printf("\"%s\n", p->has_proc || i == in->nprocs ? "" : " (no PROC block)");
		if (i < in->nprocs && p->tls && p->tls->n) {
			char t[BZ_TLS_LIBS_MAX * (BZ_TLS_PATH_MAX + 32)];
			bz_tls_libs_text(p->tls, t, sizeof(t));
			printf("  %7s tls: %s\n", "", t);
		}
	}
	if (in->explain.tls_opaque) {
		printf("\n");
		bz_explain_print(&in->explain, 0, 0, stdout);
		if (in->tls_decrypted)
			printf("(%" PRIu64 " more TLS connections carried Go crypto/tls plaintext)\n", in->tls_decrypted);
		if (in->conns_full)
			printf("(more than %u connections were open at once: only the first ones were looked at)\n",
			       INFO_CONN_MAX);
	}

	if (in->nunix) {
		/* only in captures that have some: older summaries stay as they were */
		printf("\nunix sockets: %u path(s)\n", in->nunix);
		printf("  %8s %9s %6s  %s\n", "ACCEPTED", "CONNECTED", "OTHER", "PATH");
		for (unsigned i = 0; i < in->nunix; i++) {
			const struct info_unix *u = &in->unix_paths[i];
			printf("  %8" PRIu64 " %9" PRIu64 " %6" PRIu64 "  %s\n", u->accepted, u->connected, u->other,
			       u->path[0] ? u->path : "(unbound: socketpair)");
		}
		if (in->unix_more)
			printf("  (%" PRIu64 " more connections on other paths)\n", in->unix_more);
	}

	printf("\nevents: %" PRIu64 "\n", in->events);
	for (unsigned k = 1; k <= BZ_EV_KIND_MAX; k++) {
		unsigned i = k % BZ_EV_KIND_MAX; /* unknown last */
		/* Go kinds only where there are some: most captures have none */
		if (i >= BZ_EV_GO_HANDLER && !in->kinds[i])
			continue;
		if (i || in->kinds[0])
			printf("  %-11s %12" PRIu64 "\n", bz_ev_kind_name(i), in->kinds[i]);
	}

	uint64_t lost = 0;
	if (in->have_stats) {
		printf("\nprobe counters (last STATS block):\n");
		printf("  %-20s %12s %12s %12s\n", "PROBE", "EMITTED", "LOST", "MISSED");
		for (unsigned i = 0; i < in->nstats; i++) {
			const struct info_stat *s = &in->stats[i];
			printf("  %-20s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n", s->name,
			       s->emitted, s->lost, s->missed);
			lost += s->lost;
		}
		if (in->stats_more)
			printf("  (%u more not shown)\n", in->stats_more);
	} else {
		printf("\nprobe counters: none (no STATS block)\n");
	}
	if (!in->have_end_drops && !in->have_stats) {
		printf("\ndrops:        unknown (the file ends before any counters were written)\n");
	} else {
		printf("\ndrops:        %" PRIu64 " in the kernel (ring buffer full)",
		       in->have_end_drops ? in->end_drops : lost);
		if (in->have_user_drops)
			printf(", %" PRIu64 " in user space", in->end_user_drops);
		printf("%s\n", in->have_end_drops ? "" : " (from the last STATS block)");
	}
	if (in->have_end)
		printf("stop reason:  %s\n", in->stop_reason[0] ? in->stop_reason : "?");
	if (in->malformed)
		printf("malformed:    %" PRIu64 " blocks or records skipped\n", in->malformed);
	printf("compressed:   %" PRIu64 " bytes\n", compressed);
	printf("uncompressed: %" PRIu64 " bytes in %" PRIu64 " blocks\n", in->raw_bytes, in->blocks);
	if (in->events)
		printf("per event:    %.1f bytes compressed, %.1f uncompressed\n",
		       (double)compressed / (double)in->events,
		       (double)in->raw_bytes / (double)in->events);
}

/* ---- the command -------------------------------------------------------- */

static const struct argp_option info_options[] = {
	{ "dump", 'D', NULL, 0,
	  "Instead of the summary, print one line per block and event record "
	  "(PROC, EXEC, FORK, EXIT, CONN, EST, CLOSE, DATA, ...); the status then goes to stderr", 0 },
	{ 0 }
};

static error_t info_parse(int key, char *arg, struct argp_state *state)
{
	struct info_opts *o = state->input;
	switch (key) {
	case 'D':
		o->dump = 1;
		return 0;
	case ARGP_KEY_ARG:
		if (o->path)
			argp_error(state, "one FILE at a time");
		o->path = arg;
		return 0;
	case ARGP_KEY_END:
		if (!o->path)
			argp_error(state, "which capture? give a FILE");
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const char info_doc[] =
	"Describe a beyla capture: format and beyla version, the recorder's command line, "
	"the host, start time and duration, which probes attached, the processes recorded, "
	"event counts, drops, sizes, and whether the file is complete."
	"\v"
	"Examples:\n"
	"  beyla info shop.bz.zst\n"
	"  beyla info --dump shop.bz.zst | grep '^DATA' | head\n"
	"\n"
	"The first prints the summary; its last line is 'status: complete', "
	"'status: truncated: ...' (the recorder was killed or the disk filled; everything "
	"before the cut is still usable) or 'status: corrupt: ...'. The second prints the "
	"first socket reads and writes, one per line, with their first payload bytes.\n"
	"\n"
	"Exit status: 0 complete, 1 usage or I/O error, 2 not a beyla capture, "
	"3 written by a newer beyla, 4 truncated, 5 corrupt.";

static const struct argp info_argp = { info_options, info_parse, "FILE", info_doc, NULL, NULL, NULL };

int cmd_info(int argc, char **argv)
{
	struct info_opts o = { 0 };
	char *argv0 = argc > 0 ? argv[0] : NULL;
	if (argc > 0)
		argv[0] = (char *)"beyla info"; /* for argp's usage lines */
	argp_err_exit_status = BZ_EXIT_USAGE;
	error_t perr = argp_parse(&info_argp, argc, argv, 0, NULL, &o);
	if (argc > 0)
		argv[0] = argv0;
	if (perr)
		return BZ_EXIT_USAGE;

	struct info *in = calloc(1, sizeof(*in));
	if (in) {
		in->procs = calloc(INFO_PROC_MAX, sizeof(in->procs[0]));
		in->slots = malloc(INFO_PROC_SLOTS * sizeof(in->slots[0]));
	}
	if (!in || !in->procs || !in->slots) {
		fprintf(stderr, "beyla info: out of memory\n");
		if (in) {
			free(in->procs);
			free(in->slots);
		}
		free(in);
		return BZ_EXIT_USAGE;
	}
	memset(in->slots, 0xff, INFO_PROC_SLOTS * sizeof(in->slots[0]));
	in->o = &o;

	int ret;
	struct bz_reader *r = NULL;
	int rc = bz_reader_open_file(&r, o.path);
	if (rc) {
		fprintf(stderr, "beyla info: %s: %s\n", o.path, strerror(-rc));
		ret = BZ_EXIT_USAGE;
		goto out;
	}
	struct bz_block b;
	while ((rc = bz_reader_next(r, &b)) == 1)
		on_block(in, &b);
	conns_end(in);
	uint64_t compressed = bz_reader_compressed_offset(r);

	char status[400];
	switch (rc) {
	case BZ_READ_NOT_CAPTURE:
	case BZ_READ_TOO_NEW:
	case BZ_READ_IO:
	case BZ_READ_NOMEM:
		fflush(stdout);
		fprintf(stderr, "beyla info: %s: %s\n", o.path, bz_reader_errmsg(r));
		ret = rc == BZ_READ_NOT_CAPTURE ? BZ_EXIT_NOT_CAPTURE
		      : rc == BZ_READ_TOO_NEW  ? BZ_EXIT_TOO_NEW
					       : BZ_EXIT_USAGE;
		goto out;
	case BZ_READ_TRUNCATED:
		snprintf(status, sizeof(status), "truncated: %s", bz_reader_errmsg(r));
		ret = BZ_EXIT_TRUNCATED;
		break;
	case BZ_READ_CORRUPT:
		snprintf(status, sizeof(status), "corrupt: %s", bz_reader_errmsg(r));
		ret = BZ_EXIT_CORRUPT;
		break;
	default:
		if (in->malformed) {
			snprintf(status, sizeof(status),
				 "corrupt: %" PRIu64 " malformed blocks or records, the first in the block "
				 "at decompressed offset %" PRIu64, in->malformed, in->malformed_off);
			ret = BZ_EXIT_CORRUPT;
		} else if (!in->have_end) {
			snprintf(status, sizeof(status),
				 "truncated: no end block (recorder killed?) after byte %" PRIu64, compressed);
			ret = BZ_EXIT_TRUNCATED;
		} else {
			snprintf(status, sizeof(status), "complete");
			ret = BZ_EXIT_OK;
		}
		break;
	}
	if (o.dump) {
		fflush(stdout);
		if (ret != BZ_EXIT_OK)
			fprintf(stderr, "beyla info: %s: %s\n", o.path, status);
	} else {
		print_summary(in, compressed);
		printf("status: %s\n", status);
	}
out:
	fflush(stdout);
	bz_reader_free(&r);
	bz_u64map_free(&in->conns);
	for (unsigned i = 0; i < in->nprocs; i++)
		free(in->procs[i].tls);
	free(in->procs);
	free(in->slots);
	free(in);
	return ret;
}
