/* targets.h - finding the processes to record: given pids, processes whose
 * executable matches a regex, processes with a socket on a port, and a
 * command launched by the recorder. */
#ifndef BEYLA_RECORD_TARGETS_H
#define BEYLA_RECORD_TARGETS_H

#include <sys/types.h>

struct selection;
/* Calls fn(pid, ctx) for every running process (not the recorder itself)
 * that matches one of the selection's --exe regexes. Returns how many matched. */
int targets_scan_exe(const struct selection *sel, void (*fn)(pid_t, void *), void *ctx);
/* Calls fn for every process holding a TCP socket whose local or remote
 * port is `port`. Returns how many matched. */
int targets_scan_port(int port, void (*fn)(pid_t, void *), void *ctx);

/* A command launched in two steps, so it can be made a target before it
 * runs a single instruction of its own. */
struct launch {
	pid_t pid;
	int go_fd;  /* write end: one byte lets the child exec */
	int err_fd; /* read end: errno of a failed exec, EOF on success */
};
/* Forks; the child waits for launch_go(). Returns 0 or -errno. */
int launch_prepare(struct launch *l, char **argv);
/* Lets the child exec and waits for the outcome: 0 when the exec
 * succeeded, or the child's exec errno (negative) when it failed. */
int launch_go(struct launch *l);

#endif
