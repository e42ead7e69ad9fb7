/* detect.h - what a connection no parser recognised carries, judged from
 * its first captured bytes in each direction: a TLS record, the HTTP/2
 * connection preface, another binary protocol, or text.
 *
 * It answers "why did this connection give no spans?" (the counters
 * conns_detected_* in parse_stats, the column connections.detected, the
 * hints `beyla analyze` and `beyla info` print).  It is meant to become the
 * "detect" fallback of a protocol plug-in interface: bz_detect() is a pure
 * function of the first bytes per direction, cheap checks first, and looks
 * at no more than BZ_DETECT_HEAD bytes of each.
 *
 * The first bytes are gathered while the connection is replayed
 * (struct bz_detect_head): only bytes that were captured, in order, and
 * never past a read or write whose payload was cut by the snap length (the
 * bytes after it are unknown, so what follows is not "the next bytes").
 */
#ifndef BEYLA_DETECT_H
#define BEYLA_DETECT_H

#include <stddef.h>
#include <stdint.h>

/* The HTTP/2 preface is the longest thing looked for. */
#define BZ_DETECT_HEAD 24

enum bz_detect_class {
	BZ_DETECT_NO_BYTES = 0, /* no payload byte captured (snaplen 0, or only empty reads) */
	BZ_DETECT_TLS,          /* a TLS record header: encrypted */
	BZ_DETECT_HTTP2,        /* the HTTP/2 connection preface (prior knowledge, h2c) */
	BZ_DETECT_BINARY,       /* some other binary protocol */
	BZ_DETECT_TEXT,         /* some other text protocol (printable ASCII or UTF-8) */
	BZ_DETECT_MAX
};

/* The first bytes of a connection, per direction (0 in, 1 out). */
struct bz_detect_head {
	uint8_t b[2][BZ_DETECT_HEAD];
	uint8_t n[2];
	uint8_t full[2]; /* no more bytes will be taken in that direction */
};

/* Takes the captured start of one read or write: caplen bytes of data out
 * of len moved.  Stops a direction when it has BZ_DETECT_HEAD bytes or
 * when a payload was cut (caplen < len). */
void bz_detect_head_feed(struct bz_detect_head *h, int dir, const uint8_t *data, uint32_t caplen,
			 uint32_t len);

/* The class of a connection whose first captured bytes are in[0..nin) and
 * out[0..nout) (either may be empty).  TLS and HTTP/2 are recognised in
 * either direction; binary if either direction holds bytes that are not
 * text; text when every captured byte is. */
enum bz_detect_class bz_detect(const uint8_t *in, size_t nin, const uint8_t *out, size_t nout);
enum bz_detect_class bz_detect_head(const struct bz_detect_head *h);

/* 1 if p[0..n) begins with a TLS record header: content type 20-24
 * (change_cipher_spec, alert, handshake, application_data, heartbeat),
 * version 3.0-3.4 (SSL 3.0 to TLS 1.3's record version), and, when the
 * length is captured, one from 1 to 2^14 + 2048 (the largest a record may
 * be).  Three bytes suffice when no more were captured.  SSLv2-compatible
 * hellos are not recognised: obsolete, and refused by every current TLS
 * stack. */
int bz_detect_tls_record(const uint8_t *p, size_t n);
/* 1 if p[0..n) is the HTTP/2 connection preface or, n >= 4, a prefix of it. */
int bz_detect_http2_preface(const uint8_t *p, size_t n);

/* "none", "tls", "http2", "binary", "text". */
const char *bz_detect_name(enum bz_detect_class c);

#endif
