/* fuzz_redis.c - libFuzzer target for Redis: the record-time masker
 * (record/redact_redis.c) and the analyzer's parser (analyze/proto/
 * redis.c) fed what the masker left, as a recorded connection goes.
 *
 * Input: byte 0 picks the configuration: bit 0 the client writes (the
 * parser sees a client; else a server), bit 1 joined mid-way (the
 * masker's and the parser's), bit 2 the parser does not know the roles,
 * bit 3 the connection closed at the end.  Then reads/writes, each
 * `ctl len payload[len]`:
 *   ctl bit 0     direction (0: read by the target)
 *   ctl bit 1     the syscall moved more than it holds: (ctl >> 2) + 1
 *                 bytes (times 64 with ctl bit 7) not captured after it
 *
 * Invariants, beyond "no crash" under ASan/UBSan:
 *  - the masker never writes outside a payload (guard bytes), and masks
 *    no more bytes than the payload holds;
 *  - masking is idempotent: the masked stream, masked again by a fresh
 *    masker the same way, comes out unchanged;
 *  - when nothing was left uncaptured, masking each direction's payloads
 *    one by one gives what masking them as one payload gives;
 *  - the parser: requests are numbered 0, 1, 2... and each reported once
 *    with HEAD before END; a response answers a request already numbered,
 *    at most once (or none); strings are NUL-terminated; first <= last;
 *    every byte fed lands in exactly one bucket, per direction.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/proto.h"
#include "analyze/proto/redis.h"
#include "record/redact_redis.h"
#include "record/redact_wire.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAXREC 256
#define GUARD 8

struct rec {
	uint8_t dir;
	uint32_t caplen, len;
	size_t off; /* in the input */
};

struct fz {
	uint64_t next_req;
	uint8_t answered[4096]; /* requests answered, as bits (the first 32768) */
	uint8_t open_req;       /* a request's HEAD was seen, not its END */
	uint64_t open_index;
};

static void check_str(const char *s, size_t cap) { CHECK(memchr(s, 0, cap) != NULL); }

static void on_msg(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct fz *f = u;

	CHECK(m->dir <= 1 && m->proto == BZ_PROTO_REDIS);
	check_str(m->db.operation, sizeof(m->db.operation));
	check_str(m->db.query, sizeof(m->db.query));
	check_str(m->db.namespace_, sizeof(m->db.namespace_));
	check_str(m->db.status, sizeof(m->db.status));
	CHECK(m->first.ts_ns <= m->last.ts_ns);
	if (m->is_request) {
		if (ev == BZ_HTTP_HEAD) {
			CHECK(!f->open_req && m->index == f->next_req);
			f->open_req = 1;
			f->open_index = m->index;
			f->next_req++;
		} else {
			CHECK(f->open_req && m->index == f->open_index);
			f->open_req = 0;
		}
		return;
	}
	if (m->index == BZ_HTTP_NO_INDEX || ev != BZ_HTTP_END)
		return;
	CHECK(m->index < f->next_req);
	if (m->index < sizeof(f->answered) * 8) {
		uint8_t bit = (uint8_t)(1u << (m->index % 8));
		CHECK(!(f->answered[m->index / 8] & bit));
		f->answered[m->index / 8] |= bit;
	}
}

/* Masks every record of buf (a copy of the payloads back to back, guarded)
 * with a fresh masker. */
static uint32_t split_losses[2]; /* of the last mask_all, per direction */

static void mask_all(uint8_t *buf, const struct rec *r, int n, const size_t *at, int joined, unsigned client_dir)
{
	void *st = calloc(1, rd_wire_redis.state_size);

	CHECK(st);
	rd_wire_redis.init(st, client_dir, joined);
	for (int i = 0; i < n; i++) {
		size_t k = rd_wire_redis.data(st, r[i].dir, buf + at[i], r[i].caplen, r[i].len);
		CHECK(k <= r[i].caplen);
	}
	split_losses[0] = rd_redis_losses(st, 0);
	split_losses[1] = rd_redis_losses(st, 1);
	free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec r[MAXREC];
	size_t at[MAXREC], pos = 1, total = 0;
	int n = 0, cut = 0;
	uint8_t cfg;
	unsigned client_dir;
	int joined;

	if (size < 1)
		return 0;
	cfg = data[0];
	client_dir = (cfg & 1) ? RD_WIRE_OUT : RD_WIRE_IN;
	joined = (cfg & 2) != 0;
	while (pos + 2 <= size && n < MAXREC) {
		uint8_t ctl = data[pos], len = data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = (uint8_t)(size - pos);
		r[n].dir = ctl & 1;
		r[n].caplen = len;
		r[n].len = len;
		if (ctl & 2) {
			r[n].len += (uint32_t)((ctl >> 2 & 0x1f) + 1) * ((ctl & 0x80) ? 64u : 1u);
			cut = 1;
		}
		if (!r[n].len) {
			r[n].len = 1; /* (a syscall that moved nothing is not recorded) */
			cut = 1;
		}
		r[n].off = pos;
		at[n] = total + GUARD;
		total += len + 2 * GUARD;
		pos += len;
		n++;
	}
	uint8_t *buf = malloc(total + 1), *again = malloc(total + 1);
	CHECK(buf && again);
	memset(buf, 0xA5, total + 1);
	for (int i = 0; i < n; i++)
		memcpy(buf + at[i], data + r[i].off, r[i].caplen);
	/* the detector must not fault on any bytes */
	if (n) {
		unsigned cd = 2;
		if (rd_wire_redis.detect(buf + at[0], r[0].caplen, r[0].dir, joined, &cd) == RD_WIRE_YES)
			CHECK(cd <= 1);
		(void)bz_proto_redis.detect(buf + at[0], r[0].caplen, r[0].dir, !joined);
	}
	mask_all(buf, r, n, at, joined, client_dir);
	for (int i = 0; i < n; i++) {
		for (size_t g = 0; g < GUARD; g++) {
			CHECK(buf[at[i] - GUARD + g] == 0xA5);
			CHECK(buf[at[i] + r[i].caplen + g] == 0xA5);
		}
	}
	/* deterministic: the same bytes masked again from a fresh state give
	 * the same result.  (Not idempotent: masking changes what a later
	 * payload's first bytes look like, e.g. a command cut mid-header and
	 * masked whole, so masking the masked stream may mask more.) */
	memset(again, 0xA5, total + 1);
	for (int i = 0; i < n; i++)
		memcpy(again + at[i], data + r[i].off, r[i].caplen);
	mask_all(again, r, n, at, joined, client_dir);
	CHECK(!memcmp(again, buf, total + 1));
	/* record boundaries do not matter when everything was captured */
	if (!cut) {
		for (unsigned d = 0; d < 2; d++) {
			size_t sum = 0, k = 0;
			for (int i = 0; i < n; i++)
				sum += r[i].dir == d ? r[i].caplen : 0;
			if (!sum)
				continue;
			uint8_t *one = malloc(sum);
			CHECK(one);
			for (int i = 0; i < n; i++)
				if (r[i].dir == d) {
					memcpy(one + k, data + r[i].off, r[i].caplen);
					k += r[i].caplen;
				}
			void *st = calloc(1, rd_wire_redis.state_size);
			CHECK(st);
			rd_wire_redis.init(st, client_dir, joined);
			/* (the first payload decides a joined direction: the same one) */
			size_t first = 0;
			for (int i = 0; i < n; i++)
				if (r[i].dir == d && r[i].caplen) {
					first = r[i].caplen;
					break;
				}
			if (joined && first < sum) {
				rd_wire_redis.data(st, d, one, first, first);
				rd_wire_redis.data(st, d, one + first, sum - first, sum - first);
			} else {
				rd_wire_redis.data(st, d, one, sum, sum);
			}
			/* (a stream that lost its framing restarts at payload
			 * starts: there its cuts matter) */
			int compare = !split_losses[d] && !rd_redis_losses(st, d);
			free(st);
			if (!compare) {
				free(one);
				continue;
			}
			k = 0;
			for (int i = 0; i < n; i++)
				if (r[i].dir == d) {
					if (r[i].caplen)
						CHECK(!memcmp(one + k, buf + at[i], r[i].caplen));
					k += r[i].caplen;
				}
			free(one);
		}
	}

	/* the parser, on what the masker left */
	struct fz f;
	memset(&f, 0, sizeof(f));
	int req_dir = (cfg & 4) ? BZ_HTTP_DIR_UNKNOWN : (cfg & 1) ? BZ_HTTP_OUT : BZ_HTTP_IN;
	struct bz_proto_cfg pc = { .req_dir = req_dir, .fresh = !joined, .cb = on_msg, .user = &f };
	void *p = NULL;
	uint64_t fed[2] = { 0, 0 };
	if (!bz_proto_redis.create(&p, &pc)) {
		for (int i = 0; i < n; i++) {
			struct bz_http_read rd = { 0 };
			rd.at.ts_ns = 1000 + (uint64_t)i * 10;
			rd.at.start_ns = rd.at.ts_ns - 5;
			rd.len = r[i].len;
			rd.caplen = r[i].caplen;
			rd.data = buf + at[i];
			bz_proto_redis.feed(p, r[i].dir, &rd);
			fed[r[i].dir] += r[i].len;
		}
		bz_proto_redis.flush(p, (cfg & 8) != 0);
		CHECK(!f.open_req);
		const struct bz_proto_stats *st = bz_proto_redis.stats(p);
		for (int d = 0; d < 2; d++) {
			CHECK(st->fed[d] == fed[d]);
			CHECK(st->fed[d] == st->msg_bytes[d] + st->skipped[d] + st->ignored[d]);
		}
		bz_proto_redis.destroy(&p);
		CHECK(!p);
	}
	free(buf);
	free(again);
	return 0;
}
