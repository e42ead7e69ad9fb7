/* redact_echo.h - secrets that come back: a value the redactor masked on a
 * connection is masked again wherever it reappears on that connection, in
 * either direction, until the connection closes.
 *
 * A server repeats what it was sent: a token from the query string in a
 * redirect's Location (`302`, `Location: /login?next=/go%3Ftoken%3D...`), a
 * form field echoed in an HTML page, a session id in a JSON body.  Where it
 * comes back it is in no credential's place, so the state machine of
 * redact.c does not see it.  This module remembers the bytes that machine
 * masked (each value, and its parts: the token of "Bearer <token>", each
 * cookie's value, the percent-decoded form of a parameter) and looks for
 * them, byte for byte, in every later payload of the connection.
 *
 * Across reads.  A value may arrive cut over two writes.  The search state
 * (how much of each value the end of the stream so far matches) carries
 * over, and a match that completes in a later payload is masked back into
 * the earlier ones.  That needs those earlier payloads still writable: with
 * BZ_REDACT_F_HOLD the caller promises it until bz_redact_settle(); without
 * it, or when a hold must end (settle, uncaptured bytes, a close), a
 * payload's tail that could be the beginning of a value is masked at once:
 * something may be masked needlessly, nothing is left unmasked.
 *
 * Limits: values of fewer than BZ_REDACT_ECHO_MIN bytes are not looked for
 * (they would match ordinary text: a PIN in a Content-Length), at most
 * ECHO_VALS values per connection, ECHO_VAL_MAX bytes of each (a longer or
 * cut value, when found, is masked on to the next delimiter), and a memory
 * budget over all connections; values not kept are counted
 * (bz_redact_stats.echo_unkept).  Transformations other than percent-
 * decoding (HTML entities, JSON escapes, base64) are not followed.
 */
#ifndef BEYLA_RECORD_REDACT_ECHO_H
#define BEYLA_RECORD_REDACT_ECHO_H

#include <stddef.h>
#include <stdint.h>

#define BZ_REDACT_ECHO_MIN 6

struct rd_echo;

/* One masked run of a payload: off, len into the payload; the bytes as
 * they were before masking are at orig + off. */
struct rd_echo_run {
	uint32_t off, len;
};

struct rd_echo_stats {
	uint64_t values;      /* values (and parts of values) kept to look for */
	uint64_t unkept;      /* values not kept: per-connection or memory limit */
	uint64_t bytes;       /* bytes masked where a value came back */
	uint64_t hits;        /* values found again */
	uint64_t settled;     /* payload tails masked for lack of a hold */
};

/* hold: payloads stay writable until rd_echo_settle (BZ_REDACT_F_HOLD).
 * 0 or -ENOMEM. */
int rd_echo_new(struct rd_echo **out, int hold);
void rd_echo_free(struct rd_echo **ep);

/* The machine masked these runs in payload p[0..n) of stream (conn, s)
 * (s: direction | plaintext, 0..3); orig holds the bytes before masking.
 * gap_after: bytes after the payload were not captured. */
void rd_echo_learn(struct rd_echo *e, uint64_t conn, unsigned s, const uint8_t *orig,
		   const struct rd_echo_run *runs, uint32_t nruns, size_t n, int gap_after);
/* Masks every value of conn found in p[0..n) (and back into the stream's
 * held payloads when a match began there).  gap_after: as above.  Returns
 * the bytes of p masked. */
size_t rd_echo_scan(struct rd_echo *e, uint64_t conn, unsigned s, uint8_t *p, size_t n,
		    int gap_after);
/* Payloads handed over until now may change or go: tails that could begin
 * a value are masked, and nothing is held any more. */
void rd_echo_settle(struct rd_echo *e);
/* The connection closed: its values are forgotten (pending tails masked). */
void rd_echo_forget(struct rd_echo *e, uint64_t conn);
/* Does conn have anything to look for?  (Cheap: the common case is no.) */
int rd_echo_active(const struct rd_echo *e, uint64_t conn);
void rd_echo_get_stats(const struct rd_echo *e, struct rd_echo_stats *out);

#endif
