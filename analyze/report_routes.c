/* report_routes.c - the report's service and route tables, histograms and
 * time series (report_sections.h), from bz_rstats. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_escape.h"
#include "report_fmt.h"
#include "report_sections.h"
#include "report_svg.h"

static double share_of(double part, double whole)
{
	return whole > 0 ? part / whole : -1;
}

/* data-NAME="VALUE" with VALUE escaped (NULL: empty). */
static void data_attr(FILE *out, const char *name, const char *v)
{
	fprintf(out, " data-%s=\"", name);
	bz_html_text(out, v);
	fputc('"', out);
}

/* The numeric cells both tables share, each with a class the tests find. */
static void stat_cells(FILE *out, const struct bz_rstats *st, const struct bz_rgroup *g)
{
	char t[48];

	bz_rfmt_count(t, sizeof(t), g->requests);
	fprintf(out, "<td class=\"req\" data-v=\"%llu\">%s</td>", (unsigned long long)g->requests, t);
	bz_rfmt_count(t, sizeof(t), g->errors);
	fprintf(out, "<td class=\"n-err\" data-v=\"%llu\">%s</td>", (unsigned long long)g->errors, t);
	bz_rfmt_share(t, sizeof(t), share_of((double)g->errors, (double)g->requests));
	fprintf(out, "<td class=\"err-rate\" data-v=\"%.6f\">%s</td>", share_of((double)g->errors, (double)g->requests), t);
	const int64_t pct[4] = { g->p50, g->p90, g->p99, g->max };
	static const char *const cls[4] = { "p50", "p90", "p99", "max" };
	for (int k = 0; k < 4; k++) {
		bz_rfmt_ns(t, sizeof(t), (double)pct[k]);
		fprintf(out, "<td class=\"%s\" data-v=\"%lld\">%s</td>", cls[k], (long long)pct[k], t);
	}
	const double parts[3] = { g->queue_ns, g->accept_ns, g->recv_ns };
	static const char *const qcls[3] = { "queue", "accept", "recv" };
	for (int k = 0; k < 3; k++) {
		double s = g->with_queue ? share_of(parts[k], g->total_ns) : -1;
		bz_rfmt_share(t, sizeof(t), s);
		fprintf(out, "<td class=\"%s\" data-v=\"%.6f\">%s</td>", qcls[k], s, t);
	}
	if (st->has_tx) {
		double s = g->with_tx ? share_of(g->tx_ns, g->total_ns) : -1;
		bz_rfmt_share(t, sizeof(t), s);
		fprintf(out, "<td class=\"txq\" data-v=\"%.6f\">%s</td>", s, t);
	}
	if (st->has_sched) {
		const double sp[3] = { g->on_cpu_ns, g->runq_ns, g->blocked_ns };
		static const char *const scls[3] = { "oncpu", "runq", "blocked" };
		for (int k = 0; k < 3; k++) {
			double s = g->with_sched ? share_of(sp[k], g->sched_proc_ns) : -1;
			bz_rfmt_share(t, sizeof(t), s);
			fprintf(out, "<td class=\"%s\" data-v=\"%.6f\">%s</td>", scls[k], s, t);
		}
	}
}

/* The optional heads after stat_heads, for the columns stat_cells adds. */
static void part_heads(FILE *out, const struct bz_rstats *st)
{
	if (st->has_tx)
		fputs("<th title=\"share of the total time the response waited in the kernel after the server's last "
		      "write, until the client's socket (on this host) had it: Nagle, the congestion window, a busy "
		      "CPU\">send queue</th>", out);
	if (st->has_sched)
		fputs("<th title=\"beyla record --sched: share of the processing time its thread ran on a CPU\">on CPU</th>"
		      "<th title=\"... was runnable, waiting for a CPU\">run queue</th>"
		      "<th title=\"... was blocked: I/O, locks, sleep, calls\">blocked</th>", out);
}

static const char stat_heads[] =
	"<th>requests</th><th>errors</th><th>error rate</th><th>p50</th><th>p90</th><th>p99</th><th>max</th>"
	"<th title=\"share of the total time spent waiting before the process worked on the request\">in queue</th>"
	"<th title=\"of it, in the accept queue (the connection waited to be accepted)\">accept queue</th>"
	"<th title=\"of it, with the request in the socket's receive queue\">receive queue</th>";

void bz_section_services(FILE *out, const struct bz_rstats *st)
{
	fputs("<section id=\"services\"><h2>Services</h2>\n"
	      "<p class=\"note\">Complete spans per service: <b>server</b> rows are the requests it served, "
	      "<b>client</b> rows the calls it made. Percentiles are nearest-rank over the total duration; "
	      "<i>in queue</i> is the share of the total time requests waited before the process read them "
	      "(accept queue + receive queue).</p>\n"
	      "<div class=\"scroll\"><table class=\"sortable\" id=\"service-table\"><thead><tr>"
	      "<th class=\"t\">service</th><th class=\"t\">kind</th>", out);
	fputs(stat_heads, out);
	part_heads(out, st);
	fputs("</tr></thead><tbody>\n", out);
	for (size_t i = 0; i < st->nservices; i++) {
		const struct bz_rgroup *g = &st->services[i];
		if (!g->requests)
			continue;
		fputs("<tr", out);
		data_attr(out, "service", g->service);
		data_attr(out, "kind", g->kind);
		fputs(g->errors ? " class=\"err\">" : ">", out);
		bz_td_text(out, g->service, 120);
		bz_td_text(out, g->kind, 16);
		stat_cells(out, st, g);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div></section>\n", out);
}

/* The most requested first (ties: display order), and back to display order. */
static int cmp_by_requests(const void *pa, const void *pb)
{
	const struct bz_rgroup *a = *(const struct bz_rgroup *const *)pa, *b = *(const struct bz_rgroup *const *)pb;

	if (a->requests != b->requests)
		return a->requests > b->requests ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int cmp_by_position(const void *pa, const void *pb)
{
	const struct bz_rgroup *a = *(const struct bz_rgroup *const *)pa, *b = *(const struct bz_rgroup *const *)pb;

	return a < b ? -1 : a > b;
}

void bz_section_routes(FILE *out, const struct bz_rstats *st, unsigned max_routes)
{
	size_t shown = st->nroutes < max_routes ? st->nroutes : max_routes;
	const struct bz_rgroup **order = malloc((st->nroutes ? st->nroutes : 1) * sizeof(*order));

	fputs("<section id=\"routes\"><h2>Routes</h2>\n"
	      "<p class=\"note\">Per service, kind, method and route (<code>http.route</code>: the path with "
	      "id-like segments as <code>{id}</code>; a database call's name). Click a header to sort.</p>\n", out);
	if (!order) {
		fputs("<p>(out of memory)</p></section>\n", out);
		return;
	}
	/* when some must be left out, the most requested stay, in display order */
	for (size_t i = 0; i < st->nroutes; i++)
		order[i] = &st->routes[i];
	if (shown < st->nroutes) {
		qsort(order, st->nroutes, sizeof(*order), cmp_by_requests);
		qsort(order, shown, sizeof(*order), cmp_by_position);
	}
	fputs("<div class=\"scroll\"><table class=\"sortable\" id=\"route-table\"><thead><tr>"
	      "<th class=\"t\">service</th><th class=\"t\">kind</th><th class=\"t\">method</th><th class=\"t\">route</th>",
	      out);
	fputs(stat_heads, out);
	part_heads(out, st);
	fputs("</tr></thead><tbody>\n", out);
	for (size_t i = 0; i < shown; i++) {
		const struct bz_rgroup *g = order[i];
		fputs("<tr class=\"route", out);
		fputs(g->errors ? " err\"" : "\"", out);
		data_attr(out, "service", g->service);
		data_attr(out, "kind", g->kind);
		data_attr(out, "method", g->method);
		data_attr(out, "route", g->route);
		fputc('>', out);
		bz_td_text(out, g->service, 120);
		bz_td_text(out, g->kind, 16);
		bz_td_text(out, g->method, 32);
		fputs("<td class=\"t route\">", out);
		if (g->route)
			bz_html_escape(out, g->route, strlen(g->route), 400);
		else
			fputs("-", out);
		fputs("</td>", out);
		stat_cells(out, st, g);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div>\n", out);
	if (shown < st->nroutes)
		fprintf(out, "<p class=\"note\" id=\"routes-left-out\">%zu of %zu routes shown (the most requested); "
			"%zu left out. <code>sqlite3 DB 'select * from route_stats'</code> lists them all.</p>\n",
			shown, st->nroutes, st->nroutes - shown);
	fputs("</section>\n", out);
	free(order);
}

/* "service · METHOD route", escaped */
static void group_name(FILE *out, const struct bz_rgroup *g)
{
	bz_html_escape(out, g->service ? g->service : "-", g->service ? strlen(g->service) : 1, 60);
	fputs(" · ", out);
	if (g->method) {
		bz_html_escape(out, g->method, strlen(g->method), 20);
		fputc(' ', out);
	}
	bz_html_escape(out, g->route ? g->route : "-", g->route ? strlen(g->route) : 1, 120);
}

void bz_section_histograms(FILE *out, const struct bz_rstats *st, unsigned max_hists)
{
	size_t n = st->nroutes < max_hists ? st->nroutes : max_hists;
	const struct bz_rgroup **order = malloc((st->nroutes ? st->nroutes : 1) * sizeof(*order));
	char t[32];

	fputs("<section id=\"histograms\"><h2>Latency histograms</h2>\n"
	      "<p class=\"note legend\">Requests per total duration, on log-scale buckets (1-2-5 steps). "
	      "A server route's bars are split by where their requests' time went: "
	      "<span><i class=\"q\"></i>in queue</span><span><i class=\"p\"></i>processing</span>"
	      "(the share of the bucket's total time); a client route's bars are "
	      "<span><i class=\"c\"></i>calls</span>. Hover a bar for its numbers.</p>\n", out);
	if (!order) {
		fputs("<p>(out of memory)</p></section>\n", out);
		return;
	}
	for (size_t i = 0; i < st->nroutes; i++)
		order[i] = &st->routes[i];
	qsort(order, st->nroutes, sizeof(*order), cmp_by_requests);
	fputs("<div class=\"grid2\">\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct bz_rgroup *g = order[i];
		fputs("<figure class=\"histogram\"><figcaption>", out);
		group_name(out, g);
		bz_rfmt_count(t, sizeof(t), g->requests);
		fprintf(out, " <span class=\"muted\">(%s %s)</span></figcaption>", t, g->server ? "requests" : "calls");
		bz_svg_hist(out, &g->hist, g->server);
		fputs("</figure>\n", out);
	}
	fputs("</div>\n", out);
	if (n < st->nroutes)
		fprintf(out, "<p class=\"note\">The %zu most requested of %zu routes; %zu left out.</p>\n", n, st->nroutes,
			st->nroutes - n);
	fputs("</section>\n", out);
	free(order);
}

void bz_section_series(FILE *out, const struct bz_rstats *st)
{
	double req[BZ_SERIES_MAX], errs[BZ_SERIES_MAX], p99[BZ_SERIES_MAX], queue[BZ_SERIES_MAX], conc[BZ_SERIES_MAX];
	double secs = (double)st->width_ns / 1e9;
	int server = st->series_kind && !strcmp(st->series_kind, "server");
	char w[32];

	fputs("<section id=\"timeline\"><h2>Over time</h2>\n", out);
	if (!st->nbuckets) {
		fputs("<p>No span: nothing to draw.</p></section>\n", out);
		return;
	}
	bz_rfmt_ns(w, sizeof(w), (double)st->width_ns);
	fprintf(out, "<p class=\"note\">%s spans in %u buckets of %s from the start of the capture, each counted in the "
		"bucket it started in. Concurrency is the mean number of requests in flight (the time spans overlapped "
		"the bucket, over its width).%s</p>\n",
		server ? "Server" : "No server span: client", st->nbuckets, w,
		server ? "" : " No queue share: client spans have no queue.");
	for (unsigned i = 0; i < st->nbuckets; i++) {
		const struct bz_rbucket *b = &st->buckets[i];
		req[i] = (double)b->requests / secs;
		errs[i] = (double)b->errors / secs;
		p99[i] = b->requests ? (double)b->p99 : NAN;
		queue[i] = b->total_ns > 0 ? b->queue_ns / b->total_ns : NAN;
		conc[i] = b->busy_ns / (double)st->width_ns;
	}
	struct bz_series_chart c = { .n = st->nbuckets, .width_ns = st->width_ns };
	fputs("<h3>Requests and errors per second <span class=\"legend\"><span><i class=\"p\"></i>requests</span>"
	      "<span><i class=\"e\"></i>errors</span></span></h3>\n", out);
	c.label = "requests/s";
	c.v = req;
	c.v2 = errs;
	c.label2 = "errors/s";
	c.unit = BZ_UNIT_RATE;
	c.bars = 1;
	bz_svg_series(out, &c);
	fputs("<h3>p99 of the total duration</h3>\n", out);
	c.label = "p99";
	c.v = p99;
	c.v2 = NULL;
	c.unit = BZ_UNIT_NS;
	c.bars = 0;
	bz_svg_series(out, &c);
	if (server) {
		fputs("<h3>Share of the time in queue</h3>\n", out);
		c.label = "in queue";
		c.v = queue;
		c.unit = BZ_UNIT_SHARE;
		bz_svg_series(out, &c);
	}
	fputs("<h3>Concurrency (requests in flight)</h3>\n", out);
	c.label = "in flight";
	c.v = conc;
	c.unit = BZ_UNIT_COUNT;
	bz_svg_series(out, &c);
	fputs("</section>\n", out);
}
