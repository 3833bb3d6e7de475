// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the family's policy and the validation of SET requests. Requests
 * are built as real attribute streams and parsed with the family's policy,
 * as genetlink does before calling the handler.
 */
#include <kunit/test.h>
#include <net/netlink.h>

#include "daqs.h"

#define DAQS_T_RATE	BIT(0)
#define DAQS_T_BURST	BIT(1)
#define DAQS_T_MODE	BIT(2)
#define DAQS_T_QLIMIT	BIT(3)
#define DAQS_T_LEASE	BIT(4)
#define DAQS_T_FALLBACK	BIT(5)
#define DAQS_T_STATE	BIT(6)
#define DAQS_T_CUR_FB	BIT(7)	/* the binding already has a fallback */

struct daqs_set_case {
	const char *name;
	u32 has;
	u64 rate;
	u32 burst;
	u8 mode;
	u32 qlimit;
	u32 lease;
	u64 fallback;
	int err;		/* from nla_parse or daqs_parse_limit */
	const char *msg;	/* extack message must contain this */
	bool renew;
};

static const struct daqs_set_case daqs_set_cases[] = {
	{ .name = "empty keeps defaults" },
	{ .name = "rate and burst", .has = DAQS_T_RATE | DAQS_T_BURST,
	  .rate = 200000000, .burst = 65536 },
	{ .name = "rate 0 counts only", .has = DAQS_T_RATE, .rate = 0 },
	{ .name = "rate below minimum", .has = DAQS_T_RATE, .rate = 7999,
	  .err = -ERANGE, .msg = "rate below" },
	{ .name = "burst 0 with a rate", .has = DAQS_T_RATE | DAQS_T_BURST,
	  .rate = 1000000, .burst = 0, .err = -EINVAL,
	  .msg = "DAQS_A_BURST_BYTES must not be 0" },
	{ .name = "burst 0 without a rate", .has = DAQS_T_BURST, .burst = 0 },
	{ .name = "unknown mode", .has = DAQS_T_MODE, .mode = 2,
	  .err = -EINVAL, .msg = "DAQS_A_MODE" },
	{ .name = "police", .has = DAQS_T_MODE, .mode = DAQS_MODE_POLICE },
	{ .name = "qlimit too small", .has = DAQS_T_QLIMIT, .qlimit = 999,
	  .err = -ERANGE, .msg = "DAQS_A_QLIMIT_US" },
	{ .name = "qlimit too large", .has = DAQS_T_QLIMIT,
	  .qlimit = DAQS_QLIMIT_MAX_US + 1, .err = -ERANGE,
	  .msg = "DAQS_A_QLIMIT_US" },
	{ .name = "lease without fallback", .has = DAQS_T_LEASE,
	  .lease = 2000, .err = -EINVAL, .msg = "needs DAQS_A_FALLBACK_BPS" },
	{ .name = "lease with fallback", .has = DAQS_T_LEASE | DAQS_T_FALLBACK,
	  .lease = 2000, .fallback = 10000000, .renew = true },
	{ .name = "lease renewed on a binding with a fallback",
	  .has = DAQS_T_LEASE | DAQS_T_CUR_FB, .lease = 300, .renew = true },
	{ .name = "lease too short", .has = DAQS_T_LEASE | DAQS_T_FALLBACK,
	  .lease = 9, .fallback = 10000000, .err = -ERANGE,
	  .msg = "DAQS_A_LEASE_MS" },
	{ .name = "lease 0 removes it", .has = DAQS_T_LEASE, .lease = 0,
	  .renew = true },
	{ .name = "fallback below minimum", .has = DAQS_T_FALLBACK,
	  .fallback = 1, .err = -ERANGE, .msg = "rate below" },
	{ .name = "read-only attribute", .has = DAQS_T_STATE, .err = -EINVAL,
	  .msg = "DAQS_A_STATE is read-only" },
	{ .name = "maximum rate", .has = DAQS_T_RATE, .rate = U64_MAX },
};

static void daqs_set_case_desc(const struct daqs_set_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(daqs_set, daqs_set_cases, daqs_set_case_desc);

static struct sk_buff *daqs_build(struct kunit *test,
				  const struct daqs_set_case *c)
{
	struct sk_buff *skb = alloc_skb(NLMSG_GOODSIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	if (c->has & DAQS_T_RATE)
		nla_put_u64_64bit(skb, DAQS_A_RATE_BPS, c->rate, DAQS_A_PAD);
	if (c->has & DAQS_T_BURST)
		nla_put_u32(skb, DAQS_A_BURST_BYTES, c->burst);
	if (c->has & DAQS_T_MODE)
		nla_put_u8(skb, DAQS_A_MODE, c->mode);
	if (c->has & DAQS_T_QLIMIT)
		nla_put_u32(skb, DAQS_A_QLIMIT_US, c->qlimit);
	if (c->has & DAQS_T_LEASE)
		nla_put_u32(skb, DAQS_A_LEASE_MS, c->lease);
	if (c->has & DAQS_T_FALLBACK)
		nla_put_u64_64bit(skb, DAQS_A_FALLBACK_BPS, c->fallback,
				  DAQS_A_PAD);
	if (c->has & DAQS_T_STATE)
		nla_put_u8(skb, DAQS_A_STATE, DAQS_STATE_ATTACHED);
	return skb;
}

static void daqs_set_test(struct kunit *test)
{
	const struct daqs_set_case *c = test->param_value;
	struct netlink_ext_ack extack = {};
	struct nlattr *tb[DAQS_A_MAX + 1];
	struct daqs_limit cur = daqs_limit_default, out;
	struct sk_buff *skb = daqs_build(test, c);
	bool renew = false;
	int err;

	if (c->has & DAQS_T_CUR_FB) {
		cur.has_fallback = true;
		cur.fallback_bps = 1000000;
	}
	err = nla_parse(tb, DAQS_A_MAX, (struct nlattr *)skb->data, skb->len,
			daqs_policy, &extack);
	if (!err)
		err = daqs_parse_limit(tb, &cur, &out, &renew, &extack);
	kfree_skb(skb);

	KUNIT_EXPECT_EQ(test, err, c->err);
	if (c->msg) {
		KUNIT_ASSERT_NOT_NULL(test, extack._msg);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(extack._msg, c->msg),
					  "extack: %s", extack._msg);
	}
	if (c->err)
		return;
	KUNIT_EXPECT_EQ(test, renew, c->renew);
	KUNIT_EXPECT_EQ(test, out.rate_bps,
			(c->has & DAQS_T_RATE) ? c->rate : cur.rate_bps);
	KUNIT_EXPECT_EQ(test, out.burst_bytes,
			(c->has & DAQS_T_BURST) ? c->burst : cur.burst_bytes);
	KUNIT_EXPECT_EQ(test, out.mode,
			(c->has & DAQS_T_MODE) ? c->mode : cur.mode);
	KUNIT_EXPECT_EQ(test, out.lease_ms,
			(c->has & DAQS_T_LEASE) ? c->lease : cur.lease_ms);
	KUNIT_EXPECT_EQ(test, out.fallback_bps,
			(c->has & DAQS_T_FALLBACK) ? c->fallback :
						     cur.fallback_bps);
}

/* A rejected SET leaves the caller's current limit untouched. */
static void daqs_set_pure_test(struct kunit *test)
{
	static const struct daqs_set_case bad = {
		.has = DAQS_T_RATE | DAQS_T_BURST, .rate = 1000000, .burst = 0,
	};
	struct netlink_ext_ack extack = {};
	struct nlattr *tb[DAQS_A_MAX + 1];
	struct daqs_limit cur = daqs_limit_default, before = cur, out;
	struct sk_buff *skb = daqs_build(test, &bad);
	bool renew;

	KUNIT_ASSERT_EQ(test, nla_parse(tb, DAQS_A_MAX,
					(struct nlattr *)skb->data, skb->len,
					daqs_policy, &extack), 0);
	KUNIT_EXPECT_EQ(test, daqs_parse_limit(tb, &cur, &out, &renew,
					       &extack), -EINVAL);
	KUNIT_EXPECT_EQ(test, memcmp(&cur, &before, sizeof(cur)), 0);
	kfree_skb(skb);
}

/* An automatic burst follows the rate; an explicit one is kept. */
static void daqs_burst_auto_test(struct kunit *test)
{
	struct daqs_limit l = daqs_limit_default;

	KUNIT_EXPECT_EQ(test, l.burst_bytes, 0);
	KUNIT_EXPECT_EQ(test, daqs_limit_burst(&l, 10000000),
			DAQS_BURST_DEFAULT_BYTES);
	/* 5 ms at 800 Mbit/s */
	KUNIT_EXPECT_EQ(test, daqs_limit_burst(&l, 800000000), 500000);
	KUNIT_EXPECT_EQ(test, daqs_limit_burst(&l, 40000000000ULL), 25000000);
	KUNIT_EXPECT_EQ(test, daqs_limit_burst(&l, U64_MAX), U32_MAX);
	l.burst_bytes = 1500;
	KUNIT_EXPECT_EQ(test, daqs_limit_burst(&l, 800000000), 1500);
}

static struct kunit_case daqs_netlink_cases[] = {
	KUNIT_CASE(daqs_burst_auto_test),
	KUNIT_CASE_PARAM(daqs_set_test, daqs_set_gen_params),
	KUNIT_CASE(daqs_set_pure_test),
	{}
};

static struct kunit_suite daqs_netlink_suite = {
	.name = "daqs_netlink",
	.test_cases = daqs_netlink_cases,
};

kunit_test_suite(daqs_netlink_suite);
