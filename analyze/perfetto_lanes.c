/* perfetto_lanes.c - see perfetto_lanes.h.  Two binary heaps: lanes still
 * busy, by the time they end, and free lanes, by number. */
#include "perfetto_lanes.h"

#include <errno.h>
#include <stdlib.h>

/* heap order: busy lanes by busy_until (then number), free lanes by number */
static int before(const struct bz_lanes *l, int by_end, uint32_t a, uint32_t b)
{
	if (by_end && l->busy_until[a] != l->busy_until[b])
		return l->busy_until[a] < l->busy_until[b];
	return a < b;
}

static void heap_push(const struct bz_lanes *l, int by_end, uint32_t *h, uint32_t *n, uint32_t v)
{
	uint32_t i = (*n)++;
	while (i && before(l, by_end, v, h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static uint32_t heap_pop(const struct bz_lanes *l, int by_end, uint32_t *h, uint32_t *n)
{
	uint32_t top = h[0], v = h[--*n], i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && before(l, by_end, h[c + 1], h[c]))
			c++;
		if (!before(l, by_end, h[c], v))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
	return top;
}

static int grow(struct bz_lanes *l)
{
	uint32_t cap = l->cap ? l->cap * 2 : 4;
	int64_t *bu = realloc(l->busy_until, cap * sizeof(*bu));
	if (!bu)
		return -ENOMEM;
	l->busy_until = bu;
	uint32_t *b = realloc(l->busy, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	l->busy = b;
	uint32_t *f = realloc(l->free, cap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	l->free = f;
	l->cap = cap;
	return 0;
}

int bz_lanes_take(struct bz_lanes *l, int64_t start, int64_t end, uint32_t *lane, int *made)
{
	uint32_t k;

	/* every lane whose last slice ended by now is free again */
	while (l->nbusy && l->busy_until[l->busy[0]] <= start) {
		k = heap_pop(l, 1, l->busy, &l->nbusy);
		heap_push(l, 0, l->free, &l->nfree, k);
	}
	*made = 0;
	if (l->nfree) {
		k = heap_pop(l, 0, l->free, &l->nfree);
	} else {
		if (l->n == l->cap && grow(l))
			return -ENOMEM;
		k = l->n++;
		*made = 1;
	}
	l->busy_until[k] = end > start ? end : start;
	heap_push(l, 1, l->busy, &l->nbusy, k);
	*lane = k;
	return 0;
}

void bz_lanes_free(struct bz_lanes *l)
{
	free(l->busy_until);
	free(l->busy);
	free(l->free);
	*l = (struct bz_lanes){ 0 };
}
