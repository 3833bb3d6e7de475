// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsctl monitor: one line per event on the "events" multicast group,
 * flushed at once so a reader on a pipe sees each event as it happens.
 */
#include "daqsctl_cmd.h"
#include "daqsctl_nl.h"

#include <netlink/genl/ctrl.h>

/* events come in bursts (a VF unplug detaches every binding on it) */
#define MONITOR_RCVBUF (1 << 20)

struct monitor {
	bool json;
	bool write_failed;
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct monitor *m = arg;
	struct daqs_binding_info b;

	if (gh->cmd != DAQS_CMD_EVENT)
		return NL_SKIP;
	if (daqsctl_nl_decode(msg, &b)) {
		fprintf(stderr, DAQSCTL_PROG ": skipping a malformed event\n");
		return NL_SKIP;
	}
	daqsctl_format_event(stdout, &b, m->json);
	if (fflush(stdout) || ferror(stdout)) {
		m->write_failed = true;
		return NL_STOP;
	}
	return NL_OK;
}

int daqsctl_cmd_monitor(int argc, char **argv, const struct daqsctl_opts *opts)
{
	struct monitor m = { .json = opts->json };
	char err[DAQSCTL_ERRLEN];
	struct daqs_nl nl;
	int ret, grp, status = 1;

	ret = daqsctl_parse_monitor(argc, argv, err, sizeof(err));
	if (ret) {
		daqsctl_parse_failed(ret, "monitor", err);
		return 1;
	}
	if (daqsctl_nl_open(&nl))
		return 1;
	grp = genl_ctrl_resolve_grp(nl.sk, DAQS_GENL_NAME,
				    DAQS_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		fprintf(stderr,
			DAQSCTL_PROG ": Unable to find multicast group '%s' of family '%s': %s\n",
			DAQS_GENL_MCGRP_EVENTS, DAQS_GENL_NAME, nl_geterror(grp));
		goto out;
	}
	/* events are not answers: they carry no sequence number of ours */
	nl_socket_disable_seq_check(nl.sk);
	(void)nl_socket_set_buffer_size(nl.sk, MONITOR_RCVBUF, 0);
	nl_socket_modify_cb(nl.sk, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &m);
	ret = nl_socket_add_membership(nl.sk, grp);
	if (ret < 0) {
		fprintf(stderr, DAQSCTL_PROG ": Unable to join multicast group '%s': %s\n",
			DAQS_GENL_MCGRP_EVENTS, nl_geterror(ret));
		goto out;
	}

	while (!m.write_failed) {
		ret = nl_recvmsgs_default(nl.sk);
		if (ret == -NLE_NOMEM) {
			/* ENOBUFS: the socket overflowed and events are gone */
			fprintf(stderr, DAQSCTL_PROG ": some events were lost (receive buffer full)\n");
			continue;
		}
		if (ret < 0) {
			fprintf(stderr, DAQSCTL_PROG ": Unable to receive events: %s\n",
				nl_geterror(ret));
			goto out;
		}
	}
	fprintf(stderr, DAQSCTL_PROG ": Unable to write output\n");
out:
	daqsctl_nl_close(&nl);
	return status;
}
