// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The host's view of the VFs: once a tick, an RTM_GETLINK for every PF a
 * VM's `vf =` names (with IFLA_EXT_MASK = RTEXT_FILTER_VF, as libnl-route's
 * rtnl_link_build_get_request() puts it), parsed with libnl-route-3 into
 * each VF's tx_bytes (IFLA_VF_STATS) and max/min_tx_rate (IFLA_VF_RATE);
 * and the hardware cap, an RTM_SETLINK of IFLA_VF_RATE on the PF
 * (rtnl_link_vf_set_rate(), rtnl_link_build_change_request()).
 *
 * One netlink socket, non-blocking, in the loop like every other; answers
 * are matched by sequence number, and a request unanswered for a second is
 * given up. The kernel handles an rtnetlink request inside the sendmsg()
 * that sends it, under the RTNL lock: the answers are in the socket when
 * the requests are sent, and are read at once (the tick's readings are
 * taken at its start), but a tick waits for the RTNL lock as long as
 * something else on the host holds it (the ethtool ioctl of `link =` does
 * too); a round that takes long is logged. The socket is opened when a VM
 * first names a VF, and again 5 s after it failed.
 *
 * A test hook, compiled in always: DAQSD_TEST_VF_STATS=DIR makes the tx
 * bytes of VF N of PF P the number in DIR/P/N when that file exists, for
 * drivers without VF counters (netdevsim); daqsd says so when it starts and
 * in `daqsctl vms`. See docs/security.md.
 */
#include "daqsd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <netlink/socket.h>

#define VF_ASK_TIMEOUT_MS 1000U
#define VF_SET_TIMEOUT_MS 2000U
#define VF_SOCKET_RETRY_MS 5000U
#define VF_FLUSH_MS 1000U
/* VFs of one PF taken from an answer; SR-IOV allows 65535 */
#define VF_PER_PF_MAX 4096U
/* netlink rounds per wakeup, so a flood cannot hold the loop */
#define VF_RECV_ROUNDS 64
/* a round of requests slower than this is logged, once a minute at most */
#define VF_SLOW_US 20000U
#define VF_SLOW_LOG_MS 60000U

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct daqsd_pf *find_pf(struct daqsd_vfmon *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_pfs; i++)
		if (!strcmp(m->pfs[i].name, name))
			return &m->pfs[i];
	return NULL;
}

const struct daqsd_pf *daqsd_vf_pf(const struct daqsd *d, const char *name)
{
	return find_pf((struct daqsd_vfmon *)&d->vf, name);
}

static void pf_fail(struct daqsd_pf *pf, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void pf_fail(struct daqsd_pf *pf, int err, const char *fmt, ...)
{
	va_list ap;

	pf->valid = false;
	pf->err = err ? err : EIO;
	va_start(ap, fmt);
	vsnprintf(pf->why, sizeof(pf->why), fmt, ap);
	va_end(ap);
	pf->gen++;
}

/* the test hook's count for VF idx of pf, if it has one */
static bool hook_bytes(const struct daqsd_vfmon *m, const char *pf,
		       uint32_t idx, uint64_t *bytes)
{
	char path[DAQS_DIR_PATH_MAX + 64], buf[32], *end;
	unsigned long long v;
	ssize_t n;
	int fd;

	if (!m->hook || (size_t)snprintf(path, sizeof(path), "%s/%s/%u", m->hook,
					 pf, idx) >= sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return false;
	*bytes = v;
	return true;
}

/* an answer for pf: its VFs' counters and rates */
static void pf_take(struct daqsd_vfmon *m, struct daqsd_pf *pf,
		    struct rtnl_link *link)
{
	struct daqsd_vf_info *vfs;
	struct rtnl_link_vf *vf;
	struct nl_vf_rate rate;
	uint32_t n = 0, i;
	uint64_t v;

	if (rtnl_link_get_num_vf(link, &n) < 0) {
		pf_fail(pf, EOPNOTSUPP,
			"%s has no VFs: it is not an SR-IOV physical function",
			pf->name);
		return;
	}
	if (n > VF_PER_PF_MAX)
		n = VF_PER_PF_MAX;
	if (n > pf->cap_vfs) {
		vfs = realloc(pf->vfs, n * sizeof(*vfs));
		if (!vfs) {
			pf_fail(pf, ENOMEM, "%s: %s", pf->name, strerror(ENOMEM));
			return;
		}
		pf->vfs = vfs;
		pf->cap_vfs = n;
	}
	pf->num_vf = n;
	if (n)
		memset(pf->vfs, 0, n * sizeof(*pf->vfs));
	for (i = 0; i < n && rtnl_link_has_vf_list(link); i++) {
		vf = rtnl_link_vf_get(link, i);
		if (!vf)
			continue;
		pf->vfs[i].valid = true;
		if (!rtnl_link_vf_get_stat(vf, RTNL_LINK_VF_STATS_TX_BYTES, &v))
			pf->vfs[i].tx_bytes = v;
		if (!rtnl_link_vf_get_rate(vf, &rate)) {
			if (rate.api == RTNL_LINK_VF_RATE_API_NEW) {
				pf->vfs[i].max_tx_rate = rate.max_tx_rate;
				pf->vfs[i].min_tx_rate = rate.min_tx_rate;
			} else if (rate.api == RTNL_LINK_VF_RATE_API_OLD) {
				pf->vfs[i].max_tx_rate = rate.rate;
			}
		}
		rtnl_link_vf_put(vf);
		if (hook_bytes(m, pf->name, i, &v)) {
			pf->vfs[i].tx_bytes = v;
			pf->vfs[i].hooked = true;
		}
	}
	pf->ifindex = rtnl_link_get_ifindex(link);
	pf->valid = true;
	pf->err = 0;
	pf->why[0] = '\0';
	pf->ns = mono_ns();
	pf->gen++;
	pf->answers++;
}

static void take_link(struct nl_object *obj, void *arg)
{
	struct rtnl_link **link = arg;

	if (!*link) {
		nl_object_get(obj);
		*link = (struct rtnl_link *)obj;
	}
}

static struct daqsd_cap_req *find_req(struct daqsd_vfmon *m, uint32_t seq)
{
	size_t i;

	for (i = 0; i < m->n_reqs; i++)
		if (m->reqs[i].seq == seq)
			return &m->reqs[i];
	return NULL;
}

static void req_done(struct daqsd *d, struct daqsd_cap_req *r, int err)
{
	struct daqsd_vfmon *m = &d->vf;
	struct daqsd_cap_req done = *r;

	*r = m->reqs[--m->n_reqs];
	daqsd_verify_cap_done(d, &done, err);
}

static struct daqsd_pf *asked_pf(struct daqsd_vfmon *m, uint32_t seq)
{
	size_t i;

	for (i = 0; i < m->n_pfs; i++)
		if (m->pfs[i].asked && m->pfs[i].seq == seq)
			return &m->pfs[i];
	return NULL;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct daqsd *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct rtnl_link *link = NULL;
	struct daqsd_pf *pf = asked_pf(&d->vf, h->nlmsg_seq);
	int r;

	if (!pf || h->nlmsg_type != RTM_NEWLINK)
		return NL_SKIP;
	pf->asked = false;
	r = nl_msg_parse(msg, take_link, &link);
	if (r < 0 || !link) {
		pf_fail(pf, EBADMSG, "%s: its answer does not parse: %s", pf->name,
			r < 0 ? nl_geterror(r) : "no link in it");
	} else if (strcmp(rtnl_link_get_name(link) ? rtnl_link_get_name(link) : "",
			  pf->name)) {
		pf_fail(pf, EBADMSG, "%s: the answer is for another link", pf->name);
	} else {
		pf_take(&d->vf, pf, link);
	}
	if (link)
		rtnl_link_put(link);
	return NL_SKIP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct daqsd *d = arg;
	struct daqsd_cap_req *r = find_req(&d->vf, nlmsg_hdr(msg)->nlmsg_seq);

	if (r)
		req_done(d, r, 0);
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct daqsd *d = arg;
	int err = e->error < 0 ? -e->error : e->error;
	struct daqsd_cap_req *r;
	struct daqsd_pf *pf;

	(void)nla;
	pf = asked_pf(&d->vf, e->msg.nlmsg_seq);
	if (pf) {
		pf->asked = false;
		if (err == ENODEV)
			pf_fail(pf, err, "no such interface '%s'", pf->name);
		else
			pf_fail(pf, err, "%s: %s", pf->name, strerror(err));
		return NL_SKIP;
	}
	r = find_req(&d->vf, e->msg.nlmsg_seq);
	if (r)
		req_done(d, r, err ? err : EIO);
	return NL_SKIP;
}

/* everything the socket has, at most VF_RECV_ROUNDS datagrams */
static void drain(struct daqsd *d)
{
	struct daqsd_vfmon *m = &d->vf;
	struct nl_cb *cb;
	int i, r = 0;

	if (!m->sk)
		return;
	cb = nl_socket_get_cb(m->sk);
	for (i = 0; i < VF_RECV_ROUNDS; i++) {
		r = nl_recvmsgs_report(m->sk, cb);
		if (r <= 0)
			break;
	}
	nl_cb_put(cb);
	if (r < 0 && r != -NLE_AGAIN) {
		/* lost answers (ENOBUFS) or worse: what is asked is asked again */
		if (!m->recv_err_logged)
			daqsd_log(LOG_WARNING, "rtnetlink: %s; asking again",
				  nl_geterror(r));
		m->recv_err_logged = true;
	} else {
		m->recv_err_logged = false;
	}
}

static int on_nl(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	(void)s;
	(void)fd;
	(void)revents;
	drain(ud);
	return 0;
}

static void close_socket(struct daqsd *d)
{
	struct daqsd_vfmon *m = &d->vf;

	m->src = sd_event_source_disable_unref(m->src);
	if (m->sk)
		nl_socket_free(m->sk);
	m->sk = NULL;
}

static int open_socket(struct daqsd *d, uint64_t now)
{
	struct daqsd_vfmon *m = &d->vf;
	int r;

	if (m->sk)
		return 0;
	if (now < m->retry_ms)
		return -1;
	m->sk = nl_socket_alloc();
	if (!m->sk) {
		r = -NLE_NOMEM;
		goto fail;
	}
	r = nl_connect(m->sk, NETLINK_ROUTE);
	if (r < 0)
		goto fail;
	nl_socket_disable_seq_check(m->sk);
	nl_socket_disable_auto_ack(m->sk);
	r = nl_socket_set_nonblocking(m->sk);
	if (r >= 0)
		r = nl_socket_set_buffer_size(m->sk, 1 << 20, 0);
	if (r >= 0)
		r = nl_socket_modify_cb(m->sk, NL_CB_VALID, NL_CB_CUSTOM, on_valid, d);
	if (r >= 0)
		r = nl_socket_modify_cb(m->sk, NL_CB_ACK, NL_CB_CUSTOM, on_ack, d);
	if (r >= 0)
		r = nl_socket_modify_err_cb(m->sk, NL_CB_CUSTOM, on_error, d);
	if (r < 0)
		goto fail;
	if (sd_event_add_io(d->ev, &m->src, nl_socket_get_fd(m->sk), EPOLLIN,
			    on_nl, d) < 0) {
		r = -NLE_FAILURE;
		goto fail;
	}
	if (m->err[0])
		daqsd_log(LOG_INFO, "rtnetlink: open again");
	m->err[0] = '\0';
	return 0;
fail:
	snprintf(m->err, sizeof(m->err), "Unable to open an rtnetlink socket: %s",
		 nl_geterror(r));
	daqsd_log(LOG_ERR, "%s; VFs not read, trying again in %us", m->err,
		  VF_SOCKET_RETRY_MS / 1000);
	close_socket(d);
	m->retry_ms = now + VF_SOCKET_RETRY_MS;
	return -1;
}

static struct daqsd_pf *add_pf(struct daqsd_vfmon *m, const char *name)
{
	struct daqsd_pf *pf;

	if (m->n_pfs == m->cap_pfs) {
		size_t cap = m->cap_pfs ? 2 * m->cap_pfs : 4;

		pf = realloc(m->pfs, cap * sizeof(*pf));
		if (!pf)
			return NULL;
		m->pfs = pf;
		m->cap_pfs = cap;
	}
	pf = &m->pfs[m->n_pfs++];
	memset(pf, 0, sizeof(*pf));
	snprintf(pf->name, sizeof(pf->name), "%s", name);
	snprintf(pf->why, sizeof(pf->why), "%s: not read yet", name);
	return pf;
}

static void ask(struct daqsd *d, struct daqsd_pf *pf, uint64_t now)
{
	struct nl_msg *msg = NULL;
	int r;

	r = rtnl_link_build_get_request(0, pf->name, &msg);
	if (r >= 0)
		r = nl_send_auto(d->vf.sk, msg);
	if (r < 0) {
		pf_fail(pf, EIO, "%s: Unable to ask: %s", pf->name, nl_geterror(r));
	} else {
		pf->asked = true;
		pf->seq = nlmsg_hdr(msg)->nlmsg_seq;
		pf->asked_ms = now;
	}
	nlmsg_free(msg);
}

void daqsd_vf_ask(struct daqsd *d, uint64_t now)
{
	struct daqsd_vfmon *m = &d->vf;
	struct daqsd_pf *pf;
	uint64_t t0, us;
	size_t i;

	for (i = 0; i < m->n_pfs; i++)
		m->pfs[i].mark = false;
	for (i = 0; i < d->n_vms; i++) {
		const struct daqs_vm_conf *c = &d->vms[i]->conf;

		if (!d->vms[i]->has_conf || !c->vf_pf[0])
			continue;
		pf = find_pf(m, c->vf_pf);
		if (!pf)
			pf = add_pf(m, c->vf_pf);
		if (pf)
			pf->mark = true;
	}
	for (i = m->n_pfs; i-- > 0;) {
		if (m->pfs[i].mark)
			continue;
		free(m->pfs[i].vfs);
		m->pfs[i] = m->pfs[--m->n_pfs];
	}
	/* cap requests never answered */
	for (i = m->n_reqs; i-- > 0;)
		if (now >= m->reqs[i].sent_ms + VF_SET_TIMEOUT_MS)
			req_done(d, &m->reqs[i], ETIMEDOUT);
	if (!m->n_pfs || open_socket(d, now))
		return;
	t0 = mono_ns();
	for (i = 0; i < m->n_pfs; i++) {
		pf = &m->pfs[i];
		if (pf->asked && now < pf->asked_ms + VF_ASK_TIMEOUT_MS)
			continue;	/* the last one still on its way */
		if (pf->asked)
			pf_fail(pf, ETIMEDOUT, "%s: no answer from rtnetlink in %us",
				pf->name, VF_ASK_TIMEOUT_MS / 1000);
		ask(d, pf, now);
	}
	/* answered already, in the sendmsg(): the readings of this instant */
	drain(d);
	us = (mono_ns() - t0) / 1000U;
	if (us > m->slow_max_us)
		m->slow_max_us = us;
	if (us >= VF_SLOW_US && now >= m->slow_log_ms + VF_SLOW_LOG_MS) {
		daqsd_log(LOG_WARNING,
			  "rtnetlink: reading %zu PFs took %llu ms (the RTNL lock was held?); the tick waited for it",
			  m->n_pfs, (unsigned long long)(us / 1000U));
		m->slow_log_ms = now;
	}
}

int daqsd_vf_set_rate(struct daqsd *d, const char *pf_name, uint32_t idx,
		      uint32_t max_mbit, uint32_t min_mbit, const char *vm)
{
	struct daqsd_vfmon *m = &d->vf;
	struct nl_vf_rate rate = {
		.api = RTNL_LINK_VF_RATE_API_NEW,
		.max_tx_rate = max_mbit,
		.min_tx_rate = min_mbit,
	};
	const struct daqsd_pf *pf = find_pf(m, pf_name);
	struct rtnl_link *orig = NULL, *chg = NULL;
	struct rtnl_link_vf *vf = NULL;
	struct nl_msg *msg = NULL;
	struct daqsd_cap_req *req;
	int r;

	if (!m->sk)
		return -ENOTCONN;
	if (!pf || !pf->ifindex)
		return -ENODEV;
	if (m->n_reqs >= DAQSD_CAP_REQS_MAX)
		return -EAGAIN;
	orig = rtnl_link_alloc();
	chg = rtnl_link_alloc();
	vf = rtnl_link_vf_alloc();
	if (!orig || !chg || !vf) {
		r = -ENOMEM;
		goto out;
	}
	rtnl_link_set_ifindex(orig, pf->ifindex);
	rtnl_link_vf_set_index(vf, idx);
	rtnl_link_vf_set_rate(vf, &rate);
	r = rtnl_link_vf_add(chg, vf);
	if (r >= 0)
		r = rtnl_link_build_change_request(orig, chg, NLM_F_ACK, &msg);
	if (r >= 0)
		r = nl_send_auto(m->sk, msg);
	if (r < 0) {
		r = r == -NLE_NOMEM ? -ENOMEM : -EIO;
		goto out;
	}
	req = &m->reqs[m->n_reqs++];
	memset(req, 0, sizeof(*req));
	req->seq = nlmsg_hdr(msg)->nlmsg_seq;
	snprintf(req->pf, sizeof(req->pf), "%s", pf_name);
	req->vf = idx;
	req->mbit = max_mbit;
	req->sent_ms = daqsd_now_ms(d);
	snprintf(req->vm, sizeof(req->vm), "%s", vm ? vm : "");
	r = 0;
out:
	nlmsg_free(msg);
	if (vf)
		rtnl_link_vf_put(vf);
	if (chg)
		rtnl_link_put(chg);
	if (orig)
		rtnl_link_put(orig);
	return r;
}

void daqsd_vf_init(struct daqsd *d)
{
	const char *hook = getenv("DAQSD_TEST_VF_STATS");

	if (hook && *hook) {
		d->vf.hook = hook;
		daqsd_log(LOG_WARNING,
			  "test hook DAQSD_TEST_VF_STATS=%s: the tx bytes of the VFs it has a file for come from it, not from their PF",
			  hook);
	}
}

void daqsd_vf_close(struct daqsd *d)
{
	struct daqsd_vfmon *m = &d->vf;
	uint64_t end = mono_ns() + VF_FLUSH_MS * 1000000ULL, now;
	struct pollfd p;
	size_t i;

	/* the caps released as daqsd stops: their answers, for the log */
	while (m->sk && m->n_reqs && (now = mono_ns()) < end) {
		p.fd = nl_socket_get_fd(m->sk);
		p.events = POLLIN;
		if (poll(&p, 1, (int)((end - now) / 1000000ULL) + 1) > 0)
			drain(d);
	}
	while (m->n_reqs)
		req_done(d, &m->reqs[m->n_reqs - 1], ETIMEDOUT);
	close_socket(d);
	for (i = 0; i < m->n_pfs; i++)
		free(m->pfs[i].vfs);
	free(m->pfs);
	m->pfs = NULL;
	m->n_pfs = m->cap_pfs = 0;
}
