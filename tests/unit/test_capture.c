/* test_capture.c - the capture file: writer, reader, TLV and event iterators,
 * and `beyla info`'s verdicts, through their public APIs.
 *
 * Streams are built two ways: with the writer (the normal path) and by hand,
 * framing raw bytes and compressing them with plain libzstd, so the reader
 * also meets what our writer never produces: blocks across frames, hostile
 * lengths, other zstd content.  Every test that reads hostile input must end
 * with a clean status; run under ASan/UBSan to make "never crashes" mean
 * "never touches a byte it should not".
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <cmocka.h>

#include "analyze/capture_reader.h"
#include "bpf/beyla_events.h"
#include "cmd/commands.h"
#include "record/capture_format.h"
#include "record/capture_writer.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill_bytes(uint8_t *p, size_t n, int compressible)
{
	for (size_t i = 0; i < n; i++)
		p[i] = compressible ? (uint8_t)("GET /api/items HTTP/1.1\r\n"[i % 25]) : (uint8_t)rng();
}

static char *tmp_file(int *fd)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	assert_true(asprintf(&path, "%s/bz_test_XXXXXX", dir && *dir ? dir : "/tmp") > 0);
	*fd = mkstemp(path);
	assert_true(*fd >= 0);
	return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc(n ? (size_t)n : 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void spit(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A HEADER body with a few options. */
static void header_body(struct bz_buf *b, uint16_t major)
{
	bz_buf_reset(b);
	bz_buf_put(b, BZ_MAGIC, 8);
	bz_buf_put_u16(b, major);
	bz_buf_put_u16(b, BZ_FORMAT_MINOR);
	bz_buf_put_u32(b, 0);
	bz_buf_opt_str(b, BZ_HO_BEYLA_VERSION, "0.1.0-test");
	bz_buf_opt(b, BZ_HO_ARGV, "beyla\0record\0-o\0x.bz.zst", 24);
	bz_buf_opt_str(b, BZ_HO_HOSTNAME, "testhost");
	bz_buf_opt_str(b, BZ_HO_KERNEL, "6.1.0");
	bz_buf_opt_str(b, BZ_HO_ARCH, "x86_64");
	bz_buf_opt_u32(b, BZ_HO_NCPUS, 4);
	bz_buf_opt_u64(b, BZ_HO_CLOCK_MONO_NS, 1000000000ull);
	bz_buf_opt_u64(b, BZ_HO_CLOCK_REAL_NS, 1700000000000000000ull);
	bz_buf_opt_u64(b, BZ_HO_START_MONO_NS, 1000000000ull);
	bz_buf_opt_u32(b, BZ_HO_SNAPLEN, 512);
	bz_buf_opt_str(b, BZ_HO_TARGET, "port 8080");
	assert_int_equal(b->err, 0);
}

/* Raw (uncompressed) block stream builder. */
static void raw_block(struct bz_buf *s, uint32_t type, const void *body, size_t len)
{
	bz_buf_put_u32(s, type);
	bz_buf_put_u32(s, (uint32_t)(len + 12));
	bz_buf_put(s, body, len);
	bz_buf_put_u32(s, (uint32_t)(len + 12));
}

static void raw_header(struct bz_buf *s, uint16_t major)
{
	struct bz_buf h = { 0 };
	header_body(&h, major);
	raw_block(s, BZ_BLK_HEADER, h.data, h.len);
	bz_buf_free(&h);
}

/* Appends one zstd frame (with checksum) of p[0..n) to out. */
static void zframe(struct bz_buf *out, const void *p, size_t n)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	assert_non_null(c);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	size_t cap = ZSTD_compressBound(n);
	uint8_t *tmp = malloc(cap);
	assert_non_null(tmp);
	size_t k = ZSTD_compress2(c, tmp, cap, p, n);
	assert_false(ZSTD_isError(k));
	bz_buf_put(out, tmp, k);
	free(tmp);
	ZSTD_freeCCtx(c);
}

/* Expected blocks of a written capture. */
struct blk {
	uint32_t type;
	size_t len;
	uint8_t *body;
};

struct cap {
	struct blk *b;
	size_t n;
	size_t *frame_blocks; /* blocks in complete frames after frame i */
	uint64_t *frame_ends; /* compressed offset after frame i */
	size_t nframes;
};

static void cap_free(struct cap *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->b[i].body);
	free(c->b);
	free(c->frame_blocks);
	free(c->frame_ends);
	memset(c, 0, sizeof(*c));
}

static void cap_add(struct cap *c, struct bz_writer *w, uint32_t type, const void *body, size_t len)
{
	c->b = realloc(c->b, (c->n + 1) * sizeof(*c->b));
	assert_non_null(c->b);
	c->b[c->n].type = type;
	c->b[c->n].len = len;
	c->b[c->n].body = malloc(len ? len : 1);
	assert_non_null(c->b[c->n].body);
	if (len)
		memcpy(c->b[c->n].body, body, len);
	c->n++;
	assert_int_equal(bz_writer_block(w, type, body, len), 0);
}

static void cap_flush(struct cap *c, struct bz_writer *w)
{
	assert_int_equal(bz_writer_flush(w), 0);
	c->frame_blocks = realloc(c->frame_blocks, (c->nframes + 1) * sizeof(size_t));
	c->frame_ends = realloc(c->frame_ends, (c->nframes + 1) * sizeof(uint64_t));
	c->frame_blocks[c->nframes] = c->n;
	c->frame_ends[c->nframes] = bz_writer_file_bytes(w);
	c->nframes++;
}

/* Writes a capture of `nblocks` assorted blocks, a frame every `per_frame`
 * blocks, with one block of `big` bytes in the middle (0: none) and an END. */
static char *write_capture(struct cap *c, size_t nblocks, size_t per_frame, size_t big)
{
	int fd;
	char *path = tmp_file(&fd);
	struct bz_writer *w = NULL;
	struct bz_buf b = { 0 };
	assert_int_equal(bz_writer_new(&w, fd, 3), 0);
	header_body(&b, BZ_FORMAT_MAJOR);
	cap_add(c, w, BZ_BLK_HEADER, b.data, b.len);
	for (size_t i = 0; i < nblocks; i++) {
		size_t len = i == nblocks / 2 && big ? big : (size_t)(rng() % 300);
		uint8_t *body = malloc(len + 1);
		assert_non_null(body);
		fill_bytes(body, len, i % 3 != 0);
		uint32_t type = i % 7 == 3 ? 1000 + (uint32_t)(i % 5) : BZ_BLK_EVENTS;
		cap_add(c, w, type, body, len);
		free(body);
		if ((i + 1) % per_frame == 0)
			cap_flush(c, w);
	}
	bz_buf_reset(&b);
	bz_buf_opt_u64(&b, BZ_EO_EVENTS, nblocks);
	bz_buf_opt_str(&b, BZ_EO_STOP_REASON, "duration");
	cap_add(c, w, BZ_BLK_END, b.data, b.len);
	cap_flush(c, w);
	assert_int_equal(bz_writer_close(&w), 0);
	assert_null(w);
	bz_buf_free(&b);
	return path;
}

/* Reads everything, checking each block against the expectation; returns
 * the final status and the number of blocks read. */
static int read_check(struct bz_reader *r, const struct cap *c, size_t *nread)
{
	struct bz_block b;
	int rc;
	uint64_t off = 0;
	size_t i = 0;
	while ((rc = bz_reader_next(r, &b)) == 1) {
		assert_true(i < c->n);
		assert_int_equal(b.type, c->b[i].type);
		assert_int_equal(b.len, c->b[i].len);
		assert_int_equal(b.offset, off);
		assert_int_equal((uintptr_t)b.body % 8, 0);
		if (b.len)
			assert_memory_equal(b.body, c->b[i].body, b.len);
		off += b.len + 12;
		i++;
	}
	*nread = i;
	return rc;
}

/* ---- bz_buf ------------------------------------------------------------- */

static void test_buf_encoding(void **state)
{
	(void)state;
	struct bz_buf b = { 0 };
	bz_buf_put_u16(&b, 0x0102);
	bz_buf_put_u32(&b, 0x03040506);
	bz_buf_put_u64(&b, 0x0708090a0b0c0d0eull);
	bz_buf_opt(&b, 7, "ab", 2);
	bz_buf_opt_str(&b, 8, NULL);
	bz_buf_opt_str(&b, 9, "");
	bz_buf_opt_u32(&b, 10, 0xdeadbeef);
	bz_buf_opt_u64(&b, 11, 1);
	static const uint8_t want[] = {
		0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09, 0x08, 0x07,
		7, 0, 0, 0, 2, 0, 0, 0, 'a', 'b',
		9, 0, 0, 0, 0, 0, 0, 0,
		10, 0, 0, 0, 4, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde,
		11, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
	};
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	/* grows past its first allocation */
	for (int i = 0; i < 1000; i++)
		bz_buf_opt_u64(&b, 1, (uint64_t)i);
	assert_int_equal(b.len, sizeof(want) + 16000);
	bz_buf_reset(&b);
	assert_int_equal(b.len, 0);
	bz_buf_free(&b);
	assert_null(b.data);
	bz_buf_free(&b); /* twice is fine */
}

/* ---- round trips -------------------------------------------------------- */

static void test_roundtrip_file(void **state)
{
	(void)state;
	struct cap c = { 0 };
	/* 600 KiB incompressible block: bigger than the reader's 128 KiB chunk
	 * and its initial buffer; 2000 blocks in ~10 frames */
	char *path = write_capture(&c, 2000, 200, 600 * 1024);
	struct bz_reader *r = NULL;
	assert_int_equal(bz_reader_open_file(&r, path), 0);
	size_t n;
	assert_int_equal(read_check(r, &c, &n), 0);
	assert_int_equal(n, c.n);
	assert_int_equal(bz_reader_frames(r), c.nframes);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(bz_reader_compressed_offset(r), (uint64_t)st.st_size);
	assert_int_equal(c.frame_ends[c.nframes - 1], (uint64_t)st.st_size);
	struct bz_block b;
	assert_int_equal(bz_reader_next(r, &b), 0); /* end stays end */
	assert_string_equal(bz_reader_errmsg(r), "");
	bz_reader_free(&r);
	assert_null(r);
	bz_reader_free(&r);
	unlink(path);
	free(path);
	cap_free(&c);
}

static void test_roundtrip_mem(void **state)
{
	(void)state;
	struct cap c = { 0 };
	char *path = write_capture(&c, 500, 37, 300 * 1024);
	size_t len;
	uint8_t *data = slurp(path, &len);
	struct bz_reader *r = NULL;
	assert_int_equal(bz_reader_open_mem(&r, data, len), 0);
	size_t n;
	assert_int_equal(read_check(r, &c, &n), 0);
	assert_int_equal(n, c.n);
	assert_int_equal(bz_reader_frames(r), c.nframes);
	assert_int_equal(bz_reader_compressed_offset(r), len);
	bz_reader_free(&r);
	unlink(path);
	free(path);
	free(data);
	cap_free(&c);
}

/* The largest legal block, and the writer refusing a larger one. */
static void test_block_max(void **state)
{
	(void)state;
	int fd;
	char *path = tmp_file(&fd);
	struct bz_writer *w = NULL;
	struct bz_buf h = { 0 };
	assert_int_equal(bz_writer_new(&w, fd, 1), 0);
	header_body(&h, BZ_FORMAT_MAJOR);
	assert_int_equal(bz_writer_block(w, BZ_BLK_HEADER, h.data, h.len), 0);
	size_t big = BZ_BLOCK_MAX - BZ_BLOCK_OVERHEAD;
	uint8_t *body = calloc(1, big + 1);
	assert_non_null(body);
	body[0] = 0x5a;
	body[big - 1] = 0xa5;
	assert_int_equal(bz_writer_block(w, 77, body, big + 1), -EMSGSIZE);
	assert_int_equal(bz_writer_block(w, 77, NULL, 5), -EINVAL);
	assert_int_equal(bz_writer_block(w, 77, body, big), 0);
	assert_int_equal(bz_writer_block(w, BZ_BLK_END, NULL, 0), 0);
	/* argument errors are reported but do not stop output */
	assert_int_equal(bz_writer_close(&w), -EMSGSIZE);
	assert_int_equal(bz_writer_raw_bytes(w), 0); /* NULL-safe */

	struct bz_reader *r = NULL;
	struct bz_block b;
	assert_int_equal(bz_reader_open_file(&r, path), 0);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, BZ_BLK_HEADER);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, 77);
	assert_int_equal(b.len, big);
	assert_int_equal(b.body[0], 0x5a);
	assert_int_equal(b.body[big - 1], 0xa5);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, BZ_BLK_END);
	assert_int_equal(b.len, 0);
	assert_int_equal(bz_reader_next(r, &b), 0);
	bz_reader_free(&r);
	free(body);
	bz_buf_free(&h);
	unlink(path);
	free(path);
}

/* Blocks cut across frames anywhere, down to one byte per frame, plus empty
 * frames: the reader assembles them all the same. */
static void test_blocks_across_frames(void **state)
{
	(void)state;
	struct bz_buf raw = { 0 };
	raw_header(&raw, BZ_FORMAT_MAJOR);
	uint8_t body[1000];
	fill_bytes(body, sizeof(body), 0);
	for (int i = 0; i < 20; i++)
		raw_block(&raw, BZ_BLK_EVENTS + (uint32_t)(i % 3) * 100, body, (size_t)i * 50);
	raw_block(&raw, BZ_BLK_END, NULL, 0);

	for (size_t step = 1; step <= 4096; step = step * 3 + 1) {
		struct bz_buf z = { 0 };
		size_t frames = 1;
		/* a skippable frame first: zstd says readers skip it */
		bz_buf_put(&z, "\x5e\x2a\x4d\x18\x03\x00\x00\x00" "abc", 11);
		for (size_t off = 0; off < raw.len; off += step, frames++)
			zframe(&z, raw.data + off, raw.len - off < step ? raw.len - off : step);
		zframe(&z, NULL, 0); /* an empty frame is still a frame */
		frames++;
		struct bz_reader *r = NULL;
		struct bz_block b;
		int rc, n = 0;
		uint64_t last_type = 0;
		assert_int_equal(bz_reader_open_mem(&r, z.data, z.len), 0);
		while ((rc = bz_reader_next(r, &b)) == 1) {
			if (n >= 1 && n <= 20) {
				assert_int_equal(b.len, (size_t)(n - 1) * 50);
				assert_memory_equal(b.body, body, b.len);
			}
			last_type = b.type;
			n++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(n, 22);
		assert_int_equal(last_type, BZ_BLK_END);
		assert_int_equal(bz_reader_frames(r), frames);
		bz_reader_free(&r);
		bz_buf_free(&z);
	}
	bz_buf_free(&raw);
}

/* Unknown block types come back to the caller, who skips them; unknown TLV
 * codes are skipped by the iterator's caller the same way. */
static void test_unknown_block_and_tlv(void **state)
{
	(void)state;
	struct bz_buf raw = { 0 }, z = { 0 }, opts = { 0 };
	raw_header(&raw, BZ_FORMAT_MAJOR);
	raw_block(&raw, 0xdeadbeef, "future", 6);
	bz_buf_opt_str(&opts, BZ_PR_EXE, "/usr/bin/app");
	bz_buf_opt(&opts, 0xfff0, "\x01\x02\x03", 3); /* unknown code */
	bz_buf_opt(&opts, 0xfff1, NULL, 0);           /* unknown, empty */
	bz_buf_opt_str(&opts, BZ_PR_SERVICE_NAME, "shop");
	struct bz_buf proc = { 0 };
	bz_buf_put_u32(&proc, 42);
	bz_buf_put_u32(&proc, 1);
	bz_buf_put_u64(&proc, 5);
	bz_buf_put_u32(&proc, BZ_PF_AT_START);
	bz_buf_put_u32(&proc, 0);
	bz_buf_put(&proc, opts.data, opts.len);
	raw_block(&raw, BZ_BLK_PROC, proc.data, proc.len);
	raw_block(&raw, BZ_BLK_END, NULL, 0);
	zframe(&z, raw.data, raw.len);

	struct bz_reader *r = NULL;
	struct bz_block b;
	assert_int_equal(bz_reader_open_mem(&r, z.data, z.len), 0);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, BZ_BLK_HEADER);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, 0xdeadbeef);
	assert_int_equal(b.len, 6);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, BZ_BLK_PROC);
	struct bz_tlv_iter it;
	uint16_t code;
	const uint8_t *v;
	uint32_t n;
	int known = 0, unknown = 0;
	bz_tlv_init(&it, b.body + BZ_PROC_FIXED, b.len - BZ_PROC_FIXED);
	while (bz_tlv_next(&it, &code, &v, &n) == 1) {
		if (code == BZ_PR_EXE) {
			assert_int_equal(n, 12);
			assert_memory_equal(v, "/usr/bin/app", 12);
			known++;
		} else if (code == BZ_PR_SERVICE_NAME) {
			assert_int_equal(n, 4);
			assert_memory_equal(v, "shop", 4);
			known++;
		} else {
			unknown++;
		}
	}
	assert_int_equal(known, 2);
	assert_int_equal(unknown, 2);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, BZ_BLK_END);
	assert_int_equal(bz_reader_next(r, &b), 0);
	bz_reader_free(&r);
	bz_buf_free(&raw);
	bz_buf_free(&z);
	bz_buf_free(&opts);
	bz_buf_free(&proc);
}

/* ---- truncation and corruption ------------------------------------------ */

/* Every prefix of a small multi-frame file: all blocks of complete frames
 * come back (never a wrong one), then TRUNCATED (or a clean end exactly at
 * a frame boundary, or NOT_CAPTURE for an empty file). */
static void test_truncate_every_offset(void **state)
{
	(void)state;
	struct cap c = { 0 };
	char *path = write_capture(&c, 24, 5, 0);
	size_t len;
	uint8_t *data = slurp(path, &len);
	assert_true(c.nframes >= 5);
	for (size_t cut = 0; cut <= len; cut++) {
		/* a private copy so ASan sees reads past the cut */
		uint8_t *part = malloc(cut ? cut : 1);
		assert_non_null(part);
		memcpy(part, data, cut);
		struct bz_reader *r = NULL;
		assert_int_equal(bz_reader_open_mem(&r, part, cut), 0);
		size_t n;
		int rc = read_check(r, &c, &n);
		size_t whole = 0, fr = 0;
		int boundary = cut == 0;
		for (size_t f = 0; f < c.nframes; f++) {
			if (c.frame_ends[f] <= cut) {
				whole = c.frame_blocks[f];
				fr = f + 1;
			}
			if (c.frame_ends[f] == cut)
				boundary = 1;
		}
		assert_true(n >= whole);
		assert_int_equal(bz_reader_frames(r), fr);
		if (cut == 0) {
			assert_int_equal(rc, BZ_READ_NOT_CAPTURE);
		} else if (boundary) {
			assert_int_equal(rc, 0);
			assert_int_equal(n, whole);
		} else {
			assert_int_equal(rc, BZ_READ_TRUNCATED);
			char want[128];
			snprintf(want, sizeof(want), "truncated at byte %llu of %zu (after %zu complete frames",
				 fr ? (unsigned long long)c.frame_ends[fr - 1] : 0ull, cut, fr);
			assert_non_null(strstr(bz_reader_errmsg(r), want));
		}
		bz_reader_free(&r);
		free(part);
	}
	/* the same through a file, for the read() path */
	size_t cut = (size_t)(c.frame_ends[2] + c.frame_ends[3]) / 2;
	spit(path, data, cut);
	struct bz_reader *r = NULL;
	assert_int_equal(bz_reader_open_file(&r, path), 0);
	size_t n;
	assert_int_equal(read_check(r, &c, &n), BZ_READ_TRUNCATED);
	assert_true(n >= c.frame_blocks[2]);
	assert_int_equal(bz_reader_frames(r), 3);
	bz_reader_free(&r);
	unlink(path);
	free(path);
	free(data);
	cap_free(&c);
}

/* A frame cut short still yields the blocks it decompressed. */
static void test_cut_frame_yields_blocks(void **state)
{
	(void)state;
	struct bz_buf raw = { 0 }, z = { 0 };
	raw_header(&raw, BZ_FORMAT_MAJOR);
	uint8_t body[4096];
	for (int i = 0; i < 200; i++) {
		fill_bytes(body, sizeof(body), 0);
		raw_block(&raw, BZ_BLK_EVENTS, body, sizeof(body));
	}
	zframe(&z, raw.data, raw.len); /* one big frame, several zstd blocks */
	struct bz_reader *r = NULL;
	struct bz_block b;
	int rc, n = 0;
	assert_int_equal(bz_reader_open_mem(&r, z.data, z.len / 2), 0);
	while ((rc = bz_reader_next(r, &b)) == 1)
		n++;
	assert_int_equal(rc, BZ_READ_TRUNCATED);
	assert_true(n > 50);
	assert_int_equal(bz_reader_frames(r), 0);
	assert_int_equal(bz_reader_next(r, &b), BZ_READ_TRUNCATED); /* sticky */
	bz_reader_free(&r);
	bz_buf_free(&raw);
	bz_buf_free(&z);
}

/* Flipped bytes anywhere: a clean verdict, never a crash, and a checksum
 * error at the latest when the frame ends. */
static void test_corrupt_flips(void **state)
{
	(void)state;
	struct cap c = { 0 };
	char *path = write_capture(&c, 30, 6, 0);
	size_t len;
	uint8_t *data = slurp(path, &len);
	uint8_t *bad = malloc(len);
	assert_non_null(bad);
	for (size_t pos = 0; pos < len; pos++) {
		for (int k = 0; k < 3; k++) {
			static const uint8_t masks[3] = { 0x01, 0x80, 0xff };
			memcpy(bad, data, len);
			bad[pos] ^= masks[k];
			struct bz_reader *r = NULL;
			struct bz_block b;
			int rc;
			size_t n = 0;
			assert_int_equal(bz_reader_open_mem(&r, bad, len), 0);
			while ((rc = bz_reader_next(r, &b)) == 1 && n < 1000)
				n++;
			assert_true(rc == 0 || rc == BZ_READ_CORRUPT || rc == BZ_READ_TRUNCATED ||
				    rc == BZ_READ_NOT_CAPTURE || rc == BZ_READ_TOO_NEW);
			assert_true(rc != 1);
			assert_true(rc != 0 || n <= c.n + 2);
			if (rc < 0)
				assert_true(strlen(bz_reader_errmsg(r)) > 0);
			bz_reader_free(&r);
		}
	}
	/* garbage after a complete capture is corruption, after its blocks */
	uint8_t *longer = malloc(len + 5);
	assert_non_null(longer);
	memcpy(longer, data, len);
	memcpy(longer + len, "hello", 5);
	struct bz_reader *r = NULL;
	size_t n;
	assert_int_equal(bz_reader_open_mem(&r, longer, len + 5), 0);
	assert_int_equal(read_check(r, &c, &n), BZ_READ_CORRUPT);
	assert_int_equal(n, c.n);
	assert_non_null(strstr(bz_reader_errmsg(r), "corrupt"));
	bz_reader_free(&r);
	free(longer);
	free(bad);
	free(data);
	unlink(path);
	free(path);
	cap_free(&c);
}

/* ---- hostile lengths ------------------------------------------------------ */

static const uint32_t hostile_lens[] = { 0, 1, 8, 11, BZ_BLOCK_MAX + 1, 0x7fffffff, 0x80000000,
					 0xffffffff };

static void test_hostile_block_lengths(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile_lens) / sizeof(hostile_lens[0]); i++) {
		for (int first = 0; first < 2; first++) {
			struct bz_buf raw = { 0 }, z = { 0 };
			if (!first)
				raw_header(&raw, BZ_FORMAT_MAJOR);
			bz_buf_put_u32(&raw, first ? BZ_BLK_HEADER : BZ_BLK_EVENTS);
			bz_buf_put_u32(&raw, hostile_lens[i]);
			bz_buf_put(&raw, BZ_MAGIC "\x01\x00\x00\x00\x00\x00\x00\x00" "0123456789", 26);
			zframe(&z, raw.data, raw.len);
			struct bz_reader *r = NULL;
			struct bz_block b;
			assert_int_equal(bz_reader_open_mem(&r, z.data, z.len), 0);
			if (!first) {
				assert_int_equal(bz_reader_next(r, &b), 1);
				assert_int_equal(bz_reader_next(r, &b), BZ_READ_CORRUPT);
			} else {
				assert_int_equal(bz_reader_next(r, &b), BZ_READ_NOT_CAPTURE);
			}
			bz_reader_free(&r);
			bz_buf_free(&raw);
			bz_buf_free(&z);
		}
	}
	/* trailer disagreeing with the header length */
	struct bz_buf raw = { 0 }, z = { 0 };
	raw_header(&raw, BZ_FORMAT_MAJOR);
	bz_buf_put_u32(&raw, BZ_BLK_EVENTS);
	bz_buf_put_u32(&raw, 16);
	bz_buf_put_u32(&raw, 0);
	bz_buf_put_u32(&raw, 17);
	zframe(&z, raw.data, raw.len);
	struct bz_reader *r = NULL;
	struct bz_block b;
	assert_int_equal(bz_reader_open_mem(&r, z.data, z.len), 0);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(bz_reader_next(r, &b), BZ_READ_CORRUPT);
	assert_non_null(strstr(bz_reader_errmsg(r), "trailing length"));
	bz_reader_free(&r);
	/* a plausible length whose bytes never come: truncated, no huge read */
	bz_buf_reset(&raw);
	bz_buf_reset(&z);
	raw_header(&raw, BZ_FORMAT_MAJOR);
	bz_buf_put_u32(&raw, BZ_BLK_EVENTS);
	bz_buf_put_u32(&raw, BZ_BLOCK_MAX);
	bz_buf_put_u32(&raw, 0);
	zframe(&z, raw.data, raw.len);
	assert_int_equal(bz_reader_open_mem(&r, z.data, z.len), 0);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(bz_reader_next(r, &b), BZ_READ_TRUNCATED);
	assert_non_null(strstr(bz_reader_errmsg(r), "inside a block"));
	bz_reader_free(&r);
	bz_buf_free(&raw);
	bz_buf_free(&z);
}

static void test_tlv_hostile(void **state)
{
	(void)state;
	struct {
		uint32_t len;   /* the option's declared length */
		size_t have;    /* value bytes actually present */
		int want;       /* first bz_tlv_next result */
	} cases[] = {
		{ 0, 0, 1 }, { 3, 3, 1 }, { 4, 3, -1 }, { 11, 0, -1 }, { 0x7fffffff, 16, -1 },
		{ 0xffffffff, 16, -1 }, { 0xfffffff8, 16, -1 }, { 0x80000000, 0, -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *p = malloc(8 + cases[i].have);
		assert_non_null(p);
		p[0] = 5, p[1] = 0, p[2] = 0, p[3] = 0;
		p[4] = (uint8_t)cases[i].len, p[5] = (uint8_t)(cases[i].len >> 8);
		p[6] = (uint8_t)(cases[i].len >> 16), p[7] = (uint8_t)(cases[i].len >> 24);
		memset(p + 8, 'x', cases[i].have);
		struct bz_tlv_iter it;
		uint16_t code = 0;
		const uint8_t *v = NULL;
		uint32_t n = 0;
		bz_tlv_init(&it, p, 8 + cases[i].have);
		assert_int_equal(bz_tlv_next(&it, &code, &v, &n), cases[i].want);
		if (cases[i].want == 1) {
			assert_int_equal(code, 5);
			assert_int_equal(n, cases[i].len);
			assert_ptr_equal(v, p + 8);
		}
		assert_int_equal(bz_tlv_next(&it, &code, &v, &n), 0); /* then the end */
		free(p);
	}
	/* trailing bytes too short for an option header */
	for (size_t extra = 1; extra < 8; extra++) {
		uint8_t *p = calloc(1, 8 + extra);
		assert_non_null(p);
		struct bz_tlv_iter it;
		uint16_t code;
		const uint8_t *v;
		uint32_t n;
		bz_tlv_init(&it, p, 8 + extra);
		assert_int_equal(bz_tlv_next(&it, &code, &v, &n), 1);
		assert_int_equal(bz_tlv_next(&it, &code, &v, &n), -1);
		assert_int_equal(bz_tlv_next(&it, &code, &v, &n), 0);
		free(p);
	}
	struct bz_tlv_iter it;
	uint16_t code;
	const uint8_t *v;
	uint32_t n;
	bz_tlv_init(&it, NULL, 0);
	assert_int_equal(bz_tlv_next(&it, &code, &v, &n), 0);
}

/* Builds an EVENTS block body in b: count, then records of the given sizes
 * (each a bz_ev_hdr with that size, padded with 0xee). */
static void events_body(struct bz_buf *b, uint32_t count, const uint16_t *sizes, size_t n)
{
	bz_buf_reset(b);
	bz_buf_put_u32(b, count);
	bz_buf_put_u32(b, 0);
	for (size_t i = 0; i < n; i++) {
		bz_buf_put_u64(b, 1000 + i);
		bz_buf_put_u32(b, 7);
		bz_buf_put_u32(b, 8);
		bz_buf_put_u16(b, BZ_EV_PROC_EXIT);
		bz_buf_put_u16(b, sizes[i]);
		bz_buf_put_u32(b, 0);
		for (size_t k = 24; k < sizes[i]; k++)
			bz_buf_put(b, "\xee", 1);
	}
}

static void test_ev_iter(void **state)
{
	(void)state;
	struct {
		uint32_t count;
		uint16_t sizes[4];
		size_t n;
		size_t chop;   /* bytes removed from the end of the body */
		int good, last; /* records returned, then the final result */
	} cases[] = {
		{ 3, { 24, 32, 24 }, 3, 0, 3, 0 },
		{ 2, { 24, 32, 24 }, 3, 0, 2, 0 },   /* count below what is there */
		{ 5, { 24, 32, 24 }, 3, 0, 3, -1 },  /* count beyond what fits */
		{ 0xffffffff, { 24 }, 1, 0, 1, -1 },
		{ 2, { 24, 23 }, 2, 0, 1, -1 },      /* size < header */
		{ 2, { 24, 0 }, 2, 0, 1, -1 },
		{ 1, { 40 }, 1, 1, 0, -1 },          /* record past the block end */
		{ 2, { 24, 40 }, 2, 20, 1, -1 },     /* header itself cut */
		{ 1, { 0xffff }, 1, 0, 1, 0 },
		{ 0, { 24 }, 1, 0, 0, 0 },
	};
	struct bz_buf body = { 0 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		events_body(&body, cases[i].count, cases[i].sizes, cases[i].n);
		/* a private allocation of the exact size, so ASan sees overreads */
		size_t len = body.len - cases[i].chop;
		uint8_t *p = malloc(len);
		assert_non_null(p);
		memcpy(p, body.data, len);
		struct bz_block b = { .type = BZ_BLK_EVENTS, .len = (uint32_t)len, .body = p };
		struct bz_ev_iter it;
		const struct bz_ev_hdr *h;
		int rc, got = 0;
		assert_int_equal(bz_ev_iter_init(&it, &b), 0);
		while ((rc = bz_ev_iter_next(&it, &h)) == 1) {
			struct bz_ev_proc_exit e;
			size_t size = bz_ev_copy(&e, sizeof(e), h);
			assert_int_equal(size, cases[i].sizes[got]);
			assert_int_equal(e.h.ts_ns, 1000 + (uint64_t)got);
			assert_int_equal(e.h.kind, BZ_EV_PROC_EXIT);
			if (size < sizeof(e))
				assert_int_equal(e.exit_code, 0); /* beyond size reads as zero */
			got++;
		}
		assert_int_equal(got, cases[i].good);
		assert_int_equal(rc, cases[i].last);
		assert_int_equal(bz_ev_iter_next(&it, &h), 0);
		free(p);
	}
	/* not an EVENTS block, or too short for its fixed part */
	struct bz_ev_iter it;
	uint8_t small[8] = { 0 };
	struct bz_block b = { .type = BZ_BLK_PROC, .len = 8, .body = small };
	assert_int_equal(bz_ev_iter_init(&it, &b), -1);
	b.type = BZ_BLK_EVENTS;
	b.len = 7;
	assert_int_equal(bz_ev_iter_init(&it, &b), -1);
	const struct bz_ev_hdr *h;
	assert_int_equal(bz_ev_iter_next(&it, &h), 0);
	bz_buf_free(&body);
}

/* ---- not a capture, too new ------------------------------------------------ */

static int read_status_mem(const void *p, size_t n, size_t *nblocks)
{
	struct bz_reader *r = NULL;
	struct bz_block b;
	int rc;
	size_t k = 0;
	assert_int_equal(bz_reader_open_mem(&r, p, n), 0);
	while ((rc = bz_reader_next(r, &b)) == 1)
		k++;
	assert_true(rc == 0 || strlen(bz_reader_errmsg(r)) > 0);
	bz_reader_free(&r);
	if (nblocks)
		*nblocks = k;
	return rc;
}

static void test_not_capture(void **state)
{
	(void)state;
	static const char text[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	assert_int_equal(read_status_mem(text, sizeof(text) - 1, NULL), BZ_READ_NOT_CAPTURE);
	assert_int_equal(read_status_mem("hi", 2, NULL), BZ_READ_NOT_CAPTURE);
	assert_int_equal(read_status_mem("", 0, NULL), BZ_READ_NOT_CAPTURE);
	assert_int_equal(read_status_mem(NULL, 0, NULL), BZ_READ_NOT_CAPTURE);

	struct bz_buf z = { 0 }, raw = { 0 };
	zframe(&z, text, sizeof(text) - 1); /* zstd, but of other content */
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_NOT_CAPTURE);
	bz_buf_reset(&z);
	zframe(&z, NULL, 0); /* zstd of nothing */
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_NOT_CAPTURE);
	bz_buf_reset(&z);
	zframe(&z, "\x01\x00", 2); /* too short to tell */
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_NOT_CAPTURE);

	/* right framing, wrong magic; right magic, wrong first block type */
	struct bz_buf h = { 0 };
	header_body(&h, BZ_FORMAT_MAJOR);
	h.data[0] = 'X';
	raw_block(&raw, BZ_BLK_HEADER, h.data, h.len);
	bz_buf_reset(&z);
	zframe(&z, raw.data, raw.len);
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_NOT_CAPTURE);
	header_body(&h, BZ_FORMAT_MAJOR);
	bz_buf_reset(&raw);
	raw_block(&raw, BZ_BLK_EVENTS, h.data, h.len);
	bz_buf_reset(&z);
	zframe(&z, raw.data, raw.len);
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_NOT_CAPTURE);
	/* a HEADER too short for its fixed part */
	bz_buf_reset(&raw);
	raw_block(&raw, BZ_BLK_HEADER, BZ_MAGIC "\x01\x00", 10);
	bz_buf_reset(&z);
	zframe(&z, raw.data, raw.len);
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_NOT_CAPTURE);

	/* files: text, empty, a directory, missing */
	int fd;
	char *path = tmp_file(&fd);
	close(fd);
	struct bz_reader *r = NULL;
	struct bz_block b;
	assert_int_equal(bz_reader_open_file(&r, path), 0);
	assert_int_equal(bz_reader_next(r, &b), BZ_READ_NOT_CAPTURE);
	assert_non_null(strstr(bz_reader_errmsg(r), "empty"));
	bz_reader_free(&r);
	spit(path, text, sizeof(text) - 1);
	assert_int_equal(bz_reader_open_file(&r, path), 0);
	assert_int_equal(bz_reader_next(r, &b), BZ_READ_NOT_CAPTURE);
	bz_reader_free(&r);
	unlink(path);
	assert_int_equal(bz_reader_open_file(&r, path), -ENOENT);
	assert_null(r);
	assert_int_equal(bz_reader_open_file(&r, "/"), -EISDIR);
	assert_null(r);
	free(path);
	bz_buf_free(&h);
	bz_buf_free(&z);
	bz_buf_free(&raw);
}

static void test_too_new(void **state)
{
	(void)state;
	struct bz_buf raw = { 0 }, z = { 0 };
	raw_header(&raw, BZ_FORMAT_MAJOR + 1);
	raw_block(&raw, BZ_BLK_END, NULL, 0);
	zframe(&z, raw.data, raw.len);
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_TOO_NEW);
	/* decided on the first 18 bytes, whatever a future major put after */
	bz_buf_reset(&raw);
	bz_buf_reset(&z);
	bz_buf_put_u32(&raw, 99);
	bz_buf_put_u32(&raw, 3);
	bz_buf_put(&raw, BZ_MAGIC, 8);
	bz_buf_put_u16(&raw, 7);
	zframe(&z, raw.data, raw.len);
	assert_int_equal(read_status_mem(z.data, z.len, NULL), BZ_READ_TOO_NEW);
	/* a newer minor is fine */
	bz_buf_reset(&raw);
	bz_buf_reset(&z);
	struct bz_buf h = { 0 };
	header_body(&h, BZ_FORMAT_MAJOR);
	h.data[10] = 0xff;
	raw_block(&raw, BZ_BLK_HEADER, h.data, h.len);
	zframe(&z, raw.data, raw.len);
	size_t n;
	assert_int_equal(read_status_mem(z.data, z.len, &n), 0);
	assert_int_equal(n, 1);
	bz_buf_free(&h);
	bz_buf_free(&raw);
	bz_buf_free(&z);
}

/* ---- writer errors -------------------------------------------------------- */

/* A file size limit stands in for a full disk: write() fails with EFBIG
 * once the limit is reached.  The file must end on the last complete frame,
 * later blocks must fail at once, and close must get the END block in. */
static void test_writer_file_limit(void **state)
{
	(void)state;
	int fd;
	char *path = tmp_file(&fd);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
	struct bz_writer *w = NULL;
	struct bz_buf h = { 0 };
	assert_int_equal(bz_writer_new(&w, fd, 1), 0);
	header_body(&h, BZ_FORMAT_MAJOR);
	assert_int_equal(bz_writer_block(w, BZ_BLK_HEADER, h.data, h.len), 0);
	assert_int_equal(bz_writer_flush(w), 0);
	assert_int_equal(bz_writer_flush(w), 0); /* nothing buffered: no frame */

	lim = old;
	lim.rlim_cur = 200 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	uint8_t body[8192];
	int rc = 0, blocks = 0;
	uint64_t last_good = bz_writer_file_bytes(w);
	while (!rc && blocks < 10000) {
		fill_bytes(body, sizeof(body), 0);
		rc = bz_writer_block(w, BZ_BLK_EVENTS, body, sizeof(body));
		if (!rc && ++blocks % 5 == 0) {
			rc = bz_writer_flush(w);
			if (!rc)
				last_good = bz_writer_file_bytes(w);
		}
	}
	assert_int_equal(rc, -EFBIG);
	assert_int_equal(bz_writer_error(w), -EFBIG);
	assert_int_equal(bz_writer_file_bytes(w), last_good);
	assert_int_equal(bz_writer_block(w, BZ_BLK_EVENTS, body, 10), -EFBIG); /* fail fast */
	assert_int_equal(bz_writer_flush(w), -EFBIG);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, last_good); /* cut back to the frame end */

	struct bz_buf end = { 0 };
	bz_buf_opt_str(&end, BZ_EO_STOP_REASON, "disk full");
	assert_int_equal(bz_writer_block(w, BZ_BLK_END, end.data, end.len), -EFBIG);
	assert_int_equal(bz_writer_close(&w), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_sig);

	struct bz_reader *r = NULL;
	struct bz_block b;
	int n = 0, saw_end = 0;
	assert_int_equal(bz_reader_open_file(&r, path), 0);
	while ((rc = bz_reader_next(r, &b)) == 1) {
		if (b.type == BZ_BLK_EVENTS)
			n++;
		if (b.type == BZ_BLK_END) {
			saw_end = 1;
			assert_int_equal(b.len, end.len);
			assert_memory_equal(b.body, end.data, end.len);
		}
	}
	assert_int_equal(rc, 0);
	assert_true(saw_end);
	assert_true(n >= 5 && n % 5 == 0);
	assert_true(n < blocks);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size > last_good);
	assert_true(st.st_size <= 200 * 1024);
	bz_reader_free(&r);
	bz_buf_free(&end);
	bz_buf_free(&h);
	unlink(path);
	free(path);
}

/* An END block already buffered when the write fails is not lost either. */
static void test_writer_end_in_failed_frame(void **state)
{
	(void)state;
	int fd;
	char *path = tmp_file(&fd);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
	struct bz_writer *w = NULL;
	struct bz_buf h = { 0 };
	assert_int_equal(bz_writer_new(&w, fd, 1), 0);
	header_body(&h, BZ_FORMAT_MAJOR);
	assert_int_equal(bz_writer_block(w, BZ_BLK_HEADER, h.data, h.len), 0);
	assert_int_equal(bz_writer_flush(w), 0);
	lim = old;
	lim.rlim_cur = bz_writer_file_bytes(w) + 4096;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	uint8_t body[16384];
	fill_bytes(body, sizeof(body), 0);
	assert_int_equal(bz_writer_block(w, BZ_BLK_EVENTS, body, sizeof(body)), 0);
	assert_int_equal(bz_writer_block(w, BZ_BLK_END, "bye", 3), 0);
	assert_int_equal(bz_writer_close(&w), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_sig);

	struct bz_reader *r = NULL;
	struct bz_block b;
	assert_int_equal(bz_reader_open_file(&r, path), 0);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, BZ_BLK_HEADER);
	assert_int_equal(bz_reader_next(r, &b), 1);
	assert_int_equal(b.type, BZ_BLK_END);
	assert_int_equal(b.len, 3);
	assert_int_equal(bz_reader_next(r, &b), 0);
	assert_int_equal(bz_reader_frames(r), 2);
	bz_reader_free(&r);
	bz_buf_free(&h);
	unlink(path);
	free(path);
}

/* A write error that is not about space: fail fast, no END attempt. */
static void test_writer_broken_pipe(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	void (*old_sig)(int) = signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	struct bz_writer *w = NULL;
	assert_int_equal(bz_writer_new(&w, p[1], 3), 0);
	assert_int_equal(bz_writer_block(w, BZ_BLK_HEADER, "x", 1), 0);
	assert_int_equal(bz_writer_flush(w), -EPIPE);
	assert_int_equal(bz_writer_block(w, BZ_BLK_END, NULL, 0), -EPIPE);
	assert_int_equal(bz_writer_close(&w), -EPIPE);
	assert_null(w);
	assert_int_equal(bz_writer_close(&w), 0); /* NULL */
	assert_int_equal(bz_writer_close(NULL), 0);
	signal(SIGPIPE, old_sig);
	assert_int_equal(bz_writer_new(&w, -1, 3), -EINVAL);
	assert_int_equal(bz_writer_new(&w, 1, 1000), -EINVAL);
	assert_null(w);
}

/* ---- beyla info's verdicts ------------------------------------------------- */

/* Runs cmd_info with stdout and stderr in files; returns the exit code. */
static int run_info(const char *out_path, ...)
{
	char *argv[8] = { (char *)"info" };
	int argc = 1;
	va_list ap;
	va_start(ap, out_path);
	for (char *a; argc < 7 && (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	int so = dup(1), se = dup(2);
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && so >= 0 && se >= 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	int rc = cmd_info(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	return rc;
}

/* A small but complete capture with one of each record kind. */
static void write_small_capture(const char *path, int with_end)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	struct bz_writer *w = NULL;
	struct bz_buf b = { 0 };
	assert_int_equal(bz_writer_new(&w, fd, 3), 0);
	header_body(&b, BZ_FORMAT_MAJOR);
	assert_int_equal(bz_writer_block(w, BZ_BLK_HEADER, b.data, b.len), 0);

	bz_buf_reset(&b);
	uint8_t pv[64] = { BZ_PROBE_ATTACHED, 1, 0, 0 };
	memcpy(pv + 4, "sock_recv\0fentry", 16);
	bz_buf_opt(&b, BZ_PO_PROBE, pv, 20);
	pv[0] = BZ_PROBE_REFUSED;
	pv[1] = 0;
	memcpy(pv + 4, "data_ready\0no BTF", 17);
	bz_buf_opt(&b, BZ_PO_PROBE, pv, 21);
	assert_int_equal(bz_writer_block(w, BZ_BLK_PROBES, b.data, b.len), 0);

	bz_buf_reset(&b);
	bz_buf_put_u32(&b, 4242);
	bz_buf_put_u32(&b, 1);
	bz_buf_put_u64(&b, 1000000000ull);
	bz_buf_put_u32(&b, BZ_PF_AT_START | BZ_PF_LAUNCHED);
	bz_buf_put_u32(&b, 0);
	bz_buf_opt_str(&b, BZ_PR_EXE, "/usr/bin/python3");
	bz_buf_opt(&b, BZ_PR_CMDLINE, "python3\0-m\0http.server\0", 23);
	bz_buf_opt_str(&b, BZ_PR_SERVICE_NAME, "shop");
	assert_int_equal(bz_writer_block(w, BZ_BLK_PROC, b.data, b.len), 0);

	struct bz_ev_conn_open co = { .h = { 1100000000ull, 4242, 4243, BZ_EV_CONN_OPEN, sizeof(co), 0 },
				      .conn_id = 7, .family = BZ_AF_INET, .local_port = 8080,
				      .remote_port = 51000, .role = BZ_ROLE_ACCEPTED, .fd = 5,
				      .local_addr = { 127, 0, 0, 1 }, .remote_addr = { 10, 0, 0, 2 } };
	struct bz_ev_data dh = {
		.h = { 1200000000ull, 4242, 4243, BZ_EV_DATA, sizeof(struct bz_ev_data) + 18, 0 },
		.conn_id = 7, .ret = 18, .caplen = 18, .dir = BZ_DIR_IN, .syscall = BZ_SYS_READ,
	};
	uint8_t da[sizeof(struct bz_ev_data) + 18];
	memcpy(da, &dh, sizeof(dh));
	memcpy(da + sizeof(dh), "GET / HTTP/1.1\r\n\"\x01", 18);
	struct bz_ev_conn_close cc = { .h = { 1300000000ull, 4242, 4242, BZ_EV_CONN_CLOSE, sizeof(cc), 0 },
				       .conn_id = 7, .bytes_in = 18 };
	struct bz_ev_hdr unk = { 1400000000ull, 4242, 4242, 99, sizeof(unk), 0 };
	struct bz_ev_proc_exec ex = { .h = { 1010000000ull, 4300, 4300, BZ_EV_PROC_EXEC, 0, 0 },
				      .ppid = 4242, .filename_len = 9, .args_len = 14,
				      .comm = "curl", .filename = "/bin/curl", .args = "curl\0-s\0a b\0\"" };
	ex.h.size = (uint16_t)offsetof(struct bz_ev_proc_exec, args) + 14; /* trimmed record */
	struct bz_ev_proc_fork fk = { .h = { 1005000000ull, 4242, 4242, BZ_EV_PROC_FORK, sizeof(fk), 0 },
				      .child_pid = 4300 };
	struct bz_ev_proc_exit xt = { .h = { 1450000000ull, 4300, 4300, BZ_EV_PROC_EXIT, sizeof(xt), 0 },
				      .exit_code = 256 };
	struct bz_ev_conn_open c6 = { .h = { 1020000000ull, 4300, 4300, BZ_EV_CONN_OPEN, sizeof(c6), 0 },
				      .conn_id = 8, .family = BZ_AF_INET6, .local_port = 40000,
				      .remote_port = 443, .role = BZ_ROLE_CONNECTED, .fd = -1,
				      .syscall_start_ns = 1019000000ull,
				      .local_addr = { [15] = 1 }, .remote_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };
	struct bz_ev_conn_est es = { .h = { 1030000000ull, 4300, 4300, BZ_EV_CONN_EST, sizeof(es), 0 },
				     .conn_id = 8 };
	bz_buf_reset(&b);
	bz_buf_put_u32(&b, 9);
	bz_buf_put_u32(&b, 0);
	bz_buf_put(&b, &fk, sizeof(fk));
	bz_buf_put(&b, &ex, ex.h.size);
	bz_buf_put(&b, &c6, sizeof(c6));
	bz_buf_put(&b, &es, sizeof(es));
	bz_buf_put(&b, &co, sizeof(co));
	bz_buf_put(&b, da, sizeof(da));
	bz_buf_put(&b, &cc, sizeof(cc));
	bz_buf_put(&b, &unk, sizeof(unk));
	bz_buf_put(&b, &xt, sizeof(xt));
	assert_int_equal(bz_writer_block(w, BZ_BLK_EVENTS, b.data, b.len), 0);
	assert_int_equal(bz_writer_flush(w), 0);

	bz_buf_reset(&b);
	bz_buf_put_u64(&b, 1500000000ull);
	uint8_t sv[64] = { 0 };
	sv[0] = 3;  /* emitted */
	sv[8] = 1;  /* lost */
	memcpy(sv + 24, "sock_recv", 9);
	bz_buf_opt(&b, BZ_SO_PROBE, sv, 33);
	assert_int_equal(bz_writer_block(w, BZ_BLK_STATS, b.data, b.len), 0);
	if (with_end) {
		bz_buf_reset(&b);
		bz_buf_opt_u64(&b, BZ_EO_END_MONO_NS, 2000000000ull);
		bz_buf_opt_u64(&b, BZ_EO_EVENTS, 4);
		bz_buf_opt_u64(&b, BZ_EO_DROPS, 1);
		bz_buf_opt_str(&b, BZ_EO_STOP_REASON, "duration");
		assert_int_equal(bz_writer_block(w, BZ_BLK_END, b.data, b.len), 0);
	}
	assert_int_equal(bz_writer_close(&w), 0);
	bz_buf_free(&b);
}

static int file_has(const char *path, const char *needle)
{
	size_t n;
	uint8_t *p = slurp(path, &n);
	p = realloc(p, n + 1);
	p[n] = 0;
	int found = strstr((char *)p, needle) != NULL;
	if (!found)
		fprintf(stderr, "--- missing '%s' in:\n%s---\n", needle, (char *)p);
	free(p);
	return found;
}

static void test_info(void **state)
{
	(void)state;
	int fd;
	char *cap = tmp_file(&fd);
	close(fd);
	char *out = tmp_file(&fd);
	close(fd);
	write_small_capture(cap, 1);

	assert_int_equal(run_info(out, cap, NULL), BZ_EXIT_OK);
	assert_true(file_has(out, "status: complete\n"));
	assert_true(file_has(out, "format:       1.2"));
	assert_true(file_has(out, "recorded by:  beyla record -o x.bz.zst"));
	assert_true(file_has(out, "testhost (kernel 6.1.0, x86_64, 4 cpus"));
	assert_true(file_has(out, "start:        2023-11-14 22:13:20.000000 UTC"));
	assert_true(file_has(out, "duration:     1.000 s"));
	assert_true(file_has(out, "data_ready           refused   optional  no BTF"));
	assert_true(file_has(out, "python3 -m http.server"));
	assert_true(file_has(out, "conn_open              2"));
	assert_true(file_has(out, "   4300    4242 -"));   /* known from FORK only */
	assert_true(file_has(out, "sock_recv                       3            1            0"));

	assert_int_equal(run_info(out, "--dump", cap, NULL), BZ_EXIT_OK);
	assert_true(file_has(out, "PROC pid=4242 ppid=1 flags=at_start|launched exe=/usr/bin/python3 "
				  "service=shop cmdline=\"python3 -m http.server\"\n"));
	assert_true(file_has(out, "CONN ts=1100000000 pid=4242 tid=4243 conn=7 role=accepted "
				  "local=127.0.0.1:8080 remote=10.0.0.2:51000 est=0 start=0 fd=5\n"));
	assert_true(file_has(out, "DATA ts=1200000000 pid=4242 tid=4243 conn=7 dir=in sys=read ret=18 "
				  "start=0 arrival=0 cap=18 \"GET / HTTP/1.1\\r\\n\\\"\\x01\"\n"));
	assert_true(file_has(out, "CLOSE ts=1300000000 pid=4242 conn=7 in=18 out=0\n"));
	assert_true(file_has(out, "UNKNOWN kind=99 size=24\n"));
	assert_true(file_has(out, "FORK ts=1005000000 pid=4242 child=4300\n"));
	assert_true(file_has(out, "EXEC ts=1010000000 pid=4300 tid=4300 ppid=4242 file=/bin/curl "
				  "args=\"curl -s a b \\\"\"\n"));
	assert_true(file_has(out, "CONN ts=1020000000 pid=4300 tid=4300 conn=8 role=connected "
				  "local=[::1]:40000 remote=[2001:db8::2]:443 est=0 start=1019000000 fd=-1\n"));
	assert_true(file_has(out, "EST ts=1030000000 pid=4300 conn=8\n"));
	assert_true(file_has(out, "EXIT ts=1450000000 pid=4300 code=1\n"));

	/* no END: the recorder was killed */
	write_small_capture(cap, 0);
	assert_int_equal(run_info(out, cap, NULL), BZ_EXIT_TRUNCATED);
	assert_true(file_has(out, "status: truncated: no end block (recorder killed?) after byte "));

	/* cut inside the last frame */
	size_t len;
	uint8_t *data = slurp(cap, &len);
	spit(cap, data, len - 3);
	assert_int_equal(run_info(out, cap, NULL), BZ_EXIT_TRUNCATED);
	assert_true(file_has(out, "status: truncated: truncated at byte "));
	assert_true(file_has(out, "(after 1 complete frames"));
	assert_true(file_has(out, "conn_open              2")); /* the first frame was used */

	/* damaged */
	data[len - 2] ^= 0x55;
	spit(cap, data, len);
	assert_int_equal(run_info(out, cap, NULL), BZ_EXIT_CORRUPT);
	assert_true(file_has(out, "status: corrupt: "));

	/* not a capture, too new, missing */
	spit(cap, "hello\n", 6);
	assert_int_equal(run_info(out, cap, NULL), BZ_EXIT_NOT_CAPTURE);
	assert_true(file_has(out, "not a beyla capture"));
	struct bz_buf raw = { 0 }, z = { 0 };
	raw_header(&raw, BZ_FORMAT_MAJOR + 1);
	zframe(&z, raw.data, raw.len);
	spit(cap, z.data, z.len);
	assert_int_equal(run_info(out, cap, NULL), BZ_EXIT_TOO_NEW);
	unlink(cap);
	assert_int_equal(run_info(out, cap, NULL), BZ_EXIT_USAGE);

	bz_buf_free(&raw);
	bz_buf_free(&z);
	free(data);
	unlink(out);
	free(out);
	free(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_encoding),
		cmocka_unit_test(test_roundtrip_file),
		cmocka_unit_test(test_roundtrip_mem),
		cmocka_unit_test(test_block_max),
		cmocka_unit_test(test_blocks_across_frames),
		cmocka_unit_test(test_unknown_block_and_tlv),
		cmocka_unit_test(test_truncate_every_offset),
		cmocka_unit_test(test_cut_frame_yields_blocks),
		cmocka_unit_test(test_corrupt_flips),
		cmocka_unit_test(test_hostile_block_lengths),
		cmocka_unit_test(test_tlv_hostile),
		cmocka_unit_test(test_ev_iter),
		cmocka_unit_test(test_not_capture),
		cmocka_unit_test(test_too_new),
		cmocka_unit_test(test_writer_file_limit),
		cmocka_unit_test(test_writer_end_in_failed_frame),
		cmocka_unit_test(test_writer_broken_pipe),
		cmocka_unit_test(test_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
