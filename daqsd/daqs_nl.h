/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The netlink plumbing shared by daqsctl and daqs-agent: one socket to the
 * "daqs" family, requests that wait for their answer, the kernel's extack
 * text, and the attribute policies of the family. Nothing here prints:
 * every failure comes back as text for the caller to show or to send.
 */
#ifndef DAQS_NL_H
#define DAQS_NL_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/daqs.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

struct daqs_nl {
	struct nl_sock *sk;
	int family;		/* negative until resolved */
};

struct daqs_nl_result {
	int err;		/* positive errno from the kernel, or 0 */
	int nlerr;		/* negative libnl error on our side, or 0 */
	bool intr;		/* a dump saw NLM_F_DUMP_INTR */
	char extack[256];	/* the kernel's message, or "" */
};

/* called for every reply message; a negative return aborts the request */
typedef int (*daqs_nl_reply_fn)(struct nl_msg *msg, void *arg);

/*
 * Opens a close-on-exec generic netlink socket with extended acks; the
 * family is not looked up yet. Returns 0, or -1 with the reason in err.
 */
int daqs_nl_connect(struct daqs_nl *nl, char *err, size_t errlen);
/*
 * Looks the family up: 0, or -1 with the reason in err ("module daqs is
 * not loaded" when the kernel does not know it).
 */
int daqs_nl_resolve(struct daqs_nl *nl, char *err, size_t errlen);
/* connect, then resolve */
int daqs_nl_open(struct daqs_nl *nl, char *err, size_t errlen);
void daqs_nl_close(struct daqs_nl *nl);

/* A request for cmd, or NULL (out of memory). */
struct nl_msg *daqs_nl_msg(struct daqs_nl *nl, uint8_t cmd, int flags);

/*
 * Sends msg (and frees it), passes each reply to fn, waits for the ack or
 * the end of the dump. Returns 0, or -1 with res saying why. A success may
 * still carry a warning in res->extack.
 */
int daqs_nl_request(struct daqs_nl *nl, struct nl_msg *msg,
		    daqs_nl_reply_fn fn, void *arg,
		    struct daqs_nl_result *res);

/* why a request failed: the extack text, or the errno's or libnl's words */
const char *daqs_nl_strerror(const struct daqs_nl_result *res);

/* the family's attribute types, for parsing its replies */
extern struct nla_policy daqs_nl_attr_policy[DAQS_A_MAX + 1];
extern struct nla_policy daqs_nl_stats_policy[DAQS_STATS_A_MAX + 1];

#endif /* DAQS_NL_H */
