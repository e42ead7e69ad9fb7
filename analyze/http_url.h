/* http_url.h - turning a request target into OpenTelemetry url.path,
 * url.query (values redacted) and a low-cardinality http.route. */
#ifndef BEYLA_HTTP_URL_H
#define BEYLA_HTTP_URL_H

#include <stddef.h>

/* Splits a request target (origin-form "/p?q", absolute-form
 * "http://host/p?q", "*", or authority-form "host:port") into path and query
 * (without '?'; empty if none).  Outputs are NUL-terminated and cut to their
 * capacity (>= 1). */
void bz_url_split(const char *target, char *path, size_t pcap, char *query, size_t qcap);

/* "a=1&b=&c" -> "a=REDACTED&b=&c": keys are kept, every non-empty value
 * is replaced.  Cut to cap (>= 1). */
void bz_url_redact_query(const char *query, char *out, size_t cap);

/* The route template of a path: segments that are numbers, UUIDs, hex ids
 * (8+ hex digits with a digit) or long tokens mixing letters and digits
 * (16+) become "{id}".  "" -> "/".  Cut to cap (>= 1). */
void bz_url_route(const char *path, char *out, size_t cap);

/* 1 if seg[0..n) would be replaced by {id}. */
int bz_url_segment_is_id(const char *seg, size_t n);

#endif
