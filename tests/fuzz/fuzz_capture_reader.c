/* fuzz_capture_reader.c - libFuzzer target for the capture reader
 * (analyze/capture_reader.c), the TLV and event iterators that every
 * consumer of a capture uses, and the probe report's parser
 * (analyze/probe_report.c) that `beyla info` and the analyzer share.  fuzz-seeds: captures
 *
 * Input: if it begins with the zstd magic (28 b5 2f fd) it is a capture file
 * as written to disk, fed as is (the captures in samples/ seed it).  Otherwise byte 0
 * is a control byte and the rest is a DECOMPRESSED block stream, compressed
 * here so the fuzzer can shape blocks rather than zstd bits:
 *   bits 0-1  0: one frame; 1: frames of 64*(bits 2-7)+64 bytes;
 *             2: one frame, cut short by (bits 2-7)+1 bytes;
 *             3: one frame with a checksum, its last byte flipped
 *
 * Every byte the reader hands out is read (ASan catches any byte it should
 * not have handed out), and the invariants below abort on violation:
 *  - blocks are contiguous in the decompressed stream, 12 <= total length
 *    <= BZ_BLOCK_MAX, bodies are 8-byte aligned;
 *  - the first block is a HEADER with the magic and a known major version;
 *  - TLV values and event records lie inside their block; no more records
 *    than the block's count; every record is at least a bz_ev_hdr;
 *  - PROBES, GO_BINARY and TLS_LIBRARY blocks: every probe's name and
 *    detail lie inside the block, its row's strings are NUL-terminated
 *    within their buffers, a bad value never ends the iteration, and the
 *    iteration ends for good (0 or -1);
 *  - a status is one of enum bz_read_status, sticky, with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "analyze/capture_reader.h"
#include "analyze/probe_report.h"
#include "bpf/beyla_events.h"
#include "record/capture_format.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static volatile uint64_t sink;

static void touch(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	sink += s;
}

/* Fixed part before the TLV list, per block type; -1: no TLV list. */
static long tlv_start(uint32_t type, uint32_t len)
{
	switch (type) {
	case BZ_BLK_HEADER: return 16;
	case BZ_BLK_PROBES: return 0;
	case BZ_BLK_PROC: return len >= BZ_PROC_FIXED ? (long)BZ_PROC_FIXED : -1;
	case BZ_BLK_STATS: return len >= BZ_STATS_FIXED ? (long)BZ_STATS_FIXED : -1;
	case BZ_BLK_END: return 0;
	default: return -1;
	}
}

static void check_tlv(const struct bz_block *b, size_t from)
{
	struct bz_tlv_iter it;
	uint16_t code;
	const uint8_t *val;
	uint32_t n;
	int rc;

	bz_tlv_init(&it, b->body + from, b->len - from);
	while ((rc = bz_tlv_next(&it, &code, &val, &n)) == 1) {
		CHECK(val >= b->body + from && val <= b->body + b->len);
		CHECK(n <= (size_t)(b->body + b->len - val));
		touch(val, n);
	}
	CHECK(rc == 0 || rc == -1);
	CHECK(bz_tlv_next(&it, &code, &val, &n) == 0); /* stays at the end */
}

static void check_events(const struct bz_block *b)
{
	struct bz_ev_iter it;
	const struct bz_ev_hdr *rec;
	uint32_t count, seen = 0;
	int rc;

	if (bz_ev_iter_init(&it, b) < 0) {
		CHECK(b->len < BZ_EVENTS_FIXED);
		return;
	}
	count = bz_le32(b->body);
	while ((rc = bz_ev_iter_next(&it, &rec)) == 1) {
		const uint8_t *p = (const uint8_t *)rec;
		size_t size = bz_le16(p + 18);
		CHECK(p >= b->body + BZ_EVENTS_FIXED);
		CHECK(size >= sizeof(struct bz_ev_hdr));
		CHECK(size <= (size_t)(b->body + b->len - p));
		CHECK(++seen <= count);
		touch(p, size);
		union {
			struct bz_ev_hdr h;
			struct bz_ev_data d;
			struct bz_ev_proc_exec e;
			struct bz_ev_conn_open o;
			struct bz_ev_conn_close c;
		} u;
		CHECK(bz_ev_copy(&u, sizeof(u), rec) == size);
		if (u.h.kind == BZ_EV_DATA && size >= sizeof(u.d)) {
			/* what a consumer may read of the payload: caplen, within the record */
			size_t cap = u.d.caplen < size - sizeof(u.d) ? u.d.caplen : size - sizeof(u.d);
			touch(p + sizeof(u.d), cap);
		}
	}
	CHECK(rc == 0 || rc == -1);
}

static void check_probes(const struct bz_block *b)
{
	struct bz_probe_iter it;
	struct bz_probe_value v;
	struct bz_probe_row row;
	uint16_t code;
	int rc;

	CHECK(bz_probe_iter_init(&it, b) == 0);
	while ((rc = bz_probe_iter_next(&it, &code, &v)) > 0) {
		CHECK(rc == BZ_PI_OPTION || rc == BZ_PI_PROBE || rc == BZ_PI_BAD);
		if (rc != BZ_PI_PROBE)
			continue;
		CHECK(v.name >= b->body && v.name_len <= (size_t)(b->body + b->len - v.name));
		CHECK(v.detail >= v.name + v.name_len && v.detail_len <= (size_t)(b->body + b->len - v.detail));
		touch(v.name, v.name_len);
		touch(v.detail, v.detail_len);
		bz_probe_row_fill(&row, &it, &v);
		CHECK(memchr(row.name, 0, sizeof(row.name)) && memchr(row.detail, 0, sizeof(row.detail)));
		CHECK(memchr(row.path, 0, sizeof(row.path)) && row.kind && row.category);
		CHECK(strlen(row.name) <= v.name_len && strlen(row.detail) <= v.detail_len);
		touch((const uint8_t *)bz_probe_status_name(row.status), 1);
	}
	CHECK(rc == 0 || rc == -1);
	CHECK(bz_probe_iter_next(&it, &code, &v) == 0); /* stays at the end */
}

static int read_all(const uint8_t *data, size_t size)
{
	struct bz_reader *r = NULL;
	struct bz_block b;
	uint64_t next_off = 0, blocks = 0;
	int rc;

	if (bz_reader_open_mem(&r, data, size))
		return 0;
	while ((rc = bz_reader_next(r, &b)) == 1) {
		CHECK(b.len <= BZ_BLOCK_MAX - BZ_BLOCK_OVERHEAD);
		CHECK(b.len == 0 || b.body != NULL);
		CHECK(b.len == 0 || ((uintptr_t)b.body & 7) == 0);
		CHECK(b.offset == next_off);
		next_off = b.offset + b.len + BZ_BLOCK_OVERHEAD;
		touch(b.body, b.len);
		if (blocks++ == 0) {
			CHECK(b.type == BZ_BLK_HEADER);
			CHECK(b.len >= 16 && !memcmp(b.body, BZ_MAGIC, 8));
			CHECK(bz_le16(b.body + 8) <= BZ_FORMAT_MAJOR);
		}
		long from = tlv_start(b.type, b.len);
		if (from >= 0)
			check_tlv(&b, (size_t)from);
		if (b.type == BZ_BLK_EVENTS)
			check_events(&b);
		if (b.type == BZ_BLK_PROBES || b.type == BZ_BLK_GO_BINARY || b.type == BZ_BLK_TLS_LIBRARY)
			check_probes(&b);
	}
	CHECK(rc <= 0 && rc >= BZ_READ_NOMEM);
	if (rc < 0) {
		const char *m = bz_reader_errmsg(r);
		CHECK(m && m[0]);
		CHECK(bz_reader_next(r, &b) == rc); /* sticky */
	} else {
		CHECK(bz_reader_next(r, &b) == 0);
	}
	CHECK(bz_reader_compressed_offset(r) <= size);
	CHECK(bz_reader_frames(r) <= size);
	bz_reader_free(&r);
	CHECK(r == NULL);
	bz_reader_free(&r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zmagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	uint8_t ctl;
	const uint8_t *raw;
	size_t rawlen, cap, out = 0;
	uint8_t *z;

	if (size >= 4 && !memcmp(data, zmagic, 4))
		return read_all(data, size);
	if (size < 1)
		return read_all(data, 0);
	ctl = data[0];
	raw = data + 1;
	rawlen = size - 1;
	cap = ZSTD_compressBound(rawlen) * 2 + 64 * (rawlen / 64 + 1) + 64;
	z = malloc(cap);
	if (!z)
		return 0;
	switch (ctl & 3) {
	case 1: { /* several frames */
		size_t step = 64 * (size_t)(ctl >> 2) + 64;
		for (size_t off = 0; off < rawlen || off == 0; off += step) {
			size_t n = rawlen - off < step ? rawlen - off : step;
			size_t k = ZSTD_compress(z + out, cap - out, raw + off, n, 1);
			if (ZSTD_isError(k))
				goto done;
			out += k;
			if (!rawlen)
				break;
		}
		break;
	}
	case 3: { /* a checksummed frame with its last byte damaged */
		ZSTD_CCtx *cc = ZSTD_createCCtx();
		if (!cc)
			goto done;
		ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
		out = ZSTD_compress2(cc, z, cap, raw, rawlen);
		ZSTD_freeCCtx(cc);
		if (ZSTD_isError(out))
			goto done;
		if (out)
			z[out - 1] ^= 0x5a;
		break;
	}
	default: /* 0: one frame; 2: one frame cut short */
		out = ZSTD_compress(z, cap, raw, rawlen, 1);
		if (ZSTD_isError(out))
			goto done;
		if ((ctl & 3) == 2) {
			size_t cut = (size_t)(ctl >> 2) + 1;
			out = out > cut ? out - cut : 0;
		}
		break;
	}
	read_all(z, out);
done:
	free(z);
	return 0;
}
