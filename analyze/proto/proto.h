/* proto.h - the analyzer's protocol plug-in interface.
 *
 * Each application protocol is one parser in analyze/proto/ (one file) and
 * one row of the table in table.c.  A parser follows one connection, like
 * a dissector: it is picked from the connection's first captured bytes
 * (detect), then fed every read and write in capture order with their
 * times and the counts of bytes that were not captured (feed), ended at the
 * connection's close or the capture's end (flush), and freed.  It reports
 * protocol messages through a callback: the head of a request or response
 * once known, and its end; span building (spans.c) turns those into spans by
 * the queue and processing rules of docs/analysis.md without knowing which
 * protocol they came in, but for `multiplexed` (requests overlap on the
 * connection, as HTTP/2 streams do).
 *
 * Detection must be cheap and quiet: invariants first, never a failure
 * while guessing.  A connection no detector claims goes to the last row,
 * HTTP/1, whose own first-bytes rule calls it "not HTTP" when it is not.
 */
#ifndef BEYLA_PROTO_H
#define BEYLA_PROTO_H

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
	uint64_t delivered_ns; /* plain writes: the peer's socket, on this host, had
	                        * every byte, inside the write (before ts_ns) */
	uint32_t pid, tid;
};

/* A piece of a read or write that was captured: bytes [off, off + len). */
struct bz_range {
	uint32_t off, len;
};

/* One read or write handed to a parser's feed().  Usually its first caplen
 * bytes are known (ranges NULL).  A recorder that walked HTTP/2 frames
 * keeps pieces instead (ranges: nranges pieces in order, not overlapping;
 * data holds them back to back, caplen bytes in all): every byte outside
 * them moved but is unknown.  Only parsers of such protocols get ranges. */
struct bz_http_read {
	struct bz_http_point at;
	uint32_t len;          /* bytes moved (> 0) */
	uint32_t caplen;       /* bytes of data known, clamped to len */
	const uint8_t *data;   /* caplen bytes */
	const struct bz_range *ranges;
	uint32_t nranges;
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
	BZ_HTTP_F_HEADERS_LOST = 1u << 12, /* HTTP/2: its header block could not be
	                                    * decoded (not captured whole, or the
	                                    * decoder's state was lost): unknown */
	BZ_HTTP_F_RESET = 1u << 13,      /* HTTP/2: the stream was reset (RST_STREAM) */
	BZ_HTTP_F_H2C = 1u << 14,        /* a 101 with "Upgrade: h2c": HTTP/2 follows (RFC 7540 3.2) */
};

/* The protocol a message came in (spans tell HTTP/2 from HTTP/1, and
 * database calls from HTTP, by it). */
enum bz_proto_id {
	BZ_PROTO_HTTP1 = 1,
	BZ_PROTO_HTTP2 = 2,
	BZ_PROTO_PGSQL = 3, /* PostgreSQL frontend/backend protocol v3 */
	BZ_PROTO_MYSQL = 4, /* MySQL / MariaDB client/server protocol */
	BZ_PROTO_REDIS = 5, /* Redis RESP2 / RESP3 */
};
/* 1 for the database protocols: their messages carry a bz_db_call. */
#define BZ_PROTO_IS_DB(id) ((id) >= BZ_PROTO_PGSQL && (id) <= BZ_PROTO_REDIS)

#define BZ_DB_QUERY_MAX 512
#define BZ_DB_NAME_MAX 64
#define BZ_DB_OP_MAX 32

/* A database call as its protocol showed it (the request half or the
 * response half); spans.c makes the OpenTelemetry database attributes of
 * it (docs/otlp.md).  Strings are NUL-terminated, "" when unknown. */
struct bz_db_call {
	char system[16];     /* db.system.name: "postgresql", "mysql", "mariadb", "redis" */
	char operation[BZ_DB_OP_MAX];      /* request: db.operation.name (SELECT, GET, ...) */
	char collection[BZ_DB_NAME_MAX];   /* request: db.collection.name, when the statement makes it plain */
	char namespace_[BZ_DB_NAME_MAX];   /* db.namespace: the database the connection uses */
	char query[BZ_DB_QUERY_MAX];       /* request: db.query.text, every literal a '?' (bz_sql_sanitize) */
	char status[16];     /* response: db.response.status_code (SQLSTATE, MySQL error number,
	                      * Redis error prefix), "" for success */
	uint8_t error;       /* response: the call failed */
	uint8_t batch;       /* request: several statements in one message (db.operation.batch.size) */
	uint16_t _pad;
	uint32_t batch_size; /* ... how many, when batch */
	int64_t rows;        /* response: rows returned (a result set's), -1 unknown or none */
};

/* A message as known so far: an HTTP/1 message, or the request or response
 * half of an HTTP/2 stream.  Strings are NUL-terminated and may be cut
 * (see flags).  At BZ_HTTP_HEAD the body fields are 0 and last == first's
 * read or the read holding the end of the head. */
struct bz_http_msg {
	uint8_t dir;          /* enum bz_http_dir */
	uint8_t is_request;
	uint8_t version;      /* minor version: 0 or 1 (HTTP/1.x), 1 if unknown */
	uint8_t proto;        /* enum bz_proto_id */
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
	/* HTTP/2 */
	uint32_t stream;      /* stream id (0: HTTP/1) */
	char scheme[8];       /* :scheme, "" if none */
	/* gRPC (content-type application/grpc): messages and their lengths
	 * by their 5-byte prefixes (grpc_counted: none of them was lost, the
	 * counts are exact), and the status from the trailers (or a
	 * trailers-only response); -1 unknown */
	uint8_t grpc, grpc_counted;
	int16_t grpc_status;
	uint32_t grpc_messages;
	uint64_t grpc_bytes;
	/* database protocols (BZ_PROTO_IS_DB(proto)): the call; method,
	 * target, host... stay empty */
	struct bz_db_call db;
};

enum bz_http_event { BZ_HTTP_HEAD = 1, BZ_HTTP_END = 2 };

typedef void (*bz_http_cb)(void *user, enum bz_http_event ev, const struct bz_http_msg *m);

/* Counters of one parser.  Per direction, every byte fed lands in exactly one
 * of: a message's head_bytes or body_bytes, skipped, ignored. */
struct bz_proto_stats {
	uint64_t fed[2];       /* bytes fed per direction */
	uint64_t skipped[2];   /* bytes outside any message while (re)synchronising */
	uint64_t ignored[2];   /* bytes after the connection left HTTP (non-HTTP, upgrade) */
	uint64_t msg_bytes[2]; /* head + body bytes of messages reported */
	uint64_t requests, responses, interim;
	uint64_t guessed_ends, cut_heads, resyncs, malformed, queue_overflows;
	uint64_t headers_lost; /* HTTP/2: header blocks that could not be decoded */
	uint8_t non_http;      /* detected as not this protocol (a fresh connection) */
	uint8_t upgraded;      /* left HTTP by 101 / CONNECT */
};


/* What a parser is created with. */
struct bz_proto_cfg {
	int req_dir;   /* BZ_HTTP_IN (the target is the server), BZ_HTTP_OUT (client), or
	                * BZ_HTTP_DIR_UNKNOWN (joined a connection open before recording) */
	int fresh;     /* opened during the capture: its first bytes are seen */
	bz_http_cb cb; /* messages go here */
	void *user;
	/* HTTP/2 after an HTTP/1.1 "Upgrade: h2c" answered 101 (BZ_HTTP_F_H2C):
	 * stream 1 is the request that asked for it, number upgrade_index,
	 * already reported; its response comes as HTTP/2 */
	uint8_t h2c_upgrade;
	uint64_t upgrade_index;
};

enum bz_proto_verdict { BZ_PROTO_NO = 0, BZ_PROTO_MAYBE = 1, BZ_PROTO_YES = 2 };

struct bz_proto_ops {
	const char *name;      /* connections.protocol: "http/1", "http/2" */
	uint8_t id;            /* enum bz_proto_id */
	uint8_t multiplexed;   /* requests overlap on one connection */
	/* p[0..n): the first captured bytes of a connection in direction dir
	 * (BZ_HTTP_IN: read by the target), fresh as in bz_proto_cfg.
	 * BZ_PROTO_YES claims it; NULL for the fallback. */
	int (*detect)(const uint8_t *p, size_t n, int dir, int fresh);
	int (*create)(void **out, const struct bz_proto_cfg *cfg); /* 0 or -ENOMEM */
	void (*feed)(void *p, int dir, const struct bz_http_read *rd);
	void (*flush)(void *p, int closed);
	void (*destroy)(void **pp);     /* accepts NULL, clears *pp */
	int (*req_dir)(const void *p);  /* BZ_HTTP_DIR_UNKNOWN until known */
	const struct bz_proto_stats *(*stats)(const void *p);
};

/* Every protocol, the fallback (HTTP/1) last. */
extern const struct bz_proto_ops *const bz_protocols[];

/* The protocol for a connection whose first captured bytes are p[d][0..n[d])
 * in direction d (either may be empty): the first protocol whose detector
 * says YES for either direction, else the fallback.  *undecided (NULL: not
 * wanted) is set when a detector asked before the one picked said MAYBE:
 * more bytes might pick another. */
const struct bz_proto_ops *bz_proto_pick(const uint8_t *const p[2], const size_t n[2], int fresh, int *undecided);

#endif
