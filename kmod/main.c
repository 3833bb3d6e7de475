// SPDX-License-Identifier: GPL-2.0
/*
 * daqs: count and token-bucket-limit a network device's transmit traffic,
 * controlled over the generic netlink family "daqs".
 */
#include <linux/jump_label.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "daqs.h"
#include "version.h"

static unsigned int daqs_net_id __read_mostly;

struct daqs_net *daqs_net(struct net *net)
{
	return net_generic(net, daqs_net_id);
}

static int __net_init daqs_net_init(struct net *net)
{
	INIT_LIST_HEAD(&daqs_net(net)->bindings);
	return 0;
}

static void __net_exit daqs_net_exit(struct net *net)
{
	daqs_net_exit_bindings(net);
}

static struct pernet_operations daqs_net_ops = {
	.init = daqs_net_init,
	.exit = daqs_net_exit,
	.id = &daqs_net_id,
	.size = sizeof(struct daqs_net),
};

static int daqs_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	daqs_binding_netdev_event(netdev_notifier_info_to_dev(ptr), event);
	return NOTIFY_DONE;
}

static struct notifier_block daqs_netdev_notifier = {
	.notifier_call = daqs_netdev_event,
};

/*
 * Hold the static keys that switch the egress hooks on for as long as the
 * module is loaded. Otherwise every attach and detach of the only egress
 * hook in the system patches __dev_queue_xmit() while other CPUs run it:
 * safe on hardware, but costly (text_poke_bp), and under QEMU TCG we saw
 * a stale int3 from it oops the guest during SET/DEL under traffic.
 */
static void daqs_egress_keys_get(void)
{
	net_inc_egress_queue();
#ifdef CONFIG_JUMP_LABEL
	static_key_slow_inc(&nf_hooks_needed[NFPROTO_NETDEV][NF_NETDEV_EGRESS]);
#endif
}

static void daqs_egress_keys_put(void)
{
#ifdef CONFIG_JUMP_LABEL
	static_key_slow_dec(&nf_hooks_needed[NFPROTO_NETDEV][NF_NETDEV_EGRESS]);
#endif
	net_dec_egress_queue();
}

static int __init daqs_mod_init(void)
{
	int err;

	daqs_egress_keys_get();
	err = register_pernet_subsys(&daqs_net_ops);
	if (err)
		goto err_pernet;
	err = register_netdevice_notifier(&daqs_netdev_notifier);
	if (err)
		goto err_notifier;
	err = daqs_genetlink_init();
	if (err)
		goto err_genetlink;
	pr_info("daqs " DAQS_VERSION " loaded\n");
	return 0;

err_genetlink:
	unregister_netdevice_notifier(&daqs_netdev_notifier);
err_notifier:
	unregister_pernet_subsys(&daqs_net_ops);
err_pernet:
	daqs_egress_keys_put();
	return err;
}

static void __exit daqs_mod_exit(void)
{
	/*
	 * The reverse of init: no new commands, then no device events, then
	 * no bindings. unregister_netdevice_notifier() replays NETDEV_UNREGISTER
	 * for every device, and the notifier looks the device up in the
	 * namespace's bindings: they must still be there.
	 */
	daqs_genetlink_uninit();
	unregister_netdevice_notifier(&daqs_netdev_notifier);
	unregister_pernet_subsys(&daqs_net_ops);
	daqs_egress_keys_put();
	pr_info("daqs unloaded\n");
}

module_init(daqs_mod_init);
module_exit(daqs_mod_exit);
MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("Per-device transmit counting and rate limiting");
MODULE_AUTHOR("daqs developers");
MODULE_VERSION(DAQS_VERSION);
MODULE_ALIAS_GENL_FAMILY(DAQS_GENL_NAME);
