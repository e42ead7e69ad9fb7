/* exec_cost.c - what one exec costs a process, in microseconds: the best of
 * five batches of N fork + exec + exit + wait of /bin/true.  `make bench`
 * runs it without a recorder, under one that records something else (the
 * exec tracepoint fires and returns at once for a process that is no
 * target), and under `--exe` matching nothing (every exec'ing process is a
 * tentative target until the recorder has judged its exec record: the
 * kernel reads its argv and environment, and the recorder runs the
 * regexes on it).
 *
 *   exec_cost [N]     N execs per batch (default 300)
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#define BATCHES 5

extern char **environ;

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	char *child[] = { "/bin/true", NULL };
	int n = argc > 1 ? atoi(argv[1]) : 300;
	double best = 0;

	if (n <= 0)
		return 2;
	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_us(), us;

		for (int i = 0; i < n; i++) {
			pid_t pid;
			int st;
			if (posix_spawn(&pid, child[0], NULL, NULL, child, environ) ||
			    waitpid(pid, &st, 0) != pid)
				return 1;
		}
		us = (now_us() - t0) / n;
		if (b == 0 || us < best)
			best = us;
	}
	printf("%.1f\n", best);
	return 0;
}
