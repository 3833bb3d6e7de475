// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsd's per-VM session (daqsd/session.c) driven by a fake agent and an
 * injected clock: the handshake, rates from the guest's timestamps (never
 * the host's), first samples and counter resets, what is pushed when
 * (changes, lease renewals, after a refusal, after an expired lease), lost
 * and late answers, garbage, stalls, devices learned from the guest.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"

#define MBIT 1000000ULL
#define SEC_NS 1000000000ULL

struct fix {
	struct daqsd_sess s;
	uint64_t now;			/* host ms */
	struct daqs_ch_decoder dec;	/* what the session wrote */
	char log[16384];
	size_t log_len;
};

/* a frame the session wrote, copied out */
struct sent {
	struct daqs_ch_frame f;
	uint8_t payload[DAQS_CH_PAYLOAD_MAX];
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	struct daqs_ch_nla btb[DAQS_A_MAX + 1];
};

static struct daqs_ch_builder bld;

static void capture(void *ctx, int prio, const char *line)
{
	struct fix *x = ctx;
	int n;

	(void)prio;
	n = snprintf(x->log + x->log_len, sizeof(x->log) - x->log_len, "%s\n",
		     line);
	if (n > 0 && (size_t)n < sizeof(x->log) - x->log_len)
		x->log_len += (size_t)n;
}

static int setup(void **state)
{
	struct fix *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	daqsd_sess_init(&x->s);
	strcpy(x->s.name, "vm1");
	x->s.tick_ms = 100;
	x->s.log = capture;
	x->s.log_ctx = x;
	x->now = 5000;
	daqs_ch_dec_init(&x->dec);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* the next frame the session has written; false if there is none */
static bool next_sent(struct fix *x, struct sent *out)
{
	const uint8_t *p;
	size_t n = daqsd_sess_pending(&x->s, &p);
	char err[128];
	int errnum;

	if (n) {
		assert_int_equal(daqs_ch_dec_feed(&x->dec, p, n), n);
		daqsd_sess_written(&x->s, n);
	}
	if (daqs_ch_dec_next(&x->dec, &out->f) != DAQS_CH_DEC_FRAME)
		return false;
	memcpy(out->payload, out->f.payload, out->f.len);
	out->f.payload = out->payload;
	assert_int_equal(out->f.flags, 0);	/* requests only */
	assert_int_equal(daqs_ch_msg_parse(&out->f, out->tb, &errnum, err,
					   sizeof(err)), 0);
	memset(out->btb, 0, sizeof(out->btb));
	if (out->tb[DAQS_CH_A_BINDING].data)
		assert_int_equal(daqs_ch_binding_parse(&out->tb[DAQS_CH_A_BINDING],
						       out->f.type, 0, out->btb,
						       err, sizeof(err)), 0);
	return true;
}

static void expect_sent(struct fix *x, uint8_t type, struct sent *out)
{
	if (!next_sent(x, out))
		fail_msg("expected a frame of type %u, got none", type);
	if (out->f.type != type)
		fail_msg("expected a frame of type %u, got %u", type, out->f.type);
}

static void expect_nothing(struct fix *x)
{
	struct sent s;

	if (next_sent(x, &s))
		fail_msg("expected nothing, got a frame of type %u seq %u",
			 s.f.type, s.f.seq);
}

static enum daqsd_sess_action feed_raw(struct fix *x, const void *p, size_t n)
{
	return daqsd_sess_input(&x->s, p, n, x->now);
}

static enum daqsd_sess_action feed(struct fix *x)
{
	int n = daqs_ch_end(&bld);

	assert_true(n > 0);
	return feed_raw(x, bld.buf, (size_t)n);
}

static void hello_reply(struct fix *x, uint32_t seq, bool module,
			const char *pinned)
{
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, DAQS_CH_F_REPLY, seq);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION, 1);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "daqs-agent test");
	daqs_ch_put_u8(&bld, DAQS_CH_A_MODULE, module);
	if (pinned) {
		daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
		daqs_ch_put_string(&bld, DAQS_A_IFNAME, pinned);
		daqs_ch_nest_end(&bld);
	}
	assert_int_equal(feed(x), DAQSD_SESS_OK);
}

static const uint8_t mac0[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

struct binding {
	uint64_t ts_ns, bytes, rate_bps;
	uint8_t lease_state;
	const uint8_t *mac;
};

static void put_binding(const struct binding *b)
{
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth0");
	daqs_ch_put(&bld, DAQS_A_MAC, b->mac ? b->mac : mac0, 6);
	daqs_ch_put_u8(&bld, DAQS_A_STATE, DAQS_STATE_ATTACHED);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, b->rate_bps);
	daqs_ch_put_u64(&bld, DAQS_A_SET_RATE_BPS, b->rate_bps);
	daqs_ch_put_u8(&bld, DAQS_A_LEASE_STATE, b->lease_state);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_LEFT_MS, 500);
	daqs_ch_nest_begin(&bld, DAQS_A_STATS);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TIMESTAMP_NS, b->ts_ns);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_BYTES, b->bytes + 7);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_WIRE_BYTES, b->bytes);
	daqs_ch_nest_end(&bld);
	daqs_ch_nest_end(&bld);
}

static void get_reply(struct fix *x, uint32_t seq, uint64_t ts_ns,
		      uint64_t bytes, uint64_t rate_bps)
{
	struct binding b = { ts_ns, bytes, rate_bps,
			     rate_bps ? DAQS_LEASE_ACTIVE : DAQS_LEASE_NONE, NULL };

	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, seq);
	put_binding(&b);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
}

static void empty_reply(struct fix *x, uint8_t type, uint32_t seq)
{
	daqs_ch_begin(&bld, type, DAQS_CH_F_REPLY, seq);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
}

static enum daqsd_sess_action error_reply(struct fix *x, uint32_t seq, int e,
					  const char *msg)
{
	daqs_ch_begin(&bld, DAQS_CH_T_ERROR, 0, seq);
	daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, (uint32_t)e);
	daqs_ch_put_string(&bld, DAQS_CH_A_ERRMSG, msg);
	return feed(x);
}

static void tick(struct fix *x, uint64_t limit)
{
	struct daqsd_push p = { .limit_bps = limit, .fallback_bps = 10 * MBIT,
				.lease_ms = 1000 };

	/* the daemon asks, waits for the answers, then pushes: here the
	 * order of the frames is SET then GET, as a guest sees a slow tick */
	daqsd_sess_push(&x->s, x->now, &p);
	daqsd_sess_ask(&x->s, x->now);
}

/* connected, HELLO answered by an agent pinned to eth0; returns the GET */
static uint32_t ready(struct fix *x, const char *pinned)
{
	struct sent s;

	daqsd_sess_connected(&x->s, x->now);
	expect_sent(x, DAQS_CH_T_HELLO, &s);
	assert_int_equal(daqs_ch_get_u32(&s.tb[DAQS_CH_A_VERSION_MIN]), 1);
	assert_int_equal(daqs_ch_get_u32(&s.tb[DAQS_CH_A_VERSION_MAX]), 1);
	assert_string_equal(daqs_ch_get_string(&s.tb[DAQS_CH_A_PEER_NAME]),
			    "daqsd (vm vm1)");
	hello_reply(x, s.f.seq, true, pinned);
	assert_int_equal(x->s.state, DAQSD_SESS_READY);
	/* the first sample is asked for at once */
	expect_sent(x, DAQS_CH_T_GET, &s);
	return s.f.seq;
}

/* ---- rates ---------------------------------------------------------------------- */

static void test_rate_update(void **state)
{
	struct daqsd_rate r = { 0 };
	uint64_t rate = 42, max = 400000000ULL;

	(void)state;
	assert_int_equal(daqsd_rate_update(&r, 10 * SEC_NS, 1000, max, &rate),
			 DAQSD_RATE_FIRST);
	assert_int_equal(rate, 42);
	/* 1.25 MB in 100 ms of guest time: 100 Mbit/s */
	assert_int_equal(daqsd_rate_update(&r, 10 * SEC_NS + 100000000, 1251000,
					   max, &rate), DAQSD_RATE_OK);
	assert_int_equal(rate, 100 * MBIT);
	/* a sample 0.5 ms later is ignored, and the older one kept */
	assert_int_equal(daqsd_rate_update(&r, 10 * SEC_NS + 100500000, 1300000,
					   max, &rate), DAQSD_RATE_SHORT);
	assert_int_equal(daqsd_rate_update(&r, 10 * SEC_NS + 200000000, 2501000,
					   max, &rate), DAQSD_RATE_OK);
	assert_int_equal(rate, 100 * MBIT);
	/* counters back to 0 (a binding recreated): no rate, then a fresh one */
	assert_int_equal(daqsd_rate_update(&r, 10 * SEC_NS + 300000000, 500,
					   max, &rate), DAQSD_RATE_RESET);
	assert_int_equal(daqsd_rate_update(&r, 10 * SEC_NS + 400000000, 125500,
					   max, &rate), DAQSD_RATE_OK);
	assert_int_equal(rate, 10 * MBIT);
	/* a guest clock that went back (a reboot), or stood still */
	assert_int_equal(daqsd_rate_update(&r, 1 * SEC_NS, 125600, max, &rate),
			 DAQSD_RATE_CLOCK);
	assert_int_equal(daqsd_rate_update(&r, 1 * SEC_NS, 125700, max, &rate),
			 DAQSD_RATE_CLOCK);
	/* samples too far apart are not averaged over */
	assert_int_equal(daqsd_rate_update(&r, 2 * SEC_NS, 225700, max, &rate),
			 DAQSD_RATE_STALE);
	assert_int_equal(daqsd_rate_update(&r, 2 * SEC_NS + 50000000, 225700,
					   max, &rate), DAQSD_RATE_OK);
	assert_int_equal(rate, 0);
}

/* ---- the session ----------------------------------------------------------------- */

static void test_handshake(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t get;

	assert_int_equal(x->s.state, DAQSD_SESS_DOWN);
	tick(x, 50 * MBIT);
	expect_nothing(x);
	get = ready(x, "eth0");
	assert_int_equal(x->s.dev, DAQSD_DEV_AGENT);
	assert_string_equal(x->s.dev_name, "eth0");
	assert_string_equal(x->s.peer, "daqs-agent test");
	assert_true(daqsd_sess_controllable(&x->s));
	assert_non_null(strstr(x->log, "vm vm1: connected: daqs-agent test, protocol 1, device eth0"));
	/* a pinned agent: requests name no device */
	assert_true(get > 0);
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_null(s.tb[DAQS_CH_A_BINDING].data);
	assert_int_equal(x->s.n.hellos, 1);
}

static void test_rate_from_guest_time(void **state)
{
	struct fix *x = *state;
	uint64_t rate = 0;
	struct sent s;
	uint32_t get = ready(x, "eth0");

	/* first sample: no rate */
	x->now += 3;
	get_reply(x, get, 50 * SEC_NS, 1000000, 0);
	assert_false(daqsd_sess_take_sample(&x->s, &rate));

	/* the next GET's answer comes 700 ms of host time later, but the
	 * guest read its counters 100 ms after the first: 100 Mbit/s */
	x->now += 97;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	x->now += 700;
	get_reply(x, s.f.seq, 50 * SEC_NS + 100000000, 2250000, 0);
	assert_true(daqsd_sess_take_sample(&x->s, &rate));
	assert_int_equal(rate, 100 * MBIT);
	/* a sample is used once */
	assert_false(daqsd_sess_take_sample(&x->s, &rate));

	/* counters went back: no rate, counted, logged */
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, 50 * SEC_NS + 200000000, 10, 0);
	assert_false(daqsd_sess_take_sample(&x->s, &rate));
	assert_int_equal(x->s.n.counter_resets, 1);
	assert_non_null(strstr(x->log, "counters went back"));

	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, 50 * SEC_NS + 300000000, 250010, 0);
	assert_true(daqsd_sess_take_sample(&x->s, &rate));
	assert_int_equal(rate, 20 * MBIT);
	assert_int_equal(x->s.n.samples, 4);
	assert_int_equal(x->s.n.rates, 2);
}

static void test_push_and_renew(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t get = ready(x, "eth0");

	get_reply(x, get, SEC_NS, 0, 0);
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_RATE_BPS]), 50 * MBIT);
	assert_int_equal(daqs_ch_get_u32(&s.btb[DAQS_A_LEASE_MS]), 1000);
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_FALLBACK_BPS]), 10 * MBIT);
	assert_null(s.btb[DAQS_A_IFNAME].data);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 100000000, 100, 50 * MBIT);
	assert_int_equal(x->s.acked_bps, 50 * MBIT);
	assert_int_equal(daqsd_sess_in_force(&x->s), 50 * MBIT);

	/* the same limit before half the lease: only a GET */
	for (int i = 0; i < 4; i++) {
		x->now += 100;
		tick(x, 50 * MBIT);
		expect_sent(x, DAQS_CH_T_GET, &s);
		get_reply(x, s.f.seq, SEC_NS + (uint64_t)(i + 2) * 100000000, 100,
			  50 * MBIT);
		expect_nothing(x);
	}
	/* half the lease since the SET: renewed, same limit */
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_RATE_BPS]), 50 * MBIT);
	assert_int_equal(daqs_ch_get_u32(&s.btb[DAQS_A_LEASE_MS]), 1000);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 600000000, 100, 50 * MBIT);

	/* a new limit goes at once */
	x->now += 100;
	tick(x, 70 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_RATE_BPS]), 70 * MBIT);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 700000000, 100, 70 * MBIT);
	assert_int_equal(x->s.n.sets, 3);
	assert_int_equal(x->s.n.timeouts, 0);

	/* a change within the dead band (0.5%) waits for the renewal */
	x->now += 100;
	tick(x, 70 * MBIT + 300000);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 800000000, 100, 70 * MBIT);
	x->now += 400;
	tick(x, 70 * MBIT + 300000);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_RATE_BPS]),
			 70 * MBIT + 300000);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 900000000, 100, 70 * MBIT + 300000);
	assert_true(daqsd_limit_changed(100, 101));
	assert_false(daqsd_limit_changed(200000, 201000));
	assert_true(daqsd_limit_changed(200000, 201001));
	assert_true(daqsd_limit_changed(0, 1));

	/* a limit of 0 pushes nothing (not controlled) */
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	expect_nothing(x);
}

/*
 * daqsd restarted: the handshake's sample is the tick's (no second GET a
 * few ms later), and the first SET is read back by a probe GET whose
 * counters are no sample but the start of the next rate.
 */
static void test_first_set_probe(void **state)
{
	struct fix *x = *state;
	struct daqsd_push p = { .limit_bps = 60 * MBIT, .fallback_bps = 40 * MBIT,
				.lease_ms = 500 };
	struct binding b = { SEC_NS, 0, 40 * MBIT, DAQS_LEASE_EXPIRED, NULL };
	struct sent s;
	uint64_t rate = 0;
	uint32_t get = ready(x, "eth0");

	x->now += 3;
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, get);
	put_binding(&b);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_true(daqsd_sess_controllable(&x->s));
	assert_int_equal(daqsd_sess_in_force(&x->s), 40 * MBIT);
	/* a tick pulled forward right after it: no GET */
	x->now += 1;
	assert_false(daqsd_sess_ask(&x->s, x->now));
	expect_nothing(x);
	assert_false(daqsd_sess_take_sample(&x->s, &rate));
	daqsd_sess_push(&x->s, x->now, &p);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_RATE_BPS]), 60 * MBIT);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 2000000, 1000, 60 * MBIT);
	assert_int_equal(daqsd_sess_in_force(&x->s), 60 * MBIT);
	assert_int_equal(x->s.seen.lease_state, DAQS_LEASE_ACTIVE);
	assert_false(daqsd_sess_take_sample(&x->s, &rate));
	assert_int_equal(x->s.n.samples, 1);
	/* the next tick's rate starts at the probe: all under 60 Mbit/s */
	x->now += 100;
	assert_true(daqsd_sess_ask(&x->s, x->now));
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 102000000, 1000 + 750000, 60 * MBIT);
	assert_true(daqsd_sess_take_sample(&x->s, &rate));
	assert_int_equal(rate, 60 * MBIT);
	/* later SETs have no probe */
	p.limit_bps = 70 * MBIT;
	daqsd_sess_push(&x->s, x->now, &p);
	expect_sent(x, DAQS_CH_T_SET, &s);
	expect_nothing(x);
}

static void test_refused_set(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t get = ready(x, "eth0");

	get_reply(x, get, SEC_NS, 0, 0);
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_int_equal(error_reply(x, s.f.seq, ERANGE, "DAQS_A_RATE_BPS: too low"),
			 DAQSD_SESS_OK);
	assert_int_equal(x->s.n.set_errors, 1);
	assert_non_null(strstr(x->log, "refused a limit: ERANGE: DAQS_A_RATE_BPS: too low"));
	assert_string_equal(x->s.last_error, "SET: ERANGE: DAQS_A_RATE_BPS: too low");
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 100000000, 0, 0);
	/* not again every tick ... */
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 200000000, 0, 0);
	/* ... but after a second */
	x->now += 900;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
}

static void test_lease_expired_event(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t get = ready(x, "eth0");

	get_reply(x, get, SEC_NS, 0, 0);
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 100000000, 0, 50 * MBIT);

	/* the guest says its lease expired (a host that was frozen) */
	daqs_ch_begin(&bld, DAQS_CH_T_EVENT, 0, 7);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u8(&bld, DAQS_A_EVENT, DAQS_EVENT_LEASE_EXPIRED);
	daqs_ch_put(&bld, DAQS_A_MAC, mac0, 6);
	daqs_ch_nest_end(&bld);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_int_equal(x->s.n.lease_expired, 1);
	assert_non_null(strstr(x->log, "lease expired"));
	/* renewed at the next tick, not at lease / 2 */
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);

	/* a GET showing an expired lease does the same */
	{
		struct binding b = { SEC_NS + 300000000, 0, 10 * MBIT,
				     DAQS_LEASE_EXPIRED, NULL };

		daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, s.f.seq);
		put_binding(&b);
		assert_int_equal(feed(x), DAQSD_SESS_OK);
	}
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
}

/*
 * tests/faults.sh, daqs-agent killed with -9 and started again at once:
 * what daqsd sent meanwhile was lost, and with two GETs and a SET waiting
 * for their second-long timeout it asked nothing more, so control came
 * back a second after the kill, not two ticks after the restart. The new
 * agent says it started: daqsd asks at once, and the answer (in order)
 * tells it the requests before were lost.
 */
static void test_agent_restarted(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t get = ready(x, "eth0"), set;

	get_reply(x, get, SEC_NS, 0, 0);
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	get_reply(x, s.f.seq, SEC_NS + 100000000, 0, 50 * MBIT);
	/* the agent dies: this tick's GET, the renewal and the next GET are lost */
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_GET, &s);
	x->now += 500;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	set = s.f.seq;
	expect_sent(x, DAQS_CH_T_GET, &s);
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_nothing(x);	/* two GETs wait */
	/* a new agent: its first words */
	daqs_ch_begin(&bld, DAQS_CH_T_EVENT, 0, 1);
	daqs_ch_put_u8(&bld, DAQS_CH_A_AGENT_EVENT, DAQS_CH_AGENT_EVENT_STARTED);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_non_null(strstr(x->log, "agent started"));
	expect_sent(x, DAQS_CH_T_GET, &s);
	{
		struct binding b = { SEC_NS + 900000000, 0, 10 * MBIT,
				     DAQS_LEASE_EXPIRED, NULL };

		daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, s.f.seq);
		put_binding(&b);
		assert_int_equal(feed(x), DAQSD_SESS_OK);
	}
	/* the three before it are lost, the SET among them */
	assert_int_equal(x->s.n.timeouts, 3);
	assert_int_equal(x->s.nq, 0);
	/* and the limit is pushed again at the next tick */
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_int_not_equal(s.f.seq, set);
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_RATE_BPS]), 50 * MBIT);
}

static void test_lost_and_late_answers(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t first, second;
	uint64_t next;

	first = ready(x, "eth0");
	/* the first GET is never answered; the second is */
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	second = s.f.seq;
	/* two GETs wait: a third tick sends none */
	x->now += 100;
	tick(x, 0);
	expect_nothing(x);
	get_reply(x, second, SEC_NS, 0, 0);
	assert_int_equal(x->s.n.timeouts, 1);	/* skipped by the answers */
	assert_int_equal(x->s.nq, 0);
	/* the first one's answer, late: nobody waits for it */
	get_reply(x, first, SEC_NS, 0, 0);
	assert_int_equal(x->s.n.stale, 1);

	/* a GET without an answer: lost after 1 s, the VM dropped after 3 s */
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_int_equal(daqsd_sess_timers(&x->s, x->now + 999, &next),
			 DAQSD_SESS_OK);
	assert_int_equal(next, x->now + 1000);
	assert_int_equal(daqsd_sess_timers(&x->s, x->now + 1000, &next),
			 DAQSD_SESS_OK);
	assert_int_equal(x->s.n.timeouts, 2);
	assert_int_equal(next, x->now + 3000);
	assert_int_equal(daqsd_sess_timers(&x->s, x->now + 3000, &next),
			 DAQSD_SESS_RECONNECT);
	assert_int_equal(x->s.n.stalls, 1);
	daqsd_sess_lost(&x->s, x->now + 3000, "no answer from the agent");
	assert_int_equal(x->s.state, DAQSD_SESS_DOWN);
	assert_false(daqsd_sess_controllable(&x->s));
	assert_non_null(strstr(x->log, "disconnected: no answer from the agent"));
}

static void test_garbage(void **state)
{
	struct fix *x = *state;
	uint8_t junk[3000], frame[DAQS_CH_FRAME_MAX + 3000];
	uint64_t rate, next;
	struct sent s;
	uint32_t get = ready(x, "eth0");
	size_t i;
	int n;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 13 + 5) == 0x89 ? 0 : (uint8_t)(i * 13 + 5);
	/* garbage, then the answer, in one read */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, get);
	{
		struct binding b = { SEC_NS, 0, 0, 0, NULL };

		put_binding(&b);
	}
	n = daqs_ch_end(&bld);
	memcpy(frame, junk, sizeof(junk));
	memcpy(frame + sizeof(junk), bld.buf, (size_t)n);
	assert_int_equal(feed_raw(x, frame, sizeof(junk) + (size_t)n),
			 DAQSD_SESS_OK);
	assert_int_equal(x->s.dec.stats.skipped, sizeof(junk));
	assert_int_equal(x->s.n.samples, 1);
	assert_non_null(strstr(x->log, "skipped 3000 bytes"));

	/* a damaged frame, a request from the guest, a wrong-type answer */
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, s.f.seq);
	n = daqs_ch_end(&bld);
	bld.buf[n - 1] ^= 1;
	memcpy(frame, bld.buf, (size_t)n);
	frame[DAQS_CH_OFF_CRC] ^= 0xff;
	assert_int_equal(feed_raw(x, frame, (size_t)n), DAQSD_SESS_OK);
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 99);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 1);
	daqs_ch_nest_end(&bld);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	assert_int_equal(x->s.n.bad_frames, 3);
	/* still waiting for the GET, which still works */
	get_reply(x, s.f.seq, SEC_NS + 100000000, 1250000, 0);
	assert_true(daqsd_sess_take_sample(&x->s, &rate));
	assert_int_equal(rate, 100 * MBIT);

	/* half a frame, and the rest never comes: given up after 1 s */
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, s.f.seq);
	n = daqs_ch_end(&bld);
	assert_int_equal(feed_raw(x, bld.buf, 10), DAQSD_SESS_OK);
	assert_int_equal(daqs_ch_dec_pending(&x->s.dec), 10);
	assert_int_equal(daqsd_sess_timers(&x->s, x->now + 1000, &next),
			 DAQSD_SESS_OK);
	assert_int_equal(daqs_ch_dec_pending(&x->s.dec), 0);
	assert_non_null(strstr(x->log, "giving up a partial frame of 10 bytes"));
}

static void test_learned_device(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t get = ready(x, NULL);
	struct binding b = { SEC_NS, 0, 0, 0, NULL };

	/* an agent without a device, none configured: a dump */
	assert_int_equal(x->s.dev, DAQSD_DEV_UNKNOWN);
	assert_false(daqsd_sess_controllable(&x->s));
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, get);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_int_equal(x->s.dev, DAQSD_DEV_NONE);
	assert_non_null(strstr(x->log, "set 'device' in [vm vm1]"));

	/* the dump comes in two frames (MORE), one binding: that is it */
	x->now += 100;
	tick(x, 0);
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_null(s.tb[DAQS_CH_A_BINDING].data);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY | DAQS_CH_F_MORE,
		      s.f.seq);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_int_equal(x->s.nq, 1);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, s.f.seq);
	put_binding(&b);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_int_equal(x->s.nq, 0);
	assert_int_equal(x->s.dev, DAQSD_DEV_LEARNED);
	assert_string_equal(x->s.dev_name, "eth0 52:54:00:12:34:56");
	assert_true(daqsd_sess_controllable(&x->s));

	/* from now on it is named by its MAC */
	x->now += 100;
	tick(x, 20 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_memory_equal(s.btb[DAQS_A_MAC].data, mac0, 6);
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_memory_equal(s.btb[DAQS_A_MAC].data, mac0, 6);
}

static void test_configured_device(void **state)
{
	struct fix *x = *state;
	struct sent s;

	x->s.conf_dev = DAQSD_DEV_CONFIG;
	strcpy(x->s.conf_ifname, "ens5");
	daqsd_sess_connected(&x->s, x->now);
	expect_sent(x, DAQS_CH_T_HELLO, &s);
	hello_reply(x, s.f.seq, true, NULL);
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_string_equal(daqs_ch_get_string(&s.btb[DAQS_A_IFNAME]), "ens5");
	/* no binding yet: ENOENT is not a failure, the SET makes one */
	assert_int_equal(error_reply(x, s.f.seq, ENOENT, "device not attached to daqs"),
			 DAQSD_SESS_OK);
	assert_true(daqsd_sess_controllable(&x->s));
	assert_int_equal(x->s.n.errors, 0);	/* how every guest starts */
	assert_string_equal(x->s.last_error, "");
	x->now += 100;
	tick(x, 30 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	assert_string_equal(daqs_ch_get_string(&s.btb[DAQS_A_IFNAME]), "ens5");
	assert_int_equal(daqs_ch_get_u64(&s.btb[DAQS_A_RATE_BPS]), 30 * MBIT);
	empty_reply(x, DAQS_CH_T_SET, s.f.seq);
	expect_sent(x, DAQS_CH_T_GET, &s);
	/* after a SET made it, a binding that is gone is worth counting, and
	 * made again */
	assert_int_equal(error_reply(x, s.f.seq, ENOENT, "device not attached to daqs"),
			 DAQSD_SESS_OK);
	assert_int_equal(x->s.n.errors, 1);
	x->now += 100;
	tick(x, 30 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
}

static void test_module_absent(void **state)
{
	struct fix *x = *state;
	struct sent s;

	daqsd_sess_connected(&x->s, x->now);
	expect_sent(x, DAQS_CH_T_HELLO, &s);
	hello_reply(x, s.f.seq, false, "eth0");
	assert_non_null(strstr(x->log, "module daqs is not loaded in the guest"));
	assert_false(daqsd_sess_controllable(&x->s));
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_int_equal(error_reply(x, s.f.seq, ENOSYS, "module daqs is not loaded"),
			 DAQSD_SESS_OK);
	/* no GET every tick then, one a second */
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_nothing(x);
	x->now += 900;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_int_equal(error_reply(x, s.f.seq, ENOSYS, "module daqs is not loaded"),
			 DAQSD_SESS_OK);
	/* the module comes */
	daqs_ch_begin(&bld, DAQS_CH_T_EVENT, 0, 1);
	daqs_ch_put_u8(&bld, DAQS_CH_A_AGENT_EVENT,
		       DAQS_CH_AGENT_EVENT_MODULE_LOADED);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_true(daqsd_sess_controllable(&x->s));
	x->now += 100;
	tick(x, 50 * MBIT);
	expect_sent(x, DAQS_CH_T_SET, &s);
	expect_sent(x, DAQS_CH_T_GET, &s);
}

static void test_incompatible(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint64_t next;

	daqsd_sess_connected(&x->s, x->now);
	expect_sent(x, DAQS_CH_T_HELLO, &s);
	assert_int_equal(error_reply(x, s.f.seq, EPROTONOSUPPORT,
				     "no common protocol version"),
			 DAQSD_SESS_INCOMPATIBLE);
	daqsd_sess_lost(&x->s, x->now, "no common protocol version");

	/* an agent that never answers its HELLO: dropped after 3 s */
	daqsd_sess_connected(&x->s, x->now);
	expect_sent(x, DAQS_CH_T_HELLO, &s);
	assert_int_equal(daqsd_sess_timers(&x->s, x->now + 2999, &next),
			 DAQSD_SESS_OK);
	assert_int_equal(daqsd_sess_timers(&x->s, x->now + 3000, &next),
			 DAQSD_SESS_RECONNECT);
	/* but a late answer before that still completes the handshake */
	daqsd_sess_lost(&x->s, x->now, NULL);
	daqsd_sess_connected(&x->s, x->now);
	expect_sent(x, DAQS_CH_T_HELLO, &s);
	assert_int_equal(daqsd_sess_timers(&x->s, x->now + 1500, &next),
			 DAQSD_SESS_OK);
	assert_int_equal(x->s.nq, 0);	/* the HELLO timed out ... */
	x->now += 1500;
	hello_reply(x, s.f.seq, true, "eth0");
	assert_int_equal(x->s.state, DAQSD_SESS_READY);	/* ... yet counts */
}

static void test_round(void **state)
{
	struct fix *x = *state;
	struct sent s;
	uint32_t get = ready(x, "eth0");

	/* the GET after the handshake is not a tick's */
	assert_false(daqsd_sess_awaiting(&x->s));
	get_reply(x, get, SEC_NS, 0, 0);
	x->now += 100;
	assert_true(daqsd_sess_ask(&x->s, x->now));
	assert_true(daqsd_sess_awaiting(&x->s));
	expect_sent(x, DAQS_CH_T_GET, &s);
	/* half an answer (MORE) is not an answer */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY | DAQS_CH_F_MORE,
		      s.f.seq);
	assert_int_equal(feed(x), DAQSD_SESS_OK);
	assert_true(daqsd_sess_awaiting(&x->s));
	get_reply(x, s.f.seq, SEC_NS + 100000000, 1250000, 0);
	assert_false(daqsd_sess_awaiting(&x->s));
	/* an ERROR ends the wait too */
	x->now += 100;
	assert_true(daqsd_sess_ask(&x->s, x->now));
	expect_sent(x, DAQS_CH_T_GET, &s);
	assert_int_equal(error_reply(x, s.f.seq, EAGAIN, "kept changing"),
			 DAQSD_SESS_OK);
	assert_false(daqsd_sess_awaiting(&x->s));
	/* so does losing the connection */
	x->now += 100;
	assert_true(daqsd_sess_ask(&x->s, x->now));
	daqsd_sess_lost(&x->s, x->now, "test");
	assert_false(daqsd_sess_awaiting(&x->s));
	assert_false(daqsd_sess_ask(&x->s, x->now));
}

static void test_output_bounded(void **state)
{
	struct fix *x = *state;
	const uint8_t *p;
	unsigned int i;

	ready(x, "eth0");
	/* a guest that never reads and never answers: the queue stays small */
	for (i = 0; i < 1000; i++) {
		x->now += 100;
		tick(x, (50 + i) * MBIT);
	}
	assert_true(x->s.nq <= DAQSD_INFLIGHT_MAX);
	assert_true(daqsd_sess_pending(&x->s, &p) <= DAQSD_OUT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_update),
		cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_from_guest_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_and_renew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_expired_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_restarted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_and_late_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learned_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configured_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incompatible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_set_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_bounded, setup, teardown),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
