// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz - send random and mutated messages to the "daqs" generic netlink
 * family and check that what the kernel refuses changes nothing.
 *
 *   nlfuzz [-s SEED] [-n COUNT] [-p PHASES] [-N NETNS]... [-c N] [-v]
 *
 *   -s SEED    the seed (default: from the clock); printed first, so that
 *              "-s SEED -n COUNT -p PHASE" replays a failure
 *   -n COUNT   messages in all (default 100000), shared by the phases
 *   -p PHASES  a comma list of init, netns, unpriv, inherit, userns
 *              (default: all of them)
 *   -N NETNS   a namespace in /run/netns: its devices are targets for every
 *              phase, and the first one hosts the netns phase (repeatable)
 *   -c N       compare the bindings with a GET dump after every N messages
 *              that must not change them (default 1: after every one)
 *   -v         print every violation in full (default: the first 10)
 *
 * Messages are raw generic netlink (no libnl: the point is to forge what a
 * library would refuse): a valid nlmsghdr and genlmsghdr for the family,
 * every command number (valid, EVENT, unknown) with any version and
 * reserved byte, any netlink flags (dumps, no ACK, no REQUEST, others),
 * and attributes of every type with wrong sizes, unterminated and long
 * names, bad MACs, nests where none belongs, flag bits, out-of-range and
 * edge values, duplicates, padding and lengths that lie; a third are
 * well-formed requests (selectors of this and other namespaces) with at
 * most one field gone bad, so that some are accepted and change state.
 *
 * Phases, each in a child process:
 *   init     root in the init namespace
 *   netns    root in the first -N namespace, aiming at the devices (ifindex,
 *            name, MAC) of the others
 *   unpriv   uid 65534 without capabilities, in the init namespace
 *   inherit  the same with a socket opened while still root
 *   userns   uid 65534 in a new user and network namespace of its own
 *            (root there: CAP_NET_ADMIN over its own namespace only)
 *
 * What is checked, from the replies, a GET dump of the phase's namespace
 * (another socket) and its "events" multicast group:
 *   - a message that is refused, or one that cannot change anything (a GET,
 *     a message without NLM_F_REQUEST), leaves every binding as it was and
 *     sends no event (leases expiring on their own excepted);
 *   - an accepted SET changes one binding at most and an accepted DEL
 *     removes exactly one, and each says so with an event;
 *   - unprivileged callers never get a SET or DEL through;
 *   - a phase changes nothing in any namespace but its own (the parent
 *     compares every namespace before and after);
 *   - /sys/class/net/DEV/daqs/ of the phase's namespace agrees with the dump
 *     after every batch of BATCH messages.
 * Prints one line per phase (sent, accepted, rejected, unanswered, the
 * commonest errnos, checks made, violations) and a total; exits 0 if no
 * violation was seen, 1 if one was, 2 if it could not run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/daqs.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MSG_MAX 2048
#define RX_MAX 65536
#define BINDINGS_MAX 256
#define POOL_MAX 64
#define NETNS_MAX 4
#define BATCH 1000
#define ERRNO_MAX 140
#define SHOW_MAX 10
#define NOBODY 65534

/* ---- a deterministic generator ------------------------------------------------ */

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(next(r) % n) : 0;
}

static bool chance(struct rng *r, unsigned int percent)
{
	return rnd(r, 100) < percent;
}

/* ---- targets: the devices of every namespace, and odd ones -------------------- */

struct dev {
	uint32_t ifindex;
	char name[IFNAMSIZ];
	uint8_t mac[6];
};

struct pool {
	struct dev d[POOL_MAX];
	unsigned int n;
};

static void pool_add(struct pool *p, const struct dev *d)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (p->d[i].ifindex == d->ifindex && !strcmp(p->d[i].name, d->name))
			return;
	if (p->n < POOL_MAX)
		p->d[p->n++] = *d;
}

/* the devices of the current network namespace */
static void pool_scan(struct pool *p)
{
	struct if_nameindex *ni = if_nameindex(), *i;
	struct ifreq ifr;
	struct dev d;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	for (i = ni; i && i->if_index; i++) {
		memset(&d, 0, sizeof(d));
		d.ifindex = i->if_index;
		snprintf(d.name, sizeof(d.name), "%s", i->if_name);
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		if (fd >= 0 && !ioctl(fd, SIOCGIFHWADDR, &ifr))
			memcpy(d.mac, ifr.ifr_hwaddr.sa_data, 6);
		pool_add(p, &d);
	}
	if (ni)
		if_freenameindex(ni);
	if (fd >= 0)
		close(fd);
}

/* ---- raw generic netlink -------------------------------------------------------- */

struct nl {
	int fd;
	uint32_t seq;
};

static int nl_open(struct nl *s, int rcvbuf)
{
	/* an answer that never comes is an error, not a hang */
	struct timeval tv = { .tv_sec = 20 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;

	s->seq = 1;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -1;
	(void)setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/*
	 * A port id of our own now: a socket that never sent has port id 0,
	 * the kernel's, and gets none of its multicast.
	 */
	return bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
}

struct msg {
	uint8_t b[MSG_MAX];
	size_t len;
};

static struct nlmsghdr *msg_start(struct msg *m, uint16_t type, uint16_t flags,
				  uint32_t seq, uint8_t cmd)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->b;
	struct genlmsghdr *g = (struct genlmsghdr *)(m->b + NLMSG_HDRLEN);

	memset(m->b, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	g->cmd = cmd;
	g->version = DAQS_GENL_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	return h;
}

/* an attribute: len bytes of value, nla_len as given (or the true one) */
static size_t put_raw(struct msg *m, uint16_t type, const void *data, size_t len,
		      int nla_len)
{
	struct nlattr *a = (struct nlattr *)(m->b + m->len);
	size_t at = m->len, total = NLA_ALIGN(NLA_HDRLEN + len);

	if (m->len + total > sizeof(m->b))
		return at;
	a->nla_type = type;
	a->nla_len = (uint16_t)(nla_len >= 0 ? (size_t)nla_len : NLA_HDRLEN + len);
	if (len)
		memcpy(m->b + m->len + NLA_HDRLEN, data, len);
	memset(m->b + m->len + NLA_HDRLEN + len, 0, total - NLA_HDRLEN - len);
	m->len += total;
	return at;
}

static void put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	put_raw(m, type, data, len, -1);
}

static void put_u8(struct msg *m, uint16_t t, uint8_t v)
{
	put(m, t, &v, 1);
}

static void put_u32(struct msg *m, uint16_t t, uint32_t v)
{
	put(m, t, &v, 4);
}

static void put_u64(struct msg *m, uint16_t t, uint64_t v)
{
	put(m, t, &v, 8);
}

static void put_str(struct msg *m, uint16_t t, const char *s)
{
	put(m, t, s, strlen(s) + 1);
}

static size_t nest_start(struct msg *m, uint16_t t)
{
	return put_raw(m, t | NLA_F_NESTED, NULL, 0, -1);
}

static void nest_end(struct msg *m, size_t at)
{
	((struct nlattr *)(m->b + at))->nla_len = (uint16_t)(m->len - at);
}

static int nl_send(struct nl *s, const void *buf, size_t len)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	return sendto(s->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) ==
	       (ssize_t)len ? 0 : -1;
}

/* the attributes of a message, by type (the last of each wins, as in the kernel) */
static void parse_attrs(const uint8_t *p, int len, const struct nlattr **tb,
			unsigned int max)
{
	const struct nlattr *a;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= NLA_HDRLEN) {
		a = (const struct nlattr *)p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return;
		if ((a->nla_type & NLA_TYPE_MASK) <= max)
			tb[a->nla_type & NLA_TYPE_MASK] = a;
		len -= NLA_ALIGN(a->nla_len);
		p += NLA_ALIGN(a->nla_len);
	}
}

static const void *nla_data_of(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static uint64_t get_uint(const struct nlattr *a)
{
	uint64_t v = 0;

	if (!a)
		return 0;
	if (a->nla_len == NLA_HDRLEN + 1)
		v = *(const uint8_t *)nla_data_of(a);
	else if (a->nla_len == NLA_HDRLEN + 2)
		memcpy(&v, nla_data_of(a), 2);
	else if (a->nla_len == NLA_HDRLEN + 4)
		memcpy(&v, nla_data_of(a), 4);
	else if (a->nla_len >= NLA_HDRLEN + 8)
		memcpy(&v, nla_data_of(a), 8);
	return v;
}

/* the family's id and its events group, from nlctrl */
static int resolve(struct nl *s, uint16_t *family, uint32_t *grp)
{
	static uint8_t rx[RX_MAX];
	const struct nlattr *tb[CTRL_ATTR_MAX + 1], *g[CTRL_ATTR_MCAST_GRP_MAX + 1];
	struct msg m;
	struct nlmsghdr *h;
	const uint8_t *p;
	ssize_t n;
	int len, left;

	msg_start(&m, GENL_ID_CTRL, NLM_F_REQUEST, s->seq, CTRL_CMD_GETFAMILY);
	put_str(&m, CTRL_ATTR_FAMILY_NAME, DAQS_GENL_NAME);
	((struct nlmsghdr *)m.b)->nlmsg_len = (uint32_t)m.len;
	if (nl_send(s, m.b, m.len))
		return -1;
	n = recv(s->fd, rx, sizeof(rx), 0);
	h = (struct nlmsghdr *)rx;
	if (n < (ssize_t)NLMSG_HDRLEN || h->nlmsg_type == NLMSG_ERROR)
		return -1;
	parse_attrs(rx + NLMSG_HDRLEN + GENL_HDRLEN,
		    (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, tb, CTRL_ATTR_MAX);
	if (!tb[CTRL_ATTR_FAMILY_ID])
		return -1;
	*family = (uint16_t)get_uint(tb[CTRL_ATTR_FAMILY_ID]) & 0xffff;
	*grp = 0;
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return 0;
	p = nla_data_of(tb[CTRL_ATTR_MCAST_GROUPS]);
	left = tb[CTRL_ATTR_MCAST_GROUPS]->nla_len - NLA_HDRLEN;
	while (left >= NLA_HDRLEN) {
		const struct nlattr *nest = (const struct nlattr *)p;

		len = nest->nla_len;
		if (len < NLA_HDRLEN || len > left)
			break;
		parse_attrs(nla_data_of(nest), len - NLA_HDRLEN, g,
			    CTRL_ATTR_MCAST_GRP_MAX);
		if (g[CTRL_ATTR_MCAST_GRP_NAME] && g[CTRL_ATTR_MCAST_GRP_ID] &&
		    !strcmp(nla_data_of(g[CTRL_ATTR_MCAST_GRP_NAME]),
			    DAQS_GENL_MCGRP_EVENTS))
			*grp = (uint32_t)get_uint(g[CTRL_ATTR_MCAST_GRP_ID]);
		p += NLA_ALIGN(len);
		left -= NLA_ALIGN(len);
	}
	return 0;
}

/* ---- the state: every binding of a namespace, from a GET dump -------------------- */

struct binding {
	uint32_t ifindex, burst, qlimit, lease_ms;
	uint64_t rate, fallback, set_rate;
	uint8_t mac[6], state, mode, lease_state;
	char ifname[IFNAMSIZ + 1];
};

struct snap {
	unsigned int n;
	struct binding b[BINDINGS_MAX];
};

static void binding_of(const struct nlmsghdr *h, struct binding *b)
{
	const struct nlattr *tb[DAQS_A_MAX + 1];

	memset(b, 0, sizeof(*b));
	parse_attrs((const uint8_t *)h + NLMSG_HDRLEN + GENL_HDRLEN,
		    (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, tb, DAQS_A_MAX);
	b->ifindex = (uint32_t)get_uint(tb[DAQS_A_IFINDEX]);
	if (tb[DAQS_A_IFNAME])
		snprintf(b->ifname, sizeof(b->ifname), "%.*s",
			 tb[DAQS_A_IFNAME]->nla_len - NLA_HDRLEN,
			 (const char *)nla_data_of(tb[DAQS_A_IFNAME]));
	if (tb[DAQS_A_MAC])
		memcpy(b->mac, nla_data_of(tb[DAQS_A_MAC]), 6);
	b->state = (uint8_t)get_uint(tb[DAQS_A_STATE]);
	b->rate = get_uint(tb[DAQS_A_RATE_BPS]);
	b->burst = (uint32_t)get_uint(tb[DAQS_A_BURST_BYTES]);
	b->mode = (uint8_t)get_uint(tb[DAQS_A_MODE]);
	b->qlimit = (uint32_t)get_uint(tb[DAQS_A_QLIMIT_US]);
	b->lease_ms = (uint32_t)get_uint(tb[DAQS_A_LEASE_MS]);
	b->fallback = get_uint(tb[DAQS_A_FALLBACK_BPS]);
	b->lease_state = (uint8_t)get_uint(tb[DAQS_A_LEASE_STATE]);
	b->set_rate = get_uint(tb[DAQS_A_SET_RATE_BPS]);
}

/* 0, or -1 if the dump failed */
static int snap_take(struct nl *s, uint16_t family, struct snap *out)
{
	static uint8_t rx[RX_MAX];
	struct nlmsghdr *h;
	struct msg m;
	int tries, len;
	bool done, intr;
	uint32_t seq;
	ssize_t n;

	for (tries = 0; tries < 10; tries++) {
		seq = ++s->seq;
		msg_start(&m, family, NLM_F_REQUEST | NLM_F_DUMP, seq, DAQS_CMD_GET);
		((struct nlmsghdr *)m.b)->nlmsg_len = (uint32_t)m.len;
		if (nl_send(s, m.b, m.len))
			return -1;
		out->n = 0;
		done = intr = false;
		while (!done) {
			n = recv(s->fd, rx, sizeof(rx), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			len = (int)n;
			for (h = (struct nlmsghdr *)rx; NLMSG_OK(h, len);
			     h = NLMSG_NEXT(h, len)) {
				if (h->nlmsg_seq != seq)
					continue;
				if (h->nlmsg_flags & NLM_F_DUMP_INTR)
					intr = true;
				if (h->nlmsg_type == NLMSG_DONE) {
					done = true;
				} else if (h->nlmsg_type == NLMSG_ERROR) {
					return -1;
				} else if (out->n < BINDINGS_MAX) {
					binding_of(h, &out->b[out->n++]);
				}
			}
		}
		if (!intr)
			return 0;
	}
	return -1;
}

/*
 * The bindings of a and b are the same, in the same order, but for a lease
 * that ran out on its own in between (then the rate in force is the
 * fallback, and the burst may follow it). Returns the index of the first
 * that differs, or -1.
 */
static int binding_same(const struct binding *x, const struct binding *y)
{
	if (x->ifindex != y->ifindex || strcmp(x->ifname, y->ifname) ||
	    memcmp(x->mac, y->mac, 6) || x->state != y->state ||
	    x->mode != y->mode || x->qlimit != y->qlimit ||
	    x->lease_ms != y->lease_ms || x->fallback != y->fallback ||
	    x->set_rate != y->set_rate)
		return 0;
	if (x->lease_state == y->lease_state)
		return x->rate == y->rate && x->burst == y->burst;
	return x->lease_state == DAQS_LEASE_ACTIVE &&
	       y->lease_state == DAQS_LEASE_EXPIRED && y->rate == y->fallback;
}

static int snap_diff(const struct snap *a, const struct snap *b)
{
	unsigned int i;

	for (i = 0; i < a->n && i < b->n; i++)
		if (!binding_same(&a->b[i], &b->b[i]))
			return (int)i;
	return a->n == b->n ? -1 : (int)i;
}

/* an accepted SET: one binding added or changed at most, the rest the same */
static bool snap_one_set(const struct snap *a, const struct snap *b)
{
	unsigned int i, diffs = 0;

	if (b->n != a->n && b->n != a->n + 1)
		return false;
	for (i = 0; i < a->n; i++)
		diffs += !binding_same(&a->b[i], &b->b[i]);
	return diffs + (b->n - a->n) <= 1;
}

/* an accepted DEL: exactly one gone, the rest the same and in order */
static bool snap_one_del(const struct snap *a, const struct snap *b)
{
	unsigned int i, j, gone = 0;

	if (b->n + 1 != a->n)
		return false;
	for (i = 0, j = 0; i < a->n; i++) {
		if (j < b->n && binding_same(&a->b[i], &b->b[j])) {
			j++;
			continue;
		}
		gone++;
	}
	return gone == 1 && j == b->n;
}

/* ---- the sysfs view: /sys/class/net/DEV/daqs/ ------------------------------------ */

static int read_sys(const char *dev, const char *file, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/daqs/%s", dev, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * Every attached binding of the dump has a sysfs directory that says the
 * same, and no device has one without a binding. 0, or -1 with why.
 */
static int sysfs_check(const struct snap *s, char *why, size_t len)
{
	static const char *const modes[] = { "shape", "police" };
	char v[64], mac[32];
	unsigned int i, dirs = 0, attached = 0;
	struct dirent *de;
	DIR *d;

	for (i = 0; i < s->n; i++) {
		const struct binding *b = &s->b[i];

		if (b->state != DAQS_STATE_ATTACHED)
			continue;
		attached++;
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4],
			 b->mac[5]);
#define SYS_IS(file, fmt, val) do {						\
		char want_[64];							\
		snprintf(want_, sizeof(want_), fmt, val);			\
		if (read_sys(b->ifname, file, v, sizeof(v)) || strcmp(v, want_)) {\
			snprintf(why, len, "%s: sysfs %s '%s', netlink '%s'",	\
				 b->ifname, file, v, want_);			\
			return -1;						\
		}								\
	} while (0)
		v[0] = '\0';
		SYS_IS("set_rate_bps", "%" PRIu64, b->set_rate);
		SYS_IS("fallback_bps", "%" PRIu64, b->fallback);
		SYS_IS("qlimit_us", "%" PRIu32, b->qlimit);
		SYS_IS("lease_ms", "%" PRIu32, b->lease_ms);
		SYS_IS("mode", "%s", b->mode < 2 ? modes[b->mode] : "?");
		SYS_IS("mac", "%s", mac);
#undef SYS_IS
	}
	d = opendir("/sys/class/net");
	if (!d) {
		snprintf(why, len, "no /sys/class/net");
		return -1;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !read_sys(de->d_name, "mac", v, sizeof(v)))
			dirs++;
	closedir(d);
	if (dirs != attached) {
		snprintf(why, len, "%u devices have daqs/ in sysfs, %u bindings are attached",
			 dirs, attached);
		return -1;
	}
	return 0;
}

/* ---- messages -------------------------------------------------------------------- */

struct ctx {
	struct rng r;
	struct pool own;	/* devices of the phase's namespace */
	struct pool other;	/* of the others */
	uint16_t family;
};

static const uint64_t u64s[] = {
	0, 1, 7999, 8000, 8001, 1000000, 100000000, 1000000000, 1ULL << 32,
	1ULL << 53, 9007199254740993ULL, UINT64_MAX / 8, UINT64_MAX - 1,
	UINT64_MAX,
};
static const uint32_t u32s[] = {
	0, 1, 9, 10, 999, 1000, 1001, 50000, 1000000, 1000001, 3600000,
	3600001, 65536, 0x7fffffff, 0x80000000, UINT32_MAX,
};

static uint64_t any_u64(struct rng *r)
{
	return chance(r, 70) ? u64s[rnd(r, ARRAY_SIZE(u64s))] : next(r);
}

static uint32_t any_u32(struct rng *r)
{
	return chance(r, 70) ? u32s[rnd(r, ARRAY_SIZE(u32s))] : (uint32_t)next(r);
}

static const struct dev *pick_dev(struct ctx *c)
{
	if (c->own.n && (chance(&c->r, 65) || !c->other.n))
		return &c->own.d[rnd(&c->r, c->own.n)];
	if (c->other.n)
		return &c->other.d[rnd(&c->r, c->other.n)];
	return NULL;
}

/* a MAC: a device's, one no device has (absent bindings), or an odd one */
static void pick_mac(struct ctx *c, uint8_t mac[6])
{
	const struct dev *d = pick_dev(c);
	unsigned int k = rnd(&c->r, 10);

	if (k < 6 && d) {
		memcpy(mac, d->mac, 6);
	} else if (k < 8) {
		memcpy(mac, (uint8_t[6]){ 0x02, 0xda, 0x05, 0, 0, 0 }, 6);
		mac[5] = (uint8_t)rnd(&c->r, 6);
	} else if (k < 9) {
		memset(mac, 0, 6);
	} else {
		memset(mac, 0xff, 6);
	}
}

static void put_selector(struct ctx *c, struct msg *m)
{
	const struct dev *d = pick_dev(c);
	uint8_t mac[6];

	switch (rnd(&c->r, 8)) {
	case 0:
	case 1:
	case 2:
		if (d)
			put_u32(m, DAQS_A_IFINDEX, d->ifindex);
		else
			put_u32(m, DAQS_A_IFINDEX, any_u32(&c->r));
		break;
	case 3:
	case 4:
	case 5:
		put_str(m, DAQS_A_IFNAME, d ? d->name : "lo");
		break;
	case 6:
		pick_mac(c, mac);
		put(m, DAQS_A_MAC, mac, 6);
		break;
	default:	/* two of them, or none */
		if (chance(&c->r, 50)) {
			put_str(m, DAQS_A_IFNAME, d ? d->name : "lo");
			put_u32(m, DAQS_A_IFINDEX, d ? d->ifindex : 1);
		}
		break;
	}
}

/* one attribute of type t that is wrong in some way */
static void put_hostile(struct ctx *c, struct msg *m, uint16_t t)
{
	uint8_t junk[64];
	char name[40];
	size_t at, i, n;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)next(&c->r);
	switch (rnd(&c->r, 14)) {
	case 0:		/* a size of its own */
		put(m, t, junk, rnd(&c->r, 18));
		break;
	case 1:		/* as u8, u32, u64 */
		put_u8(m, t, (uint8_t)any_u32(&c->r));
		break;
	case 2:
		put_u32(m, t, any_u32(&c->r));
		break;
	case 3:
		put_u64(m, t, any_u64(&c->r));
		break;
	case 4:		/* a name: of a device, too long, unterminated, empty */
		n = rnd(&c->r, 5);
		if (n == 0)
			snprintf(name, sizeof(name), "%s", pick_dev(c) ? pick_dev(c)->name : "lo");
		else if (n == 1)
			snprintf(name, sizeof(name), "abcdefghijklmnopq");
		else if (n == 2)
			snprintf(name, sizeof(name), "abcdefghijklmno");
		else
			name[0] = '\0';
		put(m, t, name, strlen(name) + (n == 3 ? 0 : 1));
		break;
	case 5:		/* a MAC of 5, 6 or 7 bytes */
		pick_mac(c, junk);
		put(m, t, junk, 5 + rnd(&c->r, 3));
		break;
	case 6:		/* a nest where none belongs, of anything */
		at = nest_start(m, t);
		for (n = rnd(&c->r, 4); n; n--)
			put(m, (uint16_t)rnd(&c->r, DAQS_A_MAX + 3), junk,
			    rnd(&c->r, 12));
		nest_end(m, at);
		break;
	case 7:		/* flag bits on the type */
		put_u32(m, t | (chance(&c->r, 50) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER),
			any_u32(&c->r));
		break;
	case 8:		/* nla_len shorter or longer than the value */
		put_raw(m, t, junk, 8, (int)rnd(&c->r, NLA_HDRLEN + 12));
		break;
	case 9:		/* big */
		put(m, t, junk, sizeof(junk));
		break;
	default:	/* a right size with an edge value */
		if (t == DAQS_A_RATE_BPS || t == DAQS_A_FALLBACK_BPS)
			put_u64(m, t, any_u64(&c->r));
		else if (t == DAQS_A_MODE)
			put_u8(m, t, (uint8_t)rnd(&c->r, 4));
		else if (t == DAQS_A_IFNAME)
			put_str(m, t, pick_dev(c) ? pick_dev(c)->name : "lo");
		else if (t == DAQS_A_MAC)
			put(m, t, junk, 6);
		else
			put_u32(m, t, any_u32(&c->r));
		break;
	}
}

/* a request as daqsctl would send it, with at most one field gone bad */
static void put_request(struct ctx *c, struct msg *m, uint8_t cmd)
{
	int bad = chance(&c->r, 50) ? (int)rnd(&c->r, 8) : -1;
	uint64_t rate;

	put_selector(c, m);
	if (cmd != DAQS_CMD_SET)
		goto out;
	rate = chance(&c->r, 20) ? 0 : 8000 + rnd(&c->r, 1000) * 1000000ULL;
	if (chance(&c->r, 80))
		put_u64(m, DAQS_A_RATE_BPS, bad == 0 ? any_u64(&c->r) : rate);
	if (chance(&c->r, 40))
		put_u32(m, DAQS_A_BURST_BYTES, bad == 1 ? 0 : 1500 + rnd(&c->r, 1 << 20));
	if (chance(&c->r, 40))
		put_u8(m, DAQS_A_MODE, bad == 2 ? (uint8_t)(2 + rnd(&c->r, 254)) :
		       (uint8_t)rnd(&c->r, 2));
	if (chance(&c->r, 30))
		put_u32(m, DAQS_A_QLIMIT_US, bad == 3 ? any_u32(&c->r) :
			1000 + rnd(&c->r, 999001));
	if (chance(&c->r, 30)) {
		/* leases mostly long: an expiry is allowed for, not the point */
		put_u32(m, DAQS_A_LEASE_MS, bad == 4 ? any_u32(&c->r) :
			chance(&c->r, 10) ? 10 + rnd(&c->r, 200) :
			chance(&c->r, 10) ? 0 : 600000 + rnd(&c->r, 3000000));
		if (bad != 5)
			put_u64(m, DAQS_A_FALLBACK_BPS, 8000 + rnd(&c->r, 100) * 1000000ULL);
	}
	if (chance(&c->r, 15))
		put_u32(m, DAQS_A_SET_FLAGS, bad == 6 ? any_u32(&c->r) :
			rnd(&c->r, 4));
	if (bad == 7)	/* a read-only attribute */
		put_hostile(c, m, (uint16_t)(DAQS_A_STATE + rnd(&c->r, 14)));
out:
	/* the padding type is accepted anywhere, of any size */
	if (chance(&c->r, 5))
		put(m, DAQS_A_PAD, "\0\0\0\0\0\0\0", rnd(&c->r, 8));
}

static uint8_t pick_cmd(struct ctx *c)
{
	unsigned int k = rnd(&c->r, 100);

	if (k < 20)
		return DAQS_CMD_GET;
	if (k < 60)
		return DAQS_CMD_SET;
	if (k < 78)
		return DAQS_CMD_DEL;
	if (k < 84)
		return DAQS_CMD_EVENT;
	if (k < 90)
		return DAQS_CMD_UNSPEC;
	return (uint8_t)(5 + rnd(&c->r, 251));
}

static uint16_t pick_flags(struct ctx *c)
{
	static const uint16_t extra[] = {
		NLM_F_ECHO, NLM_F_MULTI, NLM_F_ROOT, NLM_F_MATCH, NLM_F_ATOMIC,
		NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE, NLM_F_APPEND,
		NLM_F_NONREC, NLM_F_CAPPED, NLM_F_ACK_TLVS,
	};
	uint16_t f = NLM_F_REQUEST | NLM_F_ACK;
	unsigned int k = rnd(&c->r, 100);

	if (k < 12)
		f |= NLM_F_DUMP;
	else if (k < 20)
		f |= extra[rnd(&c->r, ARRAY_SIZE(extra))];
	else if (k < 24)
		f &= (uint16_t)~NLM_F_ACK;
	else if (k < 27)
		f &= (uint16_t)~NLM_F_REQUEST;
	else if (k < 29)
		f = (uint16_t)next(&c->r) | NLM_F_REQUEST;
	return f;
}

static void gen(struct ctx *c, struct msg *m, uint32_t seq)
{
	struct nlmsghdr *h;
	struct genlmsghdr *g;
	uint8_t cmd = pick_cmd(c);
	unsigned int k = rnd(&c->r, 100), n, i;
	size_t at;

	h = msg_start(m, c->family, pick_flags(c), seq, cmd);
	g = (struct genlmsghdr *)NLMSG_DATA(h);
	if (chance(&c->r, 5))
		g->version = (uint8_t)next(&c->r);
	if (chance(&c->r, 5))
		g->reserved = (uint16_t)next(&c->r);
	if (chance(&c->r, 3))
		h->nlmsg_pid = (uint32_t)next(&c->r);

	if (k < 40) {
		put_request(c, m, cmd);
	} else if (k < 85) {
		/* attributes of any type, each wrong or right */
		for (n = rnd(&c->r, 9); n; n--) {
			uint16_t t = (uint16_t)rnd(&c->r, DAQS_A_MAX + 1);

			if (chance(&c->r, 8))
				t = (uint16_t)(DAQS_A_MAX + 1 + rnd(&c->r, 8));
			else if (chance(&c->r, 3))
				t = (uint16_t)next(&c->r);
			if (chance(&c->r, 30) && t >= 1 && t <= DAQS_A_MAC)
				put_selector(c, m);
			else
				put_hostile(c, m, t);
		}
	} else {
		/* a request, then bytes of it damaged */
		put_request(c, m, cmd);
		at = NLMSG_HDRLEN + GENL_HDRLEN;
		for (n = 1 + rnd(&c->r, 4); n && m->len > at; n--) {
			i = (unsigned int)(at + rnd(&c->r, (uint32_t)(m->len - at)));
			if (chance(&c->r, 50))
				m->b[i] ^= (uint8_t)(1u << rnd(&c->r, 8));
			else
				m->b[i] = (uint8_t)next(&c->r);
		}
		if (chance(&c->r, 30) && m->len > at)	/* cut short */
			m->len -= rnd(&c->r, (uint32_t)(m->len - at));
	}
	/* a duplicate of the last attribute, with another value */
	if (chance(&c->r, 8) && m->len > NLMSG_HDRLEN + GENL_HDRLEN)
		put_hostile(c, m, (uint16_t)rnd(&c->r, DAQS_A_MAX + 1));

	h->nlmsg_len = (uint32_t)m->len;
	/*
	 * A length that lies: shorter by less than a header (so what is left
	 * is never read as a message to another family), or longer than what
	 * is sent (netlink drops it unanswered).
	 */
	if (chance(&c->r, 3))
		h->nlmsg_len -= rnd(&c->r, m->len - NLMSG_HDRLEN > 12 ? 13 :
				    (uint32_t)(m->len - NLMSG_HDRLEN + 1));
	else if (chance(&c->r, 1))
		h->nlmsg_len += 1 + rnd(&c->r, 64);
}

/* ---- one phase ---------------------------------------------------------------------- */

enum answer { A_ACCEPTED, A_REJECTED, A_SILENT };

struct counts {
	uint64_t sent, accepted, rejected, silent, violations, dumps, sysfs,
		 events;
	uint64_t err[ERRNO_MAX];
	int skipped;		/* the phase could not run here */
	char why[160];
};

/* every answer to seq: accepted, refused (with errno) or none */
static enum answer collect(struct nl *s, uint32_t seq, int *err)
{
	static uint8_t rx[RX_MAX];
	enum answer a = A_SILENT;
	struct nlmsghdr *h;
	bool terminal = false;
	ssize_t n;
	int len, e;

	*err = 0;
	for (;;) {
		n = recv(s->fd, rx, sizeof(rx), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len = (int)n;
		for (h = (struct nlmsghdr *)rx; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq || terminal)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				a = e ? A_REJECTED : A_ACCEPTED;
				*err = -e;
				terminal = true;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				memcpy(&e, NLMSG_DATA(h), sizeof(e));
				a = e < 0 ? A_REJECTED : A_ACCEPTED;
				*err = e < 0 ? -e : 0;
				terminal = true;
			} else {
				a = A_ACCEPTED;	/* a reply: GET without NLM_F_ACK */
			}
		}
	}
	return a;
}

/* the events that came since the last call; bit n: event n seen */
static unsigned int events(int fd, uint64_t *count)
{
	static uint8_t rx[RX_MAX];
	const struct nlattr *tb[DAQS_A_MAX + 1];
	unsigned int seen = 0;
	struct nlmsghdr *h;
	ssize_t n;
	int len;

	if (fd < 0)
		return 0;
	while ((n = recv(fd, rx, sizeof(rx), MSG_DONTWAIT)) > 0) {
		len = (int)n;
		for (h = (struct nlmsghdr *)rx; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			parse_attrs((uint8_t *)h + NLMSG_HDRLEN + GENL_HDRLEN,
				    (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
				    tb, DAQS_A_MAX);
			seen |= 1u << (get_uint(tb[DAQS_A_EVENT]) & 31);
			(*count)++;
		}
	}
	if (n < 0 && errno == ENOBUFS)
		seen |= 1u << 31;	/* lost some: say so */
	return seen;
}

static int show_left = SHOW_MAX;
static bool verbose;
static uint64_t check_every = 1;

static void violation(struct counts *ct, const char *phase, uint64_t i,
		      const struct msg *m, const char *fmt, const char *what)
{
	size_t k;

	ct->violations++;
	if (!verbose && show_left <= 0)
		return;
	show_left--;
	printf("nlfuzz: VIOLATION phase %s message #%" PRIu64 ": ", phase, i);
	printf(fmt, what);
	printf("\nnlfuzz:   message (%zu bytes):", m ? m->len : 0);
	for (k = 0; m && k < m->len; k++)
		printf("%s%02x", k % 32 ? " " : "\nnlfuzz:     ", m->b[k]);
	printf("\n");
	fflush(stdout);
}

/*
 * An accepted SET that names a device of this namespace (the kernel reads
 * the last of each attribute, and needs exactly one selector) leaves that
 * device attached; NULL, or why not.
 */
static const char *set_target(const struct ctx *c, const struct msg *m,
			      const struct snap *now)
{
	const struct nlattr *tb[DAQS_A_MAX + 1];
	const struct dev *d = NULL;
	unsigned int i, n;
	uint32_t ifindex;
	char name[IFNAMSIZ + 1];

	parse_attrs(m->b + NLMSG_HDRLEN + GENL_HDRLEN,
		    (int)(((const struct nlmsghdr *)m->b)->nlmsg_len) -
		    NLMSG_HDRLEN - GENL_HDRLEN, tb, DAQS_A_MAX);
	n = !!tb[DAQS_A_IFINDEX] + !!tb[DAQS_A_IFNAME] + !!tb[DAQS_A_MAC];
	if (n != 1)
		return NULL;
	for (i = 0; i < c->own.n && !d; i++) {
		const struct dev *x = &c->own.d[i];

		if (tb[DAQS_A_IFINDEX]) {
			memcpy(&ifindex, nla_data_of(tb[DAQS_A_IFINDEX]), 4);
			if (x->ifindex == ifindex)
				d = x;
		} else if (tb[DAQS_A_IFNAME]) {
			snprintf(name, sizeof(name), "%.*s",
				 tb[DAQS_A_IFNAME]->nla_len - NLA_HDRLEN,
				 (const char *)nla_data_of(tb[DAQS_A_IFNAME]));
			if (!strcmp(x->name, name))
				d = x;
		} else if (tb[DAQS_A_MAC]->nla_len >= NLA_HDRLEN + 6 &&
			   !memcmp(x->mac, nla_data_of(tb[DAQS_A_MAC]), 6) &&
			   memcmp(x->mac, "\0\0\0\0\0\0", 6)) {
			d = x;
		}
	}
	if (!d)
		return NULL;
	for (i = 0; i < now->n; i++)
		if (now->b[i].state == DAQS_STATE_ATTACHED &&
		    now->b[i].ifindex == d->ifindex)
			return NULL;
	return tb[DAQS_A_MAC] ? "an accepted SET by the MAC of a device here left it unbound" :
	       "an accepted SET of a device here left it unbound";
}

/* leases that expire on their own are allowed for; nothing else may come */
#define EV_ALLOWED (1u << DAQS_EVENT_LEASE_EXPIRED)

static void run_phase(const char *phase, struct ctx *c, uint64_t count,
		      struct nl *fz, bool unpriv, bool sysfs, struct counts *ct)
{
	static struct snap cur, now;
	struct nl st;
	struct msg m;
	char why[200];
	uint32_t grp = 0;
	uint16_t fam;
	uint64_t i, pending = 0;
	unsigned int ev;
	int err, evfd = -1, d;
	enum answer a;

	if (nl_open(&st, 4 << 20) || resolve(&st, &fam, &grp)) {
		snprintf(ct->why, sizeof(ct->why), "cannot reach the family: %s",
			 strerror(errno));
		ct->violations++;
		return;
	}
	c->family = fam;
	if (grp) {
		struct nl ev_nl;

		if (!nl_open(&ev_nl, 4 << 20) &&
		    !setsockopt(ev_nl.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&grp, sizeof(grp)))
			evfd = ev_nl.fd;
	}
	if (snap_take(&st, fam, &cur)) {
		snprintf(ct->why, sizeof(ct->why), "the first GET dump failed");
		ct->violations++;
		return;
	}
	for (i = 0; i < count; i++) {
		uint32_t seq = ++fz->seq;
		uint8_t cmd;
		bool may_change;

		gen(c, &m, seq);
		cmd = ((struct genlmsghdr *)(m.b + NLMSG_HDRLEN))->cmd;
		(void)events(evfd, &ct->events);
		if (nl_send(fz, m.b, m.len)) {
			/* sendto refused it (a length netlink cannot take) */
			ct->sent++;
			ct->rejected++;
			ct->err[errno < ERRNO_MAX ? errno : 0]++;
			continue;
		}
		ct->sent++;
		a = collect(fz, seq, &err);
		if (a == A_ACCEPTED)
			ct->accepted++;
		else if (a == A_REJECTED)
			ct->rejected++;
		else
			ct->silent++;
		if (a == A_REJECTED)
			ct->err[err > 0 && err < ERRNO_MAX ? err : 0]++;
		ev = events(evfd, &ct->events);

		/*
		 * Only a SET or DEL that netlink took as a request may change
		 * anything, and not from an unprivileged caller: what it sends
		 * is compared as strictly as a refused message.
		 */
		may_change = a != A_REJECTED &&
			     (cmd == DAQS_CMD_SET || cmd == DAQS_CMD_DEL) &&
			     (((struct nlmsghdr *)m.b)->nlmsg_flags & NLM_F_REQUEST);
		if (unpriv && may_change) {
			if (a == A_ACCEPTED)
				violation(ct, phase, i, &m,
					  "%s accepted from an unprivileged caller",
					  cmd == DAQS_CMD_SET ? "SET" : "DEL");
			may_change = false;
		}
		if (!may_change && (ev & ~EV_ALLOWED))
			violation(ct, phase, i, &m, "%s that changes nothing sent an event",
				  a == A_REJECTED ? "a refused message" : "a message");
		/* a batch ends with a dump, for the sysfs check */
		if (!may_change && ++pending < check_every &&
		    i % BATCH != BATCH - 1 && i + 1 != count)
			continue;
		if (snap_take(&st, fam, &now)) {
			violation(ct, phase, i, &m, "%s", "a GET dump failed");
			continue;
		}
		ct->dumps++;
		if (!may_change) {
			d = snap_diff(&cur, &now);
			if (d >= 0) {
				snprintf(why, sizeof(why),
					 "binding %d (of %u, now %u) changed after a %s message (errno %d)",
					 d, cur.n, now.n, a == A_REJECTED ? "refused" :
					 a == A_SILENT ? "unanswered" : "harmless", err);
				violation(ct, phase, i, &m, "%s", why);
			}
		} else if (a == A_ACCEPTED && cmd == DAQS_CMD_SET &&
			   (!snap_one_set(&cur, &now) ||
			    !(ev & (1u << DAQS_EVENT_ATTACHED |
				    1u << DAQS_EVENT_LIMIT_CHANGED)))) {
			violation(ct, phase, i, &m, "%s",
				  "an accepted SET changed more than one binding, or sent no event");
		} else if (a == A_ACCEPTED && cmd == DAQS_CMD_SET &&
			   set_target(c, &m, &now)) {
			violation(ct, phase, i, &m, "%s", set_target(c, &m, &now));
		} else if (a == A_ACCEPTED && cmd == DAQS_CMD_DEL &&
			   (!snap_one_del(&cur, &now) ||
			    !(ev & 1u << DAQS_EVENT_DETACHED))) {
			violation(ct, phase, i, &m, "%s",
				  "an accepted DEL did not remove exactly one binding, or sent no event");
		}
		cur = now;
		pending = 0;
		if (i % 10000 == 9999) {
			printf("nlfuzz: progress %s: %" PRIu64 " sent, %" PRIu64
			       " accepted, %" PRIu64 " violations\n",
			       phase, ct->sent, ct->accepted, ct->violations);
			fflush(stdout);
		}
		if (sysfs && (i % BATCH == BATCH - 1 || i + 1 == count)) {
			ct->sysfs++;
			if (sysfs_check(&cur, why, sizeof(why)))
				violation(ct, phase, i, NULL, "%s", why);
		}
	}
	if (evfd >= 0)
		close(evfd);
	close(st.fd);
}

/* ---- the phases, each in a child ---------------------------------------------------- */

enum phase { P_INIT, P_NETNS, P_UNPRIV, P_INHERIT, P_USERNS, __P_MAX };

static const char *const phase_names[__P_MAX] = {
	[P_INIT] = "init", [P_NETNS] = "netns", [P_UNPRIV] = "unpriv",
	[P_INHERIT] = "inherit", [P_USERNS] = "userns",
};

/* shares of the messages, in percent */
static const unsigned int phase_share[__P_MAX] = {
	[P_INIT] = 35, [P_NETNS] = 20, [P_UNPRIV] = 10, [P_INHERIT] = 5,
	[P_USERNS] = 30,
};

static const char *netns_names[NETNS_MAX];
static int netns_fds[NETNS_MAX], n_netns, init_fd;

static int drop_privileges(char *why, size_t len)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY)) {
		snprintf(why, len, "cannot become uid %d: %s", NOBODY, strerror(errno));
		return -1;
	}
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

/*
 * A sysfs of the current network namespace at /sys, in a mount namespace of
 * our own; false if there is none (then sysfs is not checked).
 */
static bool own_sysfs(void)
{
	return !unshare(CLONE_NEWNS) &&
	       !mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) &&
	       !mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		      NULL);
}

static void lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		(void)ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

static struct counts *mmap_counts(void)
{
	struct counts *ct = mmap(NULL, sizeof(*ct), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (ct == MAP_FAILED) {
		perror("nlfuzz: mmap");
		exit(2);
	}
	memset(ct, 0, sizeof(*ct));
	return ct;
}

static void child(enum phase p, uint64_t seed, uint64_t count,
		  const struct pool *all, struct counts *ct)
{
	struct ctx c = { .r = { seed ^ (0x5851f42d4c957f2dULL * (p + 1)) } };
	struct nl fz = { .fd = -1 };
	bool sysfs = true;
	unsigned int i;

	if (p == P_NETNS) {
		if (!n_netns || setns(netns_fds[0], CLONE_NEWNET)) {
			ct->skipped = 1;
			snprintf(ct->why, sizeof(ct->why), "no namespace given with -N");
			return;
		}
		sysfs = own_sysfs();
	}
	if (p == P_INHERIT && nl_open(&fz, 1 << 20)) {
		snprintf(ct->why, sizeof(ct->why), "socket: %s", strerror(errno));
		ct->violations++;
		return;
	}
	if ((p == P_UNPRIV || p == P_INHERIT || p == P_USERNS) &&
	    drop_privileges(ct->why, sizeof(ct->why))) {
		ct->violations++;
		return;
	}
	if (p == P_USERNS) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
			ct->skipped = 1;
			snprintf(ct->why, sizeof(ct->why),
				 "no user namespace for uid %d: %s", NOBODY,
				 strerror(errno));
			return;
		}
		lo_up();
		sysfs = own_sysfs();
	}
	if (fz.fd < 0 && nl_open(&fz, 1 << 20)) {
		snprintf(ct->why, sizeof(ct->why), "socket: %s", strerror(errno));
		ct->violations++;
		return;
	}
	/* this namespace's devices are its own; everyone else's are the others' */
	pool_scan(&c.own);
	for (i = 0; i < all->n; i++) {
		bool mine = false;
		unsigned int j;

		for (j = 0; j < c.own.n; j++)
			mine |= c.own.d[j].ifindex == all->d[i].ifindex &&
				!strcmp(c.own.d[j].name, all->d[i].name);
		if (!mine || p == P_USERNS)
			pool_add(&c.other, &all->d[i]);
	}
	run_phase(phase_names[p], &c, count, &fz, p == P_UNPRIV || p == P_INHERIT,
		  sysfs, ct);
	close(fz.fd);
}

/* the bindings of every namespace, from the parent's sockets */
struct world {
	struct nl s[NETNS_MAX + 1];
	uint16_t family;
	struct snap snap[NETNS_MAX + 1];
};

static int world_open(struct world *w)
{
	uint32_t grp;
	int i;

	for (i = 0; i <= n_netns; i++) {
		if (i && setns(netns_fds[i - 1], CLONE_NEWNET))
			return -1;
		if (nl_open(&w->s[i], 4 << 20) || resolve(&w->s[i], &w->family, &grp))
			return -1;
	}
	return setns(init_fd, CLONE_NEWNET);
}

static int world_snap(struct world *w, struct snap *out)
{
	int i;

	for (i = 0; i <= n_netns; i++)
		if (snap_take(&w->s[i], w->family, &out[i]))
			return -1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: nlfuzz [-s SEED] [-n COUNT] [-p PHASES] [-N NETNS]... [-c N] [-v]\n");
	exit(2);
}

static void top_errnos(const struct counts *ct, char *buf, size_t len)
{
	uint64_t seen[ERRNO_MAX] = { 0 };
	size_t o = 0;
	int k, e, best;

	buf[0] = '\0';
	for (k = 0; k < 4; k++) {
		best = -1;
		for (e = 0; e < ERRNO_MAX; e++)
			if (ct->err[e] && !seen[e] && (best < 0 || ct->err[e] > ct->err[best]))
				best = e;
		if (best < 0)
			break;
		seen[best] = 1;
		o += (size_t)snprintf(buf + o, len - o, "%s%s %" PRIu64, k ? ", " : "",
				      best ? strerrorname_np(best) : "other", ct->err[best]);
		if (o >= len)
			break;
	}
}

int main(int argc, char **argv)
{
	static struct world w;
	static struct snap before[NETNS_MAX + 1], after[NETNS_MAX + 1];
	struct counts total = { 0 }, *ct;
	uint64_t seed, count = 100000, n, assigned = 0;
	unsigned int share, left;
	bool want[__P_MAX] = { false }, any = false;
	struct pool all = { .n = 0 };
	char path[128], errs[160], *tok, *end;
	int opt, p, i, status, d;
	pid_t pid;

	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	while ((opt = getopt(argc, argv, "s:n:p:N:c:v")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, &end, 0);
			if (*end)
				usage();
			break;
		case 'n':
			count = strtoull(optarg, &end, 0);
			if (*end || !count)
				usage();
			break;
		case 'p':
			for (tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				for (p = 0; p < __P_MAX && strcmp(tok, phase_names[p]); p++)
					;
				if (p == __P_MAX)
					usage();
				want[p] = any = true;
			}
			break;
		case 'N':
			if (n_netns == NETNS_MAX)
				usage();
			netns_names[n_netns++] = optarg;
			break;
		case 'c':
			check_every = strtoull(optarg, &end, 0);
			if (*end || !check_every)
				usage();
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!any)
		for (p = 0; p < __P_MAX; p++)
			want[p] = true;
	printf("nlfuzz: seed %" PRIu64 " count %" PRIu64 "\n", seed, count);
	fflush(stdout);

	/* every namespace's devices are targets for every phase */
	init_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	pool_scan(&all);
	for (i = 0; i < n_netns; i++) {
		snprintf(path, sizeof(path), "/run/netns/%s", netns_names[i]);
		netns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (init_fd < 0 || netns_fds[i] < 0 ||
		    setns(netns_fds[i], CLONE_NEWNET)) {
			fprintf(stderr, "nlfuzz: cannot enter %s: %s\n", path,
				strerror(errno));
			return 2;
		}
		pool_scan(&all);
		if (setns(init_fd, CLONE_NEWNET))
			return 2;
	}
	if (world_open(&w)) {
		fprintf(stderr, "nlfuzz: cannot reach the daqs family: %s (is daqs.ko loaded?)\n",
			strerror(errno));
		return 2;
	}

	for (p = 0, share = 0; p < __P_MAX; p++)
		share += want[p] ? phase_share[p] : 0;
	for (p = 0, left = share; p < __P_MAX; p++) {
		struct timespec t0, t1;

		if (!want[p])
			continue;
		/* each phase its share of the count; the last what is left */
		left -= phase_share[p];
		n = left ? count * phase_share[p] / share : count - assigned;
		assigned += n;
		if (world_snap(&w, before)) {
			fprintf(stderr, "nlfuzz: GET dump failed\n");
			return 2;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ct = mmap_counts();
		pid = fork();
		if (pid == 0) {
			child((enum phase)p, seed, n, &all, ct);
			fflush(stdout);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid) {
			fprintf(stderr, "nlfuzz: fork: %s\n", strerror(errno));
			return 2;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			snprintf(ct->why, sizeof(ct->why), "the child died (status 0x%x)",
				 status);
			ct->violations++;
		}
		/* a phase changes nothing outside its own namespace */
		if (world_snap(&w, after)) {
			ct->violations++;
			snprintf(ct->why, sizeof(ct->why), "GET dump failed after the phase");
		}
		for (i = 0; i <= n_netns; i++) {
			bool own = (p == P_INIT && i == 0) || (p == P_NETNS && i == 1);

			if (own || (d = snap_diff(&before[i], &after[i])) < 0)
				continue;
			ct->violations++;
			printf("nlfuzz: VIOLATION phase %s changed binding %d of namespace %s (%u bindings before, %u after)\n",
			       phase_names[p], d, i ? netns_names[i - 1] : "init",
			       before[i].n, after[i].n);
		}
		top_errnos(ct, errs, sizeof(errs));
		if (ct->skipped)
			printf("nlfuzz: phase %s skipped: %s\n", phase_names[p], ct->why);
		else
			printf("nlfuzz: phase %s: sent %" PRIu64 " accepted %" PRIu64
			       " rejected %" PRIu64 " unanswered %" PRIu64
			       " (%s) dumps %" PRIu64 " sysfs %" PRIu64 " events %" PRIu64
			       " violations %" PRIu64 " in %.1f s%s%s\n",
			       phase_names[p], ct->sent, ct->accepted, ct->rejected,
			       ct->silent, errs[0] ? errs : "no errors", ct->dumps,
			       ct->sysfs, ct->events, ct->violations,
			       (double)(t1.tv_sec - t0.tv_sec) +
			       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
			       ct->why[0] ? ": " : "", ct->why);
		fflush(stdout);
		total.sent += ct->sent;
		total.accepted += ct->accepted;
		total.rejected += ct->rejected;
		total.silent += ct->silent;
		total.violations += ct->violations;
		munmap(ct, sizeof(*ct));
	}
	printf("nlfuzz: total: sent %" PRIu64 " accepted %" PRIu64 " rejected %" PRIu64
	       " unanswered %" PRIu64 " violations %" PRIu64 " (seed %" PRIu64 ")\n",
	       total.sent, total.accepted, total.rejected, total.silent,
	       total.violations, seed);
	return total.violations ? 1 : 0;
}
