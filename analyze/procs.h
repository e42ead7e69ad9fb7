/* procs.h - the analyzer's table of target processes: what each pid runs
 * and which service it is.  Fed by PROC blocks and EXEC / FORK / EXIT
 * events; entries live from first sight to exit, so memory follows the live
 * processes.
 *
 * service.name: OTEL_SERVICE_NAME from the process environment when the
 * recorder found it, else the executable's basename, else comm, else
 * "unknown_service".  A forked child inherits its parent's entry.  An exec
 * keeps an OTEL_SERVICE_NAME already known (the environment normally
 * survives exec) until a PROC block written after the exec says otherwise.
 */
#ifndef BEYLA_PROCS_H
#define BEYLA_PROCS_H

#include <stdint.h>

#include "session.h"
#include "u64map.h"

struct bz_proc {
	uint32_t pid, ppid;
	uint32_t flags;          /* enum bz_proc_flag */
	uint32_t forked_from;    /* 0 unless forked during recording */
	uint64_t first_seen_ns;  /* monotonic */
	uint64_t exit_ns;        /* monotonic, 0 while running */
	int32_t exit_code;
	int exited;
	char exe[BZ_META_STR];
	char comm[32];
	char cmdline[BZ_META_STR];
	char env_service[128];   /* OTEL_SERVICE_NAME, "" if unknown */
	char resource_attrs[BZ_META_STR];
	char service[128];       /* the resolved service.name */
	struct bz_tls_libs tls;  /* its TLS libraries, as its latest PROC block said */
};

struct bz_procs {
	struct bz_u64map map;
};

/* The entry of pid, or NULL. */
struct bz_proc *bz_procs_find(struct bz_procs *t, uint32_t pid);
/* The entry of pid, created (as "unknown_service") if needed; NULL on ENOMEM. */
struct bz_proc *bz_procs_touch(struct bz_procs *t, uint32_t pid, uint64_t ts);
/* Applies a PROC block. NULL on ENOMEM. */
struct bz_proc *bz_procs_meta(struct bz_procs *t, const struct bz_proc_meta *m);
struct bz_proc *bz_procs_exec(struct bz_procs *t, const struct bz_ev_proc_exec *e);
struct bz_proc *bz_procs_fork(struct bz_procs *t, const struct bz_ev_proc_fork *e);
/* Marks pid exited and returns it, or NULL if unknown. */
struct bz_proc *bz_procs_exit(struct bz_procs *t, const struct bz_ev_proc_exit *e);
/* Removes pid's entry and returns it; the caller frees it with free(). */
struct bz_proc *bz_procs_take(struct bz_procs *t, uint32_t pid);
/* Frees every entry and the table. */
void bz_procs_free(struct bz_procs *t);

#endif
