/* ssl_call_cost.c - what one OpenSSL call costs a process, with and without
 * beyla's OpenSSL probes on its libssl (scripts/bench.sh, BENCH_ONLY=https).
 *
 *   ssl_call_cost N    prints "ns_per_call" of the best of 5 batches of N
 *                      SSL_read + SSL_write calls on an SSL object whose
 *                      handshake has not begun (each returns at once with an
 *                      error: the library does no work, so the time is the
 *                      call and whatever probes it enters)
 *
 * Run it as a target (`beyla record -- ssl_call_cost N`) and not, and the
 * difference is the probes' cost per call: the traps the kernel takes at
 * the entry and the return, and the BPF programs. */
#define _POSIX_C_SOURCE 200809L
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	SSL *s = ctx ? SSL_new(ctx) : NULL;
	char buf[64] = "x";
	double best = 0;

	if (!s || n <= 0) {
		fprintf(stderr, "usage: ssl_call_cost N (and a working libssl)\n");
		return 2;
	}
	for (int b = 0; b < 5; b++) {
		double t0 = now_ns();
		for (long i = 0; i < n; i++) {
			(void)SSL_read(s, buf, sizeof(buf));
			(void)SSL_write(s, buf, 1);
			ERR_clear_error();
		}
		double per = (now_ns() - t0) / (2.0 * (double)n);
		if (!b || per < best)
			best = per;
	}
	printf("%.0f\n", best);
	SSL_free(s);
	SSL_CTX_free(ctx);
	return 0;
}
