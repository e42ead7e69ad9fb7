/* test_perfetto_lanes.c - the lanes of the Perfetto export
 * (analyze/perfetto_lanes.c): slices on a lane never overlap, a thread gets
 * as many lanes as it has slices in flight at once, and the lowest free
 * lane is taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/perfetto_lanes.h"

static void test_sequential(void **state)
{
	struct bz_lanes l = { 0 };
	uint32_t k;
	int made;

	/* one after the other (touching ends included): one lane */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(bz_lanes_take(&l, i * 10, i * 10 + 10, &k, &made), 0);
		assert_int_equal(k, 0);
		assert_int_equal(made, i == 0);
	}
	assert_int_equal(l.n, 1);
	bz_lanes_free(&l);
}

static void test_overlap(void **state)
{
	struct bz_lanes l = { 0 };
	uint32_t k;
	int made;

	assert_int_equal(bz_lanes_take(&l, 0, 100, &k, &made), 0);
	assert_int_equal(k, 0);
	assert_int_equal(bz_lanes_take(&l, 10, 20, &k, &made), 0); /* inside the first: still a lane of its own */
	assert_int_equal(k, 1);
	assert_int_equal(bz_lanes_take(&l, 15, 50, &k, &made), 0);
	assert_int_equal(k, 2);
	assert_int_equal(bz_lanes_take(&l, 30, 40, &k, &made), 0); /* lane 1 free since 20 */
	assert_int_equal(k, 1);
	assert_int_equal(made, 0);
	assert_int_equal(bz_lanes_take(&l, 100, 110, &k, &made), 0); /* all free: the lowest */
	assert_int_equal(k, 0);
	assert_int_equal(l.n, 3);
	bz_lanes_free(&l);
}

/* Random intervals in start order: no two on a lane overlap, and the lanes
 * are as many as the most intervals in flight at one instant. */
static void test_random(void **state)
{
	enum { N = 20000 };
	struct bz_lanes l = { 0 };
	int64_t *start = malloc(N * sizeof(*start)), *end = malloc(N * sizeof(*end)), *last = calloc(N, sizeof(*last));
	uint32_t k;
	int made, most = 0;

	assert_non_null(start);
	assert_non_null(end);
	assert_non_null(last);
	srand(7);
	for (int i = 0; i < N; i++) {
		start[i] = (i ? start[i - 1] : 0) + rand() % 5;
		end[i] = start[i] + rand() % 200; /* zero-length ones too */
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(bz_lanes_take(&l, start[i], end[i], &k, &made), 0);
		assert_true(k < N);
		if (last[k] > start[i])
			fail_msg("interval %d [%lld, %lld) on lane %u overlaps one ending at %lld", i, (long long)start[i],
				 (long long)end[i], k, (long long)last[k]);
		last[k] = end[i];
		/* in flight at start[i]: intervals begun by then and not ended */
		int open = 0;
		for (int j = i; j >= 0 && i - j < 400; j--)
			open += start[j] <= start[i] && end[j] > start[i];
		if (open > most)
			most = open;
	}
	/* greedy in start order is optimal: lanes = largest overlap (counting
	 * the zero-length one that starts where others still run) */
	assert_true(l.n <= (uint32_t)most + 1);
	assert_true(l.n >= (uint32_t)most);
	bz_lanes_free(&l);
	free(start);
	free(end);
	free(last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
