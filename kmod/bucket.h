/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daqs token bucket, written as an earliest-departure-time clock.
 *
 * Instead of a token count that a timer refills, the bucket keeps one
 * number: t_next, the virtual time (ns, CLOCK_MONOTONIC) at which the link
 * has finished sending everything admitted so far. A packet of cost c
 * nanoseconds (its wire bytes at the configured rate) may leave at
 *
 *	t_c    = max(t_next, now - burst_ns)	(idle time earns at most a burst)
 *	depart = max(now, t_c + c)
 *
 * and moves t_next to t_c + c. now - t_c is the token level in nanoseconds;
 * it never exceeds burst_ns, so nothing can leave faster than one burst
 * above the rate. Shape mode queues the packet until depart; police mode
 * drops it when depart > now. Shape mode also refuses a packet that would
 * wait longer than qlimit_ns: that bounds the queue of an unresponsive
 * sender to rate * qlimit + burst bytes.
 *
 * t_next is a single atomic64 updated with cmpxchg: CPUs admitting packets
 * for the same device never take a lock. A refused packet leaves t_next
 * unchanged. A late timer does not lose tokens: departure times are computed
 * from t_next, not from when the timer ran.
 *
 * Changing the rate replaces the daqs_rate parameters and then converts the
 * level (daqs_bucket_rescale): the bytes of credit carried over stay the
 * same, clamped to the new burst, so a change never refills the bucket and
 * never lets the device run unlimited. A debt (packets waiting) is kept in
 * time: those packets already have their departure times.
 *
 * Cost is computed without division: c = (len * mult) >> shift, mult and
 * shift precomputed from the rate (the scheme of psched_ratecfg).
 */
#ifndef _DAQS_BUCKET_H
#define _DAQS_BUCKET_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/minmax.h>

#include "../uapi/linux/daqs.h"	/* DAQS_RATE_MIN_BPS */

struct daqs_rate {
	u64 rate_bps;		/* bit/s; 0: unlimited */
	u64 burst_ns;		/* bucket depth in ns at rate_bps */
	u32 burst_bytes;	/* bucket depth in bytes */
	u32 mult;		/* ns per byte, scaled by 2^shift */
	u8 shift;
};

struct daqs_bucket {
	atomic64_t t_next;	/* ns, CLOCK_MONOTONIC */
};

enum daqs_verdict {
	DAQS_PASS,		/* may leave now */
	DAQS_DELAY,		/* may leave at *depart */
	DAQS_OVER,		/* refused: police over-limit or shape qlimit */
};

void daqs_rate_init(struct daqs_rate *r, u64 rate_bps, u32 burst_bytes);

static inline u64 daqs_rate_cost_ns(const struct daqs_rate *r, u32 len)
{
	return ((u64)len * r->mult) >> r->shift;
}

static inline void daqs_bucket_init(struct daqs_bucket *b, u64 now)
{
	atomic64_set(&b->t_next, now);
}

/*
 * Admit a packet of @len wire bytes at time @now. @max_wait_ns is how long
 * it may wait: 0 in police mode, the qlimit in shape mode.
 */
static inline enum daqs_verdict daqs_bucket_admit(struct daqs_bucket *b,
						  const struct daqs_rate *r,
						  u32 len, u64 now,
						  u64 max_wait_ns, u64 *depart)
{
	u64 floor = now > r->burst_ns ? now - r->burst_ns : 0;
	u64 cost = daqs_rate_cost_ns(r, len);
	s64 old = atomic64_read(&b->t_next);
	u64 t_c, end;

	do {
		t_c = max_t(u64, (u64)old, floor);
		end = t_c + cost;
		if (end > now && end - now > max_wait_ns)
			return DAQS_OVER;
	} while (!atomic64_try_cmpxchg(&b->t_next, &old, (s64)end));

	*depart = max(end, now);
	return end > now ? DAQS_DELAY : DAQS_PASS;
}

void daqs_bucket_rescale(struct daqs_bucket *b, const struct daqs_rate *old,
			 const struct daqs_rate *new, u64 now);

/* Give back the cost of an admitted packet that was dropped after all. */
static inline void daqs_bucket_refund(struct daqs_bucket *b,
				      const struct daqs_rate *r, u32 len)
{
	atomic64_sub(daqs_rate_cost_ns(r, len), &b->t_next);
}

/* Tokens in bytes at @now: negative while packets wait (debt). */
s64 daqs_bucket_tokens(const struct daqs_bucket *b, const struct daqs_rate *r,
		       u64 now);

#endif /* _DAQS_BUCKET_H */
