/* hpack.h - HPACK (RFC 7541) header block decoding for HTTP/2, with the
 * place of every string in the block.
 *
 * Two users: the analyzer (analyze/proto/http2.c) decodes requests and
 * responses from a capture; the recorder (record/) decodes the same
 * blocks before they reach the disk, to find the values of credential
 * headers and mask them in place.  A masked value keeps its encoded length
 * (the frame's bytes stay where they are) and its decoded length (the
 * dynamic table's sizes, which count decoded octets, stay what the peers
 * had: otherwise every later block of the connection would decode wrong),
 * so the analyzer decodes the masked capture as the peers decoded the
 * original, but for the masked values.
 *
 * One context per direction of a connection (each endpoint's encoder has
 * its own table).  A context whose input was lost (a block not captured
 * whole, a malformed one) is marked unusable: later blocks may refer to
 * entries it never saw, so it decodes nothing more, and says so.
 */
#ifndef BEYLA_HPACK_H
#define BEYLA_HPACK_H

#include <stddef.h>
#include <stdint.h>

#define BZ_HPACK_TABLE_DEFAULT 4096u   /* SETTINGS_HEADER_TABLE_SIZE's initial value */
#define BZ_HPACK_STRING_MAX (64u << 10) /* a longer string is refused (malformed) */

enum bz_hpack_repr {
	BZ_HPACK_INDEXED = 0,      /* 6.1: name and value from a table */
	BZ_HPACK_INCREMENTAL = 1,  /* 6.2.1: literal, added to the dynamic table */
	BZ_HPACK_WITHOUT = 2,      /* 6.2.2: literal, not indexed */
	BZ_HPACK_NEVER = 3,        /* 6.2.3: literal, never indexed (sensitive) */
};

/* One decoded field.  name/value point into the decoder's own memory or
 * the block (valid during the callback, never NULL); they are the decoded
 * octets (Huffman undone), not NUL-terminated.  For a literal string,
 * *_off is the offset in the block of its first octet after the length
 * prefix, *_enc_len the octets it takes there, *_huffman whether they are
 * Huffman-coded; for a name or value taken from a table, *_enc_len is 0. */
struct bz_hpack_field {
	const uint8_t *name, *value;
	uint32_t name_len, value_len;
	uint32_t name_off, name_enc_len;
	uint32_t value_off, value_enc_len;
	uint8_t name_huffman, value_huffman;
	uint8_t repr;      /* enum bz_hpack_repr */
	uint8_t masked;    /* the value is what bz_hpack_mask_string() writes (analyzer);
	                    * also for a value indexed from an entry such a literal
	                    * added; never for an empty value */
};

/* Return 0 to go on, non-zero to stop decoding the block (the context is
 * then unusable: the rest of the block's table updates were not applied). */
typedef int (*bz_hpack_field_cb)(void *user, const struct bz_hpack_field *f);

struct bz_hpack;

/* max: the table size limit the decoding endpoint announced (its
 * SETTINGS_HEADER_TABLE_SIZE), BZ_HPACK_TABLE_DEFAULT until a SETTINGS
 * says otherwise.  0 or -ENOMEM. */
int bz_hpack_new(struct bz_hpack **out, uint32_t max);
void bz_hpack_free(struct bz_hpack **hp); /* accepts NULL; clears *hp */
/* The decoding endpoint's SETTINGS_HEADER_TABLE_SIZE changed (it bounds the
 * size updates the encoder may send, 6.3 and 4.2).  Call it when the new
 * value takes effect (its SETTINGS acknowledged): a lower one evicts at
 * once, as the encoder's next size update would. */
void bz_hpack_set_max(struct bz_hpack *h, uint32_t max);
/* The dynamic table's size now (4.1: the entries' octets, plus 32 each). */
uint32_t bz_hpack_table_size(const struct bz_hpack *h);

/* Decodes one complete header block (the fragments of a HEADERS or
 * PUSH_PROMISE frame and its CONTINUATION frames, joined, padding and
 * priority fields removed), calling cb for each field in order and
 * updating the dynamic table.  Returns 0, -EINVAL for a malformed block or
 * one that refers to an entry that does not exist (the context becomes
 * unusable), -EPIPE when the context was unusable already (cb not
 * called), -ENOMEM, or -ECANCELED when cb stopped it. */
int bz_hpack_decode(struct bz_hpack *h, const uint8_t *block, size_t n, bz_hpack_field_cb cb, void *user);

/* A block of this context went by without being decoded (not captured
 * whole): later blocks cannot be trusted. */
void bz_hpack_lose(struct bz_hpack *h);
int bz_hpack_usable(const struct bz_hpack *h);

/* Rewrites the enc_len octets of a string in place so that it decodes to
 * decoded_len octets of redaction: '*' bytes for a raw string; for a
 * Huffman one, a run of symbols (mostly '*') whose codes fill the same
 * octets, with valid padding.  Always possible for a string a valid block
 * held (every Huffman code is 5 to 30 bits).  Returns 0, or -EINVAL when
 * no such run exists (enc_len and decoded_len cannot come from one
 * string: the octets are then set to a raw-looking fill anyway). */
int bz_hpack_mask_string(uint8_t *octets, uint32_t enc_len, uint32_t decoded_len, int huffman);
/* Masks some octets of a string's decoded form in place of its encoding:
 * decoded[0..decoded_len) is what the enc_len octets decode to, which[i]
 * says whether decoded octet i is to be hidden.  A raw string gets '*'
 * there; a Huffman one is encoded again, the octets kept with their own
 * codes and the hidden ones as mask symbols sized so that the whole still
 * fills enc_len octets and decodes to decoded_len (the table's sizes stay
 * the peers').  (A secret inside a value: a token in a :path's query.)
 * 0, or -EINVAL when it cannot be done (then mask the whole string). */
int bz_hpack_mask_bytes(uint8_t *octets, uint32_t enc_len, const uint8_t *decoded, uint32_t decoded_len,
			const uint8_t *which, int huffman);
/* Is value[0..len) what bz_hpack_mask_string writes for a string of enc_len
 * octets (huffman or not)?  The analyzer shows such a value as redacted. */
int bz_hpack_is_masked(const uint8_t *value, uint32_t len, uint32_t enc_len, int huffman);

/* Huffman decoding alone (5.2): dst gets at most cap octets.  Returns the
 * decoded length, or -EINVAL (an EOS symbol, padding longer than 7 bits or
 * not all ones, or cap too small). */
long bz_hpack_huffman_decode(const uint8_t *src, size_t n, uint8_t *dst, size_t cap);

#endif
