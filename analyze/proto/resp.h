/* resp.h - Redis's serialization protocol (RESP2 and RESP3) walked as a
 * stream: the framing both the recorder's masker (record/redact_redis.c)
 * and the analyzer's parser (redis.c) follow, so both frame every byte the
 * same way and lose the framing at the same byte.
 *
 * Spec: https://redis.io/docs/latest/develop/reference/protocol-spec/
 *
 * An element is a type byte, a line ended by CRLF, and for the length
 * types ($ bulk string, ! bulk error, = verbatim) that many bytes and a
 * CRLF; the aggregates (* array, ~ set, > push, % map and | attribute with
 * twice their count) are followed by their children.  An attribute comes
 * before the element it describes and is not counted as one: a top-level
 * message is its attributes and the element after them.  A client may also
 * send an inline command, a line without a type byte (allowed with
 * inline_ok, at the top level only).
 *
 * The walker never buffers: it hands every byte to the caller as a piece
 * of known kind (type byte, line content, line end, data, the CRLF after
 * data) with the walker's state telling where it is (depth, the index of
 * the child in each open aggregate), and reports structure as events.
 * Bytes that moved but were not captured are skipped by count inside data
 * whose length is known; anywhere else the framing is lost for good
 * (BZ_RESP_E_LOST) and the walker consumes nothing more.
 */
#ifndef BEYLA_RESP_H
#define BEYLA_RESP_H

#include <stddef.h>
#include <stdint.h>

#define BZ_RESP_DEPTH 32                  /* open aggregates at most: deeper is lost */
#define BZ_RESP_LINE_MAX (64u << 10)      /* a longer line is not RESP */
#define BZ_RESP_BULK_MAX (4ull << 30)     /* Redis caps bulk strings at 512 MB by default */
#define BZ_RESP_COUNT_MAX ((1ull << 31) - 1)
#define BZ_RESP_INLINE 'i'                /* the type of an inline command (no type byte) */

enum bz_resp_piece {
	BZ_RESP_P_TYPE,     /* the type byte */
	BZ_RESP_P_LINE,     /* content of the element's line (digits, a simple string, an inline command) */
	BZ_RESP_P_EOL,      /* the line's CR or LF */
	BZ_RESP_P_DATA,     /* content of a bulk string, bulk error or verbatim string */
	BZ_RESP_P_DATA_EOL, /* the CR or LF after it */
};

enum bz_resp_event {
	BZ_RESP_E_BEGIN, /* an element begins: type, depth, its index in its parent */
	BZ_RESP_E_HEAD,  /* its line was read: num is the length or count (-1 null) */
	BZ_RESP_E_END,   /* it ended (an aggregate: with its last child); ':' has num */
	BZ_RESP_E_TOP,   /* a top-level message ended */
	BZ_RESP_E_LOST,  /* framing lost: nothing more is consumed */
};

struct bz_resp_level {
	uint8_t type;
	uint64_t left;  /* children still to come */
	uint64_t child; /* index of the child being walked */
};

struct bz_resp {
	uint8_t st;        /* where the next byte goes */
	uint8_t type;      /* the current element's type */
	uint8_t depth;     /* open aggregates: the current element's level (0: top) */
	uint8_t inline_ok; /* top-level lines without a type byte are inline commands */
	uint8_t neg, ndig, bad, cr;
	int64_t num;       /* the line's number (lengths, counts, integers) */
	uint64_t left;     /* data bytes still to come */
	uint64_t line;     /* line content bytes so far */
	uint64_t top_bytes; /* bytes of the current top-level message so far */
	uint64_t top_head;  /* ... of which its first line (type byte to LF) */
	struct bz_resp_level lv[BZ_RESP_DEPTH];
};

/* s is NULL for bytes that moved but were not captured (data only). */
struct bz_resp_cb {
	void (*piece)(void *user, const struct bz_resp *r, enum bz_resp_piece k, const uint8_t *s, size_t n);
	void (*event)(void *user, const struct bz_resp *r, enum bz_resp_event ev);
};

void bz_resp_init(struct bz_resp *r, int inline_ok);
int bz_resp_lost(const struct bz_resp *r);
/* True between a message's first byte and its end. */
int bz_resp_in_msg(const struct bz_resp *r);
/* Walks s[0..n); returns the bytes consumed (n unless the framing was lost). */
size_t bz_resp_feed(struct bz_resp *r, const uint8_t *s, size_t n, const struct bz_resp_cb *cb, void *user);
/* u bytes moved that were not captured; returns how many were skipped by
 * count (the rest: lost). */
uint64_t bz_resp_unknown(struct bz_resp *r, uint64_t u, const struct bz_resp_cb *cb, void *user);

/* Does p[0..n) begin a client's command, `*N\r\n$M\r\n` and a name of
 * letters?  2 yes, 1 it may (all of it fits but it is cut short), 0 no. */
int bz_resp_command_start(const uint8_t *p, size_t n);
/* Does p[0..n) begin with a whole plausible element line (a reply or
 * push): a type byte and a line that fits its type? 1 or 0. */
int bz_resp_reply_start(const uint8_t *p, size_t n);

#endif
