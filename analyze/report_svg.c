/* report_svg.c - the report's charts as inline SVG (report_svg.h). */
#include <math.h>
#include <stdio.h>

#include "report_fmt.h"
#include "report_svg.h"

double bz_nice_ceil(double v)
{
	if (!(v > 0) || !isfinite(v))
		return 1;
	double p = pow(10, floor(log10(v)));
	double m = v / p;
	/* tolerate rounding: 2.0000000001 is 2 */
	return (m <= 1.000001 ? 1 : m <= 2.000001 ? 2 : m <= 5.000001 ? 5 : 10) * p;
}

void bz_fmt_unit(char *buf, size_t cap, double v, enum bz_unit u)
{
	switch (u) {
	case BZ_UNIT_NS:
		bz_rfmt_ns(buf, cap, v);
		return;
	case BZ_UNIT_SHARE:
		snprintf(buf, cap, "%.4g%%", v * 100);
		return;
	case BZ_UNIT_RATE:
		snprintf(buf, cap, "%.4g/s", v);
		return;
	case BZ_UNIT_COUNT:
		snprintf(buf, cap, "%.4g", v);
		return;
	}
}

/* Chart geometry, in SVG user units (the SVG scales to the page width). */
enum { SW = 760, SH = 170, ML = 64, MR = 12, MT = 10, MB = 26 };

/* The y axis: gridlines and labels at 0, top/4, ... top. */
static void y_axis(FILE *out, double top, enum bz_unit u, int w, int h)
{
	for (int k = 0; k <= 4; k++) {
		double v = top * k / 4;
		double y = MT + (h - MT - MB) * (1 - k / 4.0);
		char t[32];
		bz_fmt_unit(t, sizeof(t), v, u);
		fprintf(out, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", ML, w - MR, y, y);
		fprintf(out, "<text class=\"ax\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", ML - 4, y + 4, t);
	}
}

static double series_max(const double *v, unsigned n)
{
	double m = 0;
	for (unsigned i = 0; v && i < n; i++)
		if (isfinite(v[i]) && v[i] > m)
			m = v[i];
	return m;
}

void bz_svg_series(FILE *out, const struct bz_series_chart *c)
{
	double top = bz_nice_ceil(series_max(c->v, c->n));
	double pw = SW - ML - MR, ph = SH - MT - MB;
	double bw = c->n ? pw / c->n : pw;
	unsigned every = c->n / 8 + 1; /* at most 8 time labels */
	char t[48], t2[48], when[32];

	if (c->unit == BZ_UNIT_SHARE && top > 1)
		top = 1;
	fprintf(out, "<svg class=\"chart series\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"%s\">", SW, SH,
		c->label);
	y_axis(out, top, c->unit, SW, SH);
	for (unsigned i = 0; i < c->n; i += every) {
		if (ML + i * bw > SW - MR - 40)
			break; /* a label there would run off the chart */
		bz_rfmt_ns(when, sizeof(when), (double)i * (double)c->width_ns);
		fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%d\">+%s</text>", ML + i * bw, SH - 8, when);
	}
	if (c->bars) {
		for (unsigned i = 0; i < c->n; i++) {
			if (!isfinite(c->v[i]) || c->v[i] <= 0)
				continue;
			double hgt = ph * c->v[i] / top;
			bz_fmt_unit(t, sizeof(t), c->v[i], c->unit);
			bz_rfmt_ns(when, sizeof(when), (double)i * (double)c->width_ns);
			t2[0] = 0;
			if (c->v2 && isfinite(c->v2[i]) && c->v2[i] > 0) {
				char e[32];
				bz_fmt_unit(e, sizeof(e), c->v2[i], c->unit);
				snprintf(t2, sizeof(t2), ", %s %s", e, c->label2);
			}
			fprintf(out, "<rect class=\"p\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
				"<title>+%s: %s %s%s</title></rect>",
				ML + i * bw + 0.5, MT + ph - hgt, bw > 2 ? bw - 1 : bw, hgt, when, t, c->label, t2);
			if (t2[0]) {
				double eh = ph * c->v2[i] / top;
				fprintf(out, "<rect class=\"e\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
					ML + i * bw + 0.5, MT + ph - eh, bw > 2 ? bw - 1 : bw, eh);
			}
		}
	} else {
		/* a polyline per run of buckets with a value, a dot with its title on each */
		int open = 0;
		for (unsigned i = 0; i <= c->n; i++) {
			int has = i < c->n && isfinite(c->v[i]);
			if (has && !open) {
				fputs("<polyline class=\"line\" points=\"", out);
				open = 1;
			}
			if (!has && open) {
				fputs("\"/>", out);
				open = 0;
			}
			if (has)
				fprintf(out, "%.1f,%.1f ", ML + (i + 0.5) * bw, MT + ph * (1 - c->v[i] / top));
		}
		for (unsigned i = 0; i < c->n; i++) {
			if (!isfinite(c->v[i]))
				continue;
			bz_fmt_unit(t, sizeof(t), c->v[i], c->unit);
			bz_rfmt_ns(when, sizeof(when), (double)i * (double)c->width_ns);
			fprintf(out, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"><title>+%s: %s %s</title></circle>",
				ML + (i + 0.5) * bw, MT + ph * (1 - c->v[i] / top), when, t, c->label);
		}
	}
	fputs("</svg>\n", out);
}

/* A bucket edge (1, 2 or 5 times a power of ten ns) as "5µs", "20ms", "1s":
 * short enough that the labels under the bars do not run together. */
static void edge_label(char *buf, size_t cap, int64_t ns)
{
	static const struct { int64_t div; const char *unit; } units[] = {
		{ 1000000000, "s" }, { 1000000, "ms" }, { 1000, "µs" }, { 1, "ns" },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns >= units[i].div && ns % units[i].div == 0) {
			snprintf(buf, cap, "%lld%s", (long long)(ns / units[i].div), units[i].unit);
			return;
		}
	snprintf(buf, cap, "%lldns", (long long)ns);
}

enum { HW = 380, HH = 150, HML = 44, HMR = 6, HMT = 8, HMB = 30 };

void bz_svg_hist(FILE *out, const struct bz_hist *h, int server)
{
	unsigned lo = BZ_HIST_BUCKETS, hi = 0;
	uint64_t maxc = 0;

	for (unsigned i = 0; i < BZ_HIST_BUCKETS; i++)
		if (h->count[i]) {
			lo = i < lo ? i : lo;
			hi = i;
			maxc = h->count[i] > maxc ? h->count[i] : maxc;
		}
	if (lo == BZ_HIST_BUCKETS)
		return;
	/* at least 8 buckets wide, so one bar is not the whole chart */
	while (hi - lo + 1 < 8 && (lo > 0 || hi < BZ_HIST_BUCKETS - 1)) {
		if (lo > 0)
			lo--;
		if (hi - lo + 1 < 8 && hi < BZ_HIST_BUCKETS - 1)
			hi++;
	}
	unsigned nb = hi - lo + 1;
	double top = bz_nice_ceil((double)maxc), pw = HW - HML - HMR, ph = HH - HMT - HMB, bw = pw / nb;
	char t[32];

	fprintf(out, "<svg class=\"chart hist\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"latency histogram\">",
		HW, HH);
	for (int k = 0; k <= 2; k++) {
		double y = HMT + ph * (1 - k / 2.0);
		fprintf(out, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", HML, HW - HMR, y, y);
		fprintf(out, "<text class=\"ax\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>", HML - 4, y + 4,
			top * k / 2);
	}
	for (unsigned i = lo; i <= hi; i++) {
		double x = HML + (i - lo) * bw;
		int64_t edge = bz_hist_edge(i);
		if ((i - lo) % 2 == 0 || nb <= 10) {
			if (edge == INT64_MAX)
				snprintf(t, sizeof(t), "more");
			else
				edge_label(t, sizeof(t), edge);
			fprintf(out, "<text class=\"ax\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
				x + bw / 2, HH - 16 + ((i - lo) % 2 && nb > 10 ? 10 : 0), t);
		}
		if (!h->count[i])
			continue;
		double hgt = ph * (double)h->count[i] / top;
		double qshare = server && h->total_ns[i] > 0 ? h->queue_ns[i] / h->total_ns[i] : 0;
		char from[32], to[32], share[16];
		bz_rfmt_ns(from, sizeof(from), i ? (double)bz_hist_edge(i - 1) : 0);
		if (edge == INT64_MAX)
			snprintf(to, sizeof(to), "longer");
		else
			bz_rfmt_ns(to, sizeof(to), (double)edge);
		bz_rfmt_share(share, sizeof(share), qshare);
		fprintf(out, "<g class=\"bar\"><title>%s to %s: %llu requests%s%s%s</title>", from, to,
			(unsigned long long)h->count[i], server ? ", " : "", server ? share : "",
			server ? " of their time in queue" : "");
		if (server) {
			double qh = hgt * qshare;
			fprintf(out, "<rect class=\"p\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x + 0.5,
				HMT + ph - hgt, bw - 1, hgt - qh);
			if (qh > 0)
				fprintf(out, "<rect class=\"q\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
					x + 0.5, HMT + ph - qh, bw - 1, qh);
		} else {
			fprintf(out, "<rect class=\"c\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x + 0.5,
				HMT + ph - hgt, bw - 1, hgt);
		}
		fputs("</g>", out);
	}
	fputs("</svg>\n", out);
}
