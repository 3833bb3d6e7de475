/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daqs internals shared by the module's files.
 *
 * Locking: every binding field outside the packet path is written under
 * RTNL (netlink commands, netdev notifier, lease work all take it). The
 * packet path reads only b->cfg (RCU), b->bucket (atomic) and b->pcpu (its
 * own CPU's slot), so no lock is shared by the CPUs transmitting.
 */
#ifndef _DAQS_H
#define _DAQS_H

#include <linux/hrtimer.h>
#include <linux/if_ether.h>
#include <linux/kobject.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <net/netlink.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include "../uapi/linux/daqs.h"
#include "bucket.h"

/* Packets one flow queue may hold in shape mode. */
#define DAQS_QUEUE_MAX_PACKETS 4096

/* A limit as set by userspace, validated. */
struct daqs_limit {
	u64 rate_bps;		/* 0: count only */
	u64 fallback_bps;	/* in force once a lease expires */
	u32 burst_bytes;	/* 0: automatic, see daqs_limit_burst() */
	u32 qlimit_us;
	u32 lease_ms;		/* 0: no lease */
	u8 mode;		/* enum daqs_mode */
	bool has_fallback;
};

/* What the packet path reads; immutable once published, replaced whole. */
struct daqs_cfg {
	struct rcu_head rcu;
	struct daqs_rate rate;
	u64 qlimit_ns;
	u8 mode;
};

struct daqs_stats {
	u64_stats_t tx_bytes;
	u64_stats_t tx_packets;
	u64_stats_t tx_wire_bytes;
	u64_stats_t tx_wire_packets;
	u64_stats_t drops_police;
	u64_stats_t drops_qlimit;
	u64_stats_t drops_detach;
	u64_stats_t throttled;
	struct u64_stats_sync syncp;
};

/* Per CPU and binding: only that CPU's transmit path and timers write it. */
struct daqs_pcpu {
	struct daqs_stats stats;
};

/*
 * Delayed packets of the flows that hash to this queue, in the order they
 * were admitted. One flow always uses one queue, so shaping never reorders
 * it; the lock is shared only by CPUs sending flows of the same hash bucket.
 */
struct daqs_queue {
	struct sk_buff_head skbs;	/* its lock guards all fields */
	bool releasing;			/* the timer is sending a batch */
	struct hrtimer timer;		/* fires at the head's departure */
	struct daqs_binding *binding;
} ____cacheline_aligned_in_smp;

struct daqs_stats_snapshot {
	u64 tx_bytes;
	u64 tx_packets;
	u64 tx_wire_bytes;
	u64 tx_wire_packets;
	u64 drops_police;
	u64 drops_qlimit;
	u64 drops_detach;
	u64 throttled;
	u32 queued;
};

struct daqs_sysfs;

struct daqs_binding {
	/* packet path */
	struct daqs_cfg __rcu *cfg;
	struct daqs_pcpu __percpu *pcpu;
	struct daqs_queue *queues;
	u32 queue_mask;			/* number of queues - 1 */
	atomic_t queued;		/* packets queued or being released */
	struct daqs_bucket bucket ____cacheline_aligned_in_smp;

	/* control path, under RTNL */
	struct list_head list ____cacheline_aligned_in_smp;
	struct net *net;
	struct net_device *dev;		/* NULL while absent */
	netdevice_tracker dev_tracker;
	struct nf_hook_ops hook;
	struct daqs_sysfs *sysfs;
	struct daqs_limit limit;	/* as last set */
	u8 mac[ETH_ALEN];		/* the key that finds the device again */
	char ifname[IFNAMSIZ];		/* last known */
	int ifindex;			/* 0 while absent */
	u8 lease_state;			/* enum daqs_lease_state */
	unsigned long lease_expires;	/* jiffies */
	struct delayed_work lease_work;
};

struct daqs_net {
	struct list_head bindings;
	u32 gen;		/* bumped on every add/remove, for dumps */
};

/* main.c */
struct daqs_net *daqs_net(struct net *net);

/* binding.c */
extern const struct daqs_limit daqs_limit_default;
struct daqs_binding *daqs_binding_find_dev(struct net *net,
					   const struct net_device *dev);
struct daqs_binding *daqs_binding_find_mac(struct net *net, const u8 *mac);
int daqs_binding_set(struct net *net, struct net_device *dev, const u8 *mac,
		     struct daqs_binding *b, const struct daqs_limit *limit,
		     bool renew_lease, struct netlink_ext_ack *extack);
void daqs_binding_del(struct daqs_binding *b);
void daqs_binding_netdev_event(struct net_device *dev, unsigned long event);
void daqs_net_exit_bindings(struct net *net);
u64 daqs_binding_rate_now(const struct daqs_binding *b);
u32 daqs_limit_burst(const struct daqs_limit *l, u64 rate_bps);
u32 daqs_binding_lease_left_ms(const struct daqs_binding *b);
void daqs_dev_key(const struct net_device *dev, u8 *mac);

/* datapath.c */
int daqs_datapath_init(struct daqs_binding *b);
void daqs_datapath_uninit(struct daqs_binding *b);
int daqs_datapath_attach(struct daqs_binding *b, struct net_device *dev);
void daqs_datapath_detach(struct daqs_binding *b, bool send_queued);
void daqs_datapath_stats(const struct daqs_binding *b,
			 struct daqs_stats_snapshot *s);

/* netlink.c */
int daqs_genetlink_init(void);
void daqs_genetlink_uninit(void);
void daqs_notify(const struct daqs_binding *b, u8 event);
extern const struct nla_policy daqs_policy[DAQS_A_MAX + 1];
int daqs_parse_limit(struct nlattr **attrs, const struct daqs_limit *cur,
		     struct daqs_limit *out, bool *renew_lease,
		     struct netlink_ext_ack *extack);

/* sysfs.c */
int daqs_sysfs_add(struct daqs_binding *b);
void daqs_sysfs_del(struct daqs_binding *b);

#endif /* _DAQS_H */
