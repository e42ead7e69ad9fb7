/* analysis.c - the analyzer's session handlers (analysis.h).
 *
 *   handler      what it does
 *   header       clock pair (mono -> Unix), id seed
 *   proc/exec/   process table; a process's row is written when it exits
 *   fork/exit
 *   conn_open    creates the connection and its HTTP parser (role known)
 *   conn_est     established time of an outgoing connection
 *   data         feeds the connection's parser (creates an unknown-role
 *                connection when its open was not recorded)
 *   conn_close   flushes the parser, ends pending requests, writes the row,
 *                frees the connection
 *   go           Go handler runs matched to server requests (by the
 *                client's address), round trips and goroutine creation
 *                (go_runtime.c) for client span parents
 *   stats/end    drop counters and totals, written at the end
 *   probe        the probe report (PROBES, GO_BINARY, TLS_LIBRARY blocks),
 *                kept and written at the end as the table probes
 *
 * TLS served or called by Go: the socket's bytes are ciphertext and only
 * give times and sizes; the parser is fed the plaintext the crypto/tls
 * probes or the OpenSSL probes recorded (DATA records with syscall
 * BZ_SYS_GO_TLS or BZ_SYS_SSL).
 *
 * A connection no parser recognised is judged by its first bytes
 * (detect.c); an encrypted one without plaintext is counted against the
 * process that had it and the TLS library its PROC block names
 * (explain.c), which is what `beyla analyze` tells the user.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "conn.h"
#include "proto/detect.h"
#include "proto/http2.h"
#include "explain.h"
#include "go_request.h"
#include "go_runtime.h"
#include "procs.h"
#include "sched_split.h"
#include "u64map.h"
#include "unix_addr.h"

#define PROBES_MAX 64
#define PROBE_ROWS_MAX 4096 /* probe report rows kept; more are counted */

#ifndef BEYLA_VERSION
#define BEYLA_VERSION "unknown"
#endif

struct parse_totals {
	uint64_t skipped, ignored, guessed_ends, cut_heads, resyncs, malformed, queue_overflows;
	uint64_t upgraded, non_http, http, unparsed, requests, responses;
	uint64_t http2, headers_lost;
	uint64_t db; /* connections of a database protocol (of http: parsed) */
};

struct bz_analysis {
	struct bz_db *db;
	const char *source;
	struct bz_procs procs;
	struct bz_spanner sp;
	struct bz_u64map conns;
	struct bz_u64map by_remote; /* (pid, remote port) -> the latest conn with it */
	struct bz_u64map by_tuple;  /* hash of (local, remote) address and port -> conn */
	struct bz_gorun go;
	struct bz_sched sched;     /* --sched: thread timelines (sched_split.h) */
	uint64_t sched_forget_ts;  /* next time to forget what no open request needs */
	uint64_t tls_conns;
	struct bz_explain explain; /* unrecognised connections: classes, TLS without plaintext */
	uint64_t conns_lost; /* closed connections some of whose records were dropped */
	struct bz_capture_meta meta;
	struct bz_end_meta end;
	int have_meta, have_end;
	struct bz_probe_stat probes[PROBES_MAX];
	unsigned nprobes;
	struct bz_probe_row *report; /* the probe report, in capture order */
	size_t nreport, report_cap;
	uint64_t report_dropped;     /* rows past PROBE_ROWS_MAX */
	uint64_t first_ts, last_ts;
	uint64_t conns_total, processes;
	uint64_t data_errors, data_unknown_conn, empty_reads, bad_ranges;
	struct parse_totals pt;
	bz_progress_fn progress;
	void *progress_user;
	/* Go HTTPS servers' requests from the handler's struct reads
	 * (go_request.h): in --go=fast captures, or asked for
	 * (BZ_ANALYZE_GO_FROM_STRUCTS, to compare with the plaintext);
	 * go_feeding while such a request is fed */
	uint8_t go_structs, go_structs_forced, go_feeding;
	uint64_t go_struct_requests, go_struct_unbuilt, go_plain_ignored;
	/* a Go binary's crypto/tls.(*Conn).Read was probed (--go=full at its
	 * RETs, --go=fast at its copy): its clients' responses are recorded */
	int go_tls_read_probed;
	unsigned flags;
	int err; /* first failure: stops the session */
};

/* ---- helpers ------------------------------------------------------------ */

/* a.b.c.d, as inet_ntop writes it (which goes through sprintf: every span
 * formats two addresses); cap >= 16. */
static void ipv4_text(const uint8_t a[4], char *out)
{
	char *o = out;

	for (int k = 0; k < 4; k++) {
		unsigned v = a[k];
		if (k)
			*o++ = '.';
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
	}
	*o = 0;
}

void bz_conn_addr(const struct bz_conn *c, int remote, char *out, size_t cap)
{
	const uint8_t *a = remote ? c->remote_addr : c->local_addr;
	int af = c->family == BZ_AF_INET6 ? AF_INET6 : c->family == BZ_AF_INET ? AF_INET : 0;

	out[0] = 0;
	if (af == AF_INET && cap >= 16)
		ipv4_text(a, out);
	else if (!af || !inet_ntop(af, a, out, (socklen_t)cap))
		out[0] = 0;
}

static int64_t unix_or_null(const struct bz_analysis *a, uint64_t mono)
{
	return mono ? bz_mono_to_unix(mono, a->sp.mono_to_unix) : BZ_DB_NULL;
}

static void see_ts(struct bz_analysis *a, uint64_t ts)
{
	if (!ts)
		return;
	if (!a->first_ts || ts < a->first_ts)
		a->first_ts = ts;
	if (ts > a->last_ts)
		a->last_ts = ts;
}

static int fail(struct bz_analysis *a, int rc)
{
	if (!a->err)
		a->err = rc;
	return rc;
}

/* ---- processes ---------------------------------------------------------- */

static int write_proc(struct bz_analysis *a, const struct bz_proc *p)
{
	char tls[BZ_TLS_LIBS_MAX * (BZ_TLS_PATH_MAX + 32)];

	bz_tls_libs_text(&p->tls, tls, sizeof(tls));
	struct bz_db_process r = {
		.pid = p->pid,
		.ppid = p->ppid ? (int64_t)p->ppid : BZ_DB_NULL,
		.exe = p->exe,
		.comm = p->comm,
		.cmdline = p->cmdline,
		.service_name = p->service,
		.resource_attributes = p->resource_attrs,
		.flags = p->flags,
		.forked_from = p->forked_from ? (int64_t)p->forked_from : BZ_DB_NULL,
		.first_seen_ns = unix_or_null(a, p->first_seen_ns),
		.exit_ns = p->exited ? unix_or_null(a, p->exit_ns) : BZ_DB_NULL,
		.exit_code = p->exited ? p->exit_code : BZ_DB_NULL,
		.tls_libraries = tls[0] ? tls : NULL,
	};
	a->processes++;
	return bz_db_process(a->db, &r);
}

static int an_proc(void *u, const struct bz_proc_meta *m)
{
	struct bz_analysis *a = u;
	return bz_procs_meta(&a->procs, m) ? 0 : fail(a, -ENOMEM);
}

static int an_exec(void *u, const struct bz_ev_proc_exec *e)
{
	struct bz_analysis *a = u;
	see_ts(a, e->h.ts_ns);
	return bz_procs_exec(&a->procs, e) ? 0 : fail(a, -ENOMEM);
}

static int an_fork(void *u, const struct bz_ev_proc_fork *e)
{
	struct bz_analysis *a = u;
	see_ts(a, e->h.ts_ns);
	return bz_procs_fork(&a->procs, e) ? 0 : fail(a, -ENOMEM);
}

static int an_exit(void *u, const struct bz_ev_proc_exit *e)
{
	struct bz_analysis *a = u;
	struct bz_proc *p;
	int rc;

	see_ts(a, e->h.ts_ns);
	if (!bz_procs_exit(&a->procs, e))
		return 0;
	p = bz_procs_take(&a->procs, e->h.pid);
	rc = write_proc(a, p);
	free(p);
	return rc ? fail(a, rc) : 0;
}

/* ---- connections -------------------------------------------------------- */

static void an_http(void *u, enum bz_http_event ev, const struct bz_http_msg *m)
{
	struct bz_conn *c = u;
	/* an HTTP/1.1 connection upgraded to h2c: HTTP/2 from the next byte
	 * on (an_data switches parsers once this read or write is done) */
	if (ev == BZ_HTTP_END && !m->is_request && (m->flags & BZ_HTTP_F_UPGRADE) && (m->flags & BZ_HTTP_F_H2C) &&
	    c->proto && c->proto->id == BZ_PROTO_HTTP1 && !c->h2c_done && m->index != BZ_HTTP_NO_INDEX) {
		c->h2c_switch = 1;
		c->h2c_index = m->index;
	}
	bz_spanner_msg(&c->a->sp, c, ev, m);
}

static int req_dir_of(uint8_t role)
{
	return role == BZ_ROLE_ACCEPTED ? BZ_HTTP_IN :
	       role == BZ_ROLE_CONNECTED ? BZ_HTTP_OUT : BZ_HTTP_DIR_UNKNOWN;
}

static struct bz_conn *conn_get(struct bz_analysis *a, uint64_t id, uint32_t pid, uint8_t role)
{
	struct bz_conn *c = bz_u64map_get(&a->conns, id);

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->a = a;
	c->id = id;
	c->pid = pid;
	c->role = role;
	c->fd = -1;
	if (bz_u64map_put(&a->conns, id, c)) {
		free(c);
		return NULL;
	}
	a->conns_total++;
	return c;
}

/* The parser of c, picked by its first captured bytes p[0..n) read
 * (dir BZ_HTTP_IN) or written by the target, created on first use.  NULL
 * when out of memory. */
/* The parser of c, made at its first captured bytes from what the
 * protocols' detectors say of them (proto.h); rd (NULL: none, decide now),
 * of dir, is the read at hand, its first head_len bytes the connection's
 * next in that direction, pieces whether it came as ranges.  While a
 * detector says MAYBE, rd is held rather than fed (conn_hold.h): returns 1
 * then, 0 when the parser is there to be fed rd (given the held reads
 * first), -ENOMEM. */
static int conn_parser(struct bz_conn *c, int dir, const struct bz_http_read *rd, size_t head_len, int pieces)
{
	int fresh = c->plain_restart || c->role == BZ_ROLE_ACCEPTED || c->role == BZ_ROLE_CONNECTED;
	struct bz_proto_cfg cfg = { .req_dir = req_dir_of(c->role), .fresh = fresh, .cb = an_http, .user = c };
	uint8_t head[2][BZ_HOLD_BYTES];
	const uint8_t *p[2] = { head[0], head[1] };
	size_t n[2];
	int undecided = 0;

	if (c->parser)
		return 0;
	for (int d = 0; d < 2; d++)
		n[d] = bz_hold_head(c->hold, d, rd && d == dir ? rd->data : NULL, rd && d == dir ? head_len : 0,
				    head[d], sizeof(head[d]));
	c->proto = bz_proto_pick(p, n, fresh, &undecided);
	if (undecided && rd && bz_hold_fits(c->hold, rd, pieces))
		return bz_hold_add(&c->hold, dir, rd) ? -ENOMEM : 1;
	if (c->proto->create(&c->parser, &cfg)) {
		c->parser = NULL;
		return -ENOMEM;
	}
	bz_hold_replay(&c->hold, c->proto, c->parser);
	return 0;
}

static void conn_parser_free(struct bz_conn *c)
{
	if (c->parser)
		c->proto->destroy(&c->parser);
	c->parser = NULL;
	bz_hold_free(&c->hold);
}

/* Bytes the parser of c was given so far (0 without one). */
static uint64_t conn_fed(const struct bz_conn *c)
{
	const struct bz_proto_stats *st = c->parser ? c->proto->stats(c->parser) : NULL;
	if (c->hold)
		return c->hold->bytes + 1; /* (held: given to the parser to come) */
	return st ? st->fed[0] + st->fed[1] : 0;
}

/* A database connection whose parser saw it switch to TLS (PostgreSQL's
 * SSLRequest answered 'S'): its next records are TLS's, as a connection
 * whose first bytes are. */
static int conn_db_upgraded(const struct bz_conn *c)
{
	const struct bz_proto_stats *st = c->parser ? c->proto->stats(c->parser) : NULL;
	return st && BZ_PROTO_IS_DB(c->proto->id) && st->upgraded;
}

static const char *role_name(uint8_t role)
{
	switch (role) {
	case BZ_ROLE_ACCEPTED: return "accepted";
	case BZ_ROLE_CONNECTED: return "connected";
	case BZ_ROLE_PREEXISTING: return "preexisting";
	default: return "unknown";
	}
}

static uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

static uint64_t remote_key(uint32_t pid, uint16_t port) { return (uint64_t)pid << 16 | port; }

/* An address as 16 bytes, IPv4 (plain or mapped into IPv6) as ::ffff:a.b.c.d,
 * so both ends of a connection spell it alike. */
static void addr16(uint16_t family, const uint8_t a[16], uint8_t out[16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memcpy(out, v4mapped, 12);
	if (family == BZ_AF_INET)
		memcpy(out + 12, a, 4);
	else
		memcpy(out, a, 16);
}

/* The connection's 4-tuple as one key: (first, second) is (local, remote)
 * for its own key, (remote, local) for its peer's. */
static uint64_t tuple_key(const struct bz_conn *c, int peer)
{
	uint8_t buf[36];
	uint64_t h;

	addr16(c->family, peer ? c->remote_addr : c->local_addr, buf);
	addr16(c->family, peer ? c->local_addr : c->remote_addr, buf + 16);
	buf[32] = (uint8_t)((peer ? c->remote_port : c->local_port) >> 8);
	buf[33] = (uint8_t)(peer ? c->remote_port : c->local_port);
	buf[34] = (uint8_t)((peer ? c->local_port : c->remote_port) >> 8);
	buf[35] = (uint8_t)(peer ? c->local_port : c->remote_port);
	h = bz_id_hash(BZ_ID_SEED0, buf, sizeof(buf));
	return h ? h : 1;
}

/* A UNIX connection's keys in by_tuple: UNIX_OWN under its own inode;
 * UNIX_PEER under its peer's, for a peer that does not know its own peer
 * (a client records its end before the server accepts the other). */
enum { UNIX_OWN = 'o', UNIX_PEER = 'p' };
static uint64_t unix_key(uint64_t ino, uint8_t tag)
{
	uint8_t buf[13] = { 'u', 'n', 'i', 'x', tag };
	uint64_t h;

	memcpy(buf + 5, &ino, 8);
	h = bz_id_hash(BZ_ID_SEED0, buf, sizeof(buf));
	return h ? h : 1;
}

/* The recorded other end of UNIX connection c: the connection whose
 * inode is c's peer's, or, when c does not know its peer's, the one
 * whose peer is c; the pair of inodes must agree both ways where known. */
static struct bz_conn *unix_peer(struct bz_analysis *a, const struct bz_conn *c)
{
	struct bz_conn *peer;

	if (!c->local_ino)
		return NULL;
	peer = c->peer_ino ? bz_u64map_get(&a->by_tuple, unix_key(c->peer_ino, UNIX_OWN))
			   : bz_u64map_get(&a->by_tuple, unix_key(c->local_ino, UNIX_PEER));
	if (!peer || peer == c || peer->family != BZ_AF_UNIX || !peer->opened)
		return NULL;
	if (c->peer_ino && peer->local_ino != c->peer_ino)
		return NULL;
	if (peer->peer_ino && peer->peer_ino != c->local_ino)
		return NULL;
	return peer;
}

/* bz_peer_fn: the recorded other end of c (a UNIX connection's by its
 * inodes, a TCP one's by its tuple), else NULL. */
static struct bz_conn *peer_link(void *user, const struct bz_conn *c)
{
	struct bz_analysis *a = user;
	struct bz_conn *peer;

	if (c->opened && c->family == BZ_AF_UNIX)
		return unix_peer(a, c);
	if (!c->opened || !c->local_port || !c->remote_port)
		return NULL;
	peer = bz_u64map_get(&a->by_tuple, tuple_key(c, 1));
	/* a hash collision or a reused port: the tuple must really match */
	if (!peer || peer == c || peer->local_port != c->remote_port || peer->remote_port != c->local_port)
		return NULL;
	return peer;
}

/* c carries TLS: notes who had it while the process is known (it may
 * exit before the connection closes). */
static void note_tls(struct bz_analysis *a, struct bz_conn *c)
{
	struct bz_proc *p = bz_procs_find(&a->procs, c->pid);

	c->tls_slot = (int16_t)bz_explain_slot(&a->explain, c->pid, p ? p->service : NULL, p ? &p->tls : NULL);
	c->tls_verdict = (uint8_t)bz_tls_verdict(p ? &p->tls : NULL);
	c->tls_noted = 1;
}

/* The connection's protocol for its row, and, when no parser recognised
 * it, what its first bytes say (counted; TLS without plaintext explained). */
static const char *conn_protocol(struct bz_analysis *a, struct bz_conn *c, const struct bz_proto_stats *st,
				 const char **detected)
{
	const char *proto = c->tls && !c->tls_plain ? "tls" : st->non_http ? "non-http" :
			    st->requests + st->responses && c->proto ? c->proto->name : "unknown";
	enum bz_detect_class cls;

	*detected = NULL;
	if ((c->proto && !strcmp(proto, c->proto->name)) || (!strcmp(proto, "unknown") && !(st->fed[0] + st->fed[1])))
		return proto;
	/* its first bytes were a TLS record already when it was taken for TLS */
	cls = c->tls && !c->tls_plain ? BZ_DETECT_TLS : bz_detect_head(&c->first_bytes);
	a->explain.detected[cls]++;
	*detected = bz_detect_name(cls);
	if (cls != BZ_DETECT_TLS || c->tls_plain)
		return proto;
	if (!c->tls_noted)
		note_tls(a, c);
	bz_explain_tls(&a->explain, c->tls_slot, (enum bz_tls_verdict)c->tls_verdict);
	return "tls";
}

/* *out = a + b, counter by counter. */
static void stats_add(struct bz_proto_stats *out, const struct bz_proto_stats *a, const struct bz_proto_stats *b)
{
	for (int i = 0; i < 2; i++) {
		out->fed[i] = a->fed[i] + b->fed[i];
		out->skipped[i] = a->skipped[i] + b->skipped[i];
		out->ignored[i] = a->ignored[i] + b->ignored[i];
		out->msg_bytes[i] = a->msg_bytes[i] + b->msg_bytes[i];
	}
	out->requests = a->requests + b->requests;
	out->responses = a->responses + b->responses;
	out->interim = a->interim + b->interim;
	out->guessed_ends = a->guessed_ends + b->guessed_ends;
	out->cut_heads = a->cut_heads + b->cut_heads;
	out->resyncs = a->resyncs + b->resyncs;
	out->malformed = a->malformed + b->malformed;
	out->queue_overflows = a->queue_overflows + b->queue_overflows;
	out->headers_lost = a->headers_lost + b->headers_lost;
	out->non_http = a->non_http | b->non_http;
	out->upgraded = a->upgraded | b->upgraded;
}

/* Flushes, ends, writes and frees c. */
static int conn_end(struct bz_analysis *a, struct bz_conn *c, int closed)
{
	static const struct bz_proto_stats none;
	const struct bz_proto_stats *st = &none;
	char laddr[64], raddr[64];
	const char *proto, *detected;
	int rc, rd = req_dir_of(c->role);

	struct bz_proto_stats both;

	if (!c->parser && c->hold && conn_parser(c, 0, NULL, 0, 0) < 0)
		return fail(a, -ENOMEM);
	if (c->parser) {
		c->proto->flush(c->parser, closed);
		st = c->proto->stats(c->parser);
		rd = c->proto->req_dir(c->parser);
	}
	if (c->h2c_done) {
		/* what the HTTP/1.1 part counted, and the HTTP/2 part */
		stats_add(&both, &c->h1_stats, st);
		st = &both;
	}
	bz_spanner_conn_end(&a->sp, c, closed);
	bz_conn_addr(c, 0, laddr, sizeof(laddr));
	bz_conn_addr(c, 1, raddr, sizeof(raddr));
	proto = conn_protocol(a, c, st, &detected);
	int un = c->opened && c->family == BZ_AF_UNIX;
	struct bz_db_conn r = {
		.conn_id = (int64_t)c->id,
		.pid = c->pid,
		.role = role_name(c->role),
		.family = c->family == BZ_AF_INET ? "ipv4" : c->family == BZ_AF_INET6 ? "ipv6" : un ? "unix" : NULL,
		.local_address = un ? NULL : laddr,
		.local_port = c->opened && !un ? c->local_port : BZ_DB_NULL,
		.remote_address = un ? NULL : raddr,
		.remote_port = c->opened && !un ? c->remote_port : BZ_DB_NULL,
		.unix_path = un ? c->unix_path : NULL, /* (NULL in the row when "": unbound) */
		.local_inode = un && c->local_ino ? (int64_t)c->local_ino : BZ_DB_NULL,
		.peer_inode = un && c->peer_ino ? (int64_t)c->peer_ino : BZ_DB_NULL,
		.peer_pid = un && c->peer_pid ? (int64_t)c->peer_pid : BZ_DB_NULL,
		.fd = c->fd >= 0 ? c->fd : BZ_DB_NULL,
		.syscall_start_ns = unix_or_null(a, c->syscall_start_ns),
		.established_ns = unix_or_null(a, c->established_ns),
		.opened_ns = unix_or_null(a, c->open_ts),
		.closed_ns = closed ? unix_or_null(a, c->close_ts) : BZ_DB_NULL,
		.bytes_in = (int64_t)c->bytes_in,
		.bytes_out = (int64_t)c->bytes_out,
		.protocol = proto,
		.http_role = rd == BZ_HTTP_IN ? "server" : rd == BZ_HTTP_OUT ? "client" : NULL,
		.requests = (int64_t)st->requests,
		.responses = (int64_t)st->responses,
		.skipped_bytes = (int64_t)(st->skipped[0] + st->skipped[1]),
		.ignored_bytes = (int64_t)(st->ignored[0] + st->ignored[1]),
		.guessed_ends = (int64_t)st->guessed_ends,
		/* The kernel counts every byte of a tracked socket; what the
		 * records hold falls short only when records were dropped. */
		.lost_bytes = closed ? (int64_t)(sat_sub(c->close_in, c->data_in) +
						 sat_sub(c->close_out, c->data_out))
				     : BZ_DB_NULL,
		.detected = detected,
	};
	a->conns_lost += closed && r.lost_bytes > 0;
	a->pt.skipped += st->skipped[0] + st->skipped[1];
	a->pt.ignored += st->ignored[0] + st->ignored[1];
	a->pt.guessed_ends += st->guessed_ends;
	a->pt.cut_heads += st->cut_heads;
	a->pt.resyncs += st->resyncs;
	a->pt.malformed += st->malformed;
	a->pt.queue_overflows += st->queue_overflows;
	a->pt.upgraded += st->upgraded;
	a->pt.requests += st->requests;
	a->pt.responses += st->responses;
	/* one class each; TLS ones were counted by conn_protocol */
	a->pt.headers_lost += st->headers_lost;
	if (c->proto && !strcmp(proto, c->proto->name) && BZ_PROTO_IS_DB(c->proto->id)) {
		a->pt.db++;
	} else if (c->proto && !strcmp(proto, c->proto->name)) {
		a->pt.http++;
		a->pt.http2 += c->proto->id == BZ_PROTO_HTTP2;
	}
	else if (!strcmp(proto, "non-http"))
		a->pt.non_http++;
	else if (strcmp(proto, "tls") && st->fed[0] + st->fed[1])
		a->pt.unparsed++;
	rc = bz_db_conn(a->db, &r);
	if (bz_u64map_get(&a->by_remote, remote_key(c->pid, c->remote_port)) == c)
		bz_u64map_del(&a->by_remote, remote_key(c->pid, c->remote_port));
	if (un) {
		if (c->local_ino && bz_u64map_get(&a->by_tuple, unix_key(c->local_ino, UNIX_OWN)) == c)
			bz_u64map_del(&a->by_tuple, unix_key(c->local_ino, UNIX_OWN));
		if (c->peer_ino && bz_u64map_get(&a->by_tuple, unix_key(c->peer_ino, UNIX_PEER)) == c)
			bz_u64map_del(&a->by_tuple, unix_key(c->peer_ino, UNIX_PEER));
	} else if (c->opened && bz_u64map_get(&a->by_tuple, tuple_key(c, 0)) == c) {
		bz_u64map_del(&a->by_tuple, tuple_key(c, 0));
	}
	bz_u64map_del(&a->conns, c->id);
	conn_parser_free(c);
	free(c->unix_path);
	free(c);
	if (!rc && a->sp.err)
		rc = a->sp.err;
	return rc ? fail(a, rc) : 0;
}

/* The UNIX part of a CONN_OPEN: identity, path, and the keys its other
 * end finds it by (no ports: by_remote, for Go's "ip:port", has no use). */
static int unix_open(struct bz_analysis *a, struct bz_conn *c, const struct bz_ev_conn_open *e)
{
	char path[4 * BZ_UNIX_PATH_MAX + 2];

	c->local_port = c->remote_port = 0;
	c->local_ino = e->local_ino;
	c->peer_ino = e->peer_ino;
	c->peer_pid = e->peer_pid;
	bz_unix_path_text(e->path, e->path_len, path, sizeof(path));
	free(c->unix_path);
	if (!(c->unix_path = strdup(path)))
		return fail(a, -ENOMEM);
	if (c->local_ino && bz_u64map_put(&a->by_tuple, unix_key(c->local_ino, UNIX_OWN), c))
		return fail(a, -ENOMEM);
	if (c->peer_ino && bz_u64map_put(&a->by_tuple, unix_key(c->peer_ino, UNIX_PEER), c))
		return fail(a, -ENOMEM);
	return 0;
}

static int an_conn_open(void *u, const struct bz_ev_conn_open *e)
{
	struct bz_analysis *a = u;
	struct bz_conn *c;

	see_ts(a, e->h.ts_ns);
	c = conn_get(a, e->conn_id, e->h.pid, e->role);
	if (!c)
		return fail(a, -ENOMEM);
	c->opened = 1;
	c->pid = e->h.pid;
	c->role = e->role;
	c->open_ts = e->h.ts_ns;
	c->established_ns = e->established_ns ? e->established_ns : c->established_ns;
	c->syscall_start_ns = e->syscall_start_ns;
	c->family = e->family;
	c->local_port = e->local_port;
	c->remote_port = e->remote_port;
	c->fd = e->fd;
	memcpy(c->local_addr, e->local_addr, 16);
	memcpy(c->remote_addr, e->remote_addr, 16);
	c->kw_peer = e->family != BZ_AF_UNIX && (e->flags & BZ_CONN_F_PEER_LOCAL);
	bz_procs_touch(&a->procs, e->h.pid, e->h.ts_ns);
	if (e->role == BZ_ROLE_CONNECTED)
		bz_spanner_connected(&a->sp, c, e->h.pid, e->h.tid);
	if (e->family == BZ_AF_UNIX)
		return unix_open(a, c, e);
	if (c->remote_port && bz_u64map_put(&a->by_remote, remote_key(c->pid, c->remote_port), c))
		return fail(a, -ENOMEM);
	if (c->local_port && c->remote_port && bz_u64map_put(&a->by_tuple, tuple_key(c, 0), c))
		return fail(a, -ENOMEM);
	return 0;
}

static int an_conn_est(void *u, const struct bz_ev_conn_est *e)
{
	struct bz_analysis *a = u;
	struct bz_conn *c = bz_u64map_get(&a->conns, e->conn_id);

	see_ts(a, e->h.ts_ns);
	if (c && !c->established_ns)
		c->established_ns = e->h.ts_ns;
	return 0;
}

/* The kernel's waits (kwait.bpf.h): a request's arrival at the host, kept
 * for the span of the read whose arrival_ns it names ... */
static int an_rx_arrival(void *u, const struct bz_ev_rx_arrival *e)
{
	struct bz_analysis *a = u;
	struct bz_conn *c = bz_u64map_get(&a->conns, e->conn_id);

	see_ts(a, e->h.ts_ns);
	if (!c || e->host_ns > e->h.ts_ns)
		return 0;
	c->kw_rx[c->kw_rx_n % BZ_KW_RING] = (struct bz_kw_rx){ .ready_ns = e->h.ts_ns, .host_ns = e->host_ns };
	c->kw_rx_n++;
	return 0;
}

/* ... and a delivery to the peer's socket, which may end held spans. */
static int an_peer_rx(void *u, const struct bz_ev_peer_rx *e)
{
	struct bz_analysis *a = u;
	struct bz_conn *c = bz_u64map_get(&a->conns, e->conn_id);

	see_ts(a, e->h.ts_ns);
	if (c && c->kw_peer) {
		bz_spanner_peer_rx(&a->sp, c, e->bytes_out, e->h.ts_ns);
		if (a->sp.err)
			return fail(a, a->sp.err);
	}
	return 0;
}

static int an_conn_close(void *u, const struct bz_ev_conn_close *e)
{
	struct bz_analysis *a = u;
	struct bz_conn *c = bz_u64map_get(&a->conns, e->conn_id);

	see_ts(a, e->h.ts_ns);
	if (!c)
		return 0;
	c->closed = 1;
	c->close_ts = e->h.ts_ns;
	c->close_in = e->bytes_in;
	c->close_out = e->bytes_out;
	if (e->bytes_in > c->bytes_in)
		c->bytes_in = e->bytes_in;
	if (e->bytes_out > c->bytes_out)
		c->bytes_out = e->bytes_out;
	return conn_end(a, c, 1);
}

/* The HTTP/1.1 parser of c saw a 101 with "Upgrade: h2c" in rd (of dir):
 * an HTTP/2 parser takes over, stream 1 being the upgraded request, and
 * gets the bytes of rd after the 101 (the HTTP/1 parser ignored them: a
 * server often writes its SETTINGS with the 101, and its client reads
 * them with it).  Later reads and writes are frames, the kernel's
 * recorder captured them frame by frame once it saw the client preface.
 * NULL when out of memory. */
static void *h2c_switch(struct bz_conn *c, int dir, const struct bz_http_read *rd, const struct bz_range *rg,
			uint32_t nrg, const uint8_t *pieces)
{
	struct bz_range sh[BZ_RANGES_MAX];
	const struct bz_proto_stats *st = c->proto->stats(c->parser);
	struct bz_proto_cfg cfg = { .req_dir = c->proto->req_dir(c->parser), .fresh = 1, .cb = an_http, .user = c,
				    .h2c_upgrade = 1, .upgrade_index = c->h2c_index };
	uint32_t rest = (uint32_t)(st->ignored[dir] < rd->len ? st->ignored[dir] : rd->len);
	struct bz_http_read tail = *rd;

	c->h2c_switch = 0;
	c->h2c_done = 1;
	c->h1_stats = *st;
	/* the bytes after the 101 are HTTP/2's, not ignored ones */
	c->h1_stats.ignored[dir] -= rest;
	c->h1_stats.fed[dir] -= rest;
	conn_parser_free(c);
	c->proto = &bz_proto_http2;
	if (c->proto->create(&c->parser, &cfg)) {
		c->parser = NULL;
		return NULL;
	}
	if (rest && !rg) {
		uint32_t skip = rd->len - rest; /* the 101's bytes */
		tail.len = rest;
		tail.caplen = rd->caplen > skip ? rd->caplen - skip : 0;
		tail.data = rd->data + (rd->caplen > skip ? skip : rd->caplen);
		c->proto->feed(c->parser, dir, &tail);
	} else if (rest) {
		/* the kernel went frame by frame from the 101 on: its pieces,
		 * less the 101's bytes, as the HTTP/2 parser takes them */
		uint32_t skip = rd->len - rest, k = 0, drop = 0, kept = 0;
		for (uint32_t i = 0; i < nrg && k < BZ_RANGES_MAX; i++) {
			uint32_t o = rg[i].off, l = rg[i].len;
			if (o + l <= skip) {
				drop += l;
				continue;
			}
			if (o < skip) {
				drop += skip - o;
				l -= skip - o;
				o = skip;
			}
			sh[k].off = o - skip;
			sh[k].len = l;
			kept += l;
			k++;
		}
		tail.len = rest;
		tail.data = pieces + drop;
		tail.caplen = kept;
		tail.ranges = sh;
		tail.nranges = k;
		c->proto->feed(c->parser, dir, &tail);
	}
	return c->parser;
}

static int an_data(void *u, const struct bz_ev_data *e_in, const uint8_t *payload)
{
	struct bz_analysis *a = u;
	struct bz_conn *c;
	struct bz_http_read rd = { 0 };
	struct bz_ev_data ev = *e_in, *e = &ev;
	struct bz_ev_range er[BZ_RANGES_MAX];
	struct bz_range ranges[BZ_RANGES_MAX];
	uint32_t nranges = 0, datalen = 0, head_len;
	const uint8_t *data = payload;
	uint8_t rflags = 0;
	int has_ranges = (e->syscall & BZ_SYS_F_RANGES) != 0;

	see_ts(a, e->h.ts_ns);
	if (has_ranges) {
		/* pieces of the read or write (HTTP/2 frame by frame): what a
		 * parser gets as ranges, what the first-bytes checks see is the
		 * first piece when it begins the read */
		e->syscall &= (uint8_t)~BZ_SYS_F_RANGES;
		if (bz_ev_ranges(payload, e->caplen, e->ret, er, &nranges, &data, &datalen, &rflags)) {
			a->bad_ranges++;
			nranges = datalen = 0;
		}
		for (uint32_t i = 0; i < nranges; i++) {
			ranges[i].off = er[i].off;
			ranges[i].len = er[i].len;
		}
		e->caplen = (uint16_t)datalen;
	}
	head_len = !has_ranges ? e->caplen : nranges && ranges[0].off == 0 ? ranges[0].len : 0;
	if (e->ret <= 0) {
		if (e->ret < 0)
			a->data_errors++;
		else
			a->empty_reads++;
		return 0;
	}
	c = bz_u64map_get(&a->conns, e->conn_id);
	if (!c) {
		a->data_unknown_conn++;
		c = conn_get(a, e->conn_id, e->h.pid, BZ_ROLE_UNKNOWN);
		if (!c)
			return fail(a, -ENOMEM);
	}
	if (e->syscall == BZ_SYS_GO_TLS && a->go_structs && !a->go_feeding &&
	    ((c->role == BZ_ROLE_ACCEPTED && e->dir == BZ_DIR_IN) ||
	     (c->role == BZ_ROLE_CONNECTED && !a->go_structs_forced && !a->go_tls_read_probed))) {
		/* a server's requests come from its handler's struct reads;
		 * a client's requests alone (a --go=fast capture whose binary
		 * had no Read copy to probe) would make spans that never end:
		 * the connection stays TLS without plaintext, as explained */
		a->go_plain_ignored++;
		return 0;
	}
	if (BZ_SYS_IS_PLAINTEXT(e->syscall)) {
		if (!c->tls_plain && (c->parser || c->hold)) {
			/* the parser saw ciphertext before the first plaintext: the
			 * plaintext picks one afresh (a TLS connection is fresh: its
			 * plaintext begins with the first record) */
			conn_parser_free(c);
			c->plain_restart = 1;
		}
		if (!c->tls_plain) /* from now on the parser reads plaintext */
			memset(&c->first_bytes, 0, sizeof(c->first_bytes));
		a->tls_conns += !c->tls_plain;
		c->tls = c->tls_plain = 1;
	} else {
		if (e->dir == BZ_DIR_IN) {
			c->bytes_in += (uint32_t)e->ret;
			c->data_in += (uint32_t)e->ret;
		} else {
			c->bytes_out += (uint32_t)e->ret;
			c->data_out += (uint32_t)e->ret;
		}
		if (!c->tls && (!conn_fed(c) || conn_db_upgraded(c)) && bz_detect_tls_record(data, head_len)) {
			c->tls = 1;
			note_tls(a, c);
		}
	}
	if (BZ_SYS_IS_PLAINTEXT(e->syscall) || !c->tls_plain)
		bz_detect_head_feed(&c->first_bytes, e->dir == BZ_DIR_IN ? 0 : 1, data, head_len, (uint32_t)e->ret);
	if (!BZ_SYS_IS_PLAINTEXT(e->syscall) && c->tls) {
		/* ciphertext: only when it arrived matters, for the next plaintext
		 * read.  Unknown, before any plaintext of an accepted connection
		 * whose handshake time is known: its first bytes came before the
		 * recorder knew the socket, no earlier than the handshake, so
		 * the first request waits from there (in the accept queue, then
		 * in the TLS handshake); the read's own time would say they came
		 * after the accept and lose that wait.  Otherwise the read's
		 * time (the TLS handshake still counts as waiting). */
		if (e->dir == BZ_DIR_IN && !c->tls_arrival)
			c->tls_arrival = e->arrival_ns                                       ? e->arrival_ns
					 : !c->tls_plain && c->role == BZ_ROLE_ACCEPTED && c->established_ns ? c->established_ns
					 : e->h.ts_ns;
		if (e->dir == BZ_DIR_IN)
			c->tls_arrival_newest = e->arrival_ns ? e->arrival_ns : e->h.ts_ns;
		/* a write's delivery inside it (format 1.8): the SSL_write whose
		 * record it carried ends after it, its plaintext next */
		if (e->dir == BZ_DIR_OUT && e->arrival_ns && e->arrival_ns <= e->h.ts_ns)
			c->tls_delivered = e->arrival_ns;
		return 0;
	}
	rd.at.ts_ns = e->h.ts_ns;
	rd.at.start_ns = e->start_ns;
	rd.at.arrival_ns = e->dir == BZ_DIR_IN ? e->arrival_ns : 0;
	/* A TLS library's plaintext write has its socket write's, the
	 * ciphertext's: OpenSSL's (stamped at SSL_write's return) that of the
	 * last ciphertext write since the connection's previous plaintext; a
	 * Go Write is stamped at its entry, before its socket write: none. */
	rd.at.delivered_ns = e->dir != BZ_DIR_OUT ? 0
			     : e->syscall == BZ_SYS_SSL ? c->tls_delivered
			     : !BZ_SYS_IS_PLAINTEXT(e->syscall) && e->arrival_ns <= e->h.ts_ns ? e->arrival_ns : 0;
	if (BZ_SYS_IS_PLAINTEXT(e->syscall))
		c->tls_delivered = 0;
	if (BZ_SYS_IS_PLAINTEXT(e->syscall) && e->dir == BZ_DIR_IN) {
		if (has_ranges && (rflags & BZ_RANGES_F_CONT)) {
			/* the same plaintext read, its next frames */
			rd.at.arrival_ns = c->tls_arrival_last;
		} else {
			rd.at.arrival_ns = c->tls_arrival;
			c->tls_arrival_last = c->tls_arrival;
			c->tls_arrival = 0;
		}
	}
	rd.at.pid = e->h.pid;
	rd.at.tid = e->h.tid;
	rd.len = (uint32_t)e->ret;
	rd.caplen = e->caplen;
	rd.data = data;
	switch (conn_parser(c, e->dir == BZ_DIR_IN ? BZ_HTTP_IN : BZ_HTTP_OUT, &rd, head_len, has_ranges)) {
	case 0: break;
	case 1: return 0; /* held until the protocol is known */
	default: return fail(a, -ENOMEM);
	}
	if (has_ranges) {
		if (c->proto->id == BZ_PROTO_HTTP2) {
			rd.ranges = ranges;
			rd.nranges = nranges;
		} else {
			/* a parser that takes no pieces: the first, if it begins the read */
			rd.caplen = head_len;
		}
	}
	c->proto->feed(c->parser, e->dir == BZ_DIR_IN ? BZ_HTTP_IN : BZ_HTTP_OUT, &rd);
	if (c->h2c_switch && !h2c_switch(c, e->dir == BZ_DIR_IN ? BZ_HTTP_IN : BZ_HTTP_OUT, &rd,
					 has_ranges ? ranges : NULL, nranges, data))
		return fail(a, -ENOMEM);
	bz_spanner_io(&a->sp, c, e->h.pid, e->h.tid, e->dir, e->h.ts_ns);
	return a->sp.err ? fail(a, a->sp.err) : 0;
}

/* ---- Go runtime ---------------------------------------------------------- */

/* The connection a Go handler serves: same process, same client address. */
static struct bz_conn *conn_of_remote(struct bz_analysis *a, uint32_t pid, const char *remote)
{
	uint8_t addr[16], want[16], have[16];
	uint16_t fam, port = bz_go_parse_remote(remote, &fam, addr);
	struct bz_conn *c = port ? bz_u64map_get(&a->by_remote, remote_key(pid, port)) : NULL;

	if (!c || !fam || !c->family)
		return c;
	/* compared as IPv6: an IPv4 client of a dual-stack socket is ::ffff:a.b.c.d */
	addr16(fam, addr, want);
	addr16(c->family, c->remote_addr, have);
	return memcmp(want, have, 16) ? NULL : c;
}

/* A Go HTTPS server's request, from its handler's struct reads, fed to
 * c's parser as if read (go_request.h) just before the handler start is
 * paired with it.  Its bytes arrived when the ciphertext not yet read as
 * plaintext did (c->tls_arrival, an_data). */
static int go_struct_request(struct bz_analysis *a, struct bz_conn *c, const struct bz_go_event *e)
{
	uint8_t buf[sizeof(struct bz_ev_data) + 1024];
	struct bz_ev_data ev;
	size_t head;
	uint64_t moved;
	int rc;

	if ((rc = bz_go_request_bytes(e, buf, sizeof(buf), &head, &moved)) < 0) {
		a->go_struct_unbuilt++;
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.h.ts_ns = e->ts_ns;
	ev.h.pid = e->pid;
	ev.h.tid = e->tid;
	ev.h.kind = BZ_EV_DATA;
	ev.conn_id = c->id;
	ev.ret = moved > 0x7fffffff ? 0x7fffffff : (int32_t)moved;
	ev.caplen = (uint16_t)head;
	ev.dir = BZ_DIR_IN;
	ev.syscall = BZ_SYS_GO_TLS;
	/* HTTP/2: the streams' frames are read one after another; a stream
	 * whose handler starts came in the latest read, not in the oldest
	 * one no request took yet (a SETTINGS or WINDOW_UPDATE's) */
	if (rc == 2 && c->tls_arrival_newest)
		c->tls_arrival = c->tls_arrival_newest;
	a->go_struct_requests++;
	a->go_feeding = 1;
	rc = an_data(a, &ev, buf);
	a->go_feeding = 0;
	return rc;
}

static int an_go(void *u, const struct bz_go_event *e)
{
	struct bz_analysis *a = u;
	struct bz_conn *c;
	struct bz_pending *p = NULL;
	uint64_t conn_id, index;
	int rc = 0;

	see_ts(a, e->ts_ns);
	switch (e->kind) {
	case BZ_EV_GO_HANDLER:
		if (e->phase == BZ_GO_START) {
			/* A goroutine serves one request at a time: a start while
			 * it is in a handler is the same call reported twice (a
			 * uprobe the kernel had to run again after a signal). */
			if (bz_gorun_in_handler(&a->go, e->pid, e->goid)) {
				a->go.n.handler_repeats++;
				break;
			}
			c = conn_of_remote(a, e->pid, e->remote);
			if (c && a->go_structs && c->tls && c->role == BZ_ROLE_ACCEPTED &&
			    (rc = go_struct_request(a, c, e)))
				break;
			if (c) {
				enum bz_go_pairing how;

				p = bz_spanner_go_handler(&a->sp, c, e->ts_ns, e->stream, e->method, e->path, &how);
				a->go.n.handlers_by_stream += how == BZ_GO_PAIR_STREAM;
				a->go.n.handlers_by_path += how == BZ_GO_PAIR_PATH;
				a->go.n.handlers_by_order += how == BZ_GO_PAIR_ORDER && c->proto && c->proto->multiplexed;
			}
			rc = bz_gorun_handler_start(&a->go, e, c ? c->id : 0, p);
		} else {
			a->go.n.handler_ends++;
			if (bz_gorun_handler_end(&a->go, e, &conn_id, &index) == 0 &&
			    (c = bz_u64map_get(&a->conns, conn_id)) && (p = bz_spanner_pending(c, index))) {
				p->go_end = e->ts_ns;
				a->go.n.handler_ends_matched++;
			}
		}
		break;
	case BZ_EV_GO_CLIENT:
		rc = bz_gorun_client(&a->go, e);
		break;
	case BZ_EV_GO_SPAWN:
		rc = bz_gorun_spawn(&a->go, e);
		break;
	}
	return rc ? fail(a, rc) : 0;
}

/* ---- capture metadata --------------------------------------------------- */

static int an_header(void *u, const struct bz_capture_meta *m)
{
	struct bz_analysis *a = u;
	uint64_t seed = BZ_ID_SEED0;

	a->meta = *m;
	a->have_meta = 1;
	if (m->has_clock)
		a->sp.mono_to_unix = (int64_t)(m->clock_real_ns - m->clock_mono_ns);
	a->sp.kw_rx_min_ns = m->kw_rx_min_ns;
	a->go_structs_forced = (a->flags & BZ_ANALYZE_GO_FROM_STRUCTS) != 0;
	a->go_structs = m->go_mode == BZ_GO_MODE_FAST || a->go_structs_forced;
	seed = bz_id_hash(seed, m->boot_id, strlen(m->boot_id));
	seed = bz_id_hash(seed, m->hostname, strlen(m->hostname));
	seed = bz_id_hash(seed, &m->clock_mono_ns, sizeof(m->clock_mono_ns));
	seed = bz_id_hash(seed, &m->clock_real_ns, sizeof(m->clock_real_ns));
	seed = bz_id_hash(seed, &m->start_mono_ns, sizeof(m->start_mono_ns));
	a->sp.seed = seed;
	return 0;
}

/* --sched: the first scheduler record turns the split on for the spans
 * that end from then on (sched_split.h); every second of capture time the
 * timelines forget what precedes the oldest open server request. */
#define SCHED_FORGET_EVERY_NS 1000000000ull
#define SCHED_IDLE_NS (60 * 1000000000ull)   /* a thread silent this long is dropped */
#define SCHED_MARGIN_NS 1000000000ull        /* records a little out of order */

static void sched_forget(struct bz_analysis *a, uint64_t now)
{
	uint64_t oldest = now, pos_key;
	size_t pos = 0;
	void *v;

	while (bz_u64map_next(&a->conns, &pos, &pos_key, &v)) {
		const struct bz_conn *c = v;
		for (const struct bz_pending *p = c->head; p; p = p->next) {
			const struct bz_http_point *f = &p->req.first;
			uint64_t t = f->ts_ns;
			if (f->start_ns && f->start_ns < t)
				t = f->start_ns;
			if (f->arrival_ns && f->arrival_ns < t)
				t = f->arrival_ns;
			if (p->server && t && t < oldest)
				oldest = t;
		}
	}
	oldest = oldest > SCHED_MARGIN_NS ? oldest - SCHED_MARGIN_NS : 0;
	bz_sched_forget(&a->sched, oldest, SCHED_IDLE_NS);
}

static int sched_seen(struct bz_analysis *a, uint64_t ts)
{
	a->sp.sched = &a->sched;
	see_ts(a, ts);
	if (ts >= a->sched_forget_ts) {
		if (a->sched_forget_ts)
			sched_forget(a, ts);
		a->sched_forget_ts = ts + SCHED_FORGET_EVERY_NS;
	}
	return 0;
}

static int an_sched_switch(void *u, const struct bz_ev_sched_switch *e)
{
	struct bz_analysis *a = u;

	sched_seen(a, e->h.ts_ns);
	/* only the targets' side: other tasks' wake-ups are not recorded */
	if (bz_sched_switch_cpu(&a->sched, e->h.ts_ns, e->h.pid, e->targets & BZ_SCHED_PREV_TARGET ? e->h.tid : 0,
				BZ_SCHED_PREV_RUNNABLE(e), e->next_pid,
				e->targets & BZ_SCHED_NEXT_TARGET ? e->next_tid : 0, e->prev_cpu_ns, e->next_cpu_ns))
		return fail(a, -ENOMEM);
	return 0;
}

static int an_sched_wakeup(void *u, const struct bz_ev_sched_wakeup *e)
{
	struct bz_analysis *a = u;

	sched_seen(a, e->h.ts_ns);
	if (bz_sched_wakeup(&a->sched, e->h.ts_ns, e->h.pid, e->h.tid, e->wakee_pid, e->wakee_tid))
		return fail(a, -ENOMEM);
	return 0;
}

static int an_stats(void *u, const struct bz_probe_stat *s)
{
	struct bz_analysis *a = u;
	unsigned i;

	for (i = 0; i < a->nprobes; i++)
		if (!strcmp(a->probes[i].name, s->name))
			break;
	if (i == a->nprobes) {
		if (a->nprobes == PROBES_MAX)
			return 0;
		a->nprobes++;
	}
	a->probes[i] = *s; /* counters are cumulative: the latest wins */
	return 0;
}

static int an_probe(void *u, const struct bz_probe_row *p)
{
	struct bz_analysis *a = u;

	if (p->block == BZ_BLK_PROBES && p->first) {
		/* a later PROBES block replaces the kernel probes of an earlier one */
		size_t k = 0;
		for (size_t i = 0; i < a->nreport; i++)
			if (a->report[i].block != BZ_BLK_PROBES)
				a->report[k++] = a->report[i];
		a->nreport = k;
	}
	/* --sched: split the spans from the first one on, even those that end
	 * before the first scheduler record */
	if (p->block == BZ_BLK_PROBES && p->status == BZ_PROBE_ATTACHED && !strcmp(p->name, "raw:sched_switch"))
		a->sp.sched = &a->sched;
	/* The struct reads stand in for the read plaintext only where no read
	 * is probed (a --go=fast binary without a copy to probe), or when
	 * --go-from-structs asks for them */
	if (p->block == BZ_BLK_GO_BINARY && p->status == BZ_PROBE_ATTACHED &&
	    !strcmp(p->name, "crypto/tls.(*Conn).Read")) {
		a->go_tls_read_probed = 1;
		if (!a->go_structs_forced)
			a->go_structs = 0;
	}
	if (a->nreport == PROBE_ROWS_MAX) {
		a->report_dropped++;
		return 0;
	}
	if (a->nreport == a->report_cap) {
		size_t cap = a->report_cap ? 2 * a->report_cap : 64;
		struct bz_probe_row *r = realloc(a->report, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		a->report = r;
		a->report_cap = cap;
	}
	a->report[a->nreport++] = *p;
	return 0;
}

static int an_end(void *u, const struct bz_end_meta *m)
{
	struct bz_analysis *a = u;
	a->end = *m;
	a->have_end = 1;
	return 0;
}

static void an_progress(void *u, uint64_t bytes)
{
	struct bz_analysis *a = u;
	if (a->progress)
		a->progress(a->progress_user, bytes);
}

static const struct bz_session_ops analysis_ops = {
	.header = an_header,
	.proc = an_proc,
	.exec = an_exec,
	.fork = an_fork,
	.exit = an_exit,
	.conn_open = an_conn_open,
	.conn_est = an_conn_est,
	.conn_close = an_conn_close,
	.data = an_data,
	.go = an_go,
	.rx_arrival = an_rx_arrival,
	.peer_rx = an_peer_rx,
	.sched_switch = an_sched_switch,
	.sched_wakeup = an_sched_wakeup,
	.stats = an_stats,
	.probe = an_probe,
	.end = an_end,
	.progress = an_progress,
};

/* ---- the end ------------------------------------------------------------ */

static int write_capture(struct bz_analysis *a, const struct bz_session_result *res)
{
	const struct bz_capture_meta *m = &a->meta;
	uint64_t start = m->start_mono_ns ? m->start_mono_ns : a->first_ts;
	uint64_t end = a->have_end && a->end.has_end_mono ? a->end.end_mono_ns : a->last_ts;
	struct bz_db_capture c = {
		.source = a->source,
		.format_major = a->have_meta ? m->major : BZ_DB_NULL,
		.format_minor = a->have_meta ? m->minor : BZ_DB_NULL,
		.beyla_version = m->beyla_version,
		.analyzer_version = BEYLA_VERSION,
		.hostname = m->hostname,
		.kernel = m->kernel,
		.arch = m->arch,
		.ncpus = m->ncpus ? m->ncpus : BZ_DB_NULL,
		.boot_id = m->boot_id,
		.target = m->target,
		.snaplen = a->have_meta ? m->snaplen : BZ_DB_NULL,
		.redacted = a->have_meta ? !(m->flags & BZ_HDR_FLAG_NO_REDACT) : BZ_DB_NULL,
		.clock_mono_ns = m->has_clock ? (int64_t)m->clock_mono_ns : BZ_DB_NULL,
		.clock_real_ns = m->has_clock ? (int64_t)m->clock_real_ns : BZ_DB_NULL,
		.start_ns = unix_or_null(a, start),
		.end_ns = unix_or_null(a, end),
		.complete = res->saw_end && !res->read_status && !res->bad_records,
		.truncated = res->read_status == BZ_READ_TRUNCATED || (!res->read_status && !res->saw_end),
		.corrupt = res->read_status == BZ_READ_CORRUPT || res->read_status == BZ_READ_IO ||
			   res->bad_records,
		.error = res->read_status ? res->errmsg :
			 !res->saw_end ? "no end block (recorder killed?)" :
			 res->bad_records ? "malformed event records were skipped" : NULL,
		.stop_reason = a->have_end ? a->end.stop_reason : NULL,
		.events_recorded = a->have_end && a->end.has_events ? (int64_t)a->end.events : BZ_DB_NULL,
		.events_read = (int64_t)res->events,
		.drops = a->have_end && a->end.has_drops ? (int64_t)a->end.drops : BZ_DB_NULL,
		.user_drops = a->have_end && a->end.has_user_drops ? (int64_t)a->end.user_drops : BZ_DB_NULL,
	};
	return bz_db_capture(a->db, &c);
}

static int write_stats(struct bz_analysis *a, const struct bz_session_result *res)
{
	const struct bz_span_counts *n = &a->sp.n;
	const struct { const char *name; uint64_t v; } rows[] = {
		{ "events", res->events },
		{ "bad_records", res->bad_records },
		{ "unknown_events", res->unknown_events },
		{ "unknown_blocks", res->unknown_blocks },
		{ "data_errors", a->data_errors },
		{ "data_empty", a->empty_reads },
		{ "data_unknown_conn", a->data_unknown_conn },
		{ "data_bad_ranges", a->bad_ranges },
		{ "conns", a->conns_total },
		{ "conns_http", a->pt.http },
		{ "conns_non_http", a->pt.non_http },
		{ "conns_unparsed", a->pt.unparsed },
		{ "conns_upgraded", a->pt.upgraded },
		{ "conns_http2", a->pt.http2 },
		{ "conns_db", a->pt.db },
		{ "http2_headers_lost", a->pt.headers_lost },
		{ "requests", a->pt.requests },
		{ "responses", a->pt.responses },
		{ "interim_responses", n->interim },
		{ "orphan_responses", n->orphan_responses },
		{ "skipped_bytes", a->pt.skipped },
		{ "ignored_bytes", a->pt.ignored },
		{ "guessed_ends", a->pt.guessed_ends },
		{ "cut_heads", a->pt.cut_heads },
		{ "resyncs", a->pt.resyncs },
		{ "malformed_heads", a->pt.malformed },
		{ "pipeline_overflows", a->pt.queue_overflows },
		{ "spans_server", n->server },
		{ "spans_client", n->client },
		{ "spans_internal", n->internal },
		{ "spans_incomplete", n->incomplete },
		{ "parent_links", n->parent_links },
		{ "parent_ambiguous", n->parent_ambiguous },
		{ "parent_by_connect", n->parent_by_connect },
		{ "parent_by_last_read", n->parent_by_last_read },
		{ "peer_links", n->peer_links },
		{ "peer_links_late", n->peer_links_late },
		{ "kw_rx_found", n->kw_rx_found },
		{ "kw_rx_short", n->kw_rx_short },
		{ "kw_tx_found", n->kw_tx_found },
		{ "kw_tx_inline", n->kw_tx_inline },
		{ "kw_tx_unknown", n->kw_tx_unknown },
		{ "processes", a->processes },
		{ "conns_lost_events", a->conns_lost },
		{ "tls_conns_plaintext", a->tls_conns },
		{ "tls_conns_opaque", a->explain.tls_opaque },
		{ "conns_detected_tls", a->explain.detected[BZ_DETECT_TLS] },
		{ "conns_detected_http2", a->explain.detected[BZ_DETECT_HTTP2] },
		{ "conns_detected_binary", a->explain.detected[BZ_DETECT_BINARY] },
		{ "conns_detected_text", a->explain.detected[BZ_DETECT_TEXT] },
		{ "conns_detected_no_bytes", a->explain.detected[BZ_DETECT_NO_BYTES] },
		{ "go_handlers", a->go.n.handlers },
		{ "go_handlers_matched", a->go.n.handlers_matched },
		{ "go_handler_repeats", a->go.n.handler_repeats },
		{ "go_h2_handlers_by_stream", a->go.n.handlers_by_stream },
		{ "go_h2_handlers_by_path", a->go.n.handlers_by_path },
		{ "go_h2_handlers_by_order", a->go.n.handlers_by_order },
		{ "go_handler_ends", a->go.n.handler_ends },
		{ "go_handler_ends_matched", a->go.n.handler_ends_matched },
		{ "go_round_trips", a->go.n.round_trips },
		{ "go_round_trips_matched", a->go.n.round_trips_matched },
		{ "go_round_trips_parented", a->go.n.round_trips_parented },
		{ "go_spawns_kept", a->go.n.spawns_kept },
		{ "go_spawns_forgotten", a->go.n.spawns_forgotten },
		{ "go_struct_requests", a->go_struct_requests },
		{ "go_struct_unbuilt", a->go_struct_unbuilt },
		{ "go_plain_ignored", a->go_plain_ignored },
		{ "probes_bad", res->bad_probes },
		{ "probes_not_kept", a->report_dropped },
	};
	int rc;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if ((rc = bz_db_stat(a->db, rows[i].name, (int64_t)rows[i].v)))
			return rc;
	if ((rc = bz_sched_write_stats(&a->sched, a->db)))
		return rc;
	/* what would record the plaintext of tls_conns_opaque: by library */
	for (int v = 0; v < BZ_TV_MAX; v++) {
		char name[64];
		snprintf(name, sizeof(name), "tls_conns_opaque_%s", bz_tls_verdict_key((enum bz_tls_verdict)v));
		if ((rc = bz_db_stat(a->db, name, (int64_t)a->explain.by_verdict[v])))
			return rc;
	}
	for (unsigned i = 0; i < a->nprobes; i++)
		if ((rc = bz_db_drop(a->db, a->probes[i].name, a->probes[i].emitted, a->probes[i].lost,
				     a->probes[i].missed)))
			return rc;
	return 0;
}

/* The table probes: the report as the capture gave it. */
static int write_probes(struct bz_analysis *a)
{
	int rc;

	for (size_t i = 0; i < a->nreport; i++) {
		const struct bz_probe_row *p = &a->report[i];
		int uprobe = p->block != BZ_BLK_PROBES;
		struct bz_db_probe row = {
			.id = (int64_t)i + 1,
			.name = p->name[0] ? p->name : "?",
			.kind = p->kind,
			.category = p->category,
			.required = p->required,
			.status = bz_probe_status_name(p->status),
			.reason = p->detail,
			.path = uprobe ? p->path : NULL,
			.pid = uprobe && p->has_pid ? (int64_t)p->pid : BZ_DB_NULL,
		};
		if ((rc = bz_db_probe(a->db, &row)))
			return rc;
	}
	return 0;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* The keys of m, sorted, so the output does not depend on hashing.
 * NULL (and *n = 0) for an empty map; NULL with *n > 0 on ENOMEM. */
static uint64_t *sorted_keys(const struct bz_u64map *m, size_t *n)
{
	size_t pos = 0, i = 0;
	uint64_t key, *keys;
	void *v;

	*n = m->len;
	if (!m->len)
		return NULL;
	keys = malloc(m->len * sizeof(*keys));
	if (!keys)
		return NULL;
	while (bz_u64map_next(m, &pos, &key, &v))
		keys[i++] = key;
	qsort(keys, i, sizeof(*keys), cmp_u64);
	return keys;
}

/* Ends every open connection (capture end) and writes every process left. */
static int drain(struct bz_analysis *a)
{
	size_t n;
	uint64_t *keys;
	int rc = 0;

	keys = sorted_keys(&a->conns, &n);
	if (n && !keys)
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++)
		rc = conn_end(a, bz_u64map_get(&a->conns, keys[i]), 0);
	free(keys);
	if (rc)
		return rc;
	keys = sorted_keys(&a->procs.map, &n);
	if (n && !keys)
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		struct bz_proc *p = bz_procs_take(&a->procs, (uint32_t)keys[i]);
		rc = write_proc(a, p);
		free(p);
	}
	free(keys);
	return rc;
}

static void cleanup(struct bz_analysis *a)
{
	size_t pos = 0;
	uint64_t key;
	void *v;

	while (bz_u64map_next(&a->conns, &pos, &key, &v)) {
		struct bz_conn *c = v;
		while (c->head) {
			struct bz_pending *p = c->head;
			c->head = p->next;
			free(p);
		}
		conn_parser_free(c);
		free(c->unix_path);
		free(c);
	}
	bz_u64map_free(&a->conns);
	bz_u64map_free(&a->by_remote);
	bz_u64map_free(&a->by_tuple);
	bz_gorun_free(&a->go);
	bz_procs_free(&a->procs);
	bz_spanner_free(&a->sp);
	bz_sched_free(&a->sched);
}

int bz_analyze(struct bz_reader *r, struct bz_db *db, const char *source, bz_progress_fn progress,
	       void *progress_user, struct bz_analysis_summary *out)
{
	return bz_analyze_flags(r, db, source, progress, progress_user, 0, out);
}

int bz_analyze_flags(struct bz_reader *r, struct bz_db *db, const char *source, bz_progress_fn progress,
		     void *progress_user, unsigned flags, struct bz_analysis_summary *out)
{
	struct bz_analysis *a = calloc(1, sizeof(*a));
	int rc;

	memset(out, 0, sizeof(*out));
	if (!a) {
		snprintf(out->err, sizeof(out->err), "out of memory");
		return -ENOMEM;
	}
	a->db = db;
	a->source = source;
	a->flags = flags;
	a->progress = progress;
	a->progress_user = progress_user;
	bz_spanner_init(&a->sp, db, &a->procs);
	bz_gorun_init(&a->go);
	a->sp.client_parent = bz_gorun_client_parent;
	a->sp.client_parent_user = &a->go;
	a->sp.peer_link = peer_link;
	a->sp.peer_link_user = a;
	rc = bz_session_run(r, &analysis_ops, a, &out->session);
	/* Whatever stopped the input, analyse what was read. */
	if (!rc)
		rc = drain(a);
	if (!rc)
		rc = a->sp.err;
	if (!rc)
		rc = write_probes(a);
	if (!rc)
		rc = write_stats(a, &out->session);
	if (!rc)
		rc = write_capture(a, &out->session);
	if (!rc)
		rc = bz_db_finish(db);
	if (rc)
		snprintf(out->err, sizeof(out->err), "%s",
			 rc == -ENOMEM ? "out of memory" : bz_db_errmsg(db));
	out->spans = a->sp.n;
	out->conns = a->conns_total;
	out->conns_http = a->pt.http;
	out->conns_db = a->pt.db;
	out->conns_non_http = a->pt.non_http;
	out->explain = a->explain;
	out->processes = a->processes;
	cleanup(a);
	free(a->report);
	free(a);
	return rc;
}
