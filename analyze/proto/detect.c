/* detect.c - the class of a connection's first bytes (detect.h). */
#include <string.h>

#include "detect.h"

static const char h2_preface[BZ_DETECT_HEAD + 1] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* TLSPlaintext.length may reach 2^14, TLSCiphertext's 2^14 + 2048. */
#define TLS_RECORD_MAX ((1u << 14) + 2048u)

void bz_detect_head_feed(struct bz_detect_head *h, int dir, const uint8_t *data, uint32_t caplen,
			 uint32_t len)
{
	size_t take;

	if (dir < 0 || dir > 1 || h->full[dir] || !len)
		return;
	if (caplen > len)
		caplen = len;
	take = BZ_DETECT_HEAD - h->n[dir];
	if (take > caplen)
		take = caplen;
	if (take)
		memcpy(h->b[dir] + h->n[dir], data, take);
	h->n[dir] = (uint8_t)(h->n[dir] + take);
	/* after a cut payload the next captured byte is not the next byte */
	if (h->n[dir] == BZ_DETECT_HEAD || caplen < len)
		h->full[dir] = 1;
}

int bz_detect_tls_record(const uint8_t *p, size_t n)
{
	unsigned len;

	if (n < 3 || p[0] < 0x14 || p[0] > 0x18 || p[1] != 0x03 || p[2] > 0x04)
		return 0;
	if (n < 5)
		return 1;
	len = (unsigned)p[3] << 8 | p[4];
	return len >= 1 && len <= TLS_RECORD_MAX;
}

int bz_detect_http2_preface(const uint8_t *p, size_t n)
{
	if (n > BZ_DETECT_HEAD)
		n = BZ_DETECT_HEAD;
	return n >= 4 && !memcmp(p, h2_preface, n);
}

/* Length of the UTF-8 sequence led by c (2-4), 0 if c cannot lead one. */
static size_t utf8_len(uint8_t c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Printable ASCII, tab, CR, LF, and well-formed UTF-8 (a sequence cut by
 * the end of the captured bytes counts as text: the rest was not seen). */
static int is_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t k;

		if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (!(k = utf8_len(c)))
			return 0;
		for (size_t j = 1; j < k; j++)
			if (i + j < n && (p[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

enum bz_detect_class bz_detect(const uint8_t *in, size_t nin, const uint8_t *out, size_t nout)
{
	if (!nin && !nout)
		return BZ_DETECT_NO_BYTES;
	/* cheap checks first: a few fixed bytes each */
	if (bz_detect_tls_record(in, nin) || bz_detect_tls_record(out, nout))
		return BZ_DETECT_TLS;
	if (bz_detect_http2_preface(in, nin) || bz_detect_http2_preface(out, nout))
		return BZ_DETECT_HTTP2;
	if (!is_text(in, nin) || !is_text(out, nout))
		return BZ_DETECT_BINARY;
	return BZ_DETECT_TEXT;
}

enum bz_detect_class bz_detect_head(const struct bz_detect_head *h)
{
	return bz_detect(h->b[0], h->n[0], h->b[1], h->n[1]);
}

const char *bz_detect_name(enum bz_detect_class c)
{
	static const char *const names[BZ_DETECT_MAX] = {
		[BZ_DETECT_NO_BYTES] = "none", [BZ_DETECT_TLS] = "tls", [BZ_DETECT_HTTP2] = "http2",
		[BZ_DETECT_BINARY] = "binary", [BZ_DETECT_TEXT] = "text",
	};
	return (unsigned)c < BZ_DETECT_MAX ? names[c] : "none";
}
