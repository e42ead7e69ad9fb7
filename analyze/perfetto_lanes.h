/* perfetto_lanes.h - the lanes of one thread in the Perfetto export: each
 * request is drawn as a slice on a thread track, and slices on one track
 * must nest strictly, but requests of one thread overlap partially (HTTP/2
 * streams, pipelining, event loops).  So a thread gets as many tracks
 * ("lanes") as it has requests in flight at once: a request goes on the
 * lowest-numbered lane that is free when it starts, a new lane only when
 * every lane is busy.  Two slices on a lane never overlap (one may start
 * exactly where the other ends), and the number of lanes is the thread's
 * largest number of overlapping requests (interval partitioning: greedy in
 * start order is optimal). */
#ifndef BEYLA_PERFETTO_LANES_H
#define BEYLA_PERFETTO_LANES_H

#include <stdint.h>

struct bz_lanes {
	int64_t *busy_until; /* per lane: end of its last slice */
	uint32_t n, cap;     /* lanes made */
	uint32_t *busy, nbusy; /* min-heap of lanes by busy_until */
	uint32_t *free, nfree; /* min-heap of free lanes by number */
};

/* A zeroed struct has no lane.  Slices must be given in ascending start
 * order.  Takes a lane for [start, end): its number in *lane, *made = 1 if
 * it is a new one.  0, or -ENOMEM. */
int bz_lanes_take(struct bz_lanes *l, int64_t start, int64_t end, uint32_t *lane, int *made);
void bz_lanes_free(struct bz_lanes *l);

#endif
