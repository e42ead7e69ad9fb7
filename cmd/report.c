/* report.c - `beyla report FILE`: one self-contained HTML page from an
 * analysis database, or from a capture analysed on the way
 * (analyze/report_html.h does the page).
 *
 * Given a capture, the database is written to a temporary file in TMPDIR
 * (default /tmp) and removed at the end: the report is what was asked for,
 * and `beyla analyze` is there to keep a database.  The page is written to
 * a temporary file next to its final name and renamed into place, so an
 * interrupted run leaves no half-written page; an existing page is only
 * replaced with --force.
 *
 * Exit codes (cmd/commands.h): 0 written; 1 usage, I/O or database error,
 * output exists; 2 neither a capture nor a database; 3 a newer format; 4
 * truncated and 5 corrupt capture, both after writing the report from
 * every complete part.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "analyze/analysis.h"
#include "analyze/capture_reader.h"
#include "analyze/db.h"
#include "analyze/report_html.h"
#include "cmd/commands.h"

struct report_opts {
	const char *path;
	const char *out;
	int force, quiet;
	unsigned slowest;
};

static const struct argp_option report_options[] = {
	{ "output", 'o', "HTML", 0, "Write the page to HTML (default: FILE with .bz.zst or .db replaced by .html)", 0 },
	{ "force", 'f', NULL, 0, "Replace HTML if it exists", 0 },
	{ "quiet", 'q', NULL, 0, "Print nothing but errors and warnings", 0 },
	{ "slowest", 'n', "N", 0, "Draw the N slowest requests as waterfalls (default 50, at most 500)", 0 },
	{ 0 }
};

static error_t report_parse(int key, char *arg, struct argp_state *state)
{
	struct report_opts *o = state->input;
	char *end;
	unsigned long n;

	switch (key) {
	case 'o':
		o->out = arg;
		return 0;
	case 'f':
		o->force = 1;
		return 0;
	case 'q':
		o->quiet = 1;
		return 0;
	case 'n':
		errno = 0;
		n = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || n < 1 || n > 500)
			argp_error(state, "bad --slowest '%s' (a number from 1 to 500)", arg);
		o->slowest = (unsigned)n;
		return 0;
	case ARGP_KEY_ARG:
		if (o->path)
			argp_error(state, "one FILE at a time");
		o->path = arg;
		return 0;
	case ARGP_KEY_END:
		if (!o->path)
			argp_error(state, "which capture or database? give a FILE");
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const char report_doc[] =
	"Write one HTML page about a capture, to read in any browser, offline: what was recorded and what "
	"may be missing (drops, a truncated capture, TLS without plaintext, incomplete spans), requests, "
	"errors, p50/p90/p99/max and time in queue per service and route, latency histograms, the capture "
	"over time (requests/s, errors/s, p99, in-queue share, concurrency), the slowest requests as "
	"waterfalls with their client calls, and the connections."
	"\v"
	"FILE is a database written by `beyla analyze` (FILE.db) or a capture (FILE.bz.zst), which is "
	"analysed first into a temporary database in TMPDIR (removed afterwards; run `beyla analyze` to "
	"keep one).  The page is self-contained: its styles, script and charts are inside it, it loads "
	"nothing, and it stays small whatever the capture's size (tables are capped, the page says what "
	"it left out).  Every number comes from the database.\n"
	"\n"
	"Examples:\n"
	"  beyla report shop.bz.zst                   # writes shop.html\n"
	"  beyla report shop.db -o /tmp/shop.html --force\n"
	"  xdg-open shop.html\n"
	"\n"
	"Exit status: 0 written, 1 usage, I/O or database error (or HTML exists), 2 neither a capture nor a "
	"database, 3 written by a newer beyla, 4 truncated capture, 5 corrupt capture. With 4 and 5 the "
	"page is still written, from every complete part, and says so at the top.";

static const struct argp report_argp = { report_options, report_parse, "FILE", report_doc, NULL, NULL, NULL };

/* ---- temporary files, removed on a signal too ------------------------------- */

static char tmp_db[4096], tmp_html[4096];

static void remove_tmp(void)
{
	if (tmp_db[0])
		unlink(tmp_db);
	if (tmp_html[0])
		unlink(tmp_html);
	tmp_db[0] = tmp_html[0] = 0;
}

static void on_signal(int sig)
{
	if (tmp_db[0])
		unlink(tmp_db);
	if (tmp_html[0])
		unlink(tmp_html);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* mkstemp on TEMPLATE into slot; 0 or -errno. */
static int make_tmp(char *slot, size_t cap, const char *prefix, const char *suffix_pattern)
{
	int n = snprintf(slot, cap, "%s%s", prefix, suffix_pattern), fd;

	if (n < 0 || (size_t)n >= cap) {
		slot[0] = 0;
		return -ENAMETOOLONG;
	}
	fd = mkstemp(slot);
	if (fd < 0) {
		int e = errno;
		slot[0] = 0;
		return -e;
	}
	close(fd);
	return 0;
}

/* ---- what the input is --------------------------------------------------------- */

enum input_kind { IN_UNKNOWN, IN_DB, IN_CAPTURE };

/* By its first bytes: SQLite's header, or a zstd frame (a capture is a
 * sequence of zstd frames; the capture reader checks the rest). */
static int sniff(const char *path, enum input_kind *kind)
{
	unsigned char head[16] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return -errno;
	*kind = IN_UNKNOWN;
	if (n == 16 && !memcmp(head, "SQLite format 3", 16))
		*kind = IN_DB;
	else if (n >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD)
		*kind = IN_CAPTURE;
	return 0;
}

/* FILE.bz.zst, FILE.zst, FILE.db -> FILE.html; else FILE.html */
static char *default_output(const char *in)
{
	static const char *const exts[] = { ".bz.zst", ".zst", ".db", ".sqlite" };
	size_t n = strlen(in);
	char *out = malloc(n + 6);

	if (!out)
		return NULL;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t e = strlen(exts[i]);
		if (n > e && !strcmp(in + n - e, exts[i])) {
			n -= e;
			break;
		}
	}
	memcpy(out, in, n);
	strcpy(out + n, ".html");
	return out;
}

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

/* Analyses the capture at path into the database db_path, as `beyla
 * analyze` would.  Sets *verdict to the capture's exit code (0, 4, 5);
 * returns 0, or the exit code of a failure. */
static int analyze_capture(const char *path, const char *db_path, int *verdict)
{
	struct bz_analysis_summary sum;
	struct bz_reader *r = NULL;
	struct bz_db *db = NULL;
	char err[512];
	int rc, ret = BZ_EXIT_USAGE;

	*verdict = BZ_EXIT_OK;
	if ((rc = bz_reader_open_file(&r, path))) {
		fprintf(stderr, "beyla report: %s: %s\n", path, strerror(-rc));
		return BZ_EXIT_USAGE;
	}
	if (bz_db_create(&db, db_path, err, sizeof(err))) {
		fprintf(stderr, "beyla report: %s\n", err);
		goto done;
	}
	bz_db_start_writer(db);
	rc = bz_analyze(r, db, path, NULL, NULL, &sum);
	if (!sum.session.saw_header) {
		fprintf(stderr, "beyla report: %s: %s\n", path,
			sum.session.read_status ? sum.session.errmsg : "no capture header");
		ret = sum.session.read_status ? exit_for_read(sum.session.read_status) : BZ_EXIT_NOT_CAPTURE;
		goto done;
	}
	if (rc) {
		fprintf(stderr, "beyla report: cannot write the database: %s\n", sum.err);
		goto done;
	}
	if (sum.session.read_status) {
		*verdict = exit_for_read(sum.session.read_status);
		fprintf(stderr, "beyla report: warning: %s: %s; analysed every complete part\n", path,
			sum.session.errmsg);
	} else if (sum.session.bad_records) {
		*verdict = BZ_EXIT_CORRUPT;
		fprintf(stderr, "beyla report: warning: %s: %" PRIu64 " malformed records skipped\n", path,
			sum.session.bad_records);
	} else if (!sum.session.saw_end) {
		*verdict = BZ_EXIT_TRUNCATED;
		fprintf(stderr, "beyla report: warning: %s: no end block (recorder killed?); "
				"analysed every complete part\n", path);
	}
	ret = BZ_EXIT_OK; /* bz_analyze finished the database */
done:
	bz_db_close(&db);
	bz_reader_free(&r);
	return ret;
}

/* The database, read-only, checked to be one `beyla analyze` wrote. */
static int open_db(const char *path, sqlite3 **h)
{
	sqlite3_stmt *q = NULL;
	int version = -1, has_capture = 0;

	if (sqlite3_open_v2(path, h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "beyla report: %s: %s\n", path, *h ? sqlite3_errmsg(*h) : "cannot open");
		return BZ_EXIT_USAGE;
	}
	if (sqlite3_prepare_v2(*h, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(*h, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
			       " ('capture', 'span_rows', 'route_stat_rows', 'connections', 'drops', 'parse_stats')",
			       -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		has_capture = sqlite3_column_int(q, 0) == 6;
	sqlite3_finalize(q);
	if (version < 0) {
		fprintf(stderr, "beyla report: %s: %s\n", path, sqlite3_errmsg(*h));
		return BZ_EXIT_USAGE;
	}
	if (!has_capture || version < BZ_HTML_MIN_DB_VERSION) {
		if (has_capture)
			fprintf(stderr, "beyla report: %s: a database of version %d, from an older beyla; run "
					"`beyla analyze` on its capture again\n", path, version);
		else
			fprintf(stderr, "beyla report: %s: an SQLite database, but not one `beyla analyze` wrote\n", path);
		return BZ_EXIT_NOT_CAPTURE;
	}
	return BZ_EXIT_OK;
}

/* 32 hex digits from the kernel's random source: the page's script nonce. */
static int make_nonce(char *buf, size_t cap)
{
	unsigned char r[16];

	if (cap < 33 || getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(buf + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* The directory part of path with a trailing '/', or "" (for the temporary page). */
static void dir_of(const char *path, char *buf, size_t cap)
{
	const char *s = strrchr(path, '/');
	size_t n = s ? (size_t)(s - path) + 1 : 0;

	if (n >= cap)
		n = 0;
	memcpy(buf, path, n);
	buf[n] = 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { 0 };
	struct stat sb, in_sb;
	struct timespec t0, t1;
	enum input_kind kind = IN_UNKNOWN;
	sqlite3 *h = NULL;
	FILE *f = NULL;
	char *out = NULL, err[512], nonce[40], dir[4096];
	const char *db_path;
	int ret = BZ_EXIT_USAGE, verdict = BZ_EXIT_OK, rc;
	char *argv0 = argc > 0 ? argv[0] : NULL;

	if (argc > 0)
		argv[0] = (char *)"beyla report";
	argp_err_exit_status = BZ_EXIT_USAGE;
	error_t perr = argp_parse(&report_argp, argc, argv, 0, NULL, &o);
	if (argc > 0)
		argv[0] = argv0;
	if (perr)
		return BZ_EXIT_USAGE;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	if ((rc = sniff(o.path, &kind))) {
		fprintf(stderr, "beyla report: %s: %s\n", o.path, strerror(-rc));
		return BZ_EXIT_USAGE;
	}
	if (kind == IN_UNKNOWN) {
		fprintf(stderr, "beyla report: %s: neither a beyla capture (.bz.zst) nor a database from "
				"`beyla analyze` (.db)\n", o.path);
		return BZ_EXIT_NOT_CAPTURE;
	}
	out = o.out ? strdup(o.out) : default_output(o.path);
	if (!out) {
		fprintf(stderr, "beyla report: out of memory\n");
		return BZ_EXIT_USAGE;
	}
	if (stat(out, &sb) == 0) {
		if (stat(o.path, &in_sb) == 0 && in_sb.st_dev == sb.st_dev && in_sb.st_ino == sb.st_ino) {
			fprintf(stderr, "beyla report: %s is the input itself; choose another -o\n", out);
			goto done;
		}
		if (!o.force) {
			fprintf(stderr, "beyla report: %s exists (use --force to replace it)\n", out);
			goto done;
		}
	}
	if (make_nonce(nonce, sizeof(nonce))) {
		fprintf(stderr, "beyla report: no random bytes for the page's script nonce: %s\n", strerror(errno));
		goto done;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	db_path = o.path;
	if (kind == IN_CAPTURE) {
		const char *tmpdir = getenv("TMPDIR");
		char prefix[4096];
		snprintf(prefix, sizeof(prefix), "%s/beyla-report-", tmpdir && *tmpdir ? tmpdir : "/tmp");
		if ((rc = make_tmp(tmp_db, sizeof(tmp_db), prefix, "XXXXXX"))) {
			fprintf(stderr, "beyla report: cannot create a temporary database in %s: %s\n",
				tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(-rc));
			goto done;
		}
		if (!o.quiet)
			fprintf(stderr, "beyla report: analysing %s (into a temporary database)\n", o.path);
		if ((ret = analyze_capture(o.path, tmp_db, &verdict)))
			goto done;
		ret = BZ_EXIT_USAGE;
		db_path = tmp_db;
	}
	if ((ret = open_db(db_path, &h)))
		goto done;
	ret = BZ_EXIT_USAGE;

	dir_of(out, dir, sizeof(dir));
	if ((rc = make_tmp(tmp_html, sizeof(tmp_html), dir, ".beyla-report.XXXXXX"))) {
		fprintf(stderr, "beyla report: cannot create a file next to %s: %s\n", out, strerror(-rc));
		goto done;
	}
	if (!(f = fopen(tmp_html, "w"))) {
		fprintf(stderr, "beyla report: %s: %s\n", tmp_html, strerror(errno));
		goto done;
	}
	struct bz_html_opts ho = { .source = o.path, .nonce = nonce, .slowest = o.slowest };
	if (bz_report_html(h, f, &ho, err, sizeof(err))) {
		fprintf(stderr, "beyla report: %s\n", err);
		goto done;
	}
	if (fflush(f) || ferror(f) || fsync(fileno(f))) {
		fprintf(stderr, "beyla report: cannot write %s: %s\n", tmp_html, strerror(errno));
		goto done;
	}
	long size = ftell(f);
	rc = fclose(f);
	f = NULL;
	/* mkstemp made it 0600; a page is for reading like any other file */
	mode_t um = umask(0);
	umask(um);
	if (rc || chmod(tmp_html, 0666 & ~um) || rename(tmp_html, out)) {
		fprintf(stderr, "beyla report: cannot write %s: %s\n", out, strerror(errno));
		goto done;
	}
	tmp_html[0] = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!o.quiet)
		printf("%s: %.1f kB, in %.2f s\n", out, (double)size / 1e3,
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	ret = verdict;
done:
	if (f)
		fclose(f);
	if (h)
		sqlite3_close(h);
	remove_tmp();
	free(out);
	return ret;
}
