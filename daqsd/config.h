/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * daqsd's configuration: one INI file, or the original DAQS's three.
 *
 *   [daqsd]
 *   link = ens6f1np1          PF ifname; its speed is the capacity if none
 *   capacity = 40gbit         rate (units.h); needed unless link is given
 *   tick = 100ms              10ms .. 10s
 *   policy = minimum_guarantee   standalone fairshare minimum_guarantee
 *                                weighted_share paper2023
 *   channel_dir = /var/lib/libvirt/qemu/channel/target
 *   control_socket = /run/daqsd.sock
 *   lease = 1s                >= 2 ticks; a guest not renewed falls back
 *   fallback = auto           a rate, or auto: its minimum, else an equal
 *                             share of the capacity among the VMs present
 *   verify_interval = 1s      VFs' counters judged over this (>= 2 ticks)
 *   verify_tolerance = 5%     a guest may report this much less than its VF
 *   verify_limit_tolerance = 10%   ... and send this much over its limit
 *   verify_strikes = 3        violating intervals in a row: flagged, capped
 *   verify_hold = 10s         compliant this long: trusted again, released
 *
 *   [vm NAME]                 NAME: 1..46 of A-Z a-z 0-9 . _ - + : @
 *   min = 10gbit              guaranteed (minimum_guarantee, paper2023)
 *   weight = 2                1 .. 1000000, share of the excess
 *   max = 20gbit              never more than this
 *   device = eth0             ifname or MAC inside the guest
 *   socket = /run/daqs/vm1.sock   its channel, if not found via libvirt
 *   vf = ens1f0:3             the PF and VF index that carry it: its
 *                             counters verified from the host's, and a VM
 *                             with no channel (DPDK) capped at its share
 *
 * Comments start a line with ';' or '#', or follow whitespace and ';' in a
 * line. Leading whitespace is ignored (no continuation lines). Everything
 * else is an error that names the file and line and quotes the token:
 *   /etc/daqsd.conf:12: invalid rate '40gbitx' for 'capacity'
 * Loading is all or nothing: a new struct or an error, so a reload parses
 * into a new one and swaps it in only on success.
 */
#ifndef DAQS_CONFIG_H
#define DAQS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define DAQS_CONF_PATH "/etc/daqsd.conf"
#define DAQS_CONF_CHANNEL_DIR "/var/lib/libvirt/qemu/channel/target"
#define DAQS_CONF_CONTROL_SOCKET "/run/daqsd.sock"

#define DAQS_VM_NAME_MAX 46	/* "vm " + name fits libinih's 50-byte section */
#define DAQS_IFNAME_MAX 15	/* IFNAMSIZ - 1 */
#define DAQS_SOCK_PATH_MAX 107	/* sizeof(sun_path) - 1 */
#define DAQS_DIR_PATH_MAX 4095
#define DAQS_CONF_VMS_MAX 4096
#define DAQS_CONF_FILE_MAX (1 << 20)
#define DAQS_WEIGHT_MAX 1000000
#define DAQS_TICK_MIN_MS 10
#define DAQS_TICK_MAX_MS 10000
#define DAQS_CAPACITY_MAX_BPS DAQS_ALLOC_CAPACITY_MAX
#define DAQS_CONF_ERR_LEN 512
#define DAQS_VF_INDEX_MAX 65535
#define DAQS_VERIFY_STRIKES_MAX 100
#define DAQS_VERIFY_INTERVAL_MAX_MS 60000
#define DAQS_VERIFY_HOLD_MAX_MS 3600000

enum daqs_device_kind {
	DAQS_DEVICE_ANY,	/* the agent's own choice */
	DAQS_DEVICE_IFNAME,
	DAQS_DEVICE_MAC,
};

struct daqs_vm_conf {
	char name[DAQS_VM_NAME_MAX + 1];
	uint64_t min_bps;		/* 0: best effort */
	uint64_t max_bps;		/* 0: none */
	uint32_t weight;		/* 1 unless set */
	enum daqs_device_kind device_kind;
	char ifname[DAQS_IFNAME_MAX + 1];
	uint8_t mac[6];
	char socket[DAQS_SOCK_PATH_MAX + 1];	/* "": discover */
	char vf_pf[DAQS_IFNAME_MAX + 1];	/* "": no vf = */
	uint32_t vf_index;
	unsigned int line;		/* of its section, for messages */
	unsigned int min_line;		/* of its min, 0 if none */
	unsigned int vf_line;		/* of its vf, 0 if none */
};

struct daqs_config {
	char link[DAQS_IFNAME_MAX + 1];	/* "": none */
	uint64_t capacity_bps;		/* 0: the link's speed, once known */
	uint32_t tick_ms;
	enum daqs_policy_kind policy;
	char channel_dir[DAQS_DIR_PATH_MAX + 1];
	char control_socket[DAQS_SOCK_PATH_MAX + 1];
	uint32_t lease_ms;
	uint64_t fallback_bps;		/* 0: auto */
	/* the verification of VFs' counters (verify.h) */
	uint32_t verify_interval_ms;
	uint32_t verify_tolerance_bp;	/* 1/10000 */
	uint32_t verify_limit_tolerance_bp;
	uint32_t verify_strikes;
	uint32_t verify_hold_ms;
	size_t n_vms;
	struct daqs_vm_conf *vms;
};

/*
 * Parse the file at path (read whole, at most DAQS_CONF_FILE_MAX bytes).
 * Returns 0 and a new config in *out, or a negative errno with a message
 * in err ("PATH:LINE: what", no program prefix, no newline) and *out
 * untouched: -EINVAL for the content, the read's errno for I/O.
 */
int daqs_config_load(const char *path, struct daqs_config **out,
		     char *err, size_t errlen);

/* The same from memory; name is what messages call the file. */
int daqs_config_parse(const char *name, const char *buf, size_t len,
		      struct daqs_config **out, char *err, size_t errlen);

/*
 * The original DAQS's config directory: dir/defaults.ini (or default.ini,
 * the name in its repository) with host_interface and default_payment,
 * dir/min_bw.ini (<vm> = <whole Gbit/s>) and dir/payments.ini
 * (<vm> = <integer>), each with one [DEFAULT] section; min_bw.ini and
 * payments.ini may be missing. Minimums make the policy minimum_guarantee
 * (payments become weights); payments alone make it weighted_share. A VM
 * named only in min_bw.ini weighs default_payment (1 if unset). The
 * capacity is the link's speed.
 */
int daqs_config_load_original(const char *dir, struct daqs_config **out,
			      char *err, size_t errlen);

/* The same from memory; a NULL buffer is a missing file. */
struct daqs_original_files {
	const char *defaults, *min_bw, *payments;	/* names for messages */
	const char *defaults_buf, *min_bw_buf, *payments_buf;
	size_t defaults_len, min_bw_len, payments_len;
};
int daqs_config_parse_original(const struct daqs_original_files *f,
			       struct daqs_config **out,
			       char *err, size_t errlen);

/*
 * Set the capacity once the link's speed is known (or changed): rejects,
 * with a message naming the numbers, minimums that add up to more.
 */
int daqs_config_set_capacity(struct daqs_config *cfg, uint64_t capacity_bps,
			     const char *name, char *err, size_t errlen);

/* The VM's section, or NULL */
const struct daqs_vm_conf *daqs_config_vm(const struct daqs_config *cfg,
					  const char *name);

void daqs_config_free(struct daqs_config *cfg);

#endif /* DAQS_CONFIG_H */
