// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for daqs-agent's handling of what the host writes into
 * its port (daqsd/agent_port.c, agent_relay.c and the channel codec), with
 * no kernel: the netlink calls are linked to a fake (-Wl,--wrap) that
 * checks every request the agent would send the "daqs" family and answers
 * as the input says.
 *
 * The port is one end of a socketpair with a small send buffer (so the
 * agent's hold-while-the-host-does-not-read logic runs); the fuzzer plays
 * the host on the other end. The input is a program of small operations:
 * raw bytes, frames with good checksums and any header and payload,
 * well-formed requests with any selector and values, the fake kernel's
 * next answer (errno, extack, replies, torn dumps, libnl errors), the host
 * reading or not, disconnects and reconnects, time passing (the garbage
 * report), kernel events and the module coming and going.
 *
 * Checks, after every operation:
 *  - every request the fake kernel gets is one the channel allows: a known
 *    command of the family's version, a dump only for a GET without a
 *    selector, else exactly one selector, only whitelisted attributes, each
 *    once and with its exact size;
 *  - everything the agent writes is a valid frame (daqs_ch_msg_parse) and
 *    the host gets, in order, exactly one answer per frame the agent's
 *    decoder returned (a second decoder over the same bytes says which):
 *    a reply of the request's type (GET: any number of MORE frames, then a
 *    last one) or one ERROR, with its seq; an ERROR never follows a MORE;
 *    besides that only EVENTs with increasing seqs and the rate-limited
 *    "skipped N bytes" ERROR with seq 0;
 *  - when the input ends and the host has read everything, nothing is
 *    owed.
 * Seeds: tests/fuzz/corpus/agent/.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>

#include "agent.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define FAMILY_ID 0x1c
#define QUEUE_MAX 8192
#define INPUT_MAX 65536
/* a dump of more records than the agent's output queue holds (a record's
 * frame share is well over 100 bytes): the build makes the queue 8 KiB, not
 * 64, so such a dump is 81 records, not 400 */
#define RECORDS_OVER (AGENT_OUT_MAX / 100U)

/* ---- the program's input ------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct input *in)
{
	uint8_t v;

	if (!in->n)
		return 0;
	v = *in->p++;
	in->n--;
	return v;
}

static uint64_t num(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | byte(in);
	return v;
}

/* an integer: small, an edge, or any */
static uint64_t value(struct input *in)
{
	static const uint64_t edges[] = {
		0, 1, 7999, 8000, 999, 1000, 1000000, 1000001, 9, 10, 3600000,
		3600001, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX, 3,
	};
	uint8_t sel = byte(in);

	if (sel < 0x80)
		return edges[sel % (sizeof(edges) / sizeof(edges[0]))];
	return num(in, 1 + sel % 8);
}

/* ---- the agent and the host ------------------------------------------------ */

static struct agent a;
static int host_fd = -1;
static struct daqs_ch_decoder host_dec;	/* what the host reads */
static struct daqs_ch_decoder mirror;	/* what the agent's decoder sees */
static struct daqs_ch_builder b;
static uint64_t now_ms;
static bool host_reads;

/* what the host is owed, in order */
struct expect {
	uint32_t seq;
	uint8_t type;		/* the reply's; 0: only an ERROR */
	bool more_seen;
};
static struct expect q[QUEUE_MAX];
static size_t qh, qn;
static unsigned int garbage_owed;
static uint32_t last_event_seq;

/* the netlink event callback agent_nl_open() installs */
static nl_recvmsg_msg_cb_t event_fn;
static void *event_arg;

uint64_t agent_now_ms(void)
{
	return now_ms;
}

void agent_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

void agent_log_limited(unsigned int key, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(void)key;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
}

static void owe(uint32_t seq, uint8_t type)
{
	CHECK(qn < QUEUE_MAX);
	q[(qh + qn) % QUEUE_MAX] = (struct expect){ .seq = seq, .type = type };
	qn++;
}

/* one frame the agent wrote, in the order written */
static void host_got(enum daqs_ch_dec_result r, const struct daqs_ch_frame *f)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	char err[DAQS_CH_ERRMSG_MAX];
	struct expect *e;
	int errnum;

	CHECK(r == DAQS_CH_DEC_FRAME);
	CHECK(!daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err)));
	if (f->type == DAQS_CH_T_EVENT) {
		CHECK(f->seq > last_event_seq);
		last_event_seq = f->seq;
		return;
	}
	if (f->type == DAQS_CH_T_ERROR && !f->seq && garbage_owed &&
	    daqs_ch_get_u32(&tb[DAQS_CH_A_ERRNO]) == EBADMSG &&
	    !strncmp(daqs_ch_get_string(&tb[DAQS_CH_A_ERRMSG]), "skipped ", 8)) {
		garbage_owed--;
		return;
	}
	CHECK(qn);
	e = &q[qh];
	CHECK(f->seq == e->seq);
	if (f->type == DAQS_CH_T_ERROR) {
		/* a reply already sent in part is never taken back */
		CHECK(!e->more_seen);
		CHECK(tb[DAQS_CH_A_ERRNO].data);
		CHECK(daqs_ch_get_u32(&tb[DAQS_CH_A_ERRNO]) > 0);
	} else {
		CHECK(e->type && f->type == e->type);
		CHECK(f->flags & DAQS_CH_F_REPLY);
		if (f->flags & DAQS_CH_F_MORE) {
			CHECK(f->type == DAQS_CH_T_GET);
			e->more_seen = true;
			return;
		}
	}
	qh = (qh + 1) % QUEUE_MAX;
	qn--;
}

static void host_read(void)
{
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;
	uint8_t buf[8192];
	size_t off, k;
	ssize_t n;

	while ((n = read(host_fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < (size_t)n; off += k) {
			k = daqs_ch_dec_feed(&host_dec, buf + off, (size_t)n - off);
			while ((r = daqs_ch_dec_next(&host_dec, &f)) != DAQS_CH_DEC_NEED)
				host_got(r, &f);
		}
	}
	CHECK(n < 0 && errno == EAGAIN);
}

/* the agent works through what it holds; the host reads if it does */
static void pump(bool must_finish)
{
	int i;

	for (i = 0; i < 10000; i++) {
		if (!a.connected)
			return;
		CHECK(agent_port_consume(&a));
		CHECK(a.out.off <= a.out.len && a.out.len <= sizeof(a.out.buf));
		if (host_reads || (a.held && must_finish))
			host_read();
		if (!a.held && a.in_off == a.in_len &&
		    (!must_finish || a.out.len == a.out.off))
			return;
		if (!host_reads && !must_finish)
			return;
	}
	abort();	/* the agent made no progress with a reading host */
}

/* bytes from the host, to the agent's port */
static void host_write(const uint8_t *p, size_t n)
{
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;
	size_t off, k;

	if (!a.connected)
		return;		/* nobody listens: the bytes go nowhere */
	/* what the agent's decoder will return, from the same bytes */
	for (off = 0; off < n; off += k) {
		k = daqs_ch_dec_feed(&mirror, p + off, n - off);
		while ((r = daqs_ch_dec_next(&mirror, &f)) != DAQS_CH_DEC_NEED) {
			bool request = r == DAQS_CH_DEC_FRAME &&
				       f.type >= DAQS_CH_T_HELLO &&
				       f.type <= DAQS_CH_T_DEL &&
				       !(f.flags & DAQS_CH_F_REPLY);

			owe(f.seq, request ? f.type : 0);
		}
	}
	/* the agent reads at most sizeof(a.in) at a time, once it took the last */
	while (n) {
		k = n < sizeof(a.in) ? n : sizeof(a.in);
		pump(true);
		if (!a.connected)
			return;
		CHECK(a.in_off == a.in_len);
		memcpy(a.in, p, k);
		a.in_off = 0;
		a.in_len = k;
		a.last_rx_ms = now_ms;
		p += k;
		n -= k;
		pump(false);
	}
}

static void send_built(void)
{
	int n = daqs_ch_end(&b);

	if (n > 0)
		host_write(b.buf, (size_t)n);
}

/*
 * The host goes; back_at_once: a host is seen again right away. The stream
 * of a host that said HELLO less than AGENT_STALE_MS before may be kept
 * for the next (agent_port.c): then it is one stream, owed answers and all.
 * A host away longer finds nothing of it.
 */
static void host_lost(bool back_at_once)
{
	host_read();
	if (!back_at_once)
		now_ms += AGENT_STALE_MS;
	agent_port_lost(&a, "fuzz");
	CHECK(!a.connected);
	if (a.keep_until_ms) {
		CHECK(back_at_once && a.hello_ms + AGENT_STALE_MS > now_ms);
		return;
	}
	CHECK(a.out.len == 0 && a.in_len == 0);
	/* what was not written is the host's loss; a new host starts clean */
	qh = qn = 0;
	garbage_owed = 0;
	daqs_ch_dec_reset(&mirror);
	daqs_ch_dec_reset(&host_dec);
}

/* ---- the fake kernel ---------------------------------------------------------- */

static struct {
	bool loaded;
	int grp_err;		/* genl_ctrl_resolve_grp's answer if < 0 */
	/* the next request's answer */
	int err;
	int nlerr;
	char extack[300];
	/* every request's */
	unsigned int intr;	/* dumps torn still to come */
	unsigned int records;
	uint8_t rec_kind;
	uint8_t rec[48];
} k;

int __real_nl_cb_set(struct nl_cb *cb, enum nl_cb_type type,
		     enum nl_cb_kind kind, nl_recvmsg_msg_cb_t func, void *arg);
int __wrap_nl_cb_set(struct nl_cb *cb, enum nl_cb_type type,
		     enum nl_cb_kind kind, nl_recvmsg_msg_cb_t func, void *arg);
int __wrap_nl_cb_set(struct nl_cb *cb, enum nl_cb_type type,
		     enum nl_cb_kind kind, nl_recvmsg_msg_cb_t func, void *arg)
{
	if (type == NL_CB_VALID && kind == NL_CB_CUSTOM) {
		event_fn = func;
		event_arg = arg;
	}
	return __real_nl_cb_set(cb, type, kind, func, arg);
}

int __wrap_daqs_nl_connect(struct daqs_nl *nl, char *err, size_t errlen);
int __wrap_daqs_nl_connect(struct daqs_nl *nl, char *err, size_t errlen)
{
	memset(nl, 0, sizeof(*nl));
	nl->family = -NLE_OBJ_NOTFOUND;
	nl->sk = nl_socket_alloc();	/* never connected */
	if (!nl->sk)
		snprintf(err, errlen, "no memory");
	return nl->sk ? 0 : -1;
}

int __wrap_daqs_nl_resolve(struct daqs_nl *nl, char *err, size_t errlen);
int __wrap_daqs_nl_resolve(struct daqs_nl *nl, char *err, size_t errlen)
{
	if (k.loaded) {
		nl->family = FAMILY_ID;
		return 0;
	}
	nl->family = -NLE_OBJ_NOTFOUND;
	snprintf(err, errlen, "module daqs is not loaded");
	return -1;
}

int __wrap_genl_ctrl_resolve_grp(struct nl_sock *sk, const char *family,
				 const char *grp);
int __wrap_genl_ctrl_resolve_grp(struct nl_sock *sk, const char *family,
				 const char *grp)
{
	(void)sk;
	(void)family;
	(void)grp;
	return k.grp_err < 0 ? k.grp_err : 0x10;
}

int __wrap_nl_socket_add_membership(struct nl_sock *sk, int group);
int __wrap_nl_socket_add_membership(struct nl_sock *sk, int group)
{
	(void)sk;
	CHECK(group == 0x10);
	return 0;
}

int __wrap_nl_socket_set_nonblocking(const struct nl_sock *sk);
int __wrap_nl_socket_set_nonblocking(const struct nl_sock *sk)
{
	(void)sk;
	return 0;
}

int __wrap_nl_socket_set_buffer_size(struct nl_sock *sk, int rx, int tx);
int __wrap_nl_socket_set_buffer_size(struct nl_sock *sk, int rx, int tx)
{
	(void)sk;
	(void)rx;
	(void)tx;
	return 0;
}

/* the exact size of what the agent may send for each attribute; 0: never */
static int set_attr_len(unsigned int t, bool set)
{
	switch (t) {
	case DAQS_A_IFINDEX:
		return 4;
	case DAQS_A_IFNAME:
		return -1;	/* a string */
	case DAQS_A_MAC:
		return DAQS_MAC_LEN;
	}
	if (!set || !(DAQS_CH_SET_ATTRS & DAQS_CH_BIT(t)))
		return 0;
	switch (t) {
	case DAQS_A_MODE:
		return 1;
	case DAQS_A_RATE_BPS:
	case DAQS_A_FALLBACK_BPS:
		return 8;
	default:
		return 4;
	}
}

static void check_request(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	bool dump = nlh->nlmsg_flags & NLM_F_DUMP, set;
	struct nlattr *nla;
	uint64_t seen = 0;
	int rem, len, want;
	unsigned int t;

	CHECK(nlh->nlmsg_type == FAMILY_ID);
	CHECK(g->version == DAQS_GENL_VERSION);
	CHECK(g->cmd == DAQS_CMD_GET || g->cmd == DAQS_CMD_SET ||
	      g->cmd == DAQS_CMD_DEL);
	CHECK(!dump || g->cmd == DAQS_CMD_GET);
	set = g->cmd == DAQS_CMD_SET;
	nla_for_each_attr(nla, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		t = (unsigned int)nla_type(nla);
		len = nla_len(nla);
		CHECK(t >= 1 && t <= DAQS_A_MAX);
		CHECK(!(seen & DAQS_CH_BIT(t)));
		seen |= DAQS_CH_BIT(t);
		want = set_attr_len(t, set);
		CHECK(want);
		if (want > 0) {
			CHECK(len == want);
		} else {
			/* a name with its NUL, as the kernel's policy wants */
			CHECK(len >= 1 && len <= IFNAMSIZ);
			CHECK(strnlen(nla_data(nla), (size_t)len) == (size_t)len - 1);
		}
	}
	CHECK(rem == 0);
	rem = __builtin_popcountll(seen & DAQS_CH_SELECTORS);
	CHECK(dump ? rem == 0 : rem == 1);
}

/* one reply message of the fake kernel */
static struct nl_msg *reply_msg(uint8_t cmd, unsigned int i, int flags)
{
	const uint8_t *r = k.rec;
	struct nl_msg *m = nlmsg_alloc();
	struct nlattr *nest;
	char name[24];
	uint64_t v;
	unsigned int j;

	CHECK(m);
	CHECK(genlmsg_put(m, 0, 0, FAMILY_ID, 0, flags, cmd, 1));
	memcpy(&v, r + 8, sizeof(v));
	v ^= i;
	switch (k.rec_kind % 4) {
	case 0:		/* what daqs_fill() puts */
	case 1:		/* ... with a name of any bytes */
		nla_put_u32(m, DAQS_A_IFINDEX, i + r[0]);
		if (k.rec_kind % 4 == 0) {
			snprintf(name, sizeof(name), "eth%u", i);
			nla_put_string(m, DAQS_A_IFNAME, name);
		} else {
			nla_put(m, DAQS_A_IFNAME, 1 + r[1] % 16, r + 16);
		}
		nla_put(m, DAQS_A_MAC, DAQS_MAC_LEN, r + 2);
		nla_put_u8(m, DAQS_A_STATE, r[0] & 1);
		nla_put_u64(m, DAQS_A_RATE_BPS, v);
		nla_put_u32(m, DAQS_A_BURST_BYTES, (uint32_t)v);
		nla_put_u8(m, DAQS_A_MODE, r[1]);
		nla_put_u32(m, DAQS_A_QLIMIT_US, (uint32_t)(v >> 7));
		nla_put_u32(m, DAQS_A_LEASE_MS, (uint32_t)(v >> 3));
		nla_put_u64(m, DAQS_A_FALLBACK_BPS, v >> 9);
		nla_put_u32(m, DAQS_A_LEASE_LEFT_MS, r[5]);
		nla_put_u8(m, DAQS_A_LEASE_STATE, r[6] % 4);
		nla_put_u64(m, DAQS_A_SET_RATE_BPS, ~v);
		if (cmd == DAQS_CMD_EVENT)
			nla_put_u8(m, DAQS_A_EVENT, r[7]);
		if (!(r[7] & 0x80)) {
			nest = nla_nest_start(m, DAQS_A_STATS);
			for (j = 1; j <= DAQS_STATS_A_MAX; j++)
				if (j == DAQS_STATS_A_QUEUED)
					nla_put_u32(m, j, (uint32_t)v);
				else if (j != DAQS_STATS_A_PAD &&
					 (j != DAQS_STATS_A_TIMESTAMP_NS || r[7] & 1))
					nla_put_u64(m, j, v * j);
			nla_nest_end(m, nest);
		}
		break;
	case 2:		/* attributes of any number and size */
		for (j = 0; j + 2 < sizeof(k.rec); j += 3)
			nla_put(m, r[j] % (DAQS_A_MAX + 3), r[j + 1] % 13,
				r + (r[j + 2] % 32));
		break;
	default:	/* a stats nest of anything */
		nla_put_u32(m, DAQS_A_IFINDEX, i);
		nest = nla_nest_start(m, DAQS_A_STATS);
		for (j = 0; j + 2 < sizeof(k.rec); j += 3)
			nla_put(m, r[j] % (DAQS_STATS_A_MAX + 3), r[j + 1] % 13,
				r + (r[j + 2] % 32));
		nla_nest_end(m, nest);
		break;
	}
	return m;
}

int __wrap_daqs_nl_request(struct daqs_nl *nl, struct nl_msg *msg,
			   daqs_nl_reply_fn fn, void *arg,
			   struct daqs_nl_result *res);
int __wrap_daqs_nl_request(struct daqs_nl *nl, struct nl_msg *msg,
			   daqs_nl_reply_fn fn, void *arg,
			   struct daqs_nl_result *res)
{
	bool dump = nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP;
	unsigned int i, n;
	int ret;

	CHECK(nl == &a.nl);
	check_request(msg);
	nlmsg_free(msg);
	memset(res, 0, sizeof(*res));
	if (!k.loaded) {
		/* genetlink's answer to a family it does not know */
		res->err = ENOENT;
		return -1;
	}
	if (k.nlerr) {
		res->nlerr = k.nlerr;
		k.nlerr = 0;
		return -1;
	}
	/* a GET that is not a dump has one answer at most */
	n = fn ? (dump ? k.records : (k.records ? 1 : 0)) : 0;
	for (i = 0; i < n && !res->nlerr; i++) {
		struct nl_msg *m = reply_msg(k.rec[7] & 0x40 ? DAQS_CMD_SET :
					     DAQS_CMD_GET, i,
					     dump ? NLM_F_MULTI : 0);

		ret = fn(m, arg);
		if (ret < 0)
			res->nlerr = ret;
		nlmsg_free(m);
	}
	if (dump && k.intr) {
		k.intr--;
		res->intr = true;
	}
	if (!res->nlerr && k.err) {
		res->err = k.err;
		snprintf(res->extack, sizeof(res->extack), "%s", k.extack);
		k.err = 0;
		k.extack[0] = '\0';
	}
	return res->err || res->nlerr ? -1 : 0;
}

/* ---- operations ---------------------------------------------------------------- */

static void op_request(struct input *in)
{
	static const uint8_t types[] = { DAQS_CH_T_GET, DAQS_CH_T_SET,
					 DAQS_CH_T_DEL, DAQS_CH_T_HELLO };
	uint8_t t = types[byte(in) % 4], sel = byte(in), mac[6] = { 0x52, 0x54 };
	uint32_t seq = (uint32_t)num(in, 2), set;
	char name[IFNAMSIZ + 4];
	unsigned int i;

	daqs_ch_begin(&b, t, 0, seq);
	if (t == DAQS_CH_T_HELLO) {
		if (sel & 1)
			daqs_ch_put_u32(&b, DAQS_CH_A_VERSION_MIN, (uint32_t)value(in));
		if (sel & 2)
			daqs_ch_put_u32(&b, DAQS_CH_A_VERSION_MAX, (uint32_t)value(in));
		if (sel & 4)
			daqs_ch_put_string(&b, DAQS_CH_A_PEER_NAME, "daqsd fuzz");
		send_built();
		return;
	}
	if (sel & 0x80 && t == DAQS_CH_T_GET) {
		send_built();	/* every binding */
		return;
	}
	daqs_ch_nest_begin(&b, DAQS_CH_A_BINDING);
	if (sel & 1)
		daqs_ch_put_u32(&b, DAQS_A_IFINDEX, (uint32_t)value(in));
	if (sel & 2) {
		snprintf(name, sizeof(name), "%s%u", sel & 0x40 ? "veth" : "eth",
			 byte(in) % 4);
		daqs_ch_put_string(&b, DAQS_A_IFNAME, name);
	}
	if (sel & 4) {
		mac[5] = byte(in) % 4;
		daqs_ch_put(&b, DAQS_A_MAC, mac, sizeof(mac));
	}
	if (t == DAQS_CH_T_SET) {
		set = (uint32_t)num(in, 1);
		for (i = DAQS_A_RATE_BPS; i <= DAQS_A_SET_FLAGS; i++, set >>= 1) {
			if (!(DAQS_CH_SET_ATTRS & DAQS_CH_BIT(i)) || !(set & 1))
				continue;
			if (i == DAQS_A_MODE)
				daqs_ch_put_u8(&b, (uint16_t)i, (uint8_t)value(in));
			else if (i == DAQS_A_RATE_BPS || i == DAQS_A_FALLBACK_BPS)
				daqs_ch_put_u64(&b, (uint16_t)i, value(in));
			else
				daqs_ch_put_u32(&b, (uint16_t)i, (uint32_t)value(in));
		}
	}
	daqs_ch_nest_end(&b);
	send_built();
}

static void op_frame(struct input *in)
{
	uint8_t type = byte(in) % 9, flags = byte(in) % 4, ver = byte(in), n;

	daqs_ch_begin(&b, type, flags, (uint32_t)num(in, 1));
	/* mostly our version, sometimes another */
	if (ver >= 0xf0)
		b.buf[DAQS_CH_OFF_VERSION] = ver & 0x0f;
	n = byte(in);
	if (n > in->n)
		n = (uint8_t)in->n;
	memcpy(b.buf + b.len, in->p, n);
	b.len += n;
	in->p += n;
	in->n -= n;
	send_built();
}

static void op_raw(struct input *in)
{
	size_t n = byte(in);

	if (n > in->n)
		n = in->n;
	host_write(in->p, n);
	in->p += n;
	in->n -= n;
}

static void op_kernel(struct input *in)
{
	static const int errs[] = { 0, ENODEV, ENOENT, EOPNOTSUPP, EPERM,
				    EINVAL, ERANGE, EEXIST, ENOMEM, EMSGSIZE };
	static const int nlerrs[] = { -NLE_NOMEM, -NLE_MSGSIZE, -NLE_PERM };
	uint8_t sel = byte(in);
	size_t i;

	k.err = errs[sel % 10];
	switch ((sel >> 4) % 4) {
	case 0:
		k.extack[0] = '\0';
		break;
	case 1:
		snprintf(k.extack, sizeof(k.extack), "DAQS_A_RATE_BPS %%s %%n: below");
		break;
	default:
		/* longer than any frame's message */
		for (i = 0; i + 1 < sizeof(k.extack); i++)
			k.extack[i] = (char)('a' + i % 26);
		k.extack[i] = '\0';
	}
	if (sel & 0x40)
		k.nlerr = nlerrs[byte(in) % 3];
	if (sel & 0x80) {
		k.records = byte(in);
		/* a few, or more than the output queue holds */
		k.records = k.records >= 0xf0 ? RECORDS_OVER : k.records % 24;
		k.rec_kind = byte(in);
		for (i = 0; i < sizeof(k.rec); i++)
			k.rec[i] = byte(in);
		k.intr = byte(in) % 5;
	}
}

static void op_event(struct input *in)
{
	uint8_t sel = byte(in);
	struct nl_msg *m;

	CHECK(event_fn);
	if (sel < 0xc0) {
		m = reply_msg(DAQS_CMD_EVENT, sel, 0);
		if (sel & 1)	/* from another family */
			nlmsg_hdr(m)->nlmsg_type = FAMILY_ID + 1;
	} else {
		m = nlmsg_alloc();
		CHECK(m);
		CHECK(genlmsg_put(m, 0, 0, GENL_ID_CTRL, 0, 0,
				  sel & 1 ? CTRL_CMD_DELFAMILY : CTRL_CMD_NEWFAMILY, 1));
		nla_put_string(m, CTRL_ATTR_FAMILY_NAME, sel & 2 ? "nope" : "daqs");
		if (!(sel & 4))
			nla_put_u16(m, CTRL_ATTR_FAMILY_ID, FAMILY_ID);
		/* the module came or went; it does for the fake kernel too */
		if (!(sel & 2))
			k.loaded = !(sel & 1);
	}
	event_fn(m, event_arg);
	nlmsg_free(m);
	pump(false);
}

static void op_time(struct input *in)
{
	uint64_t before = a.garbage_reported;

	now_ms += (uint64_t)byte(in) * 20;
	if (!a.connected)
		return;
	agent_report_garbage(&a, now_ms);
	if (a.garbage_reported != before)
		garbage_owed++;
	pump(false);
}

static void setup(void)
{
	char err[AGENT_ERRLEN];
	int sv[2], small = 4096;

	CHECK(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
	CHECK(!setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)));
	CHECK(!setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
	a.port_fd = sv[0];
	host_fd = sv[1];
	/* a virtio-serial port: losing the host does not close it */
	a.kind = AGENT_PORT_VPORT;
	k.loaded = true;
	CHECK(!agent_nl_open(&a, err, sizeof(err)));
	CHECK(event_fn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t conf;

	if (size > INPUT_MAX)
		return 0;
	if (host_fd < 0)
		setup();
	conf = byte(&in);
	/* a fresh agent on the same port and sockets */
	memset(&a.pin, 0, sizeof(a.pin));
	if (conf & 1) {
		a.pin.type = AGENT_SEL_IFNAME;
		strcpy(a.pin.ifname, "eth0");
	} else if (conf & 2) {
		a.pin.type = AGENT_SEL_MAC;
		memcpy(a.pin.mac, (uint8_t[6]){ 0x52, 0x54, 0, 0, 0, 1 }, 6);
	}
	a.verbose = conf & 4;
	memset(&k, 0, sizeof(k));
	k.loaded = !(conf & 8);
	k.records = 1;
	a.nl.family = k.loaded ? FAMILY_ID : -1;
	a.ev_joined = false;
	memset(&a.n, 0, sizeof(a.n));
	a.garbage_reported = a.dec.stats.skipped;
	a.garbage_report_ms = 0;
	a.backoff_ms = AGENT_BACKOFF_MIN_MS;
	now_ms = 1000000;
	/* the clock starts again: no HELLO is recent, nothing kept */
	a.hello_ms = 0;
	a.keep_until_ms = 0;
	host_reads = true;
	last_event_seq = a.event_seq;
	/* the port as a new host finds it */
	a.connected = true;
	host_lost(false);
	CHECK(agent_port_retry(&a));

	while (in.n) {
		switch (byte(&in) % 10) {
		case 0:
			op_raw(&in);
			break;
		case 1:
			op_frame(&in);
			break;
		case 2:
		case 3:
			op_request(&in);
			break;
		case 4:
			op_kernel(&in);
			break;
		case 5:		/* the host stops reading, or reads again */
			host_reads = !host_reads;
			if (host_reads)
				pump(false);
			break;
		case 6: {	/* the host goes away, maybe comes back */
			bool back = byte(&in) & 1;

			host_lost(back);
			if (back)
				CHECK(agent_port_retry(&a));
			break;
		}
		case 7:
			op_time(&in);
			break;
		case 8:
			op_event(&in);
			break;
		default:	/* the module comes or goes unannounced */
			k.loaded = !k.loaded;
			break;
		}
		CHECK(a.out.off <= a.out.len && a.out.len <= sizeof(a.out.buf));
		CHECK(a.in_off <= a.in_len && a.in_len <= sizeof(a.in));
		CHECK(daqs_ch_dec_pending(&a.dec) <= DAQS_CH_FRAME_MAX);
	}
	/* the host reads everything: nothing is owed */
	host_reads = true;
	pump(true);
	host_read();
	if (a.connected)
		CHECK(qn == 0 && a.out.len == a.out.off && !a.held);
	return 0;
}
