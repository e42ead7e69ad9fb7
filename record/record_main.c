/* record_main.c - `beyla record`: load the BPF programs, choose targets,
 * drain the ring buffer into a capture file until told to stop.
 *
 * Order, as in libbpf-tools: parse args and check everything that can be
 * checked without side effects; create the output; open the skeleton, set
 * rodata, disable probes this kernel lacks, load, attach; seed targets;
 * write metadata; poll and write; then one exit path that drains, writes
 * final counters and the END block, and cleans up. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "beyla.skel.h"
#include "bpf/beyla_events.h"
#include "cmd/commands.h"
#include "record/capture_format.h"
#include "record/capture_writer.h"
#include "record/hostinfo.h"
#include "record/kwaits.h"
#include "record/options.h"
#include "record/probes.h"
#include "analyze/u64map.h"
#include "record/goprobes.h"
#include "record/sslprobes.h"
#include "record/ident.h"
#include "record/procinfo.h"
#include "record/redact.h"
#include "record/selection.h"
#include "record/target_set.h"
#include "record/targets.h"
#include "record/tlslibs.h"

#define EVENTS_BLOCK_MAX (256u << 10) /* raw bytes per EVENTS block */
#define POLL_MS 100
/* --exe: how late at most the recorder judges a new process's exec; until
 * then the process is a tentative target and its records wait in the ring
 * (a wake-up per exec cost the exec'ing process ~6 us in the kernel) */
#define POLL_MS_JUDGING 10
#define FRAME_EVERY_NS 1000000000ull  /* a killed recorder loses at most this */
#define STATS_EVERY_NS 1000000000ull  /* a killed recorder still tells its drops */

enum stop_reason { STOP_NONE, STOP_DURATION, STOP_SIGNAL, STOP_CMD_EXIT, STOP_WRITE_ERROR };
static const char *const stop_names[] = {
	[STOP_NONE] = "unknown", [STOP_DURATION] = "duration", [STOP_SIGNAL] = "signal",
	[STOP_CMD_EXIT] = "command exited", [STOP_WRITE_ERROR] = "write error",
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

struct recorder {
	struct record_opts *o;
	struct beyla_bpf *skel;
	struct go_probes *go;
	struct ssl_probes *ssl;
	/* The targets as the event stream says them (seeded, forked, adopted,
	 * judged at exec, exited) and who each is. */
	struct target_set targets;
	struct selection sel;
	int have_sel;
	int judge_execs; /* --exe: execs make tentative targets to judge */
	uint64_t last_prune_ns;
	struct ring_buffer *rb;
	struct bz_writer *w;
	struct probe_result *probes;
	struct bz_buf batch;       /* EVENTS block being filled */
	uint32_t batch_count;
	struct bz_buf tmp;
	struct procinfo pi, known;
	struct bz_redact *redact;  /* NULL with --no-redact */
	uint64_t by_kind[BZ_EV_KIND_MAX];
	uint64_t events;
	uint64_t start_ns, last_frame_ns, last_stats_ns, last_status_ns;
	struct launch launch;
	int launched, child_exited, child_status;
	enum stop_reason stop;
	char out_path[4096];
	int status_line; /* a status line is on screen */
	int tstamp_fd;   /* keeps the kernel's receive timestamps on (kwaits.h); -1: none */
};

static uint64_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("beyla record: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* libbpf's warnings are kept, and the tail shown only when loading fails:
 * a verifier log arrives as one message of up to hundreds of KiB. */
static char libbpf_log[1 << 18];
static int libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list aq;
	size_t len = strlen(libbpf_log);

	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	if (libbpf_verbose) {
		va_copy(aq, ap);
		vfprintf(stderr, fmt, aq);
		va_end(aq);
	}
	if (len > sizeof(libbpf_log) / 2) /* keep the newest messages */
		len = 0;
	vsnprintf(libbpf_log + len, sizeof(libbpf_log) - len, fmt, ap);
	return 0;
}

/* The last n lines of the libbpf log. */
static const char *libbpf_log_tail(int n)
{
	size_t len = strlen(libbpf_log);
	const char *p = libbpf_log + len;

	while (p > libbpf_log && n >= 0) {
		p--;
		if (*p == '\n')
			n--;
	}
	return p == libbpf_log ? p : p + 1;
}

static int write_block(struct recorder *r, uint32_t type, const struct bz_buf *b)
{
	if (b->err)
		return b->err;
	return bz_writer_block(r->w, type, b->data, b->len);
}

static int flush_batch(struct recorder *r)
{
	int rc;

	if (!r->batch_count)
		return 0;
	/* the redactor may still mask back into payloads of this batch (a
	 * secret cut over two writes): it must be done with them now */
	bz_redact_settle(r->redact);
	/* patch the count into the fixed part */
	r->batch.data[0] = r->batch_count & 0xff;
	r->batch.data[1] = (r->batch_count >> 8) & 0xff;
	r->batch.data[2] = (r->batch_count >> 16) & 0xff;
	r->batch.data[3] = (r->batch_count >> 24) & 0xff;
	rc = write_block(r, BZ_BLK_EVENTS, &r->batch);
	bz_buf_reset(&r->batch);
	r->batch_count = 0;
	return rc;
}

/* Appends an event to the batch; returns the batch's copy of it (NULL if
 * out of memory).  batch_done() must follow before the next put. */
static uint8_t *batch_put(struct recorder *r, const void *ev, uint32_t size)
{
	size_t before;

	if (!r->batch_count) {
		bz_buf_reset(&r->batch);
		bz_buf_put_u32(&r->batch, 0);
		bz_buf_put_u32(&r->batch, 0);
	}
	before = r->batch.len;
	/* growing moves the batch, and with it payloads the redactor holds */
	if (r->batch.len + size > r->batch.cap)
		bz_redact_settle(r->redact);
	bz_buf_put(&r->batch, ev, size);
	return r->batch.len == before + size ? r->batch.data + before : NULL;
}

static void batch_done(struct recorder *r)
{
	r->batch_count++;
	r->events++;
	if (r->batch.len >= EVENTS_BLOCK_MAX)
		flush_batch(r);
}

static void batch_add(struct recorder *r, const void *ev, uint32_t size)
{
	batch_put(r, ev, size);
	batch_done(r);
}

/* A target mapped a file executable (bpf/ssl.bpf.h): nothing to do here,
 * the wake-up was the point (record_loop polls maps_changed). */
static int on_maps_wakeup(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* The TLS libraries whose plaintext this recording's probes read, as
 * tlslibs_scan wants them. */
static unsigned probed_tls_libs(const struct recorder *r)
{
	return (go_probes_enabled(r->go) ? 1u << BZ_TLS_GO : 0) |
	       (ssl_probes_enabled(r->ssl) ? 1u << BZ_TLS_OPENSSL | 1u << BZ_TLS_BORINGSSL : 0);
}

/* A TLS library probed (sslprobes.c): its block, before the events of the
 * processes that use it. */
static void write_tls_library(void *user, struct bz_buf *body)
{
	struct recorder *r = user;

	flush_batch(r);
	write_block(r, BZ_BLK_TLS_LIBRARY, body);
}

/* Writes a PROC block for pid from /proc, with what the kernel reported
 * (known: an exec's or adoption's identity, a forked child's parent) for
 * whatever /proc no longer has, and remembers the identity with the target. */
static void write_proc(struct recorder *r, pid_t pid, pid_t ppid_hint, uint32_t flags, uint64_t ts,
		       const struct procinfo *known)
{
	struct tlslibs libs;
	int rc, scanned;

	flush_batch(r); /* a PROC block describes the events after it */
	rc = ident_read(pid, known, &r->pi);
	if (rc) {
		if (rc < 0) {
			memset(&r->pi, 0, sizeof(r->pi));
			r->pi.pid = pid;
		}
		if (!r->pi.ppid)
			r->pi.ppid = ppid_hint;
		flags |= BZ_PF_GONE;
	}
	bz_buf_reset(&r->tmp);
	bz_redact_argv(r->redact, r->pi.cmdline, r->pi.cmdline_len);
	procinfo_encode(&r->pi, ts, flags, &r->tmp);
	/* its TLS library, while the process is there to ask (unreadable maps:
	 * the block says nothing rather than "none") */
	scanned = !(flags & BZ_PF_GONE) && tlslibs_scan(pid, probed_tls_libs(r), &libs) == 0;
	if (scanned)
		(void)tlslibs_put(&libs, &r->tmp);
	write_block(r, BZ_BLK_PROC, &r->tmp);
	/* (out of memory: the target is kept without an identity for its children) */
	(void)target_keep(&r->targets, pid, &r->pi);
	/* a Go executable seen for the first time gets its uprobes now */
	if (!(flags & BZ_PF_GONE) && go_probes_consider(r->go, pid, &r->tmp, r->o->quiet ? NULL : stderr) > 0)
		write_block(r, BZ_BLK_GO_BINARY, &r->tmp);
	/* and a TLS library file seen for the first time, its OpenSSL uprobes */
	if (scanned)
		(void)ssl_probes_take(r->ssl, pid, &libs, write_tls_library, r, r->o->quiet ? NULL : stderr);
}

/* Makes pid a target (its bit in the programs' bitmap, the mmapped .bss),
 * before any PROC block says who it is. */
static int add_target(struct recorder *r, pid_t pid)
{
	return target_keep(&r->targets, pid, NULL);
}

/* --exe: does the program a process just exec'd match?  All from the
 * kernel's report (the resolved executable, comm, argv; then the path
 * given to execve, a symlink's name perhaps): no trip to /proc, which the
 * process may have left already. */
static int exec_matches(struct recorder *r, const struct bz_ev_proc_exec *ev, struct procinfo *ev_pi)
{
	size_t fl = ev->filename_len < BZ_PATH_MAX ? ev->filename_len : BZ_PATH_MAX - 1;
	char resolved[sizeof(ev_pi->exe)];
	int hit;

	if (selection_matches(&r->sel, ev_pi))
		return 1;
	if (!fl || (fl == strlen(ev_pi->exe) && !memcmp(ev->filename, ev_pi->exe, fl)))
		return 0;
	/* the given path in place of the resolved one, then back */
	snprintf(resolved, sizeof(resolved), "%s", ev_pi->exe);
	memcpy(ev_pi->exe, ev->filename, fl);
	ev_pi->exe[fl] = '\0';
	hit = selection_matches(&r->sel, ev_pi);
	snprintf(ev_pi->exe, sizeof(ev_pi->exe), "%s", resolved);
	return hit;
}

/* --exe: a record of a process never judged (its EXEC was lost in a full
 * ring buffer): judge it from /proc now; one gone is let go. */
static enum target_state judge_unknown(struct recorder *r, pid_t pid, uint64_t ts)
{
	if (procinfo_read(pid, &r->pi) == 0 &&
	    (selection_matches(&r->sel, &r->pi) || target_state(&r->targets, r->pi.ppid) == TS_KEPT)) {
		r->known = r->pi;
		write_proc(r, pid, r->known.ppid, 0, ts, &r->known);
		return TS_KEPT;
	}
	target_let_go(&r->targets, pid, ts);
	return TS_LET_GO;
}

/* --exe: is this record (not an EXEC, FORK or ADOPT, which decide for
 * themselves) one of a process let go, or of a connection it opened? */
static int from_let_go(struct recorder *r, const struct bz_ev_hdr *h, const void *data, uint32_t len)
{
	uint64_t conn = 0;
	enum target_state st;

	/* (connection records hold their conn_id right after the header) */
	if (len < sizeof(*h) + sizeof(conn))
		return 0;
	switch (h->kind) {
	case BZ_EV_CONN_EST:
	case BZ_EV_CONN_CLOSE:
		/* may come after the process exited: the connection decides */
		memcpy(&conn, (const uint8_t *)data + sizeof(*h), sizeof(conn));
		if (!target_conn_dropped(&r->targets, conn))
			return 0;
		if (h->kind == BZ_EV_CONN_CLOSE)
			target_conn_closed(&r->targets, conn);
		return 1;
	case BZ_EV_DATA:
		memcpy(&conn, (const uint8_t *)data + sizeof(*h), sizeof(conn));
		if (target_conn_dropped(&r->targets, conn))
			return 1;
		break;
	default:
		break;
	}
	st = target_state(&r->targets, (pid_t)h->pid);
	if (st == TS_UNKNOWN)
		st = judge_unknown(r, (pid_t)h->pid, h->ts_ns);
	if (st != TS_LET_GO)
		return 0;
	if (h->kind == BZ_EV_CONN_OPEN) {
		memcpy(&conn, (const uint8_t *)data + sizeof(*h), sizeof(conn));
		target_drop_conn(&r->targets, conn);
	}
	return 1;
}

/* An EXEC record: a target exec'd (it stays one), or with --exe any
 * process did and is a tentative target to judge. */
static int on_exec(struct recorder *r, const struct bz_ev_proc_exec *ev, uint32_t len)
{
	pid_t pid = (pid_t)ev->h.pid;
	struct procinfo *ev_pi = &r->known;

	ident_from_event(ev, len, ev_pi);
	if (r->judge_execs && target_state(&r->targets, pid) != TS_KEPT &&
	    !exec_matches(r, ev, ev_pi)) {
		target_let_go(&r->targets, pid, ev->h.ts_ns);
		return 0;
	}
	batch_add(r, ev, len);
	write_proc(r, pid, (pid_t)ev->ppid, BZ_PF_EXEC, ev->h.ts_ns, ev_pi);
	return 1;
}

/* An ADOPT record: a process used a --port port and is a target now. */
static int on_adopt(struct recorder *r, const struct bz_ev_proc_exec *ev, uint32_t len)
{
	pid_t pid = (pid_t)ev->h.pid;

	if (target_state(&r->targets, pid) == TS_KEPT)
		return 0; /* (judged a target at its exec meanwhile) */
	ident_from_event(ev, len, &r->known);
	batch_add(r, ev, len);
	write_proc(r, pid, (pid_t)ev->ppid, BZ_PF_ADOPTED, ev->h.ts_ns, &r->known);
	return 1;
}

/* A FORK record: the child of a target is one, and is its parent until it
 * execs; the child of a process let go (forked while it was tentative) is
 * let go with it. */
static int on_fork(struct recorder *r, const struct bz_ev_proc_fork *ev, uint32_t len)
{
	pid_t parent = (pid_t)ev->h.pid, child = (pid_t)ev->child_pid;
	enum target_state st = target_state(&r->targets, parent);
	const struct procinfo *pid_known;

	if (r->judge_execs) {
		if (st == TS_UNKNOWN)
			st = judge_unknown(r, parent, ev->h.ts_ns);
		if (st == TS_LET_GO) {
			target_let_go(&r->targets, child, ev->h.ts_ns);
			return 0;
		}
	}
	batch_add(r, ev, len);
	pid_known = target_ident(&r->targets, parent);
	if (pid_known) {
		r->known = *pid_known;
		r->known.pid = child;
		r->known.ppid = parent;
	}
	write_proc(r, child, parent, BZ_PF_FORKED, ev->h.ts_ns, pid_known ? &r->known : NULL);
	return 1;
}

/* Forgets the let-go verdicts old enough that no record of theirs can
 * still be in the ring (pids are reused: an old verdict must not stay). */
static void prune_verdicts(struct recorder *r, uint64_t now)
{
	if (!r->judge_execs || now - r->last_prune_ns < 5000000000ull)
		return;
	r->last_prune_ns = now;
	target_prune_let_go(&r->targets, now > 10000000000ull ? now - 10000000000ull : 0);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct recorder *r = ctx;
	const struct bz_ev_hdr *h = data;
	uint32_t len;
	int kept = 1;

	if (size < sizeof(*h) || h->size < sizeof(*h) || h->size > size)
		return 0;
	len = h->size;
	/* With --exe, records of processes let go after their exec are dropped
	 * here (the kernel wrote them while the process was tentative). */
	if (r->judge_execs && h->kind != BZ_EV_PROC_EXEC && h->kind != BZ_EV_PROC_FORK &&
	    h->kind != BZ_EV_PROC_ADOPT && from_let_go(r, h, data, len)) {
		r->targets.dropped_events++;
		return 0;
	}
	if (h->kind == BZ_EV_DATA) {
		/* The ring is read-only: credentials are masked in the batch's copy. */
		uint8_t *copy = batch_put(r, data, len);
		if (copy)
			bz_redact_event_in_place(r->redact, copy, len);
		batch_done(r);
		r->by_kind[BZ_EV_DATA]++;
		return 0;
	}
	data = bz_redact_event(r->redact, data, len); /* (forgets closed connections) */
	switch (h->kind) {
	case BZ_EV_PROC_EXEC:
		if (len < offsetof(struct bz_ev_proc_exec, comm))
			return 0;
		kept = on_exec(r, data, len);
		break;
	case BZ_EV_PROC_ADOPT:
		if (len < offsetof(struct bz_ev_proc_exec, comm))
			return 0;
		kept = on_adopt(r, data, len);
		break;
	case BZ_EV_PROC_FORK:
		if (len < sizeof(struct bz_ev_proc_fork))
			return 0;
		kept = on_fork(r, data, len);
		break;
	case BZ_EV_PROC_EXIT:
		batch_add(r, data, len);
		target_exit(&r->targets, (pid_t)h->pid);
		break;
	default:
		batch_add(r, data, len);
	}
	if (!kept)
		r->targets.dropped_events++;
	else if (h->kind < BZ_EV_KIND_MAX)
		r->by_kind[h->kind]++;
	return 0;
}

/* Sums the per-CPU probe counters. */
static void read_counts(struct recorder *r, struct bz_probe_counts *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bz_probe_counts *pc = calloc(ncpu > 0 ? ncpu : 1, sizeof(*pc));

	memset(out, 0, sizeof(*out) * BZ_P_MAX);
	if (!pc || ncpu <= 0) {
		free(pc);
		return;
	}
	for (uint32_t id = 0; id < BZ_P_MAX; id++) {
		if (bpf_map__lookup_elem(r->skel->maps.counts, &id, sizeof(id), pc,
					 sizeof(*pc) * ncpu, 0))
			continue;
		for (int c = 0; c < ncpu; c++) {
			out[id].emitted += pc[c].emitted;
			out[id].lost += pc[c].lost;
			out[id].missed += pc[c].missed;
		}
	}
	free(pc);
}

static uint64_t total_lost(const struct bz_probe_counts *c)
{
	uint64_t n = 0;
	for (int i = 0; i < BZ_P_MAX; i++)
		n += c[i].lost;
	return n;
}

static void write_stats(struct recorder *r, const struct bz_probe_counts *c)
{
	flush_batch(r);
	bz_buf_reset(&r->tmp);
	bz_buf_put_u64(&r->tmp, now_mono());
	for (int i = 0; i < BZ_P_MAX; i++) {
		struct bz_buf v = { 0 };
		const char *name = probe_counter_name(i);
		bz_buf_put_u64(&v, c[i].emitted);
		bz_buf_put_u64(&v, c[i].lost);
		bz_buf_put_u64(&v, c[i].missed);
		bz_buf_put(&v, name, strlen(name));
		bz_buf_opt(&r->tmp, BZ_SO_PROBE, v.data, (uint32_t)v.len);
		bz_buf_free(&v);
	}
	write_block(r, BZ_BLK_STATS, &r->tmp);
}

static void status_line(struct recorder *r, uint64_t now, const struct bz_probe_counts *c)
{
	char el[32], rem[48] = "", wr[32];
	uint64_t raw = bz_writer_raw_bytes(r->w), file = bz_writer_file_bytes(r->w);

	bz_fmt_duration(now - r->start_ns, el, sizeof(el));
	if (r->o->duration_ns) {
		uint64_t end = r->start_ns + r->o->duration_ns;
		char t[32];
		snprintf(rem, sizeof(rem), " (%s left)", bz_fmt_duration(end > now ? end - now : 0, t, sizeof(t)));
	}
	fprintf(stderr, "\r\033[K[beyla] %s%s  events %llu  written %s  ratio %.1fx  drops %llu",
		el, rem, (unsigned long long)r->events, bz_fmt_bytes(file, wr, sizeof(wr)),
		file ? (double)raw / file : 0.0, (unsigned long long)total_lost(c));
	fflush(stderr);
	r->status_line = 1;
}

static void print_summary(struct recorder *r, const struct bz_probe_counts *c, uint64_t end_ns)
{
	char d[32], fb[32], rb[32];
	uint64_t file = bz_writer_file_bytes(r->w), raw = bz_writer_raw_bytes(r->w);
	uint64_t lost = total_lost(c), missed = 0;
	int first = 1;

	for (int i = 0; i < BZ_P_MAX; i++)
		/* (unix_nonstream counts reads and writes left out by design) */
		missed += i == BZ_P_UNIX_OTHER ? 0 : c[i].missed;
	if (r->status_line)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "beyla: recorded %s (stopped: %s) into %s\n",
		bz_fmt_duration(end_ns - r->start_ns, d, sizeof(d)), stop_names[r->stop], r->out_path);
	fprintf(stderr, "  events   %llu (", (unsigned long long)r->events);
	for (int k = 1; k < BZ_EV_KIND_MAX; k++) {
		if (!r->by_kind[k])
			continue;
		fprintf(stderr, "%s%s %llu", first ? "" : ", ", bz_ev_kind_name(k), (unsigned long long)r->by_kind[k]);
		first = 0;
	}
	fprintf(stderr, "%s)\n", first ? "none" : "");
	fprintf(stderr, "  drops    %llu lost in the kernel ring buffer", (unsigned long long)lost);
	for (int i = 0, n = 0; i < BZ_P_MAX; i++)
		if (c[i].lost)
			fprintf(stderr, "%s %s %llu", n++ ? "," : ":", probe_counter_name(i),
				(unsigned long long)c[i].lost);
	if (missed)
		fprintf(stderr, "; %llu bookkeeping misses (maps full)", (unsigned long long)missed);
	fputc('\n', stderr);
	if (lost)
		fprintf(stderr, "           (a bigger --ring-size absorbs longer bursts)\n");
	if (c[BZ_P_UNIX_OTHER].missed)
		fprintf(stderr, "  unix     %llu reads/writes on datagram or seqpacket UNIX sockets counted, not recorded\n",
			(unsigned long long)c[BZ_P_UNIX_OTHER].missed);
	fprintf(stderr, "  file     %s (uncompressed %s, %.1fx), %.1f bytes/event\n",
		bz_fmt_bytes(file, fb, sizeof(fb)), bz_fmt_bytes(raw, rb, sizeof(rb)),
		file ? (double)raw / file : 0.0, r->events ? (double)file / r->events : 0.0);
	fprintf(stderr, "  targets  %llu process(es)", (unsigned long long)r->targets.kept);
	if (r->judge_execs)
		fprintf(stderr, "; %llu exec(s) of others judged and let go, %llu of their records dropped",
			(unsigned long long)r->targets.let_go, (unsigned long long)r->targets.dropped_events);
	fputc('\n', stderr);
	if (r->redact) {
		struct bz_redact_stats rs;
		bz_redact_get_stats(r->redact, &rs);
		fprintf(stderr, "  redacted %llu bytes in %llu events", (unsigned long long)rs.bytes,
			(unsigned long long)rs.events);
		if (rs.echo_hits)
			fprintf(stderr, "; %llu masked value(s) found again and masked there",
				(unsigned long long)rs.echo_hits);
		if (rs.echo_unkept)
			fprintf(stderr, "; %llu value(s) too many to look for again", (unsigned long long)rs.echo_unkept);
		if (rs.h2_blocks)
			fprintf(stderr, "; HTTP/2: %llu header value(s) masked in %llu block(s), %llu block(s) "
				"masked whole (not decodable)",
				(unsigned long long)rs.h2_fields, (unsigned long long)rs.h2_blocks,
				(unsigned long long)rs.h2_blocks_whole);
		if (rs.db_conns_pgsql + rs.db_conns_mysql + rs.db_conns_redis)
			fprintf(stderr, "; databases: %llu byte(s) masked on %llu PostgreSQL, %llu MySQL and "
				"%llu Redis connection(s)", (unsigned long long)rs.db_bytes,
				(unsigned long long)rs.db_conns_pgsql, (unsigned long long)rs.db_conns_mysql,
				(unsigned long long)rs.db_conns_redis);
		if (rs.db_unkept)
			fprintf(stderr, "; %llu database payload(s) judged alone (connection table full)",
				(unsigned long long)rs.db_unkept);
		fputc('\n', stderr);
	} else {
		fprintf(stderr, "  redacted nothing (--no-redact: payloads are stored as captured)\n");
	}
	if (go_probes_binaries(r->go))
		fprintf(stderr, "  go       %d Go executable(s), %d uprobes\n", go_probes_binaries(r->go),
			go_probes_links(r->go));
	if (ssl_probes_libraries(r->ssl))
		fprintf(stderr, "  openssl  %d TLS library file(s), %d uprobes\n", ssl_probes_libraries(r->ssl),
			ssl_probes_links(r->ssl));
	if (r->launched && r->child_exited) {
		if (WIFEXITED(r->child_status))
			fprintf(stderr, "  command  exited with status %d\n", WEXITSTATUS(r->child_status));
		else if (WIFSIGNALED(r->child_status))
			fprintf(stderr, "  command  killed by signal %d\n", WTERMSIG(r->child_status));
	}
}

/* Checks that need no side effects, so a failure leaves nothing behind. */
static int preflight(struct recorder *r)
{
	struct record_opts *o = r->o;

	for (int i = 0; i < o->npids; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d", (int)o->pids[i]);
		if (access(p, F_OK)) {
			die_line("no such process: %d", (int)o->pids[i]);
			return -ESRCH;
		}
	}
	if (o->nexes) {
		char err[512];
		if (selection_compile(&r->sel, o, err, sizeof(err))) {
			die_line("%s", err);
			return -EINVAL;
		}
		r->have_sel = 1;
		r->judge_execs = 1;
	}
	if (o->cmd && !strchr(o->cmd[0], '/')) {
		const char *path = getenv("PATH");
		char buf[4096];
		int found = 0;
		for (const char *p = path ? path : "/usr/bin:/bin"; p && *p && !found;) {
			const char *c = strchr(p, ':');
			size_t l = c ? (size_t)(c - p) : strlen(p);
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, p, o->cmd[0]);
			found = access(buf, X_OK) == 0;
			p = c ? c + 1 : NULL;
		}
		if (!found) {
			die_line("command not found: %s", o->cmd[0]);
			return -ENOENT;
		}
	} else if (o->cmd && access(o->cmd[0], X_OK)) {
		die_line("cannot run %s: %s", o->cmd[0], strerror(errno));
		return -ENOENT;
	}
	return hostinfo_check_privileges(die_line);
}

static int open_output(struct recorder *r)
{
	struct record_opts *o = r->o;
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (o->force ? O_TRUNC : O_EXCL);
	int fd;

	if (o->output) {
		snprintf(r->out_path, sizeof(r->out_path), "%s", o->output);
	} else {
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(r->out_path, sizeof(r->out_path), "beyla-%Y%m%d-%H%M%S.bz.zst", &tm);
	}
	fd = open(r->out_path, flags, 0600);
	if (fd < 0) {
		int e = errno;
		if (e == EEXIST)
			die_line("%s already exists (use --force to overwrite, or -o another name)", r->out_path);
		else
			die_line("cannot create %s: %s", r->out_path, strerror(e));
		return -e;
	}
	hostinfo_chown_to_invoker(fd);
	return fd;
}

static void write_header(struct recorder *r)
{
	bz_buf_reset(&r->tmp);
	hostinfo_encode_header(&r->tmp, r->o, r->start_ns, r->redact);
	if (!r->o->no_kernel_waits && r->tstamp_fd >= 0) /* RX_ARRIVAL records: timestamps are on */
		bz_buf_opt_u64(&r->tmp, BZ_HO_KW_RX_MIN_NS, KWAITS_RX_MIN_NS);
	bz_buf_opt_u32(&r->tmp, BZ_HO_GO_MODE, (uint32_t)go_probes_mode(r->go));
	write_block(r, BZ_BLK_HEADER, &r->tmp);
	bz_buf_reset(&r->tmp);
	probes_encode(r->probes, &r->tmp);
	write_block(r, BZ_BLK_PROBES, &r->tmp);
}

struct seed_ctx { struct recorder *r; };

static void seed_one(pid_t pid, void *ctx)
{
	struct recorder *r = ctx;

	/* (a process two options select is seeded once) */
	if (target_state(&r->targets, pid) != TS_KEPT && add_target(r, pid) == 0)
		write_proc(r, pid, 0, BZ_PF_AT_START, r->start_ns, NULL);
}

/* -p PID also means the children it already forked (a server's workers). */
static void seed_descendants(struct recorder *r, pid_t root)
{
	pid_t queue[1024];
	int head = 0, tail = 0;

	queue[tail++] = root;
	while (head < tail) {
		pid_t parent = queue[head++];
		char path[64];
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
		f = fopen(path, "re");
		if (!f)
			continue;
		int child;
		while (fscanf(f, "%d", &child) == 1 && tail < 1024) {
			queue[tail++] = child;
			seed_one(child, r);
		}
		fclose(f);
	}
}

static int seed_targets(struct recorder *r)
{
	struct record_opts *o = r->o;
	int rc;

	for (int i = 0; i < o->npids; i++) {
		if (add_target(r, o->pids[i])) {
			die_line("cannot record pid %d: beyond the largest pid Linux gives", (int)o->pids[i]);
			return -EIO;
		}
		write_proc(r, o->pids[i], 0, BZ_PF_AT_START, r->start_ns, NULL);
		seed_descendants(r, o->pids[i]);
	}
	if (r->have_sel && (rc = targets_scan_exe(&r->sel, seed_one, r)) < 0)
		return rc;
	for (int i = 0; i < o->nports; i++)
		if ((rc = targets_scan_port(o->ports[i], seed_one, r)) < 0)
			return rc;
	return 0;
}

static int start_command(struct recorder *r)
{
	int rc = launch_prepare(&r->launch, r->o->cmd);

	if (rc) {
		die_line("cannot start %s: %s", r->o->cmd[0], strerror(-rc));
		return rc;
	}
	r->launched = 1;
	add_target(r, r->launch.pid);
	{
		/* what we know before it execs: its argv */
		struct bz_buf *b = &r->tmp;
		size_t cl = 0;
		flush_batch(r);
		bz_buf_reset(b);
		memset(&r->pi, 0, sizeof(r->pi));
		r->pi.pid = r->launch.pid;
		r->pi.ppid = getpid();
		for (char **a = r->o->cmd; *a && cl < sizeof(r->pi.cmdline); a++) {
			size_t l = strlen(*a) + 1;
			if (cl + l > sizeof(r->pi.cmdline))
				break;
			memcpy(r->pi.cmdline + cl, *a, l);
			cl += l;
		}
		r->pi.cmdline_len = cl ? cl - 1 : 0;
		snprintf(r->pi.comm, sizeof(r->pi.comm), "%.15s", r->o->cmd[0]);
		bz_redact_argv(r->redact, r->pi.cmdline, r->pi.cmdline_len);
		procinfo_encode(&r->pi, now_mono(), BZ_PF_LAUNCHED, b);
		write_block(r, BZ_BLK_PROC, b);
	}
	rc = launch_go(&r->launch);
	if (rc) {
		die_line("cannot run %s: %s", r->o->cmd[0], strerror(-rc));
		r->launched = 0;
		return rc;
	}
	return 0;
}

static void stop_command(struct recorder *r)
{
	if (!r->launched || r->child_exited)
		return;
	/* -d ended first: the command was ours, so it does not outlive us */
	kill(r->launch.pid, SIGTERM);
	for (int i = 0; i < 40; i++) {
		if (waitpid(r->launch.pid, &r->child_status, WNOHANG) == r->launch.pid) {
			r->child_exited = 1;
			return;
		}
		usleep(50000);
	}
	kill(r->launch.pid, SIGKILL);
	if (waitpid(r->launch.pid, &r->child_status, 0) == r->launch.pid)
		r->child_exited = 1;
}

static void write_end(struct recorder *r, const struct bz_probe_counts *c, uint64_t end_ns)
{
	flush_batch(r);
	bz_buf_reset(&r->tmp);
	bz_buf_opt_u64(&r->tmp, BZ_EO_END_MONO_NS, end_ns);
	bz_buf_opt_u64(&r->tmp, BZ_EO_EVENTS, r->events);
	bz_buf_opt_u64(&r->tmp, BZ_EO_DROPS, total_lost(c));
	bz_buf_opt_str(&r->tmp, BZ_EO_STOP_REASON, stop_names[r->stop]);
	bz_buf_opt_u64(&r->tmp, BZ_EO_RAW_BYTES, bz_writer_raw_bytes(r->w));
	write_block(r, BZ_BLK_END, &r->tmp);
}

/* Opens the BPF object, configures it and loads it; with_uprobes=false
 * leaves the Go and OpenSSL uprobe programs out, with_ssl=false the
 * OpenSSL ones.  On failure r->skel is destroyed and err says why; -ENOENT
 * means a required tracepoint is missing. */
static int open_and_load(struct recorder *r, bool with_go, bool with_ssl, char *err, size_t errlen)
{
	struct record_opts *o = r->o;
	int rc;

	r->skel = beyla_bpf__open();
	if (!r->skel) {
		snprintf(err, errlen, "cannot open the BPF programs: %s", strerror(errno));
		return -errno;
	}
	r->skel->rodata->cfg_snaplen = o->snaplen;
	r->skel->rodata->cfg_self_pid = getpid();
	for (int i = 0; i < o->nports; i++)
		r->skel->rodata->cfg_port_bits[o->ports[i] / 64] |= 1ull << (o->ports[i] % 64);
	r->skel->rodata->cfg_any_port = o->nports > 0;
	r->skel->rodata->cfg_port_only = o->nports > 0 && !o->nunix && !o->npids && !o->nexes && !o->cmd;
	_Static_assert(sizeof(r->skel->rodata->cfg_unix_lens) == BZ_MAX_UNIX, "--unix paths fit the BPF table");
	for (int i = 0; i < o->nunix && i < BZ_MAX_UNIX; i++) {
		int n = 0;
		/* (parsed once already: options.c refused what does not fit) */
		bz_parse_unix_path(o->unix_paths[i], (char *)r->skel->rodata->cfg_unix_paths[i], &n);
		r->skel->rodata->cfg_unix_lens[i] = (uint8_t)n;
	}
	r->skel->rodata->cfg_any_unix = o->nunix > 0;
	r->skel->rodata->cfg_all_execs = o->nexes > 0;
	r->skel->rodata->cfg_exe_and_port = o->nexes > 0 && (o->nports > 0 || o->nunix > 0);
	r->skel->rodata->cfg_have_loop =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, NULL) == 1;
	r->skel->rodata->cfg_syscall_start = o->syscall_start;
	r->skel->rodata->cfg_empty_hooks = o->empty_hooks;
	r->skel->rodata->cfg_ring_bytes = o->ring_bytes;
	bpf_map__set_max_entries(r->skel->maps.events, o->ring_bytes);
	r->skel->rodata->cfg_ssl = with_ssl;
	r->skel->rodata->cfg_kwaits = !o->no_kernel_waits;
	r->skel->rodata->cfg_kw_rx_min_ns = KWAITS_RX_MIN_NS;
	r->skel->rodata->cfg_real_minus_mono_ns = kwaits_real_minus_mono();
	if ((rc = probes_prepare(r->skel, r->probes,
				 (o->syscall_start ? PROBES_ONLY_SYSCALL_START : 0) | (with_ssl ? PROBES_ONLY_SSL : 0) |
				 (o->sched ? PROBES_ONLY_SCHED : 0),
				 err, errlen)))
		goto fail;
	if (!with_go)
		go_probes_leave_out(r->skel);
	if (!with_ssl)
		ssl_probes_leave_out(r->skel);
	if ((rc = beyla_bpf__load(r->skel))) {
		snprintf(err, errlen, "the kernel refused to load the BPF programs (%s); libbpf said:\n%s",
			 strerror(-rc), libbpf_log_tail(25));
		goto fail;
	}
	return 0;
fail:
	beyla_bpf__destroy(r->skel);
	r->skel = NULL;
	return rc;
}

static int record_loop(struct recorder *r)
{
	struct bz_probe_counts c[BZ_P_MAX];
	int show_status = !r->o->quiet && isatty(STDERR_FILENO);

	memset(c, 0, sizeof(c));
	while (!stop_signal) {
		uint64_t now;
		int rc = ring_buffer__poll(r->rb, r->judge_execs ? POLL_MS_JUDGING : POLL_MS);

		if (rc < 0 && rc != -EINTR) {
			die_line("reading the ring buffer failed: %s", strerror(-rc));
			return rc;
		}
		/* events are emitted without wake-ups: drain what is there */
		ring_buffer__consume(r->rb);
		now = now_mono();
		prune_verdicts(r, now);
		/* targets that mapped a library since: a TLS library to probe? */
		(void)ssl_probes_poll(r->ssl, write_tls_library, r, r->o->quiet ? NULL : stderr);
		if (r->launched && !r->child_exited &&
		    waitpid(r->launch.pid, &r->child_status, WNOHANG) == r->launch.pid) {
			r->child_exited = 1;
			r->stop = STOP_CMD_EXIT;
			break;
		}
		if (now - r->last_frame_ns >= FRAME_EVERY_NS) {
			flush_batch(r);
			if (now - r->last_stats_ns >= STATS_EVERY_NS) {
				read_counts(r, c);
				write_stats(r, c);
				r->last_stats_ns = now;
			}
			bz_writer_flush(r->w);
			r->last_frame_ns = now;
		}
		if (bz_writer_error(r->w)) {
			r->stop = STOP_WRITE_ERROR;
			break;
		}
		if (show_status && now - r->last_status_ns >= 1000000000ull) {
			read_counts(r, c);
			status_line(r, now, c);
			r->last_status_ns = now;
		}
		if (r->o->duration_ns && now - r->start_ns >= r->o->duration_ns) {
			r->stop = STOP_DURATION;
			break;
		}
	}
	if (stop_signal && r->stop == STOP_NONE)
		r->stop = STOP_SIGNAL;
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o;
	struct recorder r;
	struct bz_probe_counts c[BZ_P_MAX];
	char err[256] = "";
	int fd = -1, rc, exit_code = 1, created = 0;
	bool go_ok, ssl_ok;
	uint64_t end_ns;
	struct sigaction sa = { .sa_handler = on_signal };

	memset(&r, 0, sizeof(r));
	if (getenv("BEYLA_LIBBPF_DEBUG"))
		libbpf_verbose = 1;
	if (record_parse_args(argc, argv, &o))
		return 1;
	r.o = &o;
	r.launch.go_fd = r.launch.err_fd = -1;
	r.tstamp_fd = -1;
	libbpf_set_print(libbpf_print);
	if (preflight(&r))
		goto out;
	if (!o.no_redact && bz_redact_setup(&r.redact, o.redact_headers, o.nredact_headers,
					     o.redact_params, o.nredact_params)) {
		die_line("cannot set up payload redaction: out of memory");
		goto out;
	}

	fd = open_output(&r);
	if (fd < 0)
		goto out;
	created = 1;
	if ((rc = bz_writer_new(&r.w, fd, o.zstd_level))) {
		close(fd);
		die_line("cannot start the writer: %s", strerror(-rc));
		goto out;
	}

	if (o.empty_hooks && !o.quiet)
		fprintf(stderr, "beyla record: --empty-hooks: the hooks are attached but record nothing "
			"(a benchmark's floor); the capture holds no reads, writes or Go events\n");
	r.probes = calloc(probes_count(), sizeof(*r.probes));
	if (!r.probes) {
		die_line("out of memory");
		goto out;
	}
	go_ok = o.go_mode != BZ_GO_MODE_OFF;
	ssl_ok = !o.no_openssl;
	if ((rc = open_and_load(&r, go_ok, ssl_ok, err, sizeof(err))) && (go_ok || ssl_ok) && rc != -ENOENT) {
		/* The uprobe programs are an addition: if the verifier refuses
		 * them, record without them rather than not at all. */
		if (!o.quiet)
			fprintf(stderr, "beyla record: warning: the kernel refused the Go and OpenSSL uprobe programs "
				"(%s); recording without them\n", strerror(-rc));
		go_ok = ssl_ok = false;
		rc = open_and_load(&r, false, false, err, sizeof(err));
	}
	if (rc) {
		die_line("%s", err);
		goto out;
	}
	if (probes_attach(r.skel, r.probes, err, sizeof(err))) {
		die_line("%s", err);
		goto out;
	}
	if (!o.no_kernel_waits) {
		/* the request's arrival at the host needs the kernel's receive
		 * timestamps: without them the spans start at data_ready */
		r.tstamp_fd = kwaits_timestamps_on();
		if (r.tstamp_fd < 0 && !o.quiet)
			fprintf(stderr, "beyla record: warning: cannot turn on receive timestamps (%s): "
				"no rx_backlog_ns (a request's wait before its socket was told)\n",
				strerror(-r.tstamp_fd));
		if (kwaits_prequeue() == 0 && !o.quiet)
			fprintf(stderr, "beyla record: warning: net.core.netdev_tstamp_prequeue is 0: packets are "
				"timestamped after the receive backlog, so rx_backlog_ns misses that wait\n");
	}
	for (int i = 0; i < probes_count(); i++)
		if (r.probes[i].status != BZ_PROBE_ATTACHED && !o.quiet &&
		    strncmp(r.probes[i].detail, "not requested", 13))
			fprintf(stderr, "beyla record: warning: probe %s %s (%s): no %s\n", r.probes[i].name,
				r.probes[i].status == BZ_PROBE_SKIPPED ? "skipped" : "refused",
				r.probes[i].detail, r.probes[i].purpose);
	/* --exe judges processes at their exec: without the exec hook it
	 * would see none started after the recording began */
	for (int i = 0; o.nexes && i < probes_count(); i++)
		if (!strcmp(r.probes[i].name, "sched:sched_process_exec") &&
		    r.probes[i].status != BZ_PROBE_ATTACHED) {
			die_line("--exe needs the tracepoint sched:sched_process_exec, which is %s (%s)",
				 r.probes[i].status == BZ_PROBE_SKIPPED ? "missing" : "refused",
				 r.probes[i].detail);
			goto out;
		}
	target_set_init(&r.targets, (uint64_t *)r.skel->bss->target_bits,
			(uint64_t *)r.skel->bss->tentative_bits,
			o.nexes ? bpf_map__fd(r.skel->maps.exec_ts) : -1);
	if (go_probes_new(&r.go, r.skel, go_ok ? o.go_mode : BZ_GO_MODE_OFF) || ssl_probes_new(&r.ssl, r.skel, ssl_ok)) {
		die_line("out of memory");
		goto out;
	}
	r.rb = ring_buffer__new(bpf_map__fd(r.skel->maps.events), on_event, &r, NULL);
	if (!r.rb) {
		die_line("cannot open the ring buffer: %s", strerror(errno));
		goto out;
	}
	/* a target mapped a library: the poll returns at once, and the loop
	 * looks for a TLS library to probe before the target can use it */
	if (ssl_ok && ring_buffer__add(r.rb, bpf_map__fd(r.skel->maps.maps_wakeup), on_maps_wakeup, &r)) {
		die_line("cannot open the ring buffer: %s", strerror(errno));
		goto out;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file size limit becomes a write error */

	r.start_ns = r.last_frame_ns = r.last_stats_ns = now_mono();
	write_header(&r);
	/* The system's libssl is probed from the start only when a process not
	 * yet met can become a target (a curl lives 2 ms: too short for the
	 * recorder to probe its libraries once it is adopted).  With -p alone
	 * the targets' own libraries are probed as they are found, and every
	 * other process on the machine (a load generator on the same libssl)
	 * is spared the traps of probes placed for nobody. */
	if (selection_adopts_strangers(&o))
		(void)ssl_probes_system(r.ssl, write_tls_library, &r, o.quiet ? NULL : stderr);
	if (seed_targets(&r))
		goto out;
	if (o.cmd && start_command(&r))
		goto out;
	bz_writer_flush(r.w);
	if (!r.targets.kept && !o.quiet)
		fprintf(stderr, "beyla record: no target process yet; waiting for %s\n",
			o.nports && o.nexes ? "a process to use a port or a matching exec" :
			o.nports ? "a process to use the port" : o.nexes ? "a matching exec" : "targets");

	if (record_loop(&r))
		goto out;

	/* One exit path for a good recording: drain, count, end block. */
	ring_buffer__consume(r.rb);
	stop_command(&r);
	ring_buffer__consume(r.rb);
	end_ns = now_mono();
	read_counts(&r, c);
	write_stats(&r, c);
	write_end(&r, c, end_ns);
	rc = bz_writer_flush(r.w);
	if (!o.quiet)
		print_summary(&r, c, end_ns);
	if (r.stop == STOP_WRITE_ERROR || rc) {
		int e = bz_writer_error(r.w);
		die_line("writing %s failed: %s; recording stopped, the file is readable up to the last "
			 "second written", r.out_path, strerror(e ? -e : -rc));
		exit_code = 1;
		created = 0; /* keep what was written */
		goto out;
	}
	exit_code = 0;
	created = 0;
out:
	if (r.rb)
		ring_buffer__free(r.rb);
	if (r.probes)
		probes_detach(r.probes);
	go_probes_free(r.go);
	ssl_probes_free(r.ssl);
	beyla_bpf__destroy(r.skel);
	if (r.tstamp_fd >= 0)
		close(r.tstamp_fd);
	if (r.launched && !r.child_exited && exit_code)
		stop_command(&r);
	rc = bz_writer_close(&r.w);
	if (rc && exit_code == 0) {
		die_line("closing %s failed: %s", r.out_path, strerror(-rc));
		exit_code = 1;
	}
	if (created) /* failed before recording anything: leave nothing behind */
		unlink(r.out_path);
	bz_buf_free(&r.batch);
	bz_buf_free(&r.tmp);
	target_set_free(&r.targets);
	bz_redact_free(&r.redact);
	free(r.probes);
	if (r.have_sel)
		selection_free(&r.sel);
	return exit_code;
}
