// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "daqs": see uapi/linux/daqs.h for the protocol.
 * Every handler runs under RTNL, like the netdev notifier, so the set of
 * bindings and devices cannot change under it.
 */
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "daqs.h"

const struct nla_policy daqs_policy[DAQS_A_MAX + 1] = {
	[DAQS_A_IFINDEX] = { .type = NLA_U32 },
	[DAQS_A_IFNAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[DAQS_A_MAC] = NLA_POLICY_ETH_ADDR,
	[DAQS_A_STATE] = { .type = NLA_REJECT,
			   .reject_message = "DAQS_A_STATE is read-only" },
	[DAQS_A_RATE_BPS] = { .type = NLA_U64 },
	[DAQS_A_BURST_BYTES] = { .type = NLA_U32 },
	[DAQS_A_MODE] = { .type = NLA_U8 },
	[DAQS_A_QLIMIT_US] = { .type = NLA_U32 },
	[DAQS_A_LEASE_MS] = { .type = NLA_U32 },
	[DAQS_A_FALLBACK_BPS] = { .type = NLA_U64 },
	[DAQS_A_LEASE_LEFT_MS] = {
		.type = NLA_REJECT,
		.reject_message = "DAQS_A_LEASE_LEFT_MS is read-only" },
	[DAQS_A_LEASE_STATE] = {
		.type = NLA_REJECT,
		.reject_message = "DAQS_A_LEASE_STATE is read-only" },
	[DAQS_A_SET_RATE_BPS] = {
		.type = NLA_REJECT,
		.reject_message = "DAQS_A_SET_RATE_BPS is read-only" },
	[DAQS_A_SET_FLAGS] = { .type = NLA_U32 },
	[DAQS_A_STATS] = { .type = NLA_REJECT,
			   .reject_message = "DAQS_A_STATS is read-only" },
	[DAQS_A_EVENT] = { .type = NLA_REJECT,
			   .reject_message = "DAQS_A_EVENT is read-only" },
	/* nla_put_u64_64bit() pads with it: accept and ignore */
	[DAQS_A_PAD] = { .type = NLA_BINARY },
};

static struct genl_family daqs_family;
static bool daqs_family_registered;

enum daqs_mcgrp { DAQS_MCGRP_EVENTS };

static const struct genl_multicast_group daqs_mcgrps[] = {
	[DAQS_MCGRP_EVENTS] = { .name = DAQS_GENL_MCGRP_EVENTS },
};

static int daqs_check_rate(struct nlattr *attr, u64 rate,
			   struct netlink_ext_ack *extack)
{
	if (rate && rate < DAQS_RATE_MIN_BPS) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "rate below the minimum of 8000 bit/s (0 means unlimited)");
		return -ERANGE;
	}
	return 0;
}

/*
 * Merge the limit attributes of a SET into @cur and validate the result.
 * Pure: no side effects, so a rejected request changes nothing.
 */
int daqs_parse_limit(struct nlattr **attrs, const struct daqs_limit *cur,
		     struct daqs_limit *out, bool *renew_lease,
		     struct netlink_ext_ack *extack)
{
	struct nlattr *a;
	int err;

	*out = *cur;
	*renew_lease = false;

	a = attrs[DAQS_A_RATE_BPS];
	if (a) {
		out->rate_bps = nla_get_u64(a);
		err = daqs_check_rate(a, out->rate_bps, extack);
		if (err)
			return err;
	}
	a = attrs[DAQS_A_BURST_BYTES];
	if (a) {
		out->burst_bytes = nla_get_u32(a);
		if (out->rate_bps && !out->burst_bytes) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "DAQS_A_BURST_BYTES must not be 0 when a rate is set");
			return -EINVAL;
		}
	}
	a = attrs[DAQS_A_MODE];
	if (a) {
		out->mode = nla_get_u8(a);
		if (out->mode > DAQS_MODE_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "DAQS_A_MODE: unknown mode (0 shape, 1 police)");
			return -EINVAL;
		}
	}
	a = attrs[DAQS_A_QLIMIT_US];
	if (a) {
		out->qlimit_us = nla_get_u32(a);
		if (out->qlimit_us < DAQS_QLIMIT_MIN_US ||
		    out->qlimit_us > DAQS_QLIMIT_MAX_US) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "DAQS_A_QLIMIT_US out of range 1000..1000000");
			return -ERANGE;
		}
	}
	a = attrs[DAQS_A_FALLBACK_BPS];
	if (a) {
		out->fallback_bps = nla_get_u64(a);
		out->has_fallback = true;
		err = daqs_check_rate(a, out->fallback_bps, extack);
		if (err)
			return err;
	}
	a = attrs[DAQS_A_LEASE_MS];
	if (a) {
		out->lease_ms = nla_get_u32(a);
		*renew_lease = true;
		if (out->lease_ms && (out->lease_ms < DAQS_LEASE_MIN_MS ||
				      out->lease_ms > DAQS_LEASE_MAX_MS)) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "DAQS_A_LEASE_MS out of range 10..3600000 (0 removes the lease)");
			return -ERANGE;
		}
		if (out->lease_ms && !out->has_fallback) {
			NL_SET_ERR_MSG_ATTR(extack, a,
					    "DAQS_A_LEASE_MS needs DAQS_A_FALLBACK_BPS");
			return -EINVAL;
		}
	}
	return 0;
}

/* Exactly one selector; resolves a device in the caller's namespace. */
static int daqs_select(struct genl_info *info, struct net_device **devp,
		       struct daqs_binding **bp, u8 *mac)
{
	struct nlattr **attrs = info->attrs;
	struct net *net = genl_info_net(info);
	struct net_device *dev = NULL;
	int n = !!attrs[DAQS_A_IFINDEX] + !!attrs[DAQS_A_IFNAME] +
		!!attrs[DAQS_A_MAC];

	*devp = NULL;
	*bp = NULL;
	if (n > 1) {
		NL_SET_ERR_MSG(info->extack,
			       "give only one of DAQS_A_IFINDEX, DAQS_A_IFNAME, DAQS_A_MAC");
		return -EINVAL;
	}
	if (!n) {
		NL_SET_ERR_MSG(info->extack,
			       "missing device: DAQS_A_IFINDEX, DAQS_A_IFNAME or DAQS_A_MAC");
		return -EINVAL;
	}
	if (attrs[DAQS_A_MAC]) {
		memcpy(mac, nla_data(attrs[DAQS_A_MAC]), ETH_ALEN);
		*bp = daqs_binding_find_mac(net, mac);
		return 0;
	}
	if (attrs[DAQS_A_IFINDEX]) {
		dev = __dev_get_by_index(net, nla_get_u32(attrs[DAQS_A_IFINDEX]));
		if (!dev) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DAQS_A_IFINDEX],
					    "DAQS_A_IFINDEX: no such device in this network namespace");
			return -ENODEV;
		}
	} else {
		dev = __dev_get_by_name(net, nla_data(attrs[DAQS_A_IFNAME]));
		if (!dev) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DAQS_A_IFNAME],
					    "DAQS_A_IFNAME: no such device in this network namespace");
			return -ENODEV;
		}
	}
	*devp = dev;
	*bp = daqs_binding_find_dev(net, dev);
	if (!*bp) {
		daqs_dev_key(dev, mac);
		/* a binding waiting for this device's MAC takes it over */
		*bp = daqs_binding_find_mac(net, mac);
		if (*bp && (*bp)->dev)
			*bp = NULL;
	}
	return 0;
}

/*
 * The device of @net whose key (daqs_dev_key()) is @mac and that has no
 * binding yet, or NULL: what a SET by MAC binds when the device is there.
 */
static struct net_device *daqs_dev_by_key(struct net *net, const u8 *mac)
{
	struct net_device *dev;
	u8 key[ETH_ALEN];

	ASSERT_RTNL();
	if (is_zero_ether_addr(mac))
		return NULL;
	for_each_netdev(net, dev) {
		daqs_dev_key(dev, key);
		if (ether_addr_equal(key, mac) && !daqs_binding_find_dev(net, dev))
			return dev;
	}
	return NULL;
}

/* The binding a GET or DEL names; it must exist (absent is fine by MAC). */
static int daqs_select_attached(struct genl_info *info, struct daqs_binding **bp)
{
	struct net_device *dev;
	u8 mac[ETH_ALEN];
	int err = daqs_select(info, &dev, bp, mac);

	if (!err && (!*bp || (dev && (*bp)->dev != dev))) {
		NL_SET_ERR_MSG(info->extack, "device not attached to daqs");
		err = -ENOENT;
	}
	return err;
}

static int daqs_fill(struct sk_buff *skb, const struct daqs_binding *b,
		     u8 cmd, u8 event, u32 portid, u32 seq, int flags,
		     struct netlink_callback *cb)
{
	const struct daqs_limit *l = &b->limit;
	struct daqs_stats_snapshot st;
	struct nlattr *nest;
	const struct daqs_cfg *cfg;
	void *hdr;
	s64 tokens;
	u64 now;

	hdr = genlmsg_put(skb, portid, seq, &daqs_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);

	if (nla_put_u32(skb, DAQS_A_IFINDEX, b->ifindex) ||
	    nla_put_string(skb, DAQS_A_IFNAME, b->ifname) ||
	    nla_put(skb, DAQS_A_MAC, ETH_ALEN, b->mac) ||
	    nla_put_u8(skb, DAQS_A_STATE, b->dev ? DAQS_STATE_ATTACHED :
						   DAQS_STATE_ABSENT) ||
	    nla_put_u64_64bit(skb, DAQS_A_RATE_BPS, daqs_binding_rate_now(b),
			      DAQS_A_PAD) ||
	    nla_put_u32(skb, DAQS_A_BURST_BYTES,
			daqs_limit_burst(l, daqs_binding_rate_now(b))) ||
	    nla_put_u8(skb, DAQS_A_MODE, l->mode) ||
	    nla_put_u32(skb, DAQS_A_QLIMIT_US, l->qlimit_us) ||
	    nla_put_u32(skb, DAQS_A_LEASE_MS, l->lease_ms) ||
	    nla_put_u64_64bit(skb, DAQS_A_FALLBACK_BPS, l->fallback_bps,
			      DAQS_A_PAD) ||
	    nla_put_u32(skb, DAQS_A_LEASE_LEFT_MS,
			daqs_binding_lease_left_ms(b)) ||
	    nla_put_u8(skb, DAQS_A_LEASE_STATE, b->lease_state) ||
	    nla_put_u64_64bit(skb, DAQS_A_SET_RATE_BPS, l->rate_bps,
			      DAQS_A_PAD))
		goto cancel;

	if (event) {
		if (nla_put_u8(skb, DAQS_A_EVENT, event))
			goto cancel;
		genlmsg_end(skb, hdr);
		return 0;
	}

	daqs_datapath_stats(b, &st);
	now = ktime_get_ns();
	cfg = rtnl_dereference(b->cfg);
	tokens = daqs_bucket_tokens(&b->bucket, &cfg->rate, now);
	nest = nla_nest_start(skb, DAQS_A_STATS);
	if (!nest ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_TIMESTAMP_NS, now,
			      DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_TX_BYTES, st.tx_bytes,
			      DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_TX_PACKETS, st.tx_packets,
			      DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_TX_WIRE_BYTES,
			      st.tx_wire_bytes, DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_TX_WIRE_PACKETS,
			      st.tx_wire_packets, DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_DROPS_POLICE, st.drops_police,
			      DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_DROPS_QLIMIT, st.drops_qlimit,
			      DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_DROPS_DETACH, st.drops_detach,
			      DAQS_STATS_A_PAD) ||
	    nla_put_u64_64bit(skb, DAQS_STATS_A_THROTTLED, st.throttled,
			      DAQS_STATS_A_PAD) ||
	    nla_put_s64(skb, DAQS_STATS_A_TOKENS, tokens, DAQS_STATS_A_PAD) ||
	    nla_put_u32(skb, DAQS_STATS_A_QUEUED, st.queued))
		goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

void daqs_notify(const struct daqs_binding *b, u8 event)
{
	struct sk_buff *skb;

	if (!daqs_family_registered)
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	if (daqs_fill(skb, b, DAQS_CMD_EVENT, event, 0, 0, 0, NULL)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_multicast_netns(&daqs_family, b->net, skb, 0,
				DAQS_MCGRP_EVENTS, GFP_KERNEL);
}

static int daqs_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct daqs_binding *b;
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	rtnl_lock();
	err = daqs_select_attached(info, &b);
	if (!err)
		err = daqs_fill(msg, b, DAQS_CMD_GET, 0, info->snd_portid,
				info->snd_seq, 0, NULL);
	rtnl_unlock();
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int daqs_nl_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct daqs_net *dn = daqs_net(sock_net(skb->sk));
	long skip = cb->args[0], i = 0;
	struct daqs_binding *b;

	rtnl_lock();
	cb->seq = dn->gen;
	list_for_each_entry(b, &dn->bindings, list) {
		if (i++ < skip)
			continue;
		/* full: the next call goes on from this binding */
		if (daqs_fill(skb, b, DAQS_CMD_GET, 0,
			      NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			      NLM_F_MULTI, cb)) {
			i--;
			break;
		}
	}
	rtnl_unlock();
	cb->args[0] = i;
	return skb->len;
}

static int daqs_nl_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct daqs_limit limit;
	struct net_device *dev;
	struct daqs_binding *b;
	bool renew_lease;
	u32 flags = 0;
	u8 mac[ETH_ALEN];
	int err;

	if (attrs[DAQS_A_SET_FLAGS]) {
		flags = nla_get_u32(attrs[DAQS_A_SET_FLAGS]);
		if (flags & ~__DAQS_SET_F_ALL) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[DAQS_A_SET_FLAGS],
					    "DAQS_A_SET_FLAGS: unknown flag bits");
			return -EOPNOTSUPP;
		}
	}

	rtnl_lock();
	err = daqs_select(info, &dev, &b, mac);
	if (err)
		goto out;
	if (b && (flags & DAQS_SET_F_EXCL)) {
		NL_SET_ERR_MSG(info->extack, "device already attached (DAQS_SET_F_EXCL)");
		err = -EEXIST;
		goto out;
	}
	/*
	 * By MAC, with no binding attached to it: the device with that MAC,
	 * if it is here, is bound now, not when it next appears (it may
	 * never: until then it would run unlimited).
	 */
	if (!dev && (!b || !b->dev))
		dev = daqs_dev_by_key(genl_info_net(info), mac);
	if (!b && (flags & DAQS_SET_F_NOCREATE)) {
		NL_SET_ERR_MSG(info->extack, "device not attached (DAQS_SET_F_NOCREATE)");
		err = -ENOENT;
		goto out;
	}
	if (!dev && !b && is_zero_ether_addr(mac)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[DAQS_A_MAC],
				    "DAQS_A_MAC: the zero address cannot find a device");
		err = -EINVAL;
		goto out;
	}
	err = daqs_parse_limit(attrs, b ? &b->limit : &daqs_limit_default,
			       &limit, &renew_lease, info->extack);
	if (err)
		goto out;
	err = daqs_binding_set(genl_info_net(info), dev, mac, b, &limit,
			       renew_lease, info->extack);
out:
	rtnl_unlock();
	return err;
}

static int daqs_nl_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct daqs_binding *b;
	int err;

	rtnl_lock();
	err = daqs_select_attached(info, &b);
	if (!err)
		daqs_binding_del(b);
	rtnl_unlock();
	return err;
}

static const struct genl_small_ops daqs_ops[] = {
	{
		.cmd = DAQS_CMD_GET,
		.doit = daqs_nl_get_doit,
		.dumpit = daqs_nl_get_dumpit,
	},
	{
		.cmd = DAQS_CMD_SET,
		.doit = daqs_nl_set_doit,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = DAQS_CMD_DEL,
		.doit = daqs_nl_del_doit,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family daqs_family __ro_after_init = {
	.name = DAQS_GENL_NAME,
	.version = DAQS_GENL_VERSION,
	.maxattr = DAQS_A_MAX,
	.policy = daqs_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = daqs_ops,
	.n_small_ops = ARRAY_SIZE(daqs_ops),
	.resv_start_op = DAQS_CMD_DEL + 1,
	.mcgrps = daqs_mcgrps,
	.n_mcgrps = ARRAY_SIZE(daqs_mcgrps),
};

int __init daqs_genetlink_init(void)
{
	int err = genl_register_family(&daqs_family);

	if (!err)
		daqs_family_registered = true;
	return err;
}

void daqs_genetlink_uninit(void)
{
	rtnl_lock();
	daqs_family_registered = false;
	rtnl_unlock();
	genl_unregister_family(&daqs_family);
}
