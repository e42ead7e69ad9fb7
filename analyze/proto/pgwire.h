/* pgwire.h - facts of PostgreSQL's frontend/backend protocol v3 that both
 * the analyzer's parser (pgsql.c) and the recorder's masker
 * (record/redact_pg.c) frame messages by, so both find the same messages
 * (https://www.postgresql.org/docs/current/protocol-message-formats.html).
 *
 * After the startup phase every message is a type byte and an int32
 * length that counts itself but not the type byte.  The startup-phase
 * packets the client sends first (StartupMessage, SSLRequest,
 * GSSENCRequest, CancelRequest) have no type byte: an int32 length, then
 * an int32 code.
 */
#ifndef BEYLA_PGWIRE_H
#define BEYLA_PGWIRE_H

#include <stddef.h>
#include <stdint.h>

#define BZ_PG_V3 196608u          /* protocol 3.0 in a StartupMessage */
#define BZ_PG_CANCEL 80877102u    /* CancelRequest */
#define BZ_PG_SSL 80877103u       /* SSLRequest */
#define BZ_PG_GSSENC 80877104u    /* GSSENCRequest */
#define BZ_PG_STARTUP_MAX 10000u  /* the server refuses longer startup packets */
#define BZ_PG_LEN_MAX 0x40000000u /* a message's length field beyond: not a message */

/* The sides that send a type byte. */
enum { BZ_PG_FRONT = 1, BZ_PG_BACK = 2 };

static inline uint32_t bz_pg_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t bz_pg_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Which sides (BZ_PG_FRONT | BZ_PG_BACK) may send a message of type t
 * with length field len (the int32 after the type), as far as lengths go;
 * 0 for none. */
unsigned bz_pg_type_ok(uint8_t t, uint32_t len, unsigned sides);

/* Startup-phase packet at p[0..n): 2 when its 8 first bytes say one
 * (*code set), 1 when fewer than 8 bytes are known and they may begin
 * one, 0 when not. */
int bz_pg_startup(const uint8_t *p, size_t n, uint32_t *code);

/* Do the bytes p[0..n), the captured start of a read or write of len
 * bytes, begin with messages one side sends?  Every whole message must be
 * plausible (type, length, and what its captured content shows), at least
 * one must be whole, and the last must end at n == len or reach past the
 * captured bytes but not past len.  Lengths above len_max count as
 * implausible.  Returns the sides (of `sides`) it could be. */
unsigned bz_pg_plausible(const uint8_t *p, size_t n, uint64_t len, unsigned sides, uint32_t len_max);

/* Stricter: p[0..n) is a whole payload (nothing uncaptured) made of whole
 * plausible messages of one side ending exactly at its end, the last one
 * a message that ends an exchange (backend: ReadyForQuery; frontend:
 * Sync, Query, Flush, Terminate, CopyDone, CopyFail, FunctionCall).
 * What the masker resynchronises on. */
unsigned bz_pg_complete(const uint8_t *p, size_t n, unsigned sides);

#endif
