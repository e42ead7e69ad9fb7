/* spans.h - turns the HTTP messages of a connection into spans.
 *
 * The HTTP parser of each connection reports messages (HEAD, END) here.  A
 * request's HEAD opens a pending request on its connection; the END of its
 * final response closes it into a span (server or client, by the direction
 * the request travelled), which is written to the database at once.  What
 * is still pending when the connection ends becomes an incomplete span.
 *
 * Timing rules (docs/analysis.md has the long form):
 *  server span  start = established_ns for the first request of a connection
 *               accepted during the capture (unless its bytes provably
 *               arrived after the accept), else when the request's first
 *               bytes arrived (arrival_ns of the read holding them; that
 *               read's return time if unknown).
 *               processing starts at max(arrival, read entered, end of the
 *               previous response on the connection), clamped into the
 *               span; "in queue" and "processing" children tile the span.
 *               end = return of the write holding the response's last byte.
 *  client span  start = entry of the write holding the request's first
 *               byte; end = return of the read holding the response's last.
 *               In Go servers, processing starts when the net/http
 *               handler started (the handler's run, from the Go probes).
 *  parent       a server span is the child of the client span that sent
 *               its request when the client was recorded too (the same
 *               connection seen from both ends, on one host), found by
 *               whichever of the two opens second (peer_link).
 *               A client span is the child of the server span its thread
 *               is working on (registered when the thread read that
 *               request), if that is unambiguous.  In Go processes, by
 *               goroutine instead (client_parent).  An event loop with
 *               several server requests in progress (a proxy): the request
 *               whose read the thread made just before it connected the
 *               client's connection (bz_spanner_connected), else just
 *               before the client request's first write, if the client
 *               request forwards it (same method, its path the server
 *               request's or a tail of it from a '/').
 */
#ifndef BEYLA_SPANS_H
#define BEYLA_SPANS_H

#include <stdint.h>

#include "conn.h"
#include "db.h"
#include "procs.h"
#include "u64map.h"

struct bz_sched;

struct bz_span_counts {
	uint64_t server, client, internal, incomplete;
	uint64_t parent_links, parent_ambiguous;
	/* of parent_links, the event-loop proxy rule's: by the read before the
	 * connection's connect(), by the read before the request's write */
	uint64_t parent_by_connect, parent_by_last_read;
	uint64_t peer_links;         /* server spans parented by a recorded client span */
	uint64_t peer_links_late;    /* ... of them, written before their client span opened */
	uint64_t orphan_responses;   /* responses to requests never seen */
	uint64_t interim;            /* 1xx responses */
	/* the kernel's waits, server spans: whose request's host arrival an
	 * RX_ARRIVAL gave (rx_backlog_ns), or none did (a wait shorter than
	 * the recorder writes: 0); whose response's delivery to a peer on this
	 * host a PEER_RX gave (tx_queue_ns), or none did (delivered inside the
	 * write: 0), or too many were waiting on the connection (NULL) */
	uint64_t kw_rx_found, kw_rx_short, kw_tx_found, kw_tx_inline, kw_tx_unknown;
};

/* Who parents a client span other than by thread (Go: by goroutine).
 * Returns 1 with the parent's ids, 0 for none, or -1 for none and "do not
 * use the thread rule either" (a Go process: threads run any goroutine). */
typedef int (*bz_parent_fn)(void *user, uint32_t pid, const char *method, const char *path,
			    uint64_t ts, uint64_t *parent_id, struct bz_trace_id *trace);

/* The other end of connection c, when the peer's end was recorded too
 * (same host), else NULL.  A request opened on c is linked to the oldest
 * of the other kind not linked yet there: for a server request, the client
 * request that sent it; for a client request, the server request that
 * read it, if that opened first, or even was written already.  Either
 * can: the recorder's events of two processes are in the order they
 * reached the ring buffer, and a write's record is written at its return,
 * which may come after the reader it woke read the request and answered. */
typedef struct bz_conn *(*bz_peer_fn)(void *user, const struct bz_conn *c);

struct bz_spanner {
	bz_parent_fn client_parent; /* may be NULL */
	void *client_parent_user;
	bz_peer_fn peer_link;       /* may be NULL */
	void *peer_link_user;
	struct bz_db *db;
	struct bz_procs *procs;
	uint64_t seed;          /* capture identity, for ids */
	uint64_t seq;           /* requests given ids so far (spans.c: ids) */
	int64_t mono_to_unix;   /* add to a monotonic time to get Unix ns */
	uint64_t kw_rx_min_ns;  /* the capture's RX_ARRIVAL threshold; 0: no receive timestamps */
	struct bz_u64map threads; /* (pid << 32 | tid) -> server spans in progress */
	struct bz_sched *sched;   /* --sched timelines (sched_split.h), NULL: none */
	int err;                /* first database error, sticky */
	struct bz_span_counts n;
};

/* A monotonic time as Unix ns.  Times from a hostile capture can be
 * anything: the result is clamped to [0, INT64_MAX] (never an overflow, and
 * later times never come out earlier, so end - start stays >= 0). */
static inline int64_t bz_mono_to_unix(uint64_t mono, int64_t offset)
{
	uint64_t r;

	if (offset >= 0) {
		r = mono + (uint64_t)offset;
		if (r < mono)
			r = UINT64_MAX;
	} else {
		uint64_t neg = (uint64_t)0 - (uint64_t)offset;
		r = mono > neg ? mono - neg : 0;
	}
	return r > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)r;
}

void bz_spanner_init(struct bz_spanner *sp, struct bz_db *db, struct bz_procs *procs);
/* The HTTP parser callback's work; c is the message's connection. */
void bz_spanner_msg(struct bz_spanner *sp, struct bz_conn *c, enum bz_http_event ev,
		    const struct bz_http_msg *m);
/* Thread (pid, tid) moved bytes on c (dir: enum bz_data_dir) in a read or
 * write that returned at ts (monotonic): called after it was fed to c's
 * parser.  Kept only for a thread with server requests in progress: what
 * the proxy parent rule looks at. */
void bz_spanner_io(struct bz_spanner *sp, const struct bz_conn *c, uint32_t pid, uint32_t tid, int dir,
		   uint64_t ts);
/* Thread (pid, tid) connected c: if its last read or write was a read of a
 * connection on which it has a server request in progress, c is noted as
 * opened for that request (the oldest there). */
void bz_spanner_connected(struct bz_spanner *sp, struct bz_conn *c, uint32_t pid, uint32_t tid);
/* After the connection's parser was flushed: every request still pending
 * becomes an incomplete span and is freed (a server span held for its
 * response's delivery is written complete, its tx_queue_ns unknown). */
void bz_spanner_conn_end(struct bz_spanner *sp, struct bz_conn *c, int closed);
/* A PEER_RX of c (c->kw_peer): its peer had the first `bytes` bytes c wrote
 * at ts.  Noted in c's ring; the server spans held for those bytes are
 * written. */
void bz_spanner_peer_rx(struct bz_spanner *sp, struct bz_conn *c, uint64_t bytes, uint64_t ts);
void bz_spanner_free(struct bz_spanner *sp);
/* How a Go handler start was paired with its request. */
enum bz_go_pairing {
	BZ_GO_PAIR_NONE = 0, /* no request waiting for a handler */
	BZ_GO_PAIR_STREAM,   /* HTTP/2: the stream id the handler serves */
	BZ_GO_PAIR_PATH,     /* HTTP/2: the oldest with the handler's method and path */
	BZ_GO_PAIR_ORDER,    /* the oldest without a handler (HTTP/1: always so) */
};
/* A Go handler started serving on c at ts.  HTTP/1: the oldest server
 * request on c without a handler gets it.  HTTP/2 (streams overlap and
 * their handlers start in any order): the request on stream `stream` (0:
 * unknown) if it has the handler's method and path (Go's URL.Path,
 * percent-decoded), else the oldest without a handler with that method and
 * path, else the oldest without a handler.  Returns that request (its
 * span_id, trace, index), marked as handled from ts, or NULL; *how says
 * which rule matched. */
struct bz_pending *bz_spanner_go_handler(struct bz_spanner *sp, struct bz_conn *c, uint64_t ts,
					 uint32_t stream, const char *method, const char *path,
					 enum bz_go_pairing *how);
/* The request number index of c, if still pending. */
struct bz_pending *bz_spanner_pending(struct bz_conn *c, uint64_t index);

#endif
