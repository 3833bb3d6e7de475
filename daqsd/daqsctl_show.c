// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsctl show: GET one binding, or dump them all and print them sorted. */
#include "daqsctl_cmd.h"
#include "daqsctl_nl.h"

#include <stdlib.h>
#include <string.h>

/* a dump torn by concurrent changes is read again, this many times */
#define DUMP_TRIES 5

struct bindings {
	struct daqs_binding_info *v;
	size_t n, cap;
};

static int collect(struct nl_msg *msg, void *arg)
{
	struct bindings *bs = arg;
	struct daqs_binding_info *v;

	if (bs->n == bs->cap) {
		size_t cap = bs->cap ? bs->cap * 2 : 16;

		v = realloc(bs->v, cap * sizeof(*v));
		if (!v)
			return -NLE_NOMEM;
		bs->v = v;
		bs->cap = cap;
	}
	if (daqsctl_nl_decode(msg, &bs->v[bs->n]))
		return -NLE_PARSE_ERR;
	bs->n++;
	return 0;
}

int daqsctl_cmd_show(int argc, char **argv, const struct daqsctl_opts *opts)
{
	struct bindings bs = { 0 };
	struct daqs_nl_result res;
	char err[DAQSCTL_ERRLEN];
	struct daqs_show_req req;
	struct daqs_nl nl;
	struct nl_msg *msg;
	int ret, tries, status = 1;

	ret = daqsctl_parse_show(argc, argv, &req, err, sizeof(err));
	if (ret) {
		daqsctl_parse_failed(ret, "show", err);
		return 1;
	}
	if (daqsctl_check_dev(&req.sel) || daqsctl_nl_open(&nl))
		return 1;

	for (tries = 0; tries < DUMP_TRIES; tries++) {
		bs.n = 0;
		msg = daqsctl_nl_msg(&nl, DAQS_CMD_GET,
				     req.sel.type == DAQSCTL_SEL_NONE ?
				     NLM_F_DUMP : 0);
		if (!msg)
			goto out;
		if (daqsctl_nl_put_selector(msg, &req.sel) < 0) {
			nlmsg_free(msg);
			fprintf(stderr, DAQSCTL_PROG ": Unable to build request\n");
			goto out;
		}
		if (daqsctl_nl_request(&nl, msg, collect, &bs, &res)) {
			daqsctl_nl_report(&res, req.sel.type == DAQSCTL_SEL_NONE ?
					  "list bindings of" : "read binding of",
					  &req.sel);
			goto out;
		}
		if (!res.intr)
			break;
	}
	if (res.intr) {
		fprintf(stderr, DAQSCTL_PROG ": Unable to list bindings: they kept changing while being read\n");
		goto out;
	}

	if (bs.n)
		qsort(bs.v, bs.n, sizeof(*bs.v), daqsctl_binding_cmp);
	daqsctl_format_bindings(stdout, bs.v, bs.n, opts->json);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, DAQSCTL_PROG ": Unable to write output\n");
		goto out;
	}
	status = 0;
out:
	free(bs.v);
	daqsctl_nl_close(&nl);
	return status;
}
