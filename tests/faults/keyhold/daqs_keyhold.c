// SPDX-License-Identifier: GPL-2.0
/*
 * daqs_keyhold: a test-only module for tests/faults/reload.sh and the unload
 * under traffic in tests/e2e/10-counters.sh. While it is
 * loaded it holds the two static keys that switch egress hooks on in
 * __dev_queue_xmit() (tc/netfilter egress and netfilter netdev egress),
 * as daqs.ko itself does while loaded. Then a load or unload of daqs.ko
 * never patches the kernel's text: under QEMU 7.2's TCG, patching
 * __dev_queue_xmit() (text_poke_bp) while another vCPU floods through it
 * hung the guest at the 75th of 100 reloads, on the patched site
 * (docs/faults.md; an emulator race fixed in QEMU 8.1). The reload test is
 * about daqs's load and unload, not about the emulator's handling of
 * cross-modifying code.
 */
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

static int __init daqs_keyhold_init(void)
{
	net_inc_egress_queue();
#ifdef CONFIG_JUMP_LABEL
	static_key_slow_inc(&nf_hooks_needed[NFPROTO_NETDEV][NF_NETDEV_EGRESS]);
#endif
	return 0;
}

static void __exit daqs_keyhold_exit(void)
{
#ifdef CONFIG_JUMP_LABEL
	static_key_slow_dec(&nf_hooks_needed[NFPROTO_NETDEV][NF_NETDEV_EGRESS]);
#endif
	net_dec_egress_queue();
}

module_init(daqs_keyhold_init);
module_exit(daqs_keyhold_exit);
MODULE_DESCRIPTION("daqs tests: hold the egress static keys");
MODULE_LICENSE("GPL");
