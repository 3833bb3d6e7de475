/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The allocator of daqsd: who may send how fast on the shared link.
 *
 * One tick: the caller measures every VM's transmit rate over the last tick,
 * calls daqs_alloc(), and pushes the limits that changed. The allocator is
 * weighted max-min fair ("water-filling") over each VM's estimated demand,
 * with per-VM minimums and maximums; every policy except paper2023 is a
 * configuration of it. No I/O, no clock: a pure function of its inputs and
 * of the state the caller carries from one tick to the next, so every rule
 * is tested with a fluid model of the link (tests/unit/test_alloc.c).
 * docs/policy.md explains the algorithm with a worked example.
 *
 * Demand. A VM held to a limit sends about that limit, so above it its
 * demand cannot be seen. Each VM therefore carries the share it was given
 * last tick (its "allocation", st.alloc_bps). If it sent at least
 * saturated x that share (or x its limit in force, whichever is lower), it
 * is UNSATISFIED and its demand is unbounded: it gets its fair share of
 * what the others leave. Otherwise it is SATISFIED and its demand is
 * rate x (1 + headroom) + floor, the headroom letting it show next tick
 * that it wants more. An unknown rate (no previous counter, a failed read)
 * HOLDs the previous allocation: nothing changes because of a missing
 * sample.
 *
 * Guarantees. Allocations always sum to at most the capacity, so no VM can
 * push another below its allocation at the bottleneck, and the saturation
 * test is never fooled by a squeezed VM. The limit of a VM with a minimum
 * is max(allocation, minimum): one that is idle lends its minimum to the
 * others (work conservation) yet can start sending at once; the first tick
 * it sends more than its small allocation it is UNSATISFIED and gets its
 * whole minimum back. Hence the one documented slack:
 *
 *   limit = max(allocation, minimum, DAQS_RATE_MIN_BPS)
 *   sum(limits) <= capacity + sum over VMs of (limit - allocation)
 *
 * Limits are never 0, which means "no limit" to the guest, nor below the
 * datapath's smallest rate (8 kbit/s): a present VM gets at least the
 * floor, unless minimums take the whole link, and then DAQS_RATE_MIN_BPS.
 */
#ifndef DAQS_ALLOC_H
#define DAQS_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/daqs.h>		/* DAQS_RATE_MIN_BPS */

enum daqs_policy_kind {
	DAQS_POLICY_STANDALONE,		/* static cap: limit = max, else capacity */
	DAQS_POLICY_FAIRSHARE,		/* max-min fair, equal weights, no minimums */
	DAQS_POLICY_MINIMUM_GUARANTEE,	/* minimums, then weighted max-min fair */
	DAQS_POLICY_WEIGHTED_SHARE,	/* weights ("payments"), no minimums */
	DAQS_POLICY_PAPER2023,		/* the original DAQS threshold loop */
	__DAQS_POLICY_MAX
};

/* "fairshare" etc.; NULL for an unknown kind */
const char *daqs_policy_name(enum daqs_policy_kind kind);
/* 0, or -EINVAL when the name is not a policy */
int daqs_policy_parse(const char *name, enum daqs_policy_kind *kind);

struct daqs_policy {
	enum daqs_policy_kind kind;
	uint32_t tick_ms;	/* paper2023 scales its step by tick / 200 ms */
	double headroom;	/* satisfied: demand = rate * (1 + headroom) + floor */
	double saturated;	/* rate >= saturated * allocation: wants more */
	double limited_frac;	/* ... or limited and rate >= this * allocation */
	double idle_frac;	/* rate < this * min: an idle guaranteed VM */
	double floor_frac;	/* floor = capacity * floor_frac ... */
	uint64_t floor_min_bps;	/* ... but at least this ... */
	/* ... and at most capacity / (8 * VMs present), so floors stay small */
};

/*
 * The defaults: headroom 4%, saturated at 97.5% (or limited at 50%), idle
 * below 10% of the minimum, floor 0.1% but >= 100 kbit/s.
 */
void daqs_policy_init(struct daqs_policy *p, enum daqs_policy_kind kind,
		      uint32_t tick_ms);

/* How a VM's demand was estimated this tick. */
enum daqs_demand {
	DAQS_DEMAND_ABSENT,		/* not present: no limit, state reset */
	DAQS_DEMAND_NEW,		/* no rate, no allocation yet */
	DAQS_DEMAND_HOLD,		/* rate unknown: keeps its allocation */
	DAQS_DEMAND_SATISFIED,		/* sends less than it may */
	DAQS_DEMAND_UNSATISFIED,	/* sends what it may: wants more */
	DAQS_DEMAND_STATIC,		/* standalone, paper2023: not estimated */
};

/* demand_bps of an UNSATISFIED VM */
#define DAQS_DEMAND_UNBOUNDED UINT64_MAX

/* State kept per VM between ticks; zero for a new VM, owned by daqs_alloc. */
struct daqs_vm_alloc {
	uint64_t alloc_bps;	/* the share budgeted last tick */
	uint64_t demand_bps;	/* the estimate (for status) */
	enum daqs_demand demand;
	bool idle;		/* a guaranteed VM sending (almost) nothing:
				 * its limit stays at its minimum */
};

struct daqs_vm_in {
	const char *name;	/* for the caller's messages only */
	bool present;		/* false: gone; its minimum is freed */
	bool rate_known;	/* false: first sample, failed read */
	uint64_t rate_bps;	/* measured over the last tick */
	bool limited;		/* and the limit held packets back meanwhile
				 * (delayed or dropped them) */
	uint64_t limit_bps;	/* in force in the guest; 0: none or unknown */
	uint64_t min_bps;	/* guaranteed; 0: best effort */
	uint64_t max_bps;	/* 0: no maximum */
	uint32_t weight;	/* share of the excess; 0 is read as 1 */
	struct daqs_vm_alloc st;
};

/* State kept per allocator between ticks. Zero it before the first tick. */
struct daqs_alloc_state {
	double paper_r_bps;	/* paper2023's shared limit R; < 0: none */
	bool paper_started;	/* R has been initialised to -1 */
	void *scratch;		/* work space, grown as needed */
	size_t scratch_len;
};

void daqs_alloc_state_release(struct daqs_alloc_state *st);

/* The largest capacity the allocator computes exactly (2^53 bit/s). */
#define DAQS_ALLOC_CAPACITY_MAX (1ULL << 53)

/*
 * One tick. Writes limits_out[i] for every VM: the limit to push, in bit/s,
 * from DAQS_RATE_MIN_BPS to the capacity for a present VM; 0 for a VM that
 * is not present. Updates vms[i].st. Returns 0, or -EINVAL (capacity below
 * DAQS_RATE_MIN_BPS or above DAQS_ALLOC_CAPACITY_MAX, bad policy) or
 * -ENOMEM, leaving limits_out and the state untouched. Minimums that add up to more than the capacity (the
 * link renegotiated to a lower speed) are scaled down in proportion.
 */
int daqs_alloc(const struct daqs_policy *p, uint64_t capacity_bps,
	       struct daqs_vm_in *vms, size_t n, uint64_t *limits_out,
	       struct daqs_alloc_state *st);

/*
 * Water-filling, exposed for tests and for the lab's fluid model. Item i
 * receives f_i(L) = min(hi[i], max(lo[i], base[i] + w[i] * L)), with
 * base <= lo <= hi (all finite) and w > 0; finds the largest level L >= 0
 * with sum f_i(L) <= total and writes f_i(L) to out[]. If even L = 0 does
 * not fit, every item gets lo[i] scaled down in proportion and the level
 * is 0. Returns the level, INFINITY when every item reaches hi. ev is
 * scratch space for 2 * n events.
 */
struct daqs_wf_event {
	double t;	/* level at which ... */
	double dw;	/* ... the slope of the sum changes by this */
};

double daqs_waterfill(const double *base, const double *lo, const double *hi,
		      const double *w, size_t n, double total, double *out,
		      struct daqs_wf_event *ev);

#endif /* DAQS_ALLOC_H */
