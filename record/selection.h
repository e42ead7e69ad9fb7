/* selection.h - what the user asked `beyla record` to record: every -p,
 * --port, --exe and -- CMD together, the targets being the union of what
 * each selects.  Compiles the --exe regexes once and answers "does this
 * process match?" for the recorder, from /proc or from what the kernel
 * reported at an exec. */
#ifndef BEYLA_RECORD_SELECTION_H
#define BEYLA_RECORD_SELECTION_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include "record/options.h"
#include "record/procinfo.h"

struct selection {
	regex_t re[BZ_MAX_EXES];
	int nre;
};

/* Compiles o's --exe regexes.  0, or -EINVAL with the reason (naming the
 * regex) in err. */
int selection_compile(struct selection *s, const struct record_opts *o, char *err, size_t errlen);
void selection_free(struct selection *s);
/* Does the process match any --exe regex (procinfo_matches' rules)? */
int selection_matches(const struct selection *s, const struct procinfo *pi);
/* Can a process the recorder has not met become a target: one that calls
 * a --port or --unix path, execs a --exe match, or is the -- CMD?  (With
 * -p alone the targets are those pids and their children.) */
bool selection_adopts_strangers(const struct record_opts *o);
/* "pid 12, port 8080, port 5432, exe /^curl$/, command python3": the
 * human description stored in the capture header. */
void selection_describe(const struct record_opts *o, char *buf, size_t len);

#endif
