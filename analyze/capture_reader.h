/* capture_reader.h - the one reader of capture files, used by `beyla info`
 * and by the analyzer.  Reads from a file or from memory, decompresses frame
 * by frame, and hands out blocks one at a time, checking every length
 * against its container.  Memory use is bounded by the largest block.
 *
 *   struct bz_reader *r; struct bz_block b;
 *   bz_reader_open_file(&r, path);
 *   while ((rc = bz_reader_next(r, &b)) == 1) { ... b.type, b.body, b.len ... }
 *   rc == 0: clean end of input; rc < 0: error (see bz_reader_status()).
 *   bz_reader_free(&r);
 */
#ifndef BEYLA_CAPTURE_READER_H
#define BEYLA_CAPTURE_READER_H

#include <stddef.h>
#include <stdint.h>
#include "../record/capture_format.h"

enum bz_read_status {
	BZ_READ_OK = 0,
	BZ_READ_NOT_CAPTURE = -1, /* first block is not a beyla HEADER */
	BZ_READ_TOO_NEW = -2,     /* format major version newer than this reader */
	BZ_READ_TRUNCATED = -3,   /* input ends inside a frame or block */
	BZ_READ_CORRUPT = -4,     /* zstd error, bad block framing or length */
	BZ_READ_IO = -5,          /* read error on the file */
	BZ_READ_NOMEM = -6,
};

struct bz_block {
	uint32_t type;
	uint32_t len;        /* body length */
	const uint8_t *body; /* valid until the next bz_reader_next() */
	uint64_t offset;     /* offset of the block in the decompressed stream */
};

struct bz_reader;

int bz_reader_open_file(struct bz_reader **out, const char *path);
/* The memory must outlive the reader. */
int bz_reader_open_mem(struct bz_reader **out, const void *data, size_t len);
/* 1: a block; 0: end of input; <0: enum bz_read_status.  The HEADER block is
 * validated (magic, major version) before it is returned. */
int bz_reader_next(struct bz_reader *r, struct bz_block *b);
/* Human description of the last error, with the compressed byte offset of the
 * last good frame boundary ("truncated at byte 12345 (after 3 complete frames)"). */
const char *bz_reader_errmsg(const struct bz_reader *r);
uint64_t bz_reader_compressed_offset(const struct bz_reader *r); /* consumed so far */
uint64_t bz_reader_frames(const struct bz_reader *r);            /* complete frames */
void bz_reader_free(struct bz_reader **rp);

/* TLV iteration over a metadata body. Returns 1 with *code,*val,*len set,
 * 0 at the end, -1 if an option's length overruns the body. */
struct bz_tlv_iter { const uint8_t *p, *end; };
void bz_tlv_init(struct bz_tlv_iter *it, const void *p, size_t len);
int bz_tlv_next(struct bz_tlv_iter *it, uint16_t *code, const uint8_t **val, uint32_t *len);
/* Copies an option value into dst (cap >= 1 bytes) as a C string: NULs
 * become spaces (argv lists), trailing spaces are dropped, the rest is cut
 * to fit.  Other bytes are kept as they are. */
void bz_tlv_text(char *dst, size_t cap, const uint8_t *v, uint32_t n);

/* Iteration over the records of an EVENTS block. Returns 1 with *hdr pointing
 * at a record of at least sizeof(struct bz_ev_hdr) bytes that lies inside the
 * block, 0 at the end, -1 on a bad record size (the rest is skipped). */
struct bz_ev_hdr;
struct bz_ev_iter { const uint8_t *p, *end; uint32_t left; };
int bz_ev_iter_init(struct bz_ev_iter *it, const struct bz_block *b);
int bz_ev_iter_next(struct bz_ev_iter *it, const struct bz_ev_hdr **hdr);
/* Copies a record returned by bz_ev_iter_next() into dst (e.g. a struct
 * bz_ev_data on the stack) so its fields can be read aligned: records need
 * not be 8-byte aligned in the block.  Copies min(record size, dst_size)
 * bytes and zeroes the rest of dst, so fields a record is too old to have
 * read as zero.  Returns the record's size. */
size_t bz_ev_copy(void *dst, size_t dst_size, const struct bz_ev_hdr *rec);

/* A DATA record with BZ_SYS_F_RANGES (HTTP/2 sockets, frame by frame):
 * its payload[0..caplen) holds a struct bz_ev_ranges and the pieces'
 * bytes.  Checks it against the record (pieces in order, not overlapping,
 * inside the ret bytes moved, their bytes all there) and copies the
 * pieces out: *n of them into r (BZ_RANGES_MAX slots), *data / *datalen
 * their bytes.  0, or -1 for a malformed one (then nothing is known of
 * the read or write). */
struct bz_ev_range;
int bz_ev_ranges(const uint8_t *payload, size_t caplen, int64_t ret, struct bz_ev_range *r, uint32_t *n,
		 const uint8_t **data, uint32_t *datalen, uint8_t *flags);

/* Little-endian loads that never read out of bounds of what was checked. */
static inline uint16_t bz_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t bz_le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static inline uint64_t bz_le64(const uint8_t *p) { return (uint64_t)bz_le32(p) | (uint64_t)bz_le32(p + 4) << 32; }

#endif
