/* unix_addr.c - a UNIX socket's address as text (unix_addr.h). */
#include <stdio.h>

#include "unix_addr.h"
#include "bpf/beyla_events.h"

size_t bz_unix_path_text(const char *path, size_t len, char *out, size_t cap)
{
	size_t o = 0, i = 0;
	int abstract;

	if (!cap)
		return 0;
	if (len > BZ_UNIX_PATH_MAX)
		len = BZ_UNIX_PATH_MAX;
	abstract = len > 0 && path[0] == 0;
	if (abstract && cap > 1) {
		out[o++] = '@';
		i = 1;
	}
	for (; i < len; i++) {
		unsigned char ch = (unsigned char)path[i];

		/* a pathname's NUL ends it; an abstract name's bytes are all its own */
		if (!ch && !abstract)
			break;
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)ch;
		} else {
			if (o + 4 >= cap)
				break;
			snprintf(out + o, cap - o, "\\x%02x", ch);
			o += 4;
		}
	}
	out[o] = 0;
	return o;
}
