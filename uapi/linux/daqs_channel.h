/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * daqs channel: the host <-> guest protocol between daqsd (host) and
 * daqs-agent (guest), carried over the virtio-serial port "org.daqs.0"
 * (version 1). docs/protocol.md draws the bytes, with an example frame.
 *
 * This header is the protocol specification; both ends include it
 * unchanged. New attributes, message types and flags are only appended.
 *
 * The stream
 * ----------
 * A virtio-serial port is a byte stream without message boundaries that
 * outlives both ends: a host daemon restart, a live migration or a crashed
 * writer can leave half a frame in it. So every frame starts with a magic,
 * carries its own length (bounded) and two CRC32C checksums, and a reader
 * that sees anything else skips it, one byte at a time, until the next
 * magic followed by a header whose checksum holds. No byte sequence can
 * make a conforming reader wait for more than one frame's worth of bytes
 * (DAQS_CH_FRAME_MAX), read beyond a frame, or stop.
 *
 * The frame (all integers little-endian, on every architecture)
 * ---------
 *   offset  size  field
 *        0     4  magic       DAQS_CH_MAGIC0..3 = 89 44 51 53 ("\x89DQS")
 *        4     1  version     DAQS_CH_VERSION (the format of this frame)
 *        5     1  type        enum daqs_ch_type
 *        6     2  flags       enum daqs_ch_flag
 *        8     4  seq         request: chosen by the host; reply and ERROR:
 *                             the request's; EVENT: the agent's own event
 *                             counter (a gap means events were lost)
 *       12     4  length      payload bytes, 0..DAQS_CH_PAYLOAD_MAX
 *       16     4  hdr_crc     CRC32C of bytes 0..15
 *       20     4  crc         CRC32C of bytes 0..19 and then the payload
 *       24     length  payload
 *
 * hdr_crc lets a reader reject a false magic (a magic inside garbage or
 * inside another frame) after 20 bytes, without waiting for the length it
 * claims. CRC32C is the Castagnoli polynomial (reflected 0x82F63B78, initial
 * and final XOR 0xFFFFFFFF: "123456789" -> 0xE3069283), as in iSCSI, ext4
 * and SCTP.
 *
 * A reader consumes a frame whole or not at all. A header whose hdr_crc
 * holds but whose length exceeds DAQS_CH_PAYLOAD_MAX, or a frame whose crc
 * does not hold, is counted and skipped from its second byte on (it may have
 * been a cut-off frame with a good one behind it). A frame of a version the
 * reader does not speak is consumed and answered with DAQS_CH_T_ERROR,
 * errno EPROTONOSUPPORT, in version 1.
 *
 * The payload: netlink attributes
 * -------------------------------
 * The payload is a sequence of attributes laid out as struct nlattr TLVs:
 *   2 bytes nla_len (header + value, not the padding), 2 bytes nla_type,
 *   the value, zero padding to a multiple of 4.
 * with little-endian lengths, types and integer values. nla_type carries
 * NLA_F_NESTED on nested attributes; NLA_F_NET_BYTEORDER is never set.
 * Every integer has exactly its size (u8: nla_len 5, u64: nla_len 12); a
 * string ends in NUL within nla_len. Unknown, duplicated (except
 * DAQS_CH_A_BINDING in a GET reply) or malformed attributes make the whole
 * message invalid: it is answered with an ERROR and nothing is done.
 *
 * Three nesting levels, each with its own attribute numbers:
 *   the top level: enum daqs_ch_attr (this header)
 *   DAQS_CH_A_BINDING: enum daqs_attr of <linux/daqs.h>, the SAME numbers
 *     and types as the "daqs" generic netlink family, so that one schema
 *     serves the kernel, the agent and the host
 *   DAQS_A_STATS inside it: enum daqs_stats_attr, likewise
 *
 * Messages
 * --------
 * The host sends requests (flags 0); the agent answers each with exactly
 * one reply (the request's type, DAQS_CH_F_REPLY, the request's seq) or one
 * DAQS_CH_T_ERROR with the request's seq, in the order the requests came.
 * The agent also sends DAQS_CH_T_EVENT frames at any time. A device
 * selector is one of DAQS_A_IFINDEX, DAQS_A_IFNAME, DAQS_A_MAC (the host
 * knows its VF's MAC, not the guest's names); an agent configured with a
 * device uses it when the request names none, and refuses (EPERM) a request
 * that names another.
 *
 * DAQS_CH_T_HELLO (host -> guest, always sent in version 1)
 *   DAQS_CH_A_VERSION_MIN: u32   (optional, default 1)
 *   DAQS_CH_A_VERSION_MAX: u32   (optional, default 1)
 *   DAQS_CH_A_PEER_NAME: string  (optional, for the agent's log)
 * reply:
 *   DAQS_CH_A_VERSION: u32       (the highest version both speak)
 *   DAQS_CH_A_PEER_NAME: string  ("daqs-agent <version>")
 *   DAQS_CH_A_MODULE: u8         (1: the "daqs" family is there now)
 *   DAQS_CH_A_BINDING            (only if the agent is configured with a
 *     DAQS_A_IFNAME | DAQS_A_MAC  device: that device)
 *   or ERROR EPROTONOSUPPORT if the ranges do not meet.
 *
 * DAQS_CH_T_GET -> DAQS_CMD_GET
 *   DAQS_CH_A_BINDING (optional)
 *     DAQS_A_IFINDEX | DAQS_A_IFNAME | DAQS_A_MAC
 *   Without a selector (and without a configured device): every binding.
 * reply (one or more frames; DAQS_CH_F_MORE on all but the last):
 *   DAQS_CH_A_BINDING, zero or more times: the attributes of a DAQS_CMD_GET
 *     reply, DAQS_A_STATS included, whose DAQS_STATS_A_TIMESTAMP_NS is the
 *     guest's CLOCK_MONOTONIC when the counters were read: rates are
 *     computed from these, never from the host's round-trip times.
 *
 * DAQS_CH_T_SET -> DAQS_CMD_SET
 *   DAQS_CH_A_BINDING
 *     DAQS_A_IFINDEX | DAQS_A_IFNAME | DAQS_A_MAC (optional if configured)
 *     DAQS_A_RATE_BPS, DAQS_A_BURST_BYTES, DAQS_A_MODE, DAQS_A_QLIMIT_US,
 *     DAQS_A_LEASE_MS, DAQS_A_FALLBACK_BPS, DAQS_A_SET_FLAGS: as in
 *     <linux/daqs.h>; the kernel checks their meaning
 * reply: empty.
 *
 * DAQS_CH_T_DEL -> DAQS_CMD_DEL
 *   DAQS_CH_A_BINDING (optional if configured)
 *     DAQS_A_IFINDEX | DAQS_A_IFNAME | DAQS_A_MAC
 * reply: empty.
 *
 * DAQS_CH_T_ERROR (guest -> host; seq of the request, 0 if unknown)
 *   DAQS_CH_A_ERRNO: u32    (a positive Linux errno)
 *   DAQS_CH_A_ERRMSG: string (the kernel's extack message when it gave one,
 *                             else a sentence; at most DAQS_CH_ERRMSG_MAX
 *                             bytes with the NUL)
 *   The errno says whose fault it was:
 *     the kernel's own (ENODEV, ENOENT, ERANGE, ...) for a request it refused
 *     ENOSYS           the daqs module is not loaded in the guest
 *     EPERM            the request names a device the agent does not control
 *     EINVAL           a malformed message, or one that is not a request
 *     EOPNOTSUPP       an unknown message type
 *     EPROTONOSUPPORT  an unknown version (frame or HELLO range)
 *     EMSGSIZE         a length over DAQS_CH_PAYLOAD_MAX
 *     EBADMSG          a damaged frame (seq given), or bytes that were not a
 *                      frame (seq 0; at most one such ERROR a second)
 *     ENOBUFS          the reply did not fit in what the agent may queue
 *
 * DAQS_CH_T_EVENT (guest -> host, unsolicited; seq: the agent's counter)
 *   DAQS_CH_A_BINDING: the attributes of a DAQS_CMD_EVENT (DAQS_A_EVENT
 *     says which: device gone or back, lease expired, ...)
 *   or DAQS_CH_A_AGENT_EVENT: u8, enum daqs_ch_agent_event
 *
 * Nothing else crosses the channel. The agent maps each request type to
 * exactly one generic netlink command of the "daqs" family and copies only
 * the attributes listed above, re-encoded one by one: there is no way to
 * run a program, touch a file or send any other netlink message.
 */
#ifndef _UAPI_LINUX_DAQS_CHANNEL_H
#define _UAPI_LINUX_DAQS_CHANNEL_H

/* the name of the virtio-serial port, in the guest's sysfs and libvirt */
#define DAQS_CH_PORT_NAME "org.daqs.0"

#define DAQS_CH_MAGIC0 0x89
#define DAQS_CH_MAGIC1 0x44	/* 'D' */
#define DAQS_CH_MAGIC2 0x51	/* 'Q' */
#define DAQS_CH_MAGIC3 0x53	/* 'S' */

#define DAQS_CH_VERSION 1
#define DAQS_CH_VERSION_MIN 1

#define DAQS_CH_HDR_LEN 24
#define DAQS_CH_PAYLOAD_MAX 4096
#define DAQS_CH_FRAME_MAX (DAQS_CH_HDR_LEN + DAQS_CH_PAYLOAD_MAX)
/* DAQS_CH_A_ERRMSG, with its NUL */
#define DAQS_CH_ERRMSG_MAX 256
/* DAQS_CH_A_PEER_NAME, with its NUL */
#define DAQS_CH_PEER_NAME_MAX 64

/* header field offsets */
#define DAQS_CH_OFF_MAGIC 0
#define DAQS_CH_OFF_VERSION 4
#define DAQS_CH_OFF_TYPE 5
#define DAQS_CH_OFF_FLAGS 6
#define DAQS_CH_OFF_SEQ 8
#define DAQS_CH_OFF_LENGTH 12
#define DAQS_CH_OFF_HDR_CRC 16
#define DAQS_CH_OFF_CRC 20

enum daqs_ch_type {
	DAQS_CH_T_UNSPEC,
	DAQS_CH_T_HELLO,
	DAQS_CH_T_GET,
	DAQS_CH_T_SET,
	DAQS_CH_T_DEL,
	DAQS_CH_T_ERROR,
	DAQS_CH_T_EVENT,
	__DAQS_CH_T_MAX
};
#define DAQS_CH_T_MAX (__DAQS_CH_T_MAX - 1)

enum daqs_ch_flag {
	/* an answer to the request with the same seq */
	DAQS_CH_F_REPLY = 1U << 0,
	/* more reply frames for the same seq follow */
	DAQS_CH_F_MORE = 1U << 1,
	__DAQS_CH_F_ALL = DAQS_CH_F_REPLY | DAQS_CH_F_MORE
};

enum daqs_ch_attr {
	DAQS_CH_A_UNSPEC,
	DAQS_CH_A_VERSION_MIN,	/* u32 */
	DAQS_CH_A_VERSION_MAX,	/* u32 */
	DAQS_CH_A_VERSION,	/* u32 */
	DAQS_CH_A_PEER_NAME,	/* string */
	DAQS_CH_A_MODULE,	/* u8 */
	DAQS_CH_A_BINDING,	/* nested: enum daqs_attr */
	DAQS_CH_A_ERRNO,	/* u32 */
	DAQS_CH_A_ERRMSG,	/* string */
	DAQS_CH_A_AGENT_EVENT,	/* u8, enum daqs_ch_agent_event */
	__DAQS_CH_A_LAST
};
#define DAQS_CH_A_MAX (__DAQS_CH_A_LAST - 1)

enum daqs_ch_agent_event {
	DAQS_CH_AGENT_EVENT_UNSPEC,
	DAQS_CH_AGENT_EVENT_MODULE_LOADED,	/* the "daqs" family appeared */
	DAQS_CH_AGENT_EVENT_MODULE_UNLOADED,	/* ... and went away */
	/* kernel events were lost: read everything again */
	DAQS_CH_AGENT_EVENT_LOST,
	/*
	 * the agent (re)started: sent once, first, to the first host it sees.
	 * A request the host wrote before the agent ran was lost with the
	 * port's data; those written since are answered after this, in order.
	 */
	DAQS_CH_AGENT_EVENT_STARTED,
	__DAQS_CH_AGENT_EVENT_MAX
};
#define DAQS_CH_AGENT_EVENT_MAX (__DAQS_CH_AGENT_EVENT_MAX - 1)

#endif /* _UAPI_LINUX_DAQS_CHANNEL_H */
