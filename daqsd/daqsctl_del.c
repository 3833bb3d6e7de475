// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsctl del: forget one binding. */
#include "daqsctl_cmd.h"
#include "daqsctl_nl.h"

int daqsctl_cmd_del(int argc, char **argv, const struct daqsctl_opts *opts)
{
	struct daqs_nl_result res;
	char err[DAQSCTL_ERRLEN];
	struct daqs_del_req req;
	struct daqs_nl nl;
	struct nl_msg *msg;
	int ret, status = 1;

	(void)opts;
	ret = daqsctl_parse_del(argc, argv, &req, err, sizeof(err));
	if (ret) {
		daqsctl_parse_failed(ret, "del", err);
		return 1;
	}
	if (daqsctl_check_dev(&req.sel) || daqsctl_nl_open(&nl))
		return 1;
	msg = daqsctl_nl_msg(&nl, DAQS_CMD_DEL, 0);
	if (!msg)
		goto out;
	if (daqsctl_nl_put_selector(msg, &req.sel) < 0) {
		nlmsg_free(msg);
		fprintf(stderr, DAQSCTL_PROG ": Unable to build request\n");
		goto out;
	}
	if (daqsctl_nl_request(&nl, msg, NULL, NULL, &res)) {
		daqsctl_nl_report(&res, "delete the binding of", &req.sel);
		goto out;
	}
	status = 0;
out:
	daqsctl_nl_close(&nl);
	return status;
}
