/* kwaits.c - the recorder's side of the kernel-wait records (kwaits.h). */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kwaits.h"

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kwaits_real_minus_mono(void)
{
	int64_t best = 0, best_gap = INT64_MAX;

	/* realtime between two monotonic reads; the tightest pair wins (a
	 * preemption between the reads widens one pair, not all five) */
	for (int i = 0; i < 5; i++) {
		int64_t m1 = clock_ns(CLOCK_MONOTONIC), real = clock_ns(CLOCK_REALTIME);
		int64_t m2 = clock_ns(CLOCK_MONOTONIC);
		if (m2 - m1 < best_gap) {
			best_gap = m2 - m1;
			best = real - (m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

int kwaits_timestamps_on(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one))) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int kwaits_prequeue(void)
{
	FILE *f = fopen("/proc/sys/net/core/netdev_tstamp_prequeue", "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}
