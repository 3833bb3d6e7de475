// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite of the token bucket (bucket.h, bucket.c).
 *
 * Every case passes the time in explicitly: nothing sleeps and nothing reads
 * a clock, so a result depends only on the arithmetic. Times start at T0, a
 * guest that has been up for a while, except where boot time (now near 0) or
 * the top of the 64-bit range is the point.
 *
 * Cost is a whole number of ns, (len * mult) >> shift: at 10 Gbit/s 1500
 * bytes cost 1199 or 1200 ns, not 1199.99. Cases that sum many costs compare
 * against the sum of the costs, which is what the bucket promises; the
 * difference from exact arithmetic is the business of the cost cases only.
 */
#include <kunit/test.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/time64.h>
#include "bucket.h"

#define KBIT 1000ULL
#define MBIT (1000 * KBIT)
#define GBIT (1000 * MBIT)
#define T0 (1000 * (u64)NSEC_PER_SEC)
#define POLICE 0ULL		/* max_wait_ns of police mode */
#define NO_QLIMIT U64_MAX	/* max_wait_ns of a shaper that never refuses */
#define UNTOUCHED 0xdeadbeefULL	/* *depart before a refusal */

static u64 diff_u64(u64 a, u64 b)
{
	return a > b ? a - b : b - a;
}

/* Exact cost, len * 8e9 / rate_bps ns, rounded down. */
static u64 exact_cost_ns(u64 rate_bps, u64 len)
{
	return mul_u64_u64_div_u64(len, 8 * NSEC_PER_SEC, rate_bps);
}

static u64 t_next(const struct daqs_bucket *b)
{
	return (u64)atomic64_read(&b->t_next);
}

/* A bucket that has been idle long enough to be full at @now. */
static void init_full(struct daqs_bucket *b, const struct daqs_rate *r,
		      u64 now)
{
	daqs_bucket_init(b, now - r->burst_ns);
}

struct rate_case {
	u64 rate_bps;
};

static const struct rate_case rate_cases[] = {
	{ DAQS_RATE_MIN_BPS },
	{ 64 * KBIT },
	{ MBIT },
	{ 10 * MBIT },
	{ 12345677 },		/* not a whole number of bytes/s */
	{ 100 * MBIT },
	{ GBIT },
	{ 2500 * MBIT },
	{ 10 * GBIT },
	{ 25 * GBIT },
	{ 40 * GBIT },
	{ 100 * GBIT },
};

static void rate_case_desc(const struct rate_case *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%llu bit/s", p->rate_bps);
}

KUNIT_ARRAY_PARAM(rate, rate_cases, rate_case_desc);

/*
 * mult / 2^shift is ns per byte within 1e-6, and a cost is exact within 1e-6
 * plus the ns it is rounded to, up to the longest length (no overflow).
 */
static void daqs_bucket_test_rate_init(struct kunit *test)
{
	const struct rate_case *p = test->param_value;
	static const u32 lens[] = { 1, 64, 1500, 65535, U32_MAX };
	struct daqs_rate r;
	u64 ideal;
	int i;

	daqs_rate_init(&r, p->rate_bps, 15000);
	KUNIT_EXPECT_EQ(test, r.rate_bps, p->rate_bps);
	KUNIT_EXPECT_EQ(test, r.burst_bytes, 15000U);
	KUNIT_EXPECT_EQ(test, r.burst_ns, daqs_rate_cost_ns(&r, 15000));
	KUNIT_EXPECT_LE(test, r.shift, 63);
	/* 1e-6 needs 20 significant bits, whatever the shift. */
	KUNIT_EXPECT_GE(test, r.mult, 1U << 20);

	ideal = mul_u64_u64_div_u64(8 * NSEC_PER_SEC, 1ULL << r.shift,
				    p->rate_bps);
	KUNIT_EXPECT_LE_MSG(test, diff_u64(r.mult, ideal),
			    div_u64(ideal, 1000000) + 1,
			    "mult %u shift %u, ideal mult %llu",
			    r.mult, r.shift, ideal);

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		u64 exact = exact_cost_ns(p->rate_bps, lens[i]);
		u64 cost = daqs_rate_cost_ns(&r, lens[i]);

		KUNIT_EXPECT_LE_MSG(test, diff_u64(cost, exact),
				    div64_u64(exact, 1000000) + 1,
				    "len %u: cost %llu ns, exact %llu ns",
				    lens[i], cost, exact);
	}
}

struct whole_ns_case {
	u64 rate_bps;
	u32 len;
};

static const struct whole_ns_case whole_ns_cases[] = {
	{ DAQS_RATE_MIN_BPS, 1500 },
	{ 8007, 1500 },
	{ GBIT, 1500 },
	{ 10 * GBIT, 1500 },
	{ 100 * GBIT, 1500 },
};

static void whole_ns_case_desc(const struct whole_ns_case *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%llu bit/s, %u bytes",
		 p->rate_bps, p->len);
}

KUNIT_ARRAY_PARAM(whole_ns, whole_ns_cases, whole_ns_case_desc);

/*
 * The cost is the exact cost rounded to a whole ns, one way or the other:
 * 1500 bytes at 10 Gbit/s cost 1200 ns, no less (a shaper that charges
 * 1199 sends 0.08% over its rate, 0.8% at 100 Gbit/s), and 1500 bytes at
 * 8007 bit/s cost what they cost at 8007, not at 8000 bit/s.
 */
static void daqs_bucket_test_cost_whole_ns(struct kunit *test)
{
	const struct whole_ns_case *p = test->param_value;
	struct daqs_rate r;
	u64 exact, rem, cost;

	daqs_rate_init(&r, p->rate_bps, 15000);
	exact = div64_u64_rem((u64)p->len * 8 * NSEC_PER_SEC, p->rate_bps,
			      &rem);
	cost = daqs_rate_cost_ns(&r, p->len);
	KUNIT_EXPECT_GE_MSG(test, cost, exact,
			    "exact %llu + %llu/%llu ns, mult %u shift %u",
			    exact, rem, p->rate_bps, r.mult, r.shift);
	KUNIT_EXPECT_LE_MSG(test, cost, exact + !!rem,
			    "exact %llu + %llu/%llu ns, mult %u shift %u",
			    exact, rem, p->rate_bps, r.mult, r.shift);
}

/*
 * Rate 0 means unlimited. The caller does not call admit with it; what admit
 * would do is pinned here so that a change is deliberate: every cost is 0,
 * the bucket passes everything and t_next follows now, but a debt carried
 * over from a limited rate is still served (a change to unlimited does not
 * let waiting packets jump ahead).
 */
static void daqs_bucket_test_rate_zero(struct kunit *test)
{
	struct daqs_bucket b;
	struct daqs_rate r;
	u64 depart;

	daqs_rate_init(&r, 0, 15000);
	KUNIT_EXPECT_EQ(test, r.rate_bps, 0ULL);
	KUNIT_EXPECT_EQ(test, r.burst_bytes, 15000U);
	KUNIT_EXPECT_EQ(test, r.burst_ns, 0ULL);
	KUNIT_EXPECT_EQ(test, r.mult, 0U);
	KUNIT_EXPECT_EQ(test, r.shift, 0);
	KUNIT_EXPECT_EQ(test, daqs_rate_cost_ns(&r, U32_MAX), 0ULL);

	daqs_bucket_init(&b, T0);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, T0), 0LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, U32_MAX, T0, POLICE,
						&depart), DAQS_PASS);
	KUNIT_EXPECT_EQ(test, depart, T0);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0 + 5, POLICE,
						&depart), DAQS_PASS);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 + 5);

	/* A debt of 1 ms left by a limited rate. */
	daqs_bucket_init(&b, T0 + NSEC_PER_MSEC);
	depart = UNTOUCHED;
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0, POLICE,
						&depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, depart, UNTOUCHED);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0, NO_QLIMIT,
						&depart), DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, T0 + NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, T0), 0LL);
}

/* U64_MAX bit/s: every length up to U32_MAX costs at most 2 ns. */
static void daqs_bucket_test_rate_u64_max(struct kunit *test)
{
	struct daqs_rate r;

	daqs_rate_init(&r, U64_MAX, U32_MAX);
	KUNIT_EXPECT_EQ(test, r.rate_bps, U64_MAX);
	KUNIT_EXPECT_EQ(test, daqs_rate_cost_ns(&r, 1500), 0ULL);
	KUNIT_EXPECT_LE(test, daqs_rate_cost_ns(&r, U32_MAX), 2ULL);
	KUNIT_EXPECT_LE(test, r.burst_ns, 2ULL);
}

struct burst_case {
	u64 rate_bps;
	u32 burst_bytes;
	u32 len;
};

/*
 * Lengths whose cost rounds to the exact value or close enough that the
 * rounding of n packets stays below one more packet; see cost_whole_ns for
 * where it does not.
 */
static const struct burst_case burst_cases[] = {
	{ DAQS_RATE_MIN_BPS, 1500, 1500 },
	{ MBIT, 3000, 1500 },
	{ 100 * MBIT, 9000, 9000 },
	{ GBIT, 15000, 1500 },
	{ GBIT, 64000, 64 },
	{ GBIT, 65000, 1500 },	/* 43 packets and a remainder */
	{ 10 * GBIT, 15000, 1500 },
	{ 25 * GBIT, 64000, 1000 },
	{ 40 * GBIT, 65536, 4096 },
	{ 100 * GBIT, 15000, 1500 },
	{ 100 * GBIT, 64000, 1500 },	/* 42 and a remainder */
};

static void burst_case_desc(const struct burst_case *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE,
		 "%llu bit/s, burst %u bytes, len %u", p->rate_bps,
		 p->burst_bytes, p->len);
}

KUNIT_ARRAY_PARAM(burst, burst_cases, burst_case_desc);

/* A full bucket passes burst_bytes / len packets at once, then delays. */
static void daqs_bucket_test_full_burst(struct kunit *test)
{
	const struct burst_case *p = test->param_value;
	u32 i, n = p->burst_bytes / p->len;
	struct daqs_bucket b;
	struct daqs_rate r;
	u64 depart, cost, before;

	daqs_rate_init(&r, p->rate_bps, p->burst_bytes);
	cost = daqs_rate_cost_ns(&r, p->len);
	/* Empty at T0, full after one burst_ns of idle time. */
	daqs_bucket_init(&b, T0);
	for (i = 0; i < n; i++) {
		depart = UNTOUCHED;
		KUNIT_ASSERT_EQ_MSG(test, daqs_bucket_admit(&b, &r, p->len,
							    T0 + r.burst_ns,
							    POLICE, &depart),
				    DAQS_PASS, "packet %u of %u", i + 1, n);
		KUNIT_EXPECT_EQ(test, depart, T0 + r.burst_ns);
	}
	before = t_next(&b);
	KUNIT_EXPECT_EQ(test, before, T0 + n * cost);
	depart = UNTOUCHED;
	KUNIT_ASSERT_EQ_MSG(test, daqs_bucket_admit(&b, &r, p->len,
						    T0 + r.burst_ns, POLICE,
						    &depart),
			    DAQS_OVER, "packet %u passed the full bucket", n + 1);
	KUNIT_EXPECT_EQ(test, depart, UNTOUCHED);
	KUNIT_EXPECT_EQ(test, t_next(&b), before);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, p->len, T0 + r.burst_ns,
						NO_QLIMIT, &depart),
			DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, before + cost);
}

struct idle_case {
	u64 idle_ns;
	u32 passes;
	s64 tokens;
};

/* 1 Gbit/s, burst 15000 bytes = 120 us, packets of 1500 bytes = 12 us. */
static const struct idle_case idle_cases[] = {
	{ 0, 0, 0 },
	{ 11999, 0, 1499 },
	{ 12000, 1, 1500 },
	{ 60000, 5, 7500 },
	{ 119999, 9, 14999 },
	{ 120000, 10, 15000 },
	{ 120001, 10, 15000 },
	{ 10 * 120000, 10, 15000 },
	{ 3600 * (u64)NSEC_PER_SEC, 10, 15000 },
};

static void idle_case_desc(const struct idle_case *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "idle %llu ns", p->idle_ns);
}

KUNIT_ARRAY_PARAM(idle, idle_cases, idle_case_desc);

/* Idle time earns tokens at the rate, and at most burst_ns of them. */
static void daqs_bucket_test_idle(struct kunit *test)
{
	const struct idle_case *p = test->param_value;
	u64 now = T0 + p->idle_ns, depart;
	struct daqs_bucket b;
	struct daqs_rate r;
	u32 n = 0;

	daqs_rate_init(&r, GBIT, 15000);
	daqs_bucket_init(&b, T0);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now), p->tokens);
	while (n <= 10 &&
	       daqs_bucket_admit(&b, &r, 1500, now, POLICE, &depart) ==
	       DAQS_PASS)
		n++;
	KUNIT_EXPECT_EQ(test, n, p->passes);
}

/* Small deterministic lengths generator, 64..1500 bytes. */
static u32 next_len(u32 *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return 64 + (*seed >> 16) % 1437;
}

/*
 * Offered load above the rate, shape mode without a queue limit: the first
 * packets leave at once from the full bucket, and from then on departures
 * are spaced by exactly the cost of each packet, with nothing lost or gained
 * over 1000 packets.
 */
static void daqs_bucket_test_spacing(struct kunit *test)
{
	const struct rate_case *p = test->param_value;
	u64 now, gap, depart, prev_depart = 0, sum = 0, bytes = 0, exact;
	u32 i, len, seed = 1, delayed = 0;
	struct daqs_bucket b;
	struct daqs_rate r;

	daqs_rate_init(&r, p->rate_bps, 15000);
	/* Arrivals closer than the cheapest packet costs: always above. */
	gap = max_t(u64, daqs_rate_cost_ns(&r, 64) / 2, 1);
	now = T0 + r.burst_ns;
	init_full(&b, &r, now);
	for (i = 0; i < 1000; i++, now += gap) {
		u64 before = t_next(&b), cost;
		enum daqs_verdict v;

		len = next_len(&seed);
		cost = daqs_rate_cost_ns(&r, len);
		depart = UNTOUCHED;
		v = daqs_bucket_admit(&b, &r, len, now, NO_QLIMIT, &depart);
		KUNIT_ASSERT_NE_MSG(test, v, DAQS_OVER, "packet %u", i);
		KUNIT_ASSERT_EQ_MSG(test, t_next(&b), before + cost,
				    "packet %u", i);
		KUNIT_ASSERT_EQ(test, depart, max(before + cost, now));
		if (v == DAQS_DELAY) {
			if (delayed++)
				KUNIT_ASSERT_EQ_MSG(test, depart - prev_depart,
						    cost, "packet %u", i);
		} else {
			KUNIT_ASSERT_EQ_MSG(test, delayed, 0U, "packet %u", i);
		}
		prev_depart = depart;
		sum += cost;
		bytes += len;
	}
	KUNIT_EXPECT_GT(test, delayed, 0U);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 + sum);
	/* Rounding loses less than 1 ns a packet against exact arithmetic. */
	exact = exact_cost_ns(p->rate_bps, bytes);
	KUNIT_EXPECT_LE(test, diff_u64(sum, exact),
			div64_u64(exact, 1000000) + 1000);
}

/*
 * Police mode under an offered load of twice the rate passes the rate: over
 * a run, the packets passed cost no more than the time elapsed plus one
 * burst, and less than one packet less than that.
 */
static void daqs_bucket_test_police_rate(struct kunit *test)
{
	const struct rate_case *p = test->param_value;
	struct daqs_bucket b;
	struct daqs_rate r;
	u64 cost, gap, now, start, depart;
	u32 i, passed = 0;

	daqs_rate_init(&r, p->rate_bps, 15000);
	cost = daqs_rate_cost_ns(&r, 1500);
	gap = max_t(u64, cost / 2, 1);
	start = T0 + r.burst_ns;
	init_full(&b, &r, start);
	for (i = 0, now = start; i < 2000; i++, now += gap)
		if (daqs_bucket_admit(&b, &r, 1500, now, POLICE, &depart) ==
		    DAQS_PASS)
			passed++;
	now -= gap;
	KUNIT_EXPECT_LE(test, passed * cost, now - start + r.burst_ns);
	KUNIT_EXPECT_GT(test, passed * cost + cost + gap,
			now - start + r.burst_ns);
	KUNIT_EXPECT_LT(test, passed, 2000U);
}

/* Police mode refuses without moving t_next or writing *depart. */
static void daqs_bucket_test_police_refuses(struct kunit *test)
{
	struct daqs_bucket b;
	struct daqs_rate r;
	u64 depart;

	daqs_rate_init(&r, GBIT, 15000);
	/* Empty at init: the first packet waits for tokens. */
	daqs_bucket_init(&b, T0);
	depart = UNTOUCHED;
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1, T0, POLICE,
						&depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, depart, UNTOUCHED);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0);

	/* Refused again and again, it does not dig a debt. */
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0 + 11999,
						POLICE, &depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0);
	/* Exactly enough tokens: passes, and leaves the bucket empty. */
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0 + 12000,
						POLICE, &depart), DAQS_PASS);
	KUNIT_EXPECT_EQ(test, depart, T0 + 12000);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 + 12000);

	/* In debt (a shaper shared the bucket), still no move. */
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0 + 12000,
						NO_QLIMIT, &depart),
			DAQS_DELAY);
	depart = UNTOUCHED;
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 64, T0 + 20000,
						POLICE, &depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, depart, UNTOUCHED);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 + 24000);
}

/*
 * Shape mode waits up to max_wait_ns inclusive and refuses beyond, without
 * moving t_next or writing *depart.
 */
static void daqs_bucket_test_shape_qlimit(struct kunit *test)
{
	struct daqs_bucket b;
	struct daqs_rate r;
	u64 depart;

	daqs_rate_init(&r, GBIT, 15000);
	daqs_bucket_init(&b, T0);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0, 12000,
						&depart), DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, T0 + 12000);

	/* The next one would wait 24 us. */
	depart = UNTOUCHED;
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0, 23999,
						&depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, depart, UNTOUCHED);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 + 12000);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0, 24000,
						&depart), DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, T0 + 24000);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 + 24000);

	/* Time passing shortens the wait: 1 ns later 23999 suffices. */
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, T0 + 1, 35999,
						&depart), DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, T0 + 36000);
}

/*
 * A rate change publishes the new struct daqs_rate before it rescales the
 * level, so packets in between are admitted at the new rate with the old
 * t_next: the level is clamped to the new burst, never refilled, and a debt
 * is kept in time.
 */
static void daqs_bucket_test_rate_swap(struct kunit *test)
{
	struct daqs_rate a, big, small, slow;
	struct daqs_bucket b;
	u64 now = T0, depart, before;
	int n;

	daqs_rate_init(&a, GBIT, 150000);		/* 1.2 ms */
	daqs_rate_init(&small, GBIT, 15000);		/* 120 us */
	daqs_rate_init(&big, 10 * GBIT, 1500000);	/* 1.2 ms */
	daqs_rate_init(&slow, 100 * MBIT, 1500000);	/* 120 ms */

	/* Full at A, one packet taken: a level of 1188 us, clamped to 120. */
	init_full(&b, &a, now);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &a, 1500, now, POLICE,
						&depart), DAQS_PASS);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &a, now), 148500LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &small, now), 15000LL);
	for (n = 0; n < 20; n++)
		if (daqs_bucket_admit(&b, &small, 1500, now, POLICE,
				      &depart) != DAQS_PASS)
			break;
	KUNIT_EXPECT_EQ(test, n, 10);

	/* Empty at the small burst; a bigger burst does not refill it. */
	before = t_next(&b);
	KUNIT_EXPECT_EQ(test, before, now);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &big, now), 0LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &big, 64, now, POLICE,
						&depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, t_next(&b), before);
	/* It fills at the new rate: 10 us earn 12500 bytes at 10 Gbit/s. */
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &big, now + 10000),
			12500LL);

	/* A debt of 1 ms at 1 Gbit/s is still 1 ms at 100 Mbit/s. */
	now += 10 * NSEC_PER_SEC;
	daqs_bucket_init(&b, now + NSEC_PER_MSEC);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &a, now), -125000LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &slow, now), -12500LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &slow, 1500, now,
						NO_QLIMIT, &depart),
			DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, now + NSEC_PER_MSEC + 120000);
}

struct rescale_case {
	u64 old_bps;
	u32 old_burst;
	u64 new_bps;
	u32 new_burst;
	s64 level;		/* bytes at the old rate; < 0: debt */
};

static const struct rescale_case rescale_cases[] = {
	/* The bytes of credit are kept, whichever way the rate goes. */
	{ GBIT, 150000, 100 * MBIT, 1500000, 148500 },
	{ 100 * MBIT, 1500000, GBIT, 150000, 148500 },
	{ 10 * MBIT, 15000, GBIT, 1500000, 7500 },
	{ DAQS_RATE_MIN_BPS, 15000, GBIT, 15000, 15000 },
	{ GBIT, 15000, DAQS_RATE_MIN_BPS, 15000, 15000 },
	/* Clamped to the new burst. */
	{ GBIT, 150000, GBIT, 15000, 148500 },
	{ GBIT, 150000, 100 * MBIT, 15000, 150000 },
	/* Never refilled. */
	{ GBIT, 15000, 100 * MBIT, 1500000, 0 },
	{ GBIT, 15000, GBIT, 1500000, 15000 },
	{ GBIT, 15000, 10 * MBIT, 1500000, 1500 },
	/* A debt is kept in time: those packets have their departures. */
	{ GBIT, 15000, 100 * MBIT, 15000, -125000 },
	{ 100 * MBIT, 15000, GBIT, 15000, -1500 },
};

static void rescale_case_desc(const struct rescale_case *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE,
		 "%llu bit/s burst %u -> %llu bit/s burst %u, level %lld",
		 p->old_bps, p->old_burst, p->new_bps, p->new_burst, p->level);
}

KUNIT_ARRAY_PARAM(rescale, rescale_cases, rescale_case_desc);

/*
 * daqs_bucket_rescale carries the byte level over to the new rate, clamped
 * to the new burst; a debt stays where it is.
 */
static void daqs_bucket_test_rescale(struct kunit *test)
{
	const struct rescale_case *p = test->param_value;
	struct daqs_rate old, new;
	struct daqs_bucket b;
	u64 now = T0, depart, before;
	s64 expect, after;
	u32 n;

	daqs_rate_init(&old, p->old_bps, p->old_burst);
	daqs_rate_init(&new, p->new_bps, p->new_burst);
	if (p->level >= 0)
		daqs_bucket_init(&b, now - daqs_rate_cost_ns(&old, p->level));
	else
		daqs_bucket_init(&b, now + daqs_rate_cost_ns(&old, -p->level));
	KUNIT_ASSERT_EQ(test, daqs_bucket_tokens(&b, &old, now), p->level);
	before = t_next(&b);

	daqs_bucket_rescale(&b, &old, &new, now);
	after = daqs_bucket_tokens(&b, &new, now);
	if (p->level < 0) {
		KUNIT_EXPECT_EQ(test, t_next(&b), before);
		expect = -(s64)mul_u64_u64_div_u64(before - now, p->new_bps,
						   8 * NSEC_PER_SEC);
		KUNIT_EXPECT_EQ(test, after, expect);
		return;
	}
	expect = min_t(s64, p->level, p->new_burst);
	KUNIT_EXPECT_EQ(test, after, expect);
	KUNIT_EXPECT_LE(test, t_next(&b), now);

	/* And that is what leaves at once, to the byte. */
	for (n = 0; n <= expect / 1500; n++)
		if (daqs_bucket_admit(&b, &new, 1500, now, POLICE, &depart) !=
		    DAQS_PASS)
			break;
	KUNIT_EXPECT_EQ(test, n, (u32)(expect / 1500));
}

/* Rescaling from or to unlimited leaves t_next alone. */
static void daqs_bucket_test_rescale_unlimited(struct kunit *test)
{
	struct daqs_rate limited, unlimited;
	struct daqs_bucket b;

	daqs_rate_init(&limited, GBIT, 15000);
	daqs_rate_init(&unlimited, 0, 15000);
	daqs_bucket_init(&b, T0 - 5000);
	daqs_bucket_rescale(&b, &limited, &unlimited, T0);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 - 5000);
	daqs_bucket_rescale(&b, &unlimited, &limited, T0);
	KUNIT_EXPECT_EQ(test, t_next(&b), T0 - 5000);
}

/*
 * Rescaling soon after boot, to a lower rate: the level in ns grows (the
 * same bytes take longer at the new rate), but it cannot reach back before
 * boot; t_next = now - level must not wrap below 0. A new binding starts
 * full with t_next = 0 (datapath.c), so 100 ms after boot at 1 Gbit/s the
 * level is one burst, 500 us; at 1 Mbit/s the same 62500 bytes are 500 ms,
 * more than the 100 ms since boot.
 */
static void daqs_bucket_test_rescale_boot_time(struct kunit *test)
{
	u64 now = 100 * NSEC_PER_MSEC, depart;
	struct daqs_rate old, new;
	struct daqs_bucket b;
	s64 tokens;

	daqs_rate_init(&old, GBIT, 62500);
	daqs_rate_init(&new, MBIT, 62500);
	daqs_bucket_init(&b, 0);
	KUNIT_ASSERT_EQ(test, daqs_bucket_tokens(&b, &old, now), 62500LL);

	daqs_bucket_rescale(&b, &old, &new, now);
	KUNIT_EXPECT_LE_MSG(test, t_next(&b), now, "t_next %lld",
			    (s64)t_next(&b));
	tokens = daqs_bucket_tokens(&b, &new, now);
	KUNIT_EXPECT_GE(test, tokens, 0LL);
	KUNIT_EXPECT_LE(test, tokens, 62500LL);
	/* 100 ms at 1 Mbit/s is 12500 bytes: 8 packets at least. */
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &new, 1500, now, POLICE,
						&depart), DAQS_PASS);
	KUNIT_EXPECT_NE(test, daqs_bucket_admit(&b, &new, 1500, now,
						NSEC_PER_SEC, &depart),
			DAQS_OVER);
}

/*
 * Boot time: CLOCK_MONOTONIC starts near 0, below burst_ns. now - burst_ns
 * must not wrap; the level is at most the time since boot.
 */
static void daqs_bucket_test_boot_time(struct kunit *test)
{
	struct daqs_bucket b;
	struct daqs_rate r;
	u64 depart;

	/* 8000 bit/s: 1 ms a byte, burst 1500 bytes = 1.5 s. */
	daqs_rate_init(&r, DAQS_RATE_MIN_BPS, 1500);
	KUNIT_ASSERT_EQ(test, r.burst_ns, 1500 * (u64)NSEC_PER_MSEC);

	daqs_bucket_init(&b, 0);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, 0), 0LL);
	depart = UNTOUCHED;
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1, 0, POLICE,
						&depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, depart, UNTOUCHED);
	KUNIT_EXPECT_EQ(test, t_next(&b), 0ULL);

	/* 500 ms after boot: 500 bytes, not a burst. */
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, 500 * NSEC_PER_MSEC),
			500LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 501,
						500 * NSEC_PER_MSEC, POLICE,
						&depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 500,
						500 * NSEC_PER_MSEC, POLICE,
						&depart), DAQS_PASS);
	KUNIT_EXPECT_EQ(test, t_next(&b), 500 * NSEC_PER_MSEC);

	/* A shaper at 1 us after boot: departs after the cost, no wrap. */
	daqs_bucket_init(&b, 1000);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 2, 1000, NO_QLIMIT,
						&depart), DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, 1000 + 2 * NSEC_PER_MSEC);

	/* now == burst_ns and one past it: the floor goes from 0 to 1. */
	daqs_bucket_init(&b, 0);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, r.burst_ns), 1500LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, 1500, r.burst_ns + 1,
						POLICE, &depart), DAQS_PASS);
	KUNIT_EXPECT_EQ(test, t_next(&b), r.burst_ns + 1);
}

/* len = U32_MAX at the smallest rate: len * mult still fits 64 bits. */
static void daqs_bucket_test_len_u32_max(struct kunit *test)
{
	u64 cost = U32_MAX * (u64)NSEC_PER_MSEC;	/* 49.7 days */
	u64 now = T0, depart;
	struct daqs_bucket b;
	struct daqs_rate r;

	daqs_rate_init(&r, DAQS_RATE_MIN_BPS, 1500);
	KUNIT_EXPECT_EQ(test, daqs_rate_cost_ns(&r, U32_MAX), cost);
	/* A length equal to the largest burst is exactly one burst. */
	daqs_rate_init(&r, DAQS_RATE_MIN_BPS, U32_MAX);
	KUNIT_EXPECT_EQ(test, r.burst_ns, cost);

	daqs_rate_init(&r, DAQS_RATE_MIN_BPS, 1500);
	init_full(&b, &r, now);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, U32_MAX, now, POLICE,
						&depart), DAQS_OVER);
	KUNIT_EXPECT_EQ(test, daqs_bucket_admit(&b, &r, U32_MAX, now,
						NO_QLIMIT, &depart),
			DAQS_DELAY);
	KUNIT_EXPECT_EQ(test, depart, now - r.burst_ns + cost);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now),
			-(s64)(U32_MAX - 1500ULL));
}

/*
 * t_next is stored in an s64 but all arithmetic is u64: a bucket whose
 * times cross S64_MAX (292 years of uptime) keeps working. Wrapping U64_MAX
 * is not meaningful and not tested.
 */
static void daqs_bucket_test_s64_boundary(struct kunit *test)
{
	u64 now = (u64)S64_MAX - 80000, depart = 0, prev;
	struct daqs_bucket b;
	struct daqs_rate r;
	int i;

	daqs_rate_init(&r, GBIT, 15000);
	init_full(&b, &r, now);
	for (i = 0; i < 20; i++) {
		prev = depart;
		KUNIT_ASSERT_NE(test, daqs_bucket_admit(&b, &r, 1500, now,
							NO_QLIMIT, &depart),
				DAQS_OVER);
		if (i >= 10)
			KUNIT_EXPECT_EQ(test, depart, max(prev, now) + 12000);
		else
			KUNIT_EXPECT_EQ(test, depart, now);
	}
	KUNIT_EXPECT_EQ(test, t_next(&b), (u64)S64_MAX + 40000);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now), -15000LL);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, (u64)S64_MAX + 40000),
			0LL);
	now = (u64)S64_MAX + NSEC_PER_SEC;
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now), 15000LL);
	for (i = 0; i < 20; i++)
		if (daqs_bucket_admit(&b, &r, 1500, now, POLICE, &depart) !=
		    DAQS_PASS)
			break;
	KUNIT_EXPECT_EQ(test, i, 10);
}

/* Tokens: negative in debt, 0 when empty, at most burst_bytes when full. */
static void daqs_bucket_test_tokens(struct kunit *test)
{
	const struct rate_case *p = test->param_value;
	u64 bytes_per_ns, now = T0;
	struct daqs_bucket b;
	struct daqs_rate r;
	s64 full;

	daqs_rate_init(&r, p->rate_bps, 15000);
	bytes_per_ns = div64_u64(p->rate_bps, 8 * NSEC_PER_SEC);

	daqs_bucket_init(&b, now);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now), 0LL);
	/* Rounded down, burst_ns is short of burst_bytes by < 1 ns. */
	full = daqs_bucket_tokens(&b, &r, now + r.burst_ns);
	KUNIT_EXPECT_LE(test, full, 15000LL);
	KUNIT_EXPECT_GE(test, full, 15000LL - 2 - (s64)bytes_per_ns);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now + 10 * r.burst_ns),
			full);
	KUNIT_EXPECT_EQ(test,
			daqs_bucket_tokens(&b, &r, now + 3600 * NSEC_PER_SEC),
			full);

	/* Debt of exactly one burst reads as minus what a burst reads. */
	daqs_bucket_init(&b, now + r.burst_ns);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now), -full);
	/* A debt of one second is a second's worth of bytes. */
	daqs_bucket_init(&b, now + NSEC_PER_SEC);
	KUNIT_EXPECT_EQ(test, daqs_bucket_tokens(&b, &r, now),
			-(s64)div_u64(p->rate_bps, 8));
}

static struct kunit_case daqs_bucket_cases[] = {
	KUNIT_CASE_PARAM(daqs_bucket_test_rate_init, rate_gen_params),
	KUNIT_CASE_PARAM(daqs_bucket_test_cost_whole_ns, whole_ns_gen_params),
	KUNIT_CASE(daqs_bucket_test_rate_zero),
	KUNIT_CASE(daqs_bucket_test_rate_u64_max),
	KUNIT_CASE_PARAM(daqs_bucket_test_full_burst, burst_gen_params),
	KUNIT_CASE_PARAM(daqs_bucket_test_idle, idle_gen_params),
	KUNIT_CASE_PARAM(daqs_bucket_test_spacing, rate_gen_params),
	KUNIT_CASE_PARAM(daqs_bucket_test_police_rate, rate_gen_params),
	KUNIT_CASE(daqs_bucket_test_police_refuses),
	KUNIT_CASE(daqs_bucket_test_shape_qlimit),
	KUNIT_CASE(daqs_bucket_test_rate_swap),
	KUNIT_CASE_PARAM(daqs_bucket_test_rescale, rescale_gen_params),
	KUNIT_CASE(daqs_bucket_test_rescale_unlimited),
	KUNIT_CASE(daqs_bucket_test_rescale_boot_time),
	KUNIT_CASE(daqs_bucket_test_boot_time),
	KUNIT_CASE(daqs_bucket_test_len_u32_max),
	KUNIT_CASE(daqs_bucket_test_s64_boundary),
	KUNIT_CASE_PARAM(daqs_bucket_test_tokens, rate_gen_params),
	{}
};

static struct kunit_suite daqs_bucket_suite = {
	.name = "daqs_bucket",
	.test_cases = daqs_bucket_cases,
};

kunit_test_suite(daqs_bucket_suite);
