/* conn_hold.c - reads held while a connection's protocol is undecided
 * (conn_hold.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn_hold.h"

int bz_hold_fits(const struct bz_conn_hold *h, const struct bz_http_read *rd, int pieces)
{
	uint32_t n = h ? h->n : 0, bytes = h ? h->bytes : 0;

	return n < BZ_HOLD_READS && !pieces && rd->caplen == rd->len && bytes + rd->caplen <= BZ_HOLD_BYTES;
}

int bz_hold_add(struct bz_conn_hold **hp, int dir, const struct bz_http_read *rd)
{
	struct bz_conn_hold *h = *hp;
	struct bz_held_read *r;

	if (!h && !(h = *hp = calloc(1, sizeof(*h))))
		return -ENOMEM;
	if (h->n >= BZ_HOLD_READS)
		return -ENOSPC;
	if (!(r = malloc(sizeof(*r) + rd->caplen)))
		return -ENOMEM;
	r->dir = dir;
	r->rd = *rd;
	if (rd->caplen)
		memcpy(r->bytes, rd->data, rd->caplen);
	r->rd.data = r->bytes;
	r->rd.ranges = NULL;
	r->rd.nranges = 0;
	h->r[h->n++] = r;
	h->bytes += rd->caplen;
	return 0;
}

size_t bz_hold_head(const struct bz_conn_hold *h, int dir, const uint8_t *cur, size_t ncur, uint8_t *out,
		    size_t cap)
{
	size_t got = 0;

	for (uint32_t i = 0; h && i < h->n; i++) {
		const struct bz_http_read *rd = &h->r[i]->rd;
		size_t k;

		if (h->r[i]->dir != dir)
			continue;
		k = rd->caplen < cap - got ? rd->caplen : cap - got;
		memcpy(out + got, rd->data, k);
		got += k;
		if (rd->caplen < rd->len || got == cap)
			return got;
	}
	if (ncur > cap - got)
		ncur = cap - got;
	if (ncur)
		memcpy(out + got, cur, ncur);
	return got + ncur;
}

void bz_hold_replay(struct bz_conn_hold **hp, const struct bz_proto_ops *ops, void *parser)
{
	struct bz_conn_hold *h = *hp;

	for (uint32_t i = 0; h && i < h->n; i++)
		ops->feed(parser, h->r[i]->dir, &h->r[i]->rd);
	bz_hold_free(hp);
}

void bz_hold_free(struct bz_conn_hold **hp)
{
	struct bz_conn_hold *h = *hp;

	for (uint32_t i = 0; h && i < h->n; i++)
		free(h->r[i]);
	free(h);
	*hp = NULL;
}
