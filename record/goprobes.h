/* goprobes.h - Go uprobes, per Go executable among the targets.
 *
 * Each new target process is shown to go_probes_consider(); the first time
 * an executable (by device and inode) turns out to be a Go binary, it is
 * inspected (record/goelf.c), given a slot in the BPF go_offsets map, and
 * the Go probes are attached to it from a table, each one optional: a
 * missing function or struct offset skips that probe, by name and reason.
 * The result is a GO_BINARY block for the capture. */
#ifndef BEYLA_RECORD_GOPROBES_H
#define BEYLA_RECORD_GOPROBES_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "record/capture_writer.h"

struct beyla_bpf;
struct go_probes;

/* mode: enum bz_go_mode (capture_format.h); BZ_GO_MODE_OFF (--no-go):
 * go_probes_consider never attaches anything. */
int go_probes_new(struct go_probes **out, struct beyla_bpf *skel, int mode);
/* Before load: the Go programs are not loaded (the recorder retries
 * without them when the kernel refuses them). */
void go_probes_leave_out(struct beyla_bpf *skel);
/* Looks at pid's executable.  Returns 1 and fills block (a GO_BINARY body)
 * when it is a Go binary seen for the first time, 0 when there is nothing
 * new to write, <0 on an internal error.  warn: where to say what was
 * skipped (NULL: quiet). */
int go_probes_consider(struct go_probes *gp, pid_t pid, struct bz_buf *block, FILE *warn);
/* Whether Go probes are placed in this recording (false with --no-go, or
 * when the kernel refused the Go programs); accepts NULL (false). */
bool go_probes_enabled(const struct go_probes *gp);
/* The mode probes are placed in (BZ_GO_MODE_OFF when not enabled; NULL too). */
int go_probes_mode(const struct go_probes *gp);
/* Go binaries probed so far, and uprobe links attached. */
int go_probes_binaries(const struct go_probes *gp);
int go_probes_links(const struct go_probes *gp);
/* Detaches everything and frees; accepts NULL. */
void go_probes_free(struct go_probes *gp);

#endif
