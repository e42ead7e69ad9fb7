/* proc.bpf.h - process life of targets: exec, fork (children of targets
 * become targets), exit.  Included once, by beyla.bpf.c. */
#ifndef BEYLA_PROC_BPF_H
#define BEYLA_PROC_BPF_H

/* Room after the event in the per-CPU scratch buffer, for strings read on
 * the way (an environment entry, a path being built backwards). */
#define IDENT_TMP 2048
#define ENV_VARS_MAX 256  /* environment entries looked at */
#define PATH_DEPTH_MAX 24 /* directory levels of an executable's path */

/* (literals, not static arrays: libbpf places those in .rodata without an offset) */
#define OTEL_SERVICE_VAR "OTEL_SERVICE_NAME="
#define OTEL_ATTRS_VAR "OTEL_RESOURCE_ATTRIBUTES="

/* Does the string at t begin with the n bytes of pfx? */
static __always_inline int has_prefix(const char *t, const char *pfx, int n)
{
	for (int i = 0; i < n; i++)
		if (t[i] != pfx[i])
			return 0;
	return 1;
}

struct env_walk {
	__u64 p, end;
};

/* One entry of the environment (bpf_loop's body): the OTEL_* values go
 * into the event; the rest is only measured, to find the next entry. */
static long env_step(__u64 i, struct env_walk *w)
{
	struct bz_ev_proc_exec *ev = scratch_buf();
	char *t;
	long n;

	if (!ev || w->p >= w->end)
		return 1;
	t = (char *)ev + sizeof(*ev);
	n = bpf_probe_read_user_str(t, IDENT_TMP, (void *)w->p);
	if (n <= 0)
		return 1;
	/* n counts the NUL: a value follows the '=' only if n > sizeof(var) */
	if (n > (long)sizeof(OTEL_SERVICE_VAR) && has_prefix(t, "OTEL_", 5)) {
		if (has_prefix(t, OTEL_SERVICE_VAR, sizeof(OTEL_SERVICE_VAR) - 1)) {
			long l = bpf_probe_read_user_str(ev->otel_service, sizeof(ev->otel_service),
							 (void *)(w->p + sizeof(OTEL_SERVICE_VAR) - 1));
			ev->service_len = l > 0 ? l - 1 : 0;
		} else if (n > (long)sizeof(OTEL_ATTRS_VAR) &&
			   has_prefix(t, OTEL_ATTRS_VAR, sizeof(OTEL_ATTRS_VAR) - 1)) {
			long l = bpf_probe_read_user_str(ev->otel_attrs, sizeof(ev->otel_attrs),
							 (void *)(w->p + sizeof(OTEL_ATTRS_VAR) - 1));
			ev->attrs_len = l > 0 ? l - 1 : 0;
		}
	}
	w->p += n;
	return 0;
}

/* What the kernel knows of the current process beyond its filename: parent,
 * comm, argv and the OTEL_* variables, from its own memory (the current
 * task's: user memory of another task cannot be read here). */
static __always_inline void ident_fill(struct bz_ev_proc_exec *ev, struct task_struct *task)
{
	struct env_walk w;
	__u64 arg_start, arg_end, n;

	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	n = arg_end > arg_start ? arg_end - arg_start : 0;
	if (n > BZ_ARGS_MAX)
		n = BZ_ARGS_MAX;
	ev->args_len = 0;
	if (n && bpf_probe_read_user(ev->args, n & (BZ_ARGS_MAX - 1 | BZ_ARGS_MAX), (void *)arg_start) == 0)
		ev->args_len = n;
	ev->service_len = ev->attrs_len = 0;
	ev->otel_service[0] = ev->otel_attrs[0] = 0;
	w.p = BPF_CORE_READ(task, mm, env_start);
	w.end = BPF_CORE_READ(task, mm, env_end);
	if (cfg_have_loop && w.p < w.end)
		bpf_loop(ENV_VARS_MAX, env_step, &w, 0);
}

struct path_walk {
	struct dentry *d;
	struct mount *mnt;
	__u32 off; /* the path so far starts here in the scratch room */
};

/* One step up from w->d (bpf_loop's body): its name goes in front of the
 * path so far, or at the root of a mount, on to where it is mounted. */
static long path_step(__u64 i, struct path_walk *w)
{
	struct bz_ev_proc_exec *ev = scratch_buf();
	/* (locals: a CO-RE read must start from a kernel type, not from w) */
	struct dentry *d = w->d, *parent, *mroot;
	struct mount *mnt = w->mnt;
	char *t;
	__u32 len, off = w->off;

	if (!ev)
		return 1;
	t = (char *)ev + sizeof(*ev);
	parent = BPF_CORE_READ(d, d_parent);
	mroot = BPF_CORE_READ(mnt, mnt.mnt_root);
	if (d == mroot || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (!up || up == mnt)
			return 1; /* the root of everything */
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	len = BPF_CORE_READ(d, d_name.len);
	if (len == 0 || len + 1 > off)
		return 1; /* no room: the path keeps its last components */
	off -= len;
	bpf_probe_read_kernel(t + (off & (BZ_PATH_MAX - 1)), len & (BZ_PATH_MAX - 1),
			      BPF_CORE_READ(d, d_name.name));
	off--;
	t[off & (BZ_PATH_MAX - 1)] = '/';
	w->off = off;
	w->d = parent;
	return 0;
}

/* The path of the current process's executable from the kernel's dentries,
 * crossing mount points (within the process's own root), into ev->exe.
 * Built backwards, leaf first, in the scratch room after the event, then
 * copied.  A path too long keeps its last components. */
static __always_inline void exe_path(struct bz_ev_proc_exec *ev, struct task_struct *task)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct vfsmount *vm = BPF_CORE_READ(exe, f_path.mnt);
	struct path_walk w = {
		.d = BPF_CORE_READ(exe, f_path.dentry),
		.mnt = container_of(vm, struct mount, mnt),
		.off = BZ_PATH_MAX - 1,
	};
	char *t = (char *)ev + sizeof(*ev);
	__u32 off;

	ev->exe_len = 0;
	ev->exe[0] = 0;
	if (!exe || !cfg_have_loop)
		return;
	t[BZ_PATH_MAX - 1] = 0;
	bpf_loop(PATH_DEPTH_MAX, path_step, &w, 0);
	off = w.off & (BZ_PATH_MAX - 1);
	if (bpf_probe_read_kernel(ev->exe, (BZ_PATH_MAX - off) & (BZ_PATH_MAX - 1 | BZ_PATH_MAX),
				  t + off) == 0)
		ev->exe_len = BZ_PATH_MAX - 1 - off;
}

/* The current process just became a target by using a --port port:
 * report who it is while it is certainly alive.  Not inlined: it runs once
 * per adopted process, from hooks that run for every socket read. */
static __noinline int emit_adopt(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct bz_ev_proc_exec *ev = scratch_buf();

	if (!ev)
		return 0;
	fill_hdr(&ev->h, BZ_EV_PROC_ADOPT, sizeof(*ev), pid_tgid);
	ident_fill(ev, task);
	exe_path(ev, task);
	/* (no path was given to anything: the filename is the executable) */
	ev->filename_len = 0;
	if (bpf_probe_read_kernel(ev->filename, sizeof(ev->filename), ev->exe) == 0)
		ev->filename_len = ev->exe_len;
	emit(BZ_P_ADOPT, ev, sizeof(*ev));
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int bz_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct bz_ev_proc_exec *ev;
	struct task_struct *task;
	__u32 off;

	if (tgid == cfg_self_pid)
		return 0;
	if (cfg_all_execs) {
		/* --exe: a process that was no target is one from its first
		 * instruction (a tentative one) until user space, which reads this
		 * event before any other of the process, judges the new program.
		 * A target that execs stays one.  exec_ts tells user space that a
		 * newer exec than the one it judged has happened. */
		__u64 now = bpf_ktime_get_ns();
		bpf_map_update_elem(&exec_ts, &tgid, &now, BPF_ANY);
		if (!is_target(tgid)) {
			tentative_set(tgid);
			target_add(tgid);
		}
	} else if (!is_target(tgid)) {
		return 0;
	}
	ev = scratch_buf();
	if (!ev)
		return 0;
	fill_hdr(&ev->h, BZ_EV_PROC_EXEC, sizeof(*ev), pid_tgid);
	task = (struct task_struct *)bpf_get_current_task();
	off = ctx->__data_loc_filename & 0xFFFF;
	long fl = bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), (void *)ctx + off);
	ev->filename_len = fl > 0 ? fl - 1 : 0;
	/* The new image's argv and environment were just written by the
	 * kernel: they are resident. */
	ident_fill(ev, task);
	/* --exe: the resolved executable too, so that user space matches
	 * without reading /proc (which may be gone by then) */
	ev->exe_len = 0;
	ev->exe[0] = 0;
	if (cfg_all_execs)
		exe_path(ev, task);
	/* No wake-up (with --exe the recorder polls every 10 ms): forcing one
	 * tripled this hook's cost, ~6 of its ~9 us an exec here. */
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
	/* the child of a process not judged yet is judged with it */
	if (cfg_all_execs && is_tentative(ptgid))
		tentative_set(ctgid);
	fill_hdr(&ev.h, BZ_EV_PROC_FORK, sizeof(ev), bpf_get_current_pid_tgid());
	ev.child_pid = ctgid;
	emit(BZ_P_FORK, &ev, sizeof(ev));
	return 0;
}

/* A target's last thread is exiting: its UNIX sockets close with it (the
 * kernel closes its files without a close() call, and UNIX sockets have no
 * state tracepoint).  One CONN_CLOSE each, from a walk of socks. */
struct unix_exit_walk {
	__u32 tgid;
};

static long unix_exit_one(struct bpf_map *map, __u64 *key, struct sock_state *st, struct unix_exit_walk *w)
{
	struct bz_ev_conn_close ev = {};

	if (!(st->flags & SOCK_UNIX) || st->pid != w->tgid)
		return 0;
	fill_hdr(&ev.h, BZ_EV_CONN_CLOSE, sizeof(ev), (__u64)st->pid << 32);
	ev.conn_id = st->conn_id;
	ev.bytes_in = st->bytes_in;
	ev.bytes_out = st->bytes_out;
	emit(BZ_P_UNIX_CLOSE, &ev, sizeof(ev));
	bpf_map_delete_elem(map, key);
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
	/* (bpf_for_each_map_elem is older than bpf_loop, which cfg_have_loop
	 * found: on a kernel without it the verifier never sees the call) */
	if (cfg_have_loop && have_unix_socks) {
		struct unix_exit_walk w = { .tgid = tgid };
		bpf_for_each_map_elem(&socks, unix_exit_one, &w, 0);
	}
	fill_hdr(&ev.h, BZ_EV_PROC_EXIT, sizeof(ev), pid_tgid);
	ev.exit_code = BPF_CORE_READ(task, exit_code);
	emit(BZ_P_EXIT, &ev, sizeof(ev));
	target_del(tgid);
	if (cfg_all_execs) {
		/* (user space tells an exit from an adoption by this) */
		bpf_map_delete_elem(&exec_ts, &tgid);
		tentative_take(tgid);
	}
	return 0;
}

#endif
