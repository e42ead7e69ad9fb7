/* switch_cost.c - what one context switch costs, in ns: two processes
 * pass a byte back and forth through two pipes (each pass is a wake-up
 * and a switch on each side: to the woken process, and from the one that
 * now waits), best of five runs of 20000 round trips, printed as ns per
 * pass.  With an argument, both are pinned to that CPU (a busy machine
 * then starves them: not for a shared one).  `make bench` runs it without a recorder
 * and beside `beyla record --sched` of another process: sched_switch and
 * sched_waking hooks run for every task of the machine, targets or not. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRIPS 20000
#define RUNS 5

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	int ab[2], ba[2];
	double best = 0;
	cpu_set_t one;
	pid_t child;
	char c = 0;

	CPU_ZERO(&one);
	if (argc > 1)
		CPU_SET(atoi(argv[1]), &one);
	if ((argc > 1 && sched_setaffinity(0, sizeof(one), &one)) || pipe(ab) || pipe(ba)) {
		perror("switch_cost: setup");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("switch_cost: fork");
		return 1;
	}
	if (child == 0) {
		/* echo every byte back until the pipe closes (its own copies of
		 * the parent's ends closed, or the read would never see EOF) */
		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1)
			if (write(ba[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns(), ns;
		for (int i = 0; i < TRIPS; i++)
			if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1) {
				perror("switch_cost: pipe");
				kill(child, SIGKILL);
				return 1;
			}
		ns = (now_ns() - t0) / (2.0 * TRIPS);
		if (!r || ns < best)
			best = ns;
	}
	close(ab[1]);
	waitpid(child, NULL, 0);
	printf("%.0f\n", best);
	return 0;
}
