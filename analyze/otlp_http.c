/* otlp_http.c - OTLP/HTTP transport: POST of a protobuf body with libcurl
 * (one easy handle, so the connection is kept alive between batches),
 * gzip with zlib when asked, retries with exponential backoff on 429, 502,
 * 503, 504 and connection errors (a Retry-After in seconds is honoured, up
 * to 30 s), and a per-attempt timeout. */
#include "otlp_export.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

struct bz_otlp_http {
	CURL *curl;
	struct curl_slist *headers;
	struct bz_otlp_http_opts o;
	struct bz_pb gz;
	long retry_after; /* seconds, from the last response; -1 none */
	char body[256];   /* start of the last error response body */
	size_t body_len;
};

static size_t on_body(char *p, size_t size, size_t n, void *u)
{
	struct bz_otlp_http *h = u;
	size_t len = size * n, room = sizeof(h->body) - 1 - h->body_len;
	if (room) {
		size_t k = len < room ? len : room;
		memcpy(h->body + h->body_len, p, k);
		h->body_len += k;
		h->body[h->body_len] = 0;
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *u)
{
	struct bz_otlp_http *h = u;
	size_t len = size * n;
	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		char tmp[32];
		size_t k = len - 12 < sizeof(tmp) - 1 ? len - 12 : sizeof(tmp) - 1;
		memcpy(tmp, p + 12, k);
		tmp[k] = 0;
		char *end;
		long v = strtol(tmp, &end, 10);
		if (end != tmp && v >= 0)
			h->retry_after = v > 30 ? 30 : v;
	}
	return len;
}

/* "k=v,k2=v2" with percent-encoded values -> curl header list. */
static int add_headers(struct bz_otlp_http *h, const char *spec)
{
	const char *p = spec;
	while (p && *p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq) {
			size_t cap = (size_t)(end - p) + 3, o = 0;
			char *line = malloc(cap);
			if (!line)
				return -ENOMEM;
			const char *k0 = p, *k1 = eq;
			while (k0 < k1 && isspace((unsigned char)*k0))
				k0++;
			while (k1 > k0 && isspace((unsigned char)k1[-1]))
				k1--;
			memcpy(line, k0, (size_t)(k1 - k0));
			o = (size_t)(k1 - k0);
			line[o++] = ':';
			line[o++] = ' ';
			const char *v = eq + 1;
			while (v < end && isspace((unsigned char)*v))
				v++;
			const char *ve = end;
			while (ve > v && isspace((unsigned char)ve[-1]))
				ve--;
			for (; v < ve; v++) {
				if (*v == '%' && ve - v >= 3 && isxdigit((unsigned char)v[1]) && isxdigit((unsigned char)v[2])) {
					char hx[3] = { v[1], v[2], 0 };
					line[o++] = (char)strtol(hx, NULL, 16);
					v += 2;
				} else {
					line[o++] = *v;
				}
			}
			line[o] = 0;
			if (k1 > k0) {
				struct curl_slist *l = curl_slist_append(h->headers, line);
				if (!l) {
					free(line);
					return -ENOMEM;
				}
				h->headers = l;
			}
			free(line);
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

int bz_otlp_http_new(struct bz_otlp_http **out, const struct bz_otlp_http_opts *o)
{
	struct bz_otlp_http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *o;
	if (h->o.max_attempts < 1)
		h->o.max_attempts = 1;
	if (h->o.timeout_ms <= 0)
		h->o.timeout_ms = 10000;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h->curl = curl_easy_init();
	h->headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	if (h->headers && o->gzip)
		h->headers = curl_slist_append(h->headers, "Content-Encoding: gzip");
	if (h->headers)
		h->headers = curl_slist_append(h->headers, "User-Agent: beyla/" BEYLA_VERSION);
	if (h->headers)
		h->headers = curl_slist_append(h->headers, "Expect:");
	if (!h->curl || !h->headers || add_headers(h, o->headers)) {
		bz_otlp_http_free(&h);
		return -ENOMEM;
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, h->o.timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	*out = h;
	return 0;
}

static int gzip_body(struct bz_pb *out, const void *in, size_t len)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bz_pb_reset(out);
	size_t bound = deflateBound(&z, (uLong)len);
	if (bz_pb_reserve(out, bound)) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out->p;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	out->len = bound - z.avail_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int retryable_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return 1;
	default:
		return 0;
	}
}

int bz_otlp_http_post(struct bz_otlp_http *h, const char *url, const void *body, size_t len, char *err,
		      size_t errlen)
{
	long wait = h->o.backoff_ms > 0 ? h->o.backoff_ms : 200;

	if (h->o.gzip) {
		if (gzip_body(&h->gz, body, len)) {
			snprintf(err, errlen, "OTLP export to %s failed: cannot compress the request", url);
			return -1;
		}
		body = h->gz.p;
		len = h->gz.len;
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	for (int attempt = 1;; attempt++) {
		long code = 0;
		h->retry_after = -1;
		h->body_len = 0;
		h->body[0] = 0;
		CURLcode c = curl_easy_perform(h->curl);
		int retry;
		if (c == CURLE_OK) {
			curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
			if (code >= 200 && code < 300)
				return 0;
			retry = code == 429 || code == 502 || code == 503 || code == 504;
		} else {
			retry = retryable_curl(c);
		}
		if (!retry || attempt >= h->o.max_attempts) {
			if (c != CURLE_OK) {
				snprintf(err, errlen, "OTLP export to %s failed: %s (after %d attempt%s)", url,
					 curl_easy_strerror(c), attempt, attempt > 1 ? "s" : "");
			} else {
				/* a printable first line of the body helps (protobuf Status or text) */
				char msg[128];
				size_t k = 0;
				for (size_t i = 0; i < h->body_len && k < sizeof(msg) - 1; i++) {
					unsigned char ch = (unsigned char)h->body[i];
					if (ch == '\n')
						break;
					if (ch >= 0x20 && ch < 0x7f)
						msg[k++] = (char)ch;
				}
				msg[k] = 0;
				snprintf(err, errlen, "OTLP export to %s failed: HTTP %ld%s%s (after %d attempt%s)", url,
					 code, k ? ": " : "", msg, attempt, attempt > 1 ? "s" : "");
			}
			return -1;
		}
		long ms = h->retry_after >= 0 ? h->retry_after * 1000 : wait;
		sleep_ms(ms);
		wait = wait * 2 > 5000 ? 5000 : wait * 2;
	}
}

void bz_otlp_http_free(struct bz_otlp_http **hp)
{
	struct bz_otlp_http *h = *hp;
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	bz_pb_free(&h->gz);
	free(h);
	*hp = NULL;
}
