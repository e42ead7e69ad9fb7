/* redact_h2.h - masking credentials in HTTP/2 header blocks before they
 * reach the disk.
 *
 * HTTP/2 headers are HPACK-coded: a credential is a literal string
 * (raw or Huffman-coded) in a HEADERS or CONTINUATION frame, its name
 * literal or taken from a table.  The recorder follows each connection's
 * frames with the analyzer's own frame layer (analyze/proto/h2frame.c) and
 * each direction's HPACK table with the analyzer's decoder (hpack.c),
 * decodes every header block as the peer did, and masks in place:
 *  - the value of every header whose name the HTTP/1 rules call secret
 *    (authorization, cookie, set-cookie, x-api-key, names with token...);
 *  - in :path, the values of secret query, fragment and matrix
 *    parameters (the HTTP/1 rules for a request target);
 *  - anywhere in a header value, a value masked before on the connection;
 *  - in DATA, every byte the recorder kept but the 5-byte prefixes of gRPC
 *    messages (grpc_walk.h): the analyzer reads bodies' sizes and gRPC's
 *    framing, never their content, and a body's first bytes can hold a
 *    password (a form, a protobuf field).
 * A masked string keeps its encoded and its decoded length (the tables'
 * sizes stay the peers', so the analyzer decodes every later block of the
 * capture as the peers did); the analyzer shows such a value as redacted.
 *
 * What cannot be decoded is masked whole: a block with bytes not captured,
 * or any block after the recorder lost the connection's HPACK state (a
 * block not captured, the framing lost) has every literal value it can
 * still find masked, and the rest of the block after a point it cannot
 * parse.  The analyzer cannot decode those either (it loses what the
 * recorder lost), so nothing of use is taken from it.
 *
 * A header block may span reads: the payloads it lies in must stay
 * writable until the block ends, which the recorder's batch guarantees
 * until it settles (BZ_REDACT_F_HOLD, redact.h); a settle in the middle of
 * a block masks what it holds of it whole.
 */
#ifndef BEYLA_RECORD_REDACT_H2_H
#define BEYLA_RECORD_REDACT_H2_H

#include <stddef.h>
#include <stdint.h>

struct rd_h2;
struct bz_redact;

int rd_h2_new(struct rd_h2 **out, int hold);
void rd_h2_free(struct rd_h2 **hp);

/* One DATA record's payload (struct bz_ev_ranges, then the pieces) of a
 * read (dir 0) or write (dir 1) of ret bytes on conn.  Returns the bytes
 * it masked. */
size_t rd_h2_data(struct rd_h2 *h, struct bz_redact *r, uint64_t conn, unsigned dir, int64_t ret,
		  uint64_t ts, uint8_t *payload, size_t caplen);
/* A plain DATA record (not frame by frame) of a read or write of ret bytes
 * on conn: when it may be a piece of a client preface that the kernel saw
 * in several reads or writes (bpf/h2.bpf.h h2_preface_more: it goes frame
 * by frame only once the whole preface came), its bytes go to the
 * connection's frame layer, so that the frames after the preface are read
 * from their first byte.  Anything else is left alone. */
void rd_h2_plain(struct rd_h2 *h, uint64_t conn, unsigned dir, int64_t ret, const uint8_t *payload,
		 size_t caplen);
/* Held payloads are about to move or go: blocks in the middle are masked. */
void rd_h2_settle(struct rd_h2 *h);
void rd_h2_forget(struct rd_h2 *h, uint64_t conn);
/* conn was open before it was first seen (BZ_ROLE_PREEXISTING): if its
 * bytes turn out to be HTTP/2, the tables its blocks refer to went by
 * unseen, so no block of it is decoded; each is masked whole (as the
 * analyzer, which knows the role too, reports it lost). */
void rd_h2_joined(struct rd_h2 *h, uint64_t conn);

struct rd_h2_stats {
	uint64_t blocks;         /* header blocks seen */
	uint64_t fields_masked;  /* header values masked, whole or in part */
	uint64_t blocks_whole;   /* blocks filled whole: not decodable */
	uint64_t lost;           /* blocks not decoded (cut, after a loss) */
	uint64_t data_masked;    /* DATA bytes masked (all but gRPC prefixes) */
	uint64_t streams_unkept; /* streams not followed (limit): their DATA masked whole */
	uint64_t values_unkept;  /* masked values not looked for again (per-connection limit) */
};
void rd_h2_get_stats(const struct rd_h2 *h, struct rd_h2_stats *out);

#endif
