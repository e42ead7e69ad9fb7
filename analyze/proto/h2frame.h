/* h2frame.h - the HTTP/2 frame layer (RFC 9113 section 4 and 6) of one
 * connection, fed reads and writes that may be only partly captured.
 *
 * Shared by the analyzer (http2.c: streams and messages) and the recorder
 * (record/redact_h2.c: masking credentials in header blocks before they
 * are written), so both see the same frames and lose the same ones: what
 * the recorder could not mask the analyzer does not decode either.
 *
 * Per direction: the client's preface when expected, then 9-byte frame
 * headers and payloads.  Each frame's payload is split into the fields
 * before its content (pad length, priority, promised stream id), the
 * content, and the padding; the user sees the header, the content (bytes,
 * or a count of bytes not captured), and the end.  Bytes not captured
 * inside a payload of known length are skipped by count; bytes not
 * captured where a frame header should be lose the framing until a read or
 * write begins with a plausible frame header. */
#ifndef BEYLA_H2FRAME_H
#define BEYLA_H2FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

#define BZ_H2_HDR 9
#define BZ_H2_SETTINGS_MAX 32 /* entries read from one SETTINGS frame */

enum bz_h2_type {
	BZ_H2_DATA = 0, BZ_H2_HEADERS, BZ_H2_PRIORITY, BZ_H2_RST, BZ_H2_SETTINGS, BZ_H2_PUSH,
	BZ_H2_PING, BZ_H2_GOAWAY, BZ_H2_WINDOW, BZ_H2_CONT,
};

#define BZ_H2_END_STREAM 0x01
#define BZ_H2_ACK 0x01
#define BZ_H2_END_HEADERS 0x04
#define BZ_H2_PADDED 0x08
#define BZ_H2_PRIORITY_FLAG 0x20

/* The frame being read. */
struct bz_h2f {
	uint32_t len, stream;
	uint8_t type, flags;
	uint8_t cut;                  /* bytes of its content (or its pad length) were not captured */
	struct bz_http_point first;   /* the read or write holding its first byte */
};

struct bz_h2frame_ops {
	/* a frame header was read */
	void (*begin)(void *user, int dir, const struct bz_h2f *f);
	/* n content bytes of it, b[0..n) (b NULL: moved but not captured) */
	void (*content)(void *user, int dir, const struct bz_h2f *f, const uint8_t *b, uint32_t n);
	/* its last byte went by */
	void (*end)(void *user, int dir, const struct bz_h2f *f);
	/* the framing of dir is lost: frames (header blocks among them) may go
	 * by unseen until it is found again */
	void (*lost)(void *user, int dir);
	/* dir acknowledged its peer's SETTINGS_HEADER_TABLE_SIZE: dir's HPACK
	 * encoder keeps its table within max from here on (RFC 9113 6.5.3:
	 * a setting takes effect for its receiver when it sends the ACK, and
	 * the ACK comes before any block that follows the new value) */
	void (*table_max)(void *user, int dir, uint32_t max);
};

enum bz_h2frame_state { BZ_H2F_PREFACE = 0, BZ_H2F_HEAD, BZ_H2F_PAYLOAD, BZ_H2F_LOST };

struct bz_h2frame_dir {
	uint8_t state;        /* enum bz_h2frame_state */
	uint8_t preface_got;
	uint8_t hdr[BZ_H2_HDR], hdr_len;
	uint8_t pre, pad, pad_known;
	uint8_t read_start;   /* the next byte is the first of a read or write */
	uint32_t done;        /* payload bytes of the frame so far */
	struct bz_h2f f;
	struct bz_http_point cur;
	uint64_t skipped;     /* bytes skipped while the framing was lost */
	uint64_t resyncs;
	/* SETTINGS this direction sent, their header table size waiting for the
	 * peer's ACK */
	uint8_t set[6 * BZ_H2_SETTINGS_MAX];
	uint32_t set_len;
	uint32_t table_pending;
	uint8_t table_pending_set;
};

struct bz_h2frame {
	struct bz_h2frame_dir d[2];
	const struct bz_h2frame_ops *ops;
	void *user;
};

/* expect_preface[dir]: that direction begins with the client preface (a
 * side that turns out not to begins with frames). */
void bz_h2frame_init(struct bz_h2frame *fr, const struct bz_h2frame_ops *ops, void *user,
		     const int expect_preface[2]);
/* One read (dir BZ_HTTP_IN) or write, with its ranges if it has any. */
void bz_h2frame_feed(struct bz_h2frame *fr, int dir, const struct bz_http_read *rd);
/* The read or write now being fed (for the callbacks). */
static inline const struct bz_http_point *bz_h2frame_at(const struct bz_h2frame *fr, int dir)
{
	return &fr->d[dir].cur;
}

/* Could h (9 bytes) be a frame header a peer sends?  *len gets its length.
 * Cheap invariants per type (section 6); a length up to 16384, the default
 * SETTINGS_MAX_FRAME_SIZE. */
int bz_h2frame_plausible(const uint8_t *h, uint32_t *len);

#endif
