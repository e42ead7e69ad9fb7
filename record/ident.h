/* ident.h - who a target is, when /proc may already be gone.
 *
 * A target's identity (exe, comm, command line, OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES) goes into the capture's PROC block when it
 * becomes a target.  /proc is read then, but user space learns of a new
 * target up to a poll interval after the fact, and a client such as curl
 * may have exited by then.  So the kernel reports what it knows at the
 * moment itself (an exec or adoption event: bz_ev_proc_exec), a forked
 * child is its parent until it execs, and /proc fills in what it can. */
#ifndef BEYLA_RECORD_IDENT_H
#define BEYLA_RECORD_IDENT_H

#include <stddef.h>
#include "bpf/beyla_events.h"
#include "record/procinfo.h"

/* Fills pi from an EXEC or ADOPT record of `size` bytes (older, shorter
 * records lack the OTEL_* fields: they stay empty). */
void ident_from_event(const struct bz_ev_proc_exec *ev, size_t size, struct procinfo *pi);
/* Reads pid from /proc into pi; every part /proc did not give (all of it
 * when the process is gone; the exe link of a zombie; an environment it
 * could not read) is taken from `known` when not NULL.  Returns 0 when
 * /proc was read, 1 when pi holds `known` alone (the process is gone),
 * -ESRCH when it is gone and nothing was known. */
int ident_read(pid_t pid, const struct procinfo *known, struct procinfo *pi);

#endif
