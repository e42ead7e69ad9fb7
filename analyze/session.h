/* session.h - replays a capture through a table of handlers, like perf
 * report's session: the session reads blocks with the capture reader,
 * decodes metadata blocks and event records (checking every length against
 * its container, zero-filling fields a shorter, older record lacks) and calls
 * the handler for each.  A tool fills only the handlers it needs.
 *
 * Pointers handed to handlers are valid during the call only.
 */
#ifndef BEYLA_SESSION_H
#define BEYLA_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "capture_reader.h"
#include "probe_report.h"
#include "tls_libs.h"
#include "../bpf/beyla_events.h"

#define BZ_META_STR 256

/* HEADER block. Strings are NUL-terminated, cut to BZ_META_STR - 1. */
struct bz_capture_meta {
	uint16_t major, minor;
	uint32_t flags;             /* BZ_HDR_FLAG_* */
	char beyla_version[64];
	char hostname[BZ_META_STR];
	char kernel[BZ_META_STR];
	char arch[64];
	char boot_id[64];
	char target[BZ_META_STR];
	uint32_t ncpus, snaplen, ring_bytes;
	uint64_t clock_mono_ns, clock_real_ns; /* has_clock: both present */
	uint64_t start_mono_ns;     /* 0 if absent */
	uint64_t kw_rx_min_ns;      /* BZ_HO_KW_RX_MIN_NS; 0: receive timestamps off (or older) */
	uint32_t go_mode;           /* BZ_HO_GO_MODE (enum bz_go_mode); 0: not said (older: full) */
	int has_clock;
};

/* PROC block. cmdline has its NULs replaced by spaces. */
struct bz_proc_meta {
	uint32_t pid, ppid, flags;  /* flags: enum bz_proc_flag */
	uint64_t seen_ns;
	char exe[BZ_META_STR];
	char comm[32];
	char cmdline[BZ_META_STR];
	char service_name[128];
	char resource_attrs[BZ_META_STR];
	struct bz_tls_libs tls;     /* TLS_LIB options (minor >= 2) */
};

/* One probe's counters from a STATS block. */
struct bz_probe_stat {
	uint64_t ts_ns;
	uint64_t emitted, lost, missed;
	char name[64];
};

/* END block. has_* tell which options were present. */
struct bz_end_meta {
	uint64_t end_mono_ns, events, drops, user_drops, raw_bytes;
	char stop_reason[128];
	int has_end_mono, has_events, has_drops, has_user_drops;
};

/* A Go runtime record (GO_HANDLER, GO_CLIENT or GO_SPAWN), decoded: every
 * string NUL-terminated, cut at its maximum and at the record's end. */
struct bz_go_event {
	uint64_t ts_ns;
	uint32_t pid, tid;
	uint16_t kind;         /* BZ_EV_GO_* */
	uint8_t phase;         /* enum bz_go_phase (not for SPAWN) */
	uint16_t status;
	uint64_t goid;
	uint64_t parent_goid;  /* CLIENT: 0 unknown; SPAWN: the creator */
	uint32_t stream;       /* HANDLER START: the HTTP/2 stream id, 0 HTTP/1 or unknown */
	/* HANDLER START, format >= 1.7 (has_req): the request as net/http
	 * parsed it: Request.ProtoMajor (0 unknown), ContentLength (-1
	 * unknown), Host in host, RequestURI in uri */
	uint8_t has_req, proto_major;
	int64_t content_length;
	char method[BZ_GO_METHOD_MAX + 1];
	char remote[BZ_GO_STR_MAX + 1]; /* HANDLER START: client "ip:port" */
	char host[BZ_GO_STR_MAX + 1];   /* CLIENT START: URL host; HANDLER START: Request.Host */
	char path[BZ_GO_STR_MAX + 1];   /* START: URL path */
	char uri[BZ_GO_STR_MAX + 1];    /* HANDLER START: Request.RequestURI */
};

/* Handlers return 0 to go on, a negative errno to stop the session. */
struct bz_session_ops {
	int (*header)(void *u, const struct bz_capture_meta *m);
	int (*proc)(void *u, const struct bz_proc_meta *m);
	int (*exec)(void *u, const struct bz_ev_proc_exec *e);
	int (*fork)(void *u, const struct bz_ev_proc_fork *e);
	int (*exit)(void *u, const struct bz_ev_proc_exit *e);
	int (*conn_open)(void *u, const struct bz_ev_conn_open *e);
	int (*conn_est)(void *u, const struct bz_ev_conn_est *e);
	int (*conn_close)(void *u, const struct bz_ev_conn_close *e);
	/* payload: e->caplen bytes, already clamped to what the record holds */
	int (*data)(void *u, const struct bz_ev_data *e, const uint8_t *payload);
	int (*go)(void *u, const struct bz_go_event *e);
	/* the kernel's waits around a socket (format 1.6; kwait.bpf.h) */
	int (*rx_arrival)(void *u, const struct bz_ev_rx_arrival *e);
	int (*peer_rx)(void *u, const struct bz_ev_peer_rx *e);
	/* --sched: a target thread switched, or was woken */
	int (*sched_switch)(void *u, const struct bz_ev_sched_switch *e);
	int (*sched_wakeup)(void *u, const struct bz_ev_sched_wakeup *e);
	int (*stats)(void *u, const struct bz_probe_stat *s);
	/* one probe of the probe report (PROBES, GO_BINARY, TLS_LIBRARY blocks;
	 * probe_report.h), in file order */
	int (*probe)(void *u, const struct bz_probe_row *p);
	int (*end)(void *u, const struct bz_end_meta *m);
	/* called every few blocks with the compressed bytes consumed so far */
	void (*progress)(void *u, uint64_t compressed_bytes);
};

struct bz_session_result {
	int read_status;      /* 0: clean end of input; else enum bz_read_status */
	char errmsg[256];     /* reader's message when read_status != 0 */
	uint64_t blocks;
	uint64_t events;      /* records handed to handlers */
	uint64_t bad_records; /* records too short for their kind, or bad sizes */
	uint64_t bad_probes;  /* probe report values too short, or options overrunning their block */
	uint64_t unknown_blocks, unknown_events;
	int saw_header, saw_end;
};

/* Reads r to its end or first error, calling ops.  Returns 0, or the first
 * negative value a handler returned.  *res is filled in either case. */
int bz_session_run(struct bz_reader *r, const struct bz_session_ops *ops, void *u,
		   struct bz_session_result *res);

#endif
