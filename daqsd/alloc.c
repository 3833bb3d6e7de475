// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsd's allocator: demand estimate, weighted max-min fair water-filling
 * with minimums and maximums, and the original DAQS threshold loop
 * (paper2023). See alloc.h for the contract and docs/policy.md for why.
 *
 * Arithmetic is in double: rates up to 2^53 bit/s are exact, and the few
 * bits lost in a level are given back by rounding every share down and
 * clipping the sum to the capacity in integers at the end.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static const char *const policy_names[__DAQS_POLICY_MAX] = {
	[DAQS_POLICY_STANDALONE] = "standalone",
	[DAQS_POLICY_FAIRSHARE] = "fairshare",
	[DAQS_POLICY_MINIMUM_GUARANTEE] = "minimum_guarantee",
	[DAQS_POLICY_WEIGHTED_SHARE] = "weighted_share",
	[DAQS_POLICY_PAPER2023] = "paper2023",
};

const char *daqs_policy_name(enum daqs_policy_kind kind)
{
	if ((unsigned int)kind >= __DAQS_POLICY_MAX)
		return NULL;
	return policy_names[kind];
}

int daqs_policy_parse(const char *name, enum daqs_policy_kind *kind)
{
	unsigned int i;

	for (i = 0; name && i < __DAQS_POLICY_MAX; i++) {
		if (!strcmp(name, policy_names[i])) {
			*kind = i;
			return 0;
		}
	}
	return -EINVAL;
}

void daqs_policy_init(struct daqs_policy *p, enum daqs_policy_kind kind,
		      uint32_t tick_ms)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->tick_ms = tick_ms;
	/*
	 * (1 + headroom) * saturated = 1.014: a VM that keeps its rate is
	 * still SATISFIED next tick with 1.4% of measurement noise to spare
	 * (plus the floor), while a VM at its limit (the datapath holds the
	 * set rate within 1%) is always UNSATISFIED. A satisfied VM taken
	 * for unsatisfied costs one tick of its fair share; the headroom
	 * costs its 4% for as long as others want more, hence small.
	 */
	p->headroom = 0.04;
	p->saturated = 0.975;
	/*
	 * A VM whose limit held packets back is UNSATISFIED if it sent at
	 * least half its share: below 97.5% that is a dip of the sender or
	 * of the measurement, not a drop in demand. (Below its minimum it
	 * is UNSATISFIED whatever it sent: see alloc_maxmin.)
	 */
	p->limited_frac = 0.5;
	/*
	 * A guaranteed VM sending less than a tenth of its minimum is idle:
	 * it lends its minimum but keeps it as its limit, so that it can
	 * start at once (see alloc_maxmin).
	 */
	p->idle_frac = 0.1;
	p->floor_frac = 0.001;
	p->floor_min_bps = 100000;
}

void daqs_alloc_state_release(struct daqs_alloc_state *st)
{
	free(st->scratch);
	st->scratch = NULL;
	st->scratch_len = 0;
}

static int cmp_event(const void *a, const void *b)
{
	const struct daqs_wf_event *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

double daqs_waterfill(const double *base, const double *lo, const double *hi,
		      const double *w, size_t n, double total, double *out,
		      struct daqs_wf_event *ev)
{
	double sum = 0, slope = 0, at = 0, level = INFINITY;
	size_t i, nev = 0;

	for (i = 0; i < n; i++)
		sum += lo[i];
	if (sum > total) {
		/* only when minimums exceed a capacity that shrank */
		for (i = 0; i < n; i++)
			out[i] = sum > 0 ? lo[i] * (total / sum) : 0;
		return 0;
	}

	/*
	 * sum_i f_i(L) is piecewise linear and non-decreasing in L: item i
	 * adds slope w[i] between the level where base + w L reaches lo and
	 * the one where it reaches hi. Sweep those breakpoints in order.
	 */
	for (i = 0; i < n; i++) {
		if (hi[i] <= lo[i])
			continue;
		ev[nev].t = (lo[i] - base[i]) / w[i];
		ev[nev++].dw = w[i];
		ev[nev].t = (hi[i] - base[i]) / w[i];
		ev[nev++].dw = -w[i];
	}
	qsort(ev, nev, sizeof(*ev), cmp_event);
	for (i = 0; i < nev; i++) {
		double next = sum + slope * (ev[i].t - at);

		if (slope > 0 && next > total) {
			level = at + (total - sum) / slope;
			break;
		}
		sum = next;
		at = ev[i].t;
		slope += ev[i].dw;
	}

	for (i = 0; i < n; i++) {
		double v = isinf(level) ? hi[i] : base[i] + w[i] * level;

		out[i] = v < lo[i] ? lo[i] : v > hi[i] ? hi[i] : v;
	}
	return level;
}

/* per VM: base lo hi w out (doubles), then two events */
#define PER_VM (5 * sizeof(double) + 2 * sizeof(struct daqs_wf_event))

static int grow_scratch(struct daqs_alloc_state *st, size_t n)
{
	void *p;

	if (n > SIZE_MAX / PER_VM)
		return -ENOMEM;
	if (st->scratch_len >= n * PER_VM)
		return 0;
	p = realloc(st->scratch, n * PER_VM);
	if (!p)
		return -ENOMEM;
	st->scratch = p;
	st->scratch_len = n * PER_VM;
	return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void set_absent(struct daqs_vm_in *vm, uint64_t *limit)
{
	memset(&vm->st, 0, sizeof(vm->st));
	vm->st.demand = DAQS_DEMAND_ABSENT;
	*limit = 0;
}

static uint64_t vm_max(const struct daqs_vm_in *vm, uint64_t capacity)
{
	return vm->max_bps ? min_u64(vm->max_bps, capacity) : capacity;
}

/* standalone: a static cap, what `ip link set ... max_tx_rate` does */
static void alloc_static(uint64_t capacity, struct daqs_vm_in *vms, size_t n,
			 uint64_t *limits)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct daqs_vm_in *vm = &vms[i];

		if (!vm->present) {
			set_absent(vm, &limits[i]);
			continue;
		}
		limits[i] = max_u64(vm_max(vm, capacity), DAQS_RATE_MIN_BPS);
		vm->st.alloc_bps = limits[i];
		vm->st.demand = DAQS_DEMAND_STATIC;
		vm->st.demand_bps = vm->rate_known ? vm->rate_bps : 0;
	}
}

/*
 * paper2023: the control law of the original minimum_guarantee.py, with its
 * constants (Gbit/s of a 40 Gbit/s link) made fractions of the capacity H
 * and its step made per 200 ms so the slew rate does not depend on the
 * tick. Guaranteed VMs (min > 0) are never limited; every best-effort VM
 * shares one limit R. Fixed: an unknown rate holds R (the original read a
 * first sample as a huge negative rate and dropped every limit), idle
 * best-effort VMs follow R too (the original left them stuck at an old
 * limit), and no VM at all is a no-op (the original crashed).
 */
#define PAPER_GBIT(x) ((x) / 40.0)	/* x Gbit/s of the 40G link, as a fraction */

static void alloc_paper(const struct daqs_policy *p, uint64_t capacity,
			struct daqs_vm_in *vms, size_t n, uint64_t *limits,
			struct daqs_alloc_state *st)
{
	const double h = (double)capacity;
	const double ignore = h * PAPER_GBIT(1.0);
	const double step = h * PAPER_GBIT(0.3) * (p->tick_ms ? p->tick_ms : 200) / 200.0;
	const double r_floor = h * PAPER_GBIT(1.0);
	double g = 0, t = 0, target = 0, r, share;
	bool unknown = false;
	size_t i, senders = 0;

	if (!st->paper_started) {
		st->paper_r_bps = -1;
		st->paper_started = true;
	}
	r = st->paper_r_bps;

	for (i = 0; i < n; i++) {
		const struct daqs_vm_in *vm = &vms[i];
		double rate;

		if (!vm->present)
			continue;
		if (!vm->rate_known) {
			unknown = true;
			/* a hold counts it as it was last seen */
			rate = (double)vm->st.demand_bps;
		} else {
			rate = (double)vm->rate_bps;
		}
		t += rate;
		if (vm->min_bps) {
			g += rate;
			target += (double)vm->min_bps;
		} else if (rate > ignore) {
			senders++;
		}
	}

	if (unknown) {
		/* no decision from a missing sample: R holds */
	} else if (g < ignore) {
		r = -1;
	} else if (g < target) {
		if (r < 0) {
			r = h;
		} else if (t >= 0.838 * h) {
			r -= step;
			if (r < r_floor)
				r = r_floor;
		} else if (0.904 * h > t + step) {
			r += step;
		}
	} else if (g > 1.45 * target + h * PAPER_GBIT(1.15) && t - g > ignore) {
		if (r >= 0)
			r += step;
	}
	/*
	 * Above H the original deletes the qdisc; keep R within one step of
	 * it so that the way back down starts at once.
	 */
	if (r > h + step)
		r = h + step;
	st->paper_r_bps = r;

	share = r / (double)(senders ? senders : 1);
	for (i = 0; i < n; i++) {
		struct daqs_vm_in *vm = &vms[i];

		if (!vm->present) {
			set_absent(vm, &limits[i]);
			continue;
		}
		if (vm->min_bps || r < 0 || r > h)
			limits[i] = capacity;
		else
			limits[i] = max_u64(min_u64((uint64_t)share, capacity),
					    DAQS_RATE_MIN_BPS);
		vm->st.alloc_bps = limits[i];
		vm->st.demand = DAQS_DEMAND_STATIC;
		if (vm->rate_known)
			vm->st.demand_bps = vm->rate_bps;
	}
}

/* fairshare, minimum_guarantee, weighted_share */
static void alloc_maxmin(const struct daqs_policy *p, uint64_t capacity,
			 struct daqs_vm_in *vms, size_t n, uint64_t *limits,
			 void *scratch)
{
	const bool use_min = p->kind == DAQS_POLICY_MINIMUM_GUARANTEE;
	const bool use_weight = p->kind != DAQS_POLICY_FAIRSHARE;
	double *base = scratch, *lo = base + n, *hi = lo + n, *w = hi + n;
	double *out = w + n;
	struct daqs_wf_event *ev = (struct daqs_wf_event *)(out + n);
	double c = (double)capacity, fl, level, used = 0;
	size_t i, m = 0, present = 0;
	uint64_t left;

	for (i = 0; i < n; i++)
		present += vms[i].present;
	fl = c * p->floor_frac;
	if (fl < (double)p->floor_min_bps)
		fl = (double)p->floor_min_bps;
	if (present && fl > c / (8.0 * (double)present))
		fl = c / (8.0 * (double)present);
	if (fl < 1)
		fl = 1;

	/* demand estimate; m indexes the present VMs in the arrays */
	for (i = 0; i < n; i++) {
		struct daqs_vm_in *vm = &vms[i];
		double vmin = use_min ? (double)vm->min_bps : 0;
		double vmax = (double)vm_max(vm, capacity);
		double rate = (double)vm->rate_bps, ref, d;

		if (!vm->present)
			continue;
		if (vmin > vmax)
			vmin = vmax;
		/*
		 * The share it could use last tick: its allocation, or the
		 * limit in force if that is lower (a push not yet applied) or
		 * if there is no allocation (daqsd restarted).
		 */
		ref = (double)vm->st.alloc_bps;
		if (vm->limit_bps && (!ref || (double)vm->limit_bps < ref))
			ref = (double)vm->limit_bps;

		if (!vm->rate_known) {
			/* HOLD keeps st.idle too: its limit does not move */
			vm->st.demand = ref ? DAQS_DEMAND_HOLD : DAQS_DEMAND_NEW;
			d = ref ? ref : (vmin > fl ? vmin : fl);
			if (!ref)
				vm->st.idle = false;
		} else if (ref && (rate >= p->saturated * ref ||
				   (vm->limited && (ref < vmin ||
						    rate >= p->limited_frac * ref)))) {
			vm->st.demand = DAQS_DEMAND_UNSATISFIED;
			vm->st.idle = false;
			d = INFINITY;
		} else {
			vm->st.demand = DAQS_DEMAND_SATISFIED;
			vm->st.idle = vmin > 0 && rate < p->idle_frac * vmin;
			d = rate * (1 + p->headroom) + fl;
		}
		vm->st.demand_bps = isinf(d) ? DAQS_DEMAND_UNBOUNDED :
			d >= 18446744073709551615.0 ? UINT64_MAX - 1 : (uint64_t)d;
		if (d > vmax)
			d = vmax;
		if (d < fl)
			d = fl < vmax ? fl : vmax;

		base[m] = 0;
		hi[m] = d;
		lo[m] = vmin < d ? vmin : d;
		w[m] = use_weight && vm->weight ? (double)vm->weight : 1;
		m++;
	}

	/* minimums first, then the rest by weight, up to each demand */
	level = daqs_waterfill(base, lo, hi, w, m, c, out, ev);
	for (i = 0; i < m; i++)
		used += out[i];
	if (isinf(level) && used < c) {
		/*
		 * Every demand is met: lend what is left, filling up to a
		 * common level by weight (each VM gets the larger of its
		 * demand and its weighted fair share), so a VM whose demand
		 * grows can take it at once instead of a tick later.
		 */
		m = 0;
		for (i = 0; i < n; i++) {
			if (!vms[i].present)
				continue;
			base[m] = 0;
			lo[m] = out[m];
			hi[m] = (double)vm_max(&vms[i], capacity);
			if (hi[m] < lo[m])
				hi[m] = lo[m];
			m++;
		}
		daqs_waterfill(base, lo, hi, w, m, c, out, ev);
	}

	/* round down, and clip so the allocations never exceed capacity */
	left = capacity;
	m = 0;
	for (i = 0; i < n; i++) {
		struct daqs_vm_in *vm = &vms[i];
		uint64_t a, keep;

		if (!vm->present) {
			set_absent(vm, &limits[i]);
			continue;
		}
		a = out[m] <= 0 ? 0 : out[m] >= c ? capacity : (uint64_t)out[m];
		m++;
		a = min_u64(a, left);
		left -= a;
		vm->st.alloc_bps = a;
		/*
		 * The limit is the allocation, so that the limits do not add
		 * up to more than the link while a guaranteed VM is sending:
		 * one that lends part of its minimum (it dipped, or sends
		 * less) is not left to compete for it at the bottleneck,
		 * where its few flows lose to its neighbours' many, look
		 * satisfied and lend more. Wanting its minimum back, it is
		 * held back by its limit (limited) or sends all it may, and
		 * is UNSATISFIED at the next tick. An idle one keeps its
		 * minimum as its limit: starting from a limit of a few
		 * hundred kbit/s, TCP loses packets and backs off for longer
		 * than a tick, and looks satisfied again; what it overcommits
		 * is capacity nobody is sending in, and its first window
		 * makes it UNSATISFIED.
		 */
		keep = vm->st.idle ?
			min_u64(vm->min_bps, vm_max(vm, capacity)) : 0;
		limits[i] = max_u64(max_u64(a, keep), DAQS_RATE_MIN_BPS);
	}
}

int daqs_alloc(const struct daqs_policy *p, uint64_t capacity_bps,
	       struct daqs_vm_in *vms, size_t n, uint64_t *limits_out,
	       struct daqs_alloc_state *st)
{
	if (!p || !st || (n && (!vms || !limits_out)))
		return -EINVAL;
	if (capacity_bps < DAQS_RATE_MIN_BPS ||
	    capacity_bps > DAQS_ALLOC_CAPACITY_MAX)
		return -EINVAL;
	if (!(p->headroom >= 0 && p->headroom <= 10) ||
	    !(p->saturated > 0 && p->saturated <= 1) ||
	    !(p->limited_frac >= 0 && p->limited_frac <= 1) ||
	    !(p->idle_frac >= 0 && p->idle_frac <= 1) ||
	    !(p->floor_frac >= 0 && p->floor_frac < 1))
		return -EINVAL;

	switch (p->kind) {
	case DAQS_POLICY_STANDALONE:
		alloc_static(capacity_bps, vms, n, limits_out);
		return 0;
	case DAQS_POLICY_PAPER2023:
		alloc_paper(p, capacity_bps, vms, n, limits_out, st);
		return 0;
	case DAQS_POLICY_FAIRSHARE:
	case DAQS_POLICY_MINIMUM_GUARANTEE:
	case DAQS_POLICY_WEIGHTED_SHARE:
		if (grow_scratch(st, n ? n : 1))
			return -ENOMEM;
		alloc_maxmin(p, capacity_bps, vms, n, limits_out, st->scratch);
		return 0;
	default:
		return -EINVAL;
	}
}
