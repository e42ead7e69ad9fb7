/* conn_hold.h - the first reads and writes of a connection whose protocol
 * is not decided yet, held until it is.
 *
 * A detector may need more bytes than a connection's first read holds: a
 * server that reads the HTTP/2 client preface in two pieces ("PRI *
 * HTTP/2.0", then the rest: Go's h2c server, to tell it from an HTTP/1
 * request line), a client that writes it byte by byte.  Picking a parser
 * from the first piece alone picks the fallback, and every later byte of
 * the connection goes to the wrong parser.  So while a detector says
 * MAYBE, the reads are copied here (a few, small: BZ_HOLD_READS and
 * BZ_HOLD_BYTES bound them), the protocol is picked from all their bytes
 * in order, and the parser picked is given them first, with their own
 * times, as if it had seen them as they came.
 */
#ifndef BEYLA_CONN_HOLD_H
#define BEYLA_CONN_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define BZ_HOLD_READS 32
#define BZ_HOLD_BYTES 512

struct bz_held_read {
	int dir;                 /* BZ_HTTP_IN / BZ_HTTP_OUT */
	struct bz_http_read rd;  /* its data points at bytes */
	uint8_t bytes[];
};

struct bz_conn_hold {
	uint32_t n;
	uint32_t bytes;          /* captured bytes held, all reads */
	struct bz_held_read *r[BZ_HOLD_READS];
};

/* Whether rd may be held too: there is room for it, it is not in pieces
 * (pieces: a ranges record, the recorder knew the connection as HTTP/2
 * already) and all its bytes were captured (after a cut, the bytes that
 * follow are not the next ones). */
int bz_hold_fits(const struct bz_conn_hold *h, const struct bz_http_read *rd, int pieces);

/* Copies rd (of dir) into *h (allocated on the first).  0 or -ENOMEM. */
int bz_hold_add(struct bz_conn_hold **h, int dir, const struct bz_http_read *rd);

/* The first bytes of direction dir, in order: the held ones (h may be
 * NULL), then cur[0..ncur), as many as fit in out[0..cap).  Stops at the
 * first read not captured whole.  Returns how many were written. */
size_t bz_hold_head(const struct bz_conn_hold *h, int dir, const uint8_t *cur, size_t ncur, uint8_t *out,
		    size_t cap);

/* Gives every held read, in order, to ops->feed of parser, then frees *h
 * and clears it. */
void bz_hold_replay(struct bz_conn_hold **h, const struct bz_proto_ops *ops, void *parser);

/* Frees *h (NULL is fine) and clears it. */
void bz_hold_free(struct bz_conn_hold **h);

#endif
