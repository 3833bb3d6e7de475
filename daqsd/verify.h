/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Trust but verify: a guest's transmit counters and its limit checked
 * against the host's own counters of its VF (IFLA_VF_STATS of the PF).
 * No I/O and no clock: daqsd (daqsd_verify.c) hands over one sample per
 * tick, a test hands over made-up ones (tests/unit/test_verify.c).
 *
 * A sample holds the host's tx_bytes of the VF with the host's time of the
 * read, the guest's tx_wire_bytes with the guest's own time (if it
 * answered), and the limit daqsd gave the VM. Samples are summed over an
 * interval (verify_interval, 1 s by default) of the host's clock:
 *
 *   host     bytes the VF sent, from consecutive host samples
 *   reported bytes the guest says it sent, from consecutive guest samples
 *            (a guest that does not answer reports nothing)
 *   allowed  the integral of the limit over the interval
 *
 * and the interval is judged:
 *
 *   under-reports  host > reported x (1 + tolerance) + slack
 *   silent         a guest with a channel reported nothing, and host > slack
 *   over-limit     host > allowed x (1 + limit_tolerance) + slack
 *                  (only when a limit was known over the whole interval)
 *
 * tx_wire_bytes is the guest's counter that matches a VF's: it counts every
 * segment of a GSO packet with its own headers, as the NIC puts them on the
 * wire (tx_bytes counts a GSO packet's headers once: 4-5% less at 1500-byte
 * frames). What is left between the two is the NIC's own framing (FCS, a
 * VLAN tag it inserts: 4 bytes a frame each) and the few milliseconds
 * between the host's read and the guest's: the tolerance and the slack.
 *
 * An interval ends at the first host sample at least an interval after its
 * start that comes with a guest sample (so both sides end at the same
 * moment), or two intervals after its start whatever the guest does.
 * Counters that go back are a reset (the VF was reset, the binding was
 * recreated, the guest rebooted): what they show then is taken as sent
 * since the reset, a lower bound, so neither side can hide bytes by
 * resetting its counters and an honest one loses at most a tick's worth.
 * A host counter that went back by a 32- or 64-bit wrap (the delta is
 * plausible at the link's capacity) is a wrap, not a reset.
 *
 * Verdicts: PENDING until an interval is judged, then TRUSTED; a violating
 * interval makes it SUSPECT, `strikes` in a row UNTRUSTED (flagged: daqsd
 * caps its VF in hardware); an UNTRUSTED VM is TRUSTED again after
 * `hold_ms` of compliant intervals in a row. A VF whose host counter has
 * never moved while the guest reports traffic is UNVERIFIABLE: its driver
 * reports no VF counters (netdevsim does not; see docs/security.md).
 */
#ifndef DAQS_VERIFY_H
#define DAQS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* the defaults of daqsd.conf's verify_* keys */
#define DAQS_VERIFY_INTERVAL_MS 1000U
#define DAQS_VERIFY_TOLERANCE_BP 500U		/* 5%, in 1/10000 */
#define DAQS_VERIFY_LIMIT_TOLERANCE_BP 1000U	/* 10% */
#define DAQS_VERIFY_STRIKES 3U
#define DAQS_VERIFY_HOLD_MS 10000U
/* bytes either check lets pass per interval, whatever the rate */
#define DAQS_VERIFY_SLACK_BYTES (64U * 1024U)
#define DAQS_VERIFY_BP_MAX 10000U		/* 100% */

struct daqs_verify_conf {
	uint32_t interval_ms;
	uint32_t tolerance_bp;		/* reported may be this far below host */
	uint32_t limit_tolerance_bp;	/* host may be this far above the limit */
	uint32_t strikes;		/* violating intervals in a row: flagged */
	uint32_t hold_ms;		/* compliant this long: trusted again */
	uint64_t slack_bytes;
};

/* the defaults above */
void daqs_verify_conf_default(struct daqs_verify_conf *c);

enum daqs_verify_guest {
	DAQS_VERIFY_GUEST_NONE,		/* no channel (DPDK): the host alone */
	DAQS_VERIFY_GUEST_SILENT,	/* a channel, but no counters from it */
	DAQS_VERIFY_GUEST_REPORTS,	/* it answers with counters */
};

struct daqs_verify_sample {
	/* the PF's counter of the VF; !host_valid: not read (no such VF) */
	bool host_valid;
	uint64_t host_ns;		/* host CLOCK_MONOTONIC of the read */
	uint64_t host_tx_bytes;
	enum daqs_verify_guest guest;
	/* REPORTS: a counter read since the last sample, at guest_ns */
	bool guest_fresh;
	uint64_t guest_ns;		/* the guest's own clock */
	uint64_t guest_tx_bytes;	/* tx_wire_bytes */
	/* the limit daqsd gave the VM for the time since the last sample; 0: none */
	uint64_t limit_bps;
	uint64_t capacity_bps;		/* the link's; 0: unknown (no wraps then) */
};

enum daqs_verdict {
	DAQS_VERDICT_PENDING,
	DAQS_VERDICT_TRUSTED,
	DAQS_VERDICT_SUSPECT,
	DAQS_VERDICT_UNTRUSTED,
	DAQS_VERDICT_UNVERIFIABLE,
};

/* why an interval violated (bits) */
#define DAQS_VERIFY_UNDER_REPORTS 1U
#define DAQS_VERIFY_SILENT 2U
#define DAQS_VERIFY_OVER_LIMIT 4U

/* the last interval judged */
struct daqs_verify_interval {
	uint64_t ns;			/* its length on the host's clock */
	uint64_t host_bytes;
	uint64_t reported_bytes;
	bool reported;			/* the guest gave counters in it */
	bool limited;			/* a limit was known all along */
	uint64_t allowed_bytes;
	unsigned int why;		/* DAQS_VERIFY_* bits; 0: compliant */
};

struct daqs_verify {
	enum daqs_verdict verdict;
	unsigned int strikes;		/* violating intervals in a row */
	unsigned int why;		/* of the last violating interval */
	uint64_t compliant_ns;		/* UNTRUSTED: compliant since */
	struct daqs_verify_interval last;
	bool judged;			/* last is set */

	/* counters since it was made */
	uint64_t intervals;		/* judged */
	uint64_t under_reports, silent, over_limits;	/* intervals, by reason */
	uint64_t flags;			/* times it became UNTRUSTED */
	uint64_t host_resets, host_wraps, guest_resets;

	/*
	 * The host's rate: over the time since its counter last moved, so a
	 * driver that refreshes VF counters now and then (ixgbe: every 2 s)
	 * gives its average when it does and no rate in between; a counter
	 * still for two intervals is an idle VF (rate 0).
	 */
	bool host_rate_known;
	uint64_t host_rate_bps;
	uint64_t moved_ns;		/* when the counter last moved */
	uint64_t moved_bytes;		/* bytes since (a still counter: 0) */

	/* the samples and the interval being summed */
	bool have_host;
	uint64_t host_ns, host_bytes;
	bool have_guest;
	uint64_t guest_ns, guest_bytes;
	bool guest_since;		/* a guest sample since the last host one */
	bool host_moved;		/* the host counter was ever non-zero */
	uint64_t last_limit_bps;
	bool open;
	uint64_t start_ns;
	uint64_t acc_host, acc_guest;
	double acc_allowed_bits;
	bool acc_limited, acc_reported;
	bool restart;			/* the first guest sample came mid-interval */
};

void daqs_verify_init(struct daqs_verify *v);

/*
 * One sample (a tick). Returns true when it ended an interval and judged
 * it (v->last, the verdict and the counters are updated then). A sample
 * whose host time is the last one's carries no new host reading: only its
 * guest part counts. Any input is safe: counters are summed saturating.
 */
bool daqs_verify_step(struct daqs_verify *v, const struct daqs_verify_conf *c,
		      const struct daqs_verify_sample *s);

/* "pending", "trusted", "suspect", "untrusted", "unverifiable" */
const char *daqs_verdict_name(enum daqs_verdict v);
/* the reasons of `why`: "under-reports", "silent", "over-limit", joined by "," */
const char *daqs_verify_why_name(unsigned int why, char *buf, size_t len);

#endif /* DAQS_VERIFY_H */
