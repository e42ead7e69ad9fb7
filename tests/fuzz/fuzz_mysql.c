/* fuzz_mysql.c - libFuzzer target for the MySQL / MariaDB protocol: the
 * record-time masker (record/redact_mysql.c) and the analyzer's parser
 * (analyze/proto/mysql.c) fed what the masker left, as the recorder and
 * the analyzer see one connection.
 *
 * Input: byte 0 picks the configuration: bit 0 the client's direction,
 * bit 1 joined mid-way (else fresh), bit 2 the parser's request
 * direction unknown, bit 3 closed at the end, bit 4: a real greeting from
 * MariaDB is the first read (so that fuzzed bytes reach the handshake and
 * command phases).  Then reads/writes, each `ctl len payload[len]`:
 *   ctl bit 0     direction
 *   ctl bit 1     the read moved more than it holds: (ctl >> 2) + 1 bytes
 *                 (times 64 with bit 7... see below) not captured after it
 *   ctl bit 7     (with bit 1) the uncaptured count is times 4096
 *
 * Invariants, beyond "no crash" under ASan/UBSan:
 *  - the masker never changes a length, and masks no more than it says;
 *  - the parser's every request has one HEAD then one END, requests
 *    numbered 0, 1, 2..., an answer to a request already numbered;
 *    strings NUL-terminated; first.ts <= last.ts;
 *  - per direction every byte fed lands in exactly one of message bytes,
 *    skipped, ignored;
 *  - the masker is deterministic: the same reads masked again from the
 *    original bytes give the same output.
 * (Masking is not idempotent, and need not be: a packet masked whole, its
 * first byte too, reads as another class the second time.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/mysql.h"
#include "analyze/proto/proto.h"
#include "record/redact.h"
#include "record/redact_wire.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAXREADS 256

static const uint8_t greeting[] =
	"\x64\x00\x00\x00\x0a" "5.5.5-10.11.19-MariaDB-0+deb12u1" "\x00"
	"\x05\x00\x00\x00\x38\x7c\x2d\x67\x43\x55\x61\x6a\x00\xfe\xf7\x08\x02\x00\xff\x81\x15"
	"\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00\x70\x74\x76\x73\x5e\x5e\x3c\x4e\x54\x3e\x77\x5e\x00"
	"mysql_native_password";

struct fz {
	uint64_t next_req, open_req, heads, ends;
	uint64_t ts_max;
};

static void check_str(const char *s, size_t cap) { CHECK(memchr(s, 0, cap) != NULL); }

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct fz *f = u;

	CHECK(m->proto == BZ_PROTO_MYSQL);
	CHECK(m->dir == 0 || m->dir == 1);
	check_str(m->db.system, sizeof(m->db.system));
	check_str(m->db.operation, sizeof(m->db.operation));
	check_str(m->db.collection, sizeof(m->db.collection));
	check_str(m->db.namespace_, sizeof(m->db.namespace_));
	check_str(m->db.query, sizeof(m->db.query));
	check_str(m->db.status, sizeof(m->db.status));
	CHECK(m->first.ts_ns <= m->last.ts_ns);
	CHECK(m->last.ts_ns <= f->ts_max);
	if (ev == BZ_HTTP_HEAD) {
		f->heads++;
		if (m->is_request) {
			CHECK(m->index == f->next_req);
			f->next_req++;
			f->open_req = 1;
		} else {
			CHECK(m->index < f->next_req);
		}
	} else {
		f->ends++;
		CHECK(f->ends <= f->heads);
	}
}

struct rd {
	unsigned dir;
	uint8_t *p;
	size_t cap;
	uint64_t ret;
};

static size_t mask_all(const struct rd *r, size_t n, unsigned client_dir, int joined, uint8_t **copy)
{
	const struct rd_wire_ops *ops = &rd_wire_mysql;
	void *st = calloc(1, ops->state_size);
	size_t total = 0;

	if (!st)
		return 0;
	ops->init(st, client_dir, joined);
	for (size_t i = 0; i < n; i++) {
		size_t k;
		if (copy)
			memcpy(copy[i], r[i].p, r[i].cap);
		k = ops->data(st, r[i].dir, copy ? copy[i] : r[i].p, r[i].cap, r[i].ret);
		CHECK(k <= r[i].cap);
		total += k;
	}
	free(st);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r[MAXREADS];
	uint8_t *copy[MAXREADS];
	size_t n = 0, i = 1;
	uint8_t c0;
	unsigned client_dir;
	int joined;
	struct fz f;
	struct bz_proto_cfg cfg = { 0 };
	void *p = NULL;
	uint64_t fed[2] = { 0, 0 }, ts = 1000;

	if (size < 1)
		return 0;
	c0 = data[0];
	client_dir = c0 & 1;
	joined = (c0 >> 1) & 1;
	if (c0 & 0x10) {
		r[n].dir = !client_dir;
		r[n].cap = sizeof(greeting) - 1;
		r[n].ret = r[n].cap;
		r[n].p = malloc(r[n].cap);
		if (!r[n].p)
			return 0;
		memcpy(r[n].p, greeting, r[n].cap);
		n++;
	}
	while (i + 2 <= size && n < MAXREADS) {
		uint8_t ctl = data[i], len = data[i + 1];
		size_t known;
		i += 2;
		known = len < size - i ? len : size - i;
		r[n].dir = ctl & 1;
		r[n].cap = known;
		r[n].ret = known;
		if (ctl & 2)
			r[n].ret += (uint64_t)((ctl >> 2) & 0x1f) * ((ctl & 0x80) ? 4096 : 1) + 1;
		r[n].p = malloc(known ? known : 1);
		if (!r[n].p)
			break;
		memcpy(r[n].p, data + i, known);
		n++;
		i += known;
	}
	/* the masker on a copy of the original reads, then in place: the
	 * same bytes */
	for (size_t k = 0; k < n; k++) {
		copy[k] = malloc(r[k].cap ? r[k].cap : 1);
		CHECK(copy[k] != NULL);
	}
	mask_all(r, n, client_dir, joined, copy);
	mask_all(r, n, client_dir, joined, NULL);
	for (size_t k = 0; k < n; k++) {
		CHECK(!memcmp(copy[k], r[k].p, r[k].cap));
		free(copy[k]);
	}
	/* the parser on the masked reads */
	memset(&f, 0, sizeof(f));
	cfg.req_dir = (c0 & 4) ? BZ_HTTP_DIR_UNKNOWN : (int)client_dir;
	cfg.fresh = !joined;
	cfg.cb = on_msg;
	cfg.user = &f;
	if (bz_proto_mysql.create(&p, &cfg) == 0) {
		const struct bz_proto_stats *st;
		for (size_t k = 0; k < n; k++) {
			struct bz_http_read rd = { 0 };
			if (!r[k].ret)
				continue;
			ts += 10;
			f.ts_max = ts;
			rd.at.ts_ns = ts;
			rd.at.start_ns = ts - 5;
			rd.len = (uint32_t)r[k].ret;
			rd.caplen = (uint32_t)r[k].cap;
			rd.data = r[k].p;
			fed[r[k].dir] += rd.len;
			bz_proto_mysql.feed(p, (int)r[k].dir, &rd);
		}
		bz_proto_mysql.flush(p, (c0 >> 3) & 1);
		CHECK(f.heads == f.ends);
		st = bz_proto_mysql.stats(p);
		for (int d = 0; d < 2; d++) {
			CHECK(st->fed[d] == fed[d]);
			CHECK(st->fed[d] == st->msg_bytes[d] + st->skipped[d] + st->ignored[d]);
		}
		bz_proto_mysql.destroy(&p);
		CHECK(p == NULL);
	}
	for (size_t k = 0; k < n; k++)
		free(r[k].p);
	return 0;
}
