/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The netlink side of daqsctl: the plumbing of daqs_nl.h (shared with
 * daqs-agent), replies decoded for printing, and errors turned into
 * messages a person can act on (the kernel's extack text when it gave one).
 */
#ifndef DAQSCTL_NL_H
#define DAQSCTL_NL_H

#include "daqsctl.h"

#include "daqs_nl.h"

/* daqs_nl.c's functions, printing their failures as "daqsctl: ..." */
int daqsctl_nl_open(struct daqs_nl *nl);
void daqsctl_nl_close(struct daqs_nl *nl);
struct nl_msg *daqsctl_nl_msg(struct daqs_nl *nl, uint8_t cmd, int flags);
/* also prints the kernel's warning on success */
int daqsctl_nl_request(struct daqs_nl *nl, struct nl_msg *msg,
		       daqs_nl_reply_fn fn, void *arg,
		       struct daqs_nl_result *res);

int daqsctl_nl_put_selector(struct nl_msg *msg,
			    const struct daqsctl_selector *sel);

/* A GET reply or an EVENT into b; -1 if it is malformed. */
int daqsctl_nl_decode(struct nl_msg *msg, struct daqs_binding_info *b);

/*
 * Prints why a request failed: the extack text, or for a device selector
 * and ENODEV "no such device 'eth9'", or "Unable to <verb> <device>: ...".
 */
void daqsctl_nl_report(const struct daqs_nl_result *res, const char *verb,
		       const struct daqsctl_selector *sel);

/* For a dev selector: prints "no such device 'X'" and returns -1 if absent. */
int daqsctl_check_dev(const struct daqsctl_selector *sel);

#endif /* DAQSCTL_NL_H */
