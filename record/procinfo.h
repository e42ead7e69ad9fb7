/* procinfo.h - what /proc says about a process, read once by the recorder
 * and stored in the capture as a PROC block, so analysis never needs the
 * machine it was recorded on. */
#ifndef BEYLA_RECORD_PROCINFO_H
#define BEYLA_RECORD_PROCINFO_H

#include <stdint.h>
#include <sys/types.h>
#include "record/capture_writer.h"

struct procinfo {
	pid_t pid, ppid;
	char exe[4096];
	char comm[32];
	char cmdline[4096]; /* NUL-separated argv */
	size_t cmdline_len;
	char service_name[256];   /* OTEL_SERVICE_NAME, "" if unset */
	char resource_attrs[1024];/* OTEL_RESOURCE_ATTRIBUTES, "" if unset */
};

/* Reads /proc/PID.  Returns 0, -ESRCH if the process is gone, or another
 * negative errno. Missing parts (exe of a kernel thread, environ of a
 * process we may not read) are left empty. */
int procinfo_read(pid_t pid, struct procinfo *pi);
/* Appends a PROC block body for pi to b. */
void procinfo_encode(const struct procinfo *pi, uint64_t seen_ns, uint32_t flags, struct bz_buf *b);
/* Does the process match the regex on exe path, exe basename, comm, argv[0],
 * or, for a language runtime (python, node, ruby...), argv[1]: its script? */
int procinfo_matches(const struct procinfo *pi, const void *regex_t_ptr);

#endif
