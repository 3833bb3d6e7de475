// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsd/ticklat.c: nearest-rank percentiles, the ring, the time window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ticklat.h"

static void test_pctl_empty_and_one(void **state)
{
	uint32_t one = 42;

	(void)state;
	assert_int_equal(daqsd_pctl(NULL, 0, 500), 0);
	assert_int_equal(daqsd_pctl(&one, 1, 0), 42);
	assert_int_equal(daqsd_pctl(&one, 1, 500), 42);
	assert_int_equal(daqsd_pctl(&one, 1, 990), 42);
	assert_int_equal(daqsd_pctl(&one, 1, 1000), 42);
	assert_int_equal(daqsd_pctl(&one, 1, 5000), 42);	/* capped */
}

static void test_pctl_nearest_rank(void **state)
{
	uint32_t v[100];
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		v[i] = (uint32_t)(i + 1);	/* 1..100 */
	assert_int_equal(daqsd_pctl(v, 100, 500), 50);
	assert_int_equal(daqsd_pctl(v, 100, 990), 99);
	assert_int_equal(daqsd_pctl(v, 100, 1000), 100);
	assert_int_equal(daqsd_pctl(v, 100, 10), 1);
	/* 10 samples: the p99 is the largest, the p50 the 5th */
	assert_int_equal(daqsd_pctl(v, 10, 990), 10);
	assert_int_equal(daqsd_pctl(v, 10, 500), 5);
	/* 3 samples: the p50 is the 2nd (ceil(1.5)) */
	assert_int_equal(daqsd_pctl(v, 3, 500), 2);
}

static void test_sort(void **state)
{
	uint32_t v[] = { 5, UINT32_MAX, 0, 3, 3, 1 };
	uint32_t want[] = { 0, 1, 3, 3, 5, UINT32_MAX };
	size_t i;

	(void)state;
	daqsd_pctl_sort(v, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(v[i], want[i]);
	daqsd_pctl_sort(v, 0);	/* nothing to do, no crash */
}

static void test_ring_window(void **state)
{
	struct daqsd_ticklat *t = calloc(1, sizeof(*t));
	struct daqsd_ticklat_sum s;

	(void)state;
	assert_non_null(t);
	daqsd_ticklat_summary(t, 1000, DAQSD_TICKLAT_WINDOW_MS, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.p50_us, 0);
	assert_int_equal(s.p99_us, 0);
	assert_int_equal(s.max_us, 0);

	/* a slow start long ago, then 100 fast ticks */
	daqsd_ticklat_add(t, 1000, 900000);
	for (unsigned int i = 0; i < 100; i++)
		daqsd_ticklat_add(t, 20000 + 100 * i, 1000 + i);
	assert_int_equal(t->count, 101);
	daqsd_ticklat_summary(t, 29999, DAQSD_TICKLAT_WINDOW_MS, &s);
	assert_int_equal(s.n, 100);
	assert_int_equal(s.p50_us, 1049);
	assert_int_equal(s.p99_us, 1098);
	assert_int_equal(s.max_us, 1099);
	/* the whole ring: the slow one is the max */
	daqsd_ticklat_summary(t, 30000, 0, &s);
	assert_int_equal(s.n, 101);
	assert_int_equal(s.max_us, 900000);
	/* a sample exactly window_ms old is out */
	daqsd_ticklat_summary(t, 20000 + DAQSD_TICKLAT_WINDOW_MS, DAQSD_TICKLAT_WINDOW_MS, &s);
	assert_int_equal(s.n, 99);
	free(t);
}

static void test_ring_wraps_and_saturates(void **state)
{
	struct daqsd_ticklat *t = calloc(1, sizeof(*t));
	struct daqsd_ticklat_sum s;
	unsigned int i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < DAQSD_TICKLAT_RING; i++)
		daqsd_ticklat_add(t, 5, 7);
	/* half the ring overwritten by later, slower ticks */
	for (i = 0; i < DAQSD_TICKLAT_RING / 2; i++)
		daqsd_ticklat_add(t, 6, UINT64_MAX);
	assert_int_equal(t->n, DAQSD_TICKLAT_RING);
	assert_int_equal(t->count, DAQSD_TICKLAT_RING * 3 / 2);
	daqsd_ticklat_summary(t, 6, 0, &s);
	assert_int_equal(s.n, DAQSD_TICKLAT_RING);
	assert_int_equal(s.p50_us, 7);
	assert_int_equal(s.p99_us, UINT32_MAX);
	assert_int_equal(s.max_us, UINT32_MAX);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pctl_empty_and_one),
		cmocka_unit_test(test_pctl_nearest_rank),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_ring_window),
		cmocka_unit_test(test_ring_wraps_and_saturates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
