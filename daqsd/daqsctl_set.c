// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsctl set: one SET request with the attributes that were given. */
#include "daqsctl_cmd.h"
#include "daqsctl_nl.h"

static int put_set_attrs(struct nl_msg *msg, const struct daqs_set_req *req)
{
	if (daqsctl_nl_put_selector(msg, &req->sel) < 0)
		return -1;
	if ((req->has & DAQS_SET_HAS_RATE) &&
	    nla_put_u64(msg, DAQS_A_RATE_BPS, req->rate_bps) < 0)
		return -1;
	if ((req->has & DAQS_SET_HAS_BURST) &&
	    nla_put_u32(msg, DAQS_A_BURST_BYTES, req->burst_bytes) < 0)
		return -1;
	if ((req->has & DAQS_SET_HAS_MODE) &&
	    nla_put_u8(msg, DAQS_A_MODE, req->mode) < 0)
		return -1;
	if ((req->has & DAQS_SET_HAS_QLIMIT) &&
	    nla_put_u32(msg, DAQS_A_QLIMIT_US, req->qlimit_us) < 0)
		return -1;
	if ((req->has & DAQS_SET_HAS_LEASE) &&
	    nla_put_u32(msg, DAQS_A_LEASE_MS, req->lease_ms) < 0)
		return -1;
	if ((req->has & DAQS_SET_HAS_FALLBACK) &&
	    nla_put_u64(msg, DAQS_A_FALLBACK_BPS, req->fallback_bps) < 0)
		return -1;
	if ((req->has & DAQS_SET_HAS_FLAGS) &&
	    nla_put_u32(msg, DAQS_A_SET_FLAGS, req->set_flags) < 0)
		return -1;
	return 0;
}

int daqsctl_cmd_set(int argc, char **argv, const struct daqsctl_opts *opts)
{
	struct daqs_nl_result res;
	char err[DAQSCTL_ERRLEN];
	struct daqs_set_req req;
	struct daqs_nl nl;
	struct nl_msg *msg;
	int ret, status = 1;

	(void)opts;
	ret = daqsctl_parse_set(argc, argv, &req, err, sizeof(err));
	if (ret) {
		daqsctl_parse_failed(ret, "set", err);
		return 1;
	}
	if (daqsctl_check_dev(&req.sel) || daqsctl_nl_open(&nl))
		return 1;
	msg = daqsctl_nl_msg(&nl, DAQS_CMD_SET, 0);
	if (!msg)
		goto out;
	if (put_set_attrs(msg, &req)) {
		nlmsg_free(msg);
		fprintf(stderr, DAQSCTL_PROG ": Unable to build request\n");
		goto out;
	}
	if (daqsctl_nl_request(&nl, msg, NULL, NULL, &res)) {
		daqsctl_nl_report(&res, "set the limit of", &req.sel);
		goto out;
	}
	status = 0;
out:
	daqsctl_nl_close(&nl);
	return status;
}
