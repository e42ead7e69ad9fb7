/* go_runtime.c - Go handler runs, goroutine parents and round trips joined
 * to spans (go_runtime.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "go_runtime.h"

/* Bounds on what a misbehaving (or hostile) capture can make us hold. */
#define SPAWNS_MAX 65536    /* goroutines below handlers remembered at once */
#define TRIPS_PER_PID 1024  /* round trips in progress per process */

struct go_handler {
	uint64_t conn_id, index, span_id;
	struct bz_trace_id trace;
	int has_span;
};

struct go_trip {
	uint64_t goid, ts;
	uint64_t parent_id;          /* 0: made outside any handler */
	struct bz_trace_id trace;
	uint8_t matched;
	char method[BZ_GO_METHOD_MAX + 1];
	char path[BZ_GO_STR_MAX + 1];
};

struct go_trips {
	unsigned n;
	struct go_trip v[TRIPS_PER_PID];
};

/* A goroutine of a process as one map key.  Goroutine ids stay far below
 * 2^40 in any real run; ids beyond only risk a wrong parent link. */
static uint64_t gkey(uint32_t pid, uint64_t goid)
{
	return (uint64_t)pid << 40 ^ (goid & ((1ull << 40) - 1)) ^ (goid >> 40);
}

void bz_gorun_init(struct bz_gorun *g) { memset(g, 0, sizeof(*g)); }

static void free_values(struct bz_u64map *m)
{
	size_t pos = 0;
	uint64_t k;
	void *v;

	while (bz_u64map_next(m, &pos, &k, &v))
		free(v);
	bz_u64map_free(m);
}

void bz_gorun_free(struct bz_gorun *g)
{
	free_values(&g->handlers);
	free_values(&g->trips);
	bz_u64map_free(&g->spawns); /* values are keys, not allocations */
	bz_u64map_free(&g->pids);
}

static int mark_go(struct bz_gorun *g, uint32_t pid)
{
	if (bz_u64map_get(&g->pids, pid))
		return 0;
	return bz_u64map_put(&g->pids, pid, (void *)1);
}

int bz_gorun_in_handler(const struct bz_gorun *g, uint32_t pid, uint64_t goid)
{
	return bz_u64map_get(&g->handlers, gkey(pid, goid)) != NULL;
}

int bz_gorun_handler_start(struct bz_gorun *g, const struct bz_go_event *e, uint64_t conn_id,
			   const struct bz_pending *p)
{
	struct go_handler *h;
	uint64_t key = gkey(e->pid, e->goid);

	g->n.handlers++;
	if (mark_go(g, e->pid))
		return -ENOMEM;
	h = bz_u64map_get(&g->handlers, key);
	if (!h) {
		if (!(h = calloc(1, sizeof(*h))))
			return -ENOMEM;
		if (bz_u64map_put(&g->handlers, key, h)) {
			free(h);
			return -ENOMEM;
		}
	}
	memset(h, 0, sizeof(*h));
	h->conn_id = conn_id;
	if (p) {
		g->n.handlers_matched++;
		h->index = p->index;
		h->span_id = p->span_id;
		h->trace = p->trace;
		h->has_span = 1;
	}
	return 0;
}

int bz_gorun_handler_end(struct bz_gorun *g, const struct bz_go_event *e, uint64_t *conn_id,
			 uint64_t *index)
{
	struct go_handler *h = bz_u64map_del(&g->handlers, gkey(e->pid, e->goid));
	int rc = -1;

	if (h && h->has_span) {
		*conn_id = h->conn_id;
		*index = h->index;
		rc = 0;
	}
	free(h);
	return rc;
}

/* The running handler a goroutine works for: its own, or the one above the
 * goroutine that created it. */
static const struct go_handler *handler_of(const struct bz_gorun *g, uint32_t pid, uint64_t goid)
{
	const struct go_handler *h;
	void *up;

	if (!goid)
		return NULL;
	if ((h = bz_u64map_get(&g->handlers, gkey(pid, goid))))
		return h;
	if ((up = bz_u64map_get(&g->spawns, gkey(pid, goid))))
		return bz_u64map_get(&g->handlers, (uint64_t)(uintptr_t)up);
	return NULL;
}

int bz_gorun_spawn(struct bz_gorun *g, const struct bz_go_event *e)
{
	uint64_t parent = gkey(e->pid, e->parent_goid);
	void *root;

	if (mark_go(g, e->pid))
		return -ENOMEM;
	/* only goroutines below a running handler matter */
	if (bz_u64map_get(&g->handlers, parent))
		root = (void *)(uintptr_t)parent;
	else if (!(root = bz_u64map_get(&g->spawns, parent)))
		return 0;
	if (g->spawns.len >= SPAWNS_MAX) {
		/* forget them all rather than grow without end: later client
		 * calls of those goroutines lose their parent, and say so */
		g->n.spawns_forgotten += g->spawns.len;
		bz_u64map_free(&g->spawns);
		memset(&g->spawns, 0, sizeof(g->spawns));
	}
	g->n.spawns_kept++;
	return bz_u64map_put(&g->spawns, gkey(e->pid, e->goid), root);
}

int bz_gorun_client(struct bz_gorun *g, const struct bz_go_event *e)
{
	struct go_trips *t = bz_u64map_get(&g->trips, e->pid);
	const struct go_handler *h;
	struct go_trip *r;

	if (mark_go(g, e->pid))
		return -ENOMEM;
	if (e->phase == BZ_GO_END) {
		for (unsigned i = 0; t && i < t->n; i++) {
			if (t->v[i].goid == e->goid) {
				memmove(t->v + i, t->v + i + 1, (t->n - i - 1) * sizeof(*t->v));
				t->n--;
				break;
			}
		}
		return 0;
	}
	g->n.round_trips++;
	if (!t) {
		if (!(t = calloc(1, sizeof(*t))))
			return -ENOMEM;
		if (bz_u64map_put(&g->trips, e->pid, t)) {
			free(t);
			return -ENOMEM;
		}
	}
	if (t->n == TRIPS_PER_PID) { /* ends were lost: drop the oldest */
		memmove(t->v, t->v + 1, (t->n - 1) * sizeof(*t->v));
		t->n--;
	}
	r = &t->v[t->n++];
	memset(r, 0, sizeof(*r));
	r->goid = e->goid;
	r->ts = e->ts_ns;
	memcpy(r->method, e->method, sizeof(r->method));
	memcpy(r->path, e->path, sizeof(r->path));
	h = handler_of(g, e->pid, e->goid);
	if (!h)
		h = handler_of(g, e->pid, e->parent_goid);
	if (h && h->has_span) {
		r->parent_id = h->span_id;
		r->trace = h->trace;
	}
	return 0;
}

int bz_gorun_client_parent(void *user, uint32_t pid, const char *method, const char *path,
			   uint64_t ts, uint64_t *parent_id, struct bz_trace_id *trace)
{
	struct bz_gorun *g = user;
	struct go_trips *t;

	if (!bz_u64map_get(&g->pids, pid))
		return 0; /* not Go: the thread rule applies */
	t = bz_u64map_get(&g->trips, pid);
	for (unsigned i = 0; t && i < t->n; i++) {
		struct go_trip *r = &t->v[i];
		/* the round trip began before its request was written */
		if (r->matched || r->ts > ts || strcmp(r->method, method) || strcmp(r->path, path))
			continue;
		r->matched = 1;
		g->n.round_trips_matched++;
		if (!r->parent_id)
			return -1;
		g->n.round_trips_parented++;
		*parent_id = r->parent_id;
		*trace = r->trace;
		return 1;
	}
	return -1;
}

uint16_t bz_go_parse_remote(const char *s, uint16_t *family, uint8_t addr[16])
{
	char host[BZ_GO_STR_MAX + 1];
	const char *colon = strrchr(s, ':');
	size_t n;
	long port;
	char *end;

	*family = 0;
	memset(addr, 0, 16);
	if (!colon)
		return 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return 0;
	n = (size_t)(colon - s);
	if (n && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof(host))
		return (uint16_t)port;
	memcpy(host, s, n);
	host[n] = 0;
	if (inet_pton(AF_INET, host, addr) == 1)
		*family = BZ_AF_INET;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		*family = BZ_AF_INET6;
	return (uint16_t)port;
}
