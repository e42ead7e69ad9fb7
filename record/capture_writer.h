/* capture_writer.h - writes a capture file: blocks into zstd frames.
 *
 * The writer owns the output fd.  Blocks are appended to an in-memory
 * buffer; bz_writer_flush() compresses everything buffered into one
 * independent zstd frame and write()s it, so the file on disk always ends on
 * a frame boundary except while a write is in progress.  The recorder calls
 * flush at least once a second and whenever BZ_WRITER_FRAME_MAX is buffered.
 *
 * Errors are negative errno values.  After -ENOSPC (or any write error) the
 * writer truncates the file back to the end of the last complete frame, so
 * the file stays readable; bz_writer_close() then tries to append an END
 * block in a last small frame.
 */
#ifndef BEYLA_CAPTURE_WRITER_H
#define BEYLA_CAPTURE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define BZ_WRITER_FRAME_MAX (4u << 20)

struct bz_writer;

/* TLV builder used to compose block bodies. Grows as needed. */
struct bz_buf {
	uint8_t *data;
	size_t len, cap;
	int err; /* sticky -ENOMEM */
};
void bz_buf_reset(struct bz_buf *b);
void bz_buf_free(struct bz_buf *b);
void bz_buf_put(struct bz_buf *b, const void *p, size_t n);
void bz_buf_put_u16(struct bz_buf *b, uint16_t v);
void bz_buf_put_u32(struct bz_buf *b, uint32_t v);
void bz_buf_put_u64(struct bz_buf *b, uint64_t v);
void bz_buf_opt(struct bz_buf *b, uint16_t code, const void *p, uint32_t n);
void bz_buf_opt_str(struct bz_buf *b, uint16_t code, const char *s); /* NULL: nothing */
void bz_buf_opt_u32(struct bz_buf *b, uint16_t code, uint32_t v);
void bz_buf_opt_u64(struct bz_buf *b, uint16_t code, uint64_t v);

/* Takes ownership of fd (closed by bz_writer_close). level: zstd level. */
int bz_writer_new(struct bz_writer **out, int fd, int level);
/* Appends one block (type, body). May flush a frame when the buffer is full. */
int bz_writer_block(struct bz_writer *w, uint32_t type, const void *body, size_t len);
/* Compresses and writes everything buffered as one frame. No-op if empty. */
int bz_writer_flush(struct bz_writer *w);
/* Bytes handed to the writer (uncompressed, block framing included). */
uint64_t bz_writer_raw_bytes(const struct bz_writer *w);
/* Bytes on disk in complete frames. */
uint64_t bz_writer_file_bytes(const struct bz_writer *w);
/* Sticky first error (0 if none). */
int bz_writer_error(const struct bz_writer *w);
/* Flushes, closes the fd, frees; accepts NULL, clears *wp. Returns the
 * first error seen over the writer's life (0 if none). */
int bz_writer_close(struct bz_writer **wp);

#endif
