// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Trust but verify, in daqsd: every tick, each VM with a `vf =` gets one
 * sample (verify.h): its VF's tx_bytes as the PF reported them at the
 * tick's start (daqsd_vf.c), the tx_wire_bytes its guest answered this
 * tick's GET with, and the limit daqsd gave it. The verdict is logged (a
 * line per change, at most one a second), shown by `daqsctl vms`, and
 * acted on: the VF of an untrusted VM is capped in hardware (IFLA_VF_RATE
 * max_tx_rate) at the VM's limit until it has complied for verify_hold,
 * and a VM with no channel at all (DPDK: its traffic never meets daqs.ko)
 * is capped at its limit always. The host's counters stand in for the
 * guest's in the allocator when the guest gives none or cannot be
 * trusted. daqsd owns the max_tx_rate of every VF named in a `vf =`: it
 * puts back its own value when it finds another one, and sets it to 0
 * when the VM goes, its vf changes, or daqsd stops.
 */
#include "daqsd.h"
#include "ctlproto.h"
#include "units.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define MBIT 1000000ULL
#define CAP_RETRY_MS 1000U

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void conf_of(const struct daqs_config *cfg, struct daqs_verify_conf *c)
{
	daqs_verify_conf_default(c);
	if (cfg->verify_interval_ms)
		c->interval_ms = cfg->verify_interval_ms;
	c->tolerance_bp = cfg->verify_tolerance_bp;
	c->limit_tolerance_bp = cfg->verify_limit_tolerance_bp;
	c->strikes = cfg->verify_strikes ? cfg->verify_strikes : 1;
	c->hold_ms = cfg->verify_hold_ms;
}

static bool has_channel(const struct daqsd_vm *vm)
{
	return vm->path[0] != '\0';
}

bool daqsd_verify_host_mode(const struct daqsd_vm *vm)
{
	return vm->vf.on && vm->vf.host_ok && !daqsd_sess_controllable(&vm->sess);
}

/* a limit as max_tx_rate: whole Mbit/s, rounded up, at least 1 */
static uint32_t mbit_ceil(uint64_t bps)
{
	uint64_t m = bps / MBIT + (bps % MBIT != 0);

	if (!m)
		m = 1;
	return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

static const char *fmt_rate(char *buf, uint64_t bps)
{
	return daqs_format_rate(buf, DAQS_FMT_LEN, bps);
}

static uint64_t interval_bps(uint64_t bytes, uint64_t ns)
{
	double r = ns ? (double)bytes * 8e9 / (double)ns : 0;

	return r >= 1.8e19 ? UINT64_MAX : (uint64_t)r;
}

/* the cap in force as daqsd last knows it: its own, until a reading after it */
static uint32_t cap_in_force(const struct daqsd_vm_vf *f)
{
	if (f->have_acked && f->host_ns <= f->acked_ns)
		return f->acked_mbit;
	return f->cap_known ? f->seen_mbit : 0;
}

/* the VF in the PF's last answer, or NULL with f->err saying why */
static const struct daqsd_vf_info *lookup(struct daqsd *d, struct daqsd_vm *vm,
					  const struct daqsd_pf **pfp)
{
	struct daqsd_vm_vf *f = &vm->vf;
	const struct daqsd_pf *pf = daqsd_vf_pf(d, f->pf);

	*pfp = pf;
	if (d->vf.err[0] && !d->vf.sk) {
		snprintf(f->err, sizeof(f->err), "%s", d->vf.err);
		return NULL;
	}
	if (!pf) {
		snprintf(f->err, sizeof(f->err), "%s: not read yet", f->pf);
		return NULL;
	}
	if (!pf->valid) {
		snprintf(f->err, sizeof(f->err), "%s", pf->why);
		return NULL;
	}
	if (f->index >= pf->num_vf) {
		snprintf(f->err, sizeof(f->err), "%s has %u VFs, none with index %u",
			 f->pf, pf->num_vf, f->index);
		return NULL;
	}
	if (!pf->vfs[f->index].valid) {
		snprintf(f->err, sizeof(f->err), "%s did not report VF %u", f->pf,
			 f->index);
		return NULL;
	}
	f->err[0] = '\0';
	return &pf->vfs[f->index];
}

static void log_vf_error(struct daqsd_vm *vm)
{
	struct daqsd_vm_vf *f = &vm->vf;

	if (!strcmp(f->err, f->logged_err))
		return;
	/* the first reading is not an error yet */
	if (!f->logged_err[0] && strstr(f->err, "not read yet"))
		return;
	if (f->err[0])
		daqsd_log(LOG_WARNING, "vm %s: vf %s:%u: %s; not verified",
			  vm->sess.name, f->pf, f->index, f->err);
	else if (f->logged_err[0])
		daqsd_log(LOG_INFO, "vm %s: vf %s:%u: read again", vm->sess.name,
			  f->pf, f->index);
	snprintf(f->logged_err, sizeof(f->logged_err), "%s", f->err);
}

/* "its VF sent 12Mbit, the guest reported 6Mbit, its limit 50Mbit" */
static void describe(char *buf, size_t len, const struct daqsd_vm_vf *f)
{
	const struct daqs_verify_interval *in = &f->v.last;
	char a[DAQS_FMT_LEN], b[DAQS_FMT_LEN], c[DAQS_FMT_LEN], t[DAQS_FMT_LEN];

	daqs_format_time(t, sizeof(t), (uint32_t)(in->ns / 1000000ULL), 1000000U);
	snprintf(buf, len, "over %s its VF sent %s, %s%s, its limit %s", t,
		 fmt_rate(a, interval_bps(in->host_bytes, in->ns)),
		 f->guest == DAQS_VERIFY_GUEST_NONE ? "it has no channel" :
		 in->reported ? "the guest reported " : "the guest reported nothing",
		 in->reported ? fmt_rate(b, interval_bps(in->reported_bytes, in->ns)) :
		 "",
		 in->limited ? fmt_rate(c, interval_bps(in->allowed_bytes, in->ns)) :
		 "none");
}

/* one line per change of verdict, at most one a second */
static void log_verdict(struct daqsd *d, struct daqsd_vm *vm, uint64_t now)
{
	struct daqsd_vm_vf *f = &vm->vf;
	const struct daqs_verify *v = &f->v;
	char what[200], why[64], t[DAQS_FMT_LEN], more[48] = "";
	struct daqs_verify_conf c;

	if (v->verdict == f->logged)
		return;
	if (f->log_ms && now < f->log_ms + DAQSD_DECISION_LOG_MS)
		return;
	conf_of(d->cfg, &c);
	if (f->changes > 1)
		snprintf(more, sizeof(more), " (%u changes since the last line)",
			 f->changes);
	describe(what, sizeof(what), f);
	daqs_verify_why_name(v->why, why, sizeof(why));
	switch (v->verdict) {
	case DAQS_VERDICT_UNTRUSTED:
		daqs_format_time(t, sizeof(t), c.hold_ms, 1000000U);
		daqsd_log(LOG_WARNING,
			  "vm %s: untrusted: %s for %u intervals in a row (%s); VF %s:%u capped at its limit until it complies for %s%s",
			  vm->sess.name, why, v->strikes, what, f->pf, f->index, t,
			  more);
		break;
	case DAQS_VERDICT_SUSPECT:
		daqsd_log(LOG_NOTICE, "vm %s: suspect: %s (%s); %u of %u strikes%s",
			  vm->sess.name, why, what, v->strikes, c.strikes, more);
		break;
	case DAQS_VERDICT_TRUSTED:
		if (f->logged == DAQS_VERDICT_UNTRUSTED) {
			daqs_format_time(t, sizeof(t), c.hold_ms, 1000000U);
			daqsd_log(LOG_NOTICE,
				  "vm %s: trusted again: it complied for %s; %s%s",
				  vm->sess.name, t, has_channel(vm) ?
				  "the cap on its VF is released" :
				  "its VF stays capped at its limit (no channel)",
				  more);
		} else {
			daqsd_log(LOG_INFO, "vm %s: trusted: VF %s:%u agrees (%s)%s",
				  vm->sess.name, f->pf, f->index, what, more);
		}
		break;
	case DAQS_VERDICT_UNVERIFIABLE:
		daqsd_log(LOG_WARNING,
			  "vm %s: unverifiable: the tx counter of VF %s:%u has never moved (%s): its PF driver reports no VF counters?%s",
			  vm->sess.name, f->pf, f->index, what, more);
		break;
	case DAQS_VERDICT_PENDING:
		break;
	}
	f->logged = v->verdict;
	f->log_ms = now;
	f->changes = 0;
}

void daqsd_verify_sample(struct daqsd *d, struct daqsd_vm *vm,
			 struct daqs_vm_in *in, uint64_t now)
{
	struct daqsd_vm_vf *f = &vm->vf;
	const struct daqsd_seen *seen = &vm->sess.seen;
	struct daqs_verify_sample s = { 0 };
	const struct daqsd_vf_info *vi;
	const struct daqsd_pf *pf;
	struct daqs_verify_conf c;
	enum daqs_verdict was;
	uint64_t cap_bps;

	if (!f->on)
		return;
	vi = lookup(d, vm, &pf);
	log_vf_error(vm);
	f->host_fresh = false;
	f->host_ok = vi != NULL;
	f->cap_known = vi != NULL;
	if (vi) {
		f->host_fresh = pf->gen != f->host_gen;
		f->host_gen = pf->gen;
		f->host_ns = pf->ns;
		f->host_tx_bytes = vi->tx_bytes;
		f->hooked = vi->hooked;
		f->seen_mbit = vi->max_tx_rate;
		f->seen_min_mbit = vi->min_tx_rate;
		s.host_valid = true;
		s.host_ns = pf->ns;
		s.host_tx_bytes = vi->tx_bytes;
	}
	if (!has_channel(vm))
		s.guest = DAQS_VERIFY_GUEST_NONE;
	else if (daqsd_sess_controllable(&vm->sess) && seen->valid && seen->ts_ns)
		s.guest = DAQS_VERIFY_GUEST_REPORTS;
	else
		s.guest = DAQS_VERIFY_GUEST_SILENT;
	if (s.guest == DAQS_VERIFY_GUEST_REPORTS) {
		s.guest_fresh = seen->ts_ns != f->last_guest_ts;
		s.guest_ns = seen->ts_ns;
		s.guest_tx_bytes = seen->wire_bytes;
		f->last_guest_ts = seen->ts_ns;
	}
	f->guest = s.guest;
	/* what it was given since the last tick: its limit, or its cap */
	s.limit_bps = vm->present ? vm->limit_bps : 0;
	cap_bps = (uint64_t)cap_in_force(f) * MBIT;
	if (s.limit_bps && cap_bps > s.limit_bps)
		s.limit_bps = cap_bps;
	s.capacity_bps = d->capacity_bps;
	conf_of(d->cfg, &c);
	was = f->v.verdict;
	daqs_verify_step(&f->v, &c, &s);
	f->changes += f->v.verdict != was;
	log_verdict(d, vm, now);

	/*
	 * The allocator's view: the host's counters when the guest's will not
	 * do. A counter that never moved says nothing (a driver without VF
	 * counters): no rate, so the VM is new or holds, not idle.
	 */
	if (!vi)
		return;
	if (!in->present) {
		in->present = d->capacity_bps != 0;
		in->rate_known = f->host_fresh && f->v.host_rate_known &&
				 f->v.host_moved;
		in->rate_bps = in->rate_known ? f->v.host_rate_bps : 0;
		in->limit_bps = cap_bps;
	} else if (f->v.verdict == DAQS_VERDICT_UNTRUSTED) {
		in->rate_known = f->host_fresh && f->v.host_rate_known &&
				 f->v.host_moved;
		in->rate_bps = in->rate_known ? f->v.host_rate_bps : 0;
		if (cap_bps && (!in->limit_bps || cap_bps < in->limit_bps))
			in->limit_bps = cap_bps;
	}
}

static void cap_log(struct daqsd_vm *vm, uint64_t now, int prio,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void cap_log(struct daqsd_vm *vm, uint64_t now, int prio,
		    const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (vm->vf.cap_log_ms && now < vm->vf.cap_log_ms + DAQSD_DECISION_LOG_MS)
		return;
	vm->vf.cap_log_ms = now;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	daqsd_log(prio, "vm %s: %s", vm->sess.name, line);
}

static void send_cap(struct daqsd *d, struct daqsd_vm *vm, uint32_t mbit,
		     uint64_t now)
{
	struct daqsd_vm_vf *f = &vm->vf;
	int r;

	r = daqsd_vf_set_rate(d, f->pf, f->index, mbit, f->seen_min_mbit,
			      vm->sess.name);
	if (!r) {
		f->cap_pending = true;
		return;
	}
	f->cap_errors++;
	snprintf(f->cap_err, sizeof(f->cap_err), "%s", strerror(-r));
	f->cap_retry_ms = now + CAP_RETRY_MS;
	cap_log(vm, now, LOG_WARNING, "Unable to set max_tx_rate of VF %s:%u to %u Mbit/s: %s",
		f->pf, f->index, mbit, f->cap_err);
}

/* within 2% (or 1 Mbit/s) of each other: not worth an RTM_SETLINK */
static bool near(uint32_t a, uint32_t b)
{
	uint32_t band, diff;

	if (!a || !b)
		return a == b;
	diff = a > b ? a - b : b - a;
	band = (a > b ? a : b) / 50;
	return diff <= (band ? band : 1);
}

void daqsd_verify_cap(struct daqsd *d, struct daqsd_vm *vm, uint64_t now)
{
	struct daqsd_vm_vf *f = &vm->vf;
	uint32_t cur;

	if (!f->on || !f->host_ok)
		return;
	f->want_mbit = 0;
	if (!has_channel(vm) || f->v.verdict == DAQS_VERDICT_UNTRUSTED)
		f->want_mbit = mbit_ceil(vm->present ? vm->limit_bps :
					 vm->fallback_bps);
	if (f->cap_pending || now < f->cap_retry_ms)
		return;
	cur = cap_in_force(f);
	if (near(cur, f->want_mbit))
		return;
	if (!f->want_mbit && !f->have_acked)
		cap_log(vm, now, LOG_NOTICE,
			"VF %s:%u has a max_tx_rate of %u Mbit/s that is not daqsd's (a daqsd that did not exit cleanly, or set by hand): cleared, daqsd owns it",
			f->pf, f->index, cur);
	send_cap(d, vm, f->want_mbit, now);
}

static struct daqsd_vm *vm_of(struct daqsd *d, const char *pf, uint32_t idx)
{
	size_t i;

	for (i = 0; i < d->n_vms; i++)
		if (d->vms[i]->vf.on && d->vms[i]->vf.index == idx &&
		    !strcmp(d->vms[i]->vf.pf, pf))
			return d->vms[i];
	return NULL;
}

void daqsd_verify_cap_done(struct daqsd *d, const struct daqsd_cap_req *req,
			   int err)
{
	struct daqsd_vm *vm = vm_of(d, req->pf, req->vf);
	uint64_t now = daqsd_now_ms(d);
	struct daqsd_vm_vf *f;

	if (!vm) {
		/* released as its VM went, or as daqsd stops */
		if (err)
			daqsd_log(LOG_WARNING,
				  "vm %s: Unable to release the cap on VF %s:%u: %s",
				  req->vm, req->pf, req->vf, strerror(err));
		else
			daqsd_log(LOG_INFO, "vm %s: the cap on VF %s:%u is released",
				  req->vm, req->pf, req->vf);
		return;
	}
	f = &vm->vf;
	f->cap_pending = false;
	if (err) {
		f->cap_errors++;
		snprintf(f->cap_err, sizeof(f->cap_err), "%s", strerror(err));
		f->cap_retry_ms = now + CAP_RETRY_MS;
		cap_log(vm, now, LOG_WARNING,
			"Unable to set max_tx_rate of VF %s:%u to %u Mbit/s: %s",
			req->pf, req->vf, req->mbit, f->cap_err);
		return;
	}
	/* a cap set or released is a line; a capped VM's moves are not */
	if (req->mbit && (!f->have_acked || !f->acked_mbit))
		daqsd_log(LOG_INFO, "vm %s: VF %s:%u capped at %u Mbit/s (max_tx_rate)",
			  vm->sess.name, req->pf, req->vf, req->mbit);
	else if (!req->mbit && f->have_acked && f->acked_mbit)
		daqsd_log(LOG_INFO, "vm %s: the cap on VF %s:%u is released",
			  vm->sess.name, req->pf, req->vf);
	f->have_acked = true;
	f->acked_mbit = req->mbit;
	f->acked_ns = mono_ns();
	f->cap_sets++;
	f->cap_err[0] = '\0';
}

/* its VF's cap to 0, if daqsd may have set one; nothing is waited for */
static void release(struct daqsd *d, struct daqsd_vm *vm)
{
	struct daqsd_vm_vf *f = &vm->vf;

	if (!f->on || (!f->cap_pending && !cap_in_force(f)))
		return;
	if (daqsd_vf_set_rate(d, f->pf, f->index, 0, f->seen_min_mbit,
			      vm->sess.name))
		daqsd_log(LOG_WARNING,
			  "vm %s: Unable to release the cap on VF %s:%u: %s",
			  vm->sess.name, f->pf, f->index,
			  d->vf.sk ? "too many requests" : "no rtnetlink socket");
}

void daqsd_verify_configure(struct daqsd_vm *vm)
{
	struct daqsd_vm_vf *f = &vm->vf;
	const struct daqs_vm_conf *c = &vm->conf;
	bool on = vm->has_conf && c->vf_pf[0];

	if (f->on && (!on || strcmp(f->pf, c->vf_pf) || f->index != c->vf_index)) {
		release(vm->d, vm);
		memset(f, 0, sizeof(*f));
	}
	if (on && !f->on) {
		memset(f, 0, sizeof(*f));
		f->on = true;
		snprintf(f->pf, sizeof(f->pf), "%s", c->vf_pf);
		f->index = c->vf_index;
		daqs_verify_init(&f->v);
		f->logged = DAQS_VERDICT_PENDING;
	}
}

void daqsd_verify_vm_gone(struct daqsd_vm *vm)
{
	release(vm->d, vm);
}

void daqsd_verify_format(struct daqs_ctl_buf *b, const struct daqsd_vm *vm)
{
	const struct daqsd_vm_vf *f = &vm->vf;
	const struct daqs_verify *v = &f->v;
	char buf[DAQS_IFNAME_MAX + 16];

	if (!f->on)
		return;
	snprintf(buf, sizeof(buf), "%s:%u", f->pf, f->index);
	daqs_ctl_str(b, "vf", buf);
	daqs_ctl_str(b, "vf_mode", !has_channel(vm) ? "host-only" :
		     daqsd_verify_host_mode(vm) ? "host" : "guest");
	daqs_ctl_str(b, "verify", daqs_verdict_name(v->verdict));
	if (v->why)
		daqs_ctl_str(b, "verify_reason",
			     daqs_verify_why_name(v->why, buf, sizeof(buf)));
	daqs_ctl_u64(b, "verify_strikes", v->strikes);
	if (f->host_ok) {
		daqs_ctl_u64(b, "host_tx_bytes", f->host_tx_bytes);
		if (v->host_rate_known)
			daqs_ctl_u64(b, "host_rate_bps", v->host_rate_bps);
	}
	if (v->judged && v->last.reported)
		daqs_ctl_u64(b, "reported_rate_bps",
			     interval_bps(v->last.reported_bytes, v->last.ns));
	if (f->host_ok)
		daqs_ctl_u64(b, "cap_bps", (uint64_t)cap_in_force(f) * MBIT);
	daqs_ctl_u64(b, "cap_want_bps", (uint64_t)f->want_mbit * MBIT);
	daqs_ctl_u64(b, "verify_intervals", v->intervals);
	daqs_ctl_u64(b, "under_reports", v->under_reports);
	daqs_ctl_u64(b, "silent_intervals", v->silent);
	daqs_ctl_u64(b, "over_limits", v->over_limits);
	daqs_ctl_u64(b, "untrusted_times", v->flags);
	daqs_ctl_u64(b, "host_resets", v->host_resets);
	daqs_ctl_u64(b, "cap_sets", f->cap_sets);
	daqs_ctl_u64(b, "cap_errors", f->cap_errors);
	if (f->hooked)
		daqs_ctl_bool(b, "vf_stats_hooked", true);
	if (f->err[0])
		daqs_ctl_str(b, "vf_error", f->err);
	if (f->cap_err[0])
		daqs_ctl_str(b, "cap_error", f->cap_err);
}
