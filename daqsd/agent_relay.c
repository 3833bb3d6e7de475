// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The relay: one channel request -> one command of the "daqs" family ->
 * one reply or ERROR frame; and kernel events -> EVENT frames.
 *
 * The whitelist is the channel's own policy (channel.c): a request has been
 * checked against daqs_ch_binding_attrs() before it gets here, and only the
 * attributes in those masks are copied, each re-encoded by its type. Replies
 * from the kernel are copied the same way, so nothing that the channel does
 * not define crosses it in either direction.
 */
#include "agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>

#if __has_include("version.h")
#include "version.h"
#endif
#ifndef DAQS_VERSION
#define DAQS_VERSION "unknown"
#endif

/* a dump torn by concurrent changes is read again, this many times */
#define DUMP_TRIES 3
/* events come in bursts (a VF unplug detaches every binding on it) */
#define EVENTS_RCVBUF (1 << 20)

static const uint8_t channel_to_genl[] = {
	[DAQS_CH_T_GET] = DAQS_CMD_GET,
	[DAQS_CH_T_SET] = DAQS_CMD_SET,
	[DAQS_CH_T_DEL] = DAQS_CMD_DEL,
};

static void send_reply(struct agent *a)
{
	int n = daqs_ch_end(&a->reply);

	if (n < 0) {
		/* only a bug of ours gets here: every put is bounded */
		agent_log_limited(3, "a reply did not fit in a frame; dropped");
		a->n.dropped++;
		return;
	}
	agent_port_queue(a, a->reply.buf, (size_t)n);
}

void agent_send_error(struct agent *a, uint32_t seq, int errnum,
		      const char *fmt, ...)
{
	char msg[DAQS_CH_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->verbose)
		agent_log("seq %u: error %d: %s", seq, errnum, msg);
	daqs_ch_begin(&a->reply, DAQS_CH_T_ERROR, 0, seq);
	daqs_ch_put_u32(&a->reply, DAQS_CH_A_ERRNO, (uint32_t)errnum);
	daqs_ch_put_string(&a->reply, DAQS_CH_A_ERRMSG, msg);
	send_reply(a);
	a->n.errors++;
}

static void send_agent_event(struct agent *a, uint8_t event)
{
	daqs_ch_begin(&a->reply, DAQS_CH_T_EVENT, 0, ++a->event_seq);
	daqs_ch_put_u8(&a->reply, DAQS_CH_A_AGENT_EVENT, event);
	send_reply(a);
	a->n.events++;
}

void agent_announce(struct agent *a)
{
	a->announced = true;
	send_agent_event(a, DAQS_CH_AGENT_EVENT_STARTED);
}

/* ---- netlink -> channel ---------------------------------------------------- */

/* one attribute of the family, re-encoded by the channel's type for it */
static void put_nl_attr(struct daqs_ch_builder *b, uint16_t type,
			struct nlattr *nla, const struct daqs_ch_policy *pol)
{
	char s[DAQS_CH_ERRMSG_MAX];

	switch (pol->kind) {
	case DAQS_CH_KIND_U8:
		daqs_ch_put_u8(b, type, nla_get_u8(nla));
		break;
	case DAQS_CH_KIND_U16:
		daqs_ch_put_u16(b, type, nla_get_u16(nla));
		break;
	case DAQS_CH_KIND_U32:
		daqs_ch_put_u32(b, type, nla_get_u32(nla));
		break;
	case DAQS_CH_KIND_U64:
	case DAQS_CH_KIND_S64:
		daqs_ch_put_u64(b, type, nla_get_u64(nla));
		break;
	case DAQS_CH_KIND_STRING:
		nla_strlcpy(s, nla, pol->len < sizeof(s) ? pol->len : sizeof(s));
		daqs_ch_put_string(b, type, s);
		break;
	case DAQS_CH_KIND_BINARY:
		if (nla_len(nla) >= pol->len)
			daqs_ch_put(b, type, nla_data(nla), pol->len);
		break;
	default:
		break;
	}
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void put_stats(struct daqs_ch_builder *b, struct nlattr *nest)
{
	struct nlattr *tb[DAQS_STATS_A_MAX + 1];
	unsigned int i;

	if (nla_parse_nested(tb, DAQS_STATS_A_MAX, nest, daqs_nl_stats_policy) < 0)
		return;
	daqs_ch_nest_begin(b, DAQS_A_STATS);
	for (i = 1; i <= DAQS_STATS_A_MAX; i++)
		if (tb[i] && (DAQS_CH_STATS_ATTRS & DAQS_CH_BIT(i)))
			put_nl_attr(b, (uint16_t)i, tb[i], &daqs_ch_stats_policy[i]);
	/* rates are computed from guest time: never send counters without */
	if (!tb[DAQS_STATS_A_TIMESTAMP_NS])
		daqs_ch_put_u64(b, DAQS_STATS_A_TIMESTAMP_NS, monotonic_ns());
	daqs_ch_nest_end(b);
}

/* a GET reply or an EVENT of the family as a DAQS_CH_A_BINDING */
static int put_binding(struct daqs_ch_builder *b, struct nl_msg *msg,
		       uint64_t mask)
{
	struct nlattr *tb[DAQS_A_MAX + 1];
	unsigned int i;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, DAQS_A_MAX,
			  daqs_nl_attr_policy) < 0)
		return -1;
	daqs_ch_nest_begin(b, DAQS_CH_A_BINDING);
	for (i = 1; i <= DAQS_A_MAX; i++) {
		if (!tb[i] || !(mask & DAQS_CH_BIT(i)))
			continue;
		if (i == DAQS_A_STATS)
			put_stats(b, tb[i]);
		else
			put_nl_attr(b, (uint16_t)i, tb[i],
				    &daqs_ch_binding_policy[i]);
	}
	daqs_ch_nest_end(b);
	return 0;
}

struct get_ctx {
	struct agent *a;
	uint32_t seq;
	unsigned int records;
};

/* each binding of a GET; a full frame goes out with DAQS_CH_F_MORE */
static int get_cb(struct nl_msg *msg, void *arg)
{
	struct get_ctx *c = arg;
	struct daqs_ch_builder *b = &c->a->reply;
	size_t mark = daqs_ch_tell(b);
	int n;

	if (((struct genlmsghdr *)nlmsg_data(nlmsg_hdr(msg)))->cmd != DAQS_CMD_GET)
		return 0;
	if (put_binding(b, msg, DAQS_CH_GET_REPLY_ATTRS))
		return -NLE_PARSE_ERR;
	if (!b->failed) {
		c->records++;
		return 0;
	}
	daqs_ch_trim(b, mark);
	if (mark == DAQS_CH_HDR_LEN)
		return -NLE_MSGSIZE;	/* one binding larger than a frame */
	daqs_ch_set_flags(b, DAQS_CH_F_REPLY | DAQS_CH_F_MORE);
	n = daqs_ch_end(b);
	if (n < 0 || !agent_port_queue(c->a, b->buf, (size_t)n))
		return -NLE_NOMEM;
	daqs_ch_begin(b, DAQS_CH_T_GET, DAQS_CH_F_REPLY, c->seq);
	if (put_binding(b, msg, DAQS_CH_GET_REPLY_ATTRS) || b->failed)
		return -NLE_MSGSIZE;
	c->records++;
	return 0;
}

/* ---- channel -> netlink ---------------------------------------------------- */

static bool ensure_family(struct agent *a, char *err, size_t errlen);

static const char *sel_name(const struct agent_sel *s, char *buf, size_t len)
{
	switch (s->type) {
	case AGENT_SEL_IFNAME:
		snprintf(buf, len, "device '%s'", s->ifname);
		break;
	case AGENT_SEL_MAC:
		snprintf(buf, len, "MAC '%02x:%02x:%02x:%02x:%02x:%02x'",
			 s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4],
			 s->mac[5]);
		break;
	default:
		snprintf(buf, len, "every device");
	}
	return buf;
}

/* the request's selector, or the configured device; -1 after an ERROR */
struct req_sel {
	struct daqs_ch_nla *nla;	/* the request's, or NULL */
	const struct agent_sel *pin;	/* used when nla is NULL */
};

static int pick_selector(struct agent *a, const struct daqs_ch_frame *f,
			 struct daqs_ch_nla *btb, struct req_sel *sel)
{
	static const uint16_t kinds[] = { DAQS_A_IFINDEX, DAQS_A_IFNAME,
					  DAQS_A_MAC };
	const struct agent_sel *pin = &a->pin;
	char what[64];
	bool same;
	size_t i;

	sel->nla = NULL;
	sel->pin = NULL;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (btb[kinds[i]].data)
			sel->nla = &btb[kinds[i]];

	if (pin->type == AGENT_SEL_NONE) {
		if (sel->nla || f->type == DAQS_CH_T_GET)
			return 0;
		agent_send_error(a, f->seq, EINVAL,
				 "no device: name one (ifindex, ifname or mac), or configure the agent with --device or --mac");
		return -1;
	}
	if (!sel->nla) {
		sel->pin = pin;
		return 0;
	}
	/* the host may name the configured device, in the same way */
	if (pin->type == AGENT_SEL_IFNAME)
		same = sel->nla->type == DAQS_A_IFNAME &&
		       !strcmp(daqs_ch_get_string(sel->nla), pin->ifname);
	else
		same = sel->nla->type == DAQS_A_MAC &&
		       !memcmp(sel->nla->data, pin->mac, DAQS_MAC_LEN);
	if (same)
		return 0;
	agent_send_error(a, f->seq, EPERM,
			 "this agent controls %s only; name it so or name none",
			 sel_name(pin, what, sizeof(what)));
	return -1;
}

static int put_selector(struct nl_msg *msg, const struct req_sel *sel)
{
	if (sel->nla) {
		switch (sel->nla->type) {
		case DAQS_A_IFINDEX:
			return nla_put_u32(msg, DAQS_A_IFINDEX,
					   daqs_ch_get_u32(sel->nla));
		case DAQS_A_IFNAME:
			return nla_put_string(msg, DAQS_A_IFNAME,
					      daqs_ch_get_string(sel->nla));
		default:
			return nla_put(msg, DAQS_A_MAC, DAQS_MAC_LEN,
				       sel->nla->data);
		}
	}
	if (sel->pin && sel->pin->type == AGENT_SEL_IFNAME)
		return nla_put_string(msg, DAQS_A_IFNAME, sel->pin->ifname);
	if (sel->pin && sel->pin->type == AGENT_SEL_MAC)
		return nla_put(msg, DAQS_A_MAC, DAQS_MAC_LEN, sel->pin->mac);
	return 0;
}

/* the limit attributes of a SET, each by its channel type */
static int put_set_attrs(struct nl_msg *msg, const struct daqs_ch_nla *btb)
{
	const struct daqs_ch_nla *x;
	unsigned int i;
	int ret = 0;

	for (i = 1; i <= DAQS_A_MAX && !ret; i++) {
		x = &btb[i];
		if (!x->data || !(DAQS_CH_SET_ATTRS & DAQS_CH_BIT(i)))
			continue;
		switch (daqs_ch_binding_policy[i].kind) {
		case DAQS_CH_KIND_U8:
			ret = nla_put_u8(msg, (int)i, daqs_ch_get_u8(x));
			break;
		case DAQS_CH_KIND_U32:
			ret = nla_put_u32(msg, (int)i, daqs_ch_get_u32(x));
			break;
		case DAQS_CH_KIND_U64:
			ret = nla_put_u64(msg, (int)i, daqs_ch_get_u64(x));
			break;
		default:
			ret = -NLE_INVAL;	/* no SET attribute has another */
		}
	}
	return ret;
}

static const char *verb_of(uint8_t type)
{
	switch (type) {
	case DAQS_CH_T_GET:
		return "read";
	case DAQS_CH_T_SET:
		return "set the limit of";
	default:
		return "delete the binding of";
	}
}

static void request_failed(struct agent *a, const struct daqs_ch_frame *f,
			   const struct req_sel *sel,
			   const struct daqs_nl_result *res)
{
	char err[AGENT_ERRLEN], what[64];
	int errnum = res->err ? res->err : EIO;

	/* the family may have gone between two requests */
	if ((res->err == ENOENT || res->err == EOPNOTSUPP) && !res->extack[0]) {
		a->nl.family = -1;
		a->ev_joined = false;
		if (!ensure_family(a, err, sizeof(err))) {
			agent_send_error(a, f->seq, ENOSYS, "%s", err);
			return;
		}
	}
	if (res->extack[0]) {
		agent_send_error(a, f->seq, errnum, "%s", res->extack);
		return;
	}
	if (sel->nla) {
		struct agent_sel s = { .type = AGENT_SEL_NONE };

		if (sel->nla->type == DAQS_A_IFNAME) {
			s.type = AGENT_SEL_IFNAME;
			snprintf(s.ifname, sizeof(s.ifname), "%s",
				 daqs_ch_get_string(sel->nla));
		} else if (sel->nla->type == DAQS_A_MAC) {
			s.type = AGENT_SEL_MAC;
			memcpy(s.mac, sel->nla->data, DAQS_MAC_LEN);
		} else {
			snprintf(what, sizeof(what), "ifindex %u",
				 daqs_ch_get_u32(sel->nla));
			goto out;
		}
		sel_name(&s, what, sizeof(what));
	} else {
		sel_name(sel->pin ? sel->pin : &a->pin, what, sizeof(what));
	}
out:
	agent_send_error(a, f->seq, errnum, "Unable to %s %s: %s",
			 verb_of(f->type), what, daqs_nl_strerror(res));
}

static void do_request(struct agent *a, const struct daqs_ch_frame *f,
		       struct daqs_ch_nla *tb)
{
	struct daqs_ch_nla btb[DAQS_A_MAX + 1];
	struct get_ctx ctx = { .a = a, .seq = f->seq };
	char err[AGENT_ERRLEN];
	struct daqs_nl_result res;
	struct req_sel sel;
	struct nl_msg *msg;
	size_t queued;
	int tries, ret;
	bool dump;

	memset(btb, 0, sizeof(btb));
	if (tb[DAQS_CH_A_BINDING].data &&
	    daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], f->type, f->flags,
				  btb, err, sizeof(err))) {
		agent_send_error(a, f->seq, EINVAL, "%s", err);
		return;
	}
	if (pick_selector(a, f, btb, &sel))
		return;
	if (!ensure_family(a, err, sizeof(err))) {
		agent_send_error(a, f->seq, ENOSYS, "%s", err);
		return;
	}
	dump = f->type == DAQS_CH_T_GET && !sel.nla && !sel.pin;

	for (tries = 0; tries < DUMP_TRIES; tries++) {
		msg = daqs_nl_msg(&a->nl, channel_to_genl[f->type],
				  dump ? NLM_F_DUMP : 0);
		if (!msg) {
			agent_send_error(a, f->seq, ENOMEM,
					 "Unable to build request: %s",
					 strerror(ENOMEM));
			return;
		}
		if (put_selector(msg, &sel) < 0 ||
		    (f->type == DAQS_CH_T_SET && put_set_attrs(msg, btb) < 0)) {
			nlmsg_free(msg);
			agent_send_error(a, f->seq, EMSGSIZE,
					 "Unable to build request");
			return;
		}
		/* frames of a GET go out as they fill; taken back on failure */
		queued = a->out.len - a->out.off;
		ctx.records = 0;
		daqs_ch_begin(&a->reply, f->type, DAQS_CH_F_REPLY, f->seq);
		ret = daqs_nl_request(&a->nl, msg,
				      f->type == DAQS_CH_T_GET ? get_cb : NULL,
				      &ctx, &res);
		if (ret || res.intr)
			a->out.len = a->out.off + queued;
		if (ret) {
			if (res.nlerr == -NLE_NOMEM && !res.err)
				agent_send_error(a, f->seq, ENOBUFS,
						 "the reply does not fit in the output queue");
			else
				request_failed(a, f, &sel, &res);
			return;
		}
		if (!res.intr)
			break;
	}
	if (res.intr) {
		agent_send_error(a, f->seq, EAGAIN,
				 "the bindings kept changing while being read");
		return;
	}
	if (a->verbose && f->type == DAQS_CH_T_GET)
		agent_log("seq %u: GET done (%u binding%s)", f->seq,
			  ctx.records, ctx.records == 1 ? "" : "s");
	else if (a->verbose)
		agent_log("seq %u: %s done", f->seq,
			  f->type == DAQS_CH_T_SET ? "SET" : "DEL");
	send_reply(a);
}

static void do_hello(struct agent *a, const struct daqs_ch_frame *f,
		     struct daqs_ch_nla *tb)
{
	uint32_t min = 1, max = 1, ver;
	char err[AGENT_ERRLEN];
	bool module;

	if (tb[DAQS_CH_A_VERSION_MIN].data)
		min = daqs_ch_get_u32(&tb[DAQS_CH_A_VERSION_MIN]);
	if (tb[DAQS_CH_A_VERSION_MAX].data)
		max = daqs_ch_get_u32(&tb[DAQS_CH_A_VERSION_MAX]);
	if (min > max) {
		agent_send_error(a, f->seq, EINVAL,
				 "HELLO: version range %u..%u is empty", min, max);
		return;
	}
	ver = max < DAQS_CH_VERSION ? max : DAQS_CH_VERSION;
	if (ver < min || ver < DAQS_CH_VERSION_MIN) {
		agent_send_error(a, f->seq, EPROTONOSUPPORT,
				 "no common protocol version: host %u..%u, agent %u..%u",
				 min, max, DAQS_CH_VERSION_MIN, DAQS_CH_VERSION);
		return;
	}
	module = ensure_family(a, err, sizeof(err));
	agent_log("hello from %s, protocol %u%s",
		  tb[DAQS_CH_A_PEER_NAME].data ?
		  daqs_ch_get_string(&tb[DAQS_CH_A_PEER_NAME]) : "the host",
		  ver, module ? "" : "; module daqs is not loaded");

	daqs_ch_begin(&a->reply, DAQS_CH_T_HELLO, DAQS_CH_F_REPLY, f->seq);
	daqs_ch_put_u32(&a->reply, DAQS_CH_A_VERSION, ver);
	daqs_ch_put_string(&a->reply, DAQS_CH_A_PEER_NAME,
			   AGENT_PROG " " DAQS_VERSION);
	daqs_ch_put_u8(&a->reply, DAQS_CH_A_MODULE, module);
	if (a->pin.type != AGENT_SEL_NONE) {
		daqs_ch_nest_begin(&a->reply, DAQS_CH_A_BINDING);
		if (a->pin.type == AGENT_SEL_IFNAME)
			daqs_ch_put_string(&a->reply, DAQS_A_IFNAME, a->pin.ifname);
		else
			daqs_ch_put(&a->reply, DAQS_A_MAC, a->pin.mac,
				    DAQS_MAC_LEN);
		daqs_ch_nest_end(&a->reply);
	}
	send_reply(a);
}

static void handle_frame(struct agent *a, const struct daqs_ch_frame *f)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	char err[DAQS_CH_ERRMSG_MAX - 32], tbuf[16];
	const char *name = daqs_ch_type_name(f->type, tbuf, sizeof(tbuf));
	int errnum;

	if (f->type == DAQS_CH_T_ERROR || f->type == DAQS_CH_T_EVENT ||
	    (f->flags & DAQS_CH_F_REPLY)) {
		a->n.bad_frames++;
		agent_log_limited(4, "seq %u: refusing a %s%s: not a request",
				  f->seq, name,
				  f->flags & DAQS_CH_F_REPLY ? " reply" : "");
		agent_send_error(a, f->seq, EINVAL, "%s%s is not a request",
				 name, f->flags & DAQS_CH_F_REPLY ? " reply" : "");
		return;
	}
	if (daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err))) {
		a->n.bad_frames++;
		agent_log_limited(4, "seq %u: refusing a %s: %s", f->seq, name,
				  err);
		agent_send_error(a, f->seq, errnum, "%s: %s", name, err);
		return;
	}
	a->n.requests++;
	a->backoff_ms = AGENT_BACKOFF_MIN_MS;	/* a host that works */
	if (a->verbose)
		agent_log("seq %u: %s", f->seq, name);
	if (f->type == DAQS_CH_T_HELLO)
		do_hello(a, f, tb);
	else
		do_request(a, f, tb);
}

void agent_handle(struct agent *a, enum daqs_ch_dec_result r,
		  const struct daqs_ch_frame *f)
{
	switch (r) {
	case DAQS_CH_DEC_FRAME:
		handle_frame(a, f);
		return;
	case DAQS_CH_DEC_BAD_VERSION:
		a->n.bad_frames++;
		agent_log_limited(5, "seq %u: protocol version %u is not supported",
				  f->seq, f->version);
		agent_send_error(a, f->seq, EPROTONOSUPPORT,
				 "protocol version %u is not supported (this agent speaks %u..%u)",
				 f->version, DAQS_CH_VERSION_MIN, DAQS_CH_VERSION);
		return;
	case DAQS_CH_DEC_TOO_LONG:
		a->n.bad_frames++;
		agent_log_limited(5, "seq %u: a frame of %u bytes is too long",
				  f->seq, f->len);
		agent_send_error(a, f->seq, EMSGSIZE,
				 "a payload of %u bytes is longer than %u",
				 f->len, DAQS_CH_PAYLOAD_MAX);
		return;
	case DAQS_CH_DEC_BAD_CRC:
		a->n.bad_frames++;
		agent_log_limited(5, "seq %u: a frame failed its checksum",
				  f->seq);
		agent_send_error(a, f->seq, EBADMSG,
				 "the frame failed its checksum");
		return;
	default:
		return;
	}
}

void agent_report_garbage(struct agent *a, uint64_t now_ms)
{
	uint64_t skipped = a->dec.stats.skipped - a->garbage_reported;

	if (!skipped || now_ms < a->garbage_report_ms + AGENT_GARBAGE_REPORT_MS)
		return;
	a->garbage_reported = a->dec.stats.skipped;
	a->garbage_report_ms = now_ms;
	a->n.bad_frames++;
	agent_log_limited(6, "skipped %llu bytes that were not a frame",
			  (unsigned long long)skipped);
	agent_send_error(a, 0, EBADMSG,
			 "skipped %llu bytes that were not a frame (%llu in all)",
			 (unsigned long long)skipped,
			 (unsigned long long)a->dec.stats.skipped);
}

/* ---- the family and its events -------------------------------------------- */

static void join_events(struct agent *a)
{
	int grp, ret;

	if (a->ev_joined || a->nl.family < 0)
		return;
	grp = genl_ctrl_resolve_grp(a->nl.sk, DAQS_GENL_NAME,
				    DAQS_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		agent_log("Unable to find multicast group '%s': %s",
			  DAQS_GENL_MCGRP_EVENTS, nl_geterror(grp));
		return;
	}
	ret = nl_socket_add_membership(a->ev.sk, grp);
	if (ret < 0) {
		agent_log("Unable to join multicast group '%s': %s",
			  DAQS_GENL_MCGRP_EVENTS, nl_geterror(ret));
		return;
	}
	a->ev_joined = true;
}

/* true if the family is there (and its events are heard) */
static bool ensure_family(struct agent *a, char *err, size_t errlen)
{
	if (a->nl.family < 0 && daqs_nl_resolve(&a->nl, err, errlen))
		return false;
	join_events(a);
	return true;
}

static struct nla_policy ctrl_policy[CTRL_ATTR_MAX + 1] = {
	[CTRL_ATTR_FAMILY_ID] = { .type = NLA_U16 },
	[CTRL_ATTR_FAMILY_NAME] = { .type = NLA_STRING },
};

/* nlctrl says a family came or went; ours matters */
static void ctrl_event(struct agent *a, struct nl_msg *msg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (gh->cmd != CTRL_CMD_NEWFAMILY && gh->cmd != CTRL_CMD_DELFAMILY)
		return;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CTRL_ATTR_MAX, ctrl_policy) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), DAQS_GENL_NAME))
		return;
	if (gh->cmd == CTRL_CMD_NEWFAMILY) {
		agent_log("module daqs loaded");
		a->nl.family = tb[CTRL_ATTR_FAMILY_ID] ?
			       nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]) : -1;
		a->ev_joined = false;
		join_events(a);
		send_agent_event(a, DAQS_CH_AGENT_EVENT_MODULE_LOADED);
	} else {
		agent_log("module daqs unloaded");
		a->nl.family = -1;
		a->ev_joined = false;
		send_agent_event(a, DAQS_CH_AGENT_EVENT_MODULE_UNLOADED);
	}
}

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct agent *a = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(nlh);

	if (nlh->nlmsg_type == GENL_ID_CTRL) {
		ctrl_event(a, msg);
		return NL_OK;
	}
	if (a->nl.family < 0 || nlh->nlmsg_type != a->nl.family ||
	    gh->cmd != DAQS_CMD_EVENT)
		return NL_SKIP;
	daqs_ch_begin(&a->reply, DAQS_CH_T_EVENT, 0, ++a->event_seq);
	if (put_binding(&a->reply, msg, DAQS_CH_EVENT_ATTRS)) {
		agent_log_limited(7, "skipping a malformed kernel event");
		return NL_SKIP;
	}
	send_reply(a);
	a->n.events++;
	return NL_OK;
}

void agent_events(struct agent *a)
{
	int i, ret;

	for (i = 0; i < 64; i++) {
		ret = nl_recvmsgs_report(a->ev.sk, nl_socket_get_cb(a->ev.sk));
		if (ret == -NLE_NOMEM) {
			/* ENOBUFS: the socket overflowed and events are gone */
			agent_log_limited(8, "kernel events were lost");
			send_agent_event(a, DAQS_CH_AGENT_EVENT_LOST);
			continue;
		}
		if (ret <= 0)
			break;
	}
}

int agent_nl_open(struct agent *a, char *err, size_t errlen)
{
	char why[AGENT_ERRLEN];
	struct nl_cb *cb;
	int ret;

	if (daqs_nl_connect(&a->nl, err, errlen))
		return -1;
	if (daqs_nl_connect(&a->ev, err, errlen)) {
		daqs_nl_close(&a->nl);
		return -1;
	}
	/* events are not answers: they carry no sequence number of ours */
	nl_socket_disable_seq_check(a->ev.sk);
	(void)nl_socket_set_buffer_size(a->ev.sk, EVENTS_RCVBUF, 0);
	ret = nl_socket_set_nonblocking(a->ev.sk);
	cb = nl_socket_get_cb(a->ev.sk);
	if (!ret && cb)
		ret = nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, event_cb, a);
	nl_cb_put(cb);
	if (ret < 0) {
		snprintf(err, errlen, "Unable to set up the event socket: %s",
			 nl_geterror(ret));
		agent_nl_close(a);
		return -1;
	}
	/* nlctrl tells when the daqs family comes and goes */
	a->ctrl_grp = genl_ctrl_resolve_grp(a->nl.sk, "nlctrl", "notify");
	if (a->ctrl_grp >= 0)
		(void)nl_socket_add_membership(a->ev.sk, a->ctrl_grp);
	if (!ensure_family(a, why, sizeof(why)))
		agent_log("%s; waiting for it", why);
	return 0;
}

void agent_nl_close(struct agent *a)
{
	daqs_nl_close(&a->ev);
	daqs_nl_close(&a->nl);
}
