/* report_conns.c - the report's connection table, drop counters and parser
 * counters (report_sections.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "html_escape.h"
#include "report_fmt.h"
#include "report_sections.h"

static int sql_err(sqlite3 *h, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "report: %s: %s", what, sqlite3_errmsg(h));
	return -EIO;
}

static int64_t count_of(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* <td> with an integer column (data-v for sorting), bytes or a count */
static void td_int(FILE *out, sqlite3_stmt *q, int c, int bytes)
{
	char t[32];

	if (sqlite3_column_type(q, c) == SQLITE_NULL) {
		fputs("<td data-v=\"-1\">-</td>", out);
		return;
	}
	int64_t v = sqlite3_column_int64(q, c);
	if (bytes)
		bz_rfmt_bytes(t, sizeof(t), (double)v);
	else
		bz_rfmt_count(t, sizeof(t), (uint64_t)(v < 0 ? 0 : v));
	fprintf(out, "<td data-v=\"%" PRId64 "\">%s</td>", v, t);
}

/* "ADDR:PORT", a UNIX path, or "-" */
static void td_addr(FILE *out, sqlite3_stmt *q, int ca, int cp, int cpath)
{
	const char *a = (const char *)sqlite3_column_text(q, ca);

	fputs("<td class=\"t\">", out);
	if (a) {
		int v6 = strchr(a, ':') != NULL;
		fputs(v6 ? "[" : "", out);
		bz_html_escape(out, a, strlen(a), 64);
		fputs(v6 ? "]" : "", out);
		if (sqlite3_column_type(q, cp) != SQLITE_NULL)
			fprintf(out, ":%d", sqlite3_column_int(q, cp));
	} else if (cpath >= 0 && sqlite3_column_text(q, cpath)) {
		bz_html_escape(out, (const char *)sqlite3_column_text(q, cpath), (size_t)sqlite3_column_bytes(q, cpath),
			       108);
	} else {
		fputs("-", out);
	}
	fputs("</td>", out);
}

int bz_section_connections(sqlite3 *h, FILE *out, unsigned max_conns, char *err, size_t errlen)
{
	/* The busiest first: what carried the requests, then the bytes.  The
	 * lifetime runs from the handshake (or accept/connect, or first use)
	 * to the close; a connection still open at the end counts to then. */
	static const char sql[] =
		"SELECT c.conn_id, c.pid,"
		" (SELECT service_name FROM processes p WHERE p.pid = c.pid ORDER BY first_seen_ns DESC LIMIT 1),"
		" c.role, c.family, c.local_address, c.local_port, c.remote_address, c.remote_port, c.unix_path,"
		" coalesce(c.protocol, c.detected), c.requests, c.responses, c.bytes_in, c.bytes_out,"
		" coalesce(c.established_ns, c.opened_ns, c.syscall_start_ns) - (SELECT start_ns FROM capture),"
		" coalesce(c.closed_ns, (SELECT end_ns FROM capture)) - coalesce(c.established_ns, c.opened_ns, c.syscall_start_ns),"
		" c.closed_ns IS NULL, c.lost_bytes, c.skipped_bytes"
		" FROM connections c ORDER BY c.requests DESC, coalesce(c.bytes_in, 0) + coalesce(c.bytes_out, 0) DESC,"
		" c.conn_id LIMIT ?1";
	sqlite3_stmt *q = NULL;
	int64_t total = count_of(h, "SELECT count(*) FROM connections");
	unsigned shown = 0;
	int s;
	char t[48];

	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
		return sql_err(h, err, errlen, "connections");
	sqlite3_bind_int(q, 1, (int)max_conns);
	fputs("<section id=\"connections\"><h2>Connections</h2>\n"
	      "<p class=\"note\">The connections the targets used, the busiest first; click a header to sort. "
	      "<i>lost</i>: bytes the kernel moved that no recorded read or write holds (dropped events): the "
	      "spans of such a connection may be wrong. <i>skipped</i>: bytes the parser skipped to find its "
	      "footing again.</p>\n"
	      "<div class=\"scroll\"><table class=\"sortable\" id=\"conn-table\"><thead><tr>"
	      "<th>id</th><th class=\"t\">process</th><th class=\"t\">role</th><th class=\"t\">protocol</th>"
	      "<th class=\"t\">local</th><th class=\"t\">remote</th><th>requests</th><th>responses</th>"
	      "<th>bytes in</th><th>bytes out</th><th>opened at</th><th>lifetime</th><th>lost</th><th>skipped</th>"
	      "</tr></thead><tbody>\n", out);
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		fprintf(out, "<tr><td data-v=\"%" PRId64 "\">%" PRId64 "</td><td class=\"t\">",
			(int64_t)sqlite3_column_int64(q, 0), (int64_t)sqlite3_column_int64(q, 0));
		bz_html_text(out, sqlite3_column_text(q, 2) ? (const char *)sqlite3_column_text(q, 2) : "-");
		fprintf(out, " <span class=\"muted\">%" PRId64 "</span></td>", (int64_t)sqlite3_column_int64(q, 1));
		bz_td_text(out, (const char *)sqlite3_column_text(q, 3), 16);
		bz_td_text(out, (const char *)sqlite3_column_text(q, 10), 16);
		td_addr(out, q, 5, 6, 9);
		td_addr(out, q, 7, 8, -1);
		td_int(out, q, 11, 0);
		td_int(out, q, 12, 0);
		td_int(out, q, 13, 1);
		td_int(out, q, 14, 1);
		bz_td_ns(out, sqlite3_column_type(q, 15) == SQLITE_NULL ? -1 : (double)sqlite3_column_int64(q, 15));
		if (sqlite3_column_type(q, 16) == SQLITE_NULL) {
			fputs("<td data-v=\"-1\">-</td>", out);
		} else {
			double life = (double)sqlite3_column_int64(q, 16);
			bz_rfmt_ns(t, sizeof(t), life);
			fprintf(out, "<td data-v=\"%.0f\"%s>%s%s</td>", life,
				sqlite3_column_int(q, 17) ? " title=\"still open when the recording ended\"" : "",
				sqlite3_column_int(q, 17) ? "≥ " : "", t);
		}
		td_int(out, q, 18, 1);
		td_int(out, q, 19, 1);
		fputs("</tr>\n", out);
		shown++;
	}
	fputs("</tbody></table></div>\n", out);
	if (s != SQLITE_DONE) {
		sqlite3_finalize(q);
		return sql_err(h, err, errlen, "connections");
	}
	sqlite3_finalize(q);
	if (total > shown)
		fprintf(out, "<p class=\"note\" id=\"conns-left-out\">%u of %" PRId64 " connections shown (the busiest); "
			"%" PRId64 " left out. <code>sqlite3 DB 'select * from connections'</code> lists them all.</p>\n",
			shown, total, total - (int64_t)shown);
	fputs("</section>\n", out);
	return 0;
}

/* What a probe's lost events leave out, for the drop table. */
static const char *probe_hides(const char *probe)
{
	static const struct { const char *probe, *hides; } table[] = {
		{ "recv", "request or response bytes read: requests missing or cut" },
		{ "send", "bytes written: responses missing or cut" },
		{ "accept", "accepted connections: their requests unattributed" },
		{ "connect", "outgoing connections: client calls unattributed" },
		{ "tcp_state", "handshake and close times: accept-queue times" },
		{ "data_ready", "receive-queue times" },
		{ "exec", "process starts: service names" },
		{ "fork", "forked children" },
		{ "exit", "process exits" },
		{ "sys_enter", "syscall start times" },
	};
	for (size_t i = 0; probe && i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(probe, table[i].probe))
			return table[i].hides;
	return "";
}

int bz_section_counters(sqlite3 *h, FILE *out, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int s, zeros = 0;

	fputs("<section id=\"counters\"><h2>Drops and parser counters</h2>\n"
	      "<h3>Probe counters (the recorder's last STATS block)</h3>\n"
	      "<table id=\"drop-table\"><thead><tr><th class=\"t\">probe</th><th>emitted</th><th>lost</th>"
	      "<th>missed</th><th class=\"t\">what a loss hides</th></tr></thead><tbody>\n", out);
	if (sqlite3_prepare_v2(h, "SELECT probe, emitted, lost, missed FROM drops ORDER BY probe", -1, &q, NULL) !=
	    SQLITE_OK)
		return sql_err(h, err, errlen, "drops");
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		int bad = sqlite3_column_int64(q, 2) > 0 || sqlite3_column_int64(q, 3) > 0;
		fputs(bad ? "<tr class=\"err\">" : "<tr>", out);
		bz_td_text(out, (const char *)sqlite3_column_text(q, 0), 40);
		td_int(out, q, 1, 0);
		fputs("<td class=\"n-err\"", out);
		fprintf(out, " data-v=\"%" PRId64 "\">%" PRId64 "</td>", (int64_t)sqlite3_column_int64(q, 2),
			(int64_t)sqlite3_column_int64(q, 2));
		fprintf(out, "<td class=\"n-err\" data-v=\"%" PRId64 "\">%" PRId64 "</td>", (int64_t)sqlite3_column_int64(q, 3),
			(int64_t)sqlite3_column_int64(q, 3));
		fprintf(out, "<td class=\"t muted\">%s</td></tr>\n", bad ? probe_hides((const char *)sqlite3_column_text(q, 0)) : "");
	}
	sqlite3_finalize(q);
	if (s != SQLITE_DONE)
		return sql_err(h, err, errlen, "drops");
	fputs("</tbody></table>\n"
	      "<h3>Analyzer counters (parse_stats; docs/analysis.md says what each means)</h3>\n"
	      "<table id=\"parse-table\"><thead><tr><th class=\"t\">counter</th><th>value</th></tr></thead><tbody>\n",
	      out);
	if (sqlite3_prepare_v2(h, "SELECT name, value FROM parse_stats WHERE value <> 0 ORDER BY rowid", -1, &q, NULL) !=
	    SQLITE_OK)
		return sql_err(h, err, errlen, "parse_stats");
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		fputs("<tr>", out);
		bz_td_text(out, (const char *)sqlite3_column_text(q, 0), 60);
		td_int(out, q, 1, 0);
		fputs("</tr>\n", out);
	}
	sqlite3_finalize(q);
	if (s != SQLITE_DONE)
		return sql_err(h, err, errlen, "parse_stats");
	fputs("</tbody></table>\n", out);
	if (sqlite3_prepare_v2(h, "SELECT name FROM parse_stats WHERE value = 0 ORDER BY rowid", -1, &q, NULL) !=
	    SQLITE_OK)
		return sql_err(h, err, errlen, "parse_stats");
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		fputs(zeros++ ? ", " : "<details><summary>counters that are zero</summary><p><code>", out);
		bz_html_text(out, (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	if (zeros)
		fputs("</code></p></details>\n", out);
	fputs("</section>\n", out);
	return s == SQLITE_DONE ? 0 : sql_err(h, err, errlen, "parse_stats");
}
