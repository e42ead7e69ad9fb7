/* go_runtime.h - the Go runtime's facts (handler runs, goroutine parents,
 * client round trips) joined to the spans the kernel's bytes make.
 *
 * A Go handler serves on one goroutine; a client call is made on that
 * goroutine or on one it started (directly, or further down when the
 * runtime reports every goroutine creation).  net/http writes the request
 * from another goroutine (the connection's writeLoop), so in a Go process
 * the thread that wrote a request says nothing about who asked for it: the
 * round trip's goroutine does.  A client span is matched to the oldest
 * unmatched round trip of its process with the same method and path. */
#ifndef BEYLA_GO_RUNTIME_H
#define BEYLA_GO_RUNTIME_H

#include <stdint.h>

#include "conn.h"
#include "session.h"
#include "u64map.h"

struct bz_go_counts {
	uint64_t handlers, handlers_matched;  /* handler starts; matched to a request */
	uint64_t handler_repeats;             /* a start seen twice (a re-run probe) */
	/* HTTP/2 starts paired by stream id, by method and path, by order alone */
	uint64_t handlers_by_stream, handlers_by_path, handlers_by_order;
	/* handler ends; those whose request was still open (its handler_ns known) */
	uint64_t handler_ends, handler_ends_matched;
	uint64_t round_trips, round_trips_matched, round_trips_parented;
	uint64_t spawns_kept, spawns_forgotten;
};

struct bz_gorun {
	struct bz_u64map handlers; /* (pid, goid) -> struct go_handler, while it runs */
	struct bz_u64map spawns;   /* (pid, goid) -> (pid, goid) of the handler above it */
	struct bz_u64map trips;    /* pid -> struct go_trips, round trips in progress */
	struct bz_u64map pids;     /* pid -> (void *)1: processes that are Go */
	struct bz_go_counts n;
};

void bz_gorun_init(struct bz_gorun *g);
void bz_gorun_free(struct bz_gorun *g);
/* 1 if goroutine goid of pid is inside a handler (started, not finished):
 * then a second start is the same call seen twice, not a new request. */
int bz_gorun_in_handler(const struct bz_gorun *g, uint32_t pid, uint64_t goid);
/* A handler started and was matched to request p on connection conn_id
 * (p NULL: no request to match; only counted). */
int bz_gorun_handler_start(struct bz_gorun *g, const struct bz_go_event *e, uint64_t conn_id,
			   const struct bz_pending *p);
/* A handler returned: its connection and request number.  0, or -1 when
 * that handler's start was not seen. */
int bz_gorun_handler_end(struct bz_gorun *g, const struct bz_go_event *e, uint64_t *conn_id,
			 uint64_t *index);
int bz_gorun_spawn(struct bz_gorun *g, const struct bz_go_event *e);
int bz_gorun_client(struct bz_gorun *g, const struct bz_go_event *e);
/* bz_parent_fn (spans.h) with user = the struct bz_gorun. */
int bz_gorun_client_parent(void *user, uint32_t pid, const char *method, const char *path,
			   uint64_t ts, uint64_t *parent_id, struct bz_trace_id *trace);
/* "ip:port" -> port (0 if none) and the address bytes as the conn stores
 * them (family BZ_AF_*; 0 if not an address). */
uint16_t bz_go_parse_remote(const char *s, uint16_t *family, uint8_t addr[16]);

#endif
