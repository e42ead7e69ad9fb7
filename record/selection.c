/* selection.c - the union of the user's -p, --port, --exe and -- CMD. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "record/selection.h"

int selection_compile(struct selection *s, const struct record_opts *o, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < o->nexes; i++) {
		int rc = regcomp(&s->re[i], o->exe_res[i], REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[128];
			regerror(rc, &s->re[i], msg, sizeof(msg));
			snprintf(err, errlen, "invalid --exe regex '%s': %s", o->exe_res[i], msg);
			selection_free(s);
			return -EINVAL;
		}
		s->nre = i + 1;
	}
	return 0;
}

void selection_free(struct selection *s)
{
	for (int i = 0; i < s->nre; i++)
		regfree(&s->re[i]);
	s->nre = 0;
}

int selection_matches(const struct selection *s, const struct procinfo *pi)
{
	for (int i = 0; i < s->nre; i++)
		if (procinfo_matches(pi, &s->re[i]))
			return 1;
	return 0;
}

/* Appends "what" to buf at *tl, comma-separated, while room is left. */
bool selection_adopts_strangers(const struct record_opts *o)
{
	return o->nports > 0 || o->nunix > 0 || o->nexes > 0 || o->cmd != NULL;
}

static void describe_add(char *buf, size_t len, size_t *tl, const char *what)
{
	int n;

	if (*tl + 1 >= len)
		return;
	n = snprintf(buf + *tl, len - *tl, "%s%s", *tl ? ", " : "", what);
	if (n > 0)
		*tl = *tl + (size_t)n < len ? *tl + (size_t)n : len - 1;
}

void selection_describe(const struct record_opts *o, char *buf, size_t len)
{
	char item[256];
	size_t tl = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int i = 0; i < o->npids; i++) {
		snprintf(item, sizeof(item), "pid %d", (int)o->pids[i]);
		describe_add(buf, len, &tl, item);
	}
	for (int i = 0; i < o->nports; i++) {
		snprintf(item, sizeof(item), "port %d", o->ports[i]);
		describe_add(buf, len, &tl, item);
	}
	for (int i = 0; i < o->nunix; i++) {
		snprintf(item, sizeof(item), "unix %.200s", o->unix_paths[i]);
		describe_add(buf, len, &tl, item);
	}
	for (int i = 0; i < o->nexes; i++) {
		snprintf(item, sizeof(item), "exe /%.200s/", o->exe_res[i]);
		describe_add(buf, len, &tl, item);
	}
	if (o->cmd) {
		snprintf(item, sizeof(item), "command %.200s", o->cmd[0]);
		describe_add(buf, len, &tl, item);
	}
}
