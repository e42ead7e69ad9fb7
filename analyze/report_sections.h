/* report_sections.h - the parts of the HTML report's body, each in its
 * file; report_html.c puts them in order.  Each writes one <section> and
 * returns 0 or a negative errno with a message in err. */
#ifndef BEYLA_REPORT_SECTIONS_H
#define BEYLA_REPORT_SECTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "report_html.h"
#include "report_stats.h"

struct sqlite3;

/* report_routes.c: per service, per route, the histograms, the series. */
void bz_section_services(FILE *out, const struct bz_rstats *st);
void bz_section_routes(FILE *out, const struct bz_rstats *st, unsigned max_routes);
void bz_section_histograms(FILE *out, const struct bz_rstats *st, unsigned max_hists);
void bz_section_series(FILE *out, const struct bz_rstats *st);

/* report_conns.c: the connection table, drops and parser counters. */
int bz_section_connections(struct sqlite3 *h, FILE *out, unsigned max_conns, char *err, size_t errlen);
int bz_section_counters(struct sqlite3 *h, FILE *out, char *err, size_t errlen);

#endif
