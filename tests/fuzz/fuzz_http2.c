/* fuzz_http2.c - libFuzzer target for the HTTP/2 parser (analyze/proto/
 * http2.c over the frame layer h2frame.c and HPACK), through its protocol
 * interface (bz_proto_http2).
 *
 * Input: byte 0 picks the parser's configuration: bits 0-1 the request
 * direction (3: unknown), bit 2 fresh (the preface expected) or joined
 * mid-stream, bit 3 closed or cut at the end.  Then reads/writes, each
 * `ctl len payload[len]`:
 *   ctl bit 0     direction
 *   ctl bit 1     the read moved more than it holds: (ctl >> 3) + 1 bytes
 *                 (times 100 with bit 2) not captured after the payload
 *   ctl bit 2     (without bit 1) the payload is two pieces with a gap of
 *                 (ctl >> 3) + 1 bytes in the middle, as a ranges record
 * With config bit 4 the client's preface is fed first, as a real
 * connection begins, so that fuzzed frames reach the stream code; with bit
 * 5 (and a known direction) the parser takes over after an HTTP/1.1
 * Upgrade: h2c, stream 1 being request 0.
 *
 * Invariants, beyond "no crash" under ASan/UBSan:
 *  - every message has one HEAD and then one END, per (stream, direction);
 *    none stays open after the flush;
 *  - requests are numbered 0, 1, 2... in HEAD order, and a response
 *    answers a request already numbered (or none);
 *  - strings are NUL-terminated inside their buffers; first.ts <= last.ts
 *    <= the last time fed; a message's bytes never exceed its direction's;
 *  - a gRPC message count is only claimed (grpc_counted) for gRPC;
 *  - the parser's counters see every byte fed, per direction.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/http2.h"
#include "analyze/proto/proto.h"
#include "analyze/u64map.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct fz {
	struct bz_u64map open; /* (stream << 1 | dir) + 1 -> 1 */
	uint64_t next_req;
	uint64_t fed_ts_max;
	uint64_t fed[2];
};

static void check_str(const char *s, size_t cap) { CHECK(memchr(s, 0, cap) != NULL); }

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct fz *f = u;
	uint64_t key = ((uint64_t)m->stream << 1 | m->dir) + 1;
	int interim = (m->flags & BZ_HTTP_F_INTERIM) != 0;

	CHECK(m->dir == 0 || m->dir == 1);
	CHECK(m->proto == BZ_PROTO_HTTP2);
	check_str(m->method, sizeof(m->method));
	check_str(m->target, sizeof(m->target));
	check_str(m->host, sizeof(m->host));
	check_str(m->user_agent, sizeof(m->user_agent));
	check_str(m->content_type, sizeof(m->content_type));
	check_str(m->scheme, sizeof(m->scheme));
	CHECK(m->first.ts_ns <= m->last.ts_ns);
	CHECK(m->last.ts_ns <= f->fed_ts_max);
	CHECK(m->head_bytes + m->body_bytes <= f->fed[m->dir]);
	CHECK(!m->grpc_counted || m->grpc);
	if (ev == BZ_HTTP_HEAD) {
		if (!interim) {
			CHECK(!bz_u64map_get(&f->open, key));
			CHECK(bz_u64map_put(&f->open, key, (void *)1) == 0);
		}
		if (m->is_request) {
			CHECK(m->index == f->next_req);
			f->next_req++;
		} else if (m->index != BZ_HTTP_NO_INDEX) {
			CHECK(m->index < f->next_req);
		}
	} else {
		CHECK(ev == BZ_HTTP_END);
		if (!interim)
			CHECK(bz_u64map_del(&f->open, key) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	const struct bz_proto_ops *ops = &bz_proto_http2;
	struct fz f;
	struct bz_proto_cfg cfg = { 0 };
	void *p = NULL;
	uint64_t ts = 1000;
	size_t i = 1;
	uint8_t c0;

	if (size < 1)
		return 0;
	c0 = data[0];
	memset(&f, 0, sizeof(f));
	cfg.req_dir = (c0 & 3) == 3 ? BZ_HTTP_DIR_UNKNOWN : (c0 & 1);
	cfg.fresh = (c0 >> 2) & 1;
	cfg.cb = on_msg;
	cfg.user = &f;
	if ((c0 & 0x20) && cfg.req_dir != BZ_HTTP_DIR_UNKNOWN) {
		/* after an HTTP/1.1 Upgrade: h2c, stream 1 is request 0, reported
		 * by the HTTP/1 parser */
		cfg.h2c_upgrade = 1;
		cfg.upgrade_index = 0;
		f.next_req = 1;
	}
	if (ops->create(&p, &cfg))
		return 0;
	if (c0 & 0x10) {
		struct bz_http_read rd = { 0 };
		int cdir = cfg.req_dir == BZ_HTTP_DIR_UNKNOWN ? 0 : cfg.req_dir;
		rd.at.ts_ns = ts;
		rd.len = rd.caplen = 24;
		rd.data = preface;
		f.fed_ts_max = ts;
		f.fed[cdir] += 24;
		ops->feed(p, cdir, &rd);
	}
	while (i + 2 <= size) {
		uint8_t ctl = data[i], n = data[i + 1];
		struct bz_http_read rd = { 0 };
		struct bz_range r[2];
		size_t known;
		uint32_t extra = (uint32_t)(ctl >> 3) + 1;

		i += 2;
		known = n < size - i ? n : size - i;
		ts += 10;
		rd.at.ts_ns = ts;
		rd.at.start_ns = ts - 5;
		rd.at.arrival_ns = ts - 7;
		rd.data = data + i;
		rd.caplen = (uint32_t)known;
		rd.len = (uint32_t)known;
		if (ctl & 2) {
			rd.len += extra * ((ctl & 4) ? 100 : 1);
		} else if ((ctl & 4) && known >= 2) {
			r[0].off = 0;
			r[0].len = (uint32_t)known / 2;
			r[1].off = r[0].len + extra;
			r[1].len = (uint32_t)known - r[0].len;
			rd.ranges = r;
			rd.nranges = 2;
			rd.len += extra;
		}
		f.fed_ts_max = ts;
		f.fed[ctl & 1] += rd.len;
		ops->feed(p, ctl & 1, &rd);
		i += known;
	}
	ops->flush(p, (c0 >> 3) & 1);
	CHECK(f.open.len == 0);
	{
		const struct bz_proto_stats *st = ops->stats(p);
		for (int d = 0; d < 2; d++)
			CHECK(st->fed[d] == f.fed[d]);
	}
	ops->destroy(&p);
	CHECK(p == NULL);
	bz_u64map_free(&f.open);
	return 0;
}
