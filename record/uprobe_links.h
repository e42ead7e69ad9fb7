/* uprobe_links.h - what the uprobe attachers share (goprobes.c,
 * sslprobes.c): the links placed in one file, and the probe report value
 * each writes per function. */
#ifndef BEYLA_RECORD_UPROBE_LINKS_H
#define BEYLA_RECORD_UPROBE_LINKS_H

#include <stdint.h>
#include "record/capture_writer.h"

struct bpf_link;

struct bz_links {
	struct bpf_link **v;
	int n;
};

/* Keeps l (the set owns it from now on).  -ENOMEM: l was destroyed. */
int bz_links_add(struct bz_links *s, struct bpf_link *l);
/* Destroys the links after the first n (a table row that failed half way). */
void bz_links_truncate(struct bz_links *s, int n);
/* Destroys them all and frees the set's memory. */
void bz_links_free(struct bz_links *s);

/* One probe report option of code: status, required (0), two reserved
 * bytes, name NUL, detail (laid out like the PROBES block's values). */
void bz_probe_opt(struct bz_buf *b, uint16_t code, int status, const char *name, const char *detail);

#endif
