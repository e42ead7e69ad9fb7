/* fuzz_pgsql.c - libFuzzer target for PostgreSQL: the recorder's masker
 * (record/redact_pg.c, through redact_wire.c's dispatch, detection
 * included) and the analyzer's parser (analyze/proto/pgsql.c) fed what the
 * masker left, as a capture would give them.
 *
 * Input: byte 0 the configuration: bit 0 the target is the client (else
 * the server), bit 1 the connection is fresh (else joined mid-way), bit 2
 * the parser knows the role, bit 3 the connection was open before the
 * recording (the masker's "joined").  Then reads/writes, each
 * `ctl len payload[len]`:
 *   ctl bit 0   sent by the client (else by the server)
 *   ctl bit 1   the read moved more than it holds: (ctl >> 2) + 1 bytes
 *               not captured after the payload
 * tests/fuzz/seeds/fuzz_pgsql/ holds real connections in this form.
 *
 * Invariants, beyond "no crash" under ASan/UBSan:
 *  - the masker touches nothing outside the captured bytes (ASan: each
 *    payload is its own allocation of exactly its size), says it masked
 *    no more than it was given, and once a stream is judged PostgreSQL
 *    it stays so;
 *  - the parser: each request one HEAD then one END, each response one
 *    HEAD then one END after its request's END, a response answers a
 *    request already reported, requests numbered 0, 1, 2... in HEAD
 *    order; strings NUL-terminated; nothing left open after the flush;
 *    every byte fed, per direction, in exactly one of the counters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/pgsql.h"
#include "analyze/proto/proto.h"
#include "record/redact_wire.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAXCALLS 4096

struct fz {
	uint8_t req_head[MAXCALLS], req_end[MAXCALLS], resp_head[MAXCALLS], resp_end[MAXCALLS];
	uint64_t next_req;
};

static void check_str(const char *s, size_t cap) { CHECK(memchr(s, 0, cap) != NULL); }

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct fz *f = u;
	uint64_t i = m->index;

	CHECK(m->dir == 0 || m->dir == 1);
	CHECK(m->proto == BZ_PROTO_PGSQL);
	check_str(m->db.system, sizeof(m->db.system));
	check_str(m->db.operation, sizeof(m->db.operation));
	check_str(m->db.collection, sizeof(m->db.collection));
	check_str(m->db.namespace_, sizeof(m->db.namespace_));
	check_str(m->db.query, sizeof(m->db.query));
	check_str(m->db.status, sizeof(m->db.status));
	CHECK(m->content_length == -1);
	if (m->is_request) {
		if (ev == BZ_HTTP_HEAD) {
			CHECK(i == f->next_req);
			f->next_req++;
			if (i < MAXCALLS)
				f->req_head[i]++;
		} else if (i < MAXCALLS) {
			CHECK(f->req_head[i] == 1 && !f->req_end[i]);
			f->req_end[i]++;
		}
		return;
	}
	CHECK(i < f->next_req);
	if (i >= MAXCALLS)
		return;
	if (ev == BZ_HTTP_HEAD) {
		CHECK(!f->resp_head[i]);
		f->resp_head[i]++;
	} else {
		CHECK(f->resp_head[i] == 1 && !f->resp_end[i] && f->req_end[i] == 1);
		f->resp_end[i]++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	struct rd_wire *w = NULL;
	void *p = NULL;
	int target_client, claimed = -1;
	struct bz_proto_cfg cfg;
	const struct bz_proto_stats *st;
	size_t off = 1;

	if (size < 1)
		return 0;
	memset(&f, 0, sizeof(f));
	target_client = data[0] & 1;
	cfg = (struct bz_proto_cfg){
		.req_dir = !(data[0] & 4) ? BZ_HTTP_DIR_UNKNOWN : target_client ? BZ_HTTP_OUT : BZ_HTTP_IN,
		.fresh = (data[0] >> 1) & 1, .cb = on_msg, .user = &f,
	};
	CHECK(rd_wire_new(&w) == 0);
	if (data[0] & 8)
		rd_wire_joined(w, 1);
	CHECK(bz_proto_pgsql.create(&p, &cfg) == 0);
	while (off + 2 <= size) {
		uint8_t ctl = data[off], len = data[off + 1];
		int from_client = ctl & 1;
		unsigned rdir = (unsigned)(from_client == target_client); /* 1: written by the target */
		uint32_t extra = (ctl & 2) ? (uint32_t)(ctl >> 2) + 1 : 0;
		uint8_t *pay;
		size_t masked = 0;
		struct bz_http_read rd = { 0 };
		int r;

		off += 2;
		if (len > size - off)
			len = (uint8_t)(size - off);
		if (!len && !extra)
			continue;
		pay = malloc(len ? len : 1);
		CHECK(pay);
		memcpy(pay, data + off, len);
		off += len;
		r = rd_wire_data(w, 1, rdir, 0, pay, len, (int64_t)len + extra, &masked);
		CHECK(masked <= len);
		if (len && claimed < 0)
			claimed = r;
		else if (claimed >= 0)
			CHECK(r == claimed);
		rd.at.ts_ns = off;
		rd.len = len + extra;
		rd.caplen = len;
		rd.data = pay;
		bz_proto_pgsql.feed(p, rdir ? BZ_HTTP_OUT : BZ_HTTP_IN, &rd);
		free(pay);
	}
	bz_proto_pgsql.flush(p, 1);
	st = bz_proto_pgsql.stats(p);
	for (int d = 0; d < 2; d++)
		CHECK(st->fed[d] == st->skipped[d] + st->ignored[d] + st->msg_bytes[d]);
	for (uint64_t i = 0; i < f.next_req && i < MAXCALLS; i++) {
		CHECK(f.req_head[i] == 1 && f.req_end[i] == 1);
		CHECK(f.resp_head[i] == f.resp_end[i]);
	}
	bz_proto_pgsql.destroy(&p);
	CHECK(!p);
	rd_wire_free(&w);
	return 0;
}
