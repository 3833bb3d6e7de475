// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A guest's counters and limit against its VF's host counters: the sums
 * over an interval and their judgement. See verify.h.
 */
#include "verify.h"

#include <stdio.h>
#include <string.h>

void daqs_verify_conf_default(struct daqs_verify_conf *c)
{
	c->interval_ms = DAQS_VERIFY_INTERVAL_MS;
	c->tolerance_bp = DAQS_VERIFY_TOLERANCE_BP;
	c->limit_tolerance_bp = DAQS_VERIFY_LIMIT_TOLERANCE_BP;
	c->strikes = DAQS_VERIFY_STRIKES;
	c->hold_ms = DAQS_VERIFY_HOLD_MS;
	c->slack_bytes = DAQS_VERIFY_SLACK_BYTES;
}

void daqs_verify_init(struct daqs_verify *v)
{
	memset(v, 0, sizeof(*v));
	v->verdict = DAQS_VERDICT_PENDING;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* x (1 + bp / 10000), saturating; x may be anything a guest says */
static uint64_t scale_up(uint64_t x, uint32_t bp)
{
	uint64_t q = x / DAQS_VERIFY_BP_MAX, r = x % DAQS_VERIFY_BP_MAX;

	if (bp > DAQS_VERIFY_BP_MAX)
		bp = DAQS_VERIFY_BP_MAX;
	return sat_add(x, q * bp + r * bp / DAQS_VERIFY_BP_MAX);
}

static uint64_t to_u64(double x)
{
	if (!(x > 0))
		return 0;
	if (x >= 18446744073709551615.0)
		return UINT64_MAX;
	return (uint64_t)x;
}

/*
 * The bytes a host counter moved by from prev to cur over dt_ns. Back: a
 * 32- or 64-bit wrap if that is a plausible amount at the link's capacity
 * (twice it, plus the slack), else a reset: cur is what was sent since.
 */
static uint64_t host_delta(struct daqs_verify *v, uint64_t prev, uint64_t cur,
			   uint64_t dt_ns, uint64_t cap_bps, uint64_t slack)
{
	double most;
	uint64_t w;

	if (cur >= prev)
		return cur - prev;
	if (cap_bps) {
		most = (double)cap_bps / 8.0 * (double)dt_ns / 1e9 * 2.0 +
		       (double)slack;
		if (prev <= UINT32_MAX) {
			w = (uint64_t)UINT32_MAX - prev + cur + 1;
			if ((double)w <= most) {
				v->host_wraps++;
				return w;
			}
		}
		w = UINT64_MAX - prev + cur + 1;
		if ((double)w <= most) {
			v->host_wraps++;
			return w;
		}
	}
	v->host_resets++;
	return cur;
}

static void open_interval(struct daqs_verify *v, uint64_t now_ns)
{
	v->open = true;
	v->restart = false;
	v->start_ns = now_ns;
	v->acc_host = 0;
	v->acc_guest = 0;
	v->acc_allowed_bits = 0;
	v->acc_limited = true;
	v->acc_reported = false;
}

static void judge(struct daqs_verify *v, const struct daqs_verify_conf *c,
		  const struct daqs_verify_sample *s, uint64_t elapsed_ns)
{
	struct daqs_verify_interval *in = &v->last;
	uint64_t slack = c->slack_bytes;
	unsigned int why = 0;

	memset(in, 0, sizeof(*in));
	in->ns = elapsed_ns;
	in->host_bytes = v->acc_host;
	in->reported_bytes = v->acc_guest;
	in->reported = v->acc_reported;
	in->limited = v->acc_limited && v->acc_allowed_bits > 0;
	in->allowed_bytes = to_u64(v->acc_allowed_bits / 8.0);
	v->judged = true;
	v->intervals++;

	/* a counter that never moved: the driver reports none */
	if (!v->host_moved &&
	    (s->guest == DAQS_VERIFY_GUEST_NONE || v->acc_guest > slack)) {
		v->verdict = DAQS_VERDICT_UNVERIFIABLE;
		v->strikes = 0;
		return;
	}
	if (s->guest != DAQS_VERIFY_GUEST_NONE &&
	    v->acc_host > sat_add(scale_up(v->acc_guest, c->tolerance_bp), slack))
		why |= s->guest == DAQS_VERIFY_GUEST_REPORTS && v->acc_reported ?
		       DAQS_VERIFY_UNDER_REPORTS : DAQS_VERIFY_SILENT;
	if (in->limited &&
	    v->acc_host > sat_add(scale_up(in->allowed_bytes,
					   c->limit_tolerance_bp), slack))
		why |= DAQS_VERIFY_OVER_LIMIT;
	in->why = why;
	v->under_reports += !!(why & DAQS_VERIFY_UNDER_REPORTS);
	v->silent += !!(why & DAQS_VERIFY_SILENT);
	v->over_limits += !!(why & DAQS_VERIFY_OVER_LIMIT);

	if (why) {
		v->why = why;
		v->strikes++;
		v->compliant_ns = 0;
		if (v->verdict == DAQS_VERDICT_UNTRUSTED)
			return;
		if (v->strikes >= (c->strikes ? c->strikes : 1)) {
			v->verdict = DAQS_VERDICT_UNTRUSTED;
			v->flags++;
		} else {
			v->verdict = DAQS_VERDICT_SUSPECT;
		}
		return;
	}
	v->strikes = 0;
	if (v->verdict == DAQS_VERDICT_UNTRUSTED) {
		v->compliant_ns = sat_add(v->compliant_ns, elapsed_ns);
		if (v->compliant_ns < (uint64_t)c->hold_ms * 1000000ULL)
			return;
		v->compliant_ns = 0;
	}
	v->verdict = DAQS_VERDICT_TRUSTED;
}

bool daqs_verify_step(struct daqs_verify *v, const struct daqs_verify_conf *c,
		      const struct daqs_verify_sample *s)
{
	uint64_t interval_ns = (uint64_t)(c->interval_ms ? c->interval_ms : 1) *
			       1000000ULL;
	uint64_t d, dt, elapsed, lim;
	bool guest_since;

	/* the guest's part: what it says it sent since its last reading */
	if (s->guest == DAQS_VERIFY_GUEST_REPORTS && s->guest_fresh &&
	    (!v->have_guest || s->guest_ns != v->guest_ns)) {
		if (v->have_guest) {
			if (s->guest_tx_bytes >= v->guest_bytes) {
				d = s->guest_tx_bytes - v->guest_bytes;
			} else {
				v->guest_resets++;
				d = s->guest_tx_bytes;
			}
			if (v->open) {
				v->acc_guest = sat_add(v->acc_guest, d);
				v->acc_reported = true;
			}
		} else if (v->open) {
			/* its first reading: the interval starts again with it */
			v->restart = true;
		}
		v->have_guest = true;
		v->guest_ns = s->guest_ns;
		v->guest_bytes = s->guest_tx_bytes;
		v->guest_since = true;
	}

	if (!s->host_valid) {
		v->have_host = false;
		v->open = false;
		v->host_rate_known = false;
		return false;
	}
	if (v->have_host && s->host_ns == v->host_ns)
		return false;		/* no new host reading */
	if (v->have_host && s->host_ns < v->host_ns) {
		v->have_host = false;	/* not a clock of ours: start over */
		v->open = false;
	}
	v->host_rate_known = false;
	if (!v->have_host) {
		v->moved_ns = s->host_ns;
		v->moved_bytes = 0;
	} else {
		dt = s->host_ns - v->host_ns;
		d = host_delta(v, v->host_bytes, s->host_tx_bytes, dt,
			       s->capacity_bps, c->slack_bytes);
		v->moved_bytes = sat_add(v->moved_bytes, d);
		if (d || s->host_ns - v->moved_ns >= 2 * interval_ns) {
			v->host_rate_bps = to_u64((double)v->moved_bytes * 8e9 /
						  (double)(s->host_ns - v->moved_ns));
			v->host_rate_known = true;
			v->moved_ns = s->host_ns;
			v->moved_bytes = 0;
		}
		if (v->open) {
			v->acc_host = sat_add(v->acc_host, d);
			/* the old limit held until the new one was pushed */
			lim = s->limit_bps > v->last_limit_bps ? s->limit_bps :
								 v->last_limit_bps;
			if (!s->limit_bps || !v->last_limit_bps)
				v->acc_limited = false;
			v->acc_allowed_bits += (double)lim * (double)dt / 1e9;
		}
	}
	if (s->host_tx_bytes)
		v->host_moved = true;
	v->have_host = true;
	v->host_ns = s->host_ns;
	v->host_bytes = s->host_tx_bytes;
	v->last_limit_bps = s->limit_bps;
	guest_since = v->guest_since;
	v->guest_since = false;

	if (!v->open || v->restart) {
		open_interval(v, s->host_ns);
		return false;
	}
	elapsed = s->host_ns - v->start_ns;
	if (elapsed < interval_ns)
		return false;
	/* both ends at one moment: wait (a little) for the guest's reading */
	if (s->guest == DAQS_VERIFY_GUEST_REPORTS && !guest_since &&
	    elapsed < 2 * interval_ns)
		return false;
	judge(v, c, s, elapsed);
	open_interval(v, s->host_ns);
	return true;
}

const char *daqs_verdict_name(enum daqs_verdict v)
{
	switch (v) {
	case DAQS_VERDICT_PENDING:
		return "pending";
	case DAQS_VERDICT_TRUSTED:
		return "trusted";
	case DAQS_VERDICT_SUSPECT:
		return "suspect";
	case DAQS_VERDICT_UNTRUSTED:
		return "untrusted";
	case DAQS_VERDICT_UNVERIFIABLE:
		return "unverifiable";
	}
	return "?";
}

const char *daqs_verify_why_name(unsigned int why, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ DAQS_VERIFY_UNDER_REPORTS, "under-reports" },
		{ DAQS_VERIFY_SILENT, "silent" },
		{ DAQS_VERIFY_OVER_LIMIT, "over-limit" },
	};
	size_t i, o = 0;
	int n;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(why & names[i].bit))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", names[i].name);
		if (n < 0 || (size_t)n >= len - o) {
			buf[o] = '\0';
			break;
		}
		o += (size_t)n;
	}
	return buf;
}
