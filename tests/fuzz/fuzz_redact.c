/* fuzz_redact.c - libFuzzer target for payload redaction (record/redact.c).
 *
 * Input: byte 0 configures the redactor:
 *   bit 0  exact mode (BZ_REDACT_F_EXACT), and check split invariance (below)
 *   bit 1  a table of 3 streams (exercises the full-table fallback)
 *   bit 2  extra names: --redact-header X-Custom, --redact-param pin
 * then reads, each `ctl len payload[len]`:
 *   ctl bits 0-1  connection 0..3;  bit 2  direction
 *   bits 3-4      0: ret = len; 1: ret = len + (bits 5-7) + 1 (a few bytes
 *                 uncaptured); 2: ret = len + 1000 * ((bits 5-7) + 1);
 *                 3: ret = -11 (nothing moved), or, with bits 5-7 all set,
 *                 the connection closes (CONN_CLOSE) and the payload is unused
 *
 * Invariants, beyond "no crash" under ASan/UBSan:
 *  - a read's length never changes; a byte either stays or becomes
 *    BZ_REDACT_FILL, and CR and LF bytes never change;
 *  - exact mode with a roomy table: a stream read without uncaptured bytes
 *    comes out byte for byte the same as the same bytes in a single read
 *    (decisions never depend on where reads were cut);
 *  - the table never holds more than its limit, and is empty once every
 *    connection is closed;
 *  - the whole-line fast path changes nothing: a second redactor with
 *    BZ_REDACT_F_BYTEWISE, given the same reads, masks the same bytes and
 *    ends with the same counts;
 *  - values that come back (redact_echo): a value the state machine masked
 *    whole inside a read (known from a third redactor without echo, whose
 *    machine decides exactly the same) appears in no read of its
 *    connection from then on until it closes, unless the redactor says it
 *    could not keep every value.
 * Split invariance cannot hold with echo (a value learned from the other
 * direction masks bytes a single read of one direction keeps), so exact
 * mode runs without it (BZ_REDACT_F_NO_ECHO) and the other modes with it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/redact.h"
#include "record/redact_echo.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define NCONN 4
#define LOG_MAX 8192

struct stream_log {
	uint8_t in[LOG_MAX], out[LOG_MAX];
	size_t len;
	int tainted; /* uncaptured bytes, or too long to keep: not compared */
};

static struct stream_log logs[NCONN][2];

/* Values the machine masked whole, per connection, until it closes. */
#define SEEN_MAX 64
struct seen {
	uint8_t v[SEEN_MAX][256];
	size_t len[SEEN_MAX];
	int n;
};
static struct seen seen[NCONN];

/* Runs of bytes that went from in to FILL in out, not touching either end
 * of the read (those may be parts of values cut by the read), long enough to
 * be looked for again: remembered for conn. */
static void learn(unsigned conn, const uint8_t *in, const uint8_t *out, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		while (j < n && out[j] == BZ_REDACT_FILL && in[j] != BZ_REDACT_FILL)
			j++;
		if (j == i) {
			i++;
			continue;
		}
		if (i > 0 && j < n && j - i >= BZ_REDACT_ECHO_MIN && seen[conn].n < SEEN_MAX) {
			memcpy(seen[conn].v[seen[conn].n], in + i, j - i);
			seen[conn].len[seen[conn].n++] = j - i;
		}
		i = j;
	}
}

static void no_value_survives(unsigned conn, const uint8_t *out, size_t n)
{
	for (int k = 0; k < seen[conn].n; k++)
		CHECK(!memmem(out, n, seen[conn].v[k], seen[conn].len[k]));
}
static struct bz_redact *make(unsigned cfg, unsigned flags)
{
	struct bz_redact *r = NULL;
	/* (the HTTP rules' invariants: no database masker, see `any` below) */
	if (bz_redact_new(&r, (cfg & 2) ? 3 : 0, ((cfg & 1) ? BZ_REDACT_F_EXACT : 0) | BZ_REDACT_F_HTTP_ONLY | flags))
		return NULL;
	if ((cfg & 4) && (bz_redact_add_header(r, "X-Custom") || bz_redact_add_param(r, "pin"))) {
		bz_redact_free(&r);
		return NULL;
	}
	return r;
}

/* The stream in one read must give what it gave in pieces. */
static void compare(unsigned cfg, struct stream_log *l)
{
	if (l->len && !l->tainted && (cfg & 3) == 1) {
		struct bz_redact *ref = make(cfg, BZ_REDACT_F_NO_ECHO);
		uint8_t *copy = malloc(l->len);
		CHECK(ref && copy);
		memcpy(copy, l->in, l->len);
		bz_redact_data(ref, 1, 0, copy, l->len, (int64_t)l->len);
		CHECK(!memcmp(copy, l->out, l->len));
		free(copy);
		bz_redact_free(&ref);
	}
	l->len = 0;
	l->tainted = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bz_redact *r, *slow, *mach, *any;
	struct bz_redact_stats st, st_slow;
	uint8_t buf[256], buf_slow[256], buf_mach[256], buf_any[256];
	unsigned cfg, echo_off;
	size_t i = 1;

	if (size < 1)
		return 0;
	cfg = data[0];
	echo_off = (cfg & 3) == 1 ? BZ_REDACT_F_NO_ECHO : 0;
	r = make(cfg, echo_off);
	slow = make(cfg, echo_off | BZ_REDACT_F_BYTEWISE);
	mach = make(cfg, BZ_REDACT_F_NO_ECHO);
	/* the recorder's own: a stream may also be judged a database's
	 * (redact_wire.h), whose maskers keep other invariants (their fuzz
	 * targets): here only that it masks within the payload and is safe */
	any = NULL;
	if (bz_redact_new(&any, 0, 0))
		any = NULL;
	if (!r || !slow || !mach || !any) {
		bz_redact_free(&r);
		bz_redact_free(&slow);
		bz_redact_free(&mach);
		bz_redact_free(&any);
		return 0;
	}
	for (int c = 0; c < NCONN; c++) {
		seen[c].n = 0;
		for (int d = 0; d < 2; d++)
			logs[c][d].len = (size_t)(logs[c][d].tainted = 0);
	}
	while (i + 2 <= size) {
		uint8_t ctl = data[i], n = data[i + 1];
		unsigned conn = ctl & 3, dir = (ctl >> 2) & 1, kind = (ctl >> 3) & 3, amt = ctl >> 5;
		size_t len;
		int64_t ret;

		i += 2;
		len = n < size - i ? n : size - i;
		memcpy(buf, data + i, len);
		i += len;
		if (kind == 3 && amt == 7) {
			bz_redact_forget(any, conn);
			bz_redact_forget(r, conn);
			bz_redact_forget(slow, conn);
			bz_redact_forget(mach, conn);
			seen[conn].n = 0;
			compare(cfg, &logs[conn][0]);
			compare(cfg, &logs[conn][1]);
			continue;
		}
		ret = kind == 0 ? (int64_t)len
		      : kind == 1 ? (int64_t)len + amt + 1
		      : kind == 2 ? (int64_t)len + 1000 * (int64_t)(amt + 1) : -11;
		memcpy(buf_slow, buf, len);
		memcpy(buf_mach, buf, len);
		memcpy(buf_any, buf, len);
		CHECK(bz_redact_data(any, conn, dir, buf_any, len, ret) <= len);
		size_t masked = bz_redact_data(r, conn, dir, buf, len, ret);
		CHECK(bz_redact_data(slow, conn, dir, buf_slow, len, ret) == masked);
		CHECK(!memcmp(buf, buf_slow, len));
		bz_redact_data(mach, conn, dir, buf_mach, len, ret);
		if (!echo_off && ret > 0) {
			/* what the machine alone masked, the echo-enabled one masked too */
			for (size_t k = 0; k < len; k++)
				CHECK(buf_mach[k] == data[i - len + k] || buf[k] == BZ_REDACT_FILL);
			learn(conn, data + i - len, buf_mach, len);
			bz_redact_get_stats(r, &st);
			if (!st.echo_unkept)
				no_value_survives(conn, buf, len);
		}
		size_t changed = 0;
		for (size_t k = 0; k < len; k++) {
			uint8_t a = data[i - len + k];
			if (buf[k] == a)
				continue;
			CHECK(buf[k] == BZ_REDACT_FILL && a != '\r' && a != '\n');
			changed++;
		}
		CHECK(changed == masked);
		if (ret <= 0)
			continue; /* nothing moved: not part of the stream */
		struct stream_log *l = &logs[conn][dir];
		if (ret != (int64_t)len || l->len + len > LOG_MAX) {
			l->tainted = 1;
		} else {
			memcpy(l->in + l->len, data + i - len, len);
			memcpy(l->out + l->len, buf, len);
			l->len += len;
		}
		bz_redact_get_stats(r, &st);
		CHECK(st.streams <= ((cfg & 2) ? 3u : BZ_REDACT_STREAMS_DEFAULT));
	}
	for (unsigned c = 0; c < NCONN; c++) {
		bz_redact_forget(r, c);
		bz_redact_forget(slow, c);
		bz_redact_forget(mach, c);
		compare(cfg, &logs[c][0]);
		compare(cfg, &logs[c][1]);
	}
	bz_redact_get_stats(r, &st);
	bz_redact_get_stats(slow, &st_slow);
	CHECK(st.streams == 0);
	CHECK(!memcmp(&st, &st_slow, sizeof(st)));
	bz_redact_free(&slow);
	bz_redact_free(&mach);
	bz_redact_free(&any);
	bz_redact_free(&r);
	CHECK(r == NULL);
	return 0;
}
