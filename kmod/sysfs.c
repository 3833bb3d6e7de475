// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only view under the bound device: /sys/class/net/<dev>/daqs/.
 * It exists while the binding is attached. kobject_del() waits for readers
 * in progress, so a show never sees a binding being freed.
 */
#include <linux/kobject.h>
#include <linux/rtnetlink.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "daqs.h"

struct daqs_sysfs {
	struct kobject kobj;
	struct daqs_binding *b;
};

static const char * const daqs_mode_names[] = {
	[DAQS_MODE_SHAPE] = "shape",
	[DAQS_MODE_POLICE] = "police",
};

static const char * const daqs_lease_names[] = {
	[DAQS_LEASE_NONE] = "none",
	[DAQS_LEASE_ACTIVE] = "active",
	[DAQS_LEASE_EXPIRED] = "expired",
};

static struct daqs_binding *to_binding(struct kobject *kobj)
{
	return container_of(kobj, struct daqs_sysfs, kobj)->b;
}

/*
 * Limit fields change under RTNL; a reader takes it too rather than
 * showing a torn limit. Only try: the binding is removed under RTNL, and
 * removal waits for readers (as net-sysfs does). Statistics need no lock.
 */
#define DAQS_SHOW_LIMIT(name, fmt, expr)				\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	struct daqs_binding *b = to_binding(kobj);			\
	ssize_t n;							\
									\
	if (!rtnl_trylock())						\
		return restart_syscall();				\
	n = sysfs_emit(buf, fmt "\n", expr);				\
	rtnl_unlock();							\
	return n;							\
}									\
static struct kobj_attribute daqs_attr_##name = __ATTR_RO(name)

DAQS_SHOW_LIMIT(rate_bps, "%llu", daqs_binding_rate_now(b));
DAQS_SHOW_LIMIT(set_rate_bps, "%llu", b->limit.rate_bps);
DAQS_SHOW_LIMIT(burst_bytes, "%u",
		daqs_limit_burst(&b->limit, daqs_binding_rate_now(b)));
DAQS_SHOW_LIMIT(mode, "%s", daqs_mode_names[b->limit.mode]);
DAQS_SHOW_LIMIT(qlimit_us, "%u", b->limit.qlimit_us);
DAQS_SHOW_LIMIT(lease_ms, "%u", b->limit.lease_ms);
DAQS_SHOW_LIMIT(lease_left_ms, "%u", daqs_binding_lease_left_ms(b));
DAQS_SHOW_LIMIT(lease_state, "%s", daqs_lease_names[b->lease_state]);
DAQS_SHOW_LIMIT(fallback_bps, "%llu", b->limit.fallback_bps);
DAQS_SHOW_LIMIT(mac, "%pM", b->mac);

#define DAQS_SHOW_STAT(name, fmt)					\
static ssize_t name##_show(struct kobject *kobj,			\
			   struct kobj_attribute *attr, char *buf)	\
{									\
	struct daqs_stats_snapshot st;					\
									\
	daqs_datapath_stats(to_binding(kobj), &st);			\
	return sysfs_emit(buf, fmt "\n", st.name);			\
}									\
static struct kobj_attribute daqs_attr_##name = __ATTR_RO(name)

DAQS_SHOW_STAT(tx_bytes, "%llu");
DAQS_SHOW_STAT(tx_packets, "%llu");
DAQS_SHOW_STAT(tx_wire_bytes, "%llu");
DAQS_SHOW_STAT(tx_wire_packets, "%llu");
DAQS_SHOW_STAT(drops_police, "%llu");
DAQS_SHOW_STAT(drops_qlimit, "%llu");
DAQS_SHOW_STAT(drops_detach, "%llu");
DAQS_SHOW_STAT(throttled, "%llu");
DAQS_SHOW_STAT(queued, "%u");

static ssize_t tokens_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct daqs_binding *b = to_binding(kobj);
	const struct daqs_cfg *cfg;
	s64 tokens;

	rcu_read_lock();
	cfg = rcu_dereference(b->cfg);
	tokens = daqs_bucket_tokens(&b->bucket, &cfg->rate, ktime_get_ns());
	rcu_read_unlock();
	return sysfs_emit(buf, "%lld\n", tokens);
}

static struct kobj_attribute daqs_attr_tokens = __ATTR_RO(tokens);

static struct attribute *daqs_attrs[] = {
	&daqs_attr_rate_bps.attr,
	&daqs_attr_set_rate_bps.attr,
	&daqs_attr_burst_bytes.attr,
	&daqs_attr_mode.attr,
	&daqs_attr_qlimit_us.attr,
	&daqs_attr_lease_ms.attr,
	&daqs_attr_lease_left_ms.attr,
	&daqs_attr_lease_state.attr,
	&daqs_attr_fallback_bps.attr,
	&daqs_attr_mac.attr,
	&daqs_attr_tx_bytes.attr,
	&daqs_attr_tx_packets.attr,
	&daqs_attr_tx_wire_bytes.attr,
	&daqs_attr_tx_wire_packets.attr,
	&daqs_attr_drops_police.attr,
	&daqs_attr_drops_qlimit.attr,
	&daqs_attr_drops_detach.attr,
	&daqs_attr_throttled.attr,
	&daqs_attr_queued.attr,
	&daqs_attr_tokens.attr,
	NULL
};
ATTRIBUTE_GROUPS(daqs);

static void daqs_sysfs_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct daqs_sysfs, kobj));
}

static const struct kobj_type daqs_ktype = {
	.release = daqs_sysfs_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = daqs_groups,
};

int daqs_sysfs_add(struct daqs_binding *b)
{
	struct daqs_sysfs *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int err;

	if (!s)
		return -ENOMEM;
	s->b = b;
	err = kobject_init_and_add(&s->kobj, &daqs_ktype, &b->dev->dev.kobj,
				   "daqs");
	if (err) {
		kobject_put(&s->kobj);
		return err;
	}
	b->sysfs = s;
	return 0;
}

void daqs_sysfs_del(struct daqs_binding *b)
{
	if (!b->sysfs)
		return;
	kobject_del(&b->sysfs->kobj);
	kobject_put(&b->sysfs->kobj);
	b->sysfs = NULL;
}
