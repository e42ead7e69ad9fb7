/* redact.h - masks credentials in captured payloads before they reach the
 * capture file.
 *
 * `beyla record` keeps the first --snaplen bytes of every socket read and
 * write.  For HTTP/1 traffic those bytes hold Authorization headers, cookies,
 * API keys in query strings and passwords in form bodies.  The recorder hands
 * every event to bz_redact_event() (or, for its own copy of a record,
 * bz_redact_event_in_place()) before it is written; the redactor follows
 * each connection and direction as a byte stream and overwrites the VALUE
 * bytes of credential-looking headers and parameters with BZ_REDACT_FILL, in
 * place.  Nothing is inserted or removed: payload lengths, caplen, ret and
 * every offset stay exactly what the kernel reported, and CR and LF bytes are
 * never touched, so the analyzer frames messages exactly as without
 * redaction.
 *
 * What is masked (names compared case-insensitively, ignoring '-', '_', '.'
 * and other punctuation, so X-Api-Key, x_api_key and apiKey are one name):
 *  - header values: Authorization, Proxy-Authorization, Cookie, Set-Cookie,
 *    X-Api-Key, X-Auth-Token, X-Csrf-Token, and any header whose name
 *    contains password, passwd, passphrase, secret, token, credential,
 *    apikey, accesskey, privatekey, signature, session, sessid, cookie,
 *    csrf, xsrf, authorization, oauth, bearer or jwt, or is (with an
 *    optional "X-" prefix) key, sig, pwd, pass, auth, otp or sid; plus the
 *    --redact-header names;
 *  - parameter values, by the same rules, plus the --redact-param names: in
 *    the query string, #fragment and ;matrix parameters of a request target
 *    and of the URL in a Referer, Location or Content-Location header, and
 *    in request bodies sent as application/x-www-form-urlencoded (or with
 *    no Content-Type at all);
 *  - in JSON bodies (a Content-Type with "json" in it, requests and
 *    responses, Content-Length or chunked), the value of every key named
 *    by the same rules: a string without its quotes, a number or literal,
 *    and for an object or array every scalar inside it (its structure
 *    stays); key escapes (\u0077) are decoded before the name is judged.
 *    After uncaptured bytes inside a JSON body the rest of it is masked.
 *    Not covered: multipart/form-data parts, secrets in URL paths, and
 *    bodies whose type is not declared as JSON.
 * The whole value is masked (for Authorization, the scheme too); leading
 * whitespace and header names stay.
 *
 * Streams.  State is kept per (conn_id, direction) only while a stream is
 * in the middle of something (a header line, a body of known length, a
 * parameter value): a stream that ends a read between messages is idle,
 * which is exactly the state of a stream never seen, so its entry is
 * dropped.  A header name or parameter name split across reads is kept up to
 * BZ_REDACT_NAME_MAX bytes; a longer name counts as sensitive.  Entries are
 * also dropped on CONN_CLOSE.
 *
 * Uncaptured bytes.  When a read moved more than it captured (ret > caplen),
 * the bytes after caplen were never seen.  Their count is known, so body
 * lengths stay exact; but inside headers the line boundaries are lost, so
 * the next read's first line is treated as the unseen rest of a sensitive
 * value: masked up to its end of line if it is text, unless it begins a new
 * request or status line.  Form parameters are then also looked for on
 * every non-header line until the next message starts.
 *
 * Bounded memory and the conservative fallback.  At most max_streams
 * entries exist.  A stream that needs one when the table is full is marked
 * in a fixed bitmap (by hash, never unmarked); from then on every read of a
 * marked stream that has no entry is handled as if it followed uncaptured
 * bytes (above): the rest of the first line is masked if it is text and not
 * a start line, and form parameters are looked for on every line.  Nothing
 * is unmasked because memory ran out; some bytes may be masked needlessly.
 *
 * Resynchronisation.  A read or write that starts with a request or status
 * line while a body is expected starts a new message (events lost in a full
 * ring buffer would otherwise leave the stream inside a body it never sees).
 * Within a read, a request or status line is recognised at every line start
 * outside a body, and at the first byte of a body (a response to HEAD has a
 * Content-Length but no body).  BZ_REDACT_F_EXACT turns the per-read check
 * off, so the result never depends on how a stream was cut into reads
 * (used by the tests and the fuzzer to compare split and unsplit streams).
 *
 * Values that come back.  Every value masked on a connection is also
 * masked wherever it appears again on that connection, in either
 * direction, until it closes: a token repeated in a redirect's Location, a
 * field echoed in a page (record/redact_echo.h: how, and its limits).
 *
 * HTTP/2.  Reads and writes of HTTP/2 sockets are recorded as pieces
 * (BZ_SYS_F_RANGES: frame headers, header blocks whole, DATA's first
 * bytes) and masked by HPACK, per connection: record/redact_h2.h.  So are
 * those of an HTTP/1.1 connection upgraded to h2c from its 101 on (the
 * head masked as HTTP/1), and of a connection joined mid-way whose bytes
 * are frames: its HPACK tables went by unseen, so each of its header
 * blocks is masked whole.
 *
 * Databases.  A connection whose first bytes are PostgreSQL's, MySQL's or
 * Redis's wire protocol is masked by that protocol's rules instead
 * (record/redact_wire.h: SQL literals, bound values, rows, passwords,
 * command arguments).
 *
 * Not handled: TLS ciphertext (passed untouched: the plaintext from the
 * TLS library probes is masked), multipart bodies, secrets in URL paths,
 * and events the kernel dropped inside a header line (the recorder
 * reports drops).
 */
#ifndef BEYLA_RECORD_REDACT_H
#define BEYLA_RECORD_REDACT_H

#include <stddef.h>
#include <stdint.h>

#define BZ_REDACT_FILL '*'
#define BZ_REDACT_NAME_MAX 64         /* bytes of a header/param name kept across reads */
#define BZ_REDACT_STREAMS_DEFAULT 16384u

/* bz_redact_new flags */
#define BZ_REDACT_F_EXACT 0x1u /* never resynchronise at read boundaries */
/* every byte through the state machine: no whole-line fast path (the
 * tests and the fuzzer compare the two; the result must be the same) */
#define BZ_REDACT_F_BYTEWISE 0x2u
/* the caller keeps every payload given to bz_redact_data writable until
 * bz_redact_settle(): a value cut over two payloads that comes back is
 * masked in both (without it, a payload's tail that could begin a value is
 * masked at once) */
#define BZ_REDACT_F_HOLD 0x4u
/* no masking of values where they come back (redact_echo): for tests that
 * compare a stream cut into reads with the same stream in one read, which
 * values learned from the other direction would tell apart */
#define BZ_REDACT_F_NO_ECHO 0x8u
/* HTTP's rules only, no database masker (redact_wire.h): for the tests
 * and the fuzzer of the HTTP rules, whose made-up streams may begin as a
 * database's do */
#define BZ_REDACT_F_HTTP_ONLY 0x10u

struct bz_redact;

struct bz_redact_stats {
	uint64_t bytes;      /* payload bytes replaced by BZ_REDACT_FILL */
	uint64_t events;     /* DATA events with at least one byte replaced */
	uint64_t fallbacks;  /* reads handled conservatively for lack of an entry */
	uint64_t dropped;    /* states that found the table full (their streams are marked) */
	uint64_t gaps;       /* reads that moved more than they captured, inside a message */
	uint32_t streams;    /* entries in use now */
	uint32_t streams_hw; /* most entries ever in use */
	uint64_t echo_values;  /* masked values (and parts) looked for where they may come back */
	uint64_t echo_unkept;  /* masked values not kept for that: per-connection or memory limit */
	uint64_t echo_bytes;   /* bytes masked where a value came back (or may have begun) */
	uint64_t echo_hits;    /* values found again */
	uint64_t echo_settled; /* payload tails masked because they may begin a value */
	uint64_t h2_blocks;       /* HTTP/2 header blocks seen */
	uint64_t h2_fields;       /* ... header values masked in them */
	uint64_t h2_blocks_whole; /* ... blocks filled whole, not decodable */
	uint64_t h2_data_bytes;   /* HTTP/2 DATA bytes masked (all but gRPC prefixes) */
	uint64_t h2_values_unkept;/* HTTP/2 masked values not looked for again (limit) */
	/* database connections (redact_wire.h) */
	uint64_t db_conns_pgsql, db_conns_mysql, db_conns_redis; /* connections masked by their protocol */
	uint64_t db_bytes;        /* bytes masked in them */
	uint64_t db_unkept;       /* payloads of connections not remembered (table full) */
};

/* Creates a redactor with the default names.  max_streams: entries kept at
 * most (0: BZ_REDACT_STREAMS_DEFAULT); flags: BZ_REDACT_F_*.  Returns 0 or
 * -ENOMEM; *out is untouched on failure. */
int bz_redact_new(struct bz_redact **out, uint32_t max_streams, unsigned flags);
/* Accepts NULL; clears *rp. */
void bz_redact_free(struct bz_redact **rp);
/* 1 if NAME can be given to --redact-header / --redact-param: 1 to
 * BZ_REDACT_NAME_MAX printable bytes, no space, ':', '=', '&', '?' or '#'. */
int bz_redact_name_ok(const char *name);
/* Adds a header (or parameter) name to mask.  0, -EINVAL (bad name) or -ENOMEM. */
int bz_redact_add_header(struct bz_redact *r, const char *name);
int bz_redact_add_param(struct bz_redact *r, const char *name);
/* bz_redact_new with BZ_REDACT_F_HOLD and default limits plus the given
 * extra names; what the recorder calls (it settles before writing a batch
 * of events out).  0, -EINVAL or -ENOMEM. */
int bz_redact_setup(struct bz_redact **out, const char *const *headers, int nheaders,
		    const char *const *params, int nparams);

/* Or'ed into dir: the plaintext of a TLS connection (Go crypto/tls), a
 * stream of its own, apart from the ciphertext its socket carries. */
#define BZ_REDACT_PLAINTEXT 2u

/* Masks one captured payload in place: p holds the first caplen bytes of a
 * read (dir BZ_DIR_IN) or write (BZ_DIR_OUT) of ret bytes on conn_id.
 * ret <= 0 means nothing moved.  Returns the number of bytes replaced. */
size_t bz_redact_data(struct bz_redact *r, uint64_t conn_id, unsigned dir, uint8_t *p,
		      size_t caplen, int64_t ret);
/* Forgets every stream of conn_id (its CONN_CLOSE), and the values masked
 * on it. */
void bz_redact_forget(struct bz_redact *r, uint64_t conn_id);
/* With BZ_REDACT_F_HOLD: the payloads given so far are about to be written
 * out or moved; a tail that could begin a value is masked now. */
void bz_redact_settle(struct bz_redact *r);

/* What the recorder calls for every event record of `size` bytes, as read
 * from the ring buffer (which user space may not write).  Returns ev itself,
 * or for a DATA record a masked copy in the redactor's own buffer, valid
 * until the next call; a CONN_CLOSE record also forgets its connection.
 * With r == NULL (--no-redact) returns ev.  Never fails (the copy buffer is
 * allocated by bz_redact_new, large enough for any record). */
void *bz_redact_event(struct bz_redact *r, void *ev, size_t size);
/* The same on a record the caller may write (its own copy): a DATA record
 * is masked where it is, a CONN_CLOSE record forgets its connection, others
 * are left alone.  Saves the copy when the caller copies the record anyway. */
void bz_redact_event_in_place(struct bz_redact *r, void *ev, size_t size);

void bz_redact_get_stats(const struct bz_redact *r, struct bz_redact_stats *out);

/* Masks credentials in a command line in place: args[0..n), argv joined
 * by NUL (as /proc/PID/cmdline).  The name rules above decide, on
 * "Name: value" (a header, curl -H), "--name=value" and "name=value",
 * "--name VALUE", the password of "-u/--user USER:PASSWORD", and in a URL
 * its secret parameters and its userinfo's password.  Returns the bytes
 * masked.  r NULL: nothing (--no-redact). */
size_t bz_redact_argv(struct bz_redact *r, char *args, size_t n);

/* For record/redact_h2.c: the HTTP/1 rules on HTTP/2's header fields. */
enum { BZ_REDACT_HDR_OTHER = 0, BZ_REDACT_HDR_SECRET, BZ_REDACT_HDR_URL };
/* What a header's name makes of its value: masked whole (SECRET), its URL
 * parameters looked into (URL: Referer, Location...), or nothing. */
int bz_redact_header_class(struct bz_redact *r, const char *name, size_t len);
#define BZ_REDACT_URL_MAX 8192u
/* which[i] = 1 for each octet of url[0..n) that the rules for a request
 * target mask (secret query, fragment and matrix parameters); others left
 * alone.  1 if any.  A URL longer than BZ_REDACT_URL_MAX: 0. */
int bz_redact_url_secrets(struct bz_redact *r, const uint8_t *url, size_t n, uint8_t *which);

#endif
