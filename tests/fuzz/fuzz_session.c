// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for daqsd/session.c: a guest playing any game with
 * daqsd's end of its channel. The input is a program of small operations
 * (ticks, time passing, frames with good checksums and any header and
 * payload, raw bytes, well-formed answers with any values, events,
 * reconnections), so the state machine is reached deep without the fuzzer
 * forging CRC32C. After every operation: the output and the in-flight list
 * stay within their bounds, a session that is down holds nothing, and every
 * frame daqsd writes is a valid request.
 * Seeds: tests/fuzz/corpus/session/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct daqsd_sess s;
static struct daqs_ch_decoder out_dec;
static struct daqs_ch_builder b;
static uint64_t now;

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct input *in)
{
	uint8_t v;

	if (!in->n)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static uint64_t u64(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | byte(in);
	return v;
}

/* what daqsd wrote: whole, valid requests only */
static void drain(void)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;
	const uint8_t *p;
	char err[256];
	size_t n, k;
	int errnum;

	n = daqsd_sess_pending(&s, &p);
	CHECK(n <= DAQSD_OUT_MAX);
	while (n) {
		k = daqs_ch_dec_feed(&out_dec, p, n);
		daqsd_sess_written(&s, k);
		n = daqsd_sess_pending(&s, &p);
		while ((r = daqs_ch_dec_next(&out_dec, &f)) != DAQS_CH_DEC_NEED) {
			CHECK(r == DAQS_CH_DEC_FRAME);
			CHECK(f.flags == 0);
			CHECK(!daqs_ch_msg_parse(&f, tb, &errnum, err, sizeof(err)));
		}
	}
	CHECK(daqs_ch_dec_pending(&out_dec) == 0);
}

static void act(enum daqsd_sess_action a)
{
	if (a == DAQSD_SESS_OK)
		return;
	daqsd_sess_lost(&s, now, "fuzz");
	daqs_ch_dec_reset(&out_dec);
	daqsd_sess_connected(&s, now);
}

static void feed_built(void)
{
	int n = daqs_ch_end(&b);

	if (n > 0)
		act(daqsd_sess_input(&s, b.buf, (size_t)n, now));
}

/* the seq of a request in flight (or the HELLO's), or any */
static uint32_t pick_seq(uint8_t sel)
{
	if (sel & 0x80)
		return sel & 0x7f;
	if (s.nq)
		return s.q[sel % s.nq].seq;
	return s.hello_seq;
}

static void check(void)
{
	uint64_t rate;

	CHECK(s.nq <= DAQSD_INFLIGHT_MAX);
	CHECK(s.out_off <= s.out_len && s.out_len <= DAQSD_OUT_MAX);
	if (s.state == DAQSD_SESS_DOWN) {
		CHECK(s.nq == 0);
		CHECK(!daqsd_sess_awaiting(&s));
		CHECK(!daqsd_sess_controllable(&s));
		CHECK(!daqsd_sess_take_sample(&s, &rate));
	}
	if (daqsd_sess_awaiting(&s)) {
		size_t i;
		bool found = false;

		for (i = 0; i < s.nq; i++)
			found |= s.q[i].seq == s.round_seq;
		CHECK(found);
	}
	CHECK(daqs_ch_dec_pending(&s.dec) <= DAQS_CH_FRAME_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct daqsd_push push;
	uint64_t next, rate;
	uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	size_t n;

	daqsd_sess_init(&s);
	strcpy(s.name, "fuzz");
	s.tick_ms = 10 + byte(&in) % 200;
	if (byte(&in) & 1) {
		s.conf_dev = DAQSD_DEV_CONFIG;
		s.conf_is_mac = true;
		memcpy(s.conf_mac, mac, 6);
	}
	daqs_ch_dec_init(&out_dec);
	now = 1000;
	daqsd_sess_connected(&s, now);

	while (in.n) {
		switch (byte(&in) % 8) {
		case 0:		/* a tick: ask, maybe take, push */
			daqsd_sess_ask(&s, now);
			if (byte(&in) & 1)
				(void)daqsd_sess_take_sample(&s, &rate);
			push.limit_bps = u64(&in, 4) * 1000;
			push.fallback_bps = DAQS_RATE_MIN_BPS;
			push.lease_ms = 2 * s.tick_ms;
			daqsd_sess_push(&s, now, &push);
			break;
		case 1: {	/* time passes */
			enum daqsd_sess_action a;

			now += (uint64_t)byte(&in) * 10;
			a = daqsd_sess_timers(&s, now, &next);
			/* all that was due is done */
			if (a == DAQSD_SESS_OK)
				CHECK(next > now && next == daqsd_sess_next_ms(&s));
			act(a);
			break;
		}
		case 2: {	/* any frame, good checksums */
			uint8_t type = byte(&in) % 8, flags = byte(&in) & 3;
			uint32_t seq = pick_seq(byte(&in));

			n = byte(&in);
			if (n > in.n)
				n = in.n;
			daqs_ch_begin(&b, type, flags, seq);
			memcpy(b.buf + b.len, in.p, n);
			b.len += n;
			in.p += n;
			in.n -= n;
			feed_built();
			break;
		}
		case 3:		/* raw bytes */
			n = byte(&in);
			if (n > in.n)
				n = in.n;
			act(daqsd_sess_input(&s, in.p, n, now));
			in.p += n;
			in.n -= n;
			break;
		case 4: {	/* a GET reply with any values */
			uint8_t f = byte(&in);

			daqs_ch_begin(&b, DAQS_CH_T_GET,
				      DAQS_CH_F_REPLY | (f & 1 ? DAQS_CH_F_MORE : 0),
				      pick_seq(byte(&in)));
			for (n = (f >> 1) % 3; n; n--) {
				daqs_ch_nest_begin(&b, DAQS_CH_A_BINDING);
				mac[5] = byte(&in) & 1;
				daqs_ch_put(&b, DAQS_A_MAC, mac, 6);
				daqs_ch_put_u64(&b, DAQS_A_RATE_BPS, u64(&in, 4));
				daqs_ch_put_u8(&b, DAQS_A_LEASE_STATE, byte(&in) % 4);
				daqs_ch_nest_begin(&b, DAQS_A_STATS);
				daqs_ch_put_u64(&b, DAQS_STATS_A_TIMESTAMP_NS,
						u64(&in, 5));
				daqs_ch_put_u64(&b, DAQS_STATS_A_TX_WIRE_BYTES,
						u64(&in, 5));
				daqs_ch_nest_end(&b);
				daqs_ch_nest_end(&b);
			}
			feed_built();
			break;
		}
		case 5:		/* the connection breaks */
			daqsd_sess_lost(&s, now, "fuzz");
			daqs_ch_dec_reset(&out_dec);
			if (byte(&in) & 1)
				daqsd_sess_connected(&s, now);
			break;
		case 6: {	/* an event */
			uint8_t e = byte(&in);

			daqs_ch_begin(&b, DAQS_CH_T_EVENT, 0, byte(&in));
			if (e & 0x80) {
				daqs_ch_put_u8(&b, DAQS_CH_A_AGENT_EVENT, e & 3);
			} else {
				daqs_ch_nest_begin(&b, DAQS_CH_A_BINDING);
				daqs_ch_put_u8(&b, DAQS_A_EVENT, e % 8);
				daqs_ch_put(&b, DAQS_A_MAC, mac, 6);
				daqs_ch_nest_end(&b);
			}
			feed_built();
			break;
		}
		case 7: {	/* the HELLO reply, any version, maybe a device */
			uint8_t h = byte(&in);

			daqs_ch_begin(&b, DAQS_CH_T_HELLO, DAQS_CH_F_REPLY,
				      pick_seq(byte(&in)));
			daqs_ch_put_u32(&b, DAQS_CH_A_VERSION, h & 0x10 ? h >> 5 : 1);
			daqs_ch_put_u8(&b, DAQS_CH_A_MODULE, h & 1);
			if (h & 2) {
				daqs_ch_nest_begin(&b, DAQS_CH_A_BINDING);
				daqs_ch_put_string(&b, DAQS_A_IFNAME, "eth0");
				daqs_ch_nest_end(&b);
			}
			feed_built();
			break;
		}
		}
		check();
		drain();
	}
	return 0;
}
