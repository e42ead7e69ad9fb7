/* sched.bpf.h - `beyla record --sched`: target threads on and off CPU.
 * Included once, by beyla.bpf.c.
 *
 * Two raw tracepoints of the scheduler: sched_switch (a CPU changes task)
 * and sched_waking (a task is being made runnable).  Both fire for every
 * task of the machine, so each looks at two (one) tgids in the target
 * bitmap and returns unless a target's thread is involved; only then is a
 * 40-byte (wake-up) or 56-byte (switch) event built, handed to the ring
 * without a wake-up.
 *
 * Why sched_waking and not sched_wakeup: sched_waking runs in the waker's
 * context always, so current is the waker (the thread that handed a
 * request to a worker); sched_wakeup may run later on the wakee's CPU from
 * the scheduler's IPI (queued wake-ups), where current is any task.
 * Raw tracepoints, not tracepoint/sched/...: no copy of the trace record
 * is built for us (the args are the kernel's own pointers).
 *
 * The programs are only loaded with --sched (record/probes.c,
 * PROBES_ONLY_SCHED): without it the scheduler's hooks cost nothing. */
#ifndef BEYLA_SCHED_BPF_H
#define BEYLA_SCHED_BPF_H

/* trace_sched_switch(preempt, prev, next, prev_state) */
SEC("raw_tracepoint/sched_switch")
int bz_sched_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *prev = (struct task_struct *)ctx->args[1];
	struct task_struct *next = (struct task_struct *)ctx->args[2];
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid);
	__u32 next_tgid = BPF_CORE_READ(next, tgid);
	__u8 targets = (is_target(prev_tgid) ? BZ_SCHED_PREV_TARGET : 0) |
		       (is_target(next_tgid) ? BZ_SCHED_NEXT_TARGET : 0);
	struct bz_ev_sched_switch ev;

	if (!targets)
		return 0;
	fill_hdr(&ev.h, BZ_EV_SCHED_SWITCH, sizeof(ev),
		 (__u64)prev_tgid << 32 | (__u32)BPF_CORE_READ(prev, pid));
	ev.next_pid = next_tgid;
	ev.next_tid = BPF_CORE_READ(next, pid);
	ev.prev_state = (__u32)ctx->args[3];
	ev.preempt = ctx->args[0] ? 1 : 0;
	ev.targets = targets;
	ev.cpu = (__u16)bpf_get_smp_processor_id();
	ev.prev_cpu_ns = (targets & BZ_SCHED_PREV_TARGET) ? BPF_CORE_READ(prev, se.sum_exec_runtime) : 0;
	ev.next_cpu_ns = (targets & BZ_SCHED_NEXT_TARGET) ? BPF_CORE_READ(next, se.sum_exec_runtime) : 0;
	emit(BZ_P_SCHED_SWITCH, &ev, sizeof(ev));
	return 0;
}

/* trace_sched_waking(p): current is the waker */
SEC("raw_tracepoint/sched_waking")
int bz_sched_waking(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx->args[0];
	__u32 tgid = BPF_CORE_READ(p, tgid);
	struct bz_ev_sched_wakeup ev;

	if (!is_target(tgid))
		return 0;
	fill_hdr(&ev.h, BZ_EV_SCHED_WAKEUP, sizeof(ev), bpf_get_current_pid_tgid());
	ev.wakee_pid = tgid;
	ev.wakee_tid = BPF_CORE_READ(p, pid);
	ev.target_cpu = (__u16)BPF_CORE_READ(p, wake_cpu);
	ev.waker_cpu = (__u16)bpf_get_smp_processor_id();
	ev._pad = 0;
	emit(BZ_P_SCHED_WAKEUP, &ev, sizeof(ev));
	return 0;
}

#endif
