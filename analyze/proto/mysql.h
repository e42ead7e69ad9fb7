/* mysql.h - MySQL / MariaDB client/server protocol connections as database
 * calls (proto.h), for span building.
 *
 * One parser follows one connection: packets (3-byte length, sequence id,
 * payload; 0xffffff-byte payloads continued) in each direction, the
 * handshake (server version -> db.system.name "mariadb" or "mysql",
 * capabilities, the database the client asks for -> db.namespace), then
 * every command the client sends (a packet of sequence id 0) as a request
 * message, and the server's answer to it (OK, ERR, a result set or several)
 * as its response, in order: commands may be pipelined.
 *
 * Calls: COM_QUERY (operation, table and sanitised text from the SQL,
 * several statements a batch), COM_STMT_PREPARE ("PREPARE" with the
 * statement's table and text; the statement id its OK gives is
 * remembered), COM_STMT_EXECUTE (the prepared statement's operation,
 * table and text; "EXECUTE" when its prepare was not seen), COM_INIT_DB,
 * COM_PING, COM_CHANGE_USER, COM_STMT_RESET and the others by their name.
 * COM_QUIT, COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA have no answer and
 * are no call (no span): their bytes, and the handshake's, are counted as
 * ignored.
 *
 * What was not captured: bytes inside a packet of known length are
 * skipped by count; bytes where a packet header should be lose the
 * framing of that direction.  The client's is taken up again at a read or
 * write that begins with a plausible command; the server's, once the
 * client sent its next command, at the first server read or write that
 * begins with a plausible response (the answer that was being read then
 * ends there, BZ_HTTP_F_GUESSED_END, its rows unknown).  A connection
 * joined mid-way waits for such a command, assumes CLIENT_PROTOCOL_41 and
 * learns CLIENT_DEPRECATE_EOF from its first result set.  After an
 * SSLRequest the socket carries TLS: its bytes are ignored
 * (stats.upgraded).
 */
#ifndef BEYLA_MYSQL_H
#define BEYLA_MYSQL_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

/* The plug-in row (table.c). */
extern const struct bz_proto_ops bz_proto_mysql;

/* Its detector (proto.h's detect): the server's greeting (Initial
 * Handshake v10) at the start of a direction; for a connection joined
 * mid-way, a client command packet that fits what was captured. */
int bz_mysql_detect(const uint8_t *p, size_t n, int dir, int fresh);

#endif
