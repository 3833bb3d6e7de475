/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * daqs: per-device transmit counting and rate limiting, controlled over the
 * generic netlink family "daqs" (version 1).
 *
 * This header is the protocol specification. Kernel and userspace include
 * it unchanged. New attributes are only ever appended.
 *
 * A binding
 * ---------
 * A binding ties a limit to one network device of one network namespace.
 * Its key is the device's permanent MAC address (the current address if the
 * device has no permanent one), taken when the binding is created. When the
 * device goes away (VF hot-unplug during live migration, veth deleted, moved
 * to another namespace) the binding is kept in state DAQS_STATE_ABSENT; when a
 * device with the same MAC appears in the namespace, the binding attaches to
 * it before it can transmit its first packet. DAQS_CMD_DEL forgets it.
 *
 * Rates are in bit/s of link-layer bytes: the Ethernet header and, for GSO
 * packets, the headers of every segment, but not preamble, FCS or gap (the
 * same convention as tc). A rate of 0 means "count only, never limit".
 *
 * Commands
 * --------
 * A device is selected by DAQS_A_IFINDEX or DAQS_A_IFNAME, or, for a
 * binding whose device is absent, by DAQS_A_MAC. Exactly one selector.
 *
 * DAQS_CMD_GET (doit: one binding; dumpit: every binding of the caller's
 * network namespace, with a consistency check: NLM_F_DUMP_INTR is set if the
 * set of bindings changed while dumping)
 *   request:
 *     DAQS_A_IFINDEX | DAQS_A_IFNAME | DAQS_A_MAC    (doit only)
 *   reply (one message per binding):
 *     DAQS_A_IFINDEX: NLA_U32       (0 while absent)
 *     DAQS_A_IFNAME: NLA_NUL_STRING (last known name)
 *     DAQS_A_MAC: 6 bytes
 *     DAQS_A_STATE: NLA_U8, enum daqs_state
 *     DAQS_A_RATE_BPS: NLA_U64      (the rate in force now)
 *     DAQS_A_BURST_BYTES: NLA_U32      (in force now, automatic or not)
 *     DAQS_A_MODE: NLA_U8, enum daqs_mode
 *     DAQS_A_QLIMIT_US: NLA_U32
 *     DAQS_A_LEASE_MS: NLA_U32      (0: no lease)
 *     DAQS_A_FALLBACK_BPS: NLA_U64
 *     DAQS_A_LEASE_LEFT_MS: NLA_U32 (time until the lease expires)
 *     DAQS_A_LEASE_STATE: NLA_U8, enum daqs_lease_state
 *     DAQS_A_SET_RATE_BPS: NLA_U64  (the rate last set, before any fallback)
 *     DAQS_A_STATS: NLA_NESTED
 *       DAQS_STATS_A_TIMESTAMP_NS: NLA_U64 (CLOCK_MONOTONIC of the sample)
 *       DAQS_STATS_A_TX_BYTES: NLA_U64     (bytes handed to the driver, as
 *                                           the driver counts them: ip -s link)
 *       DAQS_STATS_A_TX_PACKETS: NLA_U64   (skbs handed to the driver)
 *       DAQS_STATS_A_TX_WIRE_BYTES: NLA_U64   (GSO-aware: bytes on the wire)
 *       DAQS_STATS_A_TX_WIRE_PACKETS: NLA_U64 (GSO-aware: segments)
 *       DAQS_STATS_A_DROPS_POLICE: NLA_U64 (police mode: over the limit)
 *       DAQS_STATS_A_DROPS_QLIMIT: NLA_U64 (shape mode: would wait longer
 *                                           than qlimit, or queue full)
 *       DAQS_STATS_A_DROPS_DETACH: NLA_U64 (queued when the device went away
 *                                           or the binding was deleted)
 *       DAQS_STATS_A_THROTTLED: NLA_U64    (packets delayed by shape mode)
 *       DAQS_STATS_A_TOKENS: NLA_S64       (bytes that may leave now without
 *                                           waiting; negative: queued debt)
 *       DAQS_STATS_A_QUEUED: NLA_U32       (packets waiting now)
 *
 * DAQS_CMD_SET (needs CAP_NET_ADMIN in the device's namespace)
 *   Creates the binding if there is none, then sets the limit. Attributes
 *   that are not given keep their value (defaults on creation: rate 0,
 *   automatic burst, mode shape, qlimit DAQS_QLIMIT_DEFAULT_US, no lease). A SET with DAQS_A_LEASE_MS renews the lease.
 *   By DAQS_A_MAC, a device of the namespace with that MAC and no binding
 *   is bound at once; with none there the binding waits, absent, for it.
 *     DAQS_A_IFINDEX | DAQS_A_IFNAME | DAQS_A_MAC
 *     DAQS_A_RATE_BPS: NLA_U64, 0 or at least DAQS_RATE_MIN_BPS
 *     DAQS_A_BURST_BYTES: NLA_U32, must not be 0 when the rate is not 0;
 *                         0 with rate 0 makes it automatic again
 *     DAQS_A_MODE: NLA_U8, enum daqs_mode
 *     DAQS_A_QLIMIT_US: NLA_U32, DAQS_QLIMIT_MIN_US..DAQS_QLIMIT_MAX_US
 *     DAQS_A_LEASE_MS: NLA_U32, 0 removes the lease; needs a fallback
 *     DAQS_A_FALLBACK_BPS: NLA_U64, the rate once the lease expires
 *     DAQS_A_SET_FLAGS: NLA_U32, enum daqs_set_flag; unknown bits rejected
 *   The change is atomic: the new limit applies from the next packet on,
 *   and the bucket keeps its level (it is never refilled to a fresh burst).
 *
 * DAQS_CMD_DEL (needs CAP_NET_ADMIN)
 *     DAQS_A_IFINDEX | DAQS_A_IFNAME | DAQS_A_MAC
 *   Detaches and forgets the binding. Packets still waiting are sent.
 *
 * DAQS_CMD_EVENT (multicast group DAQS_GENL_MCGRP_EVENTS only)
 *     DAQS_A_EVENT: NLA_U8, enum daqs_event
 *     and the attributes of a GET reply, without DAQS_A_STATS.
 *
 * Errors carry an extack message naming the attribute at fault; a request
 * that fails changes nothing.
 */
#ifndef _UAPI_LINUX_DAQS_H
#define _UAPI_LINUX_DAQS_H

#define DAQS_GENL_NAME "daqs"
#define DAQS_GENL_VERSION 1
#define DAQS_GENL_MCGRP_EVENTS "events"

#define DAQS_MAC_LEN 6

/* The smallest rate that is not 0 (unlimited); below it is a typo. */
#define DAQS_RATE_MIN_BPS 8000ULL
/*
 * A burst not given (or given as 0 with rate 0) is automatic: the larger of
 * DAQS_BURST_DEFAULT_BYTES and DAQS_BURST_AUTO_US at the rate in force, so
 * that timer and scheduling delays of a guest do not cost it rate (tc's own
 * advice: at least rate / HZ). An explicit burst is kept as given.
 */
#define DAQS_BURST_DEFAULT_BYTES (64U * 1024U)
#define DAQS_BURST_AUTO_US 5000U
#define DAQS_QLIMIT_DEFAULT_US 50000U
#define DAQS_QLIMIT_MIN_US 1000U
#define DAQS_QLIMIT_MAX_US 1000000U
/* A lease shorter than this cannot be renewed reliably by any host. */
#define DAQS_LEASE_MIN_MS 10U
#define DAQS_LEASE_MAX_MS 3600000U

enum daqs_cmd {
	DAQS_CMD_UNSPEC,
	DAQS_CMD_GET,
	DAQS_CMD_SET,
	DAQS_CMD_DEL,
	DAQS_CMD_EVENT,
	__DAQS_CMD_MAX
};
#define DAQS_CMD_MAX (__DAQS_CMD_MAX - 1)

enum daqs_attr {
	DAQS_A_UNSPEC,
	DAQS_A_IFINDEX,
	DAQS_A_IFNAME,
	DAQS_A_MAC,
	DAQS_A_STATE,
	DAQS_A_RATE_BPS,
	DAQS_A_BURST_BYTES,
	DAQS_A_MODE,
	DAQS_A_QLIMIT_US,
	DAQS_A_LEASE_MS,
	DAQS_A_FALLBACK_BPS,
	DAQS_A_LEASE_LEFT_MS,
	DAQS_A_LEASE_STATE,
	DAQS_A_SET_RATE_BPS,
	DAQS_A_SET_FLAGS,
	DAQS_A_STATS,
	DAQS_A_EVENT,
	DAQS_A_PAD,
	__DAQS_A_LAST
};
#define DAQS_A_MAX (__DAQS_A_LAST - 1)

enum daqs_stats_attr {
	DAQS_STATS_A_UNSPEC,
	DAQS_STATS_A_TIMESTAMP_NS,
	DAQS_STATS_A_TX_BYTES,
	DAQS_STATS_A_TX_PACKETS,
	DAQS_STATS_A_TX_WIRE_BYTES,
	DAQS_STATS_A_TX_WIRE_PACKETS,
	DAQS_STATS_A_DROPS_POLICE,
	DAQS_STATS_A_DROPS_QLIMIT,
	DAQS_STATS_A_DROPS_DETACH,
	DAQS_STATS_A_THROTTLED,
	DAQS_STATS_A_TOKENS,
	DAQS_STATS_A_QUEUED,
	DAQS_STATS_A_PAD,
	__DAQS_STATS_A_LAST
};
#define DAQS_STATS_A_MAX (__DAQS_STATS_A_LAST - 1)

enum daqs_mode {
	DAQS_MODE_SHAPE,	/* delay: senders see backpressure, not loss */
	DAQS_MODE_POLICE,	/* drop what exceeds the bucket */
	__DAQS_MODE_MAX
};
#define DAQS_MODE_MAX (__DAQS_MODE_MAX - 1)

enum daqs_state {
	DAQS_STATE_ATTACHED,
	DAQS_STATE_ABSENT,	/* the device is gone; waiting for its MAC */
	__DAQS_STATE_MAX
};

enum daqs_lease_state {
	DAQS_LEASE_NONE,
	DAQS_LEASE_ACTIVE,
	DAQS_LEASE_EXPIRED,	/* running at the fallback rate */
	__DAQS_LEASE_MAX
};

enum daqs_set_flag {
	/* fail with ENOENT instead of creating a binding */
	DAQS_SET_F_NOCREATE = 1U << 0,
	/* fail with EEXIST if the binding exists */
	DAQS_SET_F_EXCL = 1U << 1,
	__DAQS_SET_F_ALL = DAQS_SET_F_NOCREATE | DAQS_SET_F_EXCL
};

enum daqs_event {
	DAQS_EVENT_UNSPEC,
	DAQS_EVENT_ATTACHED,	/* a binding was created */
	DAQS_EVENT_DETACHED,	/* a binding was deleted */
	DAQS_EVENT_LIMIT_CHANGED,
	DAQS_EVENT_LEASE_EXPIRED,
	DAQS_EVENT_DEVICE_GONE,
	DAQS_EVENT_DEVICE_BACK,
	__DAQS_EVENT_MAX
};
#define DAQS_EVENT_MAX (__DAQS_EVENT_MAX - 1)

#endif /* _UAPI_LINUX_DAQS_H */
