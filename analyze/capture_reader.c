/* capture_reader.c - the one reader of capture files (capture_reader.h,
 * docs/capture-format.md).
 *
 * Input (a file read in BZ_READ_CHUNK pieces, or one memory region) goes
 * through a streaming zstd decompressor into one growable buffer, and blocks
 * are cut out of that buffer as soon as they are complete, whatever frame or
 * chunk boundaries they straddle.  So every complete block is handed out
 * before a later problem (a frame cut short, a bad checksum) is reported.
 *
 * Everything read is hostile: a block length is checked against
 * [BZ_BLOCK_OVERHEAD, BZ_BLOCK_MAX] before any memory is reserved for it, and
 * its trailing copy must match.  The buffer never grows past BZ_BLOCK_MAX
 * plus one decompression window (BZ_READ_SLACK).
 *
 * Verdicts, decided as early as the bytes allow:
 *  - not a zstd stream, an empty input, or a first block that is not a
 *    HEADER with the "BEYLACAP" magic: BZ_READ_NOT_CAPTURE;
 *  - HEADER major version above BZ_FORMAT_MAJOR: BZ_READ_TOO_NEW (checked on
 *    the first 18 decompressed bytes, so a future layout cannot confuse it);
 *  - input ends inside a frame or a block: BZ_READ_TRUNCATED;
 *  - zstd error (checksum, bad data, garbage after a frame) or bad block
 *    framing after the HEADER: BZ_READ_CORRUPT.
 * Errors are sticky: bz_reader_next() keeps returning the same one.
 *
 * Each returned block's body is 8-byte aligned (the block is moved down by
 * up to 7 bytes into space already consumed when needed), so the first
 * record of an EVENTS block is aligned; later records are aligned only if
 * the writer kept record sizes multiples of 8, hence bz_ev_copy().
 *
 * bz_reader_open_file() returns 0 or a negative errno (-ENOENT, ...);
 * bz_reader_open_mem() returns 0 or -ENOMEM.  Both leave *out alone on
 * failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "analyze/capture_reader.h"
#include "bpf/beyla_events.h"

#define BZ_READ_CHUNK (128u * 1024)  /* compressed bytes per read() */
#define BZ_READ_SLACK (64u * 1024)   /* least free room per decompress call */
#define BZ_READ_INIT (256u * 1024)   /* initial block buffer */
#define BZ_HDR_FIXED 16u             /* magic[8] u16 major u16 minor u32 flags */

struct bz_reader {
	int fd;                  /* -1: memory input */
	const uint8_t *mem;
	size_t mem_len;
	int mem_fed;
	uint8_t *chunk;          /* file input piece */
	ZSTD_inBuffer zin;       /* current input piece */
	uint64_t in_base;        /* compressed offset of zin.src[0] */
	uint8_t head[4];         /* first compressed bytes, to tell "not zstd" */
	size_t head_len;
	ZSTD_DCtx *dctx;
	int in_frame;            /* the decompressor is inside a frame */
	int out_full;            /* last call filled the output: call again */
	uint8_t *buf;            /* decompressed bytes; [start, len) not yet used */
	size_t start, len, cap;
	uint64_t buf_off;        /* decompressed offset of buf[0] */
	uint64_t frames;         /* complete frames */
	uint64_t frame_end;      /* compressed offset after the last one */
	uint64_t blocks;         /* blocks returned */
	int at_end;              /* clean end reported */
	int status;              /* sticky enum bz_read_status */
	char errmsg[256];
};

static int fail(struct bz_reader *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct bz_reader *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	r->status = status;
	return status;
}

static int reader_new(struct bz_reader **out, int fd)
{
	struct bz_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->cap = BZ_READ_INIT;
	r->buf = malloc(r->cap);
	r->dctx = ZSTD_createDCtx();
	if (fd >= 0)
		r->chunk = malloc(BZ_READ_CHUNK);
	if (!r->buf || !r->dctx || (fd >= 0 && !r->chunk)) {
		ZSTD_freeDCtx(r->dctx);
		free(r->buf);
		free(r->chunk);
		free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

int bz_reader_open_file(struct bz_reader **out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	int rc = reader_new(out, fd);
	if (rc)
		close(fd);
	return rc;
}

int bz_reader_open_mem(struct bz_reader **out, const void *data, size_t len)
{
	struct bz_reader *r;
	int rc = reader_new(&r, -1);
	if (rc)
		return rc;
	r->mem = data;
	r->mem_len = data ? len : 0;
	*out = r;
	return 0;
}

void bz_reader_free(struct bz_reader **rp)
{
	struct bz_reader *r = rp ? *rp : NULL;
	if (!r)
		return;
	*rp = NULL;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	free(r->buf);
	free(r->chunk);
	free(r);
}

const char *bz_reader_errmsg(const struct bz_reader *r)
{
	return r ? r->errmsg : "";
}

uint64_t bz_reader_compressed_offset(const struct bz_reader *r)
{
	return r ? r->in_base + r->zin.pos : 0;
}

uint64_t bz_reader_frames(const struct bz_reader *r)
{
	return r ? r->frames : 0;
}

/* Input seen so far; at end of input this is the input's size. */
static uint64_t in_total(const struct bz_reader *r)
{
	return r->in_base + r->zin.size;
}

/* Whether the input's first bytes can start a zstd frame or a skippable
 * frame (as far as they go). */
static int looks_like_zstd(const struct bz_reader *r)
{
	static const uint8_t zmagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	static const uint8_t smagic[4] = { 0x50, 0x2a, 0x4d, 0x18 }; /* 0x184D2A5? */
	int z = 1, skip = 1;
	for (size_t i = 0; i < r->head_len; i++) {
		if (r->head[i] != zmagic[i])
			z = 0;
		if ((i ? r->head[i] : r->head[i] & 0xf0) != smagic[i])
			skip = 0;
	}
	return z || skip;
}

/* Next compressed piece: 1 got some, 0 end of input, <0 error. */
static int refill(struct bz_reader *r)
{
	if (r->fd < 0) {
		if (r->mem_fed || !r->mem_len)
			return 0;
		r->mem_fed = 1;
		r->zin = (ZSTD_inBuffer){ r->mem, r->mem_len, 0 };
	} else {
		ssize_t k;
		do
			k = read(r->fd, r->chunk, BZ_READ_CHUNK);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return fail(r, BZ_READ_IO, "read error after byte %" PRIu64 ": %s",
				    in_total(r), strerror(errno));
		if (k == 0)
			return 0;
		r->in_base += r->zin.size;
		r->zin = (ZSTD_inBuffer){ r->chunk, (size_t)k, 0 };
	}
	const uint8_t *src = r->zin.src;
	for (size_t i = 0; r->head_len < sizeof(r->head) && i < r->zin.size; i++)
		r->head[r->head_len++] = src[i];
	return 1;
}

/* Makes room for a block of `need` bytes at buf[start] plus some free space,
 * then decompresses once.  1: progress (maybe no new bytes), 0: end of
 * input, <0: error. */
static int more(struct bz_reader *r, size_t need)
{
	if (r->cap - r->start < need || r->cap - r->len < BZ_READ_SLACK) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->buf_off += r->start;
		r->len -= r->start;
		r->start = 0;
	}
	size_t want = need > r->len + BZ_READ_SLACK ? need : r->len + BZ_READ_SLACK;
	if (r->cap < want) {
		size_t cap = r->cap * 2 > want ? r->cap * 2 : want;
		if (cap > BZ_BLOCK_MAX + BZ_READ_SLACK)
			cap = BZ_BLOCK_MAX + BZ_READ_SLACK;
		uint8_t *p = realloc(r->buf, cap);
		if (!p)
			return fail(r, BZ_READ_NOMEM, "out of memory for a block of %zu bytes", need);
		r->buf = p;
		r->cap = cap;
	}
	if (r->zin.pos == r->zin.size && !r->out_full) {
		int rc = refill(r);
		if (rc <= 0)
			return rc;
	}
	ZSTD_outBuffer out = { r->buf + r->len, r->cap - r->len, 0 };
	size_t before = r->zin.pos;
	size_t ret = ZSTD_decompressStream(r->dctx, &out, &r->zin);
	if (ZSTD_isError(ret)) {
		if (!r->blocks && !looks_like_zstd(r))
			return fail(r, BZ_READ_NOT_CAPTURE, "not a beyla capture (not zstd-compressed)");
		return fail(r, BZ_READ_CORRUPT,
			    "corrupt zstd data near byte %" PRIu64 " of %" PRIu64
			    " (after %" PRIu64 " complete frames ending at byte %" PRIu64 "): %s",
			    bz_reader_compressed_offset(r), in_total(r), r->frames, r->frame_end,
			    ZSTD_getErrorName(ret));
	}
	r->len += out.pos;
	if (ret == 0) { /* a frame ended, and all of it is out */
		r->frames++;
		r->frame_end = bz_reader_compressed_offset(r);
		r->in_frame = r->out_full = 0;
	} else {
		/* A call that took nothing and gave nothing started no frame. */
		if (r->zin.pos > before || out.pos)
			r->in_frame = 1;
		r->out_full = out.pos == out.size;
	}
	return 1;
}

/* Checks what is there so far of the first block against a HEADER:
 *   u32 type=1 | u32 total_len | "BEYLACAP" | u16 major | ...  */
static int check_first(struct bz_reader *r, const uint8_t *p, size_t avail)
{
	static const uint8_t type[4] = { BZ_BLK_HEADER, 0, 0, 0 };
	const size_t mlen = sizeof(BZ_MAGIC) - 1;
	int magic_ok = 1;
	for (size_t i = 0; i < mlen && 8 + i < avail; i++)
		if (p[8 + i] != (uint8_t)BZ_MAGIC[i])
			magic_ok = 0;
	if (magic_ok && avail >= 8 + mlen + 2 && bz_le16(p + 8 + mlen) > BZ_FORMAT_MAJOR)
		return fail(r, BZ_READ_TOO_NEW,
			    "capture format %u is newer than this reader's %u: upgrade beyla",
			    bz_le16(p + 8 + mlen), BZ_FORMAT_MAJOR);
	int ok = magic_ok;
	for (size_t i = 0; i < 4 && i < avail; i++)
		if (p[i] != type[i])
			ok = 0;
	if (avail >= 8) {
		uint32_t tlen = bz_le32(p + 4);
		if (tlen < BZ_BLOCK_OVERHEAD + BZ_HDR_FIXED || tlen > BZ_BLOCK_MAX)
			ok = 0;
	}
	if (!ok)
		return fail(r, BZ_READ_NOT_CAPTURE,
			    "not a beyla capture (no HEADER block with magic " BZ_MAGIC ")");
	return 0;
}

static int at_eof(struct bz_reader *r)
{
	size_t avail = r->len - r->start;
	if (in_total(r) == 0)
		return fail(r, BZ_READ_NOT_CAPTURE, "not a beyla capture (empty file)");
	if (!r->blocks && !looks_like_zstd(r))
		return fail(r, BZ_READ_NOT_CAPTURE, "not a beyla capture (not zstd-compressed)");
	if (r->in_frame)
		return fail(r, BZ_READ_TRUNCATED,
			    "truncated at byte %" PRIu64 " of %" PRIu64
			    " (after %" PRIu64 " complete frames; input ends inside a frame)",
			    r->frame_end, in_total(r), r->frames);
	if (avail && !r->blocks) /* a whole zstd stream, but no whole HEADER */
		return fail(r, BZ_READ_NOT_CAPTURE,
			    "not a beyla capture (it ends before its HEADER block does)");
	if (avail)
		return fail(r, BZ_READ_TRUNCATED,
			    "truncated at byte %" PRIu64 " of %" PRIu64
			    " (after %" PRIu64 " complete frames; input ends inside a block)",
			    r->frame_end, in_total(r), r->frames);
	if (!r->blocks)
		return fail(r, BZ_READ_NOT_CAPTURE, "not a beyla capture (no HEADER block)");
	r->at_end = 1;
	return 0;
}

int bz_reader_next(struct bz_reader *r, struct bz_block *b)
{
	if (r->status)
		return r->status;
	if (r->at_end)
		return 0;
	for (;;) {
		size_t avail = r->len - r->start;
		const uint8_t *p = r->buf + r->start;
		size_t need = BZ_BLOCK_OVERHEAD;
		int rc;
		if (!r->blocks && (rc = check_first(r, p, avail)))
			return rc;
		if (avail >= 8) {
			uint32_t type = bz_le32(p), tlen = bz_le32(p + 4);
			uint64_t off = r->buf_off + r->start;
			if (tlen < BZ_BLOCK_OVERHEAD || tlen > BZ_BLOCK_MAX)
				return fail(r, BZ_READ_CORRUPT,
					    "corrupt block at decompressed offset %" PRIu64
					    ": length %" PRIu32 " (after %" PRIu64 " complete frames ending at byte %" PRIu64 ")",
					    off, tlen, r->frames, r->frame_end);
			if (avail >= tlen) {
				if (bz_le32(p + tlen - 4) != tlen)
					return fail(r, BZ_READ_CORRUPT,
						    "corrupt block at decompressed offset %" PRIu64
						    ": trailing length %" PRIu32 " != %" PRIu32
						    " (after %" PRIu64 " complete frames ending at byte %" PRIu64 ")",
						    off, bz_le32(p + tlen - 4), tlen, r->frames, r->frame_end);
				/* Align the body to 8 bytes; the room below start
				 * was consumed (start % 8 != 0 implies start >= 8). */
				size_t mis = (uintptr_t)(p + 8) & 7;
				uint8_t *q = (uint8_t *)p;
				if (mis && r->start >= mis) {
					q -= mis;
					memmove(q, p, tlen);
				}
				b->type = type;
				b->len = tlen - BZ_BLOCK_OVERHEAD;
				b->body = q + 8;
				b->offset = off;
				r->start += tlen;
				r->blocks++;
				return 1;
			}
			need = tlen;
		}
		rc = more(r, need);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return at_eof(r);
	}
}

/* ---- TLV options ------------------------------------------------------- */

void bz_tlv_init(struct bz_tlv_iter *it, const void *p, size_t len)
{
	it->p = p;
	it->end = p ? it->p + len : p;
}

int bz_tlv_next(struct bz_tlv_iter *it, uint16_t *code, const uint8_t **val, uint32_t *len)
{
	if (!it->p || it->p == it->end)
		return 0;
	size_t left = (size_t)(it->end - it->p);
	if (left < 8) {
		it->p = it->end;
		return -1;
	}
	uint32_t n = bz_le32(it->p + 4);
	if (n > left - 8) {
		it->p = it->end;
		return -1;
	}
	*code = bz_le16(it->p);
	*len = n;
	*val = it->p + 8;
	it->p += 8 + (size_t)n;
	return 1;
}

void bz_tlv_text(char *dst, size_t cap, const uint8_t *v, uint32_t n)
{
	size_t k = n < cap - 1 ? n : cap - 1;

	for (size_t i = 0; i < k; i++)
		dst[i] = v[i] ? (char)v[i] : ' ';
	while (k && dst[k - 1] == ' ')
		k--;
	dst[k] = 0;
}

/* ---- EVENTS records ----------------------------------------------------- */

int bz_ev_iter_init(struct bz_ev_iter *it, const struct bz_block *b)
{
	it->p = it->end = NULL;
	it->left = 0;
	if (!b || b->type != BZ_BLK_EVENTS || b->len < BZ_EVENTS_FIXED || !b->body)
		return -1;
	it->left = bz_le32(b->body);
	it->p = b->body + BZ_EVENTS_FIXED;
	it->end = b->body + b->len;
	return 0;
}

int bz_ev_iter_next(struct bz_ev_iter *it, const struct bz_ev_hdr **hdr)
{
	if (!it->left)
		return 0;
	size_t room = it->p ? (size_t)(it->end - it->p) : 0;
	size_t size = room >= sizeof(struct bz_ev_hdr) ? bz_le16(it->p + 18) : 0;
	if (size < sizeof(struct bz_ev_hdr) || size > room) {
		/* Bad size, or count promises more records than fit. */
		it->p = it->end;
		it->left = 0;
		return -1;
	}
	*hdr = (const struct bz_ev_hdr *)(const void *)it->p;
	it->p += size;
	it->left--;
	return 1;
}

size_t bz_ev_copy(void *dst, size_t dst_size, const struct bz_ev_hdr *rec)
{
	const uint8_t *p = (const uint8_t *)rec;
	size_t size = bz_le16(p + 18);
	size_t n = size < dst_size ? size : dst_size;
	memcpy(dst, p, n);
	memset((uint8_t *)dst + n, 0, dst_size - n);
	return size;
}

int bz_ev_ranges(const uint8_t *payload, size_t caplen, int64_t ret, struct bz_ev_range *r, uint32_t *n,
		 const uint8_t **data, uint32_t *datalen, uint8_t *flags)
{
	const size_t head = sizeof(struct bz_ev_ranges);
	uint64_t end = 0, total = 0;
	uint32_t k;

	*n = 0;
	*data = NULL;
	*datalen = 0;
	*flags = 0;
	if (caplen < head || ret <= 0 || payload[0] > BZ_RANGES_MAX)
		return -1;
	k = payload[0];
	for (uint32_t i = 0; i < k; i++) {
		const uint8_t *e = payload + 4 + 8 * (size_t)i;
		uint32_t off = bz_le32(e);
		uint16_t len = bz_le16(e + 4);
		if (off < end || (uint64_t)off + len > (uint64_t)ret)
			return -1;
		r[i].off = off;
		r[i].len = len;
		r[i]._pad = 0;
		end = (uint64_t)off + len;
		total += len;
	}
	if (total != caplen - head)
		return -1;
	*n = k;
	*data = payload + head;
	*datalen = (uint32_t)total;
	*flags = payload[1];
	return 0;
}
