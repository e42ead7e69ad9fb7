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

enum bz_http_dir { BZ_HTTP_IN = 0, BZ_HTTP_OUT = 1 }; /* = enum bz_data_dir */
#define BZ_HTTP_DIR_UNKNOWN (-1)

#define BZ_HTTP_METHOD_MAX 24
#define BZ_HTTP_TARGET_MAX 512
#define BZ_HTTP_HOST_MAX 256
#define BZ_HTTP_UA_MAX 256
#define BZ_HTTP_CTYPE_MAX 128
#define BZ_HTTP_NO_INDEX UINT64_MAX

/* One recorded syscall, as far as timing goes. 0 means unknown. */
struct bz_http_point {
	uint64_t ts_ns;      /* syscall returned */
	uint64_t start_ns;   /* syscall entered */
	uint64_t arrival_ns; /* reads: first byte arrived in the receive queue */
	uint32_t pid, tid;
};

/* One read or write handed to bz_http1_feed(). */
struct bz_http_read {
	struct bz_http_point at;
	uint32_t len;          /* bytes moved (> 0) */
	uint32_t caplen;       /* bytes of data known, clamped to len */
	const uint8_t *data;   /* caplen bytes */
};

enum bz_http_flag {
	BZ_HTTP_F_INTERIM = 1u << 0,     /* 1xx response: does not answer its request */
	BZ_HTTP_F_HEAD_CUT = 1u << 1,    /* part of the head was not captured */
	BZ_HTTP_F_TARGET_CUT = 1u << 2,  /* target longer than kept or not captured */
	BZ_HTTP_F_GUESSED_END = 1u << 3, /* end found by a heuristic, not by counting */
	BZ_HTTP_F_CLOSE_END = 1u << 4,   /* body delimited by the connection's close */
	BZ_HTTP_F_INCOMPLETE = 1u << 5,  /* connection or capture ended before the end */
	BZ_HTTP_F_CHUNKED = 1u << 6,     /* Transfer-Encoding: chunked */
	BZ_HTTP_F_EXPECT_100 = 1u << 7,  /* Expect: 100-continue */
	BZ_HTTP_F_CONN_CLOSE = 1u << 8,  /* Connection: close */
	BZ_HTTP_F_NO_REQUEST = 1u << 9,  /* response whose request was not seen */
	BZ_HTTP_F_UPGRADE = 1u << 10,    /* 101 or CONNECT 2xx: the connection leaves HTTP */
	BZ_HTTP_F_RESYNC = 1u << 11,     /* message found after skipping bytes */
};

/* A message as known so far.  Strings are NUL-terminated and may be cut
 * (see flags).  At BZ_HTTP_HEAD the body fields are 0 and last == first's
 * read or the read holding the end of the head. */
struct bz_http_msg {
	uint8_t dir;          /* enum bz_http_dir */
	uint8_t is_request;
	uint8_t version;      /* minor version: 0 or 1 (HTTP/1.x), 1 if unknown */
	uint8_t _pad;
	uint16_t status;      /* responses */
	uint16_t _pad2;
	uint32_t flags;       /* enum bz_http_flag */
	uint64_t index;       /* request number on the connection (0-based); for a
	                       * response, the request it answers, or BZ_HTTP_NO_INDEX */
	struct bz_http_point first; /* the read or write holding the first byte */
	struct bz_http_point last;  /* ... and the one holding the last byte seen */
	int64_t content_length;     /* declared, -1 if none */
	uint64_t head_bytes;  /* start line and headers, CRLFs included */
	uint64_t body_bytes;  /* bytes after the head (chunk framing included) */
	char method[BZ_HTTP_METHOD_MAX];
	char target[BZ_HTTP_TARGET_MAX];
	char host[BZ_HTTP_HOST_MAX];
	char user_agent[BZ_HTTP_UA_MAX];
	char content_type[BZ_HTTP_CTYPE_MAX];
};

enum bz_http_event { BZ_HTTP_HEAD = 1, BZ_HTTP_END = 2 };

typedef void (*bz_http_cb)(void *user, enum bz_http_event ev, const struct bz_http_msg *m);

/* Counters of one parser.  Per direction, every byte fed lands in exactly one
 * of: a message's head_bytes or body_bytes, skipped, ignored. */
struct bz_http1_stats {
	uint64_t fed[2];       /* bytes fed per direction */
	uint64_t skipped[2];   /* bytes outside any message while (re)synchronising */
	uint64_t ignored[2];   /* bytes after the connection left HTTP (non-HTTP, upgrade) */
	uint64_t msg_bytes[2]; /* head + body bytes of messages reported */
	uint64_t requests, responses, interim;
	uint64_t guessed_ends, cut_heads, resyncs, malformed, queue_overflows;
	uint8_t non_http;      /* detected as not HTTP/1.x */
	uint8_t upgraded;      /* left HTTP by 101 / CONNECT */
};

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
const struct bz_http1_stats *bz_http1_stats(const struct bz_http1 *p);

/* Cheap detector: 2 if buf[0..n) starts with a complete request line, 1 with
 * a plausible prefix of one, 0 if it cannot be one.  Same for status lines. */
int bz_http1_is_request_start(const uint8_t *buf, size_t n);
int bz_http1_is_status_start(const uint8_t *buf, size_t n);

#endif
