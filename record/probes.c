/* probes.c - attach the recorder's BPF programs from a table.
 *
 * Each row names a program of the skeleton, the tracepoint it needs, and
 * whether recording can go on without it.  A tracepoint this kernel does not
 * have is detected before load (its program is not loaded, so CO-RE never
 * sees its context type); a refusal at attach time is reported by name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "beyla.skel.h"
#include "bpf/beyla_events.h"
#include "record/capture_format.h"
#include "record/probes.h"

struct probe_def {
	const char *prog;       /* program name in beyla.bpf.c */
	const char *tracepoint; /* "category/name" under tracefs events/, or NULL (raw tp) */
	const char *name;
	bool required;
	const char *purpose;
	unsigned only;      /* PROBES_ONLY_*: loaded only when asked for, else 0 */
};

static const struct probe_def probe_table[] = {
	{ "bz_recv", "sock/sock_recv_length", "raw:sock_recv_length", true, "socket reads", 0 },
	{ "bz_send", "sock/sock_send_length", "raw:sock_send_length", true, "socket writes", 0 },
	{ "bz_state", "sock/inet_sock_set_state", "raw:inet_sock_set_state", true,
	  "handshake and close times", 0 },
	{ "bz_fork", NULL, "raw:sched_process_fork", true, "following forked children", 0 },
	{ "bz_exit", "sched/sched_process_exit", "sched:sched_process_exit", true, "process exits", 0 },
	{ "bz_exec", "sched/sched_process_exec", "sched:sched_process_exec", false,
	  "exec events and --exe matching of new processes", 0 },
	{ "bz_data_ready", "sock/sk_data_ready", "raw:sk_data_ready", false,
	  "receive-queue wait (when request bytes arrived)", 0 },
	{ "bz_accept_enter", "syscalls/sys_enter_accept", "syscalls:sys_enter_accept", false, "accept start times", 0 },
	{ "bz_accept_exit", "syscalls/sys_exit_accept", "syscalls:sys_exit_accept", false, "accepted connections (accept)", 0 },
	{ "bz_accept4_enter", "syscalls/sys_enter_accept4", "syscalls:sys_enter_accept4", false, "accept start times", 0 },
	{ "bz_accept4_exit", "syscalls/sys_exit_accept4", "syscalls:sys_exit_accept4", false, "accepted connections (accept4)", 0 },
	{ "bz_connect_enter", "syscalls/sys_enter_connect", "syscalls:sys_enter_connect", false, "outgoing connections", 0 },
	{ "bz_connect_exit", "syscalls/sys_exit_connect", "syscalls:sys_exit_connect", false, "outgoing connections", 0 },
	{ "bz_close_enter", "syscalls/sys_enter_close", "syscalls:sys_enter_close", false,
	  "closes of UNIX sockets", 0 },
	{ "bz_listen_enter", "syscalls/sys_enter_listen", "syscalls:sys_enter_listen", false,
	  "UNIX listeners: accept-queue times", 0 },
	{ "bz_enter_read", "syscalls/sys_enter_read", "syscalls:sys_enter_read", false, "start times of read()", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_recvfrom", "syscalls/sys_enter_recvfrom", "syscalls:sys_enter_recvfrom", false, "start times of recv/recvfrom", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_readv", "syscalls/sys_enter_readv", "syscalls:sys_enter_readv", false, "start times of readv", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_recvmsg", "syscalls/sys_enter_recvmsg", "syscalls:sys_enter_recvmsg", false, "start times of recvmsg", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_write", "syscalls/sys_enter_write", "syscalls:sys_enter_write", false, "start times of write()", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_sendto", "syscalls/sys_enter_sendto", "syscalls:sys_enter_sendto", false, "start times of send/sendto", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_writev", "syscalls/sys_enter_writev", "syscalls:sys_enter_writev", false, "start times of writev", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_sendmsg", "syscalls/sys_enter_sendmsg", "syscalls:sys_enter_sendmsg", false, "start times of sendmsg", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_sendfile64", "syscalls/sys_enter_sendfile64", "syscalls:sys_enter_sendfile64", false, "sendfile start times", PROBES_ONLY_SYSCALL_START },
	{ "bz_enter_mmap", "syscalls/sys_enter_mmap", "syscalls:sys_enter_mmap", false,
	  "OpenSSL probes for a TLS library a target loads later (dlopen)", PROBES_ONLY_SSL },
	{ "bz_sched_switch", "sched/sched_switch", "raw:sched_switch", false,
	  "--sched: when target threads leave and take a CPU", PROBES_ONLY_SCHED },
	{ "bz_sched_waking", "sched/sched_waking", "raw:sched_waking", false,
	  "--sched: who woke target threads, and when", PROBES_ONLY_SCHED },
};
#define NPROBES ((int)(sizeof(probe_table) / sizeof(probe_table[0])))

static const char *const counter_names[BZ_P_MAX] = {
	[BZ_P_EXEC] = "exec", [BZ_P_FORK] = "fork", [BZ_P_EXIT] = "exit",
	[BZ_P_ACCEPT] = "accept", [BZ_P_CONNECT] = "connect", [BZ_P_STATE] = "tcp_state",
	[BZ_P_DATA_READY] = "data_ready", [BZ_P_RECV] = "recv", [BZ_P_SEND] = "send",
	[BZ_P_SYSENTER] = "sys_enter", [BZ_P_GO_HANDLER] = "go_handler", [BZ_P_GO_TLS] = "go_tls",
	[BZ_P_GO_CLIENT] = "go_client", [BZ_P_GO_SPAWN] = "go_spawn", [BZ_P_ADOPT] = "adopt",
	[BZ_P_SSL] = "ssl", [BZ_P_UNIX_CLOSE] = "unix_close", [BZ_P_UNIX_OTHER] = "unix_nonstream",
	[BZ_P_RX_ARRIVAL] = "rx_arrival", [BZ_P_PEER_RX] = "peer_rx",
	[BZ_P_SCHED_SWITCH] = "sched_switch", [BZ_P_SCHED_WAKEUP] = "sched_wakeup",
};

int probes_count(void) { return NPROBES; }

const char *probe_counter_name(int id)
{
	return id >= 0 && id < BZ_P_MAX && counter_names[id] ? counter_names[id] : "?";
}

static bool tracepoint_exists(const char *tp)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/id", tp);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/id", tp);
	return access(path, F_OK) == 0;
}

int probes_prepare(struct beyla_bpf *skel, struct probe_result *res, unsigned wanted, char *err,
		   size_t errlen)
{
	for (int i = 0; i < NPROBES; i++) {
		const struct probe_def *d = &probe_table[i];
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, d->prog);

		memset(&res[i], 0, sizeof(res[i]));
		res[i].name = d->name;
		res[i].purpose = d->purpose;
		res[i].required = d->required;
		res[i].status = BZ_PROBE_ATTACHED;
		if (!p) {
			snprintf(err, errlen, "internal error: no BPF program %s", d->prog);
			return -ENOENT;
		}
		if (d->only && !(d->only & wanted)) {
			res[i].status = BZ_PROBE_SKIPPED;
			snprintf(res[i].detail, sizeof(res[i].detail), "%s",
				 d->only == PROBES_ONLY_SSL ? "not requested (--no-openssl)"
				 : d->only == PROBES_ONLY_SCHED ? "not requested (--sched)"
								: "not requested (--syscall-start)");
			bpf_program__set_autoload(p, false);
			continue;
		}
		if (d->tracepoint && !tracepoint_exists(d->tracepoint)) {
			if (d->required) {
				snprintf(err, errlen,
					 "this kernel has no tracepoint %s, which beyla needs for %s",
					 d->name, d->purpose);
				return -ENOENT;
			}
			res[i].status = BZ_PROBE_SKIPPED;
			snprintf(res[i].detail, sizeof(res[i].detail), "tracepoint not in this kernel");
			bpf_program__set_autoload(p, false);
		}
	}
	return 0;
}

int probes_attach(struct beyla_bpf *skel, struct probe_result *res, char *err, size_t errlen)
{
	for (int i = 0; i < NPROBES; i++) {
		const struct probe_def *d = &probe_table[i];
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, d->prog);
		struct bpf_link *l;

		if (res[i].status == BZ_PROBE_SKIPPED)
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			int e = errno;
			res[i].status = BZ_PROBE_REFUSED;
			snprintf(res[i].detail, sizeof(res[i].detail), "attach failed: %s", strerror(e));
			if (d->required) {
				snprintf(err, errlen, "could not attach required probe %s (%s): %s",
					 d->name, d->purpose, strerror(e));
				return -e;
			}
			continue;
		}
		res[i].link = l;
	}
	return 0;
}

void probes_detach(struct probe_result *res)
{
	for (int i = 0; i < NPROBES; i++) {
		bpf_link__destroy(res[i].link);
		res[i].link = NULL;
	}
}

void probes_encode(const struct probe_result *res, struct bz_buf *b)
{
	for (int i = 0; i < NPROBES; i++) {
		struct bz_buf v = { 0 };
		uint8_t st[4] = { (uint8_t)res[i].status, res[i].required, 0, 0 };

		bz_buf_put(&v, st, 4);
		bz_buf_put(&v, res[i].name, strlen(res[i].name) + 1);
		if (res[i].detail[0])
			bz_buf_put(&v, res[i].detail, strlen(res[i].detail));
		else if (res[i].status == BZ_PROBE_ATTACHED)
			bz_buf_put(&v, res[i].purpose, strlen(res[i].purpose));
		bz_buf_opt(b, BZ_PO_PROBE, v.data, (uint32_t)v.len);
		bz_buf_free(&v);
	}
}
