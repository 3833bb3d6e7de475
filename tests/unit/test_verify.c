// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The verification of a guest's counters against its VF's (daqsd/verify.c),
 * a pure function over samples: a simulated VF and guest, one sample per
 * 100 ms tick, the guest's clock offset from the host's and its readings a
 * few milliseconds after the host's, as in daqsd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "verify.h"

#define MBIT 1000000ULL
#define TICK_NS 100000000ULL
#define GUEST_OFFSET_NS 777000000000ULL
#define FRAME 1514ULL			/* what the guest counts per frame */
#define FCS 4ULL			/* what the NIC adds to it */

struct sim {
	struct daqs_verify v;
	struct daqs_verify_conf c;
	uint64_t t_ns;			/* the host's clock */
	uint64_t wire;			/* bytes the guest sent, as it counts them */
	uint64_t host;			/* the VF's counter */
	uint64_t host_base;		/* added to the VF's counter (wraps) */
	uint64_t reported;		/* the guest's counter as it reports it */
	double lie;			/* fraction of what it sent it reports */
	bool wrap32;			/* the VF's counter has 32 bits */
	bool host_dead;			/* the driver reports no VF counters */
	uint64_t capacity_bps;
	unsigned int judged;		/* intervals judged */
};

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	daqs_verify_init(&s->v);
	daqs_verify_conf_default(&s->c);
	s->lie = 1.0;
	s->capacity_bps = 1000 * MBIT;
	s->t_ns = 5000000000ULL;
}

/*
 * One tick: the guest sends at rate_bps for a tick; the host reads the VF,
 * the guest answers (or not) a little later; the sample goes to verify.
 */
static bool sim_tick(struct sim *s, uint64_t rate_bps, uint64_t limit_bps,
		     enum daqs_verify_guest g, bool fresh)
{
	struct daqs_verify_sample smp = { 0 };
	uint64_t bytes = rate_bps / 8 * TICK_NS / 1000000000ULL;
	bool j;

	s->t_ns += TICK_NS;
	s->wire += bytes;
	s->host += bytes + bytes / FRAME * FCS;
	s->reported += (uint64_t)((double)bytes * s->lie);
	smp.host_valid = true;
	smp.host_ns = s->t_ns;
	smp.host_tx_bytes = s->host_dead ? 0 : s->wrap32 ?
			    (uint32_t)(s->host_base + s->host) : s->host_base + s->host;
	smp.guest = g;
	smp.guest_fresh = fresh;
	/* 3 ms later on its own clock */
	smp.guest_ns = s->t_ns + 3000000ULL + GUEST_OFFSET_NS;
	smp.guest_tx_bytes = s->reported;
	smp.limit_bps = limit_bps;
	smp.capacity_bps = s->capacity_bps;
	j = daqs_verify_step(&s->v, &s->c, &smp);
	s->judged += j;
	return j;
}

/* n ticks alike */
static void sim_run(struct sim *s, unsigned int n, uint64_t rate_bps,
		    uint64_t limit_bps, enum daqs_verify_guest g)
{
	while (n--)
		sim_tick(s, rate_bps, limit_bps, g, true);
}

#define REPORTS DAQS_VERIFY_GUEST_REPORTS
#define SILENT DAQS_VERIFY_GUEST_SILENT
#define NONE DAQS_VERIFY_GUEST_NONE

static void test_honest(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_PENDING);
	/* the first sample opens the interval; it ends 10 ticks later */
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.judged, 0);
	assert_true(sim_tick(&s, 80 * MBIT, 100 * MBIT, REPORTS, true));
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.last.ns, 1000000000ULL);
	assert_true(s.v.last.reported);
	assert_true(s.v.last.limited);
	assert_int_equal(s.v.last.reported_bytes, 10000000ULL);
	/* the VF's counter has the FCS: 0.26% more than the guest's */
	assert_true(s.v.last.host_bytes > s.v.last.reported_bytes);
	assert_int_equal(s.v.last.allowed_bytes, 12500000ULL);
	assert_int_equal(s.v.last.why, 0);
	/* a minute of it: nothing */
	sim_run(&s, 600, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.judged, 61);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.under_reports + s.v.silent + s.v.over_limits, 0);
	assert_int_equal(s.v.strikes, 0);
	assert_true(s.v.host_rate_known);
	/* 80 Mbit/s plus the FCS */
	assert_in_range(s.v.host_rate_bps, 80 * MBIT, 81 * MBIT);
	/* at its limit, exactly: fine */
	sim_run(&s, 100, 100 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* idle: fine */
	sim_run(&s, 100, 0, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.flags, 0);
}

static void test_under_reporting(void **state)
{
	struct sim s;
	unsigned int i;

	(void)state;
	sim_init(&s);
	sim_run(&s, 11, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* it reports half of what it sends */
	s.lie = 0.5;
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_SUSPECT);
	assert_int_equal(s.v.strikes, 1);
	assert_int_equal(s.v.last.why, DAQS_VERIFY_UNDER_REPORTS);
	assert_int_equal(s.v.last.reported_bytes, 5000000ULL);
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_SUSPECT);
	/* the third interval in a row: flagged */
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.flags, 1);
	assert_int_equal(s.v.under_reports, 3);
	/* it goes on: still flagged, once */
	sim_run(&s, 100, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.flags, 1);
	assert_int_equal(s.v.under_reports, 13);
	/* it complies: trusted again after hold (10 s) of compliance */
	s.lie = 1.0;
	for (i = 0; i < 99; i++)
		sim_tick(&s, 80 * MBIT, 100 * MBIT, REPORTS, true);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.strikes, 0);
	sim_tick(&s, 80 * MBIT, 100 * MBIT, REPORTS, true);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* a lapse during the hold starts it again */
	s.lie = 0.5;
	sim_run(&s, 30, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.flags, 2);
	s.lie = 1.0;
	sim_run(&s, 50, 80 * MBIT, 100 * MBIT, REPORTS);
	s.lie = 0.5;
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	s.lie = 1.0;
	sim_run(&s, 90, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
}

static void test_tolerance(void **state)
{
	struct sim s;

	(void)state;
	/* 4% under: within 5% */
	sim_init(&s);
	s.lie = 0.96;
	sim_run(&s, 301, 100 * MBIT, 200 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.under_reports, 0);
	/* 6% under: beyond */
	sim_init(&s);
	s.lie = 0.94;
	sim_run(&s, 31, 100 * MBIT, 200 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	/* a wider tolerance: fine again */
	sim_init(&s);
	s.c.tolerance_bp = 1000;
	s.lie = 0.94;
	sim_run(&s, 301, 100 * MBIT, 200 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* at a low rate the slack covers what a percentage would not */
	sim_init(&s);
	s.lie = 0.5;
	sim_run(&s, 301, 500000, 200 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* strikes 1, hold 0: flagged at once, released at once */
	sim_init(&s);
	s.c.strikes = 1;
	s.c.hold_ms = 0;
	sim_run(&s, 11, 80 * MBIT, 100 * MBIT, REPORTS);
	s.lie = 0.5;
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	s.lie = 1.0;
	sim_run(&s, 10, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
}

static void test_over_limit(void **state)
{
	struct sim s;

	(void)state;
	/* honest counters, but 80 Mbit/s at a limit of 50 */
	sim_init(&s);
	sim_run(&s, 11, 80 * MBIT, 50 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_SUSPECT);
	assert_int_equal(s.v.last.why, DAQS_VERIFY_OVER_LIMIT);
	sim_run(&s, 20, 80 * MBIT, 50 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.over_limits, 3);
	assert_int_equal(s.v.under_reports, 0);
	/* 8% over: within 10% */
	sim_init(&s);
	sim_run(&s, 301, 54 * MBIT, 50 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* both at once */
	sim_init(&s);
	s.lie = 0.3;
	sim_run(&s, 31, 80 * MBIT, 50 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.last.why,
			 DAQS_VERIFY_UNDER_REPORTS | DAQS_VERIFY_OVER_LIMIT);
	/* no limit (not controlled): nothing to exceed */
	sim_init(&s);
	sim_run(&s, 301, 800 * MBIT, 0, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_false(s.v.last.limited);
}

static void test_limit_change(void **state)
{
	struct sim s;
	unsigned int i;

	(void)state;
	/*
	 * The limit falls from 100 to 20 Mbit/s: the sample after the push
	 * still has a part at the old limit (max of the two is allowed), and
	 * the guest follows the new one from then on.
	 */
	sim_init(&s);
	sim_run(&s, 15, 100 * MBIT, 100 * MBIT, REPORTS);
	sim_tick(&s, 100 * MBIT, 20 * MBIT, REPORTS, true);
	for (i = 0; i < 300; i++)
		sim_tick(&s, 20 * MBIT, 20 * MBIT, REPORTS, true);
	assert_int_equal(s.v.over_limits, 0);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
}

static void test_module_gone(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_run(&s, 11, 40 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* the module is unloaded (or the agent killed), the VF still sends */
	sim_run(&s, 10, 40 * MBIT, 100 * MBIT, SILENT);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_SUSPECT);
	assert_int_equal(s.v.last.why, DAQS_VERIFY_SILENT);
	assert_false(s.v.last.reported);
	sim_run(&s, 20, 40 * MBIT, 100 * MBIT, SILENT);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.silent, 3);
	/* silent and idle: nothing to hold against it */
	sim_init(&s);
	sim_run(&s, 301, 0, 100 * MBIT, SILENT);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* the module back: its counters start at 0, it reports again */
	sim_init(&s);
	sim_run(&s, 40, 40 * MBIT, 100 * MBIT, SILENT);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	s.reported = 0;
	sim_run(&s, 200, 40 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.guest_resets, 0);	/* its first reading */
}

static void test_late_answers(void **state)
{
	struct sim s;
	unsigned int i;

	(void)state;
	/* a busy guest answers every other tick: the interval waits for it */
	sim_init(&s);
	for (i = 0; i < 600; i++)
		sim_tick(&s, 80 * MBIT, 100 * MBIT, REPORTS, i % 2 == 0);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.under_reports, 0);
	/* one that stops answering for long is judged at two intervals */
	sim_init(&s);
	sim_run(&s, 11, 80 * MBIT, 100 * MBIT, REPORTS);
	s.judged = 0;
	for (i = 0; i < 20; i++)
		sim_tick(&s, 80 * MBIT, 100 * MBIT, REPORTS, false);
	assert_int_equal(s.judged, 1);
	assert_int_equal(s.v.last.ns, 2000000000ULL);
	assert_int_equal(s.v.last.why, DAQS_VERIFY_SILENT);
	/* the guest's first reading mid-interval starts the interval again */
	sim_init(&s);
	sim_run(&s, 5, 80 * MBIT, 100 * MBIT, SILENT);
	sim_run(&s, 200, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.under_reports + s.v.silent, 0);
}

static void test_host_wrap_and_reset(void **state)
{
	struct sim s;

	(void)state;
	/* a driver with 32-bit counters: it wraps every 43 s at 800 Mbit/s */
	sim_init(&s);
	s.host_base = UINT32_MAX - 30000000ULL;
	s.wrap32 = true;
	sim_run(&s, 600, 800 * MBIT, 1000 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* 60 s at 100 MB/s: 6 GB, the first wrap 30 MB in */
	assert_int_equal(s.v.host_wraps, 2);
	assert_int_equal(s.v.host_resets, 0);
	/* a 64-bit one, just before its end */
	sim_init(&s);
	s.host_base = UINT64_MAX - 20000000ULL;
	sim_run(&s, 300, 800 * MBIT, 1000 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.host_wraps, 1);
	/* the VF is reset: its counter starts again from 0 */
	sim_init(&s);
	sim_run(&s, 55, 80 * MBIT, 100 * MBIT, REPORTS);
	s.host = 0;
	sim_run(&s, 300, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.host_resets, 1);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.under_reports, 0);
	/* no capacity known: a counter that went back is a reset, never a wrap */
	sim_init(&s);
	s.capacity_bps = 0;
	s.host_base = UINT32_MAX - 1000;
	sim_run(&s, 5, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.host_wraps, 0);
	assert_int_equal(s.v.host_resets, 0);
}

static void test_slow_driver(void **state)
{
	struct sim s;
	unsigned int i, known = 0;
	uint64_t shown = 0;

	(void)state;
	/*
	 * A driver that refreshes its VF counters every 2 s (ixgbe's service
	 * task): the host's rate is the average when the counter moves, and
	 * unknown in between, never the 0 or 20x of one tick.
	 */
	sim_init(&s);
	s.c.interval_ms = 6000;
	for (i = 0; i < 600; i++) {
		struct daqs_verify_sample smp = { 0 };
		uint64_t bytes = 40 * MBIT / 8 / 10;

		s.t_ns += TICK_NS;
		s.host += bytes;
		s.reported += bytes;
		if (i % 20 == 0)
			shown = s.host;
		smp.host_valid = true;
		smp.host_ns = s.t_ns;
		smp.host_tx_bytes = shown;
		smp.guest = REPORTS;
		smp.guest_fresh = true;
		smp.guest_ns = s.t_ns + GUEST_OFFSET_NS;
		smp.guest_tx_bytes = s.reported;
		smp.limit_bps = 100 * MBIT;
		smp.capacity_bps = s.capacity_bps;
		daqs_verify_step(&s.v, &s.c, &smp);
		if (s.v.host_rate_known && i > 20) {
			known++;
			assert_in_range(s.v.host_rate_bps, 39 * MBIT, 41 * MBIT);
		}
	}
	assert_int_equal(known, 28);	/* the steps at 4 s, 6 s ... 58 s */
	/* over 6 s intervals its steps average out: trusted */
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* an idle VF: rate 0 after two intervals of a still counter */
	sim_init(&s);
	sim_run(&s, 20, 0, 100 * MBIT, REPORTS);
	assert_false(s.v.host_rate_known);
	sim_run(&s, 1, 0, 100 * MBIT, REPORTS);
	assert_true(s.v.host_rate_known);
	assert_int_equal(s.v.host_rate_bps, 0);
}

static void test_vf_gone(void **state)
{
	struct daqs_verify_sample smp = { .host_valid = false };
	struct sim s;

	(void)state;
	sim_init(&s);
	sim_run(&s, 31, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* the VF vanishes (sriov_numvfs lowered): nothing to judge */
	assert_false(daqs_verify_step(&s.v, &s.c, &smp));
	assert_false(s.v.host_rate_known);
	assert_false(s.v.open);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* back, recreated: its counter at 0 is a fresh start, not a reset */
	s.host = 0;
	sim_run(&s, 300, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.host_resets, 0);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
}

static void test_guest_resets(void **state)
{
	struct sim s;
	unsigned int i;

	(void)state;
	/* its binding recreated once: its counter from 0, at most one strike */
	sim_init(&s);
	sim_run(&s, 55, 80 * MBIT, 100 * MBIT, REPORTS);
	s.reported = 0;
	sim_run(&s, 300, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.guest_resets, 1);
	assert_true(s.v.under_reports <= 1);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	/* resets as a way to hide: a counter that goes back every tick to a
	 * small number claims only that number */
	sim_init(&s);
	sim_run(&s, 11, 80 * MBIT, 100 * MBIT, REPORTS);
	s.lie = 0;
	for (i = 0; i < 40; i++) {
		s.reported = 1000 - i;
		sim_tick(&s, 80 * MBIT, 100 * MBIT, REPORTS, true);
	}
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_true(s.v.guest_resets >= 39);
}

static void test_host_only(void **state)
{
	struct sim s;

	(void)state;
	/* DPDK: no channel, no counters of its own; within its allocation */
	sim_init(&s);
	sim_run(&s, 301, 45 * MBIT, 50 * MBIT, NONE);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
	assert_int_equal(s.v.under_reports + s.v.silent, 0);
	assert_in_range(s.v.host_rate_bps, 45 * MBIT, 46 * MBIT);
	/* above it (its cap does not hold: a driver that ignores it) */
	sim_init(&s);
	sim_run(&s, 31, 90 * MBIT, 50 * MBIT, NONE);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNTRUSTED);
	assert_int_equal(s.v.last.why, DAQS_VERIFY_OVER_LIMIT);
}

static void test_unverifiable(void **state)
{
	struct sim s;

	(void)state;
	/* a PF driver without VF counters (netdevsim): always 0 */
	sim_init(&s);
	s.host_dead = true;
	sim_run(&s, 301, 80 * MBIT, 100 * MBIT, REPORTS);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNVERIFIABLE);
	assert_int_equal(s.v.strikes, 0);
	assert_int_equal(s.v.flags, 0);
	/* a host-only VM on one: nothing can be said */
	sim_init(&s);
	s.host_dead = true;
	sim_run(&s, 11, 40 * MBIT, 50 * MBIT, NONE);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_UNVERIFIABLE);
	/* once the counter moves it is judged */
	s.host_dead = false;
	s.host = 0;
	sim_run(&s, 10, 40 * MBIT, 50 * MBIT, NONE);
	assert_int_equal(s.v.verdict, DAQS_VERDICT_TRUSTED);
}

static void test_garbage(void **state)
{
	struct daqs_verify_sample smp = { 0 };
	struct sim s;
	unsigned int i;
	char buf[64];

	(void)state;
	/* a guest's numbers are anything: huge, backwards, repeated */
	sim_init(&s);
	for (i = 0; i < 400; i++) {
		smp.host_valid = true;
		smp.host_ns = 1000000000ULL + i * TICK_NS;
		smp.host_tx_bytes = (uint64_t)i * 1000000ULL;
		smp.guest = (enum daqs_verify_guest)(i % 3);
		smp.guest_fresh = i % 5 != 0;
		smp.guest_ns = i % 7 ? UINT64_MAX - i : 0;
		smp.guest_tx_bytes = i % 2 ? UINT64_MAX : (uint64_t)i * 999;
		smp.limit_bps = i % 4 ? UINT64_MAX : 0;
		smp.capacity_bps = i % 3 ? UINT64_MAX : 0;
		daqs_verify_step(&s.v, &s.c, &smp);
	}
	assert_true(s.v.intervals > 0);
	/* a host clock that goes back starts over */
	smp.host_ns = 1;
	assert_false(daqs_verify_step(&s.v, &s.c, &smp));
	assert_false(s.v.host_rate_known);
	/* zeroed configuration: an interval of 1 ms, one strike */
	memset(&s.c, 0, sizeof(s.c));
	for (i = 0; i < 10; i++) {
		smp.host_ns = 2 + i * 1000000ULL;
		smp.host_tx_bytes = UINT64_MAX - 10 + i;
		daqs_verify_step(&s.v, &s.c, &smp);
	}
	assert_string_equal(daqs_verify_why_name(DAQS_VERIFY_UNDER_REPORTS |
						 DAQS_VERIFY_OVER_LIMIT, buf,
						 sizeof(buf)),
			    "under-reports,over-limit");
	assert_string_equal(daqs_verify_why_name(0, buf, sizeof(buf)), "");
	/* what does not fit is left out whole */
	assert_string_equal(daqs_verify_why_name(7, buf, 8), "");
	assert_string_equal(daqs_verify_why_name(7, buf, 21), "under-reports,silent");
	assert_string_equal(daqs_verdict_name(DAQS_VERDICT_UNTRUSTED), "untrusted");
	assert_string_equal(daqs_verdict_name((enum daqs_verdict)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest),
		cmocka_unit_test(test_under_reporting),
		cmocka_unit_test(test_tolerance),
		cmocka_unit_test(test_over_limit),
		cmocka_unit_test(test_limit_change),
		cmocka_unit_test(test_module_gone),
		cmocka_unit_test(test_late_answers),
		cmocka_unit_test(test_host_wrap_and_reset),
		cmocka_unit_test(test_slow_driver),
		cmocka_unit_test(test_vf_gone),
		cmocka_unit_test(test_guest_resets),
		cmocka_unit_test(test_host_only),
		cmocka_unit_test(test_unverifiable),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
