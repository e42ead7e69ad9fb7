/* mysql_wire.h - the MySQL / MariaDB client/server protocol's framing, as
 * both its readers need it: the analyzer's parser (mysql.c) and the
 * recorder's masker (record/redact_mysql.c).  Keeping one copy of "what is
 * this packet" means the masker masks exactly the packets the parser
 * later reads as rows, and both find the same ends of results.
 *
 * A packet is a 3-byte little-endian payload length, a 1-byte sequence id
 * and the payload; a payload of 0xffffff bytes continues in the next
 * packet (one "logical" packet).  The server speaks first (the Initial
 * Handshake v10, protocol byte 0x0a), the client answers (HandshakeResponse41
 * or an SSLRequest), authentication goes on until an OK or an ERR, then
 * every command is a client packet of sequence id 0 whose first byte is the
 * command, answered by OK / ERR / EOF packets or a result set.
 */
#ifndef BEYLA_MYSQL_WIRE_H
#define BEYLA_MYSQL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define MY_HDR 4
#define MY_MAX_PAYLOAD 0xffffffu /* a payload this long continues in the next packet */

/* Capability flags (the ones that change the framing or what is read) */
#define MY_CLIENT_CONNECT_WITH_DB 0x00000008u
#define MY_CLIENT_COMPRESS 0x00000020u
#define MY_CLIENT_PROTOCOL_41 0x00000200u
#define MY_CLIENT_SSL 0x00000800u
#define MY_CLIENT_SECURE_CONNECTION 0x00008000u
#define MY_CLIENT_MULTI_STATEMENTS 0x00010000u
#define MY_CLIENT_PLUGIN_AUTH 0x00080000u
#define MY_CLIENT_CONNECT_ATTRS 0x00100000u
#define MY_CLIENT_PLUGIN_AUTH_LENENC 0x00200000u
#define MY_CLIENT_DEPRECATE_EOF 0x01000000u
#define MY_CLIENT_QUERY_ATTRIBUTES 0x08000000u
/* MariaDB's extended capabilities (the 4 bytes that MySQL leaves reserved) */
#define MY_MARIADB_PROGRESS 0x00000001u
#define MY_MARIADB_CACHE_METADATA 0x00000010u

/* Server status flags */
#define MY_SERVER_MORE_RESULTS 0x0008u
#define MY_SERVER_CURSOR_EXISTS 0x0040u

enum my_cmd {
	MY_COM_SLEEP = 0x00,
	MY_COM_QUIT = 0x01,
	MY_COM_INIT_DB = 0x02,
	MY_COM_QUERY = 0x03,
	MY_COM_FIELD_LIST = 0x04,
	MY_COM_CREATE_DB = 0x05,
	MY_COM_DROP_DB = 0x06,
	MY_COM_REFRESH = 0x07,
	MY_COM_SHUTDOWN = 0x08,
	MY_COM_STATISTICS = 0x09,
	MY_COM_PROCESS_INFO = 0x0a,
	MY_COM_CONNECT = 0x0b,
	MY_COM_PROCESS_KILL = 0x0c,
	MY_COM_DEBUG = 0x0d,
	MY_COM_PING = 0x0e,
	MY_COM_TIME = 0x0f,
	MY_COM_DELAYED_INSERT = 0x10,
	MY_COM_CHANGE_USER = 0x11,
	MY_COM_BINLOG_DUMP = 0x12,
	MY_COM_TABLE_DUMP = 0x13,
	MY_COM_CONNECT_OUT = 0x14,
	MY_COM_REGISTER_SLAVE = 0x15,
	MY_COM_STMT_PREPARE = 0x16,
	MY_COM_STMT_EXECUTE = 0x17,
	MY_COM_STMT_SEND_LONG_DATA = 0x18,
	MY_COM_STMT_CLOSE = 0x19,
	MY_COM_STMT_RESET = 0x1a,
	MY_COM_SET_OPTION = 0x1b,
	MY_COM_STMT_FETCH = 0x1c,
	MY_COM_DAEMON = 0x1d,
	MY_COM_BINLOG_DUMP_GTID = 0x1e,
	MY_COM_RESET_CONNECTION = 0x1f,
	MY_COM_STMT_BULK_EXECUTE = 0xfa, /* MariaDB */
};

static inline uint32_t my_le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t my_le24(const uint8_t *p) { return my_le16(p) | (uint32_t)p[2] << 16; }
static inline uint32_t my_le32(const uint8_t *p) { return my_le24(p) | (uint32_t)p[3] << 24; }

/* A length-encoded integer at p[0..n): its value in *v and its size, 0 if
 * cut or invalid (0xff; 0xfb is NULL, given as 0 of size 1 in *null). */
size_t my_lenenc(const uint8_t *p, size_t n, uint64_t *v);

/* Name of a command for db.operation.name ("PING", "INIT_DB"...), NULL
 * for one that is not a known command. */
const char *my_cmd_name(unsigned cmd);
/* 1 when the server answers the command (QUIT, STMT_CLOSE and
 * STMT_SEND_LONG_DATA are not answered). */
int my_cmd_answered(unsigned cmd);

/* p[0..n) begins with an Initial Handshake v10 packet (sequence id 0,
 * protocol 0x0a, a printable version string beginning with a digit and
 * NUL-terminated in the captured bytes, a payload long enough for the
 * fields after it and short enough to be one).  Strict: it picks the
 * protocol of a fresh connection. */
int my_is_greeting(const uint8_t *p, size_t n);

/* p[0..n) (n: the bytes captured of a read or write that moved len, 0
 * when unknown: p[0..n) is a prefix of the stream)
 * begins with a command packet as a client sends one (sequence id 0, a
 * known command byte, a length that fits the command and what was
 * captured: SQL text that is printable, fixed-size commands exactly their
 * size...).  Strict: it picks the protocol of a connection joined
 * mid-way, and must never take HTTP or TLS. */
int my_is_command(const uint8_t *p, size_t n, uint64_t len);

/* The server's capability flags (*flags, MariaDB's extended ones in *ext)
 * and its version (NUL-terminated into version[0..vcap), vcap >= 1) from
 * an Initial Handshake v10 payload b[0..n). */
void my_greeting_caps(const uint8_t *b, size_t n, uint32_t *flags, uint32_t *ext, char *version, size_t vcap);

/* ---- the server's answer to one command, packet by packet -------------------- */

enum my_pkt {
	MYP_OK = 1,   /* OK (0x00, or 0xfe with CLIENT_DEPRECATE_EOF) */
	MYP_ERR,      /* ERR (0xff) */
	MYP_EOF,      /* EOF (0xfe, fewer than 9 bytes) */
	MYP_COLCOUNT, /* a result set's column count */
	MYP_COLDEF,   /* a column (or a prepared statement's parameter) definition */
	MYP_ROW,      /* a result row, text or binary: values */
	MYP_INFILE,   /* LOCAL INFILE request (0xfb + file name) */
	MYP_PREP_OK,  /* COM_STMT_PREPARE's OK (statement id, columns, parameters) */
	MYP_AUTH,     /* auth switch / more data (COM_CHANGE_USER): secrets */
	MYP_PROGRESS, /* MariaDB progress report (ERR 0xffff) */
	MYP_OTHER,    /* a packet only its command knows (COM_STATISTICS' text...) */
};

enum my_resp_state {
	MYR_FIRST = 0,  /* the next packet begins a result (or is OK/ERR) */
	MYR_COLS,       /* column definitions to come (cols_left) */
	MYR_COLS_EOF,   /* the EOF after them */
	MYR_ROWS,       /* rows until EOF / OK */
	MYR_PREP_PARAMS,/* a prepare's parameter definitions */
	MYR_PREP_PEOF,
	MYR_PREP_COLS,  /* ... and column definitions */
	MYR_PREP_CEOF,
	MYR_AUTH,       /* COM_CHANGE_USER's authentication exchange */
	MYR_FIELDS,     /* COM_FIELD_LIST: definitions until EOF */
};

/* The capabilities both sides agreed on, and whether they are known (a
 * connection joined mid-way: assumed PROTOCOL_41, DEPRECATE_EOF found
 * out from the first result set, and said to be a guess). */
struct my_caps {
	uint32_t flags, ext;
	uint8_t known;     /* the handshake was seen */
	uint8_t eof_known; /* DEPRECATE_EOF known (seen, or inferred) */
	uint8_t guessed;   /* something was assumed */
};

struct my_resp {
	uint8_t cmd;         /* the command answered */
	uint8_t state;       /* enum my_resp_state */
	uint64_t left;       /* definitions still to come */
	uint32_t prep_cols;  /* a prepare's columns, after its parameters */
};

/* The class of the next server packet of a response in state r (its
 * payload is plen bytes; t its first byte, have_t 0 when not captured). */
enum my_pkt my_resp_class(const struct my_resp *r, const struct my_caps *c, unsigned t, int have_t, uint32_t plen);

/* The packet of class k is over: pre[0..n) is its payload's first bytes
 * (what was captured, up to MY_PRE_KEEP); moves r on.  Returns 1 when the
 * response ended with it.  May settle c->eof_known. */
#define MY_PRE_KEEP 32
int my_resp_next(struct my_resp *r, struct my_caps *c, enum my_pkt k, const uint8_t *pre, size_t n, uint32_t plen);

/* The status flags of an OK or EOF packet pre[0..n), or 0 when not
 * captured. */
uint32_t my_status_flags(const uint8_t *pre, size_t n, enum my_pkt k);

/* p[0..n), the first captured bytes of a server read or write that begins
 * (if framing holds) a response's first packet: sequence id 1, an OK,
 * ERR, EOF, LOCAL INFILE or column-count packet of a plausible size, and
 * the packet after it (when captured) plausible too.  The point where a
 * server direction whose framing was lost takes it up again. */
int my_is_response_start(const uint8_t *p, size_t n, uint64_t len);

#endif
