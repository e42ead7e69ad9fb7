/* report_html.h - `beyla report`: one self-contained HTML page from a
 * finished analysis database (schema/spans.sql), for a reader with a
 * browser and no tools: what was recorded and what may be missing, the
 * services and routes with their latency percentiles and time in queue,
 * latency histograms, the capture over time, the slowest requests as
 * waterfalls, and the connections with the drop and parser counters.
 *
 * Everything comes from the database; every string from it is escaped
 * (html_escape.h).  The page (analyze/report_page.html, embedded at build
 * time) fetches nothing: its Content-Security-Policy forbids any load and
 * lets only its own script, marked with a per-report nonce, run.  Its size
 * is bounded whatever the capture's: tables and charts are capped (the page
 * says how many rows were left out), and the numbers are aggregates.
 */
#ifndef BEYLA_REPORT_HTML_H
#define BEYLA_REPORT_HTML_H

#include <stdio.h>

struct sqlite3;

struct bz_html_opts {
	const char *source;     /* the input as the user named it (the page's title) */
	const char *nonce;      /* the script's CSP nonce: [A-Za-z0-9+/=]+, unpredictable */
	unsigned slowest;       /* waterfalls of the slowest requests (0: BZ_HTML_SLOWEST) */
	unsigned max_routes;    /* rows of the route table (0: BZ_HTML_ROUTES) */
	unsigned max_hists;     /* route histograms (0: BZ_HTML_HISTS) */
	unsigned max_conns;     /* rows of the connection table (0: BZ_HTML_CONNS) */
};

#define BZ_HTML_SLOWEST 50
#define BZ_HTML_ROUTES 300
#define BZ_HTML_HISTS 16
#define BZ_HTML_CONNS 500

/* The oldest database version the report reads (route_stat_rows). */
#define BZ_HTML_MIN_DB_VERSION 4

/* Writes the page to out.  0, or a negative errno with a message in err
 * (-EIO: SQLite or a write error; -ENOMEM). */
int bz_report_html(struct sqlite3 *h, FILE *out, const struct bz_html_opts *o, char *err, size_t errlen);

/* The embedded page (analyze/report_page.html, made into $(BUILD)/gen/report_page.c). */
extern const char bz_report_page[];

#endif
