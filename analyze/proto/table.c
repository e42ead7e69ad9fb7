/* table.c - the protocols the analyzer knows, in the order their detectors
 * are asked (proto.h).  A new protocol is one parser file and one row here,
 * before the fallback. */
#include <stddef.h>
#include "http1.h"
#include "http2.h"
#include "proto.h"

const struct bz_proto_ops *const bz_protocols[] = {
	&bz_proto_http2,
	&bz_proto_http1, /* the fallback: takes what no detector claims */
	NULL,
};

const struct bz_proto_ops *bz_proto_pick(const uint8_t *p, size_t n, int dir, int fresh)
{
	const struct bz_proto_ops *last = NULL;

	for (size_t i = 0; bz_protocols[i]; i++) {
		last = bz_protocols[i];
		if (last->detect && n && last->detect(p, n, dir, fresh) == BZ_PROTO_YES)
			return last;
	}
	return last;
}
