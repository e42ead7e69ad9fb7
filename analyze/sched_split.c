/* sched_split.c - scheduler timelines of target threads and the on-CPU /
 * run-queue / blocked split of server spans (sched_split.h has the rules).
 *
 * A thread's timeline is an array of state changes in capture order, each
 * with the time it took effect and the kind of record that made it; its
 * wake-ups by threads of the same process are kept beside it for the
 * hand-off rule.  Records come in the order they reached the kernel's ring
 * buffer, which is causal for one thread but whose timestamps, taken on
 * different CPUs just before, may step back a little: a change is never
 * placed before the previous change of its thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sched_split.h"

/* A timeline longer than this (one request open across that many switches
 * of its thread) drops its oldest half: memory stays bounded whatever the
 * capture. */
#define TR_CAP_MAX 16384
#define WAKES_CAP_MAX 4096

enum tr_ev { EV_IN = 0, EV_OUT = 1, EV_WAKE = 2 };

struct tr {
	uint64_t ts;
	uint64_t stolen; /* EV_OUT: of the run on CPU it ends (from the EV_IN
	                  * before it), the wall time its CPU time lacks */
	uint8_t state;   /* enum bz_sched_state from ts on */
	uint8_t ev;      /* enum tr_ev */
};

struct wake {
	uint64_t ts;
	uint32_t waker_pid, waker_tid;
};

struct bz_sched_thread {
	uint32_t pid, tid;
	struct tr *tr;
	size_t n, cap;
	struct wake *wk;
	size_t nw, capw;
	/* a wake-up came while the thread was still on its CPU, since it was
	 * last switched in: if the next switch-out says "blocked", the wake
	 * raced the thread's sleep and it is runnable from there (the
	 * scheduler dequeued it just before the waker looked) */
	uint8_t woke_on_cpu;
	uint64_t last_ts;
	uint64_t resp_end; /* the last response it finished writing (hand-off rule) */
	uint64_t in_cpu;   /* its CPU time at its last switch-in (0 unknown) */
};

/* The state a thread was in just before change c. */
static enum bz_sched_state state_before(const struct tr *c)
{
	return c->ev == EV_IN ? BZ_SCHED_RUNQ : c->ev == EV_OUT ? BZ_SCHED_ON_CPU : BZ_SCHED_BLOCKED;
}

static struct bz_sched_thread *thread_get(struct bz_sched *s, uint32_t pid, uint32_t tid)
{
	struct bz_sched_thread *t = bz_u64map_get(&s->threads, tid);

	if (t) {
		t->pid = pid; /* a tid reused by another process */
		return t;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->pid = pid;
	t->tid = tid;
	if (bz_u64map_put(&s->threads, tid, t)) {
		free(t);
		return NULL;
	}
	return t;
}

static void thread_free(struct bz_sched_thread *t)
{
	if (!t)
		return;
	free(t->tr);
	free(t->wk);
	free(t);
}

void bz_sched_free(struct bz_sched *s)
{
	size_t pos = 0;
	uint64_t key;
	void *v;

	if (!s)
		return;
	while (bz_u64map_next(&s->threads, &pos, &key, &v))
		thread_free(v);
	bz_u64map_free(&s->threads);
	memset(s, 0, sizeof(*s));
}

/* Grows an array of n used elements of size sz to hold one more, up to
 * max (then drops the oldest half, counted). 0 or -ENOMEM. */
static int room_for_one(void **arr, size_t *n, size_t *cap, size_t sz, size_t max, uint64_t *cut)
{
	if (*n < *cap)
		return 0;
	if (*cap >= max) {
		size_t keep = *n / 2;
		memmove(*arr, (char *)*arr + (*n - keep) * sz, keep * sz);
		*n = keep;
		(*cut)++;
		return 0;
	}
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

/* The thread's state now, and whether it is known. */
static int state_now(const struct bz_sched_thread *t, enum bz_sched_state *st)
{
	if (!t->n)
		return 0;
	*st = (enum bz_sched_state)t->tr[t->n - 1].state;
	return 1;
}

static int add_change(struct bz_sched *s, struct bz_sched_thread *t, uint64_t ts, enum bz_sched_state st,
		      enum tr_ev ev)
{
	int rc;

	if (t->n && ts < t->tr[t->n - 1].ts)
		ts = t->tr[t->n - 1].ts;
	if ((rc = room_for_one((void **)&t->tr, &t->n, &t->cap, sizeof(*t->tr), TR_CAP_MAX, &s->n.history_cut)))
		return rc;
	t->tr[t->n].ts = ts;
	t->tr[t->n].stolen = 0;
	t->tr[t->n].state = (uint8_t)st;
	t->tr[t->n].ev = (uint8_t)ev;
	t->n++;
	if (ts > t->last_ts)
		t->last_ts = ts;
	return 0;
}

/* Less than this missing from a run's CPU time is not steal: the switch's
 * own work, between the scheduler's clock update and the tracepoint, which
 * the run's CPU time leaves out (1-2 us per run on the test VM). */
#define STEAL_MIN_NS 20000

/* t, on CPU since its last change (a switch-in with its CPU time known),
 * is switched out at ts having used cpu_ns in all: the run's steal. */
static uint64_t run_stolen(const struct bz_sched_thread *t, uint64_t ts, uint64_t cpu_ns)
{
	const struct tr *in = t->n ? &t->tr[t->n - 1] : NULL;
	uint64_t wall, used;

	if (!in || in->ev != EV_IN || !t->in_cpu || !cpu_ns || cpu_ns < t->in_cpu || ts < in->ts)
		return 0;
	wall = ts - in->ts;
	used = cpu_ns - t->in_cpu;
	return wall > used + STEAL_MIN_NS ? wall - used : 0;
}

int bz_sched_switch(struct bz_sched *s, uint64_t ts, uint32_t prev_pid, uint32_t prev_tid,
		    int prev_runnable, uint32_t next_pid, uint32_t next_tid)
{
	return bz_sched_switch_cpu(s, ts, prev_pid, prev_tid, prev_runnable, next_pid, next_tid, 0, 0);
}

int bz_sched_switch_cpu(struct bz_sched *s, uint64_t ts, uint32_t prev_pid, uint32_t prev_tid,
			int prev_runnable, uint32_t next_pid, uint32_t next_tid, uint64_t prev_cpu_ns,
			uint64_t next_cpu_ns)
{
	struct bz_sched_thread *t;
	enum bz_sched_state st;
	uint64_t stolen;
	int rc;

	s->n.switches++;
	if (ts > s->last_ts)
		s->last_ts = ts;
	if (prev_tid) {
		if (!(t = thread_get(s, prev_pid, prev_tid)))
			return -ENOMEM;
		if (state_now(t, &st) && st != BZ_SCHED_ON_CPU)
			s->n.inconsistent++;
		st = prev_runnable || t->woke_on_cpu ? BZ_SCHED_RUNQ : BZ_SCHED_BLOCKED;
		t->woke_on_cpu = 0;
		/* (at the time add_change places it) */
		stolen = run_stolen(t, t->n && ts < t->tr[t->n - 1].ts ? t->tr[t->n - 1].ts : ts, prev_cpu_ns);
		t->in_cpu = 0;
		if ((rc = add_change(s, t, ts, st, EV_OUT)))
			return rc;
		/* (a history cut keeps the newest half: this change is still last) */
		t->tr[t->n - 1].stolen = stolen;
		s->n.stolen_ns += stolen;
	}
	if (next_tid) {
		if (!(t = thread_get(s, next_pid, next_tid)))
			return -ENOMEM;
		/* taking a CPU from "blocked": its wake-up was lost */
		if (state_now(t, &st) && st != BZ_SCHED_RUNQ)
			s->n.inconsistent++;
		t->woke_on_cpu = 0;
		if ((rc = add_change(s, t, ts, BZ_SCHED_ON_CPU, EV_IN)))
			return rc;
		t->in_cpu = next_cpu_ns;
	}
	return 0;
}

int bz_sched_wakeup(struct bz_sched *s, uint64_t ts, uint32_t waker_pid, uint32_t waker_tid,
		    uint32_t wakee_pid, uint32_t wakee_tid)
{
	struct bz_sched_thread *t;
	enum bz_sched_state st;
	int known, rc;

	s->n.wakeups++;
	if (ts > s->last_ts)
		s->last_ts = ts;
	if (!wakee_tid)
		return 0;
	if (!(t = thread_get(s, wakee_pid, wakee_tid)))
		return -ENOMEM;
	if (waker_tid && waker_pid == wakee_pid && waker_tid != wakee_tid) {
		if ((rc = room_for_one((void **)&t->wk, &t->nw, &t->capw, sizeof(*t->wk), WAKES_CAP_MAX,
				       &s->n.history_cut)))
			return rc;
		t->wk[t->nw].ts = ts;
		t->wk[t->nw].waker_pid = waker_pid;
		t->wk[t->nw].waker_tid = waker_tid;
		t->nw++;
	}
	known = state_now(t, &st);
	if (known && st == BZ_SCHED_ON_CPU) {
		t->woke_on_cpu = 1;
		return 0;
	}
	if (known && st == BZ_SCHED_RUNQ)
		return 0;
	/* blocked, or nothing known yet: a wake-up means it was blocked */
	return add_change(s, t, ts, BZ_SCHED_RUNQ, EV_WAKE);
}

/* The first change of t after ts (t->n if none). */
static size_t first_after(const struct bz_sched_thread *t, uint64_t ts)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->tr[mid].ts <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* [a, b) in state st, before change j of t (t->n: none known yet) into
 * out: of a run on CPU that change j ends with its steal known, that
 * share of the steal is run queue. */
static void add_segment(const struct bz_sched_thread *t, size_t j, enum bz_sched_state st, uint64_t a, uint64_t b,
			uint64_t out[BZ_SCHED_STATES])
{
	uint64_t d = b - a, x = 0;

	if (st == BZ_SCHED_ON_CPU && j > 0 && j < t->n && t->tr[j].ev == EV_OUT && t->tr[j].stolen &&
	    t->tr[j - 1].ev == EV_IN && t->tr[j].ts > t->tr[j - 1].ts) {
		uint64_t run = t->tr[j].ts - t->tr[j - 1].ts;
		x = (uint64_t)((unsigned __int128)t->tr[j].stolen * d / run);
		if (x > d)
			x = d;
	}
	out[st] += d - x;
	out[BZ_SCHED_RUNQ] += x;
}

int bz_sched_split(const struct bz_sched *s, uint32_t tid, uint64_t from, uint64_t to,
		   uint64_t out[BZ_SCHED_STATES])
{
	const struct bz_sched_thread *t = bz_u64map_get(&s->threads, tid);
	enum bz_sched_state st;
	uint64_t at = from;
	size_t i;

	memset(out, 0, sizeof(out[0]) * BZ_SCHED_STATES);
	if (!t || !t->n)
		return -ENOENT;
	if (to < from)
		to = from;
	i = first_after(t, from);
	st = i ? (enum bz_sched_state)t->tr[i - 1].state : state_before(&t->tr[0]);
	for (; i < t->n && t->tr[i].ts < to; i++) {
		add_segment(t, i, st, at, t->tr[i].ts, out);
		at = t->tr[i].ts;
		st = (enum bz_sched_state)t->tr[i].state;
	}
	add_segment(t, i, st, at, to, out);
	return 0;
}

int bz_sched_first_wake(const struct bz_sched *s, uint32_t pid, uint32_t tid, uint64_t from, uint64_t to,
			uint64_t *at)
{
	const struct bz_sched_thread *t = bz_u64map_get(&s->threads, tid);

	if (!t)
		return 0;
	for (size_t i = 0; i < t->nw; i++) {
		const struct wake *w = &t->wk[i];
		if (w->ts >= from && w->ts <= to && w->waker_pid == pid && w->waker_tid != tid) {
			*at = w->ts;
			return 1;
		}
	}
	return 0;
}

/* Unix ns as the monotonic time it came from (spans.h: the offset). */
static uint64_t to_mono(int64_t unix_ns, int64_t off)
{
	int64_t m = unix_ns - off;
	return m > 0 ? (uint64_t)m : 0;
}

/* When the writer began on a handed-off request whose processing began at
 * from: not before it finished its previous response (a busy worker takes
 * the next request off its queue without sleeping); if it was blocked then
 * (an idle worker), when a thread of the process woke it.  1 with *at
 * (>= from), 0 when it was blocked and no such wake-up came before its
 * write. */
static int handoff_start(struct bz_sched *sch, const struct bz_sched_span_in *in, uint64_t from, uint64_t *at)
{
	const struct bz_sched_thread *t = bz_u64map_get(&sch->threads, in->writer_tid);
	uint64_t t0 = from, parts[BZ_SCHED_STATES];

	if (t && t->resp_end > t0 && t->resp_end <= in->write_ts)
		t0 = t->resp_end;
	/* its state at t0: the split of the instant [t0, t0 + 1) */
	if (bz_sched_split(sch, in->writer_tid, t0, t0 + 1, parts) == 0 && !parts[BZ_SCHED_BLOCKED]) {
		*at = t0;
		return 1;
	}
	return bz_sched_first_wake(sch, in->pid, in->writer_tid, t0, in->write_ts, at);
}

int bz_sched_response_done(struct bz_sched *s, uint32_t pid, uint32_t tid, uint64_t ts)
{
	struct bz_sched_thread *t = thread_get(s, pid, tid);

	if (!t)
		return -ENOMEM;
	if (ts > t->resp_end)
		t->resp_end = ts;
	if (ts > t->last_ts)
		t->last_ts = ts;
	return 0;
}

void bz_sched_span(struct bz_sched *sch, struct bz_span *s, const struct bz_sched_span_in *in)
{
	uint64_t parts[BZ_SCHED_STATES], from, to, woke;
	uint32_t tid = in->reader_tid;

	/* processing is [start + queue_ns, end - tx_queue_ns): processing_ns
	 * long (queue_ns + processing_ns + tx_queue_ns = duration_ns) */
	if (s->queue_ns == BZ_DB_NULL || s->processing_ns == BZ_DB_NULL || s->processing_ns < 0)
		return;
	from = to_mono(s->start_ns + s->queue_ns, in->mono_to_unix);
	if (in->writer_tid && in->writer_tid != in->reader_tid) {
		tid = in->writer_tid;
		if (handoff_start(sch, in, from, &woke)) {
			int64_t moved = (int64_t)(woke - from);
			if (moved > s->processing_ns)
				moved = s->processing_ns;
			s->queue_ns += moved;
			s->processing_ns -= moved;
			from += (uint64_t)moved;
			sch->n.handoffs++;
		} else {
			sch->n.handoffs_no_wake++;
		}
	}
	to = from + (uint64_t)s->processing_ns;
	if (bz_sched_split(sch, tid, from, to, parts)) {
		sch->n.spans_no_events++;
		return;
	}
	s->part_ns[BZ_PART_ON_CPU] = (int64_t)parts[BZ_SCHED_ON_CPU];
	s->part_ns[BZ_PART_RUNQ] = (int64_t)parts[BZ_SCHED_RUNQ];
	s->part_ns[BZ_PART_BLOCKED] = (int64_t)parts[BZ_SCHED_BLOCKED];
	sch->n.spans_split++;
}

/* Drops t's changes and wake-ups before `before`, keeping the last change
 * before it (the state at `before`). */
static void thread_trim(struct bz_sched_thread *t, uint64_t before)
{
	size_t i = first_after(t, before), w = 0;

	if (i > 1) {
		memmove(t->tr, t->tr + (i - 1), (t->n - (i - 1)) * sizeof(*t->tr));
		t->n -= i - 1;
	}
	while (w < t->nw && t->wk[w].ts < before)
		w++;
	if (w) {
		memmove(t->wk, t->wk + w, (t->nw - w) * sizeof(*t->wk));
		t->nw -= w;
	}
}

void bz_sched_forget(struct bz_sched *s, uint64_t before, uint64_t idle_ns)
{
	uint64_t idle_before = before > idle_ns ? before - idle_ns : 0, key, *gone;
	size_t pos = 0, ngone = 0;
	void *v;

	/* the map must not change while walked: collect the idle, then drop
	 * them (without memory for the list, they stay until the next call) */
	gone = malloc((s->threads.len + 1) * sizeof(*gone));
	while (bz_u64map_next(&s->threads, &pos, &key, &v)) {
		struct bz_sched_thread *t = v;
		if (t->last_ts < idle_before && gone)
			gone[ngone++] = key;
		else
			thread_trim(t, before);
	}
	for (size_t i = 0; i < ngone; i++)
		thread_free(bz_u64map_del(&s->threads, gone[i]));
	s->n.threads_forgotten += ngone;
	free(gone);
}

int bz_sched_write_stats(const struct bz_sched *s, struct bz_db *db)
{
	const struct { const char *name; uint64_t v; } rows[] = {
		{ "sched_switches", s->n.switches },
		{ "sched_stolen_ns", s->n.stolen_ns },
		{ "sched_wakeups", s->n.wakeups },
		{ "sched_inconsistent", s->n.inconsistent },
		{ "sched_history_cut", s->n.history_cut },
		{ "sched_threads_forgotten", s->n.threads_forgotten },
		{ "sched_spans_split", s->n.spans_split },
		{ "sched_spans_no_events", s->n.spans_no_events },
		{ "sched_spans_go", s->n.spans_go },
		{ "sched_handoffs", s->n.handoffs },
		{ "sched_handoffs_no_wake", s->n.handoffs_no_wake },
	};
	int rc;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if ((rc = bz_db_stat(db, rows[i].name, (int64_t)rows[i].v)))
			return rc;
	return 0;
}
