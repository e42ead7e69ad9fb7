/* fuzz_redact_h2.c - libFuzzer target for HTTP/2 redaction at record time
 * (record/redact_h2.c, through bz_redact_event_in_place on ranges records).
 *
 * Input: byte 0 picks the mode:
 *   bit 0  literals Huffman-coded;  bit 1  cut the stream into records at
 *          points taken from the input;  bit 2  raw: the rest of the input
 *          is the client's bytes after its preface, as they are (frames or
 *          not), cut into records; no invariant but the ones of every mode
 * Otherwise the rest describes header fields, encoded here with HPACK
 * (tests/tools/hpack_enc.h) into one HEADERS frame per block on odd
 * streams, each field `ctl vlen value[vlen]`:
 *   ctl bits 0-3  the name, from NAMES (secret and not, pseudo-headers)
 *   ctl bits 4-5  0 with indexing, 1 without, 2 never indexed, 3: the
 *                 block ends here (no field)
 *   ctl bit 6     the value repeats an earlier secret value (an echo)
 *
 * Invariants, beyond "no crash" under ASan/UBSan:
 *  - the stream's length never changes, and no byte outside a header
 *    block's payload changes (frame headers, the preface);
 *  - the masked stream decodes, block by block, with a fresh decoder, to
 *    the same number of fields with the same names and value lengths, and
 *    the dynamic table's size after each block is the original's (what the
 *    analyzer needs to decode everything after);
 *  - every non-empty value of a field whose name is secret comes out
 *    flagged masked, and no secret value (6 octets or more) given in a
 *    block appears in any literal value of a later block (unless the
 *    redactor says it had more values than it keeps per connection; a
 *    value indexed from the table went by before the secret was known);
 *  - cut into records (held until one settle at the end, as the recorder's
 *    batch does), the output is byte for byte the output of one record;
 *    records that end inside the preface are plain data, as the kernel
 *    records the pieces of a preface read in several reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/proto/hpack.h"
#include "bpf/beyla_events.h"
#include "record/redact.h"
#include "tests/tools/hpack_enc.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAXBLK 64
#define MAXREC 48

static const char *const NAMES[16] = {
	":path", ":method", ":authority", "authorization", "cookie", "x-api-key", "user-agent", "referer",
	"x-debug", "set-cookie", "accept", "x-auth-token", "content-type", "proxy-authorization", "grpc-status",
	"x-session-id",
};

/* The name rules, from a redactor of their own. */
static struct bz_redact *classifier(void)
{
	static struct bz_redact *r;
	if (!r)
		CHECK(bz_redact_new(&r, 0, 0) == 0);
	return r;
}

static const uint8_t preface[24] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

struct built {
	struct hbuf s;                   /* the client's stream */
	size_t boff[MAXBLK], blen[MAXBLK];
	int nblk;
	/* secret values given, and the block each came in */
	char *secret[256];
	int secret_blk[256];
	int nsecret;
};

static void frame_hdr(struct hbuf *b, uint8_t type, uint8_t flags, uint32_t sid, size_t n)
{
	uint8_t h[9] = { (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };
	hbuf_put(b, h, 9);
}

static void end_block(struct built *bt, struct hbuf *blk, uint32_t *sid)
{
	if (!blk->len || bt->nblk >= MAXBLK)
		return;
	frame_hdr(&bt->s, 1, 0x05, *sid, blk->len);
	bt->boff[bt->nblk] = bt->s.len;
	bt->blen[bt->nblk] = blk->len;
	bt->nblk++;
	hbuf_put(&bt->s, blk->p, blk->len);
	blk->len = 0;
	*sid += 2;
}

static size_t build(struct built *bt, const uint8_t *d, size_t n, int huffman)
{
	struct henc e = { .limit = 4096, .huffman = huffman };
	struct hbuf blk = { 0 };
	uint32_t sid = 1;
	size_t i = 0;
	char v[256];

	hbuf_put(&bt->s, preface, 24);
	frame_hdr(&bt->s, 4, 0, 0, 0);
	while (i + 2 <= n && bt->nblk < MAXBLK && bt->s.len + blk.len < 30000) {
		uint8_t ctl = d[i], vl = d[i + 1];
		const char *name = NAMES[ctl & 15];
		i += 2;
		if (((ctl >> 4) & 3) == 3) {
			end_block(bt, &blk, &sid);
			continue;
		}
		if ((ctl & 0x40) && bt->nsecret) {
			snprintf(v, sizeof(v), "x %s y", bt->secret[vl % bt->nsecret]);
		} else {
			size_t k = vl < n - i ? vl : n - i;
			/* a value of visible characters, no NUL (strings here are C's) */
			for (size_t j = 0; j < k; j++)
				v[j] = (char)(0x21 + d[i + j] % 94);
			v[k] = 0;
			i += k;
		}
		henc_field(&e, &blk, name, v, ((ctl >> 4) & 3) == 0, ((ctl >> 4) & 3) == 2);
		if (bz_redact_header_class(classifier(), name, strlen(name)) == BZ_REDACT_HDR_SECRET && strlen(v) >= 6 &&
		    bt->nsecret < 256 && !strchr("*0", v[0]) && !strchr("*0", v[strlen(v) - 1])) {
			/* (masks are made of '*' and '0': a value that begins or
			 * ends with one is found again wherever a mask ends next
			 * to the rest of it, which is no echo of it) */
			bt->secret[bt->nsecret] = strdup(v);
			bt->secret_blk[bt->nsecret++] = bt->nblk;
		}
	}
	end_block(bt, &blk, &sid);
	henc_free(&e);
	free(blk.p);
	return i;
}

/* Records of the stream s[0..n) (cut at the given points), redacted,
 * held until one settle; the result replaces s. */
static int redact_stream(uint8_t *s, size_t n, const size_t *cuts, int ncuts)
{
	struct bz_redact_stats st;
	struct bz_redact *r = NULL;
	struct bz_ev_data *evs[MAXREC + 1];
	size_t at[MAXREC + 2], nrec = 0;

	CHECK(bz_redact_new(&r, 0, BZ_REDACT_F_HOLD) == 0);
	at[0] = 0;
	for (int k = 0; k < ncuts; k++)
		if (cuts[k] > at[nrec] && cuts[k] < n)
			at[++nrec] = cuts[k];
	at[++nrec] = n;
	for (size_t k = 0; k < nrec; k++) {
		size_t len = at[k + 1] - at[k];
		/* a piece of the preface that does not complete it: plain data,
		 * as the kernel records it (it goes frame by frame from the
		 * piece that completes the preface on) */
		int plain = at[k + 1] < 24;
		size_t cap = (plain ? 0 : sizeof(struct bz_ev_ranges)) + len, size = sizeof(struct bz_ev_data) + cap;
		struct bz_ev_data *ev = calloc(1, size);
		struct bz_ev_ranges *rg;
		CHECK(ev && len <= BZ_H2_KEEP_MAX * 8);
		ev->h.kind = BZ_EV_DATA;
		ev->h.size = (uint16_t)size;
		ev->conn_id = 1;
		ev->ret = (int32_t)len;
		ev->caplen = (uint16_t)cap;
		ev->dir = BZ_DIR_IN;
		ev->syscall = plain ? BZ_SYS_READ : BZ_SYS_F_RANGES | BZ_SYS_READ;
		if (plain) {
			memcpy(ev->payload, s + at[k], len);
		} else {
			rg = (struct bz_ev_ranges *)ev->payload;
			rg->n = len ? 1 : 0;
			rg->r[0].off = 0;
			rg->r[0].len = (uint16_t)len;
			memcpy(ev->payload + sizeof(*rg), s + at[k], len);
		}
		bz_redact_event_in_place(r, ev, size);
		evs[k] = ev;
	}
	bz_redact_settle(r);
	for (size_t k = 0; k < nrec; k++) {
		int plain = at[k + 1] < 24;
		memcpy(s + at[k], evs[k]->payload + (plain ? 0 : sizeof(struct bz_ev_ranges)), at[k + 1] - at[k]);
		free(evs[k]);
	}
	bz_redact_get_stats(r, &st);
	bz_redact_free(&r);
	return st.h2_values_unkept != 0;
}

struct flds {
	int n;
	uint32_t name_len[512], value_len[512];
	char *name[512], *value[512];
	uint8_t masked[512], literal[512];
};

static int collect(void *u, const struct bz_hpack_field *f)
{
	struct flds *fs = u;
	int i = fs->n++;

	CHECK(i < 512);
	fs->name[i] = strndup((const char *)f->name, f->name_len);
	fs->value[i] = strndup((const char *)f->value, f->value_len);
	fs->name_len[i] = f->name_len;
	fs->value_len[i] = f->value_len;
	fs->masked[i] = f->masked;
	fs->literal[i] = f->value_enc_len != 0;
	return 0;
}

static void flds_free(struct flds *fs)
{
	for (int i = 0; i < fs->n; i++) {
		free(fs->name[i]);
		free(fs->value[i]);
	}
	fs->n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct built bt;
	size_t used, cuts[MAXREC];
	int ncuts = 0, mode;
	uint8_t *one, *split;

	if (size < 1)
		return 0;
	mode = data[0];
	memset(&bt, 0, sizeof(bt));
	if (mode & 4) {
		hbuf_put(&bt.s, preface, 24);
		hbuf_put(&bt.s, data + 1, size - 1 > 16384 ? 16384 : size - 1);
		used = size - 1;
	} else {
		used = build(&bt, data + 1, size - 1, mode & 1);
	}
	/* cut points: what is left of the input */
	for (size_t i = 1 + used; (mode & 2) && i + 1 < size && ncuts < MAXREC; i += 2)
		cuts[ncuts++] = ((size_t)data[i] << 8 | data[i + 1]) % (bt.s.len + 1);
	for (int a = 1; a < ncuts; a++) /* sorted */
		for (int b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
			size_t t = cuts[b];
			cuts[b] = cuts[b - 1];
			cuts[b - 1] = t;
		}
	one = malloc(bt.s.len + 1);
	split = malloc(bt.s.len + 1);
	CHECK(one && split);
	memcpy(one, bt.s.p, bt.s.len);
	memcpy(split, bt.s.p, bt.s.len);
	int unkept = redact_stream(one, bt.s.len, NULL, 0);
	redact_stream(split, bt.s.len, cuts, ncuts);
	CHECK(!memcmp(one, split, bt.s.len));
	CHECK(!memcmp(one, preface, 24));

	if (!(mode & 4)) {
		struct bz_hpack *o = NULL, *m = NULL;
		struct flds fo, fm;
		size_t pos = 24;

		/* nothing outside the header blocks changed */
		for (int b = 0; b <= bt.nblk; b++) {
			size_t end = b < bt.nblk ? bt.boff[b] : bt.s.len;
			CHECK(!memcmp(one + pos, bt.s.p + pos, end - pos));
			if (b < bt.nblk)
				pos = bt.boff[b] + bt.blen[b];
		}
		CHECK(bz_hpack_new(&o, 4096) == 0 && bz_hpack_new(&m, 4096) == 0);
		memset(&fo, 0, sizeof(fo));
		memset(&fm, 0, sizeof(fm));
		for (int b = 0; b < bt.nblk; b++) {
			CHECK(bz_hpack_decode(o, bt.s.p + bt.boff[b], bt.blen[b], collect, &fo) == 0);
			CHECK(bz_hpack_decode(m, one + bt.boff[b], bt.blen[b], collect, &fm) == 0);
			CHECK(fo.n == fm.n);
			CHECK(bz_hpack_table_size(o) == bz_hpack_table_size(m));
			for (int i = 0; i < fo.n; i++) {
				CHECK(fo.name_len[i] == fm.name_len[i] && !memcmp(fo.name[i], fm.name[i], fo.name_len[i]));
				CHECK(fo.value_len[i] == fm.value_len[i]);
				if (fo.value_len[i] &&
				    bz_redact_header_class(classifier(), fo.name[i], fo.name_len[i]) == BZ_REDACT_HDR_SECRET)
					CHECK(fm.masked[i]);
				for (int k = 0; !unkept && k < bt.nsecret; k++)
					if (bt.secret_blk[k] < b)
						CHECK(!fm.literal[i] || fm.masked[i] || !strstr(fm.value[i], bt.secret[k]));
			}
			flds_free(&fo);
			flds_free(&fm);
		}
		bz_hpack_free(&o);
		bz_hpack_free(&m);
	}
	for (int k = 0; k < bt.nsecret; k++)
		free(bt.secret[k]);
	free(bt.s.p);
	free(one);
	free(split);
	return 0;
}
