/* proc.bpf.h - process life of targets: exec, fork (children of targets
 * become targets), exit.  Included once, by beyla.bpf.c. */
#ifndef BEYLA_PROC_BPF_H
#define BEYLA_PROC_BPF_H

SEC("tracepoint/sched/sched_process_exec")
int bz_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct bz_ev_proc_exec *ev;
	struct task_struct *task;
	__u64 arg_start, arg_end, n;
	__u32 off;

	if (tgid == cfg_self_pid || (!cfg_all_execs && !is_target(tgid)))
		return 0;
	ev = scratch_buf();
	if (!ev)
		return 0;
	fill_hdr(&ev->h, BZ_EV_PROC_EXEC, sizeof(*ev), pid_tgid);
	task = (struct task_struct *)bpf_get_current_task();
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));

	off = ctx->__data_loc_filename & 0xFFFF;
	long fl = bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), (void *)ctx + off);
	ev->filename_len = fl > 0 ? fl - 1 : 0;

	/* The new image's argv was just written by the kernel: it is resident. */
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	n = arg_end > arg_start ? arg_end - arg_start : 0;
	if (n > BZ_ARGS_MAX)
		n = BZ_ARGS_MAX;
	ev->args_len = 0;
	if (n && bpf_probe_read_user(ev->args, n & (BZ_ARGS_MAX - 1 | BZ_ARGS_MAX), (void *)arg_start) == 0)
		ev->args_len = n;
	emit(BZ_P_EXEC, ev, sizeof(*ev));
	return 0;
}

/* A raw tracepoint, because it hands us the child task: only it tells a new
 * process (tgid == pid) from a new thread. */
SEC("raw_tracepoint/sched_process_fork")
int bz_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u32 cpid = BPF_CORE_READ(child, pid);
	struct bz_ev_proc_fork ev = {};

	if (ctgid != cpid || !is_target(ptgid))
		return 0;
	if (target_add(ctgid))
		count_missed(BZ_P_FORK);
	fill_hdr(&ev.h, BZ_EV_PROC_FORK, sizeof(ev), bpf_get_current_pid_tgid());
	ev.child_pid = ctgid;
	emit(BZ_P_FORK, &ev, sizeof(ev));
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int bz_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;
	struct task_struct *task;
	struct bz_ev_proc_exit ev = {};

	if (!is_target(tgid))
		return 0;
	bpf_map_delete_elem(&io_stash, &tid);
	bpf_map_delete_elem(&call_stash, &tid);
	/* signal->live was decremented before this tracepoint: 0 means the
	 * last thread of the process is going. */
	task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	fill_hdr(&ev.h, BZ_EV_PROC_EXIT, sizeof(ev), pid_tgid);
	ev.exit_code = BPF_CORE_READ(task, exit_code);
	emit(BZ_P_EXIT, &ev, sizeof(ev));
	target_del(tgid);
	return 0;
}

#endif
