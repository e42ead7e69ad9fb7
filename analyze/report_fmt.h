/* report_fmt.h - numbers as the HTML report shows them: short, with a unit
 * a reader does not have to work out ("12.3 ms", "845 µs", "1.2 MB",
 * "37.5%"), and the page's own small HTML helpers. */
#ifndef BEYLA_REPORT_FMT_H
#define BEYLA_REPORT_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A duration in ns: "0", "850 ns", "12.3 µs", "4.56 ms", "1.23 s", "2.5 min". */
void bz_rfmt_ns(char *buf, size_t cap, double ns);
/* Bytes: "512 B", "1.5 kB", "23.4 MB", "1.2 GB" (powers of 1000). */
void bz_rfmt_bytes(char *buf, size_t cap, double bytes);
/* A count with thin thousands groups: "1 234 567". */
void bz_rfmt_count(char *buf, size_t cap, uint64_t n);
/* A share 0..1 as "37.5%" ("-" when negative: unknown). */
void bz_rfmt_share(char *buf, size_t cap, double share);
/* Unix ns as "2026-11-25 13:19:37.477 UTC". */
void bz_rfmt_utc(char *buf, size_t cap, int64_t unix_ns);

/* <td data-v="NUM">TEXT</td>: the number sorts the table and lets tests
 * read the exact value; TEXT is what a reader sees (already HTML-safe). */
void bz_td_num(FILE *out, double v, const char *text);
/* <td> with a duration in ns (NULL-like: v < 0 shows "-"). */
void bz_td_ns(FILE *out, double ns);
/* <td> with untrusted text escaped, cut to max bytes ("-" for NULL). */
void bz_td_text(FILE *out, const char *s, size_t max);

#endif
