// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "daqs_nl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/genl/ctrl.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static void set_flag_opt(int fd, int opt)
{
	int one = 1;

	/* older kernels lack these; the request still works without them */
	(void)setsockopt(fd, SOL_NETLINK, opt, &one, sizeof(one));
}

int daqs_nl_connect(struct daqs_nl *nl, char *err, size_t errlen)
{
	int ret, fd, fl;

	memset(nl, 0, sizeof(*nl));
	nl->family = -NLE_OBJ_NOTFOUND;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		snprintf(err, errlen, "Unable to allocate netlink socket");
		return -1;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		snprintf(err, errlen, "Unable to open netlink socket: %s",
			 nl_geterror(ret));
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return -1;
	}
	fd = nl_socket_get_fd(nl->sk);
	/* libnl 3.7 opens it with SOCK_CLOEXEC; make sure on any version */
	fl = fcntl(fd, F_GETFD);
	if (fl >= 0 && !(fl & FD_CLOEXEC))
		(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	/* NETLINK_EXT_ACK: errors carry the kernel's message (libnl 3.7 has
	 * no nl_socket_set_ext_ack); CAP_ACK: do not echo our request back */
	set_flag_opt(fd, NETLINK_EXT_ACK);
	set_flag_opt(fd, NETLINK_CAP_ACK);
	return 0;
}

int daqs_nl_resolve(struct daqs_nl *nl, char *err, size_t errlen)
{
	nl->family = genl_ctrl_resolve(nl->sk, DAQS_GENL_NAME);
	if (nl->family >= 0)
		return 0;
	if (nl->family == -NLE_OBJ_NOTFOUND)
		snprintf(err, errlen, "module daqs is not loaded");
	else
		snprintf(err, errlen,
			 "Unable to look up generic netlink family '%s': %s",
			 DAQS_GENL_NAME, nl_geterror(nl->family));
	return -1;
}

int daqs_nl_open(struct daqs_nl *nl, char *err, size_t errlen)
{
	if (daqs_nl_connect(nl, err, errlen))
		return -1;
	if (!daqs_nl_resolve(nl, err, errlen))
		return 0;
	daqs_nl_close(nl);
	return -1;
}

void daqs_nl_close(struct daqs_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);	/* closes it too */
	nl->sk = NULL;
}

struct nl_msg *daqs_nl_msg(struct daqs_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			       flags, cmd, DAQS_GENL_VERSION))
		return msg;
	nlmsg_free(msg);
	return NULL;
}

struct request {
	daqs_nl_reply_fn fn;
	void *arg;
	struct daqs_nl_result *res;
	bool done;
};

/* NLMSGERR_ATTR_MSG from the TLVs that start off bytes into nlh */
static void read_extack(const struct nlmsghdr *nlh, size_t off,
			struct daqs_nl_result *res)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

	off = NLMSG_ALIGN(off);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlh + off),
		      (int)(nlh->nlmsg_len - off), NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0)
		nla_strlcpy(res->extack, tb[NLMSGERR_ATTR_MSG],
			    sizeof(res->extack));
}

/* TLVs follow the nlmsgerr, and our request too unless the ack is capped */
static size_t ack_tlv_offset(const struct nlmsghdr *nlh,
			     const struct nlmsgerr *e)
{
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	return off;
}

static int error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	/* libnl hands us the payload; the header sits right before it */
	const struct nlmsghdr *nlh =
		(const struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct request *r = arg;

	(void)who;
	r->res->err = -e->error;
	read_extack(nlh, ack_tlv_offset(nlh, e), r->res);
	r->done = true;
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	/* a warning on success: the caller may show it */
	read_extack(nlh, ack_tlv_offset(nlh, nlmsg_data(nlh)), r->res);
	r->done = true;
	return NL_STOP;
}

static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int e;

	/* a dump that fails says so in the int that NLMSG_DONE carries */
	if (nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		memcpy(&e, nlmsg_data(nlh), sizeof(e));
		if (e < 0) {
			r->res->err = -e;
			read_extack(nlh, NLMSG_HDRLEN + sizeof(int), r->res);
		}
	}
	r->done = true;
	return NL_STOP;
}

static int intr_cb(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	(void)msg;
	r->res->intr = true;
	return NL_OK;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	int ret;

	if (!r->fn)
		return NL_OK;
	ret = r->fn(msg, r->arg);
	if (ret < 0) {
		r->res->nlerr = ret;
		return NL_STOP;
	}
	return NL_OK;
}

int daqs_nl_request(struct daqs_nl *nl, struct nl_msg *msg,
		       daqs_nl_reply_fn fn, void *arg,
		       struct daqs_nl_result *res)
{
	struct request r = { .fn = fn, .arg = arg, .res = res };
	struct nl_cb *cb;
	int ret;

	memset(res, 0, sizeof(*res));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		res->nlerr = -NLE_NOMEM;
		return -1;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &r);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, intr_cb, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, error_cb, &r);

	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		res->nlerr = ret;
		goto out;
	}
	while (!r.done && !res->nlerr) {
		ret = nl_recvmsgs(nl->sk, cb);
		/* after error_cb, libnl returns the kernel's error too */
		if (ret < 0 && !r.done)
			res->nlerr = ret;
	}
out:
	nl_cb_put(cb);
	return res->err || res->nlerr ? -1 : 0;
}

struct nla_policy daqs_nl_attr_policy[DAQS_A_MAX + 1] = {
	[DAQS_A_IFINDEX] = { .type = NLA_U32 },
	[DAQS_A_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[DAQS_A_MAC] = { .type = NLA_UNSPEC, .minlen = DAQS_MAC_LEN },
	[DAQS_A_STATE] = { .type = NLA_U8 },
	[DAQS_A_RATE_BPS] = { .type = NLA_U64 },
	[DAQS_A_BURST_BYTES] = { .type = NLA_U32 },
	[DAQS_A_MODE] = { .type = NLA_U8 },
	[DAQS_A_QLIMIT_US] = { .type = NLA_U32 },
	[DAQS_A_LEASE_MS] = { .type = NLA_U32 },
	[DAQS_A_FALLBACK_BPS] = { .type = NLA_U64 },
	[DAQS_A_LEASE_LEFT_MS] = { .type = NLA_U32 },
	[DAQS_A_LEASE_STATE] = { .type = NLA_U8 },
	[DAQS_A_SET_RATE_BPS] = { .type = NLA_U64 },
	[DAQS_A_SET_FLAGS] = { .type = NLA_U32 },
	[DAQS_A_STATS] = { .type = NLA_NESTED },
	[DAQS_A_EVENT] = { .type = NLA_U8 },
};

struct nla_policy daqs_nl_stats_policy[DAQS_STATS_A_MAX + 1] = {
	[DAQS_STATS_A_TIMESTAMP_NS] = { .type = NLA_U64 },
	[DAQS_STATS_A_TX_BYTES] = { .type = NLA_U64 },
	[DAQS_STATS_A_TX_PACKETS] = { .type = NLA_U64 },
	[DAQS_STATS_A_TX_WIRE_BYTES] = { .type = NLA_U64 },
	[DAQS_STATS_A_TX_WIRE_PACKETS] = { .type = NLA_U64 },
	[DAQS_STATS_A_DROPS_POLICE] = { .type = NLA_U64 },
	[DAQS_STATS_A_DROPS_QLIMIT] = { .type = NLA_U64 },
	[DAQS_STATS_A_DROPS_DETACH] = { .type = NLA_U64 },
	[DAQS_STATS_A_THROTTLED] = { .type = NLA_U64 },
	[DAQS_STATS_A_TOKENS] = { .type = NLA_S64 },
	[DAQS_STATS_A_QUEUED] = { .type = NLA_U32 },
};

const char *daqs_nl_strerror(const struct daqs_nl_result *res)
{
	if (res->extack[0])
		return res->extack;
	return res->err ? strerror(res->err) : nl_geterror(res->nlerr);
}
