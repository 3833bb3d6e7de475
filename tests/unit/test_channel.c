// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsd/channel.c: the frame builder, the stream decoder, the parsers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channel.h"

static const uint8_t mac1[DAQS_MAC_LEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* a whole frame, copied out of the builder */
struct frame {
	uint8_t b[DAQS_CH_FRAME_MAX];
	size_t len;
};

static struct daqs_ch_builder bld;
static struct daqs_ch_decoder dec;
static char err[DAQS_CH_ERRMSG_MAX];

static int setup(void **state)
{
	(void)state;
	daqs_ch_dec_init(&dec);
	err[0] = '\0';
	return 0;
}

static void finish(struct frame *fr)
{
	int n = daqs_ch_end(&bld);

	assert_true(n >= DAQS_CH_HDR_LEN);
	memcpy(fr->b, bld.buf, (size_t)n);
	fr->len = (size_t)n;
}

/* deterministic noise, so a failure can be replayed */
static uint32_t rnd_state = 12345;
static uint8_t rnd(void)
{
	rnd_state = rnd_state * 1103515245U + 12345U;
	return (uint8_t)(rnd_state >> 16);
}

/* feed all of p; collects frames into *out (up to max), returns count */
struct seen {
	int frames, bad_version, too_long, bad_crc;
	struct daqs_ch_frame last;
	uint8_t last_payload[DAQS_CH_PAYLOAD_MAX];
	uint32_t seqs[64];
};

static void drain(struct seen *s)
{
	struct daqs_ch_frame f;
	enum daqs_ch_dec_result r;

	while ((r = daqs_ch_dec_next(&dec, &f)) != DAQS_CH_DEC_NEED) {
		switch (r) {
		case DAQS_CH_DEC_FRAME:
			if (s->frames < 64)
				s->seqs[s->frames] = f.seq;
			s->frames++;
			s->last = f;
			memcpy(s->last_payload, f.payload, f.len);
			s->last.payload = s->last_payload;
			break;
		case DAQS_CH_DEC_BAD_VERSION:
			s->bad_version++;
			s->last = f;
			break;
		case DAQS_CH_DEC_TOO_LONG:
			s->too_long++;
			s->last = f;
			break;
		case DAQS_CH_DEC_BAD_CRC:
			s->bad_crc++;
			s->last = f;
			break;
		default:
			fail();
		}
		/* the buffer never grows past one frame */
		assert_true(dec.len <= sizeof(dec.buf));
	}
}

static void feed(struct seen *s, const void *p, size_t n, size_t chunk)
{
	const uint8_t *q = p;
	size_t k, step;

	while (n) {
		step = n < chunk ? n : chunk;
		k = daqs_ch_dec_feed(&dec, q, step);
		q += k;
		n -= k;
		drain(s);
	}
}

/* decodes one frame fed whole and parses it as a message */
static void roundtrip(const struct frame *fr, struct seen *s,
		      struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1])
{
	int errnum = 0;

	memset(s, 0, sizeof(*s));
	daqs_ch_dec_init(&dec);
	feed(s, fr->b, fr->len, fr->len);
	assert_int_equal(s->frames, 1);
	assert_int_equal(dec.stats.skipped, 0);
	assert_int_equal(s->last.version, DAQS_CH_VERSION);
	assert_int_equal(daqs_ch_msg_parse(&s->last, tb, &errnum, err,
					   sizeof(err)), 0);
}

/* ---- the checksum and the header ---------------------------------------- */

static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(daqs_crc32c(0, "123456789", 9), 0xE3069283U);
	/* chaining equals one pass */
	assert_int_equal(daqs_crc32c(daqs_crc32c(0, "1234", 4), "56789", 5),
			 0xE3069283U);
	assert_int_equal(daqs_crc32c(0, "", 0), 0);
}

static void test_header_layout(void **state)
{
	struct frame fr;

	(void)state;
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 0x01020304);
	finish(&fr);
	assert_int_equal(fr.len, DAQS_CH_HDR_LEN);
	assert_int_equal(fr.b[0], 0x89);
	assert_memory_equal(fr.b + 1, "DQS", 3);
	assert_int_equal(fr.b[4], 1);
	assert_int_equal(fr.b[5], DAQS_CH_T_GET);
	assert_int_equal(fr.b[8], 0x04);	/* little-endian seq */
	assert_int_equal(fr.b[11], 0x01);
	assert_int_equal(fr.b[12], 0);	/* length 0 */
}

/* ---- round trips of every message ---------------------------------------- */

static void test_hello(void **state)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	struct frame fr;
	struct seen s;

	(void)state;
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MIN, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MAX, 3);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "daqsd test");
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(s.last.type, DAQS_CH_T_HELLO);
	assert_int_equal(s.last.flags, 0);
	assert_int_equal(s.last.seq, 1);
	assert_int_equal(daqs_ch_get_u32(&tb[DAQS_CH_A_VERSION_MIN]), 1);
	assert_int_equal(daqs_ch_get_u32(&tb[DAQS_CH_A_VERSION_MAX]), 3);
	assert_string_equal(daqs_ch_get_string(&tb[DAQS_CH_A_PEER_NAME]),
			    "daqsd test");

	/* the reply, naming the agent's configured device */
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, DAQS_CH_F_REPLY, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION, 1);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "daqs-agent 1.0");
	daqs_ch_put_u8(&bld, DAQS_CH_A_MODULE, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put(&bld, DAQS_A_MAC, mac1, sizeof(mac1));
	daqs_ch_nest_end(&bld);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(s.last.flags, DAQS_CH_F_REPLY);
	assert_int_equal(daqs_ch_get_u32(&tb[DAQS_CH_A_VERSION]), 1);
	assert_int_equal(daqs_ch_get_u8(&tb[DAQS_CH_A_MODULE]), 1);
	assert_int_equal(daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING],
					       DAQS_CH_T_HELLO, DAQS_CH_F_REPLY,
					       btb, err, sizeof(err)), 0);
	assert_int_equal(btb[DAQS_A_MAC].len, 6);
	assert_memory_equal(btb[DAQS_A_MAC].data, mac1, 6);
}

static void test_get(void **state)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	struct frame fr;
	struct seen s;

	(void)state;
	/* all bindings: no attribute at all */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 7);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_null(tb[DAQS_CH_A_BINDING].data);

	/* one device */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 8);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth1");
	daqs_ch_nest_end(&bld);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(s.last.seq, 8);
	assert_int_equal(daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING],
					       DAQS_CH_T_GET, 0, btb, err,
					       sizeof(err)), 0);
	assert_string_equal(daqs_ch_get_string(&btb[DAQS_A_IFNAME]), "eth1");
}

static void put_binding(uint32_t ifindex, const char *name, uint64_t tx)
{
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u32(&bld, DAQS_A_IFINDEX, ifindex);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, name);
	daqs_ch_put(&bld, DAQS_A_MAC, mac1, sizeof(mac1));
	daqs_ch_put_u8(&bld, DAQS_A_STATE, DAQS_STATE_ATTACHED);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 200000000ULL);
	daqs_ch_put_u32(&bld, DAQS_A_BURST_BYTES, 65536);
	daqs_ch_put_u8(&bld, DAQS_A_MODE, DAQS_MODE_SHAPE);
	daqs_ch_put_u32(&bld, DAQS_A_QLIMIT_US, 50000);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_MS, 500);
	daqs_ch_put_u64(&bld, DAQS_A_FALLBACK_BPS, 100000000ULL);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_LEFT_MS, 420);
	daqs_ch_put_u8(&bld, DAQS_A_LEASE_STATE, DAQS_LEASE_ACTIVE);
	daqs_ch_put_u64(&bld, DAQS_A_SET_RATE_BPS, 200000000ULL);
	daqs_ch_nest_begin(&bld, DAQS_A_STATS);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TIMESTAMP_NS, 123456789012345ULL);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_BYTES, tx);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_PACKETS, 1000);
	daqs_ch_put_s64(&bld, DAQS_STATS_A_TOKENS, -1500);
	daqs_ch_put_u32(&bld, DAQS_STATS_A_QUEUED, 3);
	daqs_ch_nest_end(&bld);
	daqs_ch_nest_end(&bld);
}

static void test_get_reply(void **state)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	struct daqs_ch_nla stb[DAQS_STATS_A_MAX + 1], a;
	const uint8_t *p;
	struct frame fr;
	struct seen s;
	size_t left;
	int n = 0;

	(void)state;
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY | DAQS_CH_F_MORE, 9);
	put_binding(2, "eth0", 1ULL << 40);
	put_binding(3, "eth1", 42);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(s.last.flags, DAQS_CH_F_REPLY | DAQS_CH_F_MORE);

	p = s.last.payload;
	left = s.last.len;
	while (daqs_ch_attr_next(&p, &left, &a) > 0) {
		assert_int_equal(a.type, DAQS_CH_A_BINDING);
		assert_int_equal(daqs_ch_binding_parse(&a, DAQS_CH_T_GET,
						       DAQS_CH_F_REPLY, btb, err,
						       sizeof(err)), 0);
		assert_int_equal(daqs_ch_get_u32(&btb[DAQS_A_IFINDEX]), 2 + n);
		assert_int_equal(daqs_ch_get_u64(&btb[DAQS_A_RATE_BPS]),
				 200000000ULL);
		assert_int_equal(daqs_ch_parse(btb[DAQS_A_STATS].data,
					       btb[DAQS_A_STATS].len,
					       daqs_ch_stats_policy,
					       DAQS_STATS_A_MAX,
					       DAQS_CH_STATS_ATTRS, stb, err,
					       sizeof(err)), 0);
		assert_int_equal(daqs_ch_get_u64(&stb[DAQS_STATS_A_TIMESTAMP_NS]),
				 123456789012345ULL);
		assert_int_equal(daqs_ch_get_u64(&stb[DAQS_STATS_A_TX_BYTES]),
				 n ? 42 : 1ULL << 40);
		assert_int_equal(daqs_ch_get_s64(&stb[DAQS_STATS_A_TOKENS]),
				 -1500);
		n++;
	}
	assert_int_equal(n, 2);

	/* the last frame of a dump with nothing in it */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 9);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_null(tb[DAQS_CH_A_BINDING].data);
}

static void test_set_del(void **state)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	struct frame fr;
	struct seen s;

	(void)state;
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 10);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put(&bld, DAQS_A_MAC, mac1, sizeof(mac1));
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 1000000000ULL);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_MS, 300);
	daqs_ch_put_u64(&bld, DAQS_A_FALLBACK_BPS, 100000000ULL);
	daqs_ch_put_u32(&bld, DAQS_A_SET_FLAGS, DAQS_SET_F_NOCREATE);
	daqs_ch_nest_end(&bld);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING],
					       DAQS_CH_T_SET, 0, btb, err,
					       sizeof(err)), 0);
	assert_int_equal(daqs_ch_get_u64(&btb[DAQS_A_RATE_BPS]), 1000000000ULL);
	assert_int_equal(daqs_ch_get_u32(&btb[DAQS_A_LEASE_MS]), 300);
	assert_int_equal(daqs_ch_get_u32(&btb[DAQS_A_SET_FLAGS]),
			 DAQS_SET_F_NOCREATE);

	daqs_ch_begin(&bld, DAQS_CH_T_SET, DAQS_CH_F_REPLY, 10);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(s.last.len, 0);

	daqs_ch_begin(&bld, DAQS_CH_T_DEL, 0, 11);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u32(&bld, DAQS_A_IFINDEX, 4);
	daqs_ch_nest_end(&bld);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(s.last.type, DAQS_CH_T_DEL);

	daqs_ch_begin(&bld, DAQS_CH_T_DEL, DAQS_CH_F_REPLY, 11);
	finish(&fr);
	roundtrip(&fr, &s, tb);
}

static void test_error_event(void **state)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	struct frame fr;
	struct seen s;

	(void)state;
	daqs_ch_begin(&bld, DAQS_CH_T_ERROR, 0, 12);
	daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, ENOENT);
	daqs_ch_put_string(&bld, DAQS_CH_A_ERRMSG, "module daqs is not loaded");
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(daqs_ch_get_u32(&tb[DAQS_CH_A_ERRNO]), ENOENT);
	assert_string_equal(daqs_ch_get_string(&tb[DAQS_CH_A_ERRMSG]),
			    "module daqs is not loaded");

	daqs_ch_begin(&bld, DAQS_CH_T_EVENT, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u8(&bld, DAQS_A_EVENT, DAQS_EVENT_DEVICE_GONE);
	daqs_ch_put(&bld, DAQS_A_MAC, mac1, sizeof(mac1));
	daqs_ch_put_u8(&bld, DAQS_A_STATE, DAQS_STATE_ABSENT);
	daqs_ch_nest_end(&bld);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING],
					       DAQS_CH_T_EVENT, 0, btb, err,
					       sizeof(err)), 0);
	assert_int_equal(daqs_ch_get_u8(&btb[DAQS_A_EVENT]),
			 DAQS_EVENT_DEVICE_GONE);

	daqs_ch_begin(&bld, DAQS_CH_T_EVENT, 0, 2);
	daqs_ch_put_u8(&bld, DAQS_CH_A_AGENT_EVENT,
		       DAQS_CH_AGENT_EVENT_MODULE_UNLOADED);
	finish(&fr);
	roundtrip(&fr, &s, tb);
	assert_int_equal(daqs_ch_get_u8(&tb[DAQS_CH_A_AGENT_EVENT]),
			 DAQS_CH_AGENT_EVENT_MODULE_UNLOADED);
}

/* ---- the stream ----------------------------------------------------------- */

static void make_frame(struct frame *fr, uint32_t seq)
{
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, seq);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth0");
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, seq * 1000ULL);
	daqs_ch_nest_end(&bld);
	finish(fr);
}

/* rewrites both checksums after a change to the header or payload */
static void reseal(struct frame *fr)
{
	uint32_t crc = daqs_crc32c(0, fr->b, 16);

	memcpy(fr->b + 16, &crc, 4);	/* the tests run little-endian */
	crc = daqs_crc32c(0, fr->b, 20);
	crc = daqs_crc32c(crc, fr->b + 24, fr->len - 24);
	memcpy(fr->b + 20, &crc, 4);
}

static void test_truncated(void **state)
{
	struct frame a, b;
	struct seen s = { 0 };

	(void)state;
	make_frame(&a, 1);
	make_frame(&b, 2);
	feed(&s, a.b, a.len - 1, a.len);
	assert_int_equal(s.frames, 0);
	assert_int_equal(daqs_ch_dec_pending(&dec), a.len - 1);

	/* the stream went quiet: give the cut-off frame up */
	assert_true(daqs_ch_dec_abandon(&dec));
	drain(&s);
	assert_int_equal(dec.stats.abandoned, 1);
	assert_int_equal(daqs_ch_dec_pending(&dec), 0);
	feed(&s, b.b, b.len, 1);
	assert_int_equal(s.frames, 1);
	assert_int_equal(s.seqs[0], 2);

	/* a cut-off frame followed by more than its rest: found by crc */
	daqs_ch_dec_init(&dec);
	memset(&s, 0, sizeof(s));
	feed(&s, a.b, a.len - 8, a.len);
	feed(&s, b.b, b.len, b.len);
	feed(&s, b.b, b.len, b.len);
	assert_int_equal(s.bad_crc, 1);
	assert_int_equal(s.last.seq, 2);
	assert_int_equal(s.frames, 2);
	assert_int_equal(dec.stats.skipped, a.len - 8);

	/* a header alone is not a frame */
	daqs_ch_dec_init(&dec);
	memset(&s, 0, sizeof(s));
	feed(&s, a.b, DAQS_CH_HDR_LEN, 1);
	assert_int_equal(s.frames, 0);
	assert_int_equal(daqs_ch_dec_pending(&dec), DAQS_CH_HDR_LEN);
	while (daqs_ch_dec_abandon(&dec))
		drain(&s);
	assert_int_equal(s.frames, 0);
	assert_int_equal(dec.stats.skipped, DAQS_CH_HDR_LEN);
	assert_int_equal(dec.stats.abandoned, 1);
}

static void test_oversized(void **state)
{
	struct frame a, b;
	struct seen s = { 0 };
	uint32_t len = DAQS_CH_PAYLOAD_MAX + 1;

	(void)state;
	make_frame(&a, 5);
	make_frame(&b, 6);
	memcpy(a.b + 12, &len, 4);
	reseal(&a);
	feed(&s, a.b, a.len, a.len);
	feed(&s, b.b, b.len, b.len);
	assert_int_equal(s.too_long, 1);
	assert_int_equal(s.frames, 1);
	assert_int_equal(s.seqs[0], 6);
	assert_int_equal(dec.stats.too_long, 1);

	/* a length near 2^32 does not wrap any bound */
	daqs_ch_dec_init(&dec);
	memset(&s, 0, sizeof(s));
	len = 0xffffffe8U;
	memcpy(a.b + 12, &len, 4);
	reseal(&a);
	feed(&s, a.b, a.len, 3);
	feed(&s, b.b, b.len, 3);
	assert_int_equal(s.too_long, 1);
	assert_int_equal(s.frames, 1);
}

static void test_wrong_version(void **state)
{
	struct frame a, b;
	struct seen s = { 0 };

	(void)state;
	make_frame(&a, 7);
	make_frame(&b, 8);
	a.b[4] = 2;
	reseal(&a);
	feed(&s, a.b, a.len, 5);
	feed(&s, b.b, b.len, 5);
	assert_int_equal(s.bad_version, 1);
	assert_int_equal(s.frames, 1);
	assert_int_equal(s.seqs[0], 8);
	/* a frame of another version is consumed whole, not skipped */
	assert_int_equal(dec.stats.skipped, 0);
	assert_int_equal(dec.stats.bad_version, 1);

	daqs_ch_dec_init(&dec);
	memset(&s, 0, sizeof(s));
	a.b[4] = 0;
	reseal(&a);
	feed(&s, a.b, a.len, a.len);
	assert_int_equal(s.bad_version, 1);
	assert_int_equal(s.last.seq, 7);
}

static void test_bad_checksum(void **state)
{
	struct frame a, b;
	struct seen s = { 0 };

	(void)state;
	make_frame(&a, 9);
	make_frame(&b, 10);
	a.b[a.len - 5] ^= 0x01;		/* payload */
	feed(&s, a.b, a.len, a.len);
	feed(&s, b.b, b.len, b.len);
	assert_int_equal(s.bad_crc, 1);
	assert_int_equal(s.last.seq, 10);
	assert_int_equal(s.frames, 1);

	/* a damaged header is not even a header: no seq to answer */
	daqs_ch_dec_init(&dec);
	memset(&s, 0, sizeof(s));
	make_frame(&a, 9);
	a.b[9] ^= 0x80;
	feed(&s, a.b, a.len, a.len);
	feed(&s, b.b, b.len, b.len);
	assert_int_equal(s.bad_crc, 0);
	assert_int_equal(dec.stats.bad_header, 1);
	assert_int_equal(s.frames, 1);
	assert_int_equal(dec.stats.skipped, a.len);

	/* the crc field itself */
	daqs_ch_dec_init(&dec);
	memset(&s, 0, sizeof(s));
	make_frame(&a, 9);
	a.b[22] ^= 0x10;
	feed(&s, a.b, a.len, 1);
	assert_int_equal(s.bad_crc, 1);
	assert_int_equal(s.frames, 0);
}

static void test_garbage_before(void **state)
{
	uint8_t junk[300];
	struct frame b;
	struct seen s = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = rnd();
	/* false starts: a whole magic, and a partial one at the end */
	memcpy(junk + 100, "\x89" "DQS", 4);
	memcpy(junk + 297, "\x89" "DQ", 3);
	make_frame(&b, 11);
	feed(&s, junk, sizeof(junk), 7);
	feed(&s, b.b, b.len, 7);
	assert_int_equal(s.frames, 1);
	assert_int_equal(s.seqs[0], 11);
	assert_int_equal(dec.stats.skipped, sizeof(junk));
	assert_true(dec.stats.bad_header >= 1);
}

static void test_byte_by_byte(void **state)
{
	struct frame a, b;
	struct seen s = { 0 };

	(void)state;
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 12);
	put_binding(2, "eth0", 99);
	finish(&a);
	make_frame(&b, 13);
	feed(&s, a.b, a.len, 1);
	feed(&s, b.b, b.len, 1);
	assert_int_equal(s.frames, 2);
	assert_int_equal(s.seqs[0], 12);
	assert_int_equal(s.seqs[1], 13);
	assert_int_equal(dec.stats.skipped, 0);
	assert_int_equal(dec.stats.bytes, a.len + b.len);
}

static void test_mid_frame_start(void **state)
{
	struct frame a, b;
	struct seen s;
	size_t cut;

	(void)state;
	make_frame(&a, 14);
	make_frame(&b, 15);
	/* every point of entry into a, including inside its magic */
	for (cut = 1; cut < a.len; cut++) {
		daqs_ch_dec_init(&dec);
		memset(&s, 0, sizeof(s));
		feed(&s, a.b + cut, a.len - cut, 3);
		feed(&s, b.b, b.len, 3);
		assert_int_equal(s.frames, 1);
		assert_int_equal(s.seqs[0], 15);
		assert_int_equal(dec.stats.skipped, a.len - cut);
	}
}

static void test_garbage_flood(void **state)
{
	static uint8_t junk[1 << 16];
	struct frame b;
	struct seen s = { 0 };
	size_t i, round;

	(void)state;
	for (round = 0; round < 64; round++) {	/* 4 MiB */
		for (i = 0; i < sizeof(junk); i++)
			junk[i] = rnd();
		/* plenty of magics, some with a plausible version */
		for (i = round % 7; i + 8 < sizeof(junk); i += 61) {
			memcpy(junk + i, "\x89" "DQS", 4);
			junk[i + 4] = 1;
		}
		feed(&s, junk, sizeof(junk), 1000 + round);
		assert_int_equal(s.frames, 0);
		assert_true(daqs_ch_dec_pending(&dec) <= DAQS_CH_FRAME_MAX);
	}
	assert_int_equal(dec.stats.bytes, 64 * sizeof(junk));
	assert_int_equal(dec.stats.skipped + daqs_ch_dec_pending(&dec),
			 dec.stats.bytes);
	assert_true(dec.stats.bad_header >= 64 * (sizeof(junk) / 61) - 64);
	/* and it still hears a good frame (a partial magic may be held) */
	make_frame(&b, 16);
	while (daqs_ch_dec_abandon(&dec))
		drain(&s);
	feed(&s, b.b, b.len, b.len);
	assert_int_equal(s.frames, 1);
	assert_int_equal(s.seqs[0], 16);
}

static void test_max_payload(void **state)
{
	static uint8_t big[DAQS_CH_PAYLOAD_MAX];
	struct frame a, b;
	struct seen s = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = rnd();
	/* one attribute that fills the payload exactly */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 17);
	assert_int_equal(daqs_ch_put(&bld, 999, big, sizeof(big) - 4), 0);
	assert_int_equal(daqs_ch_room(&bld), 0);
	finish(&a);
	assert_int_equal(a.len, DAQS_CH_FRAME_MAX);
	make_frame(&b, 18);

	feed(&s, a.b, a.len, 4000);
	feed(&s, b.b, b.len, 4000);
	assert_int_equal(s.frames, 2);
	assert_int_equal(s.seqs[0], 17);
	assert_memory_equal(s.last_payload + 4, b.b + 28, 4);

	/* one byte more does not fit */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 19);
	assert_int_equal(daqs_ch_put(&bld, 999, big, sizeof(big) - 3), -1);
	assert_int_equal(daqs_ch_end(&bld), -1);

	/* a full buffer takes no more until a frame is taken out */
	daqs_ch_dec_init(&dec);
	assert_int_equal(daqs_ch_dec_feed(&dec, a.b, a.len), a.len);
	assert_int_equal(daqs_ch_dec_feed(&dec, b.b, b.len), 0);
	memset(&s, 0, sizeof(s));
	drain(&s);
	assert_int_equal(s.frames, 1);
	assert_int_equal(daqs_ch_dec_feed(&dec, b.b, b.len), b.len);
	drain(&s);
	assert_int_equal(s.frames, 2);
}

static void test_builder(void **state)
{
	size_t mark;
	int i;

	(void)state;
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 1);
	mark = daqs_ch_tell(&bld);
	/* bindings until one no longer fits, then roll it back */
	for (i = 0; i < 100; i++) {
		mark = daqs_ch_tell(&bld);
		put_binding(2, "eth0", 1);
		if (bld.failed)
			break;
	}
	assert_true(i > 5 && i < 100);
	assert_int_equal(daqs_ch_end(&bld), -1);
	daqs_ch_trim(&bld, mark);
	assert_false(bld.failed);
	assert_int_equal(bld.depth, 0);
	assert_int_equal(daqs_ch_end(&bld), (int)mark);

	/* an open nest fails the frame; so does closing one too many */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	assert_int_equal(daqs_ch_end(&bld), -1);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 1);
	assert_int_equal(daqs_ch_nest_end(&bld), -1);
	assert_int_equal(daqs_ch_end(&bld), -1);
	/* nests are bounded */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 1);
	for (i = 0; i < DAQS_CH_NEST_MAX; i++)
		assert_int_equal(daqs_ch_nest_begin(&bld, 1), 0);
	assert_int_equal(daqs_ch_nest_begin(&bld, 1), -1);
}

/* ---- messages that are frames but not valid messages --------------------- */

static int parse_built(void)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	struct daqs_ch_frame f;
	int n = daqs_ch_end(&bld), errnum = 0;

	assert_true(n > 0);
	f.version = bld.buf[4];
	f.type = bld.buf[5];
	f.flags = (uint16_t)(bld.buf[6] | bld.buf[7] << 8);
	f.seq = 1;
	f.len = (uint32_t)n - DAQS_CH_HDR_LEN;
	f.payload = bld.buf + DAQS_CH_HDR_LEN;
	err[0] = '\0';
	if (daqs_ch_msg_parse(&f, tb, &errnum, err, sizeof(err)))
		return -errnum;
	return 0;
}

static void test_invalid_messages(void **state)
{
	uint8_t raw[8] = { 0 };

	(void)state;
	/* unknown type */
	daqs_ch_begin(&bld, 42, 0, 1);
	assert_int_equal(parse_built(), -EOPNOTSUPP);
	assert_string_equal(err, "unknown message type 42");
	daqs_ch_begin(&bld, 0, 0, 1);
	assert_int_equal(parse_built(), -EOPNOTSUPP);

	/* flags: unknown bit, MORE on a request, REPLY on an ERROR */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0x80, 1);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_MORE, 1);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_SET, DAQS_CH_F_REPLY | DAQS_CH_F_MORE, 1);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_ERROR, DAQS_CH_F_REPLY, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, 1);
	assert_int_equal(parse_built(), -EINVAL);

	/* an attribute a message may not carry */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, 1);
	assert_int_equal(parse_built(), -EINVAL);
	assert_string_equal(err, "attribute 7 is not allowed here");
	/* an attribute number nobody knows */
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, 1);
	daqs_ch_put_u32(&bld, 1000, 1);
	assert_int_equal(parse_built(), -EINVAL);
	/* SET may not carry what only replies do, nor a PAD */
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u8(&bld, DAQS_A_STATE, 0);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	assert_string_equal(err, "binding: attribute 4 is not allowed here");
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put(&bld, DAQS_A_PAD, NULL, 0);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	/* GET may not carry SET attributes */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 1);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);

	/* wrong lengths */
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u32(&bld, DAQS_A_RATE_BPS, 1);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	assert_string_equal(err, "binding: attribute 5 (u64) has length 4");
	daqs_ch_begin(&bld, DAQS_CH_T_DEL, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put(&bld, DAQS_A_MAC, mac1, 5);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	/* strings: no NUL, too long */
	daqs_ch_begin(&bld, DAQS_CH_T_DEL, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put(&bld, DAQS_A_IFNAME, "eth0", 4);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_DEL, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "a-name-of-16-chr");
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);

	/* twice the same, and two selectors */
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 1);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 2);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	assert_string_equal(err, "binding: attribute 5 appears twice");
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth0");
	daqs_ch_put(&bld, DAQS_A_MAC, mac1, sizeof(mac1));
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);

	/* what a message needs */
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 1);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_ERROR, 0, 1);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_EVENT, 0, 1);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, DAQS_CH_F_REPLY, 1);
	assert_int_equal(parse_built(), -EINVAL);

	/* a GET reply holds bindings only; each one is checked */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 1);
	put_binding(1, "eth0", 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, 1);
	assert_int_equal(parse_built(), -EINVAL);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 1);
	put_binding(1, "eth0", 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u32(&bld, DAQS_A_SET_FLAGS, 1);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	/* stats with a wrong length inside */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, 1);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_nest_begin(&bld, DAQS_A_STATS);
	daqs_ch_put_u32(&bld, DAQS_STATS_A_TX_BYTES, 1);
	daqs_ch_nest_end(&bld);
	daqs_ch_nest_end(&bld);
	assert_int_equal(parse_built(), -EINVAL);
	assert_string_equal(err, "binding: stats: attribute 2 (u64) has length 4");

	/* attributes that run past their container */
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, 1);
	raw[0] = 12;	/* nla_len 12 in 8 bytes */
	raw[2] = DAQS_CH_A_BINDING;
	daqs_ch_put(&bld, DAQS_CH_A_BINDING, raw, sizeof(raw));
	assert_int_equal(parse_built(), -EINVAL);
	assert_string_equal(err, "attribute 6 (nested) holds a truncated attribute");
	/* network byte order is never used */
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MIN | 0x4000, 1);
	assert_int_equal(parse_built(), 0);	/* put masks the flag bits */
	bld.buf[DAQS_CH_HDR_LEN + 3] |= 0x40;
	assert_int_equal(parse_built(), -EINVAL);
}

static void test_attr_iter(void **state)
{
	const uint8_t three[3] = { 4, 0, 1 };
	const uint8_t short_len[4] = { 3, 0, 1, 0 };
	/* a last attribute whose padding was left out */
	const uint8_t nopad[5] = { 5, 0, 5, 0, 7 };
	struct daqs_ch_nla a;
	const uint8_t *p;
	size_t left;

	(void)state;
	p = three;
	left = sizeof(three);
	assert_int_equal(daqs_ch_attr_next(&p, &left, &a), -1);
	p = short_len;
	left = sizeof(short_len);
	assert_int_equal(daqs_ch_attr_next(&p, &left, &a), -1);
	p = nopad;
	left = sizeof(nopad);
	assert_int_equal(daqs_ch_attr_next(&p, &left, &a), 1);
	assert_int_equal(a.type, 5);
	assert_int_equal(a.len, 1);
	assert_int_equal(a.data[0], 7);
	assert_int_equal(daqs_ch_attr_next(&p, &left, &a), 0);
}

static void test_type_names(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(daqs_ch_type_name(DAQS_CH_T_HELLO, buf, sizeof(buf)),
			    "HELLO");
	assert_string_equal(daqs_ch_type_name(DAQS_CH_T_EVENT, buf, sizeof(buf)),
			    "EVENT");
	assert_string_equal(daqs_ch_type_name(200, buf, sizeof(buf)), "type 200");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_crc32c, setup),
		cmocka_unit_test_setup(test_header_layout, setup),
		cmocka_unit_test_setup(test_hello, setup),
		cmocka_unit_test_setup(test_get, setup),
		cmocka_unit_test_setup(test_get_reply, setup),
		cmocka_unit_test_setup(test_set_del, setup),
		cmocka_unit_test_setup(test_error_event, setup),
		cmocka_unit_test_setup(test_truncated, setup),
		cmocka_unit_test_setup(test_oversized, setup),
		cmocka_unit_test_setup(test_wrong_version, setup),
		cmocka_unit_test_setup(test_bad_checksum, setup),
		cmocka_unit_test_setup(test_garbage_before, setup),
		cmocka_unit_test_setup(test_byte_by_byte, setup),
		cmocka_unit_test_setup(test_mid_frame_start, setup),
		cmocka_unit_test_setup(test_garbage_flood, setup),
		cmocka_unit_test_setup(test_max_payload, setup),
		cmocka_unit_test_setup(test_builder, setup),
		cmocka_unit_test_setup(test_invalid_messages, setup),
		cmocka_unit_test_setup(test_attr_iter, setup),
		cmocka_unit_test_setup(test_type_names, setup),
	};

	return cmocka_run_group_tests_name("channel", tests, NULL, NULL);
}
