// SPDX-License-Identifier: GPL-2.0
/*
 * Slow-path helpers of the token bucket; the fast path is inline in
 * bucket.h.
 */
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/time64.h>
#include "bucket.h"

void daqs_rate_init(struct daqs_rate *r, u64 rate_bps, u32 burst_bytes)
{
	u64 factor = 8ULL * NSEC_PER_SEC;	/* ns per byte at 1 bit/s */

	r->rate_bps = rate_bps;
	r->burst_bytes = burst_bytes;
	r->mult = 0;
	r->shift = 0;
	r->burst_ns = 0;
	if (!rate_bps)
		return;

	/*
	 * Largest shift that keeps mult within 32 bits, rounding up so that
	 * the bucket never sends above the rate. At 100 Gbit/s mult keeps 27
	 * significant bits; rates below DAQS_RATE_MIN_BPS are refused by the
	 * callers (mult would not fit).
	 */
	for (;;) {
		u64 rem, mult = div64_u64_rem(factor, rate_bps, &rem) + !!rem;

		if (mult > U32_MAX)
			break;
		r->mult = mult;
		if (mult & (1U << 31) || factor & (1ULL << 63) || r->shift == 63)
			break;
		factor <<= 1;
		r->shift++;
	}
	r->burst_ns = daqs_rate_cost_ns(r, burst_bytes);
}

void daqs_bucket_rescale(struct daqs_bucket *b, const struct daqs_rate *old,
			 const struct daqs_rate *new, u64 now)
{
	s64 cur = atomic64_read(&b->t_next);
	u64 level, t_next;

	/* from or to unlimited there is no level to carry over */
	if (!old->rate_bps || !new->rate_bps)
		return;
	do {
		if ((u64)cur >= now)
			return;
		level = min_t(u64, now - (u64)cur, old->burst_ns);
		level = mul_u64_u64_div_u64(level, old->rate_bps, new->rate_bps);
		/* nor can it reach back before boot */
		level = min3(level, new->burst_ns, now);
		t_next = now - level;
	} while (!atomic64_try_cmpxchg(&b->t_next, &cur, (s64)t_next));
}

s64 daqs_bucket_tokens(const struct daqs_bucket *b, const struct daqs_rate *r,
		       u64 now)
{
	s64 level = (s64)(now - (u64)atomic64_read(&b->t_next));
	u64 bytes_ps = div_u64(r->rate_bps, 8);

	if (!r->rate_bps)
		return 0;
	level = min_t(s64, level, r->burst_ns);
	/* level * bytes_ps / 1e9 without overflowing for any sane level */
	if (level >= 0)
		return (s64)mul_u64_u64_div_u64(level, bytes_ps, NSEC_PER_SEC);
	return -(s64)mul_u64_u64_div_u64(-level, bytes_ps, NSEC_PER_SEC);
}
