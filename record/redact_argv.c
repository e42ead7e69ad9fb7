/* redact_argv.c - credentials masked in command lines before they reach the
 * capture (redact.h, bz_redact_argv).
 *
 * A process's identity includes its argv, and argv carries secrets as often
 * as traffic does: `curl -H 'Authorization: Bearer ...'`, `--password=...`,
 * `-u user:pass`, URLs with tokens in their query or credentials in their
 * userinfo.  The same name rules as for headers and parameters decide
 * (bz_redact_header_class), so `--api-key`, `token=` and `X-Auth-Token:`
 * are one name. */
#include <string.h>

#include "record/redact.h"

/* An option's or assignment's name, dashes off: "--api-key" -> "api-key". */
static int name_class(struct bz_redact *r, const char *p, size_t n)
{
	while (n && *p == '-') {
		p++;
		n--;
	}
	return n ? bz_redact_header_class(r, p, n) : BZ_REDACT_HDR_OTHER;
}

static size_t fill(char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (p[i] != BZ_REDACT_FILL) {
			p[i] = BZ_REDACT_FILL;
			k++;
		}
	return k;
}

/* Options whose next argument is "user:password" (curl, wget and others). */
static int user_option(const char *a, size_t n)
{
	return (n == 2 && !memcmp(a, "-u", 2)) || (n == 6 && !memcmp(a, "--user", 6)) ||
	       (n == 12 && !memcmp(a, "--proxy-user", 12)) || (n == 2 && !memcmp(a, "-U", 2));
}

/* "scheme://user:password@host...": the password. */
static size_t userinfo(char *a, size_t n)
{
	char *s = memmem(a, n, "://", 3), *at, *colon, *end;

	if (!s)
		return 0;
	s += 3;
	end = a + n;
	for (char *q = s; q < end; q++)
		if (*q == '/' || *q == '?' || *q == '#') {
			end = q;
			break;
		}
	at = memrchr(s, '@', (size_t)(end - s));
	colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
	return colon ? fill(colon + 1, (size_t)(at - colon - 1)) : 0;
}

/* One argument a[0..n): what its own text says is secret. */
static size_t one_arg(struct bz_redact *r, char *a, size_t n, uint8_t *which)
{
	const char *eq = memchr(a, '=', n), *colon = memchr(a, ':', n);
	size_t k = 0;

	/* "Name: value", a header as curl and others take it */
	if (colon && (!eq || colon < eq) && colon > a && colon + 1 < a + n && colon[1] == ' ' &&
	    !memchr(a, ' ', (size_t)(colon - a)) &&
	    bz_redact_header_class(r, a, (size_t)(colon - a)) == BZ_REDACT_HDR_SECRET) {
		const char *v = colon + 1;
		while (v < a + n && *v == ' ')
			v++;
		return fill((char *)v, (size_t)(a + n - v));
	}
	/* "--name=value", "name=value" */
	if (eq && eq > a && !memchr(a, '/', (size_t)(eq - a)) && !memchr(a, '?', (size_t)(eq - a)) &&
	    name_class(r, a, (size_t)(eq - a)) == BZ_REDACT_HDR_SECRET)
		return fill((char *)eq + 1, (size_t)(a + n - eq - 1));
	/* a URL (or anything with a query): its secret parameters, its password */
	k += userinfo(a, n);
	if (n <= BZ_REDACT_URL_MAX && (memchr(a, '?', n) || memchr(a, '#', n) || memchr(a, ';', n))) {
		memset(which, 0, n);
		if (bz_redact_url_secrets(r, (const uint8_t *)a, n, which))
			for (size_t i = 0; i < n; i++)
				if (which[i] && a[i] != BZ_REDACT_FILL) {
					a[i] = BZ_REDACT_FILL;
					k++;
				}
	}
	return k;
}

size_t bz_redact_argv(struct bz_redact *r, char *args, size_t n)
{
	uint8_t which[BZ_REDACT_URL_MAX];
	size_t k = 0, i = 0;
	int next_secret = 0, next_user = 0;

	if (!r || !args)
		return 0;
	while (i < n) {
		char *a = args + i;
		size_t l = strnlen(a, n - i);

		if (next_secret && l && a[0] != '-') {
			k += fill(a, l);
		} else if (next_user && l) {
			char *c = memchr(a, ':', l);
			if (c)
				k += fill(c + 1, (size_t)(a + l - c - 1));
		} else {
			k += one_arg(r, a, l, which);
		}
		/* "--password VALUE": the option alone, its value next */
		next_secret = l > 1 && a[0] == '-' && !memchr(a, '=', l) &&
			      name_class(r, a, l) == BZ_REDACT_HDR_SECRET;
		next_user = user_option(a, l);
		i += l + 1;
	}
	return k;
}
