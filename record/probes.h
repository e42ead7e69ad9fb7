/* probes.h - the table of BPF programs the recorder attaches, each
 * required or optional, and the report of what happened to each. */
#ifndef BEYLA_RECORD_PROBES_H
#define BEYLA_RECORD_PROBES_H

#include <stdbool.h>
#include "record/capture_writer.h"

struct beyla_bpf;
struct bpf_link;

struct probe_result {
	const char *name;      /* human name, e.g. "sock:sock_recv_length" */
	const char *purpose;   /* what is lost without it */
	bool required;
	int status;            /* enum bz_probe_status */
	char detail[160];      /* why refused or skipped */
	struct bpf_link *link;
};

/* Number of entries in the probe table. */
int probes_count(void);
/* Probes loaded only when asked for: a bit each in probes_prepare's wanted. */
#define PROBES_ONLY_SYSCALL_START 1u /* --syscall-start */
#define PROBES_ONLY_SSL 2u           /* the OpenSSL probes are on (no --no-openssl) */
#define PROBES_ONLY_SCHED 4u         /* --sched */
/* Before load: disables the programs whose tracepoints this kernel lacks
 * (reported as skipped), and those wanted does not ask for.  Returns
 * -ENOENT naming a missing required one. */
int probes_prepare(struct beyla_bpf *skel, struct probe_result *res, unsigned wanted,
		   char *err, size_t errlen);
/* After load: attaches one by one.  A refused optional probe is reported and
 * skipped; a refused required one fails with its name in err. */
int probes_attach(struct beyla_bpf *skel, struct probe_result *res, char *err, size_t errlen);
void probes_detach(struct probe_result *res);
/* Appends the PROBES block body. */
void probes_encode(const struct probe_result *res, struct bz_buf *b);
/* The counter names, indexed by enum bz_probe_id. */
const char *probe_counter_name(int id);

#endif
