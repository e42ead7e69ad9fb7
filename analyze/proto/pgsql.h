/* pgsql.h - PostgreSQL connections (frontend/backend protocol v3) as
 * database calls for span building.
 *
 * One parser serves one connection.  Each direction is cut into messages
 * by their exact lengths (pgwire.h); the client is the side that sent the
 * StartupMessage (or, joined mid-way, the side whose messages only a
 * frontend sends).  A call is
 *   - a Query ('Q'): answered by everything up to its ReadyForQuery;
 *   - a FunctionCall ('F'): likewise;
 *   - in the extended protocol, the Parse/Bind/Describe/Close messages up
 *     to and including an Execute: answered by everything up to the
 *     Execute's end (CommandComplete, EmptyQueryResponse, PortalSuspended,
 *     ErrorResponse), or, when a Sync directly follows the Execute, up to
 *     the ReadyForQuery that answers the Sync.  So psycopg's P B D E S is
 *     one call answered by 1 2 n C Z, and pipeline mode's P B D E P B D E
 *     ... S gives a call per Execute, each answered by its own results.
 *     The calls after an error in one Sync group are skipped by the server
 *     and end, failed, at the group's ReadyForQuery.  A Sync group with no
 *     Execute (libpq's PQprepare: Parse, Sync) is a call too: PREPARE.
 * A request is reported (HEAD) once the message that makes it a call is
 * in; its END comes just before its response's END, so that the bytes the
 * client sends for it afterwards (Sync, Flush, COPY data) are its own.
 *
 * Named statements are remembered per connection, so a Bind of one
 * prepared earlier reports the statement's text.  The startup packet's
 * database (else its user) is db.namespace.  SSLRequest answered 'S' (and
 * GSSENCRequest answered 'G'): the rest of the socket is encrypted and
 * ignored (stats.upgraded); the plaintext a TLS probe captures is a
 * connection of its own that begins with a StartupMessage.
 *
 * Bytes: per direction every byte lands in a call's request or response
 * (head_bytes: protocol messages, body_bytes: DataRow and COPY data), in
 * skipped (lost framing) or in ignored (startup, authentication, messages
 * of no call, a Terminate, the encrypted part).  Bytes that were not
 * captured are skipped by count inside a message; where a message header
 * should have been, the framing is lost until a read begins with
 * plausible messages (the messages after it are flagged
 * BZ_HTTP_F_RESYNC).
 */
#ifndef BEYLA_PGSQL_H
#define BEYLA_PGSQL_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

/* The plug-in row (table.c). */
extern const struct bz_proto_ops bz_proto_pgsql;

/* Its detector: a fresh connection's startup packet; joined mid-way,
 * plausible messages of either side (pgwire.h). */
int bz_pgsql_detect(const uint8_t *p, size_t n, int dir, int fresh);

#endif
