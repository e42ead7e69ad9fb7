/* http2.h - HTTP/2 (RFC 9113) connections: frames, streams and their
 * header blocks (HPACK, hpack.h), as protocol messages for span building.
 *
 * One parser serves one connection.  Each direction has a frame reader
 * (the client's begins with the connection preface) and an HPACK context
 * for the blocks its sender encodes.  A stream gives two messages: its
 * request (the HEADERS that carry :method, the DATA after them) and its
 * response (the HEADERS with :status, DATA, trailers), each reported at its
 * head and at its end (END_STREAM, a RST_STREAM, the close), with
 * proto = BZ_PROTO_HTTP2, the stream id, and index = the request's number
 * on the connection in the order their HEADERS arrived.  gRPC calls
 * (content-type application/grpc) also carry their messages, counted from
 * the 5-byte length prefixes in DATA, and grpc-status from the trailers.
 *
 * What was not captured: bytes inside a frame whose length is known are
 * skipped by count (a DATA payload cut by the snap length costs nothing
 * but its content); a header block with bytes missing cannot be decoded
 * and, since HPACK is stateful, neither can any later block of that
 * direction: such messages are flagged BZ_HTTP_F_HEADERS_LOST (method,
 * path and status unknown, never guessed) and counted.  Bytes missing
 * where a frame header should be lose the framing: the reader waits for a
 * read or write that begins with a plausible frame header (writers send
 * whole frames), counting what it skipped.  A connection joined after it
 * began has no preface and an HPACK state that cannot be known: its frames
 * are followed, its header blocks reported lost.  An HTTP/1.1 connection
 * upgraded to h2c (a 101 with "Upgrade: h2c") goes on in this parser from
 * the byte after the 101 (bz_proto_cfg.h2c_upgrade): stream 1 is the
 * request that asked for it, already reported by the HTTP/1 parser.
 */
#ifndef BEYLA_HTTP2_H
#define BEYLA_HTTP2_H

#include <stddef.h>
#include <stdint.h>
#include "proto.h"

#define BZ_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define BZ_H2_PREFACE_LEN 24

/* The plug-in row (table.c). */
extern const struct bz_proto_ops bz_proto_http2;

/* Its detector (proto.h's detect): the client preface at the start of a
 * direction; for a connection joined mid-stream, two plausible frame
 * headers in a row (or one that fills what was captured). */
int bz_http2_detect(const uint8_t *p, size_t n, int dir, int fresh);

#endif
