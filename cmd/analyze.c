/* analyze.c - `beyla analyze FILE`: turns a capture into an SQLite database
 * of HTTP spans (analyze/analysis.h does the work) and prints a summary.
 *
 * The database is written to a temporary file next to the output and
 * renamed into place at the end, so an interrupted or failed run leaves no
 * half-written database under the final name.  An existing output is only
 * replaced with --force.
 *
 * Exit codes (cmd/commands.h): 0 complete; 1 usage, I/O or database error,
 * output exists; 2 not a capture; 3 newer format; 4 truncated and 5 corrupt,
 * both after writing the database from every complete part; 6 the OTLP
 * or Perfetto export failed (the database is written).
 *
 * --perfetto OUT.json is written like the database: to a temporary file
 * next to it, created before the analysis (an unwritable place fails at
 * once, not after minutes of work), renamed into place at the end.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyze/analysis.h"
#include "analyze/capture_reader.h"
#include "analyze/db.h"
#include "analyze/explain.h"
#include "analyze/otlp_export.h"
#include "analyze/perfetto.h"
#include "analyze/report.h"
#include "analyze/report_sched.h"
#include "cmd/commands.h"

struct analyze_opts {
	const char *path;
	const char *out;
	const char *perfetto; /* --perfetto OUT.json, or NULL */
	int force, quiet, dump, timings;
	unsigned flags; /* bz_analyze_flags */
	struct bz_otlp_opts otlp; /* --otlp, --otlp-file, --metrics-interval (docs/otlp.md) */
};

static const struct argp_option analyze_options[] = {
	{ "output", 'o', "DB", 0, "Write the database to DB (default: FILE with .bz.zst replaced by .db)", 0 },
	{ "force", 'f', NULL, 0, "Replace DB if it exists", 0 },
	{ "quiet", 'q', NULL, 0, "Print no progress and no summary (warnings still go to stderr)", 0 },
	{ "dump-spans", 'D', NULL, 0,
	  "Print every span as one stable line, then the summary table (for golden tests); "
	  "the database is then kept in memory unless -o is given", 0 },
	{ "otlp", 0x100, "URL", OPTION_ARG_OPTIONAL, "Also export spans and metrics over OTLP/HTTP to URL "
	  "(default: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318); see docs/otlp.md", 0 },
	{ "otlp-file", 0x101, "FILE", 0, "Also write the OTLP/JSON export to FILE, one request per line", 0 },
	{ "metrics-interval", 0x102, "DUR", 0, "Metrics aggregation interval (default 10s)", 0 },
	{ "perfetto", 0x104, "OUT.json", 0, "Also write the spans as Chrome trace-event JSON to OUT.json, to open "
	  "in ui.perfetto.dev or chrome://tracing: a track per thread (more where requests overlap), "
	  "\"in queue\" and \"processing\" under each server span, client calls nested in it, arrows "
	  "from a client call to the server span it reached; see docs/perfetto.md", 0 },
	{ "timings", 0x103, NULL, 0, "At the end, say on stderr where the time went: loading (and the CPU "
	  "of the analysis and writer threads), the indexes, the route and service stats", 0 },
	{ "go-from-structs", 0x105, NULL, 0, "Build a Go HTTPS server's requests from its handlers' struct "
	  "reads, as for a `record --go=fast` capture of a Go build whose crypto/tls reads could not be "
	  "probed, even where a --go=full capture holds their plaintext: to compare the two ways on "
	  "one capture (docs/go.md)", 0 },
	{ 0 }
};

static error_t analyze_parse(int key, char *arg, struct argp_state *state)
{
	struct analyze_opts *o = state->input;
	switch (key) {
	case 'o':
		o->out = arg;
		return 0;
	case 'f':
		o->force = 1;
		return 0;
	case 'q':
		o->quiet = o->otlp.quiet = 1;
		return 0;
	case 'D':
		o->dump = 1;
		return 0;
	case 0x100:
		o->otlp.enabled = 1;
		o->otlp.url = arg;
		return 0;
	case 0x101:
		o->otlp.file = arg;
		return 0;
	case 0x102:
		if ((o->otlp.interval_ns = bz_otlp_parse_duration(arg)) <= 0)
			argp_error(state, "bad --metrics-interval '%s' (e.g. 10s, 500ms, 1m)", arg);
		return 0;
	case 0x103:
		o->timings = 1;
		return 0;
	case 0x105:
		o->flags |= BZ_ANALYZE_GO_FROM_STRUCTS;
		return 0;
	case 0x104:
		if (!*arg)
			argp_error(state, "--perfetto needs a file name");
		o->perfetto = arg;
		return 0;
	case ARGP_KEY_ARG: /* `--otlp URL`: argp only attaches `--otlp=URL` */
		if (o->otlp.enabled && !o->otlp.url && strstr(arg, "://")) {
			o->otlp.url = arg;
			return 0;
		}
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

static const char analyze_doc[] =
	"Turn a beyla capture into an SQLite database of HTTP/1.x request spans: every request "
	"a target served (server spans, split into \"in queue\" and \"processing\") or made "
	"(client spans), with OpenTelemetry attributes, and print requests, errors, latency "
	"percentiles and queue share per service and route."
	"\v"
	"Examples:\n"
	"  beyla analyze shop.bz.zst\n"
	"  beyla analyze shop.bz.zst -o /tmp/x.db --force\n"
	"  beyla analyze shop.bz.zst --perfetto shop.json   # for ui.perfetto.dev\n"
	"  sqlite3 shop.db 'select * from route_stats'\n"
	"\n"
	"The schema is documented in schema/spans.sql and docs/analysis.md.\n"
	"\n"
	"Exit status: 0 complete, 1 usage, I/O or database error (or DB exists), 2 not a beyla "
	"capture, 3 written by a newer beyla, 4 truncated, 5 corrupt, 6 the OTLP or Perfetto export failed. "
	"With 4, 5 and 6 the database is still written (4, 5: from every complete part of the capture).";

static const struct argp analyze_argp = { analyze_options, analyze_parse, "FILE", analyze_doc, NULL, NULL, NULL };

/* ---- the temporary output ------------------------------------------------ */

static char tmp_path[4096];      /* removed by the signal handler if set */
static char perfetto_tmp[4096];  /* the same for --perfetto's file */

static void on_signal(int sig)
{
	if (tmp_path[0])
		unlink(tmp_path);
	if (perfetto_tmp[0])
		unlink(perfetto_tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* FILE.bz.zst -> FILE.db; FILE.zst -> FILE.db; else FILE.db */
static char *default_output(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 4);

	if (!out)
		return NULL;
	if (n > 7 && !strcmp(in + n - 7, ".bz.zst"))
		n -= 7;
	else if (n > 4 && !strcmp(in + n - 4, ".zst"))
		n -= 4;
	memcpy(out, in, n);
	strcpy(out + n, ".db");
	return out;
}

/* ---- progress ------------------------------------------------------------ */

struct progress {
	uint64_t total;
	struct timespec last;
	int shown;
};

static void on_progress(void *u, uint64_t bytes)
{
	struct progress *p = u;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->shown && (now.tv_sec - p->last.tv_sec) * 1000000000L + (now.tv_nsec - p->last.tv_nsec) <
				200000000L)
		return;
	p->last = now;
	p->shown = 1;
	if (p->total)
		fprintf(stderr, "\ranalyzing: %3.0f%% (%.1f of %.1f MB)", 100.0 * (double)bytes / (double)p->total,
			(double)bytes / 1e6, (double)p->total / 1e6);
	else
		fprintf(stderr, "\ranalyzing: %.1f MB", (double)bytes / 1e6);
	fflush(stderr);
}

/* ---- --perfetto ------------------------------------------------------------ */

/* Refuses what could only end badly, before the analysis: an existing file
 * without --force, the capture or the database itself, a directory; then
 * creates the temporary file next to OUT.  The descriptor, or -1. */
static int perfetto_open(const struct analyze_opts *o, const char *db_out)
{
	struct stat sb, other;
	int n, fd;

	if (stat(o->perfetto, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "beyla analyze: --perfetto %s is a directory; give a file name\n", o->perfetto);
			return -1;
		}
		if ((stat(o->path, &other) == 0 && other.st_dev == sb.st_dev && other.st_ino == sb.st_ino) ||
		    (db_out && stat(db_out, &other) == 0 && other.st_dev == sb.st_dev && other.st_ino == sb.st_ino)) {
			fprintf(stderr, "beyla analyze: --perfetto %s is the capture or the database; choose another\n",
				o->perfetto);
			return -1;
		}
		if (!o->force) {
			fprintf(stderr, "beyla analyze: %s exists (use --force to replace it)\n", o->perfetto);
			return -1;
		}
	} else if (db_out && !strcmp(db_out, o->perfetto)) {
		fprintf(stderr, "beyla analyze: --perfetto %s is also the database (-o); choose another\n", o->perfetto);
		return -1;
	}
	n = snprintf(perfetto_tmp, sizeof(perfetto_tmp), "%s.tmp.XXXXXX", o->perfetto);
	if (n < 0 || (size_t)n >= sizeof(perfetto_tmp)) {
		perfetto_tmp[0] = 0;
		fprintf(stderr, "beyla analyze: --perfetto %s: path too long\n", o->perfetto);
		return -1;
	}
	fd = mkstemp(perfetto_tmp);
	if (fd < 0) {
		fprintf(stderr, "beyla analyze: cannot write --perfetto %s: %s\n", o->perfetto, strerror(errno));
		perfetto_tmp[0] = 0;
	}
	return fd;
}

/* mkstemp makes the file 0600; the JSON gets what any new file gets (0666
 * less the umask), as a browser or a web server may need to read it. */
static mode_t current_umask(void)
{
	mode_t m = umask(0);
	umask(m);
	return m;
}

/* Writes the JSON from the open database db or the one at db_path into fd
 * (closed here), then renames it into place and says what it wrote (unless
 * quiet).  0, or -1 after one line on stderr. */
static int perfetto_write(const struct analyze_opts *o, int fd, struct sqlite3 *db, const char *db_path)
{
	struct bz_perfetto_stats st;
	char err[1024];
	FILE *f = fdopen(fd, "w");

	if (!f) {
		fprintf(stderr, "beyla analyze: --perfetto %s: %s\n", o->perfetto, strerror(errno));
		close(fd);
		return -1;
	}
	fchmod(fd, 0666 & ~current_umask());
	int rc = bz_perfetto_export(db, db_path, f, &st, err, sizeof(err));
	if (fclose(f) && !rc) {
		snprintf(err, sizeof(err), "Perfetto export: writing %s: %s", o->perfetto, strerror(errno));
		rc = -1;
	}
	if (!rc && rename(perfetto_tmp, o->perfetto)) {
		snprintf(err, sizeof(err), "cannot rename %s to %s: %s", perfetto_tmp, o->perfetto, strerror(errno));
		rc = -1;
	}
	if (rc) {
		fprintf(stderr, "beyla analyze: %s\n", err);
		return -1;
	}
	perfetto_tmp[0] = 0;
	if (!o->quiet)
		fprintf(stderr, "perfetto: wrote %" PRIu64 " slices (%" PRIu64 " server spans with their 2 parts, %" PRIu64
				" client spans, %" PRIu64 " of them nested in their server span) and %" PRIu64
				" flows on %" PRIu64 " thread tracks of %" PRIu64 " processes to %s: %.1f MB in %.2f s (%.2f s CPU)\n",
			st.slices, st.server_spans, st.client_spans, st.nested_clients, st.flows, st.threads + st.lanes,
			st.processes, o->perfetto, (double)st.bytes / 1e6, st.seconds, st.cpu_seconds);
	return 0;
}

/* ---- the command --------------------------------------------------------- */

static int exit_for_read(int status)
{
	switch (status) {
	case BZ_READ_NOT_CAPTURE: return BZ_EXIT_NOT_CAPTURE;
	case BZ_READ_TOO_NEW: return BZ_EXIT_TOO_NEW;
	case BZ_READ_TRUNCATED: return BZ_EXIT_TRUNCATED;
	case BZ_READ_CORRUPT: return BZ_EXIT_CORRUPT;
	default: return BZ_EXIT_USAGE;
	}
}

static void print_totals(const char *db_name, const struct bz_analysis_summary *s)
{
	printf("%s: %" PRIu64 " server and %" PRIu64 " client spans (%" PRIu64 " incomplete) from %" PRIu64
	       " connections (%" PRIu64 " HTTP, ",
	       db_name, s->spans.server, s->spans.client, s->spans.incomplete, s->conns, s->conns_http);
	if (s->conns_db)
		printf("%" PRIu64 " database, ", s->conns_db);
	printf("%" PRIu64 " not HTTP", s->conns_non_http);
	if (s->explain.tls_opaque)
		printf(", %" PRIu64 " encrypted (TLS) with no plaintext recorded", s->explain.tls_opaque);
	printf(")\n\n");
}

/* After the summary table: why requests are missing, and what would record
 * the encrypted ones (nothing when every connection was understood). */
static void print_hint(const struct bz_analysis_summary *s, FILE *out)
{
	int no_requests = s->spans.server + s->spans.client == s->spans.incomplete;

	bz_explain_print(&s->explain, s->conns, no_requests, out);
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = { 0 };
	struct bz_analysis_summary sum;
	struct bz_reader *r = NULL;
	struct bz_db *db = NULL;
	struct progress prog = { 0 };
	struct stat sb;
	char *out = NULL, err[512];
	const char *db_path;
	int ret = BZ_EXIT_USAGE, rc, in_memory, tty, perfetto_fd = -1;
	char *argv0 = argc > 0 ? argv[0] : NULL;

	if (argc > 0)
		argv[0] = (char *)"beyla analyze";
	argp_err_exit_status = BZ_EXIT_USAGE;
	error_t perr = argp_parse(&analyze_argp, argc, argv, 0, NULL, &o);
	if (argc > 0)
		argv[0] = argv0;
	if (perr)
		return BZ_EXIT_USAGE;

	in_memory = o.dump && !o.out;
	if (!in_memory) {
		out = o.out ? strdup(o.out) : default_output(o.path);
		if (!out) {
			fprintf(stderr, "beyla analyze: out of memory\n");
			return BZ_EXIT_USAGE;
		}
		if (stat(out, &sb) == 0) {
			struct stat in_sb;
			if (stat(o.path, &in_sb) == 0 && in_sb.st_dev == sb.st_dev && in_sb.st_ino == sb.st_ino) {
				fprintf(stderr, "beyla analyze: %s is the capture itself; choose another -o\n", out);
				goto done;
			}
			if (!o.force) {
				fprintf(stderr, "beyla analyze: %s exists (use --force to replace it)\n", out);
				goto done;
			}
		}
	}
	if (o.perfetto && (perfetto_fd = perfetto_open(&o, out)) < 0)
		goto done;
	rc = bz_reader_open_file(&r, o.path);
	if (rc) {
		fprintf(stderr, "beyla analyze: %s: %s\n", o.path, strerror(-rc));
		goto done;
	}
	if (in_memory) {
		db_path = ":memory:";
	} else {
		int n = snprintf(tmp_path, sizeof(tmp_path), "%s.tmp.XXXXXX", out), fd;
		if (n < 0 || (size_t)n >= sizeof(tmp_path)) {
			tmp_path[0] = 0;
			fprintf(stderr, "beyla analyze: %s: path too long\n", out);
			goto done;
		}
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		fd = mkstemp(tmp_path);
		if (fd < 0) {
			fprintf(stderr, "beyla analyze: cannot create %s: %s\n", tmp_path, strerror(errno));
			tmp_path[0] = 0;
			goto done;
		}
		close(fd);
		db_path = tmp_path;
	}
	if (bz_db_create(&db, db_path, err, sizeof(err))) {
		fprintf(stderr, "beyla analyze: %s\n", err);
		goto done;
	}
	/* SQLite's inserts on the second CPU while this thread parses (if no
	 * thread can be made, the same work runs here, only slower) */
	bz_db_start_writer(db);

	tty = !o.quiet && isatty(STDERR_FILENO);
	if (tty && stat(o.path, &sb) == 0)
		prog.total = (uint64_t)sb.st_size;
	rc = bz_analyze_flags(r, db, o.path, tty ? on_progress : NULL, &prog, o.flags, &sum);
	if (prog.shown)
		fprintf(stderr, "\r\033[K");
	if (!sum.session.saw_header) {
		/* Nothing usable: not a capture, too new, unreadable. */
		fprintf(stderr, "beyla analyze: %s: %s\n", o.path,
			sum.session.read_status ? sum.session.errmsg : "no capture header");
		ret = sum.session.read_status ? exit_for_read(sum.session.read_status) : BZ_EXIT_NOT_CAPTURE;
		goto done;
	}
	if (rc) {
		fprintf(stderr, "beyla analyze: cannot write the database: %s\n", sum.err);
		goto done;
	}

	/* The input's verdict, as `beyla info` gives it. */
	ret = BZ_EXIT_OK;
	if (sum.session.read_status) {
		ret = exit_for_read(sum.session.read_status);
		fprintf(stderr, "beyla analyze: warning: %s: %s; analysed every complete part\n", o.path,
			sum.session.errmsg);
	} else if (sum.session.bad_records) {
		ret = BZ_EXIT_CORRUPT;
		fprintf(stderr, "beyla analyze: warning: %s: %" PRIu64 " malformed records skipped\n", o.path,
			sum.session.bad_records);
	} else if (!sum.session.saw_end) {
		ret = BZ_EXIT_TRUNCATED;
		fprintf(stderr, "beyla analyze: warning: %s: no end block (recorder killed?); "
				"analysed every complete part\n", o.path);
	}

	if ((o.otlp.enabled || o.otlp.file) && in_memory && bz_otlp_run(&o.otlp, bz_db_handle(db), NULL))
		ret = BZ_EXIT_EXPORT;
	if (o.perfetto && in_memory) {
		int fd = perfetto_fd;
		perfetto_fd = -1;
		if (perfetto_write(&o, fd, bz_db_handle(db), NULL))
			ret = BZ_EXIT_EXPORT;
	}
	if (o.dump) {
		/* the summary too: golden tests then hold what a user reads */
		if (bz_report_dump_spans(bz_db_handle(db), stdout) || fputc('\n', stdout) == EOF ||
		    bz_report_summary(bz_db_handle(db), stdout) || bz_report_sched(bz_db_handle(db), stdout))
			ret = BZ_EXIT_USAGE;
		else
			print_hint(&sum, stdout);
	} else if (!o.quiet) {
		print_totals(out, &sum);
		if (bz_report_summary(bz_db_handle(db), stdout) || bz_report_sched(bz_db_handle(db), stdout))
			ret = BZ_EXIT_USAGE;
		else
			print_hint(&sum, stdout);
	}
	if (o.timings && db) {
		const struct bz_db_timings *t = bz_db_timings(db);
		fflush(stdout); /* after the summary, when both go to one place */
		fprintf(stderr, "beyla analyze: timings: load %.2f s (analysis thread %.2f s CPU, writer thread %.2f s CPU),"
			" indexes %.2f s, route and service stats %.2f s\n", t->load, t->analysis_cpu, t->writer_cpu,
			t->indexes, t->stats);
	}
	bz_db_close(&db);
	if (!in_memory) {
		if (rename(tmp_path, out)) {
			fprintf(stderr, "beyla analyze: cannot rename %s to %s: %s\n", tmp_path, out, strerror(errno));
			ret = BZ_EXIT_USAGE;
		} else {
			tmp_path[0] = 0;
			if (o.perfetto) {
				int fd = perfetto_fd;
				perfetto_fd = -1;
				if (perfetto_write(&o, fd, NULL, out))
					ret = BZ_EXIT_EXPORT;
			}
			if ((o.otlp.enabled || o.otlp.file) && bz_otlp_run(&o.otlp, NULL, out))
				ret = BZ_EXIT_EXPORT;
		}
	}
done:
	fflush(stdout);
	bz_db_close(&db);
	bz_reader_free(&r);
	if (tmp_path[0]) {
		unlink(tmp_path);
		tmp_path[0] = 0;
	}
	if (perfetto_fd >= 0)
		close(perfetto_fd);
	if (perfetto_tmp[0]) {
		unlink(perfetto_tmp);
		perfetto_tmp[0] = 0;
	}
	free(out);
	return ret;
}
