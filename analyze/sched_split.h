/* sched_split.h - per-thread scheduler timelines (`beyla record --sched`)
 * and the split of a server span's processing into on CPU, runnable
 * (waiting for a CPU) and blocked.
 *
 * The analyzer feeds every SCHED_SWITCH and SCHED_WAKEUP record in capture
 * order; each target thread gets a timeline of state changes.  A span asks
 * for the time its handling thread spent in each state over its processing
 * interval; the three always sum to the interval's length.
 *
 * States (docs/analysis.md, "On CPU, run queue, blocked"):
 *   switched in                           -> on CPU
 *   switched out, runnable (preempted)    -> run queue
 *   switched out, not runnable            -> blocked
 *   woken while blocked                   -> run queue
 *   woken while on CPU or runnable        -> no change (the wake-up raced
 *                                            the thread going to sleep)
 *   on CPU, but the vCPU stolen            -> run queue (a run's wall time
 *                                            minus its CPU time, format 1.8)
 * Before a thread's first known change its state is what that change
 * implies it was (a switch-in: runnable; a switch-out: on CPU; a wake-up:
 * blocked), so history may be forgotten without losing the split.
 *
 * Memory: bz_sched_forget drops what no open request needs.
 */
#ifndef BEYLA_SCHED_SPLIT_H
#define BEYLA_SCHED_SPLIT_H

#include <stdint.h>

#include "u64map.h"

struct bz_span;
struct bz_db;

enum bz_sched_state {
	BZ_SCHED_ON_CPU = 0,
	BZ_SCHED_RUNQ = 1,
	BZ_SCHED_BLOCKED = 2,
	BZ_SCHED_STATES
};

/* What could not be attributed, and what was done (parse_stats). */
struct bz_sched_counts {
	uint64_t switches, wakeups;  /* records fed */
	uint64_t inconsistent;       /* a change that contradicts the known state
	                              * (events lost, or reordered across CPUs) */
	uint64_t history_cut;        /* a thread's timeline hit its cap: oldest half dropped */
	uint64_t threads_forgotten;  /* idle threads dropped by bz_sched_forget */
	uint64_t spans_split;        /* server spans given on_cpu/runq/blocked */
	uint64_t spans_no_events;    /* ... not: their thread has no scheduler events */
	uint64_t spans_go;           /* ... not: a Go handler's (goroutines change threads) */
	uint64_t handoffs;           /* a worker thread woken by the reader's process */
	uint64_t handoffs_no_wake;   /* another thread wrote the response, no wake-up found */
	uint64_t stolen_ns;          /* runs on CPU minus their CPU time (steal), in all */
};

struct bz_sched {
	struct bz_u64map threads; /* tid -> struct bz_sched_thread */
	uint64_t last_ts;         /* latest record time (what a late record is clamped to) */
	struct bz_sched_counts n;
};

/* A zeroed struct is empty; bz_sched_free frees it (accepts NULL). */
void bz_sched_free(struct bz_sched *s);

/* A switch on a CPU: prev left it (runnable: still on the run queue),
 * next took it.  A tid of 0 is not tracked: the idle task, or (the
 * caller passes 0) a task that is not a target.  0 or -ENOMEM. */
int bz_sched_switch(struct bz_sched *s, uint64_t ts, uint32_t prev_pid, uint32_t prev_tid,
		    int prev_runnable, uint32_t next_pid, uint32_t next_tid);
/* The same, with each task's CPU time so far (0 unknown): a run on CPU
 * whose CPU time is less than its wall time lost the rest to the
 * hypervisor (steal), which the split counts as waiting for a CPU. */
int bz_sched_switch_cpu(struct bz_sched *s, uint64_t ts, uint32_t prev_pid, uint32_t prev_tid,
			int prev_runnable, uint32_t next_pid, uint32_t next_tid, uint64_t prev_cpu_ns,
			uint64_t next_cpu_ns);
/* waker (tid 0: an interrupt of the idle task) began waking wakee.  0 or -ENOMEM. */
int bz_sched_wakeup(struct bz_sched *s, uint64_t ts, uint32_t waker_pid, uint32_t waker_tid,
		    uint32_t wakee_pid, uint32_t wakee_tid);

/* Time thread tid spent in each state over [from, to) (monotonic ns),
 * into out[BZ_SCHED_STATES]; out sums to to - from exactly.  Of a run on
 * CPU, the part stolen (pro rata of the run's steal) is run queue.  -ENOENT when
 * the thread has no scheduler events (out zeroed). */
int bz_sched_split(const struct bz_sched *s, uint32_t tid, uint64_t from, uint64_t to,
		   uint64_t out[BZ_SCHED_STATES]);

/* The first wake-up of thread tid by a thread of process pid (other than
 * tid) at a time in [from, to]: 1 with *at, else 0. */
int bz_sched_first_wake(const struct bz_sched *s, uint32_t pid, uint32_t tid, uint64_t from, uint64_t to,
			uint64_t *at);

/* Who read the request and who answered it, for bz_sched_span. */
struct bz_sched_span_in {
	uint32_t pid;
	uint32_t reader_tid;   /* the thread that read the request */
	uint32_t writer_tid;   /* the thread that wrote the response's first bytes */
	uint64_t write_ts;     /* monotonic: that write returned */
	int64_t mono_to_unix;  /* the span's times are Unix ns: this offset */
};

/* Thread tid of process pid finished writing a response at ts
 * (monotonic): where the hand-off rule starts looking for the next
 * request it handles.  0 or -ENOMEM. */
int bz_sched_response_done(struct bz_sched *s, uint32_t pid, uint32_t tid, uint64_t ts);

/* Fills s->part_ns[BZ_PART_ON_CPU/RUNQ/BLOCKED] of a finished server span
 * (its start_ns, queue_ns, processing_ns and part_ns[BZ_PART_TX_QUEUE]
 * final), over [start + queue, end - tx_queue).  Hand-off: when another
 * thread of the process wrote the response, the thread that handled the
 * request is that writer, and it began when a thread of the process woke
 * it after processing began; the time before moves from processing_ns to
 * queue_ns (their sum is kept).  It began at the later of that and the end
 * of its previous response, or, if it was blocked then, when a thread of
 * the process next woke it.  Without scheduler events for the thread
 * the parts stay unknown.  Counts in s->n. */
void bz_sched_span(struct bz_sched *sch, struct bz_span *s, const struct bz_sched_span_in *in);

/* Forgets what no request needs: the changes of each thread before
 * `before` (but the last one, which gives the state then), wake-ups before
 * it, and threads with no change in the last idle_ns before it. */
void bz_sched_forget(struct bz_sched *s, uint64_t before, uint64_t idle_ns);

/* Writes the counters as parse_stats rows (sched_*). 0 or the db's error. */
int bz_sched_write_stats(const struct bz_sched *s, struct bz_db *db);

#endif
