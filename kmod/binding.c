// SPDX-License-Identifier: GPL-2.0
/*
 * Bindings: a limit tied to a device of one namespace, kept while the device
 * is absent and re-applied when a device with the same MAC appears. Every
 * function here runs under RTNL.
 */
#include <linux/etherdevice.h>
#include <linux/jiffies.h>
#include <linux/math64.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>

#include "daqs.h"

const struct daqs_limit daqs_limit_default = {
	.qlimit_us = DAQS_QLIMIT_DEFAULT_US,
	.mode = DAQS_MODE_SHAPE,
};

/* The permanent MAC if the device has one, else its current address. */
void daqs_dev_key(const struct net_device *dev, u8 *mac)
{
	if (dev->addr_len == ETH_ALEN && !is_zero_ether_addr(dev->perm_addr))
		ether_addr_copy(mac, dev->perm_addr);
	else if (dev->addr_len == ETH_ALEN)
		ether_addr_copy(mac, dev->dev_addr);
	else
		eth_zero_addr(mac);
}

struct daqs_binding *daqs_binding_find_dev(struct net *net,
					   const struct net_device *dev)
{
	struct daqs_binding *b;

	ASSERT_RTNL();
	list_for_each_entry(b, &daqs_net(net)->bindings, list)
		if (b->dev == dev)
			return b;
	return NULL;
}

struct daqs_binding *daqs_binding_find_mac(struct net *net, const u8 *mac)
{
	struct daqs_binding *b;

	ASSERT_RTNL();
	list_for_each_entry(b, &daqs_net(net)->bindings, list)
		if (ether_addr_equal(b->mac, mac))
			return b;
	return NULL;
}

static struct daqs_binding *daqs_binding_find_absent(struct net *net,
						     const u8 *mac)
{
	struct daqs_binding *b;

	list_for_each_entry(b, &daqs_net(net)->bindings, list)
		if (!b->dev && ether_addr_equal(b->mac, mac))
			return b;
	return NULL;
}

u64 daqs_binding_rate_now(const struct daqs_binding *b)
{
	return b->lease_state == DAQS_LEASE_EXPIRED ? b->limit.fallback_bps :
						      b->limit.rate_bps;
}

/* The burst in force at @rate_bps: as set, or automatic (uapi). */
u32 daqs_limit_burst(const struct daqs_limit *l, u64 rate_bps)
{
	u64 auto_bytes;

	if (l->burst_bytes)
		return l->burst_bytes;
	auto_bytes = div_u64(rate_bps, 8 * USEC_PER_SEC / DAQS_BURST_AUTO_US);
	return clamp_t(u64, auto_bytes, DAQS_BURST_DEFAULT_BYTES, U32_MAX);
}

u32 daqs_binding_lease_left_ms(const struct daqs_binding *b)
{
	if (b->lease_state != DAQS_LEASE_ACTIVE ||
	    time_after_eq(jiffies, b->lease_expires))
		return 0;
	return jiffies_to_msecs(b->lease_expires - jiffies);
}

static struct daqs_cfg *daqs_cfg_new(const struct daqs_limit *l, u64 rate_bps)
{
	struct daqs_cfg *cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);

	if (!cfg)
		return NULL;
	daqs_rate_init(&cfg->rate, rate_bps, daqs_limit_burst(l, rate_bps));
	cfg->qlimit_ns = (u64)l->qlimit_us * NSEC_PER_USEC;
	cfg->mode = l->mode;
	return cfg;
}

/* The one place the packet path's view changes: a single pointer swap. */
static void daqs_cfg_publish(struct daqs_binding *b, struct daqs_cfg *cfg)
{
	struct daqs_cfg *old = rcu_replace_pointer(b->cfg, cfg,
						   lockdep_rtnl_is_held());

	if (old) {
		daqs_bucket_rescale(&b->bucket, &old->rate, &cfg->rate,
				    ktime_get_ns());
		kfree_rcu(old, rcu);
	}
}

static int daqs_binding_attach(struct daqs_binding *b, struct net_device *dev)
{
	int err;

	err = daqs_datapath_attach(b, dev);
	if (err)
		return err;
	netdev_hold(dev, &b->dev_tracker, GFP_KERNEL);
	b->dev = dev;
	b->ifindex = dev->ifindex;
	strscpy(b->ifname, dev->name, sizeof(b->ifname));
	/* the view is informative: a binding works without it */
	if (daqs_sysfs_add(b))
		netdev_warn(dev, "daqs: no sysfs view\n");
	return 0;
}

static void daqs_binding_detach(struct daqs_binding *b, bool send_queued)
{
	daqs_sysfs_del(b);
	daqs_datapath_detach(b, send_queued);
	netdev_put(b->dev, &b->dev_tracker);
	b->dev = NULL;
	b->ifindex = 0;
}

static void daqs_lease_work(struct work_struct *work)
{
	struct daqs_binding *b = container_of(to_delayed_work(work),
					      struct daqs_binding, lease_work);
	struct daqs_cfg *cfg;

	/* deleting a binding cancels this work synchronously under RTNL */
	if (!rtnl_trylock()) {
		schedule_delayed_work(&b->lease_work, 1);
		return;
	}
	if (b->lease_state != DAQS_LEASE_ACTIVE)
		goto out;
	if (time_before(jiffies, b->lease_expires)) {
		schedule_delayed_work(&b->lease_work,
				      b->lease_expires - jiffies);
		goto out;
	}
	cfg = daqs_cfg_new(&b->limit, b->limit.fallback_bps);
	if (!cfg) {
		/* keep the last limit and try again: never run unlimited */
		schedule_delayed_work(&b->lease_work, 1);
		goto out;
	}
	b->lease_state = DAQS_LEASE_EXPIRED;
	daqs_cfg_publish(b, cfg);
	daqs_notify(b, DAQS_EVENT_LEASE_EXPIRED);
out:
	rtnl_unlock();
}

static struct daqs_binding *daqs_binding_new(struct net *net, const u8 *mac)
{
	struct daqs_binding *b = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!b)
		return NULL;
	if (daqs_datapath_init(b)) {
		kfree(b);
		return NULL;
	}
	b->net = net;
	ether_addr_copy(b->mac, mac);
	b->limit = daqs_limit_default;
	INIT_DELAYED_WORK(&b->lease_work, daqs_lease_work);
	return b;
}

static void daqs_binding_free(struct daqs_binding *b)
{
	struct daqs_cfg *cfg = rcu_dereference_protected(b->cfg, 1);

	daqs_datapath_uninit(b);
	kfree(cfg);
	kfree(b);
}

/*
 * Create or update. @b is the existing binding or NULL; @dev the device
 * (NULL to pre-provision an absent binding by @mac). Allocates everything
 * before changing anything, so a failure leaves the old state intact.
 */
int daqs_binding_set(struct net *net, struct net_device *dev, const u8 *mac,
		     struct daqs_binding *b, const struct daqs_limit *limit,
		     bool renew_lease, struct netlink_ext_ack *extack)
{
	struct daqs_binding *created = NULL;
	u8 lease_state;
	struct daqs_cfg *cfg;
	int err;

	ASSERT_RTNL();
	lease_state = b ? b->lease_state : DAQS_LEASE_NONE;
	if (renew_lease)
		lease_state = limit->lease_ms ? DAQS_LEASE_ACTIVE :
						DAQS_LEASE_NONE;

	cfg = daqs_cfg_new(limit, lease_state == DAQS_LEASE_EXPIRED ?
			   limit->fallback_bps : limit->rate_bps);
	if (!cfg)
		return -ENOMEM;

	if (!b) {
		created = daqs_binding_new(net, mac);
		if (!created) {
			kfree(cfg);
			return -ENOMEM;
		}
		b = created;
		rcu_assign_pointer(b->cfg, cfg);
		cfg = NULL;
	}

	if (dev && !b->dev) {
		err = daqs_binding_attach(b, dev);
		if (err) {
			NL_SET_ERR_MSG_MOD(extack,
					   "cannot hook the device's egress path");
			kfree(cfg);
			if (created)
				daqs_binding_free(created);
			return err;
		}
	}

	b->limit = *limit;
	b->lease_state = lease_state;
	if (cfg)
		daqs_cfg_publish(b, cfg);

	if (renew_lease) {
		if (lease_state == DAQS_LEASE_ACTIVE) {
			unsigned long d = msecs_to_jiffies(limit->lease_ms);

			b->lease_expires = jiffies + d;
			mod_delayed_work(system_wq, &b->lease_work, d);
		} else {
			cancel_delayed_work(&b->lease_work);
		}
	}

	if (created) {
		struct daqs_net *dn = daqs_net(net);

		list_add_tail(&b->list, &dn->bindings);
		dn->gen++;
		daqs_notify(b, DAQS_EVENT_ATTACHED);
	} else {
		daqs_notify(b, DAQS_EVENT_LIMIT_CHANGED);
	}
	return 0;
}

static void daqs_binding_destroy(struct daqs_binding *b, bool send_queued)
{
	struct daqs_net *dn = daqs_net(b->net);

	list_del(&b->list);
	dn->gen++;
	cancel_delayed_work_sync(&b->lease_work);
	if (b->dev)
		daqs_binding_detach(b, send_queued);
	daqs_binding_free(b);
}

void daqs_binding_del(struct daqs_binding *b)
{
	ASSERT_RTNL();
	daqs_notify(b, DAQS_EVENT_DETACHED);
	daqs_binding_destroy(b, true);
}

void daqs_binding_netdev_event(struct net_device *dev, unsigned long event)
{
	struct net *net = dev_net(dev);
	struct daqs_binding *b;
	u8 mac[ETH_ALEN];

	ASSERT_RTNL();
	switch (event) {
	case NETDEV_REGISTER:
	case NETDEV_CHANGEADDR:
		/*
		 * Not a device on its way out: a bond releasing the slave
		 * being unregistered gives it its own address back after we
		 * saw NETDEV_UNREGISTER, and the binding would hold the dying
		 * device (and miss the new one) until the rebroadcast.
		 */
		if (dev->reg_state != NETREG_REGISTERED ||
		    daqs_binding_find_dev(net, dev))
			return;
		daqs_dev_key(dev, mac);
		if (event == NETDEV_CHANGEADDR && dev->addr_len == ETH_ALEN)
			ether_addr_copy(mac, dev->dev_addr);
		b = daqs_binding_find_absent(net, mac);
		if (!b || daqs_binding_attach(b, dev))
			return;
		daqs_notify(b, DAQS_EVENT_DEVICE_BACK);
		return;
	case NETDEV_CHANGENAME:
		b = daqs_binding_find_dev(net, dev);
		if (b) {
			strscpy(b->ifname, dev->name, sizeof(b->ifname));
			daqs_notify(b, DAQS_EVENT_LIMIT_CHANGED);
		}
		return;
	case NETDEV_UNREGISTER:
		b = daqs_binding_find_dev(net, dev);
		if (!b)
			return;
		daqs_binding_detach(b, false);
		daqs_notify(b, DAQS_EVENT_DEVICE_GONE);
		return;
	}
}

/* Namespace going away, or module unloading: forget everything. */
void daqs_net_exit_bindings(struct net *net)
{
	struct daqs_binding *b, *tmp;

	rtnl_lock();
	list_for_each_entry_safe(b, tmp, &daqs_net(net)->bindings, list)
		daqs_binding_destroy(b, false);
	rtnl_unlock();
}
