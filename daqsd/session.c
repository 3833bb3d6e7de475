// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One VM's channel, seen from daqsd: handshake, requests and their
 * answers, samples and rates, what to push. See session.h.
 *
 * Everything the guest sends ends in a state change, a counter or a
 * rate-limited log line: nothing it sends can make the session allocate,
 * block, or touch another VM.
 */
#include "session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

/* a builder is 4 KiB: one for every session, as only one frame is built
 * at a time */
static struct daqs_ch_builder bld;

enum log_key {
	LK_CONNECT, LK_LOST, LK_DAMAGED, LK_INVALID, LK_UNEXPECTED, LK_STALE,
	LK_ERROR, LK_SET_ERROR, LK_GUEST_ERROR, LK_TIMEOUT, LK_EVENT, LK_RESET,
	LK_OUT_FULL, LK_DEVICE, LK_LEASE, LK_PARTIAL,
};

_Static_assert(LK_PARTIAL < DAQSD_SESS_LOG_KEYS, "log keys");

__attribute__((format(printf, 3, 0)))
static void vslog(struct daqsd_sess *s, int prio, const char *fmt, va_list ap)
{
	char msg[384];
	int n;

	if (!s->log)
		return;
	n = snprintf(msg, sizeof(msg), "vm %s: ", s->name);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	s->log(s->log_ctx, prio, msg);
}

__attribute__((format(printf, 3, 4)))
static void vslog_args(struct daqsd_sess *s, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vslog(s, prio, fmt, ap);
	va_end(ap);
}

/* one line of a kind per DAQSD_LOG_INTERVAL_MS; says how many it held */
__attribute__((format(printf, 5, 6)))
static void slog(struct daqsd_sess *s, enum log_key key, uint64_t now,
		 int prio, const char *fmt, ...)
{
	char fmt2[256];
	va_list ap;

	if (s->rl[key].last_ms && now < s->rl[key].last_ms + DAQSD_LOG_INTERVAL_MS) {
		s->rl[key].held++;
		return;
	}
	if (s->rl[key].held) {
		snprintf(fmt2, sizeof(fmt2), "%s (and %lu more like it)", fmt,
			 s->rl[key].held);
		fmt = fmt2;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	va_start(ap, fmt);
	vslog(s, prio, fmt, ap);
	va_end(ap);
#pragma GCC diagnostic pop
	s->rl[key].last_ms = now ? now : 1;
	s->rl[key].held = 0;
}

bool daqsd_limit_changed(uint64_t from_bps, uint64_t to_bps)
{
	uint64_t d = from_bps > to_bps ? from_bps - to_bps : to_bps - from_bps;

	if (!from_bps || !to_bps)
		return from_bps != to_bps;
	return d > from_bps / DAQSD_PUSH_DEADBAND;
}

/* ---- rates ------------------------------------------------------------------ */

enum daqsd_rate_result daqsd_rate_update(struct daqsd_rate *r, uint64_t ts_ns,
					 uint64_t bytes, uint64_t max_dt_ns,
					 uint64_t *rate_bps)
{
	enum daqsd_rate_result res;
	uint64_t dt, db;
	double rate;

	if (!r->have) {
		res = DAQSD_RATE_FIRST;
	} else if (ts_ns <= r->ts_ns) {
		res = DAQSD_RATE_CLOCK;
	} else if (bytes < r->bytes) {
		/* a u64 of bytes does not wrap in a VM's life: a reset */
		res = DAQSD_RATE_RESET;
	} else if (ts_ns - r->ts_ns < DAQSD_RATE_MIN_NS) {
		return DAQSD_RATE_SHORT;
	} else if (ts_ns - r->ts_ns > max_dt_ns) {
		res = DAQSD_RATE_STALE;
	} else {
		dt = ts_ns - r->ts_ns;
		db = bytes - r->bytes;
		rate = (double)db * 8e9 / (double)dt;
		*rate_bps = rate >= 18446744073709551615.0 ? UINT64_MAX :
			    (uint64_t)(rate + 0.5);
		res = DAQSD_RATE_OK;
	}
	r->have = true;
	r->ts_ns = ts_ns;
	r->bytes = bytes;
	return res;
}

const char *daqsd_rate_result_name(enum daqsd_rate_result res)
{
	switch (res) {
	case DAQSD_RATE_OK:
		return "ok";
	case DAQSD_RATE_FIRST:
		return "first sample";
	case DAQSD_RATE_RESET:
		return "counters went back";
	case DAQSD_RATE_CLOCK:
		return "guest clock did not advance";
	case DAQSD_RATE_SHORT:
		return "samples too close";
	case DAQSD_RATE_STALE:
		return "samples too far apart";
	}
	return "?";
}

/* ---- names ------------------------------------------------------------------- */

const char *daqsd_sess_state_name(enum daqsd_sess_state st)
{
	switch (st) {
	case DAQSD_SESS_DOWN:
		return "down";
	case DAQSD_SESS_HELLO:
		return "hello";
	case DAQSD_SESS_READY:
		return "ready";
	}
	return "?";
}

const char *daqsd_dev_name(enum daqsd_dev dev)
{
	switch (dev) {
	case DAQSD_DEV_UNKNOWN:
		return "unknown";
	case DAQSD_DEV_CONFIG:
		return "config";
	case DAQSD_DEV_AGENT:
		return "agent";
	case DAQSD_DEV_LEARNED:
		return "learned";
	case DAQSD_DEV_NONE:
		return "none";
	case DAQSD_DEV_MANY:
		return "many";
	}
	return "?";
}

static const char *errno_name(int e)
{
	switch (e) {
	case ENOSYS: return "ENOSYS";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EMSGSIZE: return "EMSGSIZE";
	case EBADMSG: return "EBADMSG";
	case ENOBUFS: return "ENOBUFS";
	case ENOENT: return "ENOENT";
	case ENODEV: return "ENODEV";
	case ERANGE: return "ERANGE";
	case EAGAIN: return "EAGAIN";
	case EEXIST: return "EEXIST";
	default: return NULL;
	}
}

static const char *type_name(uint8_t type)
{
	static char buf[16];

	return daqs_ch_type_name(type, buf, sizeof(buf));
}

/* ---- life cycle ----------------------------------------------------------------- */

static uint64_t timeout_ms(const struct daqsd_sess *s)
{
	uint64_t t = 2ULL * s->tick_ms;

	return t > DAQSD_REQ_TIMEOUT_MS ? t : DAQSD_REQ_TIMEOUT_MS;
}

static uint64_t stall_ms(const struct daqsd_sess *s)
{
	uint64_t t = 5ULL * s->tick_ms;

	return t > DAQSD_STALL_MS ? t : DAQSD_STALL_MS;
}

void daqsd_sess_init(struct daqsd_sess *s)
{
	memset(s, 0, sizeof(*s));
	s->tick_ms = 100;
	daqs_ch_dec_init(&s->dec);
}

static void forget_stream(struct daqsd_sess *s)
{
	daqs_ch_dec_reset(&s->dec);
	s->nq = 0;
	s->round_seq = 0;
	s->waiting_since_ms = 0;
	s->out_off = s->out_len = 0;
	s->get_bindings = 0;
	s->fresh = false;
	s->rate_known = false;
	s->seen.valid = false;
	s->module = false;
	s->pushed_bps = 0;
	s->pushed_ms = 0;
	s->set_acked = false;
	s->set_retry_ms = 0;
	s->force_set = false;
	s->probed = false;
	s->get_probe = false;
	s->version = 0;
	s->peer[0] = '\0';
	s->dev = DAQSD_DEV_UNKNOWN;
	s->dev_name[0] = '\0';
}

/* -v: the steps of a connection, in ms since it was made */
__attribute__((format(printf, 3, 4)))
static void dbg(struct daqsd_sess *s, uint64_t now, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (!s->log || !s->dbg_left)
		return;
	s->dbg_left--;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vslog_args(s, LOG_DEBUG, "+%llu ms after connect: %s",
		   (unsigned long long)(now - s->connected_ms), msg);
}

static uint32_t next_seq(struct daqsd_sess *s)
{
	if (!++s->next_seq)
		++s->next_seq;	/* 0 is "no request" */
	return s->next_seq;
}

static size_t count_type(const struct daqsd_sess *s, uint8_t type)
{
	size_t i, n = 0;

	for (i = 0; i < s->nq; i++)
		n += s->q[i].type == type;
	return n;
}

/* bld, begun as (type, seq), into the output and the in-flight list */
static bool queue(struct daqsd_sess *s, uint64_t now, uint8_t type,
		  uint32_t seq, uint64_t rate_bps)
{
	int n = daqs_ch_end(&bld);

	if (n < 0 || s->nq >= DAQSD_INFLIGHT_MAX)
		return false;	/* a bug, or checked by the caller */
	if ((size_t)n > sizeof(s->out) - s->out_len && s->out_off) {
		memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
		s->out_len -= s->out_off;
		s->out_off = 0;
	}
	if ((size_t)n > sizeof(s->out) - s->out_len) {
		s->n.out_full++;
		slog(s, LK_OUT_FULL, now, LOG_WARNING,
		     "the guest does not read its channel; %s not sent",
		     type_name(type));
		return false;
	}
	memcpy(s->out + s->out_len, bld.buf, (size_t)n);
	s->out_len += (size_t)n;
	s->q[s->nq].seq = seq;
	s->q[s->nq].type = type;
	s->q[s->nq].sent_ms = now;
	s->q[s->nq].rate_bps = rate_bps;
	s->q[s->nq].probe = false;
	s->nq++;
	if (!s->waiting_since_ms)
		s->waiting_since_ms = now ? now : 1;
	return true;
}

/* begins a request in bld; returns its seq */
static uint32_t begin(struct daqsd_sess *s, uint8_t type)
{
	uint32_t seq = next_seq(s);

	daqs_ch_begin(&bld, type, 0, seq);
	return seq;
}

void daqsd_sess_connected(struct daqsd_sess *s, uint64_t now_ms)
{
	char peer[DAQS_CH_PEER_NAME_MAX];

	forget_stream(s);
	/* a random first seq: answers the agent still owes an earlier host
	 * (bytes it wrote just before it went) match none of ours */
	if (getrandom(&s->next_seq, sizeof(s->next_seq), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(s->next_seq))
		s->next_seq ^= (uint32_t)now_ms * 2654435761U;
	s->state = DAQSD_SESS_HELLO;
	s->connected_ms = now_ms;
	s->last_rx_ms = now_ms;
	s->last_frame_ms = 0;
	s->n.connects++;
	snprintf(peer, sizeof(peer), "daqsd (vm %.40s)", s->name);
	s->hello_seq = begin(s, DAQS_CH_T_HELLO);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MIN, DAQS_CH_VERSION_MIN);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MAX, DAQS_CH_VERSION);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, peer);
	queue(s, now_ms, DAQS_CH_T_HELLO, s->hello_seq, 0);
	s->dbg_left = DAQSD_DBG_STEPS;
	dbg(s, now_ms, "HELLO seq %u queued", s->hello_seq);
}

void daqsd_sess_lost(struct daqsd_sess *s, uint64_t now_ms, const char *why)
{
	if (s->state != DAQSD_SESS_DOWN && why) {
		slog(s, LK_LOST, now_ms, LOG_NOTICE, "disconnected: %s", why);
		snprintf(s->last_error, sizeof(s->last_error), "disconnected: %s",
			 why);
	}
	forget_stream(s);
	s->state = DAQSD_SESS_DOWN;
}

bool daqsd_sess_controllable(const struct daqsd_sess *s)
{
	return s->state == DAQSD_SESS_READY && s->module &&
	       (s->dev == DAQSD_DEV_CONFIG || s->dev == DAQSD_DEV_AGENT ||
		s->dev == DAQSD_DEV_LEARNED);
}

bool daqsd_sess_take_sample(struct daqsd_sess *s, uint64_t *rate_bps)
{
	bool known = s->fresh && s->rate_known;

	if (known)
		*rate_bps = s->rate_bps;
	s->fresh = false;
	return known;
}

uint64_t daqsd_sess_in_force(const struct daqsd_sess *s)
{
	if (s->seen.valid && s->seen.has_limit)
		return s->seen.rate_bps;
	return s->acked_bps;
}

size_t daqsd_sess_pending(const struct daqsd_sess *s, const uint8_t **p)
{
	*p = s->out + s->out_off;
	return s->out_len - s->out_off;
}

void daqsd_sess_written(struct daqsd_sess *s, size_t n)
{
	if (n > s->out_len - s->out_off)
		n = s->out_len - s->out_off;
	s->out_off += n;
	if (s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
}

/* ---- requests ---------------------------------------------------------------------- */

/* the device to name in a request, if any (else the agent's, or all) */
static void put_selector(struct daqsd_sess *s)
{
	if (s->conf_dev == DAQSD_DEV_CONFIG) {
		if (s->conf_is_mac)
			daqs_ch_put(&bld, DAQS_A_MAC, s->conf_mac, DAQS_MAC_LEN);
		else
			daqs_ch_put_string(&bld, DAQS_A_IFNAME, s->conf_ifname);
	} else if (s->dev == DAQSD_DEV_LEARNED) {
		daqs_ch_put(&bld, DAQS_A_MAC, s->learned_mac, DAQS_MAC_LEN);
	}
}

static bool has_selector(const struct daqsd_sess *s)
{
	return s->conf_dev == DAQSD_DEV_CONFIG || s->dev == DAQSD_DEV_LEARNED;
}

static bool send_get(struct daqsd_sess *s, uint64_t now)
{
	uint32_t seq = begin(s, DAQS_CH_T_GET);

	if (has_selector(s)) {
		daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
		put_selector(s);
		daqs_ch_nest_end(&bld);
	}
	if (!queue(s, now, DAQS_CH_T_GET, seq, 0))
		return false;
	s->n.gets++;
	s->last_get_ms = now;
	dbg(s, now, "GET seq %u queued", seq);
	return true;
}

static void maybe_set(struct daqsd_sess *s, uint64_t now,
		      const struct daqsd_push *p)
{
	uint32_t seq;
	bool renew, changed;

	if (now < s->set_retry_ms || s->nq >= DAQSD_INFLIGHT_MAX)
		return;
	renew = s->pushed_bps && now >= s->pushed_ms + p->lease_ms / 2;
	changed = daqsd_limit_changed(s->pushed_bps, p->limit_bps);
	if (!changed && !renew && !s->force_set)
		return;
	/* a renewal waits while the last SET is unanswered: no pile-up */
	if (!changed && count_type(s, DAQS_CH_T_SET))
		return;
	seq = begin(s, DAQS_CH_T_SET);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	put_selector(s);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, p->limit_bps);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_MS, p->lease_ms);
	daqs_ch_put_u64(&bld, DAQS_A_FALLBACK_BPS, p->fallback_bps);
	daqs_ch_nest_end(&bld);
	if (!queue(s, now, DAQS_CH_T_SET, seq, p->limit_bps))
		return;
	s->n.sets++;
	s->pushed_bps = p->limit_bps;
	s->pushed_ms = now;
	s->force_set = false;
	dbg(s, now, "SET seq %u queued: %llu bit/s, lease %u ms", seq,
	    (unsigned long long)p->limit_bps, p->lease_ms);
	/*
	 * The first SET of a connection (daqsd or the agent restarted) is
	 * followed by a GET that reads back the limit and lease in force,
	 * so control is seen resumed now rather than a tick later. The
	 * agent answers in order, so it reads them after applying the SET.
	 * Its counters only move the reference the next tick's rate starts
	 * from: that rate is then measured under the new limit alone, and
	 * the probe itself (measured under the old one) is no sample.
	 */
	if (!s->probed && s->nq < DAQSD_INFLIGHT_MAX &&
	    count_type(s, DAQS_CH_T_GET) < DAQSD_GETS_INFLIGHT_MAX &&
	    send_get(s, now)) {
		s->probed = true;
		s->q[s->nq - 1].probe = true;
	}
}

bool daqsd_sess_ask(struct daqsd_sess *s, uint64_t now_ms)
{
	/* the last tick's GET may still come; this tick no longer waits */
	s->round_seq = 0;
	if (s->state != DAQSD_SESS_READY)
		return false;
	if (!s->module && now_ms < s->last_get_ms + DAQSD_NOMODULE_POLL_MS)
		return false;
	/*
	 * Its last GET went less than half a tick ago (the handshake's, and
	 * daqsd pulled this tick forward): the sample it gave is this tick's,
	 * as a sample a few ms later would make a rate of noise.
	 */
	if (s->last_get_ms && now_ms < s->last_get_ms + s->tick_ms / 2)
		return false;
	if (count_type(s, DAQS_CH_T_GET) >= DAQSD_GETS_INFLIGHT_MAX ||
	    s->nq >= DAQSD_INFLIGHT_MAX)
		return false;
	if (!send_get(s, now_ms))
		return false;
	s->round_seq = s->q[s->nq - 1].seq;
	return true;
}

bool daqsd_sess_awaiting(const struct daqsd_sess *s)
{
	return s->round_seq != 0;
}

void daqsd_sess_push(struct daqsd_sess *s, uint64_t now_ms,
		     const struct daqsd_push *push)
{
	if (s->state == DAQSD_SESS_READY && push && push->limit_bps &&
	    daqsd_sess_controllable(s))
		maybe_set(s, now_ms, push);
}

/* ---- answers ------------------------------------------------------------------------ */

/* a request that will never be answered */
static void lost_request(struct daqsd_sess *s, const struct daqsd_inflight *q,
			 uint64_t now, const char *why)
{
	s->n.timeouts++;
	if (q->type == DAQS_CH_T_SET && s->pushed_bps == q->rate_bps)
		s->pushed_bps = 0;	/* send it again next tick */
	slog(s, LK_TIMEOUT, now, LOG_WARNING, "%s seq %u: %s",
	     type_name(q->type), q->seq, why);
}

static void pop(struct daqsd_sess *s, unsigned int n)
{
	unsigned int i;

	/* the tick's GET, answered or lost: the round need not wait */
	for (i = 0; i < n; i++)
		if (s->q[i].seq == s->round_seq)
			s->round_seq = 0;
	memmove(s->q, s->q + n, (s->nq - n) * sizeof(s->q[0]));
	s->nq -= n;
}

static void seen_from(struct daqsd_seen *v, const struct daqs_ch_nla *btb)
{
	struct daqs_ch_nla st[DAQS_STATS_A_MAX + 1];
	char err[8];

	memset(v, 0, sizeof(*v));
	v->valid = true;
	if (btb[DAQS_A_IFNAME].data)
		snprintf(v->ifname, sizeof(v->ifname), "%s",
			 daqs_ch_get_string(&btb[DAQS_A_IFNAME]));
	if (btb[DAQS_A_MAC].data) {
		v->has_mac = true;
		memcpy(v->mac, btb[DAQS_A_MAC].data, DAQS_MAC_LEN);
	}
	if (btb[DAQS_A_STATE].data)
		v->state = daqs_ch_get_u8(&btb[DAQS_A_STATE]);
	if (btb[DAQS_A_RATE_BPS].data) {
		v->has_limit = true;
		v->rate_bps = daqs_ch_get_u64(&btb[DAQS_A_RATE_BPS]);
	}
	if (btb[DAQS_A_SET_RATE_BPS].data)
		v->set_rate_bps = daqs_ch_get_u64(&btb[DAQS_A_SET_RATE_BPS]);
	else
		v->set_rate_bps = v->rate_bps;
	if (btb[DAQS_A_FALLBACK_BPS].data)
		v->fallback_bps = daqs_ch_get_u64(&btb[DAQS_A_FALLBACK_BPS]);
	if (btb[DAQS_A_LEASE_MS].data)
		v->lease_ms = daqs_ch_get_u32(&btb[DAQS_A_LEASE_MS]);
	if (btb[DAQS_A_LEASE_LEFT_MS].data)
		v->lease_left_ms = daqs_ch_get_u32(&btb[DAQS_A_LEASE_LEFT_MS]);
	if (btb[DAQS_A_LEASE_STATE].data) {
		v->has_lease_state = true;
		v->lease_state = daqs_ch_get_u8(&btb[DAQS_A_LEASE_STATE]);
	}
	/* validated already by daqs_ch_binding_parse(): cannot fail here */
	if (btb[DAQS_A_STATS].data &&
	    !daqs_ch_parse(btb[DAQS_A_STATS].data, btb[DAQS_A_STATS].len,
			   daqs_ch_stats_policy, DAQS_STATS_A_MAX,
			   DAQS_CH_STATS_ATTRS, st, err, sizeof(err))) {
		if (st[DAQS_STATS_A_TIMESTAMP_NS].data)
			v->ts_ns = daqs_ch_get_u64(&st[DAQS_STATS_A_TIMESTAMP_NS]);
		if (st[DAQS_STATS_A_TX_WIRE_BYTES].data)
			v->wire_bytes = daqs_ch_get_u64(&st[DAQS_STATS_A_TX_WIRE_BYTES]);
		else if (st[DAQS_STATS_A_TX_BYTES].data)
			v->wire_bytes = daqs_ch_get_u64(&st[DAQS_STATS_A_TX_BYTES]);
		else
			v->ts_ns = 0;	/* no counter: no sample */
		if (st[DAQS_STATS_A_THROTTLED].data &&
		    st[DAQS_STATS_A_DROPS_POLICE].data &&
		    st[DAQS_STATS_A_DROPS_QLIMIT].data) {
			v->has_held = true;
			v->held = daqs_ch_get_u64(&st[DAQS_STATS_A_THROTTLED]) +
				  daqs_ch_get_u64(&st[DAQS_STATS_A_DROPS_POLICE]) +
				  daqs_ch_get_u64(&st[DAQS_STATS_A_DROPS_QLIMIT]);
		}
	}
}

static void format_mac(char *buf, size_t len, const uint8_t *m)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static void set_dev_name(struct daqsd_sess *s, const struct daqsd_seen *v)
{
	char mac[24];

	if (v->has_mac)
		format_mac(mac, sizeof(mac), v->mac);
	if (v->ifname[0] && v->has_mac)
		snprintf(s->dev_name, sizeof(s->dev_name), "%s %s", v->ifname, mac);
	else if (v->ifname[0])
		snprintf(s->dev_name, sizeof(s->dev_name), "%s", v->ifname);
	else if (v->has_mac)
		snprintf(s->dev_name, sizeof(s->dev_name), "%s", mac);
}

/* the binding of a finished GET reply */
static void take_binding(struct daqsd_sess *s, const struct daqsd_seen *v,
			 uint64_t now)
{
	uint64_t max_dt, rate = 0, held_was;
	enum daqsd_rate_result res;

	if (s->seen.valid && v->has_mac && s->seen.has_mac &&
	    memcmp(v->mac, s->seen.mac, DAQS_MAC_LEN))
		s->rate.have = false;	/* another binding: counters unrelated */
	s->seen = *v;
	s->seen_ms = now;
	dbg(s, now, "GET answered: in force %llu bit/s (set %llu), lease %s",
	    (unsigned long long)v->rate_bps, (unsigned long long)v->set_rate_bps,
	    !v->has_lease_state ? "?" : v->lease_state == DAQS_LEASE_ACTIVE ?
	    "active" : v->lease_state == DAQS_LEASE_EXPIRED ? "expired" : "none");
	if (s->dev == DAQSD_DEV_LEARNED || s->dev == DAQSD_DEV_AGENT ||
	    s->dev == DAQSD_DEV_CONFIG)
		set_dev_name(s, v);

	if (v->ts_ns) {
		max_dt = (uint64_t)DAQSD_RATE_MAX_TICKS * s->tick_ms;
		if (max_dt < 500)
			max_dt = 500;
		held_was = s->rate.held;
		res = daqsd_rate_update(&s->rate, v->ts_ns, v->wire_bytes,
					max_dt * 1000000ULL, &rate);
		if (s->get_probe)
			res = DAQSD_RATE_SHORT;	/* a new reference, no sample */
		else
			s->n.samples++;
		if (res != DAQSD_RATE_SHORT) {
			s->fresh = true;
			s->rate_known = res == DAQSD_RATE_OK;
			if (s->rate_known) {
				s->rate_bps = rate;
				s->n.rates++;
			}
			/* a rate (OK) has a previous sample and its count */
			s->limited = s->rate_known && v->has_held &&
				     v->held > held_was;
		}
		/* the held count's reference moves with the rate's */
		if (s->rate.ts_ns == v->ts_ns)
			s->rate.held = v->has_held ? v->held : 0;
		if (res == DAQSD_RATE_RESET) {
			s->n.counter_resets++;
			slog(s, LK_RESET, now, LOG_INFO,
			     "counters went back (binding recreated or guest rebooted): no rate this tick");
		}
	}

	/* a limit in force that is not the one we set: say it again */
	if (s->pushed_bps && !count_type(s, DAQS_CH_T_SET) &&
	    ((v->has_limit && v->set_rate_bps != s->pushed_bps) ||
	     (v->has_lease_state && v->lease_state != DAQS_LEASE_ACTIVE))) {
		if (v->lease_state == DAQS_LEASE_EXPIRED)
			slog(s, LK_LEASE, now, LOG_WARNING,
			     "lease expired: the guest runs at its fallback rate until renewed");
		s->force_set = true;
	}
}

/* end of a GET reply: which binding is this VM's */
static void get_done(struct daqsd_sess *s, uint64_t now)
{
	char mac[24];

	if (has_selector(s) || s->dev == DAQSD_DEV_AGENT) {
		if (s->get_bindings >= 1)
			take_binding(s, &s->get_first, now);
		return;
	}
	/* a dump of every binding: the VM's only one, or none */
	if (s->get_bindings == 1 && s->get_first.has_mac) {
		memcpy(s->learned_mac, s->get_first.mac, DAQS_MAC_LEN);
		s->dev = DAQSD_DEV_LEARNED;
		format_mac(mac, sizeof(mac), s->learned_mac);
		slog(s, LK_DEVICE, now, LOG_INFO,
		     "controlling %s%s%s, the only binding in the guest",
		     s->get_first.ifname, s->get_first.ifname[0] ? " " : "", mac);
		take_binding(s, &s->get_first, now);
		return;
	}
	if (s->get_bindings == 0 && s->dev != DAQSD_DEV_NONE) {
		s->dev = DAQSD_DEV_NONE;
		slog(s, LK_DEVICE, now, LOG_WARNING,
		     "the guest has no binding and no device is named: set 'device' in [vm %s] or start daqs-agent with --device",
		     s->name);
	} else if (s->get_bindings > 1 && s->dev != DAQSD_DEV_MANY) {
		s->dev = DAQSD_DEV_MANY;
		slog(s, LK_DEVICE, now, LOG_WARNING,
		     "the guest has %u bindings and no device is named: set 'device' in [vm %s]",
		     s->get_bindings, s->name);
	}
}

static void get_reply(struct daqsd_sess *s, const struct daqs_ch_frame *f,
		      uint64_t now)
{
	const uint8_t *p = f->payload;
	size_t len = f->len;
	struct daqs_ch_nla a, btb[DAQS_A_MAX + 1];
	char err[128];

	s->module = true;
	while (daqs_ch_attr_next(&p, &len, &a) == 1) {
		if (a.type != DAQS_CH_A_BINDING)
			continue;
		/* checked whole by daqs_ch_msg_parse() */
		if (daqs_ch_binding_parse(&a, f->type, f->flags, btb, err,
					  sizeof(err)))
			continue;
		if (!s->get_bindings++)
			seen_from(&s->get_first, btb);
	}
	if (!(f->flags & DAQS_CH_F_MORE)) {
		get_done(s, now);
		s->get_bindings = 0;
	}
}

static enum daqsd_sess_action hello_reply(struct daqsd_sess *s,
					  struct daqs_ch_nla *tb, uint64_t now)
{
	struct daqs_ch_nla btb[DAQS_A_MAX + 1];
	struct daqsd_seen v;
	char err[128];

	s->version = daqs_ch_get_u32(&tb[DAQS_CH_A_VERSION]);
	if (s->version < DAQS_CH_VERSION_MIN || s->version > DAQS_CH_VERSION) {
		slog(s, LK_ERROR, now, LOG_ERR,
		     "the agent chose protocol version %u; daqsd speaks %u..%u",
		     s->version, DAQS_CH_VERSION_MIN, DAQS_CH_VERSION);
		snprintf(s->last_error, sizeof(s->last_error),
			 "agent chose protocol version %u", s->version);
		return DAQSD_SESS_INCOMPATIBLE;
	}
	if (tb[DAQS_CH_A_PEER_NAME].data)
		snprintf(s->peer, sizeof(s->peer), "%s",
			 daqs_ch_get_string(&tb[DAQS_CH_A_PEER_NAME]));
	s->module = tb[DAQS_CH_A_MODULE].data &&
		    daqs_ch_get_u8(&tb[DAQS_CH_A_MODULE]);
	s->dev = s->conf_dev == DAQSD_DEV_CONFIG ? DAQSD_DEV_CONFIG :
		 DAQSD_DEV_UNKNOWN;
	if (s->conf_dev == DAQSD_DEV_CONFIG) {
		if (s->conf_is_mac)
			format_mac(s->dev_name, sizeof(s->dev_name), s->conf_mac);
		else
			snprintf(s->dev_name, sizeof(s->dev_name), "%s",
				 s->conf_ifname);
	}
	if (tb[DAQS_CH_A_BINDING].data &&
	    !daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], DAQS_CH_T_HELLO,
				   DAQS_CH_F_REPLY, btb, err, sizeof(err))) {
		seen_from(&v, btb);
		if (s->conf_dev != DAQSD_DEV_CONFIG) {
			s->dev = DAQSD_DEV_AGENT;
			set_dev_name(s, &v);
		}
	}
	s->state = DAQSD_SESS_READY;
	s->n.hellos++;
	dbg(s, now, "HELLO answered");
	slog(s, LK_CONNECT, now, LOG_INFO,
	     "connected: %s, protocol %u, device %s%s",
	     s->peer[0] ? s->peer : "an agent without a name", s->version,
	     s->dev_name[0] ? s->dev_name : "not named yet",
	     s->module ? "" : "; module daqs is not loaded in the guest");
	/* the first sample now, not a tick later: a restarted daqsd learns
	 * the limits in force at once */
	send_get(s, now);
	return DAQSD_SESS_OK;
}

static enum daqsd_sess_action error_reply(struct daqsd_sess *s,
					  const struct daqsd_inflight *q,
					  struct daqs_ch_nla *tb, uint64_t now)
{
	int e = (int)daqs_ch_get_u32(&tb[DAQS_CH_A_ERRNO]);
	const char *msg = tb[DAQS_CH_A_ERRMSG].data ?
			  daqs_ch_get_string(&tb[DAQS_CH_A_ERRMSG]) : "";
	const char *en = errno_name(e);
	char num[16];

	if (!en) {
		snprintf(num, sizeof(num), "errno %d", e);
		en = num;
	}
	/* no binding before the first SET made one: how every guest starts */
	if (q->type == DAQS_CH_T_GET && e == ENOENT && !s->set_acked) {
		s->seen.valid = false;
		s->rate.have = false;
		return DAQSD_SESS_OK;
	}
	s->n.errors++;
	snprintf(s->last_error, sizeof(s->last_error), "%s: %s: %s",
		 type_name(q->type), en, msg);

	if (e == ENOSYS)
		s->module = false;
	switch (q->type) {
	case DAQS_CH_T_HELLO:
		slog(s, LK_ERROR, now, LOG_ERR, "HELLO refused: %s: %s", en, msg);
		return e == EPROTONOSUPPORT ? DAQSD_SESS_INCOMPATIBLE :
					      DAQSD_SESS_RECONNECT;
	case DAQS_CH_T_SET:
		s->n.set_errors++;
		if (s->pushed_bps == q->rate_bps)
			s->pushed_bps = 0;
		s->set_retry_ms = now + DAQSD_SET_RETRY_MS;
		slog(s, LK_SET_ERROR, now, LOG_ERR, "the guest refused a limit: %s: %s",
		     en, msg);
		break;
	default:
		if (e == ENOENT) {
			/* no binding (yet, or deleted): the next SET makes it */
			s->seen.valid = false;
			s->rate.have = false;
			if (s->pushed_bps)
				s->force_set = true;
			break;
		}
		if (e != ENOSYS)
			slog(s, LK_ERROR, now, LOG_WARNING, "%s failed: %s: %s",
			     type_name(q->type), en, msg);
		break;
	}
	return DAQSD_SESS_OK;
}

static void handle_event(struct daqsd_sess *s, struct daqs_ch_nla *tb,
			 uint64_t now)
{
	struct daqs_ch_nla btb[DAQS_A_MAX + 1];
	char err[128];
	uint8_t ev;

	s->n.events++;
	if (tb[DAQS_CH_A_AGENT_EVENT].data) {
		switch (daqs_ch_get_u8(&tb[DAQS_CH_A_AGENT_EVENT])) {
		case DAQS_CH_AGENT_EVENT_MODULE_LOADED:
			slog(s, LK_EVENT, now, LOG_NOTICE,
			     "module daqs loaded in the guest");
			s->module = true;
			s->force_set = true;
			s->rate.have = false;
			break;
		case DAQS_CH_AGENT_EVENT_MODULE_UNLOADED:
			slog(s, LK_EVENT, now, LOG_WARNING,
			     "module daqs unloaded in the guest: it is not limited");
			s->module = false;
			s->seen.valid = false;
			break;
		case DAQS_CH_AGENT_EVENT_STARTED:
			/*
			 * What it was asked before it ran is lost: ask now,
			 * past the cap on GETs waiting. Its answer comes in
			 * order, and tells those before it will not come,
			 * instead of their second-long timeouts holding back
			 * every request and renewal meanwhile.
			 */
			if (s->state != DAQSD_SESS_READY)
				break;
			slog(s, LK_EVENT, now, LOG_NOTICE,
			     "the guest's agent started (again): asking it now");
			if (s->nq < DAQSD_INFLIGHT_MAX)
				send_get(s, now);
			break;
		default:
			break;	/* events lost: the next GET reads all again */
		}
		return;
	}
	if (daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], DAQS_CH_T_EVENT, 0,
				  btb, err, sizeof(err)) ||
	    !btb[DAQS_A_EVENT].data)
		return;
	/* another binding of the guest is not ours to report */
	if (btb[DAQS_A_MAC].data && s->seen.valid && s->seen.has_mac &&
	    memcmp(btb[DAQS_A_MAC].data, s->seen.mac, DAQS_MAC_LEN))
		return;
	ev = daqs_ch_get_u8(&btb[DAQS_A_EVENT]);
	switch (ev) {
	case DAQS_EVENT_LEASE_EXPIRED:
		s->n.lease_expired++;
		slog(s, LK_LEASE, now, LOG_WARNING,
		     "lease expired: the guest runs at its fallback rate until renewed");
		s->force_set = true;
		break;
	case DAQS_EVENT_DEVICE_GONE:
		slog(s, LK_EVENT, now, LOG_NOTICE, "device %s gone from the guest",
		     s->dev_name[0] ? s->dev_name : "?");
		break;
	case DAQS_EVENT_DEVICE_BACK:
		slog(s, LK_EVENT, now, LOG_NOTICE, "device %s back in the guest",
		     s->dev_name[0] ? s->dev_name : "?");
		s->rate.have = false;
		break;
	case DAQS_EVENT_DETACHED:
		slog(s, LK_EVENT, now, LOG_NOTICE,
		     "binding deleted in the guest; setting it again");
		s->rate.have = false;
		s->seen.valid = false;
		if (s->pushed_bps)
			s->force_set = true;
		break;
	default:
		break;	/* ours: attached, limit changed */
	}
}

static enum daqsd_sess_action handle_frame(struct daqsd_sess *s,
					   enum daqs_ch_dec_result r,
					   const struct daqs_ch_frame *f,
					   uint64_t now)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	char err[192];
	unsigned int i;
	int errnum;
	bool answer, more;

	if (r != DAQS_CH_DEC_FRAME) {
		s->n.bad_frames++;
		slog(s, LK_DAMAGED, now, LOG_WARNING, "%s frame (seq %u) skipped",
		     r == DAQS_CH_DEC_BAD_VERSION ? "an unknown version of" :
		     r == DAQS_CH_DEC_TOO_LONG ? "an oversized" : "a damaged",
		     f->seq);
		return DAQSD_SESS_OK;
	}
	answer = f->type == DAQS_CH_T_ERROR || (f->flags & DAQS_CH_F_REPLY);
	if (daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err))) {
		s->n.bad_frames++;
		slog(s, LK_INVALID, now, LOG_WARNING, "invalid %s (seq %u): %s",
		     type_name(f->type), f->seq, err);
		/* an answer we cannot read is an answer all the same */
		for (i = 0; answer && f->seq && i < s->nq; i++) {
			if (s->q[i].seq == f->seq) {
				s->waiting_since_ms = 0;
				if (s->q[i].type == DAQS_CH_T_SET &&
				    s->pushed_bps == s->q[i].rate_bps)
					s->pushed_bps = 0;
				pop(s, i + 1);
				break;
			}
		}
		return DAQSD_SESS_OK;
	}
	s->last_frame_ms = now;
	if (f->type == DAQS_CH_T_EVENT) {
		handle_event(s, tb, now);
		return DAQSD_SESS_OK;
	}
	if (!answer) {
		s->n.bad_frames++;
		slog(s, LK_UNEXPECTED, now, LOG_WARNING,
		     "the guest sent a %s request (seq %u); ignored",
		     type_name(f->type), f->seq);
		return DAQSD_SESS_OK;
	}
	if (f->type == DAQS_CH_T_ERROR && !f->seq) {
		/* the agent saw bytes that were not frames (not ours) */
		s->n.errors++;
		slog(s, LK_GUEST_ERROR, now, LOG_WARNING, "the agent says: %s",
		     tb[DAQS_CH_A_ERRMSG].data ?
		     daqs_ch_get_string(&tb[DAQS_CH_A_ERRMSG]) : "?");
		return DAQSD_SESS_OK;
	}

	for (i = 0; i < s->nq; i++)
		if (s->q[i].seq == f->seq)
			break;
	if (i == s->nq) {
		/* a HELLO reply after its timeout is still the handshake */
		if (s->state == DAQSD_SESS_HELLO && f->seq == s->hello_seq &&
		    f->type == DAQS_CH_T_HELLO) {
			s->waiting_since_ms = 0;
			return hello_reply(s, tb, now);
		}
		s->n.stale++;
		slog(s, LK_STALE, now, LOG_INFO,
		     "a %s for seq %u, which nothing waits for; ignored",
		     type_name(f->type), f->seq);
		return DAQSD_SESS_OK;
	}
	if (f->type != DAQS_CH_T_ERROR && f->type != s->q[i].type) {
		s->n.bad_frames++;
		slog(s, LK_UNEXPECTED, now, LOG_WARNING,
		     "a %s reply to %s seq %u; ignored", type_name(f->type),
		     type_name(s->q[i].type), f->seq);
		return DAQSD_SESS_OK;
	}
	/* the guest answers: the silence (stall) clock starts again */
	s->waiting_since_ms = 0;
	/* answers come in order: those before this one never will */
	while (i) {
		lost_request(s, &s->q[0], now, "skipped by the agent's answers");
		pop(s, 1);
		i--;
	}
	/* the handshake comes first; anything else before it is refused */
	if (s->state == DAQSD_SESS_HELLO && s->q[0].type != DAQS_CH_T_HELLO) {
		pop(s, 1);
		return DAQSD_SESS_OK;
	}

	if (f->type == DAQS_CH_T_ERROR) {
		struct daqsd_inflight q = s->q[0];

		pop(s, 1);
		return error_reply(s, &q, tb, now);
	}
	more = f->flags & DAQS_CH_F_MORE;
	switch (f->type) {
	case DAQS_CH_T_HELLO:
		pop(s, 1);
		if (s->state != DAQSD_SESS_HELLO)
			return DAQSD_SESS_OK;
		return hello_reply(s, tb, now);
	case DAQS_CH_T_GET:
		s->get_probe = s->q[0].probe;
		if (!more)
			pop(s, 1);
		get_reply(s, f, now);
		s->get_probe = false;
		return DAQSD_SESS_OK;
	case DAQS_CH_T_SET:
		s->set_acked = true;
		s->acked_bps = s->q[0].rate_bps;
		s->acked_ms = s->q[0].sent_ms;
		dbg(s, now, "SET seq %u acknowledged", f->seq);
		pop(s, 1);
		return DAQSD_SESS_OK;
	default:
		pop(s, 1);
		return DAQSD_SESS_OK;
	}
}

enum daqsd_sess_action daqsd_sess_input(struct daqsd_sess *s, const void *p,
					size_t n, uint64_t now_ms)
{
	const uint8_t *b = p;
	enum daqs_ch_dec_result r;
	enum daqsd_sess_action act;
	struct daqs_ch_frame f;
	uint64_t skipped = s->dec.stats.skipped;
	size_t k;

	if (s->state == DAQSD_SESS_DOWN || !n)
		return DAQSD_SESS_OK;
	s->last_rx_ms = now_ms;
	while (n) {
		k = daqs_ch_dec_feed(&s->dec, b, n);
		b += k;
		n -= k;
		while ((r = daqs_ch_dec_next(&s->dec, &f)) != DAQS_CH_DEC_NEED) {
			act = handle_frame(s, r, &f, now_ms);
			if (act != DAQSD_SESS_OK)
				return act;
		}
	}
	/* requests still waiting get a full stall time from this answer */
	if (s->nq && !s->waiting_since_ms)
		s->waiting_since_ms = now_ms ? now_ms : 1;
	if (s->dec.stats.skipped != skipped)
		slog(s, LK_DAMAGED, now_ms, LOG_WARNING,
		     "skipped %llu bytes that were not frames (%llu in all)",
		     (unsigned long long)(s->dec.stats.skipped - skipped),
		     (unsigned long long)s->dec.stats.skipped);
	return DAQSD_SESS_OK;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t daqsd_sess_next_ms(const struct daqsd_sess *s)
{
	uint64_t next = UINT64_MAX;

	if (s->state == DAQSD_SESS_DOWN)
		return next;
	if (s->nq)
		next = s->q[0].sent_ms + timeout_ms(s);
	if (daqs_ch_dec_pending(&s->dec))
		next = min_u64(next, s->last_rx_ms + DAQSD_PARTIAL_MS);
	if (s->waiting_since_ms)
		next = min_u64(next, s->waiting_since_ms + stall_ms(s));
	return next;
}

enum daqsd_sess_action daqsd_sess_timers(struct daqsd_sess *s, uint64_t now_ms,
					 uint64_t *next_ms)
{
	enum daqsd_sess_action act;
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;

	*next_ms = UINT64_MAX;
	if (s->state == DAQSD_SESS_DOWN)
		return DAQSD_SESS_OK;

	while (s->nq && now_ms >= s->q[0].sent_ms + timeout_ms(s)) {
		lost_request(s, &s->q[0], now_ms, "no answer");
		pop(s, 1);
	}
	if (daqs_ch_dec_pending(&s->dec) &&
	    now_ms >= s->last_rx_ms + DAQSD_PARTIAL_MS) {
		slog(s, LK_PARTIAL, now_ms, LOG_WARNING,
		     "giving up a partial frame of %zu bytes",
		     daqs_ch_dec_pending(&s->dec));
		while (daqs_ch_dec_abandon(&s->dec)) {
			while ((r = daqs_ch_dec_next(&s->dec, &f)) !=
			       DAQS_CH_DEC_NEED) {
				act = handle_frame(s, r, &f, now_ms);
				if (act != DAQSD_SESS_OK)
					return act;
			}
		}
		s->last_rx_ms = now_ms;
	}
	/* silence while a request waits for its answer */
	if (s->waiting_since_ms && now_ms >= s->waiting_since_ms + stall_ms(s)) {
		s->n.stalls++;
		return DAQSD_SESS_RECONNECT;
	}
	*next_ms = daqsd_sess_next_ms(s);
	return DAQSD_SESS_OK;
}
