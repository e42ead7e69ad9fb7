/* http2.c - HTTP/2 connections as protocol messages (http2.h says what and
 * how much of it survives a partial capture).
 *
 * The frames come from h2frame.c (shared with the recorder's redaction, so
 * both lose the same header blocks); here the content of each frame goes
 * to the header block being assembled (HEADERS, PUSH_PROMISE,
 * CONTINUATION), to the stream's body (DATA), or to the connection's
 * settings.  Per stream: its two messages, and a gRPC message counter per
 * direction. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../u64map.h"
#include "h2frame.h"
#include "grpc_walk.h"
#include "hpack.h"
#include "http2.h"

#define H2_HDR BZ_H2_HDR
#define H2_BLOCK_MAX (256u << 10)  /* a header block larger than this is not kept */
#define H2_STREAMS_MAX 65536u      /* streams open at once on one connection */

/* One direction of the connection: what its sender's header blocks need. */
struct h2dir {
	/* the header block being assembled */
	uint8_t *blk;
	uint32_t blk_len, blk_cap, blk_stream, blk_frames;
	uint8_t blk_active, blk_cut, blk_end_stream, blk_push;
	struct bz_http_point blk_first;
	struct bz_hpack *hpack; /* decodes what this direction's sender encodes */
	struct bz_http_point cur;
};

/* One side of a stream: its message and gRPC framing. */
struct h2half {
	struct bz_http_msg m;
	uint8_t open, done, head;
	struct bz_grpc_walk g;  /* gRPC messages (grpc_walk.h) */
};

struct h2stream {
	uint32_t id;
	uint64_t index;
	uint8_t has_index;
	struct h2half h[2];     /* by direction */
};

struct bz_http2 {
	struct bz_proto_cfg cfg;
	struct bz_h2frame fr;
	struct h2dir d[2];
	struct bz_u64map streams; /* stream id -> struct h2stream */
	uint64_t next_index;
	int req_dir;
	uint8_t flushed;
	struct bz_proto_stats st;
};

/* ---- detection ---------------------------------------------------------------- */

/* Frames from p[0..n): 2 when at least two plausible headers follow one
 * another (or one fills the bytes), 1 when one is plausible and the next
 * is beyond the bytes, 0 when not plausible. */
static int plausible_frames(const uint8_t *p, size_t n)
{
	uint32_t len;

	if (n < H2_HDR || !bz_h2frame_plausible(p, &len))
		return 0;
	if (n == H2_HDR + (size_t)len)
		return 2;
	if (n < H2_HDR + (size_t)len + H2_HDR)
		return 1;
	return bz_h2frame_plausible(p + H2_HDR + len, &len) ? 2 : 0;
}

int bz_http2_detect(const uint8_t *p, size_t n, int dir, int fresh)
{
	static const uint8_t preface[] = BZ_H2_PREFACE;
	size_t k = n < BZ_H2_PREFACE_LEN ? n : BZ_H2_PREFACE_LEN;

	(void)dir;
	if (!p || !n)
		return BZ_PROTO_NO;
	if (!memcmp(p, preface, k))
		/* "PRI * HTTP/2.0\r\n" cannot be an HTTP/1 request anyone sends */
		return k >= 16 ? BZ_PROTO_YES : BZ_PROTO_MAYBE;
	/* Without a preface: a connection joined mid-stream (a fresh one's
	 * first bytes are the client's preface, or its server's SETTINGS) */
	switch (plausible_frames(p, n)) {
	case 2: return BZ_PROTO_YES;
	case 1: return fresh ? BZ_PROTO_MAYBE : BZ_PROTO_YES;
	default: return BZ_PROTO_NO;
	}
}

/* ---- streams and messages ------------------------------------------------------ */

static void msg_init(struct bz_http2 *p, struct bz_http_msg *m, int dir, int is_request, uint32_t sid,
		     const struct bz_http_point *first)
{
	memset(m, 0, sizeof(*m));
	m->dir = (uint8_t)dir;
	m->is_request = (uint8_t)is_request;
	m->version = 0;
	m->proto = BZ_PROTO_HTTP2;
	m->stream = sid;
	m->content_length = -1;
	m->grpc_status = -1;
	m->index = BZ_HTTP_NO_INDEX;
	m->first = *first;
	m->last = *first;
	(void)p;
}

static struct h2stream *stream_find(struct bz_http2 *p, uint32_t sid)
{
	return bz_u64map_get(&p->streams, sid);
}

static struct h2stream *stream_get(struct bz_http2 *p, uint32_t sid)
{
	struct h2stream *s = stream_find(p, sid);

	if (s)
		return s;
	if (p->streams.len >= H2_STREAMS_MAX) {
		p->st.queue_overflows++;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = sid;
	if (bz_u64map_put(&p->streams, sid, s)) {
		free(s);
		return NULL;
	}
	return s;
}

/* A stream is forgotten once both its messages ended (a reset or the close
 * ends the rest of the others). */
static void stream_free_if_done(struct bz_http2 *p, struct h2stream *s)
{
	if (!s->h[0].done || !s->h[1].done)
		return;
	bz_u64map_del(&p->streams, s->id);
	free(s);
}

static void half_end(struct bz_http2 *p, struct h2half *h, const struct bz_http_point *last, uint32_t flags)
{
	if (!h->open)
		return;
	h->m.last = *last;
	h->m.flags |= flags;
	h->open = 0;
	h->done = 1;
	p->st.msg_bytes[h->m.dir] += h->m.head_bytes + h->m.body_bytes;
	p->cfg.cb(p->cfg.user, BZ_HTTP_END, &h->m);
}

/* A message whose body reached its content-length has all of it, END_STREAM
 * or not: curl closes the connection (or resets the stream) once it has
 * the bytes it was told of, while Node sends the END_STREAM (an empty DATA
 * frame) a moment after the body: without this, every such response would
 * end "incomplete". */
static int body_whole(const struct h2half *h)
{
	return h->open && h->head && !(h->m.flags & BZ_HTTP_F_HEADERS_LOST) && h->m.content_length >= 0 &&
	       h->m.body_bytes == (uint64_t)h->m.content_length;
}

/* ---- header blocks ---------------------------------------------------------------- */

/* What a header block said, as far as spans go. */
struct h2heads {
	char method[BZ_HTTP_METHOD_MAX];
	char path[BZ_HTTP_TARGET_MAX];
	char authority[BZ_HTTP_HOST_MAX];
	char scheme[8];
	char ua[BZ_HTTP_UA_MAX];
	char ctype[BZ_HTTP_CTYPE_MAX];
	int status;          /* :status, -1 none */
	int64_t clen;        /* content-length, -1 none */
	int grpc_status;     /* grpc-status, -1 none */
	uint8_t path_cut;
};

static void copy_field(char *dst, size_t cap, const uint8_t *v, uint32_t n, uint8_t *cut)
{
	if (n >= cap) {
		n = (uint32_t)cap - 1;
		if (cut)
			*cut = 1;
	}
	memcpy(dst, v, n);
	dst[n] = 0;
}

static int is_name(const struct bz_hpack_field *f, const char *name)
{
	size_t l = strlen(name);
	return f->name_len == l && !memcmp(f->name, name, l);
}

static int64_t parse_int(const uint8_t *v, uint32_t n, int64_t max)
{
	int64_t x = 0;

	if (!n || n > 18)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x <= max ? x : -1;
}

static int on_field(void *user, const struct bz_hpack_field *f)
{
	struct h2heads *h = user;

	/* Names arrive lowercase (RFC 9113 8.2.1); a masked value is shown
	 * as what it is */
	if (is_name(f, ":method"))
		copy_field(h->method, sizeof(h->method), f->value, f->value_len, NULL);
	else if (is_name(f, ":path"))
		copy_field(h->path, sizeof(h->path), f->value, f->value_len, &h->path_cut);
	else if (is_name(f, ":authority") || (is_name(f, "host") && !h->authority[0]))
		copy_field(h->authority, sizeof(h->authority), f->value, f->value_len, NULL);
	else if (is_name(f, ":scheme"))
		copy_field(h->scheme, sizeof(h->scheme), f->value, f->value_len, NULL);
	else if (is_name(f, ":status"))
		h->status = (int)parse_int(f->value, f->value_len, 999);
	else if (is_name(f, "user-agent"))
		copy_field(h->ua, sizeof(h->ua), f->value, f->value_len, NULL);
	else if (is_name(f, "content-type"))
		copy_field(h->ctype, sizeof(h->ctype), f->value, f->value_len, NULL);
	else if (is_name(f, "content-length"))
		h->clen = parse_int(f->value, f->value_len, INT64_MAX / 16);
	else if (is_name(f, "grpc-status"))
		h->grpc_status = (int)parse_int(f->value, f->value_len, 65535);
	return 0;
}

static int is_grpc(const char *ctype)
{
	return !strncmp(ctype, "application/grpc", 16) && (ctype[16] == 0 || ctype[16] == '+' || ctype[16] == ';');
}

/* A complete header block of direction dir for stream sid: a request's or
 * response's head, or trailers. */
static void headers_for_stream(struct bz_http2 *p, int dir, struct h2dir *d, const struct h2heads *h, int lost)
{
	uint32_t sid = d->blk_stream;
	struct h2stream *s = stream_find(p, sid);
	int is_new = s == NULL, req_side;
	struct h2half *hf;

	if (!s && !(s = stream_get(p, sid)))
		return;
	if (p->req_dir == BZ_HTTP_DIR_UNKNOWN) {
		/* learnt from what the block says, else from who opens a
		 * client-initiated (odd) stream */
		if (!lost && h->method[0])
			p->req_dir = dir;
		else if (!lost && h->status >= 0)
			p->req_dir = !dir;
		else if (is_new && (sid & 1))
			p->req_dir = dir;
		else
			return; /* cannot tell which side is which yet */
	}
	req_side = dir == p->req_dir;
	hf = &s->h[dir];
	if (req_side && !hf->head) {
		msg_init(p, &hf->m, dir, 1, sid, &d->blk_first);
		s->index = p->next_index++;
		s->has_index = 1;
		hf->m.index = s->index;
		copy_field(hf->m.method, sizeof(hf->m.method), (const uint8_t *)h->method, (uint32_t)strlen(h->method), NULL);
		copy_field(hf->m.target, sizeof(hf->m.target), (const uint8_t *)h->path, (uint32_t)strlen(h->path), NULL);
		copy_field(hf->m.host, sizeof(hf->m.host), (const uint8_t *)h->authority, (uint32_t)strlen(h->authority), NULL);
		copy_field(hf->m.user_agent, sizeof(hf->m.user_agent), (const uint8_t *)h->ua, (uint32_t)strlen(h->ua), NULL);
		copy_field(hf->m.content_type, sizeof(hf->m.content_type), (const uint8_t *)h->ctype, (uint32_t)strlen(h->ctype), NULL);
		copy_field(hf->m.scheme, sizeof(hf->m.scheme), (const uint8_t *)h->scheme, (uint32_t)strlen(h->scheme), NULL);
		hf->m.content_length = h->clen;
		hf->m.grpc = (uint8_t)is_grpc(h->ctype);
		hf->m.grpc_counted = hf->m.grpc;
		memset(&hf->g, 0, sizeof(hf->g));
		if (lost)
			hf->m.flags |= BZ_HTTP_F_HEADERS_LOST;
		if (h->path_cut)
			hf->m.flags |= BZ_HTTP_F_TARGET_CUT;
		hf->m.head_bytes = d->blk_len + (uint64_t)H2_HDR * d->blk_frames;
		hf->m.last = d->cur;
		hf->head = hf->open = 1;
		p->st.requests++;
		p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &hf->m);
	} else if (!req_side && !hf->head && !lost && h->status >= 100 && h->status < 200) {
		/* an interim response: reported and forgotten */
		struct bz_http_msg im;
		msg_init(p, &im, dir, 0, sid, &d->blk_first);
		im.status = (uint16_t)h->status;
		im.flags |= BZ_HTTP_F_INTERIM;
		im.index = s->has_index ? s->index : BZ_HTTP_NO_INDEX;
		im.last = d->cur;
		p->st.interim++;
		p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &im);
		p->cfg.cb(p->cfg.user, BZ_HTTP_END, &im);
		return;
	} else if (!req_side && !hf->head) {
		msg_init(p, &hf->m, dir, 0, sid, &d->blk_first);
		hf->m.index = s->has_index ? s->index : BZ_HTTP_NO_INDEX;
		if (!s->has_index)
			hf->m.flags |= BZ_HTTP_F_NO_REQUEST;
		hf->m.status = lost || h->status < 0 ? 0 : (uint16_t)h->status;
		copy_field(hf->m.content_type, sizeof(hf->m.content_type), (const uint8_t *)h->ctype, (uint32_t)strlen(h->ctype), NULL);
		hf->m.content_length = h->clen;
		hf->m.grpc = (uint8_t)(is_grpc(h->ctype) || (s->h[!dir].head && s->h[!dir].m.grpc));
		hf->m.grpc_counted = hf->m.grpc;
		memset(&hf->g, 0, sizeof(hf->g));
		hf->m.grpc_status = (int16_t)h->grpc_status; /* a trailers-only response */
		if (lost)
			hf->m.flags |= BZ_HTTP_F_HEADERS_LOST;
		hf->m.head_bytes = d->blk_len + (uint64_t)H2_HDR * d->blk_frames;
		hf->m.last = d->cur;
		hf->head = hf->open = 1;
		p->st.responses++;
		p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &hf->m);
	} else {
		/* trailers (or a second block): the gRPC status lives here */
		if (hf->open && h->grpc_status >= 0)
			hf->m.grpc_status = (int16_t)h->grpc_status;
		if (hf->open && lost)
			hf->m.flags |= BZ_HTTP_F_HEADERS_LOST;
		if (hf->open)
			hf->m.head_bytes += d->blk_len + (uint64_t)H2_HDR * d->blk_frames;
	}
	if (d->blk_end_stream)
		half_end(p, hf, &d->cur, 0);
	stream_free_if_done(p, s);
}

static void block_done(struct bz_http2 *p, int dir)
{
	struct h2dir *d = &p->d[dir];
	struct h2heads h;
	int lost = 0;

	memset(&h, 0, sizeof(h));
	h.status = -1;
	h.clen = -1;
	h.grpc_status = -1;
	if (d->blk_cut) {
		bz_hpack_lose(d->hpack);
		lost = 1;
	} else if (bz_hpack_decode(d->hpack, d->blk, d->blk_len, on_field, &h)) {
		lost = 1;
		memset(&h, 0, sizeof(h));
		h.status = -1;
		h.clen = -1;
		h.grpc_status = -1;
	}
	p->st.headers_lost += lost;
	if (!d->blk_push)
		headers_for_stream(p, dir, d, &h, lost);
	d->blk_active = 0;
	d->blk_len = 0;
}

static void block_append(struct bz_http2 *p, struct h2dir *d, const uint8_t *b, uint32_t n)
{
	if (d->blk_cut)
		return;
	if (d->blk_len + n > H2_BLOCK_MAX) {
		d->blk_cut = 1;
		return;
	}
	if (d->blk_len + n > d->blk_cap) {
		uint32_t cap = d->blk_cap ? d->blk_cap : 1024;
		uint8_t *g;
		while (cap < d->blk_len + n)
			cap *= 2;
		g = realloc(d->blk, cap);
		if (!g) {
			d->blk_cut = 1; /* out of memory: lost, like a block not captured */
			return;
		}
		d->blk = g;
		d->blk_cap = cap;
	}
	memcpy(d->blk + d->blk_len, b, n);
	d->blk_len += n;
	(void)p;
}

/* ---- DATA -------------------------------------------------------------------------- */

/* Content bytes of a DATA frame of stream s in direction dir (b NULL: n
 * bytes not captured). */
static void data_bytes(struct bz_http2 *p, int dir, uint32_t sid, const uint8_t *b, uint32_t n)
{
	struct h2dir *d = &p->d[dir];
	struct h2stream *s = stream_find(p, sid);
	struct h2half *h;

	if (!s || !s->h[dir].open)
		return; /* a stream whose head was not seen: its bytes are counted as skipped */
	h = &s->h[dir];
	h->m.body_bytes += n;
	h->m.last = d->cur;
	if (!h->m.grpc)
		return;
	bz_grpc_walk_feed(&h->g, b, n, NULL, 0);
	h->m.grpc_messages = h->g.messages;
	h->m.grpc_bytes = h->g.bytes;
	h->m.grpc_counted = !h->g.lost;
}

/* ---- frames ------------------------------------------------------------------------ */

static void stream_reset(struct bz_http2 *p, uint32_t sid, const struct bz_http_point *at)
{
	struct h2stream *s = stream_find(p, sid);

	if (!s)
		return;
	/* the request's end first, then the response's */
	for (int k = 0; k < 2; k++) {
		int rq = p->req_dir == BZ_HTTP_DIR_UNKNOWN ? 0 : p->req_dir, d = k ? !rq : rq;
		struct h2half *h = &s->h[d];
		if (h->open && body_whole(h)) {
			/* reset once its body was whole (curl and nghttpx reset a
			 * stream whose content-length bytes came before END_STREAM):
			 * complete, ended by its last byte */
			half_end(p, h, &h->m.last, BZ_HTTP_F_RESET);
		} else if (h->open) {
			half_end(p, h, at, BZ_HTTP_F_INCOMPLETE | BZ_HTTP_F_RESET);
		} else if (k && !h->head && s->has_index) {
			/* a response that never came: say so, so the request's span ends here */
			msg_init(p, &h->m, d, 0, sid, at);
			h->m.index = s->index;
			h->m.flags |= BZ_HTTP_F_INCOMPLETE | BZ_HTTP_F_RESET;
			h->head = h->open = 1;
			p->cfg.cb(p->cfg.user, BZ_HTTP_HEAD, &h->m);
			half_end(p, h, at, 0);
		}
	}
	bz_u64map_del(&p->streams, sid);
	free(s);
}

/* ---- the frame layer's callbacks ------------------------------------------------------ */

static void on_begin(void *user, int dir, const struct bz_h2f *f)
{
	struct bz_http2 *p = user;
	struct h2dir *d = &p->d[dir];

	d->cur = *bz_h2frame_at(&p->fr, dir);
	if (f->type == BZ_H2_HEADERS || f->type == BZ_H2_PUSH) {
		if (d->blk_active)
			p->st.malformed++; /* a block left open: its CONTINUATION never came */
		d->blk_active = 1;
		d->blk_len = 0;
		d->blk_cut = 0;
		d->blk_frames = 1;
		d->blk_stream = f->stream;
		d->blk_end_stream = f->type == BZ_H2_HEADERS && (f->flags & BZ_H2_END_STREAM);
		d->blk_push = f->type == BZ_H2_PUSH;
		d->blk_first = f->first;
	} else if (f->type == BZ_H2_CONT) {
		if (!d->blk_active || f->stream != d->blk_stream) {
			p->st.malformed++;
			d->blk_cut = 1; /* what it continues is unknown */
		}
		d->blk_frames++;
	}
}

static void on_content(void *user, int dir, const struct bz_h2f *f, const uint8_t *b, uint32_t n)
{
	struct bz_http2 *p = user;
	struct h2dir *d = &p->d[dir];

	d->cur = *bz_h2frame_at(&p->fr, dir);
	switch (f->type) {
	case BZ_H2_HEADERS:
	case BZ_H2_PUSH:
	case BZ_H2_CONT:
		if (b)
			block_append(p, d, b, n);
		else
			d->blk_cut = 1;
		break;
	case BZ_H2_DATA:
		data_bytes(p, dir, f->stream, b, n);
		break;
	default:
		break;
	}
}

static void on_end(void *user, int dir, const struct bz_h2f *f)
{
	struct bz_http2 *p = user;
	struct h2dir *d = &p->d[dir];

	d->cur = *bz_h2frame_at(&p->fr, dir);
	switch (f->type) {
	case BZ_H2_HEADERS:
	case BZ_H2_PUSH:
	case BZ_H2_CONT:
		if ((f->flags & BZ_H2_END_HEADERS) && d->blk_active)
			block_done(p, dir);
		break;
	case BZ_H2_DATA:
		if (f->flags & BZ_H2_END_STREAM) {
			struct h2stream *s = stream_find(p, f->stream);
			if (s) {
				half_end(p, &s->h[dir], &d->cur, 0);
				stream_free_if_done(p, s);
			}
		}
		break;
	case BZ_H2_RST:
		stream_reset(p, f->stream, &d->cur);
		break;
	default:
		break;
	}
}

/* Frames went by unseen: header blocks among them, maybe. */
static void on_lost(void *user, int dir)
{
	struct bz_http2 *p = user;

	p->d[dir].blk_active = 0;
	bz_hpack_lose(p->d[dir].hpack);
	p->st.resyncs++;
}

/* dir's encoder works within a new table size now (h2frame.h) */
static void on_table_max(void *user, int dir, uint32_t max)
{
	struct bz_http2 *p = user;

	bz_hpack_set_max(p->d[dir].hpack, max);
}

static const struct bz_h2frame_ops frame_ops = { on_begin, on_content, on_end, on_lost, on_table_max };

/* ---- the parser -------------------------------------------------------------------- */

static void h2_free(struct bz_http2 *p)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&p->streams, &pos, &k, &v))
		free(v);
	bz_u64map_free(&p->streams);
	for (int i = 0; i < 2; i++) {
		free(p->d[i].blk);
		bz_hpack_free(&p->d[i].hpack);
	}
	free(p);
}

static int h2_create(void **out, const struct bz_proto_cfg *cfg)
{
	struct bz_http2 *p = calloc(1, sizeof(*p));
	int preface[2];

	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->req_dir = cfg->req_dir;
	for (int i = 0; i < 2; i++) {
		if (bz_hpack_new(&p->d[i].hpack, BZ_HPACK_TABLE_DEFAULT)) {
			h2_free(p);
			return -ENOMEM;
		}
		/* the client's side begins with the preface; a side not known
		 * to be either looks for it too (and falls back to frames) */
		preface[i] = cfg->fresh && (cfg->req_dir == BZ_HTTP_DIR_UNKNOWN || cfg->req_dir == i);
		if (!cfg->fresh) /* joined mid-stream: the tables are unknown */
			bz_hpack_lose(p->d[i].hpack);
	}
	bz_h2frame_init(&p->fr, &frame_ops, p, preface);
	if (cfg->h2c_upgrade && cfg->req_dir != BZ_HTTP_DIR_UNKNOWN) {
		/* stream 1 is the upgraded HTTP/1.1 request (RFC 7540 3.2),
		 * half-closed by the client: its response comes on it */
		struct h2stream *s = stream_get(p, 1);
		if (!s) {
			h2_free(p);
			return -ENOMEM;
		}
		s->index = cfg->upgrade_index;
		s->has_index = 1;
		s->h[cfg->req_dir].head = s->h[cfg->req_dir].done = 1;
		p->next_index = cfg->upgrade_index + 1;
	}
	*out = p;
	return 0;
}

static void h2_feed(void *pv, int dir, const struct bz_http_read *rd)
{
	struct bz_http2 *p = pv;

	if (p->flushed || !rd->len || (dir != 0 && dir != 1))
		return;
	p->d[dir].cur = rd->at;
	p->st.fed[dir] += rd->len;
	bz_h2frame_feed(&p->fr, dir, rd);
	p->st.skipped[dir] = p->fr.d[dir].skipped;
}

static int cmp_index(const void *a, const void *b)
{
	const struct h2stream *x = *(struct h2stream *const *)a, *y = *(struct h2stream *const *)b;
	uint64_t ix = x->has_index ? x->index : UINT64_MAX, iy = y->has_index ? y->index : UINT64_MAX;

	return ix < iy ? -1 : ix > iy ? 1 : (x->id < y->id ? -1 : x->id > y->id);
}

static void h2_flush(void *pv, int closed)
{
	struct bz_http2 *p = pv;
	struct h2stream **all;
	size_t n = 0, pos = 0;
	uint64_t k;
	void *v;

	if (p->flushed)
		return;
	p->flushed = 1;
	/* streams in request order, so the spans of a capture always come out
	 * the same: requests' ends before their responses' */
	all = calloc(p->streams.len ? p->streams.len : 1, sizeof(*all));
	while (all && bz_u64map_next(&p->streams, &pos, &k, &v))
		all[n++] = v;
	if (all)
		qsort(all, n, sizeof(*all), cmp_index);
	for (size_t i = 0; all && i < n; i++) {
		struct h2stream *s = all[i];
		int first = p->req_dir == BZ_HTTP_DIR_UNKNOWN ? 0 : p->req_dir;
		for (int k = 0; k < 2; k++) {
			struct h2half *h = &s->h[k ? !first : first];
			half_end(p, h, &h->m.last, body_whole(h) ? 0 : BZ_HTTP_F_INCOMPLETE);
		}
	}
	free(all);
	(void)closed;
}

static void h2_destroy(void **pp)
{
	if (pp && *pp)
		h2_free(*pp);
	if (pp)
		*pp = NULL;
}

static int h2_req_dir(const void *pv) { return ((const struct bz_http2 *)pv)->req_dir; }
static const struct bz_proto_stats *h2_stats(const void *pv) { return &((const struct bz_http2 *)pv)->st; }

const struct bz_proto_ops bz_proto_http2 = {
	.name = "http/2",
	.id = BZ_PROTO_HTTP2,
	.multiplexed = 1,
	.detect = bz_http2_detect,
	.create = h2_create,
	.feed = h2_feed,
	.flush = h2_flush,
	.destroy = h2_destroy,
	.req_dir = h2_req_dir,
	.stats = h2_stats,
};
