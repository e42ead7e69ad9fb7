/* redact_wire.c - picks the database masker of a connection and keeps its
 * state (redact_wire.h). */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/u64map.h"
#include "record/redact.h"
#include "record/redact_wire.h"

/* The maskers, in the order their detectors are asked. */
static const struct rd_wire_ops *const rd_wire_table[] = {
	&rd_wire_pgsql,
	&rd_wire_mysql,
	&rd_wire_redis,
};
#define RD_WIRE_N (sizeof(rd_wire_table) / sizeof(rd_wire_table[0]))

/* A judged connection: its masker and state, or (proto < 0) none. */
struct wconn {
	int proto;
	/* rd_wire_table[proto]->state_size bytes, aligned for any member a
	 * masker's state has (after an int it would be only 4-byte aligned) */
	alignas(max_align_t) uint8_t state[];
};

struct rd_wire {
	struct bz_u64map conns;  /* key -> struct wconn */
	struct bz_u64map joined; /* conn -> &not_db: open before the recording */
	struct rd_wire_stats st;
};

/* Every connection judged not to be a database one shares this entry. */
static struct wconn not_db = { .proto = -1 };

/* The socket's bytes and the TLS plaintext of one connection are two
 * streams. */
static uint64_t stream_key(uint64_t conn, int plain) { return plain ? conn ^ (1ull << 63) : conn; }

int rd_wire_new(struct rd_wire **out)
{
	struct rd_wire *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	*out = w;
	return 0;
}

static void free_conns(struct rd_wire *w)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(&w->conns, &pos, &k, &v))
		if (v != &not_db)
			free(v);
	bz_u64map_free(&w->conns);
}

void rd_wire_free(struct rd_wire **wp)
{
	struct rd_wire *w = wp ? *wp : NULL;

	if (!w)
		return;
	free_conns(w);
	bz_u64map_free(&w->joined);
	free(w);
	*wp = NULL;
}

void rd_wire_joined(struct rd_wire *w, uint64_t conn)
{
	if (w)
		(void)bz_u64map_put(&w->joined, conn, &not_db); /* (out of memory: judged as fresh) */
}

size_t rd_wire_fill(uint8_t *p, size_t n)
{
	memset(p, BZ_REDACT_FILL, n);
	return n;
}

/* The masker that claims a stream whose first captured bytes are p[0..n),
 * as a new entry (&not_db: none; NULL: out of memory, judged again next
 * time). */
static struct wconn *judge(const uint8_t *p, size_t n, unsigned dir, int joined)
{
	for (size_t i = 0; i < RD_WIRE_N; i++) {
		const struct rd_wire_ops *ops = rd_wire_table[i];
		unsigned client_dir = RD_WIRE_OUT;
		struct wconn *c;

		if (ops->detect(p, n, dir, joined, &client_dir) != RD_WIRE_YES)
			continue;
		c = calloc(1, sizeof(*c) + ops->state_size);
		if (!c)
			return NULL;
		c->proto = (int)i;
		ops->init(c->state, client_dir, joined);
		return c;
	}
	return &not_db;
}

int rd_wire_data(struct rd_wire *w, uint64_t conn, unsigned dir, int plain, uint8_t *p, size_t caplen,
		 int64_t ret, size_t *masked)
{
	uint64_t key = stream_key(conn, plain);
	struct wconn *c;
	size_t k;
	int kept = 1;

	*masked = 0;
	if (!w || ret <= 0)
		return 0;
	dir = dir ? RD_WIRE_OUT : RD_WIRE_IN;
	c = bz_u64map_get(&w->conns, key);
	if (!c) {
		int full = w->conns.len >= RD_WIRE_CONNS_MAX;
		if (!caplen)
			return 0; /* nothing seen yet: judged at the first byte */
		/* (not to be remembered: judged as from the middle, each time) */
		c = judge(p, caplen, dir, full || bz_u64map_get(&w->joined, conn) != NULL);
		if (!c)
			return 0;
		if (full || bz_u64map_put(&w->conns, key, c)) {
			kept = 0;
			w->st.unkept++;
		} else if (c != &not_db) {
			w->st.conns[c->proto]++;
		}
	}
	if (c == &not_db)
		return 0;
	if ((uint64_t)ret < caplen)
		caplen = (size_t)ret;
	k = rd_wire_table[c->proto]->data(c->state, dir, p, caplen, (uint64_t)ret);
	if (!kept)
		free(c);
	w->st.bytes += k;
	w->st.events += k > 0;
	*masked = k;
	return 1;
}

void rd_wire_forget(struct rd_wire *w, uint64_t conn)
{
	if (!w)
		return;
	bz_u64map_del(&w->joined, conn);
	for (int plain = 0; plain < 2; plain++) {
		struct wconn *c = bz_u64map_del(&w->conns, stream_key(conn, plain));
		if (c && c != &not_db)
			free(c);
	}
}

void rd_wire_get_stats(const struct rd_wire *w, struct rd_wire_stats *out)
{
	if (w)
		*out = w->st;
	else
		memset(out, 0, sizeof(*out));
}
