/* test_sched_split.c - the on CPU / run queue / blocked split of
 * analyze/sched_split.c on synthetic scheduler streams: a request
 * preempted in its middle, woken by another thread, blocked on I/O, handed
 * from a reader thread to a worker (idle, and busy), the wake-up that races
 * a thread going to sleep, state inferred before a thread's first record,
 * forgetting history, and sums that are always exact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/db.h"
#include "analyze/sched_split.h"

#define PID 100
#define READER 101
#define WORKER 102
#define OTHER 300 /* another process */

static void split(const struct bz_sched *s, uint32_t tid, uint64_t a, uint64_t b, uint64_t want_on,
		  uint64_t want_rq, uint64_t want_bl)
{
	uint64_t out[BZ_SCHED_STATES];

	assert_int_equal(bz_sched_split(s, tid, a, b, out), 0);
	assert_int_equal(out[BZ_SCHED_ON_CPU], want_on);
	assert_int_equal(out[BZ_SCHED_RUNQ], want_rq);
	assert_int_equal(out[BZ_SCHED_BLOCKED], want_bl);
	assert_int_equal(out[0] + out[1] + out[2], b - a);
}

/* A server span with processing [from, to) in Unix ns (offset 0). */
static void span_at(struct bz_span *sp, int64_t start, int64_t from, int64_t to)
{
	bz_span_init(sp);
	sp->kind = BZ_SPAN_SERVER;
	sp->start_ns = start;
	sp->queue_ns = from - start;
	sp->processing_ns = to - from;
	sp->end_ns = to;
}

/* Runs on its CPU from 1000, preempted at 1300 by another process, back at
 * 1700, done at 2000. */
static void test_preempted(void **state)
{
	struct bz_sched s = { 0 };

	assert_int_equal(bz_sched_switch(&s, 1000, 0, 0, 0, PID, READER), 0);
	assert_int_equal(bz_sched_switch(&s, 1300, PID, READER, 1, 0, 0), 0);
	assert_int_equal(bz_sched_switch(&s, 1700, 0, 0, 0, PID, READER), 0);
	split(&s, READER, 1100, 2000, 200 + 300, 400, 0);
	/* an interval inside one state */
	split(&s, READER, 1400, 1600, 0, 200, 0);
	assert_int_equal(s.n.inconsistent, 0);
	bz_sched_free(&s);
}

/* A VM's vCPU stolen: the thread runs from 1000 to 2000 (us) by the
 * switches, but its CPU time grows by 600 only (its scheduler's clock
 * leaves out the 400 the hypervisor gave another guest): 400 of the run is
 * waiting for a CPU, pro rata over any part of it.  A run whose CPU time is
 * unknown (a capture before format 1.8), or that lacks less than 20 us
 * (the switch's own work), has none. */
static void test_stolen(void **state)
{
	struct bz_sched s = { 0 };
	const uint64_t us = 1000;

	assert_int_equal(bz_sched_switch_cpu(&s, 1000 * us, 0, 0, 0, PID, READER, 0, 50000 * us), 0);
	assert_int_equal(bz_sched_switch_cpu(&s, 2000 * us, PID, READER, 0, 0, 0, 50600 * us, 0), 0);
	split(&s, READER, 1000 * us, 2000 * us, 600 * us, 400 * us, 0);
	split(&s, READER, 1500 * us, 2000 * us, 300 * us, 200 * us, 0);
	/* runnable before, blocked after */
	split(&s, READER, 900 * us, 2100 * us, 600 * us, 100 * us + 400 * us, 100 * us);
	assert_int_equal(s.n.stolen_ns, 400 * us);
	/* no CPU times: all of the run on CPU */
	bz_sched_switch(&s, 3000 * us, 0, 0, 0, PID, READER);
	bz_sched_switch(&s, 3500 * us, PID, READER, 0, 0, 0);
	split(&s, READER, 3000 * us, 3500 * us, 500 * us, 0, 0);
	/* 15 us short of its wall time (the switch's own work), or over it
	 * (the clocks' jitter): no steal */
	bz_sched_switch_cpu(&s, 4000 * us, 0, 0, 0, PID, READER, 0, 60000 * us);
	bz_sched_switch_cpu(&s, 4200 * us, PID, READER, 1, 0, 0, 60200 * us - 15 * us, 0);
	split(&s, READER, 4000 * us, 4200 * us, 200 * us, 0, 0);
	bz_sched_switch_cpu(&s, 4300 * us, 0, 0, 0, PID, READER, 0, 61000 * us);
	bz_sched_switch_cpu(&s, 4400 * us, PID, READER, 1, 0, 0, 61101 * us, 0);
	split(&s, READER, 4300 * us, 4400 * us, 100 * us, 0, 0);
	assert_int_equal(s.n.stolen_ns, 400 * us);
	bz_sched_free(&s);
}

/* Blocked on I/O (a downstream call) from 1200, woken by a thread of
 * another process at 1500, on CPU again at 1550. */
static void test_blocked_io(void **state)
{
	struct bz_sched s = { 0 };

	bz_sched_switch(&s, 1000, 0, 0, 0, PID, READER);
	bz_sched_switch(&s, 1200, PID, READER, 0, 0, 0);
	bz_sched_wakeup(&s, 1500, OTHER, OTHER + 1, PID, READER);
	bz_sched_switch(&s, 1550, 0, 0, 0, PID, READER);
	split(&s, READER, 1000, 1800, 200 + 250, 50, 300);
	/* a wake-up by another process is no hand-off */
	uint64_t at;
	assert_int_equal(bz_sched_first_wake(&s, PID, READER, 0, 5000, &at), 0);
	bz_sched_free(&s);
}

/* Woken by another thread of its process (a lock released), which is the
 * wake-up the hand-off rule may use. */
static void test_woken_by_thread(void **state)
{
	struct bz_sched s = { 0 };
	uint64_t at = 0;

	bz_sched_switch(&s, 1000, 0, 0, 0, PID, WORKER);
	bz_sched_switch(&s, 1100, PID, WORKER, 0, 0, 0);
	bz_sched_wakeup(&s, 1400, PID, READER, PID, WORKER);
	bz_sched_switch(&s, 1450, PID, READER, 0, PID, WORKER);
	split(&s, WORKER, 1000, 1600, 100 + 150, 50, 300);
	assert_int_equal(bz_sched_first_wake(&s, PID, WORKER, 1200, 2000, &at), 1);
	assert_int_equal(at, 1400);
	assert_int_equal(bz_sched_first_wake(&s, PID, WORKER, 1401, 2000, &at), 0);
	/* the reader: on CPU until it switched to the worker, blocked after */
	split(&s, READER, 1450, 1500, 0, 0, 50);
	bz_sched_free(&s);
}

/* Before a thread's first record its state is what that record implies:
 * a switch-in follows the run queue, a switch-out a run, a wake-up a
 * block. */
static void test_inferred_before_first(void **state)
{
	struct bz_sched s = { 0 };
	uint64_t out[BZ_SCHED_STATES];

	bz_sched_switch(&s, 500, 0, 0, 0, PID, 1);     /* thread 1: switched in */
	bz_sched_switch(&s, 500, PID, 2, 0, 0, 0);     /* thread 2: switched out, blocked */
	bz_sched_wakeup(&s, 500, OTHER, 9, PID, 3);    /* thread 3: woken */
	split(&s, 1, 100, 600, 100, 400, 0);
	split(&s, 2, 100, 600, 400, 0, 100);
	split(&s, 3, 100, 600, 0, 100, 400);
	assert_int_equal(bz_sched_split(&s, 4, 100, 600, out), -ENOENT);
	assert_int_equal(out[0] + out[1] + out[2], 0);
	bz_sched_free(&s);
}

/* The waker saw the thread still on its CPU (sched_waking fires before the
 * wakee is off it) and its switch-out then says "blocked": it is runnable
 * from the switch-out, not blocked. */
static void test_wake_races_sleep(void **state)
{
	struct bz_sched s = { 0 };

	bz_sched_switch(&s, 1000, 0, 0, 0, PID, READER);
	bz_sched_wakeup(&s, 1199, PID, WORKER, PID, READER);
	bz_sched_switch(&s, 1200, PID, READER, 0, 0, 0);
	bz_sched_switch(&s, 1300, 0, 0, 0, PID, READER);
	split(&s, READER, 1000, 1400, 300, 100, 0);
	assert_int_equal(s.n.inconsistent, 0);
	/* and a wake-up that reached the ring after the switch-out but is
	 * stamped before it (another CPU's clock read first): runnable from
	 * the switch-out, never placed before it */
	bz_sched_switch(&s, 2000, PID, READER, 0, 0, 0);
	bz_sched_wakeup(&s, 1990, PID, WORKER, PID, READER);
	bz_sched_switch(&s, 2100, 0, 0, 0, PID, READER);
	split(&s, READER, 1900, 2200, 100 + 100, 100, 0);
	bz_sched_free(&s);
}

/* A reader thread reads the request at 1000 (processing begins), hands it
 * to an idle worker which it wakes at 1200; the worker runs 1250-1600,
 * is preempted until 1700, writes at 1800.  The wait before the worker
 * took it is queue; queue + processing is unchanged; the split is the
 * worker's. */
static void test_handoff_idle_worker(void **state)
{
	struct bz_sched s = { 0 };
	struct bz_span sp;
	struct bz_sched_span_in in = { .pid = PID, .reader_tid = READER, .writer_tid = WORKER,
				       .write_ts = 1800, .mono_to_unix = 0 };

	bz_sched_switch(&s, 100, PID, WORKER, 0, 0, 0);         /* idle: blocked on its queue */
	bz_sched_switch(&s, 900, 0, 0, 0, PID, READER);
	bz_sched_wakeup(&s, 1200, PID, READER, PID, WORKER);
	bz_sched_switch(&s, 1250, PID, READER, 0, PID, WORKER);
	bz_sched_switch(&s, 1600, PID, WORKER, 1, OTHER, OTHER);
	bz_sched_switch(&s, 1700, OTHER, OTHER, 1, PID, WORKER);
	span_at(&sp, 800, 1000, 1850);
	bz_sched_span(&s, &sp, &in);
	assert_int_equal(s.n.handoffs, 1);
	assert_int_equal(sp.queue_ns, 200 + 200);
	assert_int_equal(sp.processing_ns, 650);
	assert_int_equal(sp.queue_ns + sp.processing_ns, 1850 - 800);
	assert_int_equal(sp.part_ns[BZ_PART_ON_CPU], 350 + 150);
	assert_int_equal(sp.part_ns[BZ_PART_RUNQ], 50 + 100);
	assert_int_equal(sp.part_ns[BZ_PART_BLOCKED], 0);
	assert_int_equal(sp.part_ns[BZ_PART_ON_CPU] + sp.part_ns[BZ_PART_RUNQ] + sp.part_ns[BZ_PART_BLOCKED],
			 sp.processing_ns);
	bz_sched_free(&s);
}

/* A busy worker finishes its previous response at 1300 and takes this
 * request (read at 1000) off its queue without sleeping: it began at 1300,
 * and the later wake-ups of other threads (a lock) do not move that. */
static void test_handoff_busy_worker(void **state)
{
	struct bz_sched s = { 0 };
	struct bz_span sp;
	struct bz_sched_span_in in = { .pid = PID, .reader_tid = READER, .writer_tid = WORKER,
				       .write_ts = 1900, .mono_to_unix = 0 };

	bz_sched_switch(&s, 800, 0, 0, 0, PID, WORKER);
	assert_int_equal(bz_sched_response_done(&s, PID, WORKER, 1300), 0);
	bz_sched_switch(&s, 1500, PID, WORKER, 0, 0, 0);        /* a lock */
	bz_sched_wakeup(&s, 1600, PID, READER, PID, WORKER);
	bz_sched_switch(&s, 1650, 0, 0, 0, PID, WORKER);
	span_at(&sp, 900, 1000, 2000);
	bz_sched_span(&s, &sp, &in);
	assert_int_equal(s.n.handoffs, 1);
	assert_int_equal(sp.queue_ns, 100 + 300);
	assert_int_equal(sp.processing_ns, 700);
	assert_int_equal(sp.part_ns[BZ_PART_ON_CPU], 200 + 350);
	assert_int_equal(sp.part_ns[BZ_PART_RUNQ], 50);
	assert_int_equal(sp.part_ns[BZ_PART_BLOCKED], 100);
	bz_sched_free(&s);
}

/* Another thread wrote, but it was blocked throughout and nothing of the
 * process woke it before its write: counted, processing kept as it was. */
static void test_handoff_no_wake(void **state)
{
	struct bz_sched s = { 0 };
	struct bz_span sp;
	struct bz_sched_span_in in = { .pid = PID, .reader_tid = READER, .writer_tid = WORKER,
				       .write_ts = 1900, .mono_to_unix = 0 };

	bz_sched_switch(&s, 800, PID, WORKER, 0, 0, 0);
	bz_sched_wakeup(&s, 1200, OTHER, OTHER, PID, WORKER);
	bz_sched_switch(&s, 1250, 0, 0, 0, PID, WORKER);
	span_at(&sp, 900, 1000, 2000);
	bz_sched_span(&s, &sp, &in);
	assert_int_equal(s.n.handoffs, 0);
	assert_int_equal(s.n.handoffs_no_wake, 1);
	assert_int_equal(sp.queue_ns, 100);
	assert_int_equal(sp.processing_ns, 1000);
	assert_int_equal(sp.part_ns[BZ_PART_BLOCKED], 200);
	assert_int_equal(sp.part_ns[BZ_PART_RUNQ], 50);
	assert_int_equal(sp.part_ns[BZ_PART_ON_CPU], 750);
	bz_sched_free(&s);
}

/* The interval ends before the send-queue wait (tx_queue_ns); a thread
 * without records leaves the parts unknown, counted. */
static void test_span_tx_and_unknown(void **state)
{
	struct bz_sched s = { 0 };
	struct bz_span sp;
	struct bz_sched_span_in in = { .pid = PID, .reader_tid = READER, .writer_tid = READER,
				       .write_ts = 1900, .mono_to_unix = 0 };

	bz_sched_switch(&s, 1000, 0, 0, 0, PID, READER);
	bz_sched_switch(&s, 1500, PID, READER, 0, 0, 0);
	/* processing [1000, 1700), then the response in the send queue
	 * [1700, 2000): queue + processing + tx_queue = duration */
	span_at(&sp, 900, 1000, 1700);
	sp.end_ns = 2000;
	sp.part_ns[BZ_PART_TX_QUEUE] = 300;
	bz_sched_span(&s, &sp, &in);
	assert_int_equal(sp.part_ns[BZ_PART_ON_CPU], 500);
	assert_int_equal(sp.part_ns[BZ_PART_BLOCKED], 200);
	assert_int_equal(sp.part_ns[BZ_PART_RUNQ], 0);
	assert_int_equal(sp.part_ns[BZ_PART_ON_CPU] + sp.part_ns[BZ_PART_RUNQ] + sp.part_ns[BZ_PART_BLOCKED],
			 sp.processing_ns);
	assert_int_equal(sp.queue_ns + sp.processing_ns + sp.part_ns[BZ_PART_TX_QUEUE], sp.end_ns - sp.start_ns);
	in.reader_tid = in.writer_tid = 999;
	span_at(&sp, 900, 1000, 2000);
	bz_sched_span(&s, &sp, &in);
	assert_int_equal(sp.part_ns[BZ_PART_ON_CPU], BZ_DB_NULL);
	assert_int_equal(s.n.spans_no_events, 1);
	assert_int_equal(s.n.spans_split, 1);
	bz_sched_free(&s);
}

/* Forgetting keeps the state at the cut (the split after it is the same)
 * and drops threads idle for long; a thread's timeline is capped. */
static void test_forget_and_cap(void **state)
{
	struct bz_sched s = { 0 };
	uint64_t ts = 1000;

	for (int i = 0; i < 100; i++) {
		bz_sched_switch(&s, ts, 0, 0, 0, PID, READER);
		bz_sched_switch(&s, ts + 60, PID, READER, i % 2, 0, 0);
		ts += 100;
	}
	bz_sched_wakeup(&s, 50, OTHER, 1, PID, 7); /* thread 7: long silent */
	split(&s, READER, 5000, 11000, 60 * 60, 40 * 30, 40 * 30);
	bz_sched_forget(&s, 8030, 1000);
	assert_int_equal(s.n.threads_forgotten, 1);
	split(&s, READER, 8030, 11000, 30 + 60 * 29, 40 * 15, 40 * 15);
	bz_sched_free(&s);

	/* a request open across more switches than a timeline keeps: bounded */
	memset(&s, 0, sizeof(s));
	for (uint64_t i = 0; i < 40000; i++)
		bz_sched_switch(&s, 10 * i, 0, 0, 0, PID, READER), bz_sched_switch(&s, 10 * i + 5, PID, READER, 1, 0, 0);
	assert_true(s.n.history_cut > 0);
	uint64_t out[BZ_SCHED_STATES];
	assert_int_equal(bz_sched_split(&s, READER, 399000, 399100, out), 0);
	assert_int_equal(out[BZ_SCHED_ON_CPU], 50);
	assert_int_equal(out[BZ_SCHED_RUNQ], 50);
	bz_sched_free(&s);
}

/* Random streams: the three parts always sum to the interval, whatever the
 * order or consistency of the records (lost and reordered ones). */
static void test_random_sums(void **state)
{
	struct bz_sched s = { 0 };
	uint64_t ts = 0, out[BZ_SCHED_STATES];

	srand(20);
	for (int i = 0; i < 20000; i++) {
		uint32_t a = 1 + (uint32_t)(rand() % 5), b = 1 + (uint32_t)(rand() % 5);
		ts += (uint64_t)(rand() % 100);
		uint64_t t = ts - (uint64_t)(rand() % 3 == 0 ? rand() % 50 : 0); /* steps back */
		if (rand() % 3)
			bz_sched_switch(&s, t, PID, a, rand() % 2, PID, b);
		else
			bz_sched_wakeup(&s, t, PID, a, PID, b);
		if (i % 1000 == 0) {
			for (uint32_t tid = 1; tid <= 5; tid++) {
				uint64_t x = (uint64_t)rand() % (ts + 1), y = x + (uint64_t)rand() % 5000;
				if (bz_sched_split(&s, tid, x, y, out) == 0)
					assert_int_equal(out[0] + out[1] + out[2], y - x);
			}
		}
	}
	bz_sched_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preempted),
		cmocka_unit_test(test_stolen),
		cmocka_unit_test(test_blocked_io),
		cmocka_unit_test(test_woken_by_thread),
		cmocka_unit_test(test_inferred_before_first),
		cmocka_unit_test(test_wake_races_sleep),
		cmocka_unit_test(test_handoff_idle_worker),
		cmocka_unit_test(test_handoff_busy_worker),
		cmocka_unit_test(test_handoff_no_wake),
		cmocka_unit_test(test_span_tx_and_unknown),
		cmocka_unit_test(test_forget_and_cap),
		cmocka_unit_test(test_random_sums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
