/* http_url.c - request target to url.path / url.query / http.route. */
#include <string.h>

#include "http_url.h"

/* Appends s[0..n) to out (length *len, capacity cap), cutting at cap - 1. */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	size_t room = cap - 1 - *len;
	if (n > room)
		n = room;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = 0;
}

void bz_url_split(const char *target, char *path, size_t pcap, char *query, size_t qcap)
{
	const char *p = target ? target : "", *q, *end;
	size_t len = 0;

	path[0] = 0;
	query[0] = 0;
	if (p[0] != '/' && p[0] != '*') {
		const char *scheme = strstr(p, "://");
		if (scheme && !memchr(p, '/', (size_t)(scheme - p))) {
			/* absolute-form: skip scheme and authority */
			p = scheme + 3;
			p += strcspn(p, "/?");
			if (!*p || *p == '?') {
				put(path, pcap, &len, "/", 1);
				if (*p == '?') {
					len = 0;
					put(query, qcap, &len, p + 1, strlen(p + 1));
				}
				return;
			}
		} else {
			/* authority-form (CONNECT) or garbage: no path */
			return;
		}
	}
	end = p + strcspn(p, "#");
	q = memchr(p, '?', (size_t)(end - p));
	put(path, pcap, &len, p, (size_t)((q ? q : end) - p));
	if (q) {
		len = 0;
		put(query, qcap, &len, q + 1, (size_t)(end - q - 1));
	}
}

void bz_url_redact_query(const char *query, char *out, size_t cap)
{
	const char *p = query ? query : "";
	size_t len = 0;

	out[0] = 0;
	while (*p) {
		size_t n = strcspn(p, "&;");
		const char *eq = memchr(p, '=', n);
		if (eq) {
			put(out, cap, &len, p, (size_t)(eq - p) + 1);
			if (eq + 1 < p + n)
				put(out, cap, &len, "REDACTED", 8);
		} else {
			put(out, cap, &len, p, n);
		}
		p += n;
		if (*p) {
			put(out, cap, &len, p, 1);
			p++;
		}
	}
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int bz_url_segment_is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0, alpha = 0, other = 0;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			digits++;
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			alpha++;
		else if (c != '-' && c != '_')
			other++;
		hex += is_hex(c);
	}
	if (digits == n)
		return 1; /* 42 */
	if (n == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' && hex == 32)
		return 1; /* UUID */
	if (hex == n && n >= 8 && digits)
		return 1; /* 5f3a9c0e, a sha */
	if (!other && n >= 16 && digits && alpha)
		return 1; /* long mixed token: base64url ids, slugs with ids */
	return 0;
}

void bz_url_route(const char *path, char *out, size_t cap)
{
	const char *p = path ? path : "";
	size_t len = 0;

	out[0] = 0;
	if (!*p || !strcmp(p, "*")) {
		put(out, cap, &len, *p ? "*" : "/", 1);
		return;
	}
	while (*p) {
		if (*p == '/') {
			put(out, cap, &len, "/", 1);
			p++;
			continue;
		}
		size_t n = strcspn(p, "/");
		if (bz_url_segment_is_id(p, n))
			put(out, cap, &len, "{id}", 4);
		else
			put(out, cap, &len, p, n);
		p += n;
	}
}
