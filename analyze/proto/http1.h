/* http1.h - incremental HTTP/1.x framing and parsing of one TCP connection,
 * fed the socket reads and writes a capture recorded, in order.
 *
 * What makes this different from a normal HTTP parser: a recorded read or
 * write only carries its first `caplen` bytes (the snap length); the other
 * `len - caplen` bytes were moved by the process but are unknown.  The parser
 * therefore separates framing (how many bytes belong to this message) from
 * parsing (what the known bytes say), like a Wireshark dissector, and skips
 * unknown bytes by count where the framing allows it.
 *
 * One parser serves one connection and keeps one framer per direction: a
 * response's framing depends on its request (HEAD, CONNECT), and pipelined
 * requests wait in a queue until their responses arrive, so the two
 * directions cannot be parsed in isolation.  The direction that carries
 * requests is given by the caller (accepted or connected socket) or learned
 * from the first start line seen (pre-existing connections).
 *
 * Life cycle (like a dissector): bz_http1_new, bz_http1_feed for each read or
 * write in capture order, bz_http1_flush at close or at the end of the
 * capture, bz_http1_free.  Every message is reported exactly twice through
 * the callback: BZ_HTTP_HEAD once its start line and headers are known (or
 * as much of them as was captured) and BZ_HTTP_END once its last byte has
 * been seen or the connection ended.  The msg pointer is only valid during
 * the call.
 *
 * Heuristics (all documented in docs/analysis.md, each flagged on the message):
 *  - head cut by the snap length: the known headers are used; the unknown
 *    rest of that read is counted as head bytes, except that a Content-Length
 *    body that fits in the rest is assumed to end with the read;
 *  - bodies whose end cannot be counted (chunked after losing the chunk
 *    boundaries, or a cut head without a length) end at the first of: a read
 *    whose captured bytes end with the zero-size chunk, a read of the same
 *    direction that starts with a new start line, a start line in the other
 *    direction (a final response ends a request; a new request ends a
 *    response), the connection's close;
 *  - a connection joined mid-stream is resynchronised at the first line that
 *    looks like a start line; the bytes skipped are counted;
 *  - a newly opened connection whose first bytes cannot begin an HTTP/1.x
 *    start line is not HTTP: it is ignored from then on and counted.
 */
#ifndef BEYLA_HTTP1_H
#define BEYLA_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct bz_http1;

/* req_dir: BZ_HTTP_IN (we are the server), BZ_HTTP_OUT (client) or
 * BZ_HTTP_DIR_UNKNOWN.  fresh: the connection was opened during the capture,
 * so its first bytes are seen (enables non-HTTP detection).  Returns 0 or
 * -ENOMEM (*out untouched). */
int bz_http1_new(struct bz_http1 **out, int req_dir, int fresh, bz_http_cb cb, void *user);
/* Feeds one read (dir BZ_HTTP_IN) or write (BZ_HTTP_OUT). rd->len == 0 is a no-op. */
void bz_http1_feed(struct bz_http1 *p, int dir, const struct bz_http_read *rd);
/* Ends every open message: closed != 0 when the connection closed (bodies
 * delimited by the close end normally), 0 at the end of the capture (open
 * messages are BZ_HTTP_F_INCOMPLETE).  Later feeds are ignored. */
void bz_http1_flush(struct bz_http1 *p, int closed);
/* Accepts NULL and clears *pp. */
void bz_http1_free(struct bz_http1 **pp);

int bz_http1_req_dir(const struct bz_http1 *p); /* BZ_HTTP_DIR_UNKNOWN until learned */
const struct bz_proto_stats *bz_http1_stats(const struct bz_http1 *p);

/* The plug-in row of the protocol table (table.c). */
extern const struct bz_proto_ops bz_proto_http1;

/* Cheap detector: 2 if buf[0..n) starts with a complete request line, 1 with
 * a plausible prefix of one, 0 if it cannot be one.  Same for status lines. */
int bz_http1_is_request_start(const uint8_t *buf, size_t n);
int bz_http1_is_status_start(const uint8_t *buf, size_t n);

#endif
