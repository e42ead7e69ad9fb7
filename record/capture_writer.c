/* capture_writer.c - turns blocks into a capture file of independent zstd
 * frames (see docs/capture-format.md and capture_writer.h).
 *
 * Blocks are framed (type | total_len | body | total_len) straight into one
 * growable buffer.  bz_writer_flush() compresses the whole buffer as one zstd
 * frame (content checksum on, content size in the frame header) and write()s
 * it out in ZSTD_CStreamOutSize() pieces, so memory stays bounded by
 * BZ_WRITER_FRAME_MAX (or one block, if a block is larger) plus one output
 * chunk.
 *
 * Error model.  The first failing write() ends output for good: the file is
 * ftruncate()d back to the end of the last complete frame so it stays a valid
 * (if cut short) capture, the error is kept as a sticky negative errno, and
 * every later bz_writer_block()/bz_writer_flush() returns it at once.  END
 * blocks handed in after the error, or lost in the failed frame, are kept
 * aside: bz_writer_close() tries once to append the last of them in a tiny
 * final frame when the error means "out of space" (ENOSPC, EDQUOT, EFBIG),
 * because truncating the failed frame usually freed enough room for it.
 *
 * Errors that do not touch the file (a block over BZ_BLOCK_MAX: -EMSGSIZE;
 * no memory for the buffer: -ENOMEM) are returned to the caller and
 * remembered for bz_writer_close()/bz_writer_error(), but do not stop output.
 *
 * bz_writer_new() leaves both *out and the fd alone on failure: the caller
 * still owns the fd then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "record/capture_format.h"
#include "record/capture_writer.h"

struct bz_writer {
	int fd;
	ZSTD_CCtx *cctx;
	uint8_t *buf;    /* framed blocks not yet compressed */
	size_t len, cap;
	uint8_t *out;    /* one piece of compressed output */
	size_t out_cap;
	uint8_t *end_blk; /* last END block seen once output had stopped */
	size_t end_len;
	uint64_t raw_bytes;  /* uncompressed bytes accepted (framing included) */
	uint64_t file_bytes; /* bytes in complete frames written by us */
	off_t base;          /* file offset of our first byte (-1: not seekable) */
	int err;             /* sticky write error: output has stopped */
	int first_err;       /* first error of any kind */
};

/* ---- bz_buf: little-endian TLV builder ---------------------------------- */

static int buf_reserve(struct bz_buf *b, size_t n)
{
	if (b->err)
		return b->err;
	if (n <= b->cap - b->len)
		return 0;
	if (n > SIZE_MAX / 2 - b->len) {
		b->err = -ENOMEM;
		return b->err;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void bz_buf_reset(struct bz_buf *b)
{
	b->len = 0;
	b->err = 0;
}

void bz_buf_free(struct bz_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void bz_buf_put(struct bz_buf *b, const void *p, size_t n)
{
	if (!n || buf_reserve(b, n))
		return;
	if (p)
		memcpy(b->data + b->len, p, n);
	else
		memset(b->data + b->len, 0, n);
	b->len += n;
}

static void put_le(uint8_t *d, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void bz_buf_put_u16(struct bz_buf *b, uint16_t v)
{
	uint8_t d[2];
	put_le(d, v, 2);
	bz_buf_put(b, d, sizeof(d));
}

void bz_buf_put_u32(struct bz_buf *b, uint32_t v)
{
	uint8_t d[4];
	put_le(d, v, 4);
	bz_buf_put(b, d, sizeof(d));
}

void bz_buf_put_u64(struct bz_buf *b, uint64_t v)
{
	uint8_t d[8];
	put_le(d, v, 8);
	bz_buf_put(b, d, sizeof(d));
}

/* u16 code | u16 reserved (0) | u32 len | value; no padding. */
void bz_buf_opt(struct bz_buf *b, uint16_t code, const void *p, uint32_t n)
{
	uint8_t d[8];
	put_le(d, code, 2);
	put_le(d + 2, 0, 2);
	put_le(d + 4, n, 4);
	if (buf_reserve(b, sizeof(d) + (size_t)n))
		return;
	bz_buf_put(b, d, sizeof(d));
	bz_buf_put(b, p, n);
}

void bz_buf_opt_str(struct bz_buf *b, uint16_t code, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	if (n > UINT32_MAX) {
		if (!b->err)
			b->err = -EOVERFLOW;
		return;
	}
	bz_buf_opt(b, code, s, (uint32_t)n);
}

void bz_buf_opt_u32(struct bz_buf *b, uint16_t code, uint32_t v)
{
	uint8_t d[4];
	put_le(d, v, 4);
	bz_buf_opt(b, code, d, sizeof(d));
}

void bz_buf_opt_u64(struct bz_buf *b, uint16_t code, uint64_t v)
{
	uint8_t d[8];
	put_le(d, v, 8);
	bz_buf_opt(b, code, d, sizeof(d));
}

/* ---- the writer ---------------------------------------------------------- */

static int note_err(struct bz_writer *w, int err)
{
	if (!w->first_err)
		w->first_err = err;
	return err;
}

int bz_writer_new(struct bz_writer **out, int fd, int level)
{
	if (fd < 0 || level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return -EINVAL;
	struct bz_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	int rc = -ENOMEM;
	w->fd = fd;
	w->out_cap = ZSTD_CStreamOutSize();
	w->out = malloc(w->out_cap);
	w->cctx = ZSTD_createCCtx();
	if (!w->out || !w->cctx)
		goto fail;
	rc = -EINVAL;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1)))
		goto fail;
	/* Not seekable (a pipe): truncation after an error is impossible, but
	 * the stream still ends on a frame boundary unless a write was cut. */
	w->base = lseek(fd, 0, SEEK_CUR);
	*out = w;
	return 0;
fail:
	ZSTD_freeCCtx(w->cctx);
	free(w->out);
	free(w);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Cuts the file back to the end of the last complete frame. */
static void truncate_to_frame(struct bz_writer *w)
{
	if (w->base < 0)
		return;
	off_t end = w->base + (off_t)w->file_bytes;
	while (ftruncate(w->fd, end) < 0 && errno == EINTR)
		;
	lseek(w->fd, end, SEEK_SET);
}

/* Compresses src into one complete frame and writes it.  On failure the
 * file is cut back to the previous frame end and the compressor reset. */
static int write_frame(struct bz_writer *w, const uint8_t *src, size_t n)
{
	ZSTD_inBuffer in = { src, n, 0 };
	uint64_t written = 0;
	int rc = 0;
	if (ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(w->cctx, n)))
		rc = -EINVAL;
	for (size_t left = 1; !rc && left;) {
		ZSTD_outBuffer out = { w->out, w->out_cap, 0 };
		left = ZSTD_compressStream2(w->cctx, &out, &in, ZSTD_e_end);
		if (ZSTD_isError(left)) {
			rc = ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
			break;
		}
		rc = write_all(w->fd, w->out, out.pos);
		written += out.pos;
	}
	if (rc) {
		ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
		truncate_to_frame(w);
		return rc;
	}
	w->file_bytes += written;
	return 0;
}

/* Keeps a copy of the last END block among the framed blocks in p[0..n),
 * which this writer framed itself, so the framing is trusted. */
static void keep_end_blocks(struct bz_writer *w, const uint8_t *p, size_t n)
{
	for (size_t off = 0; n - off >= BZ_BLOCK_OVERHEAD;) {
		uint32_t type = get_le32(p + off);
		uint32_t tlen = get_le32(p + off + 4);
		if (tlen < BZ_BLOCK_OVERHEAD || tlen > n - off)
			break;
		if (type == BZ_BLK_END) {
			uint8_t *c = malloc(tlen);
			if (c) {
				memcpy(c, p + off, tlen);
				free(w->end_blk);
				w->end_blk = c;
				w->end_len = tlen;
			}
		}
		off += tlen;
	}
}

int bz_writer_flush(struct bz_writer *w)
{
	if (w->err)
		return w->err;
	if (!w->len)
		return 0;
	int rc = write_frame(w, w->buf, w->len);
	if (rc) {
		w->err = rc;
		note_err(w, rc);
		keep_end_blocks(w, w->buf, w->len);
	}
	w->len = 0;
	return rc;
}

int bz_writer_block(struct bz_writer *w, uint32_t type, const void *body, size_t len)
{
	if (len > BZ_BLOCK_MAX - BZ_BLOCK_OVERHEAD)
		return note_err(w, -EMSGSIZE);
	if (len && !body)
		return note_err(w, -EINVAL);
	size_t tlen = len + BZ_BLOCK_OVERHEAD;
	uint8_t hd[8];
	put_le(hd, type, 4);
	put_le(hd + 4, tlen, 4);
	if (w->err) {
		if (type == BZ_BLK_END) {
			uint8_t *c = malloc(tlen);
			if (c) {
				memcpy(c, hd, 8);
				if (len)
					memcpy(c + 8, body, len);
				memcpy(c + 8 + len, hd + 4, 4);
				free(w->end_blk);
				w->end_blk = c;
				w->end_len = tlen;
			}
		}
		return w->err;
	}
	if (w->len && tlen > BZ_WRITER_FRAME_MAX - w->len) {
		int rc = bz_writer_flush(w);
		if (rc)
			return rc;
	}
	if (tlen > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 64 * 1024;
		while (cap - w->len < tlen)
			cap *= 2;
		uint8_t *p = realloc(w->buf, cap);
		if (!p)
			return note_err(w, -ENOMEM);
		w->buf = p;
		w->cap = cap;
	}
	uint8_t *d = w->buf + w->len;
	memcpy(d, hd, 8);
	if (len)
		memcpy(d + 8, body, len);
	memcpy(d + 8 + len, hd + 4, 4);
	w->len += tlen;
	w->raw_bytes += tlen;
	if (w->len >= BZ_WRITER_FRAME_MAX)
		return bz_writer_flush(w);
	return 0;
}

uint64_t bz_writer_raw_bytes(const struct bz_writer *w)
{
	return w ? w->raw_bytes : 0;
}

uint64_t bz_writer_file_bytes(const struct bz_writer *w)
{
	return w ? w->file_bytes : 0;
}

int bz_writer_error(const struct bz_writer *w)
{
	return w ? w->first_err : 0;
}

static int out_of_space(int err)
{
	return err == -ENOSPC || err == -EDQUOT || err == -EFBIG;
}

int bz_writer_close(struct bz_writer **wp)
{
	struct bz_writer *w = wp ? *wp : NULL;
	if (!w)
		return 0;
	*wp = NULL;
	bz_writer_flush(w);
	if (out_of_space(w->err) && w->end_blk) {
		/* Last chance: the END block alone in a small frame.  Its
		 * failure changes nothing (write_frame truncates again). */
		write_frame(w, w->end_blk, w->end_len);
	}
	if (close(w->fd) < 0 && errno != EINTR)
		note_err(w, -errno);
	int rc = w->first_err;
	ZSTD_freeCCtx(w->cctx);
	free(w->buf);
	free(w->out);
	free(w->end_blk);
	free(w);
	return rc;
}
