/* fuzz_http1.c - libFuzzer target for the HTTP/1.x parser (analyze/http1.c).
 *
 * Input: byte 0 picks the parser's configuration (request direction, fresh
 * or joined mid-stream, closed or cut at the end).  The rest is a sequence of
 * reads/writes, each `ctl len payload[len]`: ctl bit 0 = direction, bit 1 =
 * some bytes beyond the payload are unknown (snap length), bits 2..7 = how
 * many (times 1000 when bit 2 of the config byte is set).
 *
 * Invariants checked, beyond "no crash":
 *  - per direction, HEAD and END alternate, one of each per message;
 *  - requests are numbered 0, 1, 2... in HEAD order; a final response answers
 *    a request already numbered, in increasing order;
 *  - first.ts <= last.ts, and both lie within what was fed;
 *  - strings are NUL-terminated inside their buffers;
 *  - after the flush, every byte fed is in exactly one bucket.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/http1.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct fz {
	int open[2];
	uint64_t next_req;
	uint64_t last_resp;   /* +1; 0 none yet */
	uint64_t fed_ts_max;
	uint64_t fed[2];
};

static void check_str(const char *s, size_t cap) { CHECK(memchr(s, 0, cap) != NULL); }

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct fz *f = u;
	int d = m->dir;

	CHECK(d == 0 || d == 1);
	check_str(m->method, sizeof(m->method));
	check_str(m->target, sizeof(m->target));
	check_str(m->host, sizeof(m->host));
	check_str(m->user_agent, sizeof(m->user_agent));
	check_str(m->content_type, sizeof(m->content_type));
	CHECK(m->first.ts_ns <= m->last.ts_ns);
	CHECK(m->last.ts_ns <= f->fed_ts_max);
	CHECK(m->head_bytes + m->body_bytes <= f->fed[d]);
	if (ev == BZ_HTTP_HEAD) {
		CHECK(!f->open[d]);
		f->open[d] = 1;
		CHECK(m->body_bytes == 0);
		if (m->is_request) {
			CHECK(m->index == f->next_req);
			f->next_req++;
			CHECK(m->method[0]);
		} else {
			CHECK(m->status >= 100 && m->status <= 599);
			if (m->index != BZ_HTTP_NO_INDEX) {
				CHECK(m->index < f->next_req);
				if (!(m->flags & BZ_HTTP_F_INTERIM)) {
					CHECK(m->index + 1 > f->last_resp);
					f->last_resp = m->index + 1;
				}
			}
		}
	} else {
		CHECK(ev == BZ_HTTP_END);
		CHECK(f->open[d]);
		f->open[d] = 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bz_http1 *p = NULL;
	struct fz f = {0};
	uint64_t ts = 1000;
	size_t i = 1;
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	int req_dir = (cfg & 3) == 3 ? BZ_HTTP_DIR_UNKNOWN : (cfg & 1);
	if (bz_http1_new(&p, req_dir, (cfg >> 3) & 1, on_msg, &f))
		return 0;
	while (i + 2 <= size) {
		uint8_t ctl = data[i], n = data[i + 1];
		i += 2;
		size_t known = n < size - i ? n : size - i;
		uint64_t extra = (ctl & 2) ? (uint64_t)(ctl >> 2) * ((cfg & 4) ? 1000 : 1) : 0;
		struct bz_http_read rd = {0};
		ts += 10;
		rd.at.ts_ns = ts;
		rd.at.start_ns = ts - 5;
		rd.at.arrival_ns = ts - 7;
		rd.len = (uint32_t)(known + extra);
		rd.caplen = (uint32_t)known;
		rd.data = data + i;
		f.fed_ts_max = ts;
		f.fed[ctl & 1] += rd.len;
		bz_http1_feed(p, ctl & 1, &rd);
		i += known;
	}
	bz_http1_flush(p, (cfg >> 4) & 1);
	CHECK(!f.open[0] && !f.open[1]);
	const struct bz_proto_stats *st = bz_http1_stats(p);
	for (int d = 0; d < 2; d++) {
		CHECK(st->fed[d] == f.fed[d]);
		CHECK(st->fed[d] == st->skipped[d] + st->ignored[d] + st->msg_bytes[d]);
	}
	bz_http1_free(&p);
	CHECK(p == NULL);
	return 0;
}
