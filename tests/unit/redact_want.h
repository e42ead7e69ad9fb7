/* redact_want.h - what a redacted payload should be, for the redaction
 * tests (test_redact.c, test_redact_echo.c).  Include after cmocka.h. */
#ifndef BEYLA_TESTS_REDACT_WANT_H
#define BEYLA_TESTS_REDACT_WANT_H

#include <stdlib.h>
#include <string.h>
#include "record/redact.h"

/* in with every occurrence of each secret (a NULL-ended list) replaced by
 * BZ_REDACT_FILL; malloc'd. */
static inline char *masked(const char *in, const char *const *secrets)
{
	char *w = strdup(in);
	assert_non_null(w);
	for (int i = 0; secrets[i]; i++)
		for (char *p = strstr(w, secrets[i]); p; p = strstr(p, secrets[i]))
			memset(p, BZ_REDACT_FILL, strlen(secrets[i]));
	return w;
}

#endif
