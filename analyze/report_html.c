/* report_html.c - the HTML report's page: the template, the header (what
 * was recorded, what may be missing) and the sections in order
 * (report_html.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "html_escape.h"
#include "report_fmt.h"
#include "report_html.h"
#include "report_sections.h"
#include "report_waterfall.h"

static int sql_err(sqlite3 *h, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "report: %s: %s", what, sqlite3_errmsg(h));
	return -EIO;
}

/* One integer from a query; dflt when it gives no row or NULL. */
static int64_t int_of(sqlite3 *h, const char *sql, int64_t dflt)
{
	sqlite3_stmt *q = NULL;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* A parse_stats counter (0 when absent). */
static int64_t stat_of(sqlite3 *h, const char *name)
{
	sqlite3_stmt *q = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(h, "SELECT value FROM parse_stats WHERE name = ?1", -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	return v;
}

static const char *col_text(sqlite3_stmt *q, int c)
{
	return (const char *)sqlite3_column_text(q, c);
}

/* ---- the probe report (table probes, schema version 7) ---------------------- */

/* 1 if the database has the table probes (an older one does not). */
static int has_probes(sqlite3 *h)
{
	return int_of(h, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'probes'", 0) > 0;
}

/* The probes a WHERE clause picks (probes refused, of a category...):
 * their count, and up to 6 of them written escaped to out as "name (path):
 * reason" items separated by sep (with_reason 0: the names alone).  out
 * may be NULL (the count only). */
static int64_t probe_list(sqlite3 *h, FILE *out, const char *where, const char *sep, int with_reason)
{
	char sql[320];
	sqlite3_stmt *q = NULL;
	int64_t n = 0;

	snprintf(sql, sizeof(sql), "SELECT name, path, reason, required FROM probes WHERE %s ORDER BY id", where);
	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (out && n < 6) {
			fputs(n ? sep : "", out);
			fputs("<code>", out);
			bz_html_escape(out, col_text(q, 0) ? col_text(q, 0) : "?", (size_t)sqlite3_column_bytes(q, 0), 120);
			fputs("</code>", out);
			if (with_reason) {
				fputs(sqlite3_column_int(q, 3) ? " (required" : " (optional", out);
				if (col_text(q, 1)) {
					fputs(", in ", out);
					bz_html_escape(out, col_text(q, 1), (size_t)sqlite3_column_bytes(q, 1), 160);
				}
				fputs("): ", out);
				if (col_text(q, 2))
					bz_html_escape(out, col_text(q, 2), (size_t)sqlite3_column_bytes(q, 2), 200);
				else
					fputs("no reason given", out);
			}
		} else if (out && n == 6) {
			fputs(sep, out);
			fputs("…", out);
		}
		n++;
	}
	sqlite3_finalize(q);
	return n;
}

/* The header's probes line: how many attached, were refused, skipped, and
 * the refused ones by name with the recorder's reason. */
static void probes_fact(sqlite3 *h, FILE *out)
{
	static const struct { const char *status, *id; } st[] = {
		{ "attached", "probes-attached" }, { "refused", "probes-refused" }, { "skipped", "probes-skipped" },
	};
	char sql[160];

	fputs("<dt>probes</dt><dd>", out);
	if (!has_probes(h)) {
		fputs("this database is from an older beyla (schema version 6 or less) and does not hold them: "
		      "<code>beyla info CAPTURE</code> lists them, or analyse the capture again; what the attached ones lost is under "
		      "<a href=\"#counters\">Drops</a>", out);
	} else {
		for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM probes WHERE status = '%s'", st[i].status);
			int64_t n = int_of(h, sql, 0);
			fprintf(out, "%s<span id=\"%s\" data-v=\"%" PRId64 "\">%" PRId64 "</span> %s", i ? ", " : "", st[i].id,
				n, n, st[i].status);
		}
		int64_t other = int_of(h, "SELECT count(*) FROM probes WHERE status NOT IN ('attached', 'refused', 'skipped')", 0);
		if (other)
			fprintf(out, ", %" PRId64 " of a status this beyla does not know", other);
		fprintf(out, " (%" PRId64 " kernel, %" PRId64 " Go, %" PRId64 " TLS library)",
			int_of(h, "SELECT count(*) FROM probes WHERE category = 'kernel'", 0),
			int_of(h, "SELECT count(*) FROM probes WHERE category = 'go'", 0),
			int_of(h, "SELECT count(*) FROM probes WHERE category NOT IN ('kernel', 'go')", 0));
		fputs("; what the attached ones lost is under <a href=\"#counters\">Drops</a>", out);
		if (probe_list(h, NULL, "status = 'refused'", "", 0)) {
			fputs("<ul class=\"refused\" id=\"probes-refused-list\"><li>", out);
			probe_list(h, out, "status = 'refused'", "</li><li>", 1);
			fputs("</li></ul>", out);
		}
	}
	fputs("</dd>\n", out);
}

/* ---- the header ------------------------------------------------------------ */

enum {
	K_SOURCE, K_BEYLA, K_ANALYZER, K_HOST, K_KERNEL, K_ARCH, K_NCPUS, K_TARGET, K_SNAPLEN, K_REDACTED,
	K_START, K_END, K_COMPLETE, K_TRUNCATED, K_CORRUPT, K_ERROR, K_STOP, K_RECORDED, K_READ, K_DROPS,
	K_USER_DROPS
};

static const char capture_sql[] =
	"SELECT source, beyla_version, analyzer_version, hostname, kernel, arch, ncpus, target, snaplen, redacted,"
	" start_ns, end_ns, complete, truncated, corrupt, error, stop_reason, events_recorded, events_read, drops,"
	" user_drops FROM capture";

/* <dt>KEY</dt><dd>escaped text</dd> */
static void fact(FILE *out, const char *key, const char *text)
{
	fprintf(out, "<dt>%s</dt><dd>", key);
	if (text)
		bz_html_escape(out, text, strlen(text), 600);
	else
		fputs("-", out);
	fputs("</dd>\n", out);
}

static void facts(sqlite3 *h, FILE *out, sqlite3_stmt *cap)
{
	char a[96], b[96], line[320];
	int64_t start = sqlite3_column_int64(cap, K_START), end = sqlite3_column_int64(cap, K_END);

	fputs("<dl class=\"facts\" id=\"facts\">\n", out);
	fact(out, "capture", col_text(cap, K_SOURCE));
	snprintf(line, sizeof(line), "%s (kernel %s, %s, %d CPUs)", col_text(cap, K_HOST) ? col_text(cap, K_HOST) : "-",
		 col_text(cap, K_KERNEL) ? col_text(cap, K_KERNEL) : "-", col_text(cap, K_ARCH) ? col_text(cap, K_ARCH) : "-",
		 sqlite3_column_int(cap, K_NCPUS));
	fact(out, "host", line);
	bz_rfmt_utc(a, sizeof(a), start);
	bz_rfmt_ns(b, sizeof(b), (double)(end - start));
	fprintf(out, "<dt>recorded</dt><dd>%s, for <b id=\"duration\" data-v=\"%" PRId64 "\">%s</b></dd>\n", a,
		end - start, b);
	fact(out, "targets", col_text(cap, K_TARGET));
	snprintf(line, sizeof(line), "%s, redaction of credentials %s",
		 col_text(cap, K_STOP) ? col_text(cap, K_STOP) : "-", sqlite3_column_int(cap, K_REDACTED) ? "on" : "OFF");
	fprintf(out, "<dt>stopped by</dt><dd>");
	bz_html_text(out, line);
	fputs("</dd>\n", out);
	snprintf(line, sizeof(line), "%d bytes kept per read or write", sqlite3_column_int(cap, K_SNAPLEN));
	fact(out, "payload", line);
	bz_rfmt_count(a, sizeof(a), (uint64_t)sqlite3_column_int64(cap, K_RECORDED));
	bz_rfmt_count(b, sizeof(b), (uint64_t)sqlite3_column_int64(cap, K_READ));
	snprintf(line, sizeof(line), "%s recorded, %s read", sqlite3_column_type(cap, K_RECORDED) == SQLITE_NULL ? "?" : a,
		 b);
	fact(out, "events", line);
	snprintf(line, sizeof(line), "%" PRId64 " (services: ", int_of(h, "SELECT count(*) FROM processes", 0));
	fprintf(out, "<dt>processes</dt><dd>");
	bz_html_text(out, line);
	{
		sqlite3_stmt *q = NULL;
		int n = 0;
		if (sqlite3_prepare_v2(h, "SELECT DISTINCT service_name FROM processes WHERE service_name IS NOT NULL"
				      " ORDER BY 1 LIMIT 21", -1, &q, NULL) == SQLITE_OK)
			while (sqlite3_step(q) == SQLITE_ROW) {
				if (n++ == 20) {
					fputs(", …", out);
					break;
				}
				fputs(n > 1 ? ", " : "", out);
				bz_html_escape(out, col_text(q, 0), (size_t)sqlite3_column_bytes(q, 0), 60);
			}
		sqlite3_finalize(q);
		fputs(n ? ")" : "none named)", out);
	}
	fputs("</dd>\n", out);
	bz_rfmt_count(a, sizeof(a), (uint64_t)stat_of(h, "spans_server"));
	bz_rfmt_count(b, sizeof(b), (uint64_t)stat_of(h, "spans_client"));
	fprintf(out, "<dt>spans</dt><dd><span id=\"spans-server\" data-v=\"%" PRId64 "\">%s</span> server, "
		"<span id=\"spans-client\" data-v=\"%" PRId64 "\">%s</span> client (%" PRId64 " incomplete), from %" PRId64
		" connections</dd>\n", stat_of(h, "spans_server"), a, stat_of(h, "spans_client"), b,
		stat_of(h, "spans_incomplete"), int_of(h, "SELECT count(*) FROM connections", 0));
	snprintf(line, sizeof(line), "recorder %s, analyzer %s", col_text(cap, K_BEYLA) ? col_text(cap, K_BEYLA) : "-",
		 col_text(cap, K_ANALYZER) ? col_text(cap, K_ANALYZER) : "-");
	fact(out, "beyla", line);
	probes_fact(h, out);
	fputs("</dl>\n", out);
}

/* A warning line: cls "bad" (data is missing or wrong), "" (read with
 * care), "ok".  The text is the page's own, with numbers. */
static void warn(FILE *out, const char *cls, const char *id, const char *html)
{
	fprintf(out, "<li class=\"%s\" id=\"warn-%s\">%s</li>\n", cls, id, html);
}

/* The lost events per probe, "recv 12, send 3" (probes with losses only). */
static void lost_by_probe(sqlite3 *h, char *buf, size_t cap)
{
	sqlite3_stmt *q = NULL;
	size_t n = 0;

	buf[0] = 0;
	if (sqlite3_prepare_v2(h, "SELECT probe, lost + missed FROM drops WHERE lost + missed > 0 ORDER BY 2 DESC", -1,
			       &q, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(q) == SQLITE_ROW && n + 64 < cap) {
		/* probe names are the recorder's own identifiers: keep [a-z0-9_] only */
		char name[32];
		const char *p = col_text(q, 0) ? col_text(q, 0) : "?";
		size_t k = 0;
		for (; *p && k + 1 < sizeof(name); p++)
			if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
				name[k++] = *p;
		name[k] = 0;
		n += (size_t)snprintf(buf + n, cap - n, "%s%s %" PRId64, n ? ", " : "", name,
				      (int64_t)sqlite3_column_int64(q, 1));
	}
	sqlite3_finalize(q);
}

/* Refused probes whose loss matters: a required one, the Go probes, the
 * OpenSSL probes.  Returns how many warnings it wrote. */
static int probe_warnings(sqlite3 *h, FILE *out)
{
	static const struct { const char *where, *id, *what, *loss; } w[] = {
		{ "status = 'refused' AND required", "probes-required", "required probes were refused",
		  "what they record is missing from this capture, and spans built from it may be wrong" },
		{ "status = 'refused' AND NOT required AND category = 'go'", "probes-go", "Go probes were refused",
		  "for the Go programs they were placed in, handler times, HTTPS plaintext (Go crypto/tls) and the "
		  "parents of client calls may be missing" },
		{ "status = 'refused' AND NOT required AND category IN ('openssl', 'boringssl')", "probes-openssl",
		  "OpenSSL probes were refused", "HTTPS through that library stays encrypted: its requests are not "
		  "in this report" },
	};
	int n = 0;

	if (!has_probes(h))
		return 0;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		int64_t k = probe_list(h, NULL, w[i].where, "", 0);
		if (!k)
			continue;
		fprintf(out, "<li class=\"bad\" id=\"warn-%s\"><b>%" PRId64 " %s</b> (", w[i].id, k, w[i].what);
		probe_list(h, out, w[i].where, ", ", 0);
		fprintf(out, "): %s. The header lists why.</li>\n", w[i].loss);
		n++;
	}
	return n;
}

static void warnings(sqlite3 *h, FILE *out, sqlite3_stmt *cap)
{
	char t[1024], e[400], probes[400];
	int serious = 0;
	int64_t drops = sqlite3_column_int64(cap, K_DROPS), user = sqlite3_column_int64(cap, K_USER_DROPS);
	int64_t lost = int_of(h, "SELECT sum(lost) FROM drops", 0), missed = int_of(h, "SELECT sum(missed) FROM drops", 0);
	int64_t lost_conns = int_of(h, "SELECT count(*) FROM connections WHERE lost_bytes > 0", 0);
	int64_t incomplete = stat_of(h, "spans_incomplete"), opaque = stat_of(h, "tls_conns_opaque");
	int64_t spans = stat_of(h, "spans_server") + stat_of(h, "spans_client");

	fputs("<h2 id=\"warnings\">Read this first</h2>\n<ul class=\"warnings\">\n", out);
	e[0] = 0;
	if (col_text(cap, K_ERROR)) {
		/* the reader's message: from the capture file, so escaped */
		FILE *m = fmemopen(e, sizeof(e), "w");
		if (m) {
			fputs(" (", m);
			bz_html_escape(m, col_text(cap, K_ERROR), (size_t)sqlite3_column_bytes(cap, K_ERROR), 200);
			fputs(")", m);
			fclose(m);
			e[sizeof(e) - 1] = 0;
		}
	}
	if (sqlite3_column_int(cap, K_CORRUPT)) {
		snprintf(t, sizeof(t), "<b>The capture is damaged</b>%s: everything before the damage was analysed, "
			 "nothing after it; requests in flight there are incomplete or missing.", e);
		warn(out, "bad", "corrupt", t);
		serious++;
	} else if (sqlite3_column_int(cap, K_TRUNCATED)) {
		snprintf(t, sizeof(t), "<b>The capture is truncated</b>%s: the recorder was killed or its disk filled; "
			 "every complete part was analysed, requests in flight at the cut are incomplete.", e);
		warn(out, "bad", "truncated", t);
		serious++;
	} else if (!sqlite3_column_int(cap, K_COMPLETE)) {
		warn(out, "bad", "incomplete-capture", "<b>The capture has no end block</b> (the recorder did not stop "
		     "cleanly): the last moments may be missing.");
		serious++;
	}
	serious += probe_warnings(h, out);
	if (stat_of(h, "bad_records")) {
		snprintf(t, sizeof(t), "<b>%" PRId64 " malformed records</b> were skipped while reading the capture.",
			 stat_of(h, "bad_records"));
		warn(out, "bad", "bad-records", t);
		serious++;
	}
	if (drops > 0 || user > 0 || lost > 0 || missed > 0 || lost_conns > 0) {
		lost_by_probe(h, probes, sizeof(probes));
		snprintf(t, sizeof(t), "<b>Events were dropped</b>: %" PRId64 " lost in the kernel (ring buffer full)%s%s%s, "
			 "%" PRId64 " that user space could not store, %" PRId64 " bookkeeping entries missed (a map was full); "
			 "%" PRId64 " connections lost bytes. Requests on those connections may be missing or cut short, "
			 "and their times wrong: see the <i>lost</i> column of <a href=\"#connections\">Connections</a> "
			 "and the <a href=\"#counters\">probe counters</a>. Recording with a larger "
			 "<code>--ring-buffer</code> or a smaller <code>--snaplen</code> loses less.",
			 drops > lost ? drops : lost, probes[0] ? " (" : "", probes, probes[0] ? ")" : "", user, missed,
			 lost_conns);
		warn(out, "bad", "drops", t);
		serious++;
	}
	if (opaque > 0) {
		snprintf(t, sizeof(t), "<b>%" PRId64 " connections were encrypted (TLS) with no plaintext recorded</b>: "
			 "their requests are not in this report. <code>beyla analyze</code> prints which TLS library "
			 "each process uses and what would record it.", opaque);
		warn(out, "bad", "tls", t);
		serious++;
	}
	if (incomplete > 0) {
		snprintf(t, sizeof(t), "<b>%" PRId64 " spans are incomplete</b> (no whole response was seen: still in flight "
			 "when the recording stopped, or the connection closed first). They are left out of the numbers "
			 "and the waterfalls.", incomplete);
		warn(out, "", "incomplete", t);
		serious++;
	}
	int64_t guessed = stat_of(h, "malformed_heads") + stat_of(h, "resyncs") + stat_of(h, "cut_heads") +
			  stat_of(h, "orphan_responses") + stat_of(h, "http2_headers_lost");
	if (guessed > 0) {
		snprintf(t, sizeof(t), "The parser had to recover %" PRId64 " times (malformed or cut message heads, lost "
			 "framing, responses with no request, lost HTTP/2 header blocks): some requests may be missing. "
			 "See the <a href=\"#counters\">analyzer counters</a>.", guessed);
		warn(out, "", "parser", t);
	}
	int64_t unparsed = stat_of(h, "conns_non_http") + stat_of(h, "conns_unparsed");
	if (unparsed > 0) {
		snprintf(t, sizeof(t), "%" PRId64 " connections carried no protocol beyla parses; they are in "
			 "<a href=\"#connections\">Connections</a> with no request.", unparsed);
		warn(out, "", "unparsed", t);
	}
	if (!sqlite3_column_int(cap, K_REDACTED)) {
		warn(out, "bad", "redaction", "<b>Redaction was off</b> while recording: the capture and its database may "
		     "hold credentials (authorization headers, cookies, passwords). This page shows query strings with "
		     "their values replaced, but span attributes as recorded.");
		serious++;
	}
	if (spans == 0) {
		warn(out, "bad", "no-spans", "<b>No request was found</b> in the capture: see the connections below for "
		     "what it held instead.");
		serious++;
	}
	if (!serious)
		warn(out, "ok", "none", "Nothing was dropped, the capture is complete and every span is whole.");
	fputs("</ul>\n", out);
}

/* ---- the page ------------------------------------------------------------------ */

/* The file's name without its directories, for the title. */
static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path ? path : "capture";
}

static int body(sqlite3 *h, FILE *out, const struct bz_html_opts *o, char *err, size_t errlen)
{
	struct bz_rstats st;
	sqlite3_stmt *cap = NULL;
	int rc;

	if (sqlite3_prepare_v2(h, capture_sql, -1, &cap, NULL) != SQLITE_OK)
		return sql_err(h, err, errlen, "the capture table");
	if (sqlite3_step(cap) != SQLITE_ROW) {
		sqlite3_finalize(cap);
		snprintf(err, errlen, "report: the capture table is empty: not a finished beyla analysis");
		return -EINVAL;
	}
	fputs("<header><h1>beyla report: ", out);
	bz_html_text(out, base_name(o->source));
	fputs("</h1>\n<nav><a href=\"#warnings\">Read this first</a><a href=\"#services\">Services</a>"
	      "<a href=\"#routes\">Routes</a><a href=\"#histograms\">Histograms</a><a href=\"#timeline\">Over time</a>"
	      "<a href=\"#slowest\">Slowest requests</a><a href=\"#connections\">Connections</a>"
	      "<a href=\"#counters\">Drops and counters</a></nav>\n", out);
	facts(h, out, cap);
	warnings(h, out, cap);
	fputs("</header>\n", out);
	sqlite3_finalize(cap);

	unsigned slowest = o->slowest ? o->slowest : BZ_HTML_SLOWEST;
	if ((rc = bz_rstats_load(h, &st, slowest, err, errlen))) {
		bz_rstats_free(&st);
		return rc;
	}
	bz_section_services(out, &st);
	bz_section_routes(out, &st, o->max_routes ? o->max_routes : BZ_HTML_ROUTES);
	bz_section_histograms(out, &st, o->max_hists ? o->max_hists : BZ_HTML_HISTS);
	bz_section_series(out, &st);

	fprintf(out, "<section id=\"slowest\"><h2>Slowest requests</h2>\n"
		"<p class=\"note legend\">The %u slowest complete server spans, each with the calls made under it "
		"(children by <code>parent_id</code> in the same trace, across the recorded processes) on one time axis: "
		"<span><i class=\"q\"></i>in queue (before processing; after it, in the send queue)</span>"
		"<span><i class=\"p\"></i>processing</span>"
		"<span><i class=\"c\"></i>client call</span> (outlined red: an error; dashed: incomplete). "
		"Hover a row for its attributes; click it to show them below.</p>\n", slowest);
	int64_t ids[500];
	size_t nids = 0;
	for (; nids < st.nslow && nids < sizeof(ids) / sizeof(ids[0]); nids++)
		ids[nids] = st.slow[nids].span_id;
	bz_rstats_free(&st);
	rc = bz_report_waterfalls(h, out, ids, nids, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0)
		fputs("<p>No complete server span.</p>\n", out);
	fputs("</section>\n", out);
	if ((rc = bz_section_connections(h, out, o->max_conns ? o->max_conns : BZ_HTML_CONNS, err, errlen)) ||
	    (rc = bz_section_counters(h, out, err, errlen)))
		return rc;
	fputs("<footer class=\"note\"><p>Made by <code>beyla report</code> " BEYLA_VERSION " from the analysis database "
	      "alone; every number can be checked with SQL on it (schema/spans.sql).</p></footer>\n", out);
	return 0;
}

int bz_report_html(sqlite3 *h, FILE *out, const struct bz_html_opts *o, char *err, size_t errlen)
{
	const char *p = bz_report_page;
	int rc = 0;

	/* The template, with each @@NAME@@ marker replaced. */
	while (*p && !rc) {
		const char *m = strstr(p, "@@");
		if (!m) {
			fputs(p, out);
			break;
		}
		fwrite(p, 1, (size_t)(m - p), out);
		if (!strncmp(m, "@@TITLE@@", 9)) {
			fputs("beyla report: ", out);
			bz_html_text(out, base_name(o->source));
			p = m + 9;
		} else if (!strncmp(m, "@@NONCE@@", 9)) {
			fputs(o->nonce, out);
			p = m + 9;
		} else if (!strncmp(m, "@@BODY@@", 8)) {
			rc = body(h, out, o, err, errlen);
			p = m + 8;
		} else {
			fputs("@@", out);
			p = m + 2;
		}
	}
	if (!rc && ferror(out)) {
		snprintf(err, errlen, "report: write error");
		rc = -EIO;
	}
	return rc;
}
