// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: bindings on a real registered netdev. Attach, count, police,
 * device unregistered (binding kept absent), a device with the same MAC
 * registered (binding attached again before its first packet), delete.
 */
#include <kunit/test.h>
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter_netdev.h>

#include "daqs.h"

static const u8 daqs_test_mac[ETH_ALEN] = { 0x02, 0xda, 0x45, 0, 0, 1 };

struct daqs_test_priv {
	atomic_t xmit;
};

static netdev_tx_t daqs_test_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct daqs_test_priv *p = netdev_priv(dev);

	atomic_inc(&p->xmit);
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops daqs_test_ops = {
	.ndo_start_xmit = daqs_test_xmit,
};

static void daqs_test_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &daqs_test_ops;
	dev->needs_free_netdev = true;
	dev->priv_flags |= IFF_NO_QUEUE;
}

static struct net_device *daqs_test_dev(struct kunit *test)
{
	struct net_device *dev;

	dev = alloc_netdev(sizeof(struct daqs_test_priv), "daqst%d",
			   NET_NAME_UNKNOWN, daqs_test_setup);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	eth_hw_addr_set(dev, daqs_test_mac);
	KUNIT_ASSERT_EQ(test, register_netdev(dev), 0);
	rtnl_lock();
	KUNIT_EXPECT_EQ(test, dev_open(dev, NULL), 0);
	rtnl_unlock();
	return dev;
}

static int daqs_test_send(struct net_device *dev, unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len + NET_IP_ALIGN, GFP_KERNEL);
	int rc;

	if (!skb)
		return -ENOMEM;
	skb_reserve(skb, NET_IP_ALIGN);
	memset(skb_put(skb, len), 0, len);
	skb->dev = dev;
	skb->protocol = htons(ETH_P_IP);
	skb_reset_mac_header(skb);
	local_bh_disable();
	rc = dev_queue_xmit(skb);
	local_bh_enable();
	return rc;
}

static struct daqs_binding *daqs_test_set(struct kunit *test,
					  struct net_device *dev,
					  const struct daqs_limit *l)
{
	struct daqs_binding *b;
	int err;

	rtnl_lock();
	b = daqs_binding_find_dev(&init_net, dev);
	err = daqs_binding_set(&init_net, dev, daqs_test_mac, b, l, false,
			       NULL);
	b = daqs_binding_find_dev(&init_net, dev);
	rtnl_unlock();
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_NOT_NULL(test, b);
	return b;
}

static void daqs_binding_count_test(struct kunit *test)
{
	struct net_device *dev = daqs_test_dev(test);
	struct daqs_limit l = daqs_limit_default;
	struct daqs_stats_snapshot st;
	struct daqs_binding *b;
	int i;

	b = daqs_test_set(test, dev, &l);
	KUNIT_EXPECT_PTR_EQ(test, b->dev, dev);
	KUNIT_EXPECT_NOT_NULL(test, rcu_access_pointer(dev->nf_hooks_egress));
	for (i = 0; i < 10; i++)
		KUNIT_EXPECT_EQ(test, daqs_test_send(dev, 100 + i), 0);
	daqs_datapath_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.tx_packets, 10);
	KUNIT_EXPECT_EQ(test, st.tx_bytes, 10 * 100 + 45);
	KUNIT_EXPECT_EQ(test, st.tx_wire_bytes, st.tx_bytes);
	KUNIT_EXPECT_EQ(test, atomic_read(&((struct daqs_test_priv *)
					    netdev_priv(dev))->xmit), 10);

	rtnl_lock();
	daqs_binding_del(b);
	KUNIT_EXPECT_NULL(test, daqs_binding_find_mac(&init_net,
						      daqs_test_mac));
	rtnl_unlock();
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(dev->nf_hooks_egress));
	unregister_netdev(dev);
}

/*
 * 1 MB/s with a 1500 B bucket (1.5 ms): one 1400 B packet fits, the next do
 * not until 1.3 ms have passed. (A bucket holds at most the time since boot,
 * and UML runs tests about 60 ms after boot: keep the burst shorter.)
 */
static void daqs_binding_police_test(struct kunit *test)
{
	struct net_device *dev = daqs_test_dev(test);
	struct daqs_limit l = daqs_limit_default;
	struct daqs_stats_snapshot st;
	struct daqs_binding *b;

	l.rate_bps = 8000000;
	l.burst_bytes = 1500;
	l.mode = DAQS_MODE_POLICE;
	b = daqs_test_set(test, dev, &l);
	KUNIT_EXPECT_EQ(test, daqs_test_send(dev, 1400), NET_XMIT_SUCCESS);
	KUNIT_EXPECT_EQ(test, daqs_test_send(dev, 1400), NET_XMIT_DROP);
	KUNIT_EXPECT_EQ(test, daqs_test_send(dev, 1400), NET_XMIT_DROP);
	daqs_datapath_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.tx_packets, 1);
	KUNIT_EXPECT_EQ(test, st.drops_police, 2);

	/* a rate change keeps the bucket's level: still nothing passes */
	l.rate_bps = 16000000;
	b = daqs_test_set(test, dev, &l);
	KUNIT_EXPECT_EQ(test, daqs_test_send(dev, 1400), NET_XMIT_DROP);
	daqs_datapath_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.drops_police, 3);

	rtnl_lock();
	daqs_binding_del(b);
	rtnl_unlock();
	unregister_netdev(dev);
}

static void daqs_binding_reattach_test(struct kunit *test)
{
	struct net_device *dev = daqs_test_dev(test), *dev2;
	struct daqs_limit l = daqs_limit_default;
	struct daqs_stats_snapshot st;
	struct daqs_binding *b;

	l.rate_bps = 8000000;
	l.burst_bytes = 1500;
	l.mode = DAQS_MODE_POLICE;
	b = daqs_test_set(test, dev, &l);
	KUNIT_EXPECT_EQ(test, daqs_test_send(dev, 1400), NET_XMIT_SUCCESS);

	unregister_netdev(dev);
	rtnl_lock();
	KUNIT_EXPECT_PTR_EQ(test, daqs_binding_find_mac(&init_net,
							daqs_test_mac), b);
	KUNIT_EXPECT_NULL(test, b->dev);
	KUNIT_EXPECT_EQ(test, b->ifindex, 0);
	rtnl_unlock();

	/* same MAC: limited from its first packet, bucket still empty */
	dev2 = daqs_test_dev(test);
	rtnl_lock();
	KUNIT_EXPECT_PTR_EQ(test, daqs_binding_find_dev(&init_net, dev2), b);
	rtnl_unlock();
	KUNIT_EXPECT_EQ(test, daqs_test_send(dev2, 1400), NET_XMIT_DROP);
	daqs_datapath_stats(b, &st);
	KUNIT_EXPECT_EQ(test, st.tx_packets, 1);
	KUNIT_EXPECT_EQ(test, st.drops_police, 1);

	rtnl_lock();
	daqs_binding_del(b);
	rtnl_unlock();
	unregister_netdev(dev2);
}

/* Unregistering the device under a binding must not leak or hang. */
static void daqs_binding_unregister_test(struct kunit *test)
{
	struct net_device *dev = daqs_test_dev(test);
	struct daqs_limit l = daqs_limit_default;
	struct daqs_binding *b;

	l.rate_bps = 1000000;
	b = daqs_test_set(test, dev, &l);
	KUNIT_EXPECT_EQ(test, daqs_test_send(dev, 1400), NET_XMIT_SUCCESS);
	unregister_netdev(dev);
	rtnl_lock();
	KUNIT_EXPECT_NULL(test, b->dev);
	daqs_binding_del(b);
	rtnl_unlock();
}

static struct kunit_case daqs_binding_cases[] = {
	KUNIT_CASE(daqs_binding_count_test),
	KUNIT_CASE(daqs_binding_police_test),
	KUNIT_CASE(daqs_binding_reattach_test),
	KUNIT_CASE(daqs_binding_unregister_test),
	{}
};

static struct kunit_suite daqs_binding_suite = {
	.name = "daqs_binding",
	.test_cases = daqs_binding_cases,
};

kunit_test_suite(daqs_binding_suite);
