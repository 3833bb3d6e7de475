// SPDX-License-Identifier: GPL-2.0 OR MIT
#include "daqsctl_nl.h"

#include <errno.h>
#include <string.h>

/*
 * The socket and the requests are daqs_nl.c's, shared with daqs-agent;
 * these wrappers print its messages with the program's name.
 */
int daqsctl_nl_open(struct daqs_nl *nl)
{
	char err[DAQSCTL_ERRLEN];

	if (!daqs_nl_open(nl, err, sizeof(err)))
		return 0;
	fprintf(stderr, DAQSCTL_PROG ": %s\n", err);
	return -1;
}

void daqsctl_nl_close(struct daqs_nl *nl)
{
	daqs_nl_close(nl);
}

struct nl_msg *daqsctl_nl_msg(struct daqs_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = daqs_nl_msg(nl, cmd, flags);

	if (!msg)
		fprintf(stderr, DAQSCTL_PROG ": Unable to build request: %s\n",
			strerror(ENOMEM));
	return msg;
}

int daqsctl_nl_put_selector(struct nl_msg *msg,
			    const struct daqsctl_selector *sel)
{
	switch (sel->type) {
	case DAQSCTL_SEL_DEV:
		return nla_put_string(msg, DAQS_A_IFNAME, sel->ifname);
	case DAQSCTL_SEL_MAC:
		return nla_put(msg, DAQS_A_MAC, DAQS_MAC_LEN, sel->mac);
	default:
		return 0;
	}
}

int daqsctl_nl_request(struct daqs_nl *nl, struct nl_msg *msg,
		       daqs_nl_reply_fn fn, void *arg,
		       struct daqs_nl_result *res)
{
	int ret = daqs_nl_request(nl, msg, fn, arg, res);

	/* a warning on success is worth showing */
	if (!ret && res->extack[0])
		fprintf(stderr, DAQSCTL_PROG ": warning: %s\n", res->extack);
	return ret;
}

static int decode_stats(struct nlattr *nest, struct daqs_stats_info *s)
{
	struct nlattr *tb[DAQS_STATS_A_MAX + 1];
	int i;

	if (nla_parse_nested(tb, DAQS_STATS_A_MAX, nest, daqs_nl_stats_policy) < 0)
		return -1;
	for (i = 1; i <= DAQS_STATS_A_MAX; i++)
		if (tb[i])
			s->present |= 1U << i;
#define U64(a, f) do { if (tb[a]) s->f = nla_get_u64(tb[a]); } while (0)
	U64(DAQS_STATS_A_TIMESTAMP_NS, timestamp_ns);
	U64(DAQS_STATS_A_TX_BYTES, tx_bytes);
	U64(DAQS_STATS_A_TX_PACKETS, tx_packets);
	U64(DAQS_STATS_A_TX_WIRE_BYTES, tx_wire_bytes);
	U64(DAQS_STATS_A_TX_WIRE_PACKETS, tx_wire_packets);
	U64(DAQS_STATS_A_DROPS_POLICE, drops_police);
	U64(DAQS_STATS_A_DROPS_QLIMIT, drops_qlimit);
	U64(DAQS_STATS_A_DROPS_DETACH, drops_detach);
	U64(DAQS_STATS_A_THROTTLED, throttled);
#undef U64
	if (tb[DAQS_STATS_A_TOKENS])
		s->tokens = (int64_t)nla_get_u64(tb[DAQS_STATS_A_TOKENS]);
	if (tb[DAQS_STATS_A_QUEUED])
		s->queued = nla_get_u32(tb[DAQS_STATS_A_QUEUED]);
	return 0;
}

int daqsctl_nl_decode(struct nl_msg *msg, struct daqs_binding_info *b)
{
	struct nlattr *tb[DAQS_A_MAX + 1];
	int i;

	memset(b, 0, sizeof(*b));
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, DAQS_A_MAX, daqs_nl_attr_policy) < 0)
		return -1;
	for (i = 1; i <= DAQS_A_MAX; i++)
		if (tb[i])
			b->present |= 1ULL << i;
	/* only what is shown; SET_FLAGS and PAD never come back */
	b->present &= ~((1ULL << DAQS_A_SET_FLAGS) | (1ULL << DAQS_A_PAD));

#define GET(a, f, bits) do { if (tb[a]) b->f = nla_get_u##bits(tb[a]); } while (0)
	GET(DAQS_A_IFINDEX, ifindex, 32);
	GET(DAQS_A_STATE, state, 8);
	GET(DAQS_A_RATE_BPS, rate_bps, 64);
	GET(DAQS_A_BURST_BYTES, burst_bytes, 32);
	GET(DAQS_A_MODE, mode, 8);
	GET(DAQS_A_QLIMIT_US, qlimit_us, 32);
	GET(DAQS_A_LEASE_MS, lease_ms, 32);
	GET(DAQS_A_FALLBACK_BPS, fallback_bps, 64);
	GET(DAQS_A_LEASE_LEFT_MS, lease_left_ms, 32);
	GET(DAQS_A_LEASE_STATE, lease_state, 8);
	GET(DAQS_A_SET_RATE_BPS, set_rate_bps, 64);
	GET(DAQS_A_EVENT, event, 8);
#undef GET
	if (tb[DAQS_A_IFNAME])
		nla_strlcpy(b->ifname, tb[DAQS_A_IFNAME], sizeof(b->ifname));
	if (tb[DAQS_A_MAC])
		memcpy(b->mac, nla_data(tb[DAQS_A_MAC]), DAQS_MAC_LEN);
	if (tb[DAQS_A_STATS] && decode_stats(tb[DAQS_A_STATS], &b->stats))
		return -1;
	return 0;
}

void daqsctl_nl_report(const struct daqs_nl_result *res, const char *verb,
		       const struct daqsctl_selector *sel)
{
	char what[64];

	if (res->extack[0]) {
		fprintf(stderr, DAQSCTL_PROG ": %s\n", res->extack);
		return;
	}
	if (res->err == ENODEV && sel->type == DAQSCTL_SEL_DEV) {
		fprintf(stderr, DAQSCTL_PROG ": no such device '%s'\n",
			sel->ifname);
		return;
	}
	daqsctl_selector_name(sel, what, sizeof(what));
	if (res->err == ENOENT && sel->type != DAQSCTL_SEL_NONE) {
		fprintf(stderr, DAQSCTL_PROG ": no binding for %s\n", what);
		return;
	}
	fprintf(stderr, DAQSCTL_PROG ": Unable to %s %s: %s\n", verb, what,
		res->err ? strerror(res->err) : nl_geterror(res->nlerr));
}

int daqsctl_check_dev(const struct daqsctl_selector *sel)
{
	if (sel->type != DAQSCTL_SEL_DEV || if_nametoindex(sel->ifname))
		return 0;
	fprintf(stderr, DAQSCTL_PROG ": no such device '%s'\n", sel->ifname);
	return -1;
}
