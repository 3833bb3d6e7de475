/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The netlink side of daqsctl: one socket to the "daqs" family, requests
 * that wait for their answer, and errors turned into messages a person can
 * act on (the kernel's extack text when it gave one).
 */
#ifndef DAQSCTL_NL_H
#define DAQSCTL_NL_H

#include "daqsctl.h"

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

struct daqsctl_nl {
	struct nl_sock *sk;
	int family;
};

struct daqsctl_nl_result {
	int err;		/* positive errno from the kernel, or 0 */
	int nlerr;		/* negative libnl error on our side, or 0 */
	bool intr;		/* a dump saw NLM_F_DUMP_INTR */
	char extack[256];	/* the kernel's message, or "" */
};

/* called for every reply message; a negative return aborts the request */
typedef int (*daqsctl_reply_fn)(struct nl_msg *msg, void *arg);

/* Opens and resolves the family; prints the reason and returns -1 if not. */
int daqsctl_nl_open(struct daqsctl_nl *nl);
void daqsctl_nl_close(struct daqsctl_nl *nl);

/* A request for cmd, or NULL (out of memory, printed). */
struct nl_msg *daqsctl_nl_msg(struct daqsctl_nl *nl, uint8_t cmd, int flags);
int daqsctl_nl_put_selector(struct nl_msg *msg,
			    const struct daqsctl_selector *sel);

/*
 * Sends msg (and frees it), passes each reply to fn, waits for the ack or
 * the end of the dump. Returns 0, or -1 with res saying why.
 */
int daqsctl_nl_request(struct daqsctl_nl *nl, struct nl_msg *msg,
		       daqsctl_reply_fn fn, void *arg,
		       struct daqsctl_nl_result *res);

/* A GET reply or an EVENT into b; -1 if it is malformed. */
int daqsctl_nl_decode(struct nl_msg *msg, struct daqs_binding_info *b);

/*
 * Prints why a request failed: the extack text, or for a device selector
 * and ENODEV "no such device 'eth9'", or "Unable to <verb> <device>: ...".
 */
void daqsctl_nl_report(const struct daqsctl_nl_result *res, const char *verb,
		       const struct daqsctl_selector *sel);

/* For a dev selector: prints "no such device 'X'" and returns -1 if absent. */
int daqsctl_check_dev(const struct daqsctl_selector *sel);

#endif /* DAQSCTL_NL_H */
