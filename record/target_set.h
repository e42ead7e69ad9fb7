/* target_set.h - which processes are targets, as the event stream tells,
 * and who each one is.
 *
 * The kernel decides most of it by itself (the target bitmap: -p seeds,
 * forked children, --port adoption).  --exe is the exception: a regex
 * cannot run in BPF, so the kernel makes every exec'ing process a
 * *tentative* target from its first instruction (tentative_bits), and the
 * recorder, which reads the EXEC record before any other record of that
 * process, judges it: kept, its events are written; let go, its bits are
 * cleared and the events it made meanwhile are dropped.  This table holds
 * those verdicts for the events still in the ring, the identity of every
 * kept target (a forked child is its parent until it execs), and the
 * connections of let-go processes whose later records must go too.
 *
 * Races with the kernel are settled by the tentative bit: whoever clears
 * it first decides (the recorder judging, or a hook that saw a tentative
 * process use a --port port and adopted it), and a newer exec than the one
 * judged (exec_ts) puts the bits back for the next verdict. */
#ifndef BEYLA_RECORD_TARGET_SET_H
#define BEYLA_RECORD_TARGET_SET_H

#include <stdint.h>
#include <sys/types.h>
#include "analyze/u64map.h"
#include "record/procinfo.h"

enum target_state {
	TS_UNKNOWN = 0, /* never heard of (or exited) */
	TS_KEPT,        /* a target: its records are written */
	TS_LET_GO,      /* judged no target: its records still in the ring are dropped */
};

struct target_set {
	struct bz_u64map pids;          /* pid -> struct target_entry */
	struct bz_u64map dropped_conns; /* conn_id -> (void *)1: opened by a let-go process */
	uint64_t *target_bits;          /* the BPF programs' bitmaps (mmapped .bss) */
	uint64_t *tentative_bits;
	int exec_ts_fd;                 /* exec_ts map, -1 without --exe */
	uint64_t kept, let_go, dropped_events, restored;
	uint32_t nkept;                 /* targets alive now */
};

/* bits: BZ_TARGET_WORDS words each. */
void target_set_init(struct target_set *t, uint64_t *target_bits, uint64_t *tentative_bits,
		     int exec_ts_fd);
void target_set_free(struct target_set *t);

enum target_state target_state(const struct target_set *t, pid_t pid);
/* The identity kept for pid, or NULL. */
const struct procinfo *target_ident(const struct target_set *t, pid_t pid);
/* pid is a target from now on, with this identity (copied; NULL: none
 * known).  Sets its bit, clears its tentative mark.  0, -EINVAL for a pid
 * beyond the bitmap, or -ENOMEM (then it is a target without identity). */
int target_keep(struct target_set *t, pid_t pid, const struct procinfo *ident);
/* pid is no target: judged on a record of time judged_ns.  Returns 1 when
 * its bits were cleared, 0 when a hook had adopted it first (it stays a
 * target in the kernel: its ADOPT record follows). */
int target_let_go(struct target_set *t, pid_t pid, uint64_t judged_ns);
/* Forgets the let-go verdicts made before before_ns (CLOCK_MONOTONIC). */
void target_prune_let_go(struct target_set *t, uint64_t before_ns);
/* The process exited: forget it. */
void target_exit(struct target_set *t, pid_t pid);

/* Connections opened by let-go processes: their later records are dropped. */
void target_drop_conn(struct target_set *t, uint64_t conn_id);
int target_conn_dropped(const struct target_set *t, uint64_t conn_id);
void target_conn_closed(struct target_set *t, uint64_t conn_id);

#endif
