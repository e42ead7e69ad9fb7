/* report_sched.h - the part of `beyla analyze`'s summary that captures
 * recorded with --sched have: where each server route's processing went
 * (on CPU, waiting for a CPU, blocked), and a note for every route whose
 * requests spent most of it waiting for a CPU. */
#ifndef BEYLA_REPORT_SCHED_H
#define BEYLA_REPORT_SCHED_H

#include <stdio.h>

struct sqlite3;

/* Prints nothing when no span has the split.  0 or -EIO (message on
 * stderr). */
int bz_report_sched(struct sqlite3 *h, FILE *out);

#endif
