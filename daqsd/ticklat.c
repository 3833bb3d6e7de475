// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The latencies of daqsd's ticks; see ticklat.h. */
#include "ticklat.h"

#include <stdlib.h>

void daqsd_ticklat_add(struct daqsd_ticklat *t, uint64_t end_ms,
		       uint64_t lat_us)
{
	t->us[t->head] = lat_us > UINT32_MAX ? UINT32_MAX : (uint32_t)lat_us;
	t->end_ms[t->head] = end_ms;
	t->head = (t->head + 1) % DAQSD_TICKLAT_RING;
	if (t->n < DAQSD_TICKLAT_RING)
		t->n++;
	t->count++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void daqsd_pctl_sort(uint32_t *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u32);
}

uint32_t daqsd_pctl(const uint32_t *sorted, size_t n, unsigned int per_mille)
{
	size_t rank;

	if (!n)
		return 0;
	if (per_mille > 1000)
		per_mille = 1000;
	/* ceil(per_mille * n / 1000), at least the first */
	rank = (per_mille * n + 999) / 1000;
	if (!rank)
		rank = 1;
	return sorted[rank - 1];
}

void daqsd_ticklat_summary(const struct daqsd_ticklat *t, uint64_t now_ms,
			   uint64_t window_ms, struct daqsd_ticklat_sum *sum)
{
	uint32_t v[DAQSD_TICKLAT_RING];
	size_t i, n = 0;

	for (i = 0; i < t->n; i++) {
		/* a sample "from the future" (a caller's clock) counts as now */
		if (window_ms && t->end_ms[i] + window_ms <= now_ms)
			continue;
		v[n++] = t->us[i];
	}
	daqsd_pctl_sort(v, n);
	sum->n = n;
	sum->p50_us = daqsd_pctl(v, n, 500);
	sum->p99_us = daqsd_pctl(v, n, 990);
	sum->max_us = n ? v[n - 1] : 0;
}
