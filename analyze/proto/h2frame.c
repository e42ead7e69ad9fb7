/* h2frame.c - HTTP/2 frames from partly captured reads and writes
 * (h2frame.h). */
#include <string.h>

#include "h2frame.h"
#include "http2.h"

#define DETECT_LEN_MAX 16384u

int bz_h2frame_plausible(const uint8_t *h, uint32_t *len)
{
	uint32_t l = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
	uint32_t sid = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) & 0x7fffffffu;
	uint8_t type = h[3], fl = h[4];

	if (h[5] & 0x80 || l > DETECT_LEN_MAX)
		return 0;
	*len = l;
	switch (type) {
	case BZ_H2_DATA: return sid != 0 && !(fl & ~(BZ_H2_END_STREAM | BZ_H2_PADDED));
	case BZ_H2_HEADERS:
		return sid != 0 && !(fl & ~(BZ_H2_END_STREAM | BZ_H2_END_HEADERS | BZ_H2_PADDED | BZ_H2_PRIORITY_FLAG));
	case BZ_H2_PRIORITY: return sid != 0 && l == 5 && !fl;
	case BZ_H2_RST: return sid != 0 && l == 4 && !fl;
	case BZ_H2_SETTINGS: return sid == 0 && l % 6 == 0 && (fl == 0 || (fl == BZ_H2_ACK && l == 0));
	case BZ_H2_PUSH: return sid != 0 && l >= 4 && !(fl & ~(BZ_H2_END_HEADERS | BZ_H2_PADDED));
	case BZ_H2_PING: return sid == 0 && l == 8 && !(fl & ~BZ_H2_ACK);
	case BZ_H2_GOAWAY: return sid == 0 && l >= 8 && !fl;
	case BZ_H2_WINDOW: return l == 4 && !fl;
	case BZ_H2_CONT: return sid != 0 && !(fl & ~BZ_H2_END_HEADERS);
	default: return 0;
	}
}

void bz_h2frame_init(struct bz_h2frame *fr, const struct bz_h2frame_ops *ops, void *user,
		     const int expect_preface[2])
{
	memset(fr, 0, sizeof(*fr));
	fr->ops = ops;
	fr->user = user;
	for (int i = 0; i < 2; i++)
		fr->d[i].state = expect_preface[i] ? BZ_H2F_PREFACE : BZ_H2F_HEAD;
}

static void frame_begin(struct bz_h2frame *fr, int dir)
{
	struct bz_h2frame_dir *d = &fr->d[dir];
	const uint8_t *h = d->hdr;

	d->f.len = (uint32_t)h[0] << 16 | (uint32_t)h[1] << 8 | h[2];
	d->f.type = h[3];
	d->f.flags = h[4];
	d->f.stream = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) & 0x7fffffffu;
	d->f.cut = 0;
	d->done = 0;
	d->pre = 0;
	d->pad = 0;
	d->pad_known = 1;
	d->set_len = 0;
	if (d->f.type == BZ_H2_DATA || d->f.type == BZ_H2_HEADERS || d->f.type == BZ_H2_PUSH) {
		if (d->f.flags & BZ_H2_PADDED) {
			d->pre = 1;
			d->pad_known = 0;
		}
		if (d->f.type == BZ_H2_HEADERS && (d->f.flags & BZ_H2_PRIORITY_FLAG))
			d->pre += 5;
		if (d->f.type == BZ_H2_PUSH)
			d->pre += 4;
	}
	fr->ops->begin(fr->user, dir, &d->f);
}

#define SET_HEADER_TABLE_SIZE 0x1

/* The current frame of dir ended: a SETTINGS frame's header table size
 * waits for its ACK, which the other direction sends. */
static void frame_end(struct bz_h2frame *fr, int dir)
{
	struct bz_h2frame_dir *d = &fr->d[dir], *o = &fr->d[!dir];

	if (d->f.type == BZ_H2_SETTINGS && d->f.stream == 0) {
		if (d->f.flags & BZ_H2_ACK) {
			if (o->table_pending_set && fr->ops->table_max)
				fr->ops->table_max(fr->user, dir, o->table_pending);
			o->table_pending_set = 0;
		} else if (!d->f.cut) {
			for (uint32_t i = 0; i + 6 <= d->set_len; i += 6) {
				if ((d->set[i] << 8 | d->set[i + 1]) != SET_HEADER_TABLE_SIZE)
					continue;
				d->table_pending = (uint32_t)d->set[i + 2] << 24 | (uint32_t)d->set[i + 3] << 16 |
						   (uint32_t)d->set[i + 4] << 8 | d->set[i + 5];
				d->table_pending_set = 1;
			}
		}
		d->set_len = 0;
	}
	fr->ops->end(fr->user, dir, &d->f);
}

/* n payload bytes of the current frame at payload offset d->done (b NULL:
 * not captured), split into the fields before the content, the content
 * and the padding. */
static void payload(struct bz_h2frame *fr, int dir, const uint8_t *b, uint32_t n)
{
	struct bz_h2frame_dir *d = &fr->d[dir];

	while (n) {
		uint32_t off = d->done, k, end = d->f.len - (d->pad < d->f.len ? d->pad : 0);

		if (off < d->pre) {
			if (off == 0 && !d->pad_known) {
				if (b && (uint32_t)b[0] + d->pre <= d->f.len)
					d->pad = b[0];
				else
					d->f.cut = 1; /* the padding unknown (or impossible): taken as none */
				d->pad_known = 1;
				end = d->f.len - d->pad;
			}
			k = d->pre - off < n ? d->pre - off : n;
		} else if (off < end) {
			k = end - off < n ? end - off : n;
			if (!b)
				d->f.cut = 1;
			if (d->f.type == BZ_H2_SETTINGS && b && d->set_len + k <= sizeof(d->set)) {
				memcpy(d->set + d->set_len, b, k);
				d->set_len += k;
			}
			fr->ops->content(fr->user, dir, &d->f, b, k);
		} else {
			k = d->f.len - off < n ? d->f.len - off : n; /* padding */
		}
		d->done += k;
		if (b)
			b += k;
		n -= k;
	}
}

static void lose(struct bz_h2frame *fr, int dir)
{
	struct bz_h2frame_dir *d = &fr->d[dir];

	d->state = BZ_H2F_LOST;
	d->hdr_len = 0;
	d->resyncs++;
	fr->ops->lost(fr->user, dir);
}

static void consume(struct bz_h2frame *fr, int dir, const uint8_t *b, uint32_t n)
{
	static const uint8_t preface[] = BZ_H2_PREFACE;
	struct bz_h2frame_dir *d = &fr->d[dir];

	while (n) {
		uint32_t k, len;

		switch (d->state) {
		case BZ_H2F_PREFACE:
			k = BZ_H2_PREFACE_LEN - d->preface_got;
			if (k > n)
				k = n;
			if (memcmp(b, preface + d->preface_got, k)) {
				/* not the client's side: frames from the start (a
				 * server's side begins with its SETTINGS) */
				d->state = BZ_H2F_HEAD;
				continue;
			}
			d->preface_got = (uint8_t)(d->preface_got + k);
			if (d->preface_got == BZ_H2_PREFACE_LEN)
				d->state = BZ_H2F_HEAD;
			break;
		case BZ_H2F_HEAD:
			k = BZ_H2_HDR - d->hdr_len;
			if (k > n)
				k = n;
			if (d->hdr_len == 0)
				d->f.first = d->cur;
			memcpy(d->hdr + d->hdr_len, b, k);
			d->hdr_len = (uint8_t)(d->hdr_len + k);
			if (d->hdr_len == BZ_H2_HDR) {
				d->hdr_len = 0;
				frame_begin(fr, dir);
				if (d->f.len == 0)
					frame_end(fr, dir);
				else
					d->state = BZ_H2F_PAYLOAD;
			}
			break;
		case BZ_H2F_PAYLOAD:
			k = d->f.len - d->done;
			if (k > n)
				k = n;
			payload(fr, dir, b, k);
			if (d->done == d->f.len) {
				d->state = BZ_H2F_HEAD;
				frame_end(fr, dir);
			}
			break;
		default: /* BZ_H2F_LOST: a read or write that begins with a frame begins a frame */
			if (d->read_start && n >= BZ_H2_HDR && bz_h2frame_plausible(b, &len)) {
				d->state = BZ_H2F_HEAD;
				d->read_start = 0;
				continue;
			}
			d->skipped += n;
			k = n;
			break;
		}
		d->read_start = 0;
		b += k;
		n -= k;
	}
}

/* n bytes of dir that moved but were not captured. */
static void gap(struct bz_h2frame *fr, int dir, uint32_t n)
{
	struct bz_h2frame_dir *d = &fr->d[dir];

	while (n) {
		uint32_t k;

		switch (d->state) {
		case BZ_H2F_PREFACE:
			k = BZ_H2_PREFACE_LEN - d->preface_got;
			if (k > n)
				k = n;
			d->preface_got = (uint8_t)(d->preface_got + k);
			if (d->preface_got == BZ_H2_PREFACE_LEN)
				d->state = BZ_H2F_HEAD;
			break;
		case BZ_H2F_PAYLOAD:
			k = d->f.len - d->done;
			if (k > n)
				k = n;
			payload(fr, dir, NULL, k);
			if (d->done == d->f.len) {
				d->state = BZ_H2F_HEAD;
				frame_end(fr, dir);
			}
			break;
		case BZ_H2F_HEAD:
			/* a frame header not captured: where the frames are is lost */
			lose(fr, dir);
			d->skipped += n;
			return;
		default:
			d->skipped += n;
			return;
		}
		n -= k;
	}
}

void bz_h2frame_feed(struct bz_h2frame *fr, int dir, const struct bz_http_read *rd)
{
	struct bz_h2frame_dir *d;
	struct bz_range whole = { 0, rd->caplen };
	const struct bz_range *r = rd->ranges ? rd->ranges : &whole;
	uint32_t nr = rd->ranges ? rd->nranges : 1, pos = 0;
	const uint8_t *data = rd->data;

	if (!rd->len || (dir != 0 && dir != 1))
		return;
	d = &fr->d[dir];
	d->cur = rd->at;
	d->read_start = 1;
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t off = r[i].off, len = r[i].len;
		if (off < pos || off > rd->len || len > rd->len - off)
			break; /* (out of order or beyond the read: what is left is unknown) */
		if (off > pos)
			gap(fr, dir, off - pos);
		if (len)
			consume(fr, dir, data, len);
		data += len;
		pos = off + len;
	}
	if (rd->len > pos)
		gap(fr, dir, rd->len - pos);
}
