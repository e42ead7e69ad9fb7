/* redact_h2.c - credentials masked in HTTP/2 header blocks at record time
 * (redact_h2.h says what and why).
 *
 * Per connection: the analyzer's frame layer over the recorded pieces, and
 * per direction the HPACK table of its sender and the header block being
 * assembled: a copy to decode, and where each of its fragments lies in the
 * recorded payloads (which stay writable until settled), so that masks
 * made in a second copy can be written back where the bytes came from. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/capture_reader.h"
#include "analyze/proto/grpc_walk.h"
#include "analyze/proto/h2frame.h"
#include "analyze/proto/hpack.h"
#include "analyze/proto/http2.h"
#include "analyze/u64map.h"
#include "bpf/beyla_events.h"
#include "record/redact.h"
#include "record/redact_h2.h"

#define H2_BLOCK_MAX (64u << 10) /* a larger block is masked whole */
#define H2_SEGS 64               /* fragments of one block */
#define H2_SECRETS 16            /* values masked on a connection, looked for again */
#define H2_SECRET_MIN 6
#define H2_SECRET_MAX 256
#define H2_STREAMS 4096          /* streams followed at once; DATA of others is masked whole */
#define H2_VALUE_MAX BZ_REDACT_URL_MAX /* a longer value with a secret inside is masked whole */
/* What a block that cannot be decoded is filled with: an indexed field of
 * index 0, which every decoder refuses at once and which changes no table,
 * so the analyzer never takes it for anything. */
#define H2_LOST_FILL 0x80

struct h2seg {
	uint8_t *p;
	uint32_t n;
};

struct h2side {
	struct bz_hpack *hpack;
	uint8_t *blk, *out;      /* the block as recorded, and with its masks */
	uint32_t blk_len, blk_cap;
	struct h2seg segs[H2_SEGS];
	uint32_t nsegs;
	uint8_t active, cut, end_stream;
	uint32_t stream;
};

/* A stream whose DATA may hold gRPC messages: their prefixes stay, all
 * else of a DATA payload is masked (bodies are not the analyzer's, but
 * their sizes and gRPC's framing are). */
struct h2stream {
	struct bz_grpc_walk g[2];
	uint8_t grpc[2], ended[2]; /* by direction */
};

struct h2conn {
	uint64_t id;
	struct bz_h2frame fr;
	struct h2side s[2];
	struct bz_u64map streams; /* stream id -> struct h2stream */
	uint8_t secret[H2_SECRETS][H2_SECRET_MAX];
	uint16_t secret_len[H2_SECRETS];
	uint32_t nsecrets;
	uint8_t listed;
};

struct rd_h2 {
	struct bz_u64map conns;
	struct bz_u64map joined;  /* ids of connections joined mid-way, not in conns yet */
	uint64_t *holding; /* ids of connections with a block in the middle */
	size_t nholding, capholding;
	int hold;
	/* for the callbacks of the call being made */
	struct bz_redact *r;
	struct h2conn *cur;
	size_t masked;
	uint8_t *which; /* H2_VALUE_MAX: which octets of a value to mask */
	struct rd_h2_stats st;
};

/* ---- writing masks back ---------------------------------------------------------- */

/* The block's fragments get out's bytes where they differ from blk's. */
static void scatter(struct rd_h2 *h, struct h2side *s)
{
	uint32_t off = 0;

	for (uint32_t i = 0; i < s->nsegs; i++) {
		for (uint32_t k = 0; k < s->segs[i].n && off + k < s->blk_len; k++) {
			if (s->out[off + k] != s->blk[off + k]) {
				s->segs[i].p[k] = s->out[off + k];
				h->masked++;
			}
		}
		off += s->segs[i].n;
	}
}

/* A block that cannot be decoded: every recorded byte of it filled. */
static void fill_segments(struct rd_h2 *h, struct h2side *s)
{
	for (uint32_t i = 0; i < s->nsegs; i++)
		for (uint32_t k = 0; k < s->segs[i].n; k++)
			if (s->segs[i].p[k] != H2_LOST_FILL) {
				s->segs[i].p[k] = H2_LOST_FILL;
				h->masked++;
			}
	s->nsegs = 0;
}

/* A block ends undecoded: what is held of it filled, and counted. */
static void block_lost(struct rd_h2 *h, struct h2side *s)
{
	fill_segments(h, s);
	h->st.blocks_whole++;
}

/* ---- secrets ----------------------------------------------------------------------- */

static void learn(struct rd_h2 *h, struct h2conn *c, const uint8_t *v, uint32_t n)
{
	if (n < H2_SECRET_MIN)
		return;
	for (uint32_t i = 0; i < c->nsecrets; i++)
		if (c->secret_len[i] == n && !memcmp(c->secret[i], v, n))
			return;
	if (n > H2_SECRET_MAX || c->nsecrets >= H2_SECRETS) {
		h->st.values_unkept++; /* (counted: it will not be looked for again) */
		return;
	}
	memcpy(c->secret[c->nsecrets], v, n);
	c->secret_len[c->nsecrets++] = (uint16_t)n;
}

/* A value masked whole, and its parts a peer may repeat alone: the
 * credentials after an auth scheme, each cookie's value. */
static void learn_value(struct rd_h2 *h, struct h2conn *c, const uint8_t *v, uint32_t n)
{
	uint32_t start = 0;

	learn(h, c, v, n);
	for (uint32_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ' ' && v[i] != ';' && v[i] != ',')
			continue;
		if (i > start) {
			const uint8_t *p = v + start, *eq = memchr(p, '=', i - start);
			if (start > 0)
				learn(h, c, p, i - start);
			if (eq && (uint32_t)(eq - p) + 1 < i - start)
				learn(h, c, eq + 1, (uint32_t)(i - start - (eq - p) - 1));
		}
		start = i + 1;
	}
}

/* which[i] for every octet of v inside a secret seen before; 1 if any. */
static int secrets_in(const struct h2conn *c, const uint8_t *v, uint32_t n, uint8_t *which)
{
	int any = 0;

	for (uint32_t k = 0; k < c->nsecrets; k++) {
		uint32_t l = c->secret_len[k];
		for (uint32_t i = 0; l <= n && i + l <= n; i++) {
			if (memcmp(v + i, c->secret[k], l))
				continue;
			memset(which + i, 1, l);
			any = 1;
			i += l - 1;
		}
	}
	return any;
}

/* ---- header blocks --------------------------------------------------------------------- */

static int is_name(const struct bz_hpack_field *f, const char *name)
{
	size_t l = strlen(name);
	return f->name_len == l && !memcmp(f->name, name, l);
}

struct decode_ctx {
	struct rd_h2 *h;
	struct h2side *s;
	uint8_t grpc;    /* a content-type of application/grpc... */
	uint8_t request; /* ... in a request's block (it has :method) */
};

static int is_grpc(const uint8_t *v, uint32_t n)
{
	return n >= 16 && !memcmp(v, "application/grpc", 16) && (n == 16 || v[16] == '+' || v[16] == ';');
}

/* Each field as it is decoded: its literal value masked in the second copy
 * (s->out) when it must be: whole for a secret name, in part for the
 * secret parameters of a URL and for values masked before. */
static int on_field(void *user, const struct bz_hpack_field *f)
{
	struct decode_ctx *d = user;
	struct rd_h2 *h = d->h;
	struct h2conn *c = h->cur;
	struct h2side *s = d->s;
	uint8_t *oct, *which = h->which;
	int kind, any;

	if (is_name(f, "content-type") && is_grpc(f->value, f->value_len))
		d->grpc = 1;
	else if (is_name(f, ":method"))
		d->request = 1;
	if (!f->value_enc_len || f->value_off + f->value_enc_len > s->blk_len)
		return 0; /* from a table: nothing of it in this block */
	oct = s->out + f->value_off;
	kind = bz_redact_header_class(h->r, (const char *)f->name, f->name_len);
	if (kind == BZ_REDACT_HDR_SECRET) {
		learn_value(h, c, f->value, f->value_len);
		bz_hpack_mask_string(oct, f->value_enc_len, f->value_len, f->value_huffman);
		h->st.fields_masked++;
		return 0;
	}
	if (f->value_len > H2_VALUE_MAX) {
		/* too long to look into: masked whole if a secret may be inside */
		if (c->nsecrets || kind == BZ_REDACT_HDR_URL || is_name(f, ":path")) {
			bz_hpack_mask_string(oct, f->value_enc_len, f->value_len, f->value_huffman);
			h->st.fields_masked++;
		}
		return 0;
	}
	memset(which, 0, f->value_len);
	any = secrets_in(c, f->value, f->value_len, which);
	if (kind == BZ_REDACT_HDR_URL || is_name(f, ":path"))
		any |= bz_redact_url_secrets(h->r, f->value, f->value_len, which);
	if (!any)
		return 0;
	if (bz_hpack_mask_bytes(oct, f->value_enc_len, f->value, f->value_len, which, f->value_huffman))
		bz_hpack_mask_string(oct, f->value_enc_len, f->value_len, f->value_huffman);
	h->st.fields_masked++;
	return 0;
}

/* ---- streams --------------------------------------------------------------------------- */

static struct h2stream *stream_get(struct rd_h2 *h, struct h2conn *c, uint32_t sid, int create)
{
	struct h2stream *st = bz_u64map_get(&c->streams, sid);

	if (st || !create)
		return st;
	if (c->streams.len >= H2_STREAMS) {
		h->st.streams_unkept++;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st && bz_u64map_put(&c->streams, sid, st)) {
		free(st);
		st = NULL;
	}
	if (!st)
		h->st.streams_unkept++;
	return st;
}

static void stream_end(struct h2conn *c, uint32_t sid, int dir)
{
	struct h2stream *st = bz_u64map_get(&c->streams, sid);

	if (!st)
		return;
	if (dir >= 0)
		st->ended[dir] = 1;
	if (dir < 0 || (st->ended[0] && st->ended[1]))
		free(bz_u64map_del(&c->streams, sid));
}

/* DATA content: gRPC prefixes kept, the rest masked. */
static void data_content(struct rd_h2 *h, struct h2conn *c, int dir, uint32_t sid, const uint8_t *b, uint32_t n)
{
	struct h2stream *st = bz_u64map_get(&c->streams, sid);
	uint8_t *w = (uint8_t *)b; /* (the payload the caller gave: ours to write) */

	if (st && st->grpc[dir]) {
		size_t k = bz_grpc_walk_feed(&st->g[dir], b, n, w, BZ_REDACT_FILL);
		h->masked += k;
		h->st.data_masked += k;
		return;
	}
	for (uint32_t i = 0; b && i < n; i++)
		if (w[i] != BZ_REDACT_FILL) {
			w[i] = BZ_REDACT_FILL;
			h->masked++;
			h->st.data_masked++;
		}
}

static void hold_conn(struct rd_h2 *h, struct h2conn *c)
{
	if (c->listed || !h->hold)
		return;
	if (h->nholding == h->capholding) {
		size_t cap = h->capholding ? 2 * h->capholding : 16;
		uint64_t *g = realloc(h->holding, cap * sizeof(*g));
		if (!g)
			return; /* (settle then misses it: its block is masked when it ends) */
		h->holding = g;
		h->capholding = cap;
	}
	h->holding[h->nholding++] = c->id;
	c->listed = 1;
}

static void block_done(struct rd_h2 *h, struct h2conn *c, int dir)
{
	struct h2side *s = &c->s[dir];
	struct decode_ctx d = { h, s, 0, 0 };
	struct h2stream *st;

	s->active = 0;
	h->st.blocks++;
	if (s->cut || !bz_hpack_usable(s->hpack)) {
		if (s->cut)
			bz_hpack_lose(s->hpack);
		h->st.lost++;
		block_lost(h, s);
		return;
	}
	if (s->blk_len)
		memcpy(s->out, s->blk, s->blk_len);
	if (bz_hpack_decode(s->hpack, s->blk, s->blk_len, on_field, &d)) {
		/* (the decoder is unusable now: so is the analyzer's, on these bytes) */
		h->st.lost++;
		block_lost(h, s);
		return;
	}
	scatter(h, s);
	s->nsegs = 0;
	/* the stream's DATA is gRPC's in a direction whose head says so, and
	 * in a response to a request that does (as the analyzer takes it,
	 * http2.c) */
	st = d.grpc ? stream_get(h, c, s->stream, 1) : NULL;
	if (st) {
		st->grpc[dir] = 1;
		if (d.request)
			st->grpc[!dir] = 1;
	}
	if (s->end_stream)
		stream_end(c, s->stream, dir);
}

/* ---- the frame layer's callbacks ----------------------------------------------------------- */

static void on_begin(void *user, int dir, const struct bz_h2f *f)
{
	struct rd_h2 *h = user;
	struct h2side *s = &h->cur->s[dir];

	if (f->type == BZ_H2_HEADERS || f->type == BZ_H2_PUSH) {
		if (s->active)
			block_lost(h, s); /* a block left open: never decoded */
		s->active = 1;
		s->cut = 0;
		s->blk_len = 0;
		s->nsegs = 0;
		s->stream = f->stream;
		s->end_stream = f->type == BZ_H2_HEADERS && (f->flags & BZ_H2_END_STREAM);
	} else if (f->type == BZ_H2_CONT && !s->active) {
		s->active = 1; /* what it continues was not seen: masked whole at its end */
		s->cut = 1;
		s->blk_len = 0;
		s->nsegs = 0;
		s->stream = f->stream;
		s->end_stream = 0;
	}
}

static void on_content(void *user, int dir, const struct bz_h2f *f, const uint8_t *b, uint32_t n)
{
	struct rd_h2 *h = user;
	struct h2side *s = &h->cur->s[dir];

	if (f->type == BZ_H2_DATA) {
		data_content(h, h->cur, dir, f->stream, b, n);
		return;
	}
	if (f->type != BZ_H2_HEADERS && f->type != BZ_H2_PUSH && f->type != BZ_H2_CONT)
		return;
	if (!b) {
		s->cut = 1;
		return;
	}
	/* the fragment: where it lies (the payload the caller gave is ours to
	 * write), and a copy to decode */
	if (s->nsegs < H2_SEGS) {
		s->segs[s->nsegs].p = (uint8_t *)b;
		s->segs[s->nsegs].n = n;
		s->nsegs++;
	} else {
		/* too many pieces to follow: this one is filled now, the block
		 * is lost */
		memset((uint8_t *)b, H2_LOST_FILL, n);
		h->masked += n;
		s->cut = 1;
	}
	if (!s->cut && s->blk_len + n <= H2_BLOCK_MAX) {
		if (s->blk_len + n > s->blk_cap) {
			uint32_t cap = s->blk_cap ? s->blk_cap : 1024;
			uint8_t *g, *o;
			while (cap < s->blk_len + n)
				cap *= 2;
			g = realloc(s->blk, cap);
			o = g ? realloc(s->out, cap) : NULL;
			if (g)
				s->blk = g;
			if (o)
				s->out = o;
			if (!g || !o) {
				s->cut = 1;
				return;
			}
			s->blk_cap = cap;
		}
		memcpy(s->blk + s->blk_len, b, n);
		s->blk_len += n;
	} else {
		s->cut = 1;
	}
	hold_conn(h, h->cur);
}

static void on_end(void *user, int dir, const struct bz_h2f *f)
{
	struct rd_h2 *h = user;
	struct h2conn *c = h->cur;
	struct h2side *s = &c->s[dir];

	if ((f->type == BZ_H2_HEADERS || f->type == BZ_H2_PUSH || f->type == BZ_H2_CONT) &&
	    (f->flags & BZ_H2_END_HEADERS) && s->active) {
		block_done(h, c, dir);
	} else if (f->type == BZ_H2_DATA && (f->flags & BZ_H2_END_STREAM)) {
		stream_end(c, f->stream, dir);
	} else if (f->type == BZ_H2_RST) {
		stream_end(c, f->stream, -1);
	}
}

static void on_lost(void *user, int dir)
{
	struct rd_h2 *h = user;
	struct h2side *s = &h->cur->s[dir];

	if (s->active)
		block_lost(h, s);
	s->active = 0;
	bz_hpack_lose(s->hpack);
}

static void on_table_max(void *user, int dir, uint32_t max)
{
	struct rd_h2 *h = user;

	bz_hpack_set_max(h->cur->s[dir].hpack, max);
}

static const struct bz_h2frame_ops frame_ops = { on_begin, on_content, on_end, on_lost, on_table_max };

/* ---- connections and the API ------------------------------------------------------------------- */

static void conn_free(struct h2conn *c)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&c->streams, &pos, &k, &v))
		free(v);
	bz_u64map_free(&c->streams);
	for (int i = 0; i < 2; i++) {
		bz_hpack_free(&c->s[i].hpack);
		free(c->s[i].blk);
		free(c->s[i].out);
	}
	free(c);
}

static struct h2conn *conn_get(struct rd_h2 *h, uint64_t id)
{
	static const int preface[2] = { 1, 1 }; /* the client's side has it; the other falls back */
	static const int no_preface[2] = { 0, 0 };
	struct h2conn *c = bz_u64map_get(&h->conns, id);
	int joined;

	if (c)
		return c;
	joined = bz_u64map_del(&h->joined, id) != NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	for (int i = 0; i < 2; i++)
		if (bz_hpack_new(&c->s[i].hpack, BZ_HPACK_TABLE_DEFAULT)) {
			conn_free(c);
			return NULL;
		}
	if (joined)
		/* the tables are unknown: every block is masked whole */
		for (int i = 0; i < 2; i++)
			bz_hpack_lose(c->s[i].hpack);
	bz_h2frame_init(&c->fr, &frame_ops, h, joined ? no_preface : preface);
	if (bz_u64map_put(&h->conns, id, c)) {
		conn_free(c);
		return NULL;
	}
	return c;
}

int rd_h2_new(struct rd_h2 **out, int hold)
{
	struct rd_h2 *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->hold = hold;
	h->which = malloc(H2_VALUE_MAX);
	if (!h->which) {
		free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

void rd_h2_free(struct rd_h2 **hp)
{
	struct rd_h2 *h = hp ? *hp : NULL;
	size_t pos = 0;
	uint64_t k;
	void *v;

	if (!h)
		return;
	while (bz_u64map_next(&h->conns, &pos, &k, &v))
		conn_free(v);
	bz_u64map_free(&h->conns);
	bz_u64map_free(&h->joined);
	free(h->holding);
	free(h->which);
	free(h);
	*hp = NULL;
}

/* The length of the "HTTP/1.x 101" head that begins p[0..n), its empty line
 * included, or 0 (the kernel captures the 101 of an h2c upgrade, and what
 * follows it in its read or write, as one piece: bpf/h2.bpf.h). */
static uint32_t upgrade_head(const uint8_t *p, uint32_t n)
{
	if (n < 16 || memcmp(p, "HTTP/1.", 7) || memcmp(p + 8, " 101 ", 5))
		return 0;
	for (uint32_t i = 12; i + 4 <= n; i++)
		if (!memcmp(p + i, "\r\n\r\n", 4))
			return i + 4;
	return 0;
}

size_t rd_h2_data(struct rd_h2 *h, struct bz_redact *r, uint64_t conn, unsigned dir, int64_t ret,
		  uint64_t ts, uint8_t *payload, size_t caplen)
{
	struct bz_ev_range er[BZ_RANGES_MAX];
	struct bz_range ranges[BZ_RANGES_MAX];
	struct bz_http_read rd = { 0 };
	const uint8_t *data;
	uint32_t n, len, head;
	uint8_t fl;
	struct h2conn *c;

	if (!h || ret <= 0 || (dir != 0 && dir != 1))
		return 0;
	c = conn_get(h, conn);
	if (!c)
		return 0;
	h->r = r;
	h->cur = c;
	h->masked = 0;
	if (bz_ev_ranges(payload, caplen, ret, er, &n, &data, &len, &fl)) {
		/* pieces that make no sense: nothing of them can be trusted to be
		 * harmless; the analyzer will not read them either */
		if (caplen > sizeof(struct bz_ev_ranges))
			memset(payload + sizeof(struct bz_ev_ranges), H2_LOST_FILL,
			       caplen - sizeof(struct bz_ev_ranges));
		memset(payload, 0, caplen < sizeof(struct bz_ev_ranges) ? caplen : sizeof(struct bz_ev_ranges));
		on_lost(h, (int)dir);
		return caplen;
	}
	/* what the head holds besides its n pieces is nobody's (the kernel
	 * zeroes it; a record of an older beyla did not): zeroed here too */
	payload[1] = fl;
	memset(payload + 2, 0, 2);
	memset(payload + 4 + 8 * (size_t)n, 0, 8 * (size_t)(BZ_RANGES_MAX - n));
	for (uint32_t i = 0; i < n; i++) {
		ranges[i].off = er[i].off;
		ranges[i].len = er[i].len;
		memset(payload + 4 + 8 * (size_t)i + 6, 0, 2);
	}
	rd.at.ts_ns = ts;
	rd.len = (uint32_t)ret;
	rd.caplen = len;
	rd.data = data;
	rd.ranges = ranges;
	rd.nranges = n;
	head = n && !ranges[0].off ? upgrade_head(data, ranges[0].len) : 0;
	if (head) {
		/* a 101 to h2c and the first frames after it (the kernel keeps
		 * the head as text): the head is HTTP/1's to mask, the frames
		 * begin after it */
		h->masked += bz_redact_data(r, conn, dir, (uint8_t *)data, head, head);
		ranges[0].off = head;
		ranges[0].len -= head;
		for (uint32_t i = 0; i < n; i++)
			ranges[i].off -= head;
		rd.len -= head;
		rd.caplen -= head;
		rd.data += head;
		if (!ranges[0].len) {
			rd.ranges = ranges + 1;
			rd.nranges = n - 1;
		}
	}
	bz_h2frame_feed(&c->fr, (int)dir, &rd);
	if (!h->hold)
		/* nothing may be written back later: a block still open is filled now */
		for (int i = 0; i < 2; i++)
			if (c->s[i].active && c->s[i].nsegs) {
				fill_segments(h, &c->s[i]);
				c->s[i].cut = 1;
			}
	return h->masked;
}

void rd_h2_plain(struct rd_h2 *h, uint64_t conn, unsigned dir, int64_t ret, const uint8_t *payload,
		 size_t caplen)
{
	static const uint8_t preface[] = BZ_H2_PREFACE;
	struct bz_http_read rd = { 0 };
	struct h2conn *c;
	uint32_t got = 0;

	/* a piece shorter than the preface, whole, that continues it */
	if (!h || ret <= 0 || ret >= BZ_H2_PREFACE_LEN || caplen != (size_t)ret || dir > 1)
		return;
	c = bz_u64map_get(&h->conns, conn);
	if (c) {
		if (c->fr.d[dir].state != BZ_H2F_PREFACE)
			return;
		got = c->fr.d[dir].preface_got;
	}
	if (got + caplen > BZ_H2_PREFACE_LEN || memcmp(payload, preface + got, caplen))
		return;
	if (!c && (bz_u64map_get(&h->joined, conn) || !(c = conn_get(h, conn))))
		return; /* (joined mid-way: no preface to come) */
	h->cur = c;
	h->masked = 0;
	rd.len = (uint32_t)ret;
	rd.caplen = (uint32_t)caplen;
	rd.data = payload;
	bz_h2frame_feed(&c->fr, (int)dir, &rd);
}

void rd_h2_settle(struct rd_h2 *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nholding; i++) {
		struct h2conn *c = bz_u64map_get(&h->conns, h->holding[i]);
		if (!c)
			continue;
		c->listed = 0;
		for (int d = 0; d < 2; d++) {
			/* a block in the middle: what is held of it cannot be
			 * written back later, so it is filled, and the block lost */
			if (c->s[d].active && c->s[d].nsegs) {
				fill_segments(h, &c->s[d]);
				c->s[d].cut = 1;
			}
		}
	}
	h->nholding = 0;
}

void rd_h2_joined(struct rd_h2 *h, uint64_t conn)
{
	if (h && !bz_u64map_get(&h->conns, conn))
		(void)bz_u64map_put(&h->joined, conn, h); /* (out of memory: seen as fresh, as before) */
}

void rd_h2_forget(struct rd_h2 *h, uint64_t conn)
{
	struct h2conn *c;

	if (h)
		bz_u64map_del(&h->joined, conn);
	if (!h || !(c = bz_u64map_del(&h->conns, conn)))
		return;
	for (size_t i = 0; i < h->nholding;)
		if (h->holding[i] == conn)
			h->holding[i] = h->holding[--h->nholding];
		else
			i++;
	conn_free(c);
}

void rd_h2_get_stats(const struct rd_h2 *h, struct rd_h2_stats *out)
{
	if (h)
		*out = h->st;
	else
		memset(out, 0, sizeof(*out));
}
