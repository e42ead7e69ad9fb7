/* table.c - the protocols the analyzer knows, in the order their detectors
 * are asked (proto.h).  A new protocol is one parser file and one row here,
 * before the fallback. */
#include <stddef.h>
#include "http1.h"
#include "http2.h"
#include "mysql.h"
#include "pgsql.h"
#include "proto.h"
#include "redis.h"

const struct bz_proto_ops *const bz_protocols[] = {
	&bz_proto_http2,
	&bz_proto_pgsql,
	&bz_proto_mysql,
	&bz_proto_redis,
	&bz_proto_http1, /* the fallback: takes what no detector claims */
	NULL,
};

const struct bz_proto_ops *bz_proto_pick(const uint8_t *const p[2], const size_t n[2], int fresh, int *undecided)
{
	const struct bz_proto_ops *last = NULL;
	int maybe = 0;

	for (size_t i = 0; bz_protocols[i]; i++) {
		last = bz_protocols[i];
		if (!last->detect)
			continue;
		for (int d = 0; d < 2; d++) {
			int v = n[d] ? last->detect(p[d], n[d], d, fresh) : BZ_PROTO_NO;
			if (v == BZ_PROTO_YES)
				goto out;
			maybe |= v == BZ_PROTO_MAYBE;
		}
	}
out:
	if (undecided)
		*undecided = maybe;
	return last;
}
