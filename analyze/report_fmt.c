/* report_fmt.c - numbers and table cells of the HTML report (report_fmt.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "html_escape.h"
#include "report_fmt.h"

/* v with 3 significant digits at most: 1.23, 12.3, 123 */
static void sig3(char *buf, size_t cap, double v, const char *unit)
{
	if (v >= 99.95)
		snprintf(buf, cap, "%.0f %s", v, unit);
	else if (v >= 9.995)
		snprintf(buf, cap, "%.1f %s", v, unit);
	else
		snprintf(buf, cap, "%.2f %s", v, unit);
}

void bz_rfmt_ns(char *buf, size_t cap, double ns)
{
	if (ns <= 0 || !isfinite(ns))
		snprintf(buf, cap, "0");
	else if (ns < 1e3)
		snprintf(buf, cap, "%.0f ns", ns);
	else if (ns < 1e6)
		sig3(buf, cap, ns / 1e3, "µs");
	else if (ns < 1e9)
		sig3(buf, cap, ns / 1e6, "ms");
	else if (ns < 120e9)
		sig3(buf, cap, ns / 1e9, "s");
	else
		sig3(buf, cap, ns / 60e9, "min");
}

void bz_rfmt_bytes(char *buf, size_t cap, double b)
{
	if (b < 1e3)
		snprintf(buf, cap, "%.0f B", b < 0 ? 0 : b);
	else if (b < 1e6)
		sig3(buf, cap, b / 1e3, "kB");
	else if (b < 1e9)
		sig3(buf, cap, b / 1e6, "MB");
	else
		sig3(buf, cap, b / 1e9, "GB");
}

void bz_rfmt_count(char *buf, size_t cap, uint64_t n)
{
	char digits[32];
	size_t len = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, n), o = 0;

	for (size_t i = 0; i < len && o + 4 < cap; i++) {
		if (i && (len - i) % 3 == 0) {
			memcpy(buf + o, "\xE2\x80\xAF", 3); /* NARROW NO-BREAK SPACE */
			o += 3;
		}
		buf[o++] = digits[i];
	}
	buf[o < cap ? o : cap - 1] = 0;
}

void bz_rfmt_share(char *buf, size_t cap, double share)
{
	if (share < 0 || !isfinite(share))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.1f%%", share * 100);
}

void bz_rfmt_utc(char *buf, size_t cap, int64_t unix_ns)
{
	time_t secs = (time_t)(unix_ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, cap, "-");
		return;
	}
	size_t n = strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03d UTC", (int)(unix_ns % 1000000000 / 1000000));
}

void bz_td_num(FILE *out, double v, const char *text)
{
	fprintf(out, "<td data-v=\"%.17g\">%s</td>", v, text);
}

void bz_td_ns(FILE *out, double ns)
{
	char t[32];

	if (ns < 0) {
		fputs("<td data-v=\"-1\">-</td>", out);
		return;
	}
	bz_rfmt_ns(t, sizeof(t), ns);
	bz_td_num(out, ns, t);
}

void bz_td_text(FILE *out, const char *s, size_t max)
{
	fputs("<td>", out);
	if (s)
		bz_html_escape(out, s, strlen(s), max);
	else
		fputs("-", out);
	fputs("</td>", out);
}
