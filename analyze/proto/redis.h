/* redis.h - Redis connections (RESP2 and RESP3) as database calls.
 *
 * Every command a client sends is a request (an array of bulk strings, or
 * an inline command line), numbered in order; the replies answer them in
 * order, so a pipeline of N commands in one write gives N requests, each
 * with the reads and writes that carried it.  Attributes (RESP3 '|') are
 * part of the reply they precede.  Not replies, counted and given no span
 * (their bytes are "ignored"): RESP3 pushes ('>') other than subscribe
 * confirmations, RESP2 pub/sub messages ("message", "pmessage",
 * "smessage" arrays) on a subscribed connection, MONITOR's stream.  A
 * SUBSCRIBE of K channels is answered by its K confirmations (an
 * UNSUBSCRIBE of all: by the confirmations that follow it).
 *
 * The call (bz_db_call): db.operation.name is the command's name upper-
 * cased, a container's subcommand joined to it ("CONFIG GET", "CLIENT
 * SETNAME"); db.query.text the command with its key (the first argument of
 * a key command, redis_cmds.h) and every other argument a '?';
 * db.namespace the database index, "0" until a SELECT (unknown on a
 * connection joined mid-way); a reply's db.response.status_code the error
 * prefix (ERR, WRONGTYPE, MOVED) of an error reply ('-' or '!'), and
 * db.response.returned_rows the elements of an array, set or map reply.
 *
 * What was not captured: bulk strings are skipped by count; bytes missing
 * anywhere else lose the framing of that direction: the message cut is
 * reported (flagged BZ_HTTP_F_HEAD_CUT) when its start was seen, the
 * commands or replies in the lost bytes are not invented, and the
 * direction waits for a read that begins with a plausible element
 * (BZ_HTTP_F_RESYNC).  Requests still waiting when the replies' framing
 * is lost are ended incomplete: their answers were in the bytes lost.
 */
#ifndef BEYLA_REDIS_H
#define BEYLA_REDIS_H

#include <stdint.h>
#include "proto.h"

extern const struct bz_proto_ops bz_proto_redis;

/* Out-of-band messages (pushes, pub/sub messages, MONITOR lines) counted
 * on the connection of parser p. */
uint64_t bz_redis_pushes(const void *p);

#endif
