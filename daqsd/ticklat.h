/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * How long daqsd's ticks take to reach the guests: for each tick that sent
 * limits, the time from the tick's start until the last SET it queued was
 * written to its socket. A ring keeps the last DAQSD_TICKLAT_RING ticks,
 * each with the time it ended; the control socket reports the percentiles
 * of those that ended in the last DAQSD_TICKLAT_WINDOW_MS (so a slow start
 * an hour ago does not hide today's p99). No I/O, no clock: the caller
 * gives the times (tests/unit/test_ticklat.c).
 *
 * Percentiles are nearest-rank: pXX is the smallest sample with at least
 * XX% of the samples at or below it (the p99 of 10 samples is the
 * largest). Samples are whole microseconds, saturated at UINT32_MAX
 * (71 minutes: a tick never lasts that long).
 */
#ifndef DAQSD_TICKLAT_H
#define DAQSD_TICKLAT_H

#include <stddef.h>
#include <stdint.h>

/* 1024 ticks: 102 s at the default 100 ms tick, 10 s at 10 ms */
#define DAQSD_TICKLAT_RING 1024U
#define DAQSD_TICKLAT_WINDOW_MS 10000U

struct daqsd_ticklat {
	uint32_t us[DAQSD_TICKLAT_RING];	/* latency, microseconds */
	uint64_t end_ms[DAQSD_TICKLAT_RING];	/* when it was measured */
	size_t head;				/* the next slot */
	size_t n;				/* slots in use */
	uint64_t count;				/* ticks measured, ever */
};

struct daqsd_ticklat_sum {
	size_t n;		/* samples in the window */
	uint32_t p50_us, p99_us, max_us;	/* 0 when n is 0 */
};

void daqsd_ticklat_add(struct daqsd_ticklat *t, uint64_t end_ms,
		       uint64_t lat_us);
/*
 * The samples that ended in (now_ms - window_ms, now_ms]; window_ms 0:
 * every sample in the ring.
 */
void daqsd_ticklat_summary(const struct daqsd_ticklat *t, uint64_t now_ms,
			   uint64_t window_ms, struct daqsd_ticklat_sum *sum);
/* nearest-rank per_mille (500: p50, 990: p99) of n sorted samples; 0 if n is 0 */
uint32_t daqsd_pctl(const uint32_t *sorted, size_t n, unsigned int per_mille);
/* sorts v in place, ascending */
void daqsd_pctl_sort(uint32_t *v, size_t n);

#endif /* DAQSD_TICKLAT_H */
