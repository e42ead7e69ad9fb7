/* hostinfo.h - facts about the recording machine: privilege checks before
 * recording, and the HEADER block that makes a capture self-describing. */
#ifndef BEYLA_RECORD_HOSTINFO_H
#define BEYLA_RECORD_HOSTINFO_H

#include <stdint.h>
#include "record/capture_writer.h"
#include "record/options.h"

/* Root or CAP_BPF+CAP_PERFMON, BTF, tracefs (mounted if missing).  Prints
 * one line saying what is missing and what to do; returns 0 or -errno. */
int hostinfo_check_privileges(void (*say)(const char *fmt, ...));
/* Under sudo, gives the file to the user who ran sudo. */
void hostinfo_chown_to_invoker(int fd);
/* The HEADER block body: magic, version, host, options, clock pair. */
struct bz_redact;
/* The capture's header; beyla's own command line in it masked by redact
 * (its `-- CMD args` may carry credentials; NULL: --no-redact). */
void hostinfo_encode_header(struct bz_buf *b, const struct record_opts *o, uint64_t start_ns,
			    struct bz_redact *redact);

#endif
